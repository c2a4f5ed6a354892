import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { regionIds } from '../../src/referral/directory.js';
import { RequestsError, covers, fits, formatRoutes, parseRequests, route, routeAll } from '../../src/referral/routing.js';
import { PROFILES, WORKER_LANGS, type Area, type Directory, type DirectoryWorker, type Profile, type Route, type RoutingRequest, type WorkerLang } from '../../src/referral/types.js';
import { mulberry32 } from '../helpers/prng.js';

const worker = (id: string, over: Partial<DirectoryWorker> = {}): DirectoryWorker => ({
  id,
  organization: 'org',
  role: 'worker',
  profiles: ['assessment'],
  languages: ['kk', 'ru'],
  areas: [{ region: 'astana' }],
  capacity: 2,
  ...over,
});
const supervisor = (id: string, over: Partial<DirectoryWorker> = {}) => worker(id, { role: 'supervisor', profiles: [], capacity: 50, ...over });
const dir = (...workers: DirectoryWorker[]): Directory => ({ organizations: [{ id: 'org', name: { kk: 'о', ru: 'о', en: 'o' }, areas: [{ region: 'astana' }] }], workers, example: true });
const req = (over: Partial<RoutingRequest> = {}): RoutingRequest => ({ id: 'r1', region: 'astana', profile: 'assessment', language: 'kk', urgent: false, ...over });
const loads = (counts: Record<string, number>) => (id: string) => counts[id] ?? 0;
const none = () => 0;

describe('§9 step 1: fit', () => {
  it('needs the region', () => {
    expect(route(dir(worker('a', { areas: [{ region: 'karaganda' }] })), req(), none)).toEqual({ to: 'none' });
    expect(route(dir(worker('a', { areas: [{ region: 'karaganda' }, { region: 'astana' }] })), req(), none)).toEqual({ to: 'worker', workerId: 'a' });
  });

  it('needs the district when both name one; either without a district matches on the region', () => {
    const inYesil = worker('a', { areas: [{ region: 'astana', district: 'yesil' }] });
    expect(route(dir(inYesil), req({ district: 'saryarka' }), none)).toEqual({ to: 'none' });
    expect(route(dir(inYesil), req({ district: 'yesil' }), none)).toEqual({ to: 'worker', workerId: 'a' });
    expect(route(dir(inYesil), req(), none)).toEqual({ to: 'worker', workerId: 'a' });
    expect(route(dir(worker('b')), req({ district: 'saryarka' }), none)).toEqual({ to: 'worker', workerId: 'b' });
    expect(covers({ region: 'astana', district: 'yesil' }, 'astana', 'nura')).toBe(false);
    expect(covers({ region: 'astana' }, 'karaganda')).toBe(false);
  });

  it('needs the profile and the language', () => {
    const d = dir(worker('ru-only', { languages: ['ru'] }), worker('kk-elderly', { profiles: ['elderly_care'], languages: ['kk'] }), worker('fits', { profiles: ['disability', 'elderly_care'] }));
    expect(route(d, req({ profile: 'elderly_care', language: 'ru' }), none)).toEqual({ to: 'worker', workerId: 'fits' });
    expect(route(d, req({ profile: 'elderly_care', language: 'kk' }), none)).toEqual({ to: 'worker', workerId: 'kk-elderly' });
    expect(route(d, req({ profile: 'assessment', language: 'ru' }), none)).toEqual({ to: 'worker', workerId: 'ru-only' });
    expect(route(d, req({ profile: 'violence' }), none)).toEqual({ to: 'none' });
  });

  it('never gives a supervisor a request as a worker, even with the profile', () => {
    const d = dir(supervisor('s', { profiles: ['assessment'] }));
    expect(fits(d.workers[0]!, req())).toBe(false);
    expect(route(d, req(), none)).toEqual({ to: 'supervisor', workerId: 's' });
  });
});

