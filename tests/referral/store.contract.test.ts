import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryReferralStore } from '../../src/referral/memory-store.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import type { ReferralStore } from '../../src/referral/store.js';
import type { Referral, ReferralAuditEntry, ReferralEvent } from '../../src/referral/types.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, redisConnections, uniquePrefix } from '../helpers/redis-client.js';
import { NOTE, PHONE, referral, T0 } from './fixtures.js';

const prefix = uniquePrefix('test:referral');
let redis: Redis;
/** The single Redis and a three-master cluster: every key under one hash tag makes the scripts work on both. */
const connections = redisConnections(prefix);
let storeSeq = 0;
const DAY = 86_400_000;

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

let clock = T0;
const twins: { name: string; make: () => ReferralStore }[] = [
  { name: 'memory', make: () => new MemoryReferralStore({ now: () => clock }) },
  ...connections.map((c) => ({ name: `redis ${c.kind}`, make: () => new RedisReferralStore(c.redis(), { prefix: `${prefix}${++storeSeq}:` }) })),
];

const ev = (what: string, who = 'system', detail?: string): ReferralAuditEntry => ({ what, who, at: T0, ...(detail ? { detail } : {}) });
const notice = (r: Referral, n: string): ReferralEvent => ({ id: `${r.id}:${n}`, kind: 'worker', notice: 'new', referralId: r.id, to: r.workerId ?? 'x' });

