import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { NOTE, packet, PHONE } from './fixtures.js';
import { as, makeHarness } from './harness.js';

const prefix = uniquePrefix('test:refsvc');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

const CHAT = 700_000_001;

describe.each(['redis', 'memory'] as const)('referral service (%s store)', (kind) => {
  const harness = () => makeHarness(kind, redis, prefix);

  it('create → accept → contacted → visit planned → completed, with the notices in order', async () => {
    const h = await harness();
    const { referral, route } = await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } });
    expect(route).toEqual({ to: 'worker', workerId: 'w-ast-1' });
    expect(referral).toMatchObject({ status: 'requested', workerId: 'w-ast-1', region: 'astana', familyChatId: CHAT });
    expect(referral.id).toMatch(/^R-[2-9A-Z]{6}$/);
    expect(await h.deliver()).toEqual(['user:101:new', `chat:${CHAT}:received`]);

    const id = referral.id;
    expect((await h.service.listOpenFor('w-ast-1')).map((r) => r.id)).toEqual([id]);
    expect(await h.service.act(id, as('w-ast-1'), { type: 'ACCEPT' })).toMatchObject({ ok: true, referral: { status: 'accepted' } });
    expect(await h.deliver()).toEqual([`chat:${CHAT}:accepted`, `chat:${CHAT}:contact_soon`]);
    expect(await h.service.act(id, as('w-ast-1'), { type: 'CONTACTED' })).toMatchObject({ ok: true, referral: { status: 'in-progress' } });
    expect(await h.deliver()).toEqual([]);
    expect(await h.service.act(id, as('w-ast-1'), { type: 'VISIT_PLANNED', date: '2026-12-10' })).toMatchObject({ ok: true, referral: { visitDate: '2026-12-10' } });
    expect(await h.deliver()).toEqual([`chat:${CHAT}:visit_planned`]);
    h.clock.now += 3_600_000;
    const done = await h.service.act(id, as('w-ast-1'), { type: 'COMPLETE', outcome: 'need_determined' });
    expect(done).toMatchObject({ ok: true, referral: { status: 'completed', outcome: 'need_determined', closedAt: h.clock.now } });
    expect(await h.deliver()).toEqual([`chat:${CHAT}:completed`]);

    expect(await h.service.listOpenFor('w-ast-1')).toEqual([]);
    expect((await h.service.statusFor(CHAT)).map((r) => r.status)).toEqual(['completed']);
    const trail = await h.service.auditTrail(id);
    expect(trail.map((e) => `${e.what}/${e.who}`)).toEqual(['created/family', 'listed/worker:w-ast-1', 'ACCEPT/worker:w-ast-1', 'CONTACTED/worker:w-ast-1', 'VISIT_PLANNED/worker:w-ast-1', 'COMPLETE/worker:w-ast-1']);
    expect(trail.every((e) => !JSON.stringify(e).includes(PHONE) && !JSON.stringify(e).includes(String(CHAT)))).toBe(true);
  });

  it('referrals created at the same moment never push a worker over capacity', async () => {
    const h = await harness();
    const routes = await Promise.all(
      Array.from({ length: 14 }, () => h.service.create({ packet: packet(), source: 'operator', actor: { kind: 'operator', userId: 1 } }).then((r) => r.route)),
    );
    const to = (r: (typeof routes)[number]) => (r.to === 'none' ? 'none' : `${r.to}:${r.workerId}`);
    const counts = new Map<string, number>();
    for (const r of routes) counts.set(to(r), (counts.get(to(r)) ?? 0) + 1);
    // Capacity 5 each; the rest to the territory's supervisor (§9 step 3).
    expect(counts).toEqual(new Map([['worker:w-ast-1', 5], ['worker:w-ast-2', 5], ['supervisor:s-ast', 4]]));
    expect((await h.service.listOpenFor('w-ast-1')).length).toBe(5);
  });

  it('could not reach the family: failed, and the family hears so', async () => {
    const h = await harness();
    const { referral } = await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } });
    await h.service.act(referral.id, as('w-ast-1'), { type: 'ACCEPT' });
    await h.deliver();
    expect(await h.service.act(referral.id, as('w-ast-1'), { type: 'COMPLETE', outcome: 'could_not_reach' })).toMatchObject({ ok: true, referral: { status: 'failed' } });
    expect(await h.deliver()).toEqual([`chat:${CHAT}:not_reached`]);
  });

  it('a decline re-routes to the next worker, then to the supervisor; the supervisor reassigns', async () => {
    const h = await harness();
    const { referral } = await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } });
    await h.deliver();
    const first = await h.service.act(referral.id, as('w-ast-1'), { type: 'DECLINE', reason: 'no_capacity' });
    expect(first).toMatchObject({ ok: true, referral: { status: 'requested', workerId: 'w-ast-2', declineReason: 'no_capacity' } });
    expect(await h.deliver()).toEqual(['user:102:new', `chat:${CHAT}:rerouted`]);
    // Nobody else in Astana does assessments: §9 step 3, the supervisor.
    const second = await h.service.act(referral.id, as('w-ast-2'), { type: 'DECLINE', reason: 'not_my_profile' });
    expect(second).toMatchObject({ ok: true, referral: { status: 'requested', supervisorId: 's-ast' } });
    expect(second.ok && second.referral.workerId).toBeUndefined();
    expect(await h.deliver()).toEqual(['user:104:new', `chat:${CHAT}:rerouted`]);
    expect((await h.service.listOpenFor('s-ast')).map((r) => r.id)).toEqual([referral.id]);
    // The first worker no longer holds it.
    expect(await h.service.act(referral.id, as('w-ast-1'), { type: 'ACCEPT' })).toMatchObject({ ok: false, refusal: 'not_yours' });
    const back = await h.service.act(referral.id, as('s-ast'), { type: 'REASSIGN', workerId: 'w-ast-1' });
    expect(back).toMatchObject({ ok: true, referral: { status: 'requested', workerId: 'w-ast-1' } });
    expect(await h.deliver()).toEqual(['user:104:reassigned_away', 'user:101:reassigned_to_you']);
    expect(await h.service.act(referral.id, as('w-ast-1'), { type: 'ACCEPT' })).toMatchObject({ ok: true });
    const trail = await h.service.auditTrail(referral.id);
    expect(trail.filter((e) => e.what === 'DECLINE').map((e) => e.detail)).toEqual(['no_capacity→w-ast-2', 'not_my_profile→s-ast']);
  });

  it('a redirect to another region and profile goes to the worker there; the old region no longer acts on it', async () => {
    const h = await harness();
    const { referral } = await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'operator', actor: { kind: 'operator', userId: 5 } });
    await h.deliver();
    const moved = await h.service.act(referral.id, as('w-ast-1'), { type: 'REDIRECT', region: 'almaty_region', profile: 'disability' });
    expect(moved).toMatchObject({ ok: true, referral: { status: 'requested', workerId: 'w-alm-1', region: 'almaty_region', profile: 'disability' } });
    expect(await h.deliver()).toEqual(['user:201:new', `chat:${CHAT}:rerouted`]);
    expect(await h.service.act(referral.id, as('s-ast'), { type: 'REASSIGN', workerId: 'w-ast-2' })).toMatchObject({ ok: false, refusal: 'not_yours' });
    expect((await h.service.listTerritory('s-alm')).map((r) => r.id)).toEqual([referral.id]);
    expect(await h.service.listTerritory('s-ast')).toEqual([]);
  });

  it('a redirect nobody can take is parked as redirected, and the family is told it could not be routed', async () => {
    const h = await harness();
    const { referral } = await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } });
    await h.deliver();
    const parked = await h.service.act(referral.id, as('w-ast-1'), { type: 'REDIRECT', region: 'mangystau' });
    expect(parked).toMatchObject({ ok: true, referral: { status: 'redirected', region: 'mangystau' } });
    expect(await h.deliver()).toEqual([`chat:${CHAT}:not_routed`]);
  });

  it('nobody to route to at all: the family is told, nobody is notified', async () => {
    const h = await harness();
    const { referral, route } = await h.service.create({ packet: packet({ region: 'mangystau' }), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } });
    expect(route).toEqual({ to: 'none' });
    expect(referral.workerId).toBeUndefined();
    expect(await h.deliver()).toEqual([`chat:${CHAT}:not_routed`]);
  });

  it('/forget cancels open referrals, tells the holder without data, erases packets and chat ids', async () => {
    const h = await harness();
    const a = (await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } })).referral;
    const b = (await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } })).referral;
    const other = (await h.service.create({ packet: packet(), familyChatId: CHAT + 1, source: 'family', actor: { kind: 'family' } })).referral;
    expect(b.workerId).toBe('w-ast-2'); // the least loaded
    await h.service.act(a.id, as('w-ast-1'), { type: 'ACCEPT' });
    await h.deliver();

    expect((await h.service.forgetFamily(CHAT)).sort()).toEqual([a.id, b.id].sort());
    const told = h.notifier.told;
    const before = told.length;
    await h.deliver();
    // deliver() clears the list it returns; what the notifier was handed is still in `told`.
    const withdrawn = told.slice(before);
    expect(withdrawn.map((t) => `${t.to}:${t.notice}`).sort()).toEqual(['user:101:withdrawn', 'user:102:withdrawn']);
    for (const t of withdrawn) {
      expect(t.referral.packet).toBeUndefined();
      expect(t.referral.familyChatId).toBeUndefined();
    }
    for (const id of [a.id, b.id]) {
      const r = await h.store.get(id);
      expect(r).toMatchObject({ status: 'cancelled' });
      expect(r?.packet).toBeUndefined();
      expect(r?.familyChatId).toBeUndefined();
    }
    expect(await h.service.statusFor(CHAT)).toEqual([]);
    expect((await h.store.get(other.id))?.packet).toBeDefined();
    expect((await h.service.listOpenFor('w-ast-1')).map((r) => r.id)).toEqual([other.id]);
  });

  it('the holder hears "withdrawn" with no packet in it', async () => {
    const h = await harness();
    const a = (await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } })).referral;
    await h.deliver();
    await h.service.forgetFamily(CHAT);
    const poll = h.deliver();
    const told = await poll;
    expect(told).toEqual(['user:101:withdrawn']);
    const trail = await h.service.auditTrail(a.id);
    expect(trail.map((e) => e.what).slice(-2)).toEqual(['cancelled', 'erased']);
  });

  it('a notice for a referral withdrawn before delivery asks nobody to act', async () => {
    const h = await harness();
    await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } });
    await h.service.forgetFamily(CHAT);
    expect(await h.deliver()).toEqual(['user:101:withdrawn']);
  });

  it('"what is happening with my request?" lists the family\'s own referrals, newest first', async () => {
    const h = await harness();
    const a = (await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } })).referral;
    h.clock.now += 1000;
    const b = (await h.service.create({ packet: packet({ profile: 'psychologist' }), familyChatId: CHAT, source: 'family', actor: { kind: 'family' } })).referral;
    await h.service.create({ packet: packet(), familyChatId: CHAT + 5, source: 'family', actor: { kind: 'family' } });
    expect((await h.service.statusFor(CHAT)).map((r) => r.id)).toEqual([b.id, a.id]);
  });

  it("psychologists' notes are visible to psychologists only", async () => {
    const h = await harness();
    const { referral } = await h.service.create({ packet: packet({ profile: 'psychologist' }), familyChatId: CHAT, source: 'operator', actor: { kind: 'operator', userId: 5 } });
    expect(referral.workerId).toBe('w-ast-psy');
    const byPsy = await h.service.view(referral.id, as('w-ast-psy'));
    expect(byPsy.ok && byPsy.referral.packet?.note).toBe(NOTE);
    const bySupervisor = await h.service.view(referral.id, as('s-ast'));
    expect(bySupervisor.ok).toBe(true);
    expect(bySupervisor.ok && bySupervisor.referral.packet?.note).toBeUndefined();
    expect((await h.service.listTerritory('s-ast'))[0]?.packet?.note).toBeUndefined();
    expect((await h.service.listOpenFor('w-ast-psy'))[0]?.packet?.note).toBe(NOTE);
    // An assessment referral's note is for its worker and the supervisor alike.
    const plain = (await h.service.create({ packet: packet(), familyChatId: CHAT, source: 'operator', actor: { kind: 'operator', userId: 5 } })).referral;
    const v = await h.service.view(plain.id, as('s-ast'));
    expect(v.ok && v.referral.packet?.note).toBe(NOTE);
    expect((await h.service.auditTrail(referral.id)).filter((e) => e.what === 'viewed').map((e) => e.who)).toEqual(['worker:w-ast-psy', 'worker:s-ast']);
  });
});