describe('§9 step 2: room', () => {
  it('gives the request to the least loaded among those below capacity', () => {
    const d = dir(worker('a', { capacity: 5 }), worker('b', { capacity: 5 }), worker('c', { capacity: 5 }));
    expect(route(d, req(), loads({ a: 3, b: 1, c: 2 }))).toEqual({ to: 'worker', workerId: 'b' });
  });

  it('breaks ties by file order', () => {
    const d = dir(worker('a', { capacity: 5 }), worker('b', { capacity: 5 }), worker('c', { capacity: 5 }));
    expect(route(d, req(), loads({ a: 2, b: 1, c: 1 }))).toEqual({ to: 'worker', workerId: 'b' });
    expect(route(dir(worker('c'), worker('b'), worker('a')), req(), none)).toEqual({ to: 'worker', workerId: 'c' });
  });

  it('skips a less loaded worker who is at capacity', () => {
    const d = dir(worker('small', { capacity: 1 }), worker('big', { capacity: 10 }));
    expect(route(d, req(), loads({ small: 1, big: 6 }))).toEqual({ to: 'worker', workerId: 'big' });
    // Urgent too: room comes first.
    expect(route(d, req({ urgent: true }), loads({ small: 1, big: 6 }))).toEqual({ to: 'worker', workerId: 'big' });
  });

  it('sends an urgent request to the least loaded who fits when all are at capacity, file order on ties', () => {
    const d = dir(worker('a', { capacity: 1 }), worker('b', { capacity: 3 }), worker('c', { capacity: 2 }), supervisor('s'));
    expect(route(d, req({ urgent: true }), loads({ a: 4, b: 3, c: 3 }))).toEqual({ to: 'worker', workerId: 'b' });
    expect(route(d, req({ urgent: true }), loads({ a: 3, b: 3, c: 3 }))).toEqual({ to: 'worker', workerId: 'a' });
    expect(route(d, req({ urgent: false }), loads({ a: 3, b: 3, c: 3 }))).toEqual({ to: 'supervisor', workerId: 's' });
  });
});

describe('§9 step 3: nobody', () => {
  it('goes to the least loaded supervisor of the region, file order on ties', () => {
    const d = dir(worker('full', { capacity: 1 }), supervisor('s1'), supervisor('s2'), supervisor('elsewhere', { areas: [{ region: 'karaganda' }] }));
    expect(route(d, req(), loads({ full: 1 }))).toEqual({ to: 'supervisor', workerId: 's1' });
    expect(route(d, req(), loads({ full: 1, s1: 2, s2: 1, elsewhere: 0 }))).toEqual({ to: 'supervisor', workerId: 's2' });
    expect(route(d, req({ profile: 'violence', urgent: true }), loads({ s1: 1, s2: 1 }))).toEqual({ to: 'supervisor', workerId: 's1' });
  });

  it('takes a supervisor whose areas cover the region, whatever the district', () => {
    const d = dir(supervisor('s', { areas: [{ region: 'astana', district: 'yesil' }] }));
    expect(route(d, req({ district: 'saryarka' }), none)).toEqual({ to: 'supervisor', workerId: 's' });
  });

  it('is none when no supervisor covers the region', () => {
    const d = dir(worker('a', { areas: [{ region: 'karaganda' }] }), supervisor('s', { areas: [{ region: 'karaganda' }] }));
    expect(route(d, req(), none)).toEqual({ to: 'none' });
  });
});

