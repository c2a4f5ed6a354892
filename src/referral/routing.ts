/**
 * Referral routing, SPEC §9, exactly: fit, then room, then a supervisor. Pure — the
 * directory, the request and the open-referral counts come in, a route goes out — so the
 * bot and the CLI route the same way.
 */
import { entryName, issueLines, requestSchema } from './directory-schema.js';
import type { Area, Directory, DirectoryWorker, Route, RoutingRequest } from './types.js';

/** An area covers a place when the regions match, and the districts too when both name one. */
export function covers(area: Area, region: string, district?: string): boolean {
  return area.region === region && (area.district === undefined || district === undefined || area.district === district);
}

/** §9 step 1: the worker's areas cover the place, they have the profile and the language, and are a `worker`. */
export function fits(worker: DirectoryWorker, request: RoutingRequest): boolean {
  return (
    worker.role === 'worker' &&
    worker.profiles.includes(request.profile) &&
    worker.languages.includes(request.language) &&
    worker.areas.some((a) => covers(a, request.region, request.district))
  );
}

/** §9 step 3: a supervisor whose areas take in the region (§9 names the region only: any district of it will do). */
export function supervisesRegion(worker: DirectoryWorker, region: string): boolean {
  return worker.role === 'supervisor' && worker.areas.some((a) => a.region === region);
}

/** The least loaded; the first in file order among equals. */
function leastLoaded(workers: DirectoryWorker[], openCount: (workerId: string) => number): DirectoryWorker | undefined {
  let best: DirectoryWorker | undefined;
  let bestLoad = Infinity;
  for (const w of workers) {
    const load = openCount(w.id);
    if (load < bestLoad) [best, bestLoad] = [w, load];
  }
  return best;
}

/** Routes one request, given each worker's open referrals now. */
export function route(directory: Directory, request: RoutingRequest, openCount: (workerId: string) => number): Route {
  const fit = directory.workers.filter((w) => fits(w, request));
  const withRoom = fit.filter((w) => openCount(w.id) < w.capacity);
  // Urgent work is never parked with a supervisor while someone who fits exists.
  const worker = leastLoaded(withRoom.length ? withRoom : request.urgent ? fit : [], openCount);
  if (worker) return { to: 'worker', workerId: worker.id };
  const supervisors = directory.workers.filter((w) => supervisesRegion(w, request.region));
  const supervisor = leastLoaded(supervisors, openCount);
  return supervisor ? { to: 'supervisor', workerId: supervisor.id } : { to: 'none' };
}

export interface Routed {
  request: RoutingRequest;
  route: Route;
}

/**
 * Routes requests in order, each assignment (a supervisor's too) counting against the
 * assignee for the ones after it. `openCount` gives what was open before; nothing by default.
 */
export function routeAll(directory: Directory, requests: readonly RoutingRequest[], openCount: (workerId: string) => number = () => 0): Routed[] {
  const added = new Map<string, number>();
  const load = (id: string) => openCount(id) + (added.get(id) ?? 0);
  return requests.map((request) => {
    const r = route(directory, request, load);
    if (r.to !== 'none') added.set(r.workerId, (added.get(r.workerId) ?? 0) + 1);
    return { request, route: r };
  });
}

/** SPEC §9's output: `<request id>\t<worker id | supervisor:<id> | none>` per request, then the counts. */
export function formatRoutes(results: readonly Routed[]): string {
  const target = (r: Route) => (r.to === 'worker' ? r.workerId : r.to === 'supervisor' ? `supervisor:${r.workerId}` : 'none');
  const count = (to: Route['to']) => results.filter((x) => x.route.to === to).length;
  return [...results.map((x) => `${x.request.id}\t${target(x.route)}`), `${count('worker')} routed, ${count('supervisor')} to supervisors, ${count('none')} unrouted`].join('\n');
}

export class RequestsError extends Error {
  override name = 'RequestsError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/**
 * Reads routing requests from parsed YAML: a list, or `{ requests: [...] }`. `where` names the
 * file in errors; every problem is listed, each naming the entry.
 */
export function parseRequests(raw: unknown, where: string, regions: readonly string[]): RoutingRequest[] {
  const list = Array.isArray(raw) ? raw : (raw as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(list) || (!Array.isArray(raw) && Object.keys(raw as object).length !== 1)) throw new RequestsError([`${where}: expected a list of requests, or { requests: [...] }`]);
  const schema = requestSchema(regions);
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const requests: RoutingRequest[] = [];
  list.forEach((entry, i) => {
    const at = `${where}: ${entryName('requests', i, entry)}`;
    const r = schema.safeParse(entry);
    if (!r.success) return problems.push(...issueLines(r.error, at));
    const first = seen.get(r.data.id);
    if (first) return problems.push(`${at}: duplicate id ${r.data.id} (first at ${first})`);
    seen.set(r.data.id, at);
    const { district, ...rest } = r.data;
    requests.push(district === undefined ? rest : { ...rest, district });
  });
  if (problems.length) throw new RequestsError(problems);
  return requests;
}
