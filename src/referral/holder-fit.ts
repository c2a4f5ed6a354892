/**
 * Whether a referral's holder still fits it under a directory, by SPEC §9's own rules: a
 * worker by step 1 (areas, profile, language, role `worker`), a supervisor holding it by step 3
 * (a supervisor of its region). After a directory reload, the open referrals of holders who no
 * longer fit are routed again (ReferralService.reloadDirectory). Pure.
 */
import { fits, supervisesRegion } from './routing.js';
import type { DirectoryWorker, Referral, RoutingRequest } from './types.js';

/** The §9 routing input a referral stands for now (its territory and profile may have been redirected). */
export function requestOf(referral: Referral): RoutingRequest {
  return {
    id: referral.id,
    region: referral.region,
    ...(referral.district ? { district: referral.district } : {}),
    profile: referral.profile,
    language: referral.lang,
    urgent: referral.urgent,
  };
}

/**
 * True when someone holds the referral and the directory no longer lets them: gone from it,
 * without its profile, language or area, or a worker turned supervisor (or the reverse).
 * A referral nobody holds (parked) has nobody to outgrow.
 */
export function holderNoLongerFits(referral: Referral, entryOf: (workerId: string) => DirectoryWorker | undefined): boolean {
  if (referral.workerId !== undefined) {
    const worker = entryOf(referral.workerId);
    return !worker || !fits(worker, requestOf(referral));
  }
  if (referral.supervisorId !== undefined) {
    const supervisor = entryOf(referral.supervisorId);
    return !supervisor || !supervisesRegion(supervisor, referral.region);
  }
  return false;
}