describe('routeAll and the output', () => {
  it('counts each assignment against capacity for the ones after it, supervisors\' too', () => {
    const d = dir(worker('a', { capacity: 1 }), worker('b', { capacity: 2 }), supervisor('s1'), supervisor('s2'));
    const requests = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((id) => req({ id }));
    const routes = routeAll(d, requests).map((x) => x.route);
    expect(routes).toEqual([
      { to: 'worker', workerId: 'a' },
      { to: 'worker', workerId: 'b' },
      { to: 'worker', workerId: 'b' },
      { to: 'supervisor', workerId: 's1' },
      { to: 'supervisor', workerId: 's2' },
      { to: 'supervisor', workerId: 's1' },
    ]);
  });

  it('adds to what was open before', () => {
    const d = dir(worker('a', { capacity: 2 }), worker('b', { capacity: 2 }));
    expect(routeAll(d, [req({ id: 'r1' }), req({ id: 'r2' })], loads({ a: 1 })).map((x) => x.route)).toEqual([
      { to: 'worker', workerId: 'b' },
      { to: 'worker', workerId: 'a' },
    ]);
  });

  it('prints one line per request and the counts', () => {
    const d = dir(worker('w-1', { capacity: 1 }), supervisor('s-1', { areas: [{ region: 'astana' }] }));
    const results = routeAll(d, [req({ id: 'a' }), req({ id: 'b' }), req({ id: 'c', region: 'karaganda' }), req({ id: 'd', urgent: true })]);
    expect(formatRoutes(results)).toBe('a\tw-1\nb\tsupervisor:s-1\nc\tnone\nd\tw-1\n2 routed, 1 to supervisors, 1 unrouted');
    expect(formatRoutes([])).toBe('0 routed, 0 to supervisors, 0 unrouted');
  });
});

