import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkingHours } from '../../src/handoff/hours.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import { ReferralService } from '../../src/referral/service.js';
import { TIMER_LEASE_MS } from '../../src/referral/timers.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { packet, testDirectory } from './fixtures.js';
import { makeHarness, RecordingNotifier, USER } from './harness.js';

const prefix = uniquePrefix('test:reftimers');
let redis: Redis;
let second: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
  second = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
  second.destroy();
});

const MIN = 60_000;
/** Friday 2026-12-11 17:30 in Almaty (UTC+5). */
const FRI_1730 = Date.parse('2026-12-11T12:30:00Z');
/** Monday 2026-12-14 09:00 in Almaty. */
const MON_0900 = Date.parse('2026-12-14T04:00:00Z');

describe('acknowledgement reminders and escalation (working hours, Asia/Almaty)', () => {
  it('reminds after ackMinutes of working time, escalates to the supervisor after a second breach, then stops', async () => {
    const h = await makeHarness('redis', redis, prefix, { ackMinutes: 60 });
    h.clock.now = FRI_1730;
    const { referral } = await h.service.create({ packet: packet(), familyChatId: 700_000_100, source: 'family', actor: { kind: 'family' } });
    await h.deliver();

    // 30 minutes on Friday, the rest on Monday morning: due Monday 09:30.
    expect(await h.service.fireDueTimers(FRI_1730 + 60 * MIN)).toBe(0);
    expect(await h.service.fireDueTimers(MON_0900 + 29 * MIN)).toBe(0);
    expect(await h.deliver()).toEqual([]);
    expect(await h.service.fireDueTimers(MON_0900 + 30 * MIN)).toBe(1);
    expect(await h.deliver()).toEqual(['user:101:reminder']);
    expect(await h.store.get(referral.id)).toMatchObject({ reminders: 1, status: 'requested' });

    expect(await h.service.fireDueTimers(MON_0900 + 89 * MIN)).toBe(0);
    expect(await h.service.fireDueTimers(MON_0900 + 90 * MIN)).toBe(1);
    expect(await h.deliver()).toEqual([`user:${USER['s-ast']}:escalated`]);
    expect(await h.store.get(referral.id)).toMatchObject({ reminders: 2, workerId: 'w-ast-1', supervisorId: 's-ast' });
    // The worker still holds it and may still accept it.
    expect(await h.service.act(referral.id, { kind: 'user', userId: USER['w-ast-1'] }, { type: 'ACCEPT' })).toMatchObject({ ok: true });

    expect(await h.service.fireDueTimers(MON_0900 + 10 * 24 * 60 * MIN)).toBe(0);
    expect(await h.deliver()).toEqual([`chat:700000100:accepted`, `chat:700000100:contact_soon`]);
    expect((await h.service.auditTrail(referral.id)).map((e) => e.what)).toEqual(['created', 'reminder', 'escalated', 'ACCEPT']);
  });

  it("a re-routed referral's clock starts again for the new holder; an accepted one gets no reminder", async () => {
    const h = await makeHarness('redis', redis, prefix, { ackMinutes: 60 });
    h.clock.now = MON_0900;
    const { referral } = await h.service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } });
    h.clock.now = MON_0900 + 30 * MIN;
    await h.service.act(referral.id, { kind: 'user', userId: USER['w-ast-1'] }, { type: 'DECLINE', reason: 'no_capacity' });
    await h.deliver();
    // The first holder's deadline (10:00) passes quietly; the new holder's is 10:30.
    expect(await h.service.fireDueTimers(MON_0900 + 60 * MIN)).toBe(0);
    expect(await h.service.fireDueTimers(MON_0900 + 89 * MIN)).toBe(0);
    expect(await h.service.fireDueTimers(MON_0900 + 90 * MIN)).toBe(1);
    expect(await h.deliver()).toEqual([`user:${USER['w-ast-2']}:reminder`]);

    const accepted = (await h.service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } })).referral;
    await h.service.act(accepted.id, { kind: 'user', userId: USER['w-ast-1'] }, { type: 'ACCEPT' });
    expect(await h.service.fireDueTimers(MON_0900 + 7 * 24 * 60 * MIN)).toBe(1); // the escalation of the first one only
    expect((await h.service.auditTrail(accepted.id)).map((e) => e.what)).toEqual(['created', 'ACCEPT']);
  });

  it('two processes ticking at once fire each timer once', async () => {
    const p = `${prefix}two:`;
    const clock = { now: MON_0900 };
    const make = (client: Redis) =>
      new ReferralService({
        store: new RedisReferralStore(client, { prefix: p }),
        directory: testDirectory(),
        config: { ackMinutes: 30, hours: WorkingHours.parse('mon-fri 09:00-18:00') },
        now: () => clock.now,
      });
    const one = make(redis);
    const two = make(second);
    const invite = await one.issueInvite('w-ast-1');
    await one.redeemInvite(invite.code, USER['w-ast-1']);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await one.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } })).referral.id);
    const due = MON_0900 + 30 * MIN;
    const [a, b] = await Promise.all([one.fireDueTimers(due), two.fireDueTimers(due)]);
    expect(a + b).toBe(10);
    const notifier = new RecordingNotifier();
    await one.delivery({ notifier, consumer: 'x', minIdleMs: 0 }).poll();
    const held = (await one.listOpenFor('w-ast-1')).map((r) => r.id).sort();
    expect(held.length).toBeGreaterThan(0);
    expect(notifier.told.filter((t) => t.notice === 'reminder').map((t) => t.referralId).sort()).toEqual(held);
    // Only the ones w-ast-1 holds reach a linked account; every one was reminded exactly once.
    for (const id of ids) expect((await one.auditTrail(id)).filter((e) => e.what === 'reminder')).toHaveLength(1);
  });

  it('a timer whose taker died fires again after the lease', async () => {
    const h = await makeHarness('redis', redis, prefix, { ackMinutes: 30 });
    h.clock.now = MON_0900;
    const { referral } = await h.service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } });
    // A process takes the due timer and dies before handling it.
    expect(await h.store.takeDue(MON_0900 + 30 * MIN, TIMER_LEASE_MS)).toHaveLength(1);
    expect(await h.service.fireDueTimers(MON_0900 + 31 * MIN)).toBe(0);
    expect(await h.service.fireDueTimers(MON_0900 + 30 * MIN + TIMER_LEASE_MS)).toBe(1);
    expect((await h.store.get(referral.id))?.reminders).toBe(1);
  });
});
