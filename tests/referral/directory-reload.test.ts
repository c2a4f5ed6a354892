/**
 * A directory reload re-routes the open referrals whose holder no longer fits (SPEC §9), through
 * the machine, oldest first and within capacity; everything else is left as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionIds } from '../../src/referral/directory.js';
import { WorkingHours } from '../../src/handoff/hours.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import { DIRECTORY_RELOADED, ReferralService } from '../../src/referral/service.js';
import type { Directory, Profile, Referral } from '../../src/referral/types.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { packet, testDirectory } from './fixtures.js';
import { as, makeHarness, USER, type Harness } from './harness.js';

const prefix = uniquePrefix('test:refreload');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

const W3_USER = 105;

/**
 * w-ast-1 is gone, w-ast-2 keeps children_family only, a new w-ast-3 (capacity 2) does both;
 * Almaty region has nobody left. The psychologist and the Astana supervisor are unchanged.
 */
function reloaded(): Directory {
  const d = testDirectory();
  const w2 = d.workers.find((w) => w.id === 'w-ast-2')!;
  const workers = d.workers
    .filter((w) => w.id !== 'w-ast-1' && w.organization !== 'almaty-social')
    .map((w) => (w.id === 'w-ast-2' ? { ...w, profiles: ['children_family' as Profile] } : w));
  return { ...d, workers: [...workers, { ...w2, id: 'w-ast-3', capacity: 2 }] };
}

describe.each(['redis', 'memory'] as const)('directory reload (%s store)', (kind) => {
  let chat = 710_000_000;
  async function create(h: Harness, profile: Profile, region = 'astana'): Promise<Referral> {
    h.clock.now += 1000; // distinct creation times: the re-route goes oldest first
    return (await h.service.create({ packet: packet({ profile, region }), familyChatId: ++chat, source: 'family', actor: { kind: 'family' } })).referral;
  }

  it('moves exactly the open referrals of holders who no longer fit, in §9 order and capacity; a second reload moves nothing', async () => {
    // Every region, as the app passes them: Almaty region is served by neither directory the second time.
    const h = await makeHarness(kind, redis, prefix, { regions: regionIds() });
    const a1 = await create(h, 'assessment'); // w-ast-1
    const a2 = await create(h, 'assessment'); // w-ast-2
    const c1 = await create(h, 'children_family'); // w-ast-1
    const a3 = await create(h, 'assessment'); // w-ast-2
    const done = await create(h, 'assessment'); // w-ast-1, then completed
    const psy = await create(h, 'psychologist'); // w-ast-psy
    const alm = await create(h, 'disability', 'almaty_region'); // w-alm-1
    expect([a1, a2, c1, a3, done, psy, alm].map((r) => r.workerId)).toEqual(['w-ast-1', 'w-ast-2', 'w-ast-1', 'w-ast-2', 'w-ast-1', 'w-ast-psy', 'w-alm-1']);
    await h.service.act(a1.id, as('w-ast-1'), { type: 'ACCEPT' });
    await h.service.act(done.id, as('w-ast-1'), { type: 'ACCEPT' });
    await h.service.act(done.id, as('w-ast-1'), { type: 'COMPLETE', outcome: 'need_determined' });
    await h.deliver();
    const before = new Map(await Promise.all([done, psy, alm].map(async (r) => [r.id, await h.store.get(r.id)] as const)));

    expect(await h.service.reloadDirectory(reloaded())).toEqual({ routed: 3, toSupervisors: 1, unrouted: 1 });
    const now = async (r: Referral) => (await h.store.get(r.id))!;
    // Oldest first: a1 and a2 fill w-ast-3 (capacity 2); c1 goes to w-ast-2, who still does
    // children_family; a3 finds nobody with room and goes to the supervisor (§9 step 3).
    expect(await now(a1)).toMatchObject({ status: 'requested', workerId: 'w-ast-3', reminders: 0 });
    expect(await now(a2)).toMatchObject({ status: 'requested', workerId: 'w-ast-3' });
    expect(await now(c1)).toMatchObject({ status: 'requested', workerId: 'w-ast-2' });
    expect(await now(a3)).toMatchObject({ status: 'requested', supervisorId: 's-ast' });
    expect((await now(a3)).workerId).toBeUndefined();
    expect((await h.store.openCounts(['w-ast-3'])).get('w-ast-3')).toBe(2);
    // The final one, the one whose holder still fits, and the one nobody can take: as they were.
    for (const r of [done, psy, alm]) expect(await now(r)).toEqual(before.get(r.id));

    for (const [r, to] of [[a1, 'w-ast-3'], [a2, 'w-ast-3'], [c1, 'w-ast-2'], [a3, 's-ast']] as const) {
      expect((await h.service.auditTrail(r.id)).at(-1)).toMatchObject({ what: 'REROUTE', who: 'system', detail: `${DIRECTORY_RELOADED}→${to}` });
    }
    expect((await h.service.auditTrail(done.id)).some((e) => e.what === 'REROUTE')).toBe(false);

    // The new holders get the card, the old ones hear it went away; the families, nothing.
    const w3 = await h.service.issueInvite('w-ast-3');
    await h.service.redeemInvite(`w-${w3.code}`, W3_USER);
    expect(await h.deliver()).toEqual([
      'user:101:reassigned_away',
      `user:${W3_USER}:reassigned_to_you`,
      'user:102:reassigned_away',
      `user:${W3_USER}:reassigned_to_you`,
      'user:101:reassigned_away',
      'user:102:reassigned_to_you',
      'user:102:reassigned_away',
      'user:104:reassigned_to_you',
    ]);
    // The new holder acts on it; the removed worker no longer can.
    expect(await h.service.act(a1.id, { kind: 'user', userId: W3_USER }, { type: 'ACCEPT' })).toMatchObject({ ok: true });
    expect(await h.service.act(c1.id, as('w-ast-1'), { type: 'ACCEPT' })).toMatchObject({ ok: false, refusal: 'not_yours' });
    await h.deliver();

    const versions = await Promise.all([a1, a2, c1, a3, alm].map(async (r) => (await now(r)).version));
    expect(await h.service.reloadDirectory(reloaded())).toEqual({ routed: 0, toSupervisors: 0, unrouted: 1 });
    expect(await Promise.all([a1, a2, c1, a3, alm].map(async (r) => (await now(r)).version))).toEqual(versions);
    expect(await h.deliver()).toEqual([]);
  });

  it('a worker turned supervisor gives up their referrals; one who is now full keeps theirs and takes no more', async () => {
    const h = await makeHarness(kind, redis, prefix);
    const a1 = await create(h, 'assessment'); // w-ast-1
    const a2 = await create(h, 'assessment'); // w-ast-2
    const d = testDirectory();
    const next: Directory = {
      ...d,
      workers: d.workers.map((w) => (w.id === 'w-ast-1' ? { ...w, role: 'supervisor' as const } : w.id === 'w-ast-2' ? { ...w, capacity: 1 } : w)),
    };
    // w-ast-2 still fits but has no room: §9 step 3, the least loaded supervisor (not w-ast-1, who holds a1 still).
    expect(await h.service.reloadDirectory(next)).toEqual({ routed: 0, toSupervisors: 1, unrouted: 0 });
    expect(await h.store.get(a1.id)).toMatchObject({ supervisorId: 's-ast' });
    expect(await h.store.get(a2.id)).toMatchObject({ workerId: 'w-ast-2', version: 1 });
  });
});