describe.each(twins)('referral store contract: $name', ({ make }) => {
  it('creates a referral that get returns as written, once per id', async () => {
    const store = make();
    const r = referral();
    expect(await store.create(r, ev('created'), [])).toBe(true);
    expect(await store.get(r.id)).toEqual(r);
    expect(await store.create({ ...r, region: 'other' }, ev('created'), [])).toBe(false);
    expect((await store.get(r.id))?.region).toBe('astana');
    expect(await store.get('R-NOPE')).toBeUndefined();
  });

  it('changes compare-and-set on the version: a stale write is refused', async () => {
    const store = make();
    const r = referral();
    await store.create(r, ev('created'), []);
    const accepted = await store.update(r.id, 1, { ...r, status: 'accepted' }, ev('ACCEPT', 'worker:w-ast-1'), []);
    expect(accepted).toMatchObject({ status: 'accepted', version: 2 });
    expect(await store.update(r.id, 1, { ...r, status: 'cancelled' }, ev('cancelled'), [])).toBeUndefined();
    expect(await store.get(r.id)).toMatchObject({ status: 'accepted', version: 2 });
    expect(await store.update('R-NOPE', 1, r, ev('x'), [])).toBeUndefined();
  });

  it('keeps the holder open set, load counts and the territory index following the record', async () => {
    const store = make();
    const a = referral({ workerId: 'w-ast-1' });
    const b = referral({ workerId: 'w-ast-1' });
    const s = referral({ workerId: undefined, supervisorId: 's-ast' });
    for (const r of [a, b, s]) await store.create(r, ev('created'), []);
    expect((await store.openOf('w-ast-1')).map((r) => r.id)).toEqual([a.id, b.id]);
    expect((await store.openOf('s-ast')).map((r) => r.id)).toEqual([s.id]);
    expect(await store.openCounts(['w-ast-1', 'w-ast-2', 's-ast'])).toEqual(new Map([['w-ast-1', 2], ['w-ast-2', 0], ['s-ast', 1]]));

    // Reassigned to w-ast-2 and moved to another region; then completed.
    await store.update(a.id, 1, { ...a, workerId: 'w-ast-2', region: 'almaty_region' }, ev('REASSIGN'), []);
    expect((await store.openOf('w-ast-2')).map((r) => r.id)).toEqual([a.id]);
    expect((await store.openInRegion('almaty_region')).map((r) => r.id)).toEqual([a.id]);
    expect((await store.openInRegion('astana')).map((r) => r.id)).toEqual([b.id, s.id]);
    await store.update(b.id, 1, { ...b, status: 'completed', closedAt: T0 }, ev('COMPLETE'), []);
    expect(await store.openOf('w-ast-1')).toEqual([]);
    expect((await store.openInRegion('astana')).map((r) => r.id)).toEqual([s.id]);
  });

  it("finds a family's referrals by chat id, and forgets them on erase without losing the reporting fields", async () => {
    const store = make();
    const chat = 777_000_001;
    const a = referral({ familyChatId: chat });
    const b = referral({ familyChatId: chat });
    const other = referral();
    for (const r of [a, b, other]) await store.create(r, ev('created'), []);
    expect((await store.ofFamily(chat)).map((r) => r.id)).toEqual([a.id, b.id]);
    await store.erase(a.id, ev('erased', 'family'));
    const erased = await store.get(a.id);
    expect(erased).toMatchObject({ id: a.id, region: 'astana', profile: 'assessment', status: 'requested' });
    expect(erased?.packet).toBeUndefined();
    expect(erased?.familyChatId).toBeUndefined();
    expect(JSON.stringify(erased)).not.toContain(PHONE);
    expect((await store.ofFamily(chat)).map((r) => r.id)).toEqual([b.id]);
  });

  it('lists referrals created in a window, oldest first', async () => {
    const store = make();
    const rs = [0, 1, 2].map((i) => referral({ createdAt: T0 + 10 * DAY + i * 1000 }));
    for (const r of [...rs].reverse()) await store.create(r, ev('created'), []);
    expect((await store.createdBetween(T0 + 10 * DAY, T0 + 10 * DAY + 2000)).map((r) => r.id)).toEqual([rs[0]!.id, rs[1]!.id]);
  });

  it('keeps an audit trail in order, detail cut short', async () => {
    const store = make();
    const r = referral();
    await store.create(r, ev('created', 'operator', 'worker:w-ast-1'), []);
    await store.audit(r.id, ev('viewed', 'worker:w-ast-1'));
    await store.update(r.id, 1, { ...r, status: 'accepted' }, ev('ACCEPT', 'worker:w-ast-1'), []);
    await store.audit(r.id, ev('refused', 'worker:w-alm-1', 'x'.repeat(500)));
    const trail = await store.auditTrail(r.id);
    expect(trail.map((e) => `${e.what}/${e.who}`)).toEqual(['created/operator', 'viewed/worker:w-ast-1', 'ACCEPT/worker:w-ast-1', 'refused/worker:w-alm-1']);
    expect(trail[0]).toEqual({ what: 'created', who: 'operator', at: T0, detail: 'worker:w-ast-1' });
    expect(trail[3]!.detail!.length).toBe(100);
  });

  it('publishes the notices of a write with it, and none of a refused write', async () => {
    const store = make();
    const r = referral();
    await store.create(r, ev('created'), [notice(r, 'a')]);
    await store.update(r.id, 7, r, ev('stale'), [notice(r, 'lost')]);
    await store.update(r.id, 1, { ...r, status: 'accepted' }, ev('ACCEPT'), [notice(r, 'b')]);
    const seen: string[] = [];
    await store.outbox().poll({ consumer: 'c1', handler: async (e) => void seen.push(e.id) });
    expect(seen).toEqual([`${r.id}:a`, `${r.id}:b`]);
  });

  it('timers: due ones are taken once and re-armed; rescheduling replaces; cancelling removes', async () => {
    const store = make();
    await store.schedule('R-1', 'ack', T0 + 100);
    await store.schedule('R-2', 'ack', T0 + 200);
    await store.schedule('R-2', 'ack', T0 + 50);
    await store.schedule('R-3', 'ack', T0 + 5_000);
    await store.schedule('R-4', 'ack', T0 + 10);
    await store.cancelTimer('R-4', 'ack');
    const taken = await store.takeDue(T0 + 1_000, 60_000);
    expect(taken).toEqual([
      { referralId: 'R-2', kind: 'ack', deadline: T0 + 50 },
      { referralId: 'R-1', kind: 'ack', deadline: T0 + 100 },
    ]);
    expect(await store.takeDue(T0 + 1_000, 60_000)).toEqual([]);
    // The taker died: after the lease they are due again.
    expect((await store.takeDue(T0 + 61_000, 60_000)).map((t) => t.referralId)).toEqual(['R-3', 'R-1', 'R-2']);
  });

  it('a capacity guard refuses a write that would give a full worker one more', async () => {
    const store = make();
    const a = referral({ workerId: 'w-ast-1' });
    const b = referral({ workerId: 'w-ast-1' });
    const guard = { workerId: 'w-ast-1', limit: 1 };
    expect(await store.create(a, ev('created'), [], guard)).toBe(true);
    expect(await store.create(b, ev('created'), [notice(b, 'x')], guard)).toBe(false);
    expect(await store.get(b.id)).toBeUndefined();
    // A change to a referral the worker already holds passes the guard.
    expect(await store.update(a.id, 1, { ...a, status: 'accepted' }, ev('ACCEPT'), [], guard)).toMatchObject({ version: 2 });
    const c = referral({ workerId: 'w-ast-2' });
    await store.create(c, ev('created'), []);
    expect(await store.update(c.id, 1, { ...c, workerId: 'w-ast-1' }, ev('DECLINE'), [], guard)).toBeUndefined();
    expect(await store.update(c.id, 1, { ...c, workerId: 'w-ast-1' }, ev('DECLINE'), [], { workerId: 'w-ast-1', limit: 2 })).toMatchObject({ workerId: 'w-ast-1' });
    const seen: string[] = [];
    await store.outbox().poll({ consumer: 'c', handler: async (e) => void seen.push(e.id) });
    expect(seen).toEqual([]);
  });

  it('invites are taken once', async () => {
    const store = make();
    await store.saveInvite('h1', 'w-ast-1', 60_000);
    expect(await store.takeInvite('h1')).toBe('w-ast-1');
    expect(await store.takeInvite('h1')).toBeUndefined();
    expect(await store.takeInvite('h2')).toBeUndefined();
  });

  it('links one account per worker and one worker per account; relinking replaces; unlinking removes both ways', async () => {
    const store = make();
    expect(await store.link('w-ast-1', 1001)).toBeUndefined();
    expect(await store.workerOf(1001)).toBe('w-ast-1');
    expect(await store.userOf('w-ast-1')).toBe(1001);
    // The worker got a new phone: the old account is no longer linked.
    expect(await store.link('w-ast-1', 1002)).toBe(1001);
    expect(await store.workerOf(1001)).toBeUndefined();
    expect(await store.workerOf(1002)).toBe('w-ast-1');
    // The same account linked to another worker: the first worker loses it.
    await store.link('w-ast-2', 1002);
    expect(await store.userOf('w-ast-1')).toBeUndefined();
    expect(await store.workerOf(1002)).toBe('w-ast-2');
    expect(await store.unlink('w-ast-2')).toBe(true);
    expect(await store.unlink('w-ast-2')).toBe(false);
    expect(await store.workerOf(1002)).toBeUndefined();
  });
});