describe('reading requests', () => {
  const regions = ['astana', 'karaganda'];
  it('takes a list or { requests: [...] }', () => {
    const list = [{ id: 'r1', region: 'astana', district: 'yesil', profile: 'violence', language: 'ru', urgent: true }, { id: 'r2', region: 'karaganda', profile: 'assessment', language: 'kk', urgent: false }];
    expect(parseRequests(list, 'f.yaml', regions)).toEqual(list);
    expect(parseRequests({ requests: list }, 'f.yaml', regions)).toEqual(list);
    expect('district' in parseRequests(list, 'f.yaml', regions)[1]!).toBe(false);
  });

  it('lists every bad entry, naming the file and the entry', () => {
    const bad = [
      { id: 'r1', region: 'mars', profile: 'elder', language: 'en', urgent: 'yes' },
      { id: 'r2', region: 'astana', profile: 'assessment', language: 'kk', urgent: false },
      { id: 'r2', region: 'astana', profile: 'assessment', language: 'kk', urgent: false },
      { region: 'astana', profile: 'assessment', language: 'kk' },
      { id: 'r5', region: 'astana', district: 'Yesil', profile: 'assessment', language: 'kk', urgent: false, name: 'Aigul' },
    ];
    let error: unknown;
    try {
      parseRequests(bad, 'f.yaml', regions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequestsError);
    expect((error as RequestsError).problems).toEqual([
      'f.yaml: requests[0] (r1): region: unknown region "mars"',
      'f.yaml: requests[0] (r1): profile: unknown profile "elder"',
      'f.yaml: requests[0] (r1): language: unknown language "en"',
      'f.yaml: requests[0] (r1): urgent: must be true or false',
      'f.yaml: requests[2] (r2): duplicate id r2 (first at f.yaml: requests[1] (r2))',
      'f.yaml: requests[3]: id: missing',
      'f.yaml: requests[3]: urgent: must be true or false',
      'f.yaml: requests[4] (r5): district: must be lower-case letters, digits and _',
      'f.yaml: requests[4] (r5): unknown field "name"',
    ]);
  });

  it('rejects something that is not a list of requests', () => {
    expect(() => parseRequests({ id: 'r1' }, 'f.yaml', regions)).toThrow('f.yaml: expected a list of requests, or { requests: [...] }');
    expect(() => parseRequests(null, 'f.yaml', regions)).toThrow(RequestsError);
  });
});

// ── Properties ──────────────────────────────────────────────────────────────

/**
 * A second, deliberately plain reading of §9 to compare with: sort the candidates by
 * (open, position in the file) and take the first that qualifies.
 */
function referenceRouteAll(directory: Directory, requests: RoutingRequest[]): Route[] {
  const open = new Map<string, number>(directory.workers.map((w) => [w.id, 0]));
  const byLoad = (ws: { w: DirectoryWorker; i: number }[]) => [...ws].sort((x, y) => open.get(x.w.id)! - open.get(y.w.id)! || x.i - y.i);
  const indexed = directory.workers.map((w, i) => ({ w, i }));
  return requests.map((r) => {
    const candidates = byLoad(
      indexed.filter(({ w }) => {
        if (w.role !== 'worker' || !w.profiles.includes(r.profile) || !w.languages.includes(r.language)) return false;
        for (const a of w.areas) {
          if (a.region !== r.region) continue;
          if (a.district && r.district && a.district !== r.district) continue;
          return true;
        }
        return false;
      }),
    );
    const chosen = candidates.find(({ w }) => open.get(w.id)! < w.capacity) ?? (r.urgent ? candidates[0] : undefined);
    let result: Route;
    if (chosen) result = { to: 'worker', workerId: chosen.w.id };
    else {
      const sup = byLoad(indexed.filter(({ w }) => w.role === 'supervisor' && w.areas.some((a) => a.region === r.region)))[0];
      result = sup ? { to: 'supervisor', workerId: sup.w.id } : { to: 'none' };
    }
    if (result.to !== 'none') open.set(result.workerId, open.get(result.workerId)! + 1);
    return result;
  });
}

const DISTRICTS = ['d1', 'd2', 'd3'];

/** A directory across the given regions and matching requests, from a seed. */
function scenario(seed: number, regions: string[], requestCount: number): { directory: Directory; requests: RoutingRequest[] } {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const some = <T>(xs: readonly T[]): T[] => {
    const chosen = xs.filter(() => rand() < 0.4);
    return chosen.length ? chosen : [pick(xs)];
  };
  const area = (region: string): Area => (rand() < 0.5 ? { region } : { region, district: pick(DISTRICTS) });
  const workers: DirectoryWorker[] = [];
  regions.forEach((region, r) => {
    const count = Math.floor(rand() * 7);
    for (let i = 0; i < count; i++) {
      const areas = rand() < 0.15 ? [area(region), area(pick(regions))] : [area(region)];
      workers.push({ id: `w-${r}-${i}`, organization: 'org', role: 'worker', profiles: some(PROFILES), languages: some(WORKER_LANGS), areas, capacity: 1 + Math.floor(rand() * 5) });
    }
    // Some regions have no supervisor, some have two.
    const supervisors = rand() < 0.2 ? 0 : rand() < 0.8 ? 1 : 2;
    for (let i = 0; i < supervisors; i++) workers.push({ id: `s-${r}-${i}`, organization: 'org', role: 'supervisor', profiles: [], languages: ['kk', 'ru'], areas: [area(region)], capacity: 40 });
  });
  // Shuffle so file order is not grouped by region.
  for (let i = workers.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [workers[i], workers[j]] = [workers[j]!, workers[i]!];
  }
  const requests = Array.from({ length: requestCount }, (_, i): RoutingRequest => {
    const r: RoutingRequest = { id: `r${i}`, region: pick(regions), profile: pick(PROFILES), language: pick(WORKER_LANGS), urgent: rand() < 0.2 };
    return rand() < 0.6 ? { ...r, district: pick(DISTRICTS) } : r;
  });
  return { directory: { organizations: [], workers, example: true }, requests };
}

/** Replays the routes and checks §9's promises at each step; returns how many urgent requests went over capacity. */
function checkPromises(directory: Directory, requests: RoutingRequest[], routes: Route[]): number {
  const open = new Map<string, number>();
  const load = (id: string) => open.get(id) ?? 0;
  let overCapacity = 0;
  requests.forEach((r, i) => {
    const got = routes[i]!;
    const fitting = directory.workers.filter((w) => fits(w, r));
    const withRoom = fitting.filter((w) => load(w.id) < w.capacity);
    if (got.to === 'worker') {
      const w = directory.workers.find((x) => x.id === got.workerId)!;
      expect(w.role).toBe('worker');
      expect(w.profiles).toContain(r.profile);
      expect(w.languages).toContain(r.language);
      expect(w.areas.some((a) => a.region === r.region && (!a.district || !r.district || a.district === r.district))).toBe(true);
      if (load(w.id) >= w.capacity) {
        expect(r.urgent).toBe(true);
        expect(withRoom).toEqual([]);
        overCapacity++;
      }
      const pool = withRoom.length ? withRoom : fitting;
      expect(load(w.id)).toBe(Math.min(...pool.map((x) => load(x.id))));
    } else {
      // Nobody took it: nobody fit with room, and for an urgent request nobody fit at all.
      expect(withRoom).toEqual([]);
      if (r.urgent) expect(fitting).toEqual([]);
      const supervisors = directory.workers.filter((w) => w.role === 'supervisor' && w.areas.some((a) => a.region === r.region));
      if (got.to === 'none') expect(supervisors).toEqual([]);
      else expect(supervisors.map((s) => s.id)).toContain(got.workerId);
    }
    if (got.to !== 'none') open.set(got.workerId, load(got.workerId) + 1);
  });
  for (const w of directory.workers) {
    if (w.role !== 'worker' || load(w.id) <= w.capacity) continue;
    // Any load beyond capacity is made of urgent requests only.
    const nonUrgent = requests.filter((r, i) => !r.urgent && routes[i]!.to === 'worker' && (routes[i] as { workerId: string }).workerId === w.id).length;
    expect(nonUrgent).toBeLessThanOrEqual(w.capacity);
  }
  return overCapacity;
}

describe('routing properties', () => {
  const regions = regionIds();

  it('routes 1,000 requests across 20 regions within capacity (but for urgent ones), by fit, and as the reference does', () => {
    expect(regions).toHaveLength(20);
    const totals = { worker: 0, supervisor: 0, none: 0, overCapacity: 0 };
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const { directory, requests } = scenario(seed, regions, 1000);
      const routes = routeAll(directory, requests).map((x) => x.route);
      expect(routes).toEqual(referenceRouteAll(directory, requests));
      totals.overCapacity += checkPromises(directory, requests, routes);
      for (const r of routes) totals[r.to]++;
    }
    // The scenarios reach every branch, or the checks above would prove little.
    expect(totals.worker).toBeGreaterThan(1000);
    expect(totals.supervisor).toBeGreaterThan(1000);
    expect(totals.none).toBeGreaterThan(100);
    expect(totals.overCapacity).toBeGreaterThan(50);
  });

  it('agrees with the reference on small random directories (fast-check)', () => {
    const small = ['astana', 'karaganda', 'abai'];
    const areaArb = fc.record({ region: fc.constantFrom(...small), district: fc.option(fc.constantFrom(...DISTRICTS), { nil: undefined }) }).map(({ region, district }): Area => (district ? { region, district } : { region }));
    const workerArb = fc.record({
      role: fc.constantFrom('worker' as const, 'worker' as const, 'supervisor' as const),
      profiles: fc.subarray([...PROFILES], { minLength: 1 }) as fc.Arbitrary<Profile[]>,
      languages: fc.subarray([...WORKER_LANGS], { minLength: 1 }) as fc.Arbitrary<WorkerLang[]>,
      areas: fc.array(areaArb, { minLength: 1, maxLength: 2 }),
      capacity: fc.integer({ min: 1, max: 3 }),
    });
    const requestArb = fc.record({
      region: fc.constantFrom(...small),
      district: fc.option(fc.constantFrom(...DISTRICTS), { nil: undefined }),
      profile: fc.constantFrom(...PROFILES),
      language: fc.constantFrom(...WORKER_LANGS),
      urgent: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(workerArb, { maxLength: 8 }), fc.array(requestArb, { maxLength: 30 }), (ws, rs) => {
        const directory: Directory = { organizations: [], workers: ws.map((w, i) => ({ ...w, id: `w${i}`, organization: 'org' })), example: true };
        const requests = rs.map(({ district, ...r }, i): RoutingRequest => (district ? { ...r, district, id: `r${i}` } : { ...r, id: `r${i}` }));
        const routes = routeAll(directory, requests).map((x) => x.route);
        expect(routes).toEqual(referenceRouteAll(directory, requests));
        checkPromises(directory, requests, routes);
      }),
      { numRuns: 300, seed: 20261203 },
    );
  });
});