describe('a reload on one process reaches the others (one Redis, two services)', () => {
  it('the other process reads its directory file again once, keeps its directory when the file does not load, and starts from the count it finds', async () => {
    const shared = `${prefix}procs:`;
    const instance = () =>
      new ReferralService({ store: new RedisReferralStore(redis, { prefix: shared }), directory: testDirectory(), config: { ackMinutes: 60, hours: WorkingHours.parse('always') }, now: () => 1_790_000_000_000 });
    const [a, b] = [instance(), instance()];
    const next = reloaded();
    let reads = 0;
    const file = () => (reads++, next);

    expect(await b.followReloads(file)).toBe('same'); // at start: the count is only noted
    await a.reloadDirectory(next);
    expect(await a.followReloads(file)).toBe('same'); // the process that reloaded is up to date
    expect(await b.followReloads(file)).toBe('reloaded');
    expect(b.directory()).toBe(next);
    expect(b.worker('w-ast-1')).toBeUndefined();
    expect(await b.followReloads(file)).toBe('same');
    expect(reads).toBe(1);

    await a.reloadDirectory(testDirectory());
    expect(await b.followReloads(() => {
      throw new Error('flows/directory/x.yaml: workers[0].capacity: must be a positive integer');
    })).toBe('failed');
    expect(b.directory()).toBe(next); // the previous one stays
    // A process started after the reloads notes the count and keeps the file it started with.
    const c = instance();
    expect(await c.followReloads(file)).toBe('same');
    expect(c.worker('w-ast-1')).toBeDefined();
  });
});
