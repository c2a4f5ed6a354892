/**
 * Who may see and act on a referral: the linked worker who holds it, or a supervisor whose
 * areas cover its territory (REASSIGN: supervisors only). A Telegram user is resolved through
 * the worker links; one who is not linked is named in the audit by a pseudonym, never by id.
 * Psychologists' notes are for psychologists only (SPEC §8).
 */
import { createHash } from 'node:crypto';
import { holderOf } from './lifecycle.js';
import type { DirectoryWorker, Referral, ReferralActor, ReferralCaller, Refusal } from './types.js';

export type Access = { ok: true; workerId: string | undefined; who: string } | { ok: false; refusal: Refusal; who: string };

/** A Telegram user who is not linked, as the audit names them. */
export const userRef = (userId: number): string => `user:${createHash('sha256').update(`tg:${userId}`).digest('hex').slice(0, 12)}`;

/** Who did it, as the audit says it. */
export const auditName = (actor: ReferralActor): string => (actor.kind === 'worker' ? `worker:${actor.workerId}` : actor.kind);

/** A supervisor whose areas cover the referral's region (and district, when both name one). */
export function supervises(entry: DirectoryWorker, referral: Referral): boolean {
  return (
    entry.role === 'supervisor' &&
    entry.areas.some((a) => a.region === referral.region && (a.district === undefined || referral.district === undefined || a.district === referral.district))
  );
}

export async function authorize(
  referral: Referral,
  caller: ReferralCaller,
  opts: { supervisorsOnly: boolean; workers: ReadonlyMap<string, DirectoryWorker>; workerOf: (userId: number) => Promise<string | undefined> },
): Promise<Access> {
  let workerId: string;
  if (caller.kind === 'user') {
    const linked = await opts.workerOf(caller.userId);
    if (linked === undefined) return { ok: false, refusal: 'not_linked', who: userRef(caller.userId) };
    workerId = linked;
  } else if (caller.kind === 'worker') {
    workerId = caller.workerId;
  } else if (caller.kind === 'system') {
    return { ok: true, workerId: undefined, who: 'system' };
  } else {
    // Families and operators act through their own paths (create, /forget), never on a worker's referral.
    return { ok: false, refusal: 'not_yours', who: auditName(caller) };
  }
  const who = `worker:${workerId}`;
  const entry = opts.workers.get(workerId);
  if (!entry) return { ok: false, refusal: 'not_yours', who };
  const holds = holderOf(referral) === workerId;
  const allowed = opts.supervisorsOnly ? supervises(entry, referral) : holds || supervises(entry, referral);
  return allowed ? { ok: true, workerId, who } : { ok: false, refusal: 'not_yours', who };
}

/** The referral as a viewer may see it: a psychologist referral's note only for psychologists. */
export function redactFor(referral: Referral, viewer: DirectoryWorker | undefined): Referral {
  if (referral.profile !== 'psychologist' || !referral.packet?.note) return referral;
  if (viewer?.profiles.includes('psychologist')) return referral;
  const { note: _note, ...packet } = referral.packet;
  return { ...referral, packet };
}
