import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkingHours } from '../../src/handoff/hours.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import { fits, routeAll } from '../../src/referral/routing.js';
import { ReferralService } from '../../src/referral/service.js';
import { PROFILES, type Route, type Directory, type DirectoryWorker, type Profile, type RoutingRequest, type WorkerLang } from '../../src/referral/types.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { mulberry32 } from '../helpers/prng.js';
import { packet } from './fixtures.js';

const prefix = uniquePrefix('test:refload');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

/** 20 regions; per region three workers of mixed profiles and languages, small capacities, and (in most) a supervisor. */
function bigDirectory(rand: () => number): Directory {
  const workers: DirectoryWorker[] = [];
  const langs: WorkerLang[][] = [['kk'], ['ru'], ['kk', 'ru']];
  for (let r = 0; r < 20; r++) {
    const region = `region_${r}`;
    for (let i = 0; i < 3; i++) {
      const profiles = PROFILES.filter(() => rand() < 0.5);
      workers.push({ id: `w-${r}-${i}`, organization: 'org', role: 'worker', profiles: profiles.length ? profiles : ['assessment'], languages: langs[Math.floor(rand() * 3)]!, areas: [{ region }], capacity: 1 + Math.floor(rand() * 12) });
    }
    if (r % 5 !== 4) workers.push({ id: `s-${r}`, organization: 'org', role: 'supervisor', profiles: [], languages: ['kk', 'ru'], areas: [{ region }], capacity: 50 });
  }
  return { example: true, organizations: [{ id: 'org', name: { kk: 'o', ru: 'o', en: 'o' }, areas: [] }], workers };
}

describe('1,000 referrals across 20 regions', () => {
  it("are routed by the service exactly as SPEC §9 routes them in order, on the store's live open counts", async () => {
    const rand = mulberry32(20261203);
    const directory = bigDirectory(rand);
    const service = new ReferralService({
      store: new RedisReferralStore(redis, { prefix: `${prefix}big:` }),
      directory,
      config: { ackMinutes: 60, hours: WorkingHours.parse('always') },
    });
    const requests: RoutingRequest[] = Array.from({ length: 1_000 }, (_, i) => ({
      id: `q${i}`,
      region: `region_${Math.floor(rand() * 20)}`,
      profile: PROFILES[Math.floor(rand() * PROFILES.length)] as Profile,
      language: rand() < 0.5 ? 'kk' : 'ru',
      urgent: rand() < 0.1,
    }));
    const expected = routeAll(directory, requests);

    const got: Route[] = [];
    for (const q of requests) {
      const { route } = await service.create({ packet: packet({ region: q.region, profile: q.profile, lang: q.language, urgent: q.urgent }), source: 'operator', actor: { kind: 'operator', userId: 1 } });
      got.push(route);
    }
    expect(got).toEqual(expected.map((e) => e.route));

    // The properties §9 promises, checked directly as well.
    const byId = new Map(directory.workers.map((w) => [w.id, w]));
    const load = new Map<string, number>();
    requests.forEach((q, i) => {
      const r = got[i]!;
      if (r.to === 'worker') {
        const w = byId.get(r.workerId)!;
        expect(fits(w, q)).toBe(true);
        const before = load.get(w.id) ?? 0;
        // Over capacity only for an urgent request, and only when everyone who fits is full.
        if (before >= w.capacity) {
          expect(q.urgent).toBe(true);
          expect(directory.workers.filter((x) => fits(x, q)).every((x) => (load.get(x.id) ?? 0) >= x.capacity)).toBe(true);
        }
      }
      if (r.to === 'supervisor') expect(byId.get(r.workerId)!.areas.some((a) => a.region === q.region)).toBe(true);
      if (r.to !== 'none') load.set(r.workerId, (load.get(r.workerId) ?? 0) + 1);
    });
    const kinds = new Set(got.map((r) => r.to));
    expect(kinds).toEqual(new Set(['worker', 'supervisor', 'none']));
    for (const w of directory.workers) expect((await service.listOpenFor(w.id)).length).toBe(load.get(w.id) ?? 0);
  });
});