describe('referral store: personal data expiry', () => {
  it('redis: a closed referral keeps its packet for 30 days only; the reporting record has no TTL and no personal data', async () => {
    const p = `${prefix}ttl:`;
    const store = new RedisReferralStore(redis, { prefix: p });
    const r = referral();
    await store.create(r, ev('created'), []);
    expect(await redis.pTTL(`${p}{ref}:r:${r.id}:p`)).toBe(-1);
    await store.update(r.id, 1, { ...r, status: 'completed', closedAt: T0, outcome: 'need_determined' }, ev('COMPLETE'), []);
    const ttl = await redis.pTTL(`${p}{ref}:r:${r.id}:p`);
    expect(ttl).toBeGreaterThan(29 * DAY);
    expect(ttl).toBeLessThanOrEqual(30 * DAY);
    expect(await redis.pTTL(`${p}{ref}:r:${r.id}`)).toBe(-1);
    const reporting = String(await redis.get(`${p}{ref}:r:${r.id}`));
    expect(reporting).not.toContain(PHONE);
    expect(reporting).not.toContain('Abai');
  });

  it('memory: the packet is gone 30 days after close, the outcome stays', async () => {
    clock = T0;
    const store = new MemoryReferralStore({ now: () => clock });
    const r = referral();
    await store.create(r, ev('created'), []);
    await store.update(r.id, 1, { ...r, status: 'completed', closedAt: T0, outcome: 'need_determined' }, ev('COMPLETE'), []);
    clock = T0 + 30 * DAY - 1;
    expect((await store.get(r.id))?.packet?.note).toBe(NOTE);
    clock = T0 + 30 * DAY;
    expect(await store.get(r.id)).toMatchObject({ outcome: 'need_determined', status: 'completed' });
    expect((await store.get(r.id))?.packet).toBeUndefined();
    clock = T0;
  });

  it('every key of the redis store is under one hash tag', async () => {
    const p = `${prefix}tag:`;
    const store = new RedisReferralStore(redis, { prefix: p });
    const r = referral();
    await store.create(r, ev('created'), [notice(r, 'a')]);
    await store.schedule(r.id, 'ack', T0);
    await store.saveInvite('h', 'w-ast-1', 60_000);
    await store.link('w-ast-1', 5);
    await store.outbox().poll({ consumer: 'c', handler: async () => {} });
    const keys = await redis.keys(`${p.replace(/[*?[\]\\{}]/g, '\\$&')}*`);
    expect(keys.length).toBeGreaterThan(8);
    for (const k of keys) expect(k.startsWith(`${p}{ref}:`)).toBe(true);
  });
});
