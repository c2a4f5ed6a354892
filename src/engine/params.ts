/** Dated, region-scoped parameters (SPEC §0.3, §6): the value in force on a date, or none. */
import type { DatedValue, Params } from './types.js';

export function valueInForce(params: Params, paramId: string, region: string, date: string): DatedValue | undefined {
  const entries = params[paramId]?.[region] ?? [];
  // The latest `from` that is on or before the date wins; ISO dates compare as strings.
  let best: DatedValue | undefined;
  for (const e of entries) {
    if (e.from <= date && (e.to === undefined || date <= e.to) && (!best || e.from > best.from)) best = e;
  }
  return best;
}

/** True when some region has a value in force on the date (so the region can still matter). */
export function anyRegionInForce(params: Params, paramId: string, date: string): boolean {
  return Object.keys(params[paramId] ?? {}).some((region) => valueInForce(params, paramId, region, date) !== undefined);
}

/** Merges parameter sets; later sets replace a region's list of values entirely. */
export function mergeParams(...sets: (Params | undefined)[]): Params {
  const out: Params = {};
  for (const set of sets) {
    for (const [paramId, byRegion] of Object.entries(set ?? {})) {
      out[paramId] = { ...(out[paramId] ?? {}), ...byRegion };
    }
  }
  return out;
}

/**
 * Lays run-time values (set by an admin, kept in Redis) over the files' values. Unlike
 * mergeParams, a region keeps the file's dated values: an overlay value replaces only the
 * one with the same `from`, and otherwise joins the list, so the latest `from` on or before a
 * date is still the one in force.
 */
export function overlayParams(base: Params, over: Params): Params {
  const out: Params = {};
  for (const [paramId, byRegion] of Object.entries(base)) out[paramId] = { ...byRegion };
  for (const [paramId, byRegion] of Object.entries(over)) {
    const target = (out[paramId] ??= {});
    for (const [region, values] of Object.entries(byRegion)) {
      const froms = new Set(values.map((v) => v.from));
      target[region] = [...(target[region] ?? []).filter((v) => !froms.has(v.from)), ...values].sort((a, b) => a.from.localeCompare(b.from));
    }
  }
  return out;
}
