/**
 * The bot on a Sentinel-watched master (REDIS_SENTINEL_URLS + REDIS_SENTINEL_MASTER),
 * on real processes: a master, a replica and a sentinel (tests/helpers/redis-sentinel.ts).
 * The stores run through the sentinel client as they do on one Redis, and when
 * the master is killed the same client follows the sentinel to the promoted replica.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { migrateLegacyKeys } from '../../src/store/legacy-keys.js';
import { connectConfigured, isCluster, isSentinel, scanKeys, sendTo, type Redis, type RedisSentinel } from '../../src/store/redis.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { factsOf, startScreening } from '../helpers/family-dialog.js';
import { uniquePrefix } from '../helpers/redis-client.js';
import { startTestSentinel, type TestRedisSentinel } from '../helpers/redis-sentinel.js';

const prefix = uniquePrefix('test:sentinel');
let setup: TestRedisSentinel;
let redis: RedisSentinel;
/** What the client reported through onError (the bot logs these as "redis connection problem"). */
const reported: string[] = [];

async function connectSentinel(): Promise<Redis | undefined> {
  return connectConfigured({ REDIS_SENTINEL_URLS: setup.urls, REDIS_SENTINEL_MASTER: setup.master }, { onError: (e) => reported.push(e.message) });
}

beforeAll(async () => {
  setup = await startTestSentinel();
  const connected = await connectSentinel();
  if (!connected || !isSentinel(connected)) throw new Error('REDIS_SENTINEL_URLS did not give a sentinel client');
  redis = connected;
}, 30_000);
afterAll(async () => {
  await redis?.destroy();
  await setup?.stop();
});

function botProcess(): BotHarness {
  return new BotHarness({ deps: createDeps({ redis, prefix, dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'sentinel-salt', today: () => '2026-11-21' }) });
}

describe('Redis Sentinel', () => {
  it('the client writes to the master the sentinel names: scripts, raw commands and SCAN; it is not a cluster', async () => {
    expect(isCluster(redis)).toBe(false);
    expect(redis.getMasterNode()?.port).toBe(await setup.masterPort());
    expect(await redis.handoffAnnounce([`${prefix}{x}:announced`], ['1000', '60000'])).toBe(1);
    expect(await sendTo(redis, `${prefix}{x}:announced`, ['EXISTS', `${prefix}{x}:announced`])).toBe(1);
    const found: string[] = [];
    for await (const keys of scanKeys(redis, `${prefix}*`)) found.push(...keys);
    expect(found).toEqual([`${prefix}{x}:announced`]);
    await redis.del(`${prefix}{x}:announced`);
  });

  it('the keys of the release before the hash tags are renamed at start, as on one Redis', async () => {
    await redis.set(`${prefix}params:current`, 'v');
    expect(await migrateLegacyKeys(redis, prefix)).toEqual({ renamed: 1, kept: 0 });
    expect(await redis.get(`${prefix}params:{p}:current`)).toBe('v');
    await redis.del([`${prefix}params:{p}:current`, `${prefix}migrated:hash-tags`]);
  });

  it('a closed sentinel client says "end" like the others (app.ts stops its params watcher on it)', async () => {
    const other = await connectSentinel();
    const ended = new Promise<void>((resolve) => other!.once('end', () => resolve()));
    await other!.close();
    await ended;
  });

  it("the bot's composition: a family's screening a few steps; a redelivered update is handled once", async () => {
    const h = botProcess();
    const f = h.family(91_001);
    await startScreening(f);
    await f.press('a:no');
    const id = h.newUpdateId() + 10;
    expect((await f.deliver(f.textUpdate('3'), id)).some((c) => c.method === 'sendMessage')).toBe(true);
    expect(await f.deliver(f.textUpdate('3'), id)).toEqual([]);
    expect((await factsOf(h, f.chat.id)).household_members).toBe(3);
  });

  it('failover: the master is killed, the sentinel promotes the replica, and the same client goes on with the screening', async () => {
    const h = botProcess();
    const f = h.family(91_002);
    await startScreening(f);
    await f.press('a:no');
    await f.say('5');
    // Replication is asynchronous: wait until the replica has the answer, so the test does not race it.
    expect(await sendTo(redis, 'wait', ['WAIT', '1', '2000'])).toBe(1);

    const killedPort = await setup.killMaster();
    const killedAt = Date.now();
    const promoted = setup.waitForNewMaster(killedPort).then((port) => ({ port, ms: Date.now() - killedAt }));

    // The family answers at once, while there is no master; the update is delivered again
    // (same update_id) until it is taken, as the update inbox would.
    const id = h.newUpdateId() + 10;
    const thrown: string[] = [];
    let attempts = 0;
    let takenMs: number | undefined;
    while (Date.now() - killedAt < 20_000) {
      attempts++;
      try {
        const calls = await f.deliver(f.textUpdate('2'), id);
        if ((await factsOf(h, f.chat.id)).children === 2) {
          takenMs = Date.now() - killedAt;
          expect(calls.some((c) => c.method === 'sendMessage')).toBe(true);
          break;
        }
      } catch (error) {
        thrown.push((error as Error).message.slice(0, 120));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const { port: promotedPort, ms: promotedMs } = await promoted;
    console.info(JSON.stringify({ promotedMs, takenMs, attempts, thrown, reported: [...new Set(reported)].slice(0, 8) }));
    expect(takenMs, 'the answer after the failover was taken').toBeDefined();
    expect(takenMs).toBeGreaterThanOrEqual(promotedMs - 100);
    expect(redis.getMasterNode()?.port).toBe(promotedPort);
    // The answers from before the failover are kept, and the screening goes on.
    const facts = await factsOf(h, f.chat.id);
    expect({ household: facts.household_members, children: facts.children }).toEqual({ household: 5, children: 2 });
    expect(await f.deliver(f.textUpdate('2'), id)).toEqual([]);
  }, 30_000);
});
