/** The parameters store, in memory, in a real Redis and on a Redis Cluster: the same behaviour from all (src/params). */
import { describe, expect, it } from 'vitest';
import { MemoryParamsStore } from '../../src/params/memory-store.js';
import { HASH_TAG, RedisParamsStore } from '../../src/params/redis-store.js';
import { asParams, type ParamChange, type ParamsStore } from '../../src/params/store.js';
import { redisConnections, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('test:params');
const targets = redisConnections(prefix);

let seq = 0;
const twins: { name: string; make: () => ParamsStore }[] = [
  { name: 'memory', make: () => new MemoryParamsStore() },
  ...targets.map(({ kind, redis }) => ({ name: `redis (${kind})`, make: () => new RedisParamsStore(redis(), { prefix: `${prefix}${++seq}:` }) })),
];

const ADMIN = 7200;
const OTHER_ADMIN = 7201;
const change = (extra: Partial<ParamChange> = {}): ParamChange => ({ param: 'poverty_line_kzt', region: 'astana', from: '2026-01-01', value: 45000, reference: 'Akimat decision No. 1', verified: false, ...extra });

describe.each(twins)('$name parameters store', ({ make }) => {
  it('starts empty at version 0', async () => {
    const store = make();
    expect(await store.version()).toBe(0);
    expect(await store.values()).toEqual([]);
    expect(await store.auditTrail()).toEqual([]);
  });

  it('a value is stored with who set it and when; each write moves the version', async () => {
    const store = make();
    const entry = await store.set(change(), ADMIN, 1000);
    expect(entry).toEqual({ ...change(), setBy: ADMIN, setAt: 1000 });
    expect(await store.version()).toBe(1);
    await store.set(change({ region: 'almaty', value: 38000 }), OTHER_ADMIN, 2000);
    expect(await store.version()).toBe(2);
    const values = await store.values();
    expect(values).toHaveLength(2);
    expect(asParams(values).poverty_line_kzt).toEqual({
      astana: [{ from: '2026-01-01', value: 45000, reference: 'Akimat decision No. 1', verified: false }],
      almaty: [{ from: '2026-01-01', value: 38000, reference: 'Akimat decision No. 1', verified: false }],
    });
  });

  it('setting the same parameter, region and date again replaces the value; the audit trail keeps both, with the one replaced', async () => {
    const store = make();
    await store.set(change(), ADMIN, 1000);
    const second = await store.set(change({ value: 46000, verified: true }), OTHER_ADMIN, 2000);
    expect(second.previous).toBe(45000);
    expect((await store.values()).map((v) => [v.value, v.verified, v.setBy])).toEqual([[46000, true, OTHER_ADMIN]]);
    expect(await store.auditTrail()).toEqual([
      { ...change(), setBy: ADMIN, setAt: 1000 },
      { ...change({ value: 46000, verified: true }), setBy: OTHER_ADMIN, setAt: 2000, previous: 45000 },
    ]);
    // Another date is another value.
    await store.set(change({ from: '2026-04-01', value: 47000 }), ADMIN, 3000);
    expect((await store.values()).map((v) => v.from).sort()).toEqual(['2026-01-01', '2026-04-01']);
  });

  it('a proposed change is taken once, only by the admin who proposed it', async () => {
    const store = make();
    const token = await store.propose({ ...change(), proposedBy: ADMIN }, 900);
    expect(token).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(await store.take(token, OTHER_ADMIN)).toBe('not_yours');
    expect(await store.take(token, ADMIN)).toEqual({ ...change(), proposedBy: ADMIN });
    expect(await store.take(token, ADMIN)).toBeUndefined();
    expect(await store.take('AAAAAAAA', ADMIN)).toBeUndefined();
    // Proposing stores nothing.
    expect(await store.version()).toBe(0);
  });
});

describe('expiry of a proposed change', () => {
  it('memory: gone after its time', async () => {
    let now = 0;
    const store = new MemoryParamsStore(() => now);
    const token = await store.propose({ ...change(), proposedBy: ADMIN }, 900);
    now += 900_000;
    expect(await store.take(token, ADMIN)).toBeUndefined();
  });

});

describe.each(targets)('redis parameters store ($kind)', ({ kind, redis }) => {
  it('the waiting change carries its TTL', async () => {
    const store = new RedisParamsStore(redis(), { prefix: `${prefix}${kind}:ttl:` });
    const token = await store.propose({ ...change(), proposedBy: ADMIN }, 900);
    const ttl = await redis().ttl(`${prefix}${kind}:ttl:${HASH_TAG}:pending:${token}`);
    expect(ttl).toBeGreaterThan(800);
    expect(ttl).toBeLessThanOrEqual(900);
  });

  it('an unreadable stored value is skipped, not a crash', async () => {
    const store = new RedisParamsStore(redis(), { prefix: `${prefix}${kind}:bad:` });
    await store.set(change(), ADMIN, 1);
    await redis().hSet(`${prefix}${kind}:bad:${HASH_TAG}:values`, 'poverty_line_kzt|almaty|2026-01-01', '{not json');
    expect((await store.values()).map((v) => v.region)).toEqual(['astana']);
  });
});
