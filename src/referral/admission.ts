/**
 * The admission routes a referral carries (SPEC §1): who decides admission to the
 * services of the grounds the screening suggests, from the catalogue's grounds.
 * For the worker only: the family is never told to apply by a route it cannot start.
 */
import type { AdmissionRoute, Catalogue, Status } from '../engine/types.js';

/** Routes of the grounds indicated, each once, in the catalogue's order of grounds. */
export function admissionRoutesOf(catalogue: Catalogue, grounds: readonly { id: string; status: Status }[]): AdmissionRoute[] {
  const indicated = new Set(grounds.filter((g) => g.status === 'indicated').map((g) => g.id));
  return [...new Set(catalogue.grounds.filter((g) => indicated.has(g.id)).flatMap((g) => g.admission ?? []))];
}
