/**
 * Two bot processes on one real Redis: a value an admin sets through one is used by the
 * other after its next check, with no restart. Checks are counted, not timed: a check
 * reads the values only when the version moved. The timer is driven by fake timers, so
 * "within a minute" is shown without waiting for one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDeps } from '../../src/app.js';
import type { BotDeps } from '../../src/bot/context.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import { valueInForce } from '../../src/engine/params.js';
import { createLogger } from '../../src/log.js';
import { REFRESH_EVERY_MS } from '../../src/params/live.js';
import type { ParamChange } from '../../src/params/store.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

const connections: Redis[] = [];
const prefixes: string[] = [];
let cleaner: Redis;
beforeAll(async () => {
  cleaner = await connectTestRedis();
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  for (const p of prefixes) await deleteKeysWithPrefix(cleaner, p);
  for (const c of connections) c.destroy();
  cleaner.destroy();
});

/** A bot process: its own Redis connection and services, on a shared key prefix. */
async function process(prefix: string, paramsRefreshMs?: number): Promise<BotDeps> {
  const redis = await connectTestRedis();
  connections.push(redis);
  return createDeps({ redis, prefix, paramsRefreshMs, dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'test-salt', today: () => '2026-11-16' });
}
function sharedPrefix(): string {
  const p = uniquePrefix('test:live-params');
  prefixes.push(p);
  return p;
}

const ADMIN = 7200;
const line = (extra: Partial<ParamChange> = {}): ParamChange => ({ param: 'poverty_line_kzt', region: 'astana', from: '2026-01-01', value: 45000, reference: 'Akimat decision No. 1', verified: false, ...extra });
/** Two people, no one able to work, 60,000 ₸ a month: below a 45,000 ₸ line per person, above none. */
const FAMILY = { region: 'astana', household_members: 2, children: 0, monthly_income_kzt: 60000, able_bodied_members: 0 };
const asp = (deps: BotDeps) => evaluate(readFacts(FAMILY, deps.catalogue), deps.catalogue, '2026-11-16').benefits.find((b) => b.id === 'asp_unconditional')!;

describe('parameters across processes', () => {
  it('a value set in process A is used by process B after B’s next check; a check with no change reads nothing', async () => {
    const prefix = sharedPrefix();
    const a = await process(prefix, 0);
    const b = await process(prefix, 0);
    await a.params!.refresh();
    await b.params!.refresh();
    expect(asp(b)).toMatchObject({ status: 'needs_info', missingParams: ['poverty_line_kzt'] });

    await a.params!.store.set(line(), ADMIN, 1);
    expect(await a.params!.refresh()).toBe(true);
    expect(asp(a).status).toBe('indicated');
    // B has not looked yet: it still uses what it read.
    expect(asp(b).status).toBe('needs_info');

    const reads = vi.spyOn(b.params!.store, 'values');
    expect(await b.params!.refresh()).toBe(true);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(asp(b)).toMatchObject({ status: 'indicated', because: expect.arrayContaining([{ param: 'poverty_line_kzt', value: 45000, region: 'astana', verified: false }]) });
    // Nothing changed since: checking again costs one GET of the version, no read of the values.
    expect(await b.params!.refresh()).toBe(false);
    expect(await b.params!.refresh()).toBe(false);
    expect(reads).toHaveBeenCalledTimes(1);

    // A correction for the same date replaces the value everywhere.
    await a.params!.store.set(line({ value: 25000, verified: true }), ADMIN, 2);
    await b.params!.refresh();
    expect(reads).toHaveBeenCalledTimes(2);
    expect(asp(b).status).toBe('not_indicated');
    expect(valueInForce(b.catalogue.params, 'poverty_line_kzt', 'astana', '2026-11-16')).toMatchObject({ value: 25000, verified: true });
  });

  it('the values in Redis win over the parameters file for their date, and leave its other dates alone', async () => {
    const prefix = sharedPrefix();
    const redis = await connectTestRedis();
    connections.push(redis);
    const deps = createDeps({
      redis,
      prefix,
      paramsRefreshMs: 0,
      paramsFile: new URL('../../flows/examples/parameters-2026.yaml', import.meta.url).pathname,
      dialogTtlDays: 30,
      log: createLogger('silent'),
      logSalt: 'test-salt',
    });
    const inForce = (region: string, date: string) => valueInForce(deps.catalogue.params, 'poverty_line_kzt', region, date);
    expect(inForce('astana', '2026-06-01')).toMatchObject({ value: 35596, verified: false });
    await deps.params!.store.set(line({ from: '2026-04-01', value: 41000, verified: true }), ADMIN, 1);
    await deps.params!.refresh();
    expect(inForce('astana', '2026-03-31')).toMatchObject({ value: 35596 });
    expect(inForce('astana', '2026-06-01')).toMatchObject({ value: 41000, verified: true });
    expect(inForce('almaty', '2026-06-01')).toMatchObject({ value: 35596 });
  });

  it('on its own timer, a process picks a change up within one period, well under a minute', async () => {
    expect(REFRESH_EVERY_MS).toBeLessThan(60_000);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const prefix = sharedPrefix();
    const a = await process(prefix, 0);
    const b = await process(prefix); // the default period, on the fake clock
    await b.params!.refresh(); // after b's first check (at start, not waited for by createDeps), so a's change comes later
    const reads = vi.spyOn(b.params!.store, 'version');
    await a.params!.store.set(line(), ADMIN, 1);
    expect(asp(b).status).toBe('needs_info');

    vi.advanceTimersByTime(REFRESH_EVERY_MS - 1);
    expect(reads).toHaveBeenCalledTimes(0);
    vi.advanceTimersByTime(1);
    expect(reads).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(asp(b).status).toBe('indicated'));
  });

  it('a process checks only while its Redis connection lives: closing it stops the timer', async () => {
    const redis = await connectTestRedis();
    const deps = createDeps({ redis, prefix: sharedPrefix(), dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'test-salt' });
    expect(deps.params!.watching).toBe(true);
    redis.destroy();
    await vi.waitFor(() => expect(deps.params!.watching).toBe(false));
  });

  it('when Redis cannot be read, the last values read stay in use and the failure is reported', async () => {
    const prefix = sharedPrefix();
    const redis = await connectTestRedis();
    const lines: string[] = [];
    const deps = createDeps({ redis, prefix, paramsRefreshMs: 0, dialogTtlDays: 30, log: createLogger('warn', { write: (l: string) => void lines.push(l) }), logSalt: 'test-salt' });
    await deps.params!.store.set(line(), ADMIN, 1);
    await deps.params!.refresh();
    redis.destroy();
    await expect(deps.params!.refresh()).rejects.toThrow();
    expect(asp(deps).status).toBe('indicated');
    // On the timer, the failure goes to the log (the interval itself never throws).
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    deps.params!.start(1000);
    await vi.waitFor(() => expect(lines.join('')).toContain('could not read parameters from Redis'));
    deps.params!.stop();
  });
});
