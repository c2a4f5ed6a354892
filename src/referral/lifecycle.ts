/**
 * The referral machine applied to a stored referral, purely: restore its state, take one
 * event, and give back the next record (status, holder, times) — or nothing when the machine
 * does not allow the event now. Also which notices a change brings, and their event ids.
 * No store, no clock of its own (the caller passes `at`).
 *
 * The persisted state is `{ flowVersion, value, context }`. A record written by another flow
 * version is rebuilt from its own fields (status, holder, routing keys), so a changed machine
 * never strands a referral.
 */
import { getInitialSnapshot, getNextSnapshot, type SnapshotFrom } from 'xstate';
import { REFERRAL_FLOW_VERSION, referralMachine, statusOf, type ReferralContext, type ReferralInput, type ReferralMachineEvent } from '../../flows/referral/machine.js';
import { CLOSED } from './codec.js';
import type { FamilyNotice, Referral, ReferralAction, ReferralEvent, ReferralStatus, WorkerNotice } from './types.js';

export interface PersistedState {
  flowVersion: number;
  value: ReferralStatus;
  context: ReferralContext;
}

type Snapshot = SnapshotFrom<typeof referralMachine>;

const persist = (s: Snapshot): PersistedState => ({ flowVersion: REFERRAL_FLOW_VERSION, value: statusOf(s.value), context: s.context });

export function initialState(input: ReferralInput): PersistedState {
  return persist(getInitialSnapshot(referralMachine, input));
}

/** The machine state of a stored referral. */
export function restore(referral: Referral): Snapshot {
  const saved = referral.snapshot as Partial<PersistedState> | undefined;
  if (saved?.flowVersion === REFERRAL_FLOW_VERSION && saved.value && saved.context) return referralMachine.resolveState({ value: saved.value, context: saved.context });
  return referralMachine.resolveState({
    value: referral.status,
    context: {
      workerId: referral.workerId ?? null,
      supervisorId: referral.supervisorId ?? null,
      declinedBy: saved?.context?.declinedBy ?? [],
      reminders: referral.reminders,
      region: referral.region,
      district: referral.district ?? null,
      profile: referral.profile,
      declineReason: referral.declineReason ?? null,
      visitDate: referral.visitDate ?? null,
      outcome: referral.outcome ?? null,
    },
  });
}

/** Workers who declined or redirected it before. */
export const declinedBy = (referral: Referral): readonly string[] => restore(referral).context.declinedBy;

/** The record after `event` at `at`; undefined when the machine does not allow it now. */
export function applyEvent(referral: Referral, event: ReferralMachineEvent, at: number): Referral | undefined {
  const before = restore(referral);
  if (!before.can(event)) return undefined;
  const after = getNextSnapshot(referralMachine, before, event);
  const c = after.context;
  const status = statusOf(after.value);
  const next: Referral = { ...referral, status, snapshot: persist(after), region: c.region, profile: c.profile, reminders: c.reminders, updatedAt: at };
  const set = <K extends keyof Referral>(key: K, value: Referral[K] | null | undefined) => {
    if (value === null || value === undefined) delete next[key];
    else next[key] = value;
  };
  set('district', c.district);
  set('workerId', c.workerId);
  set('supervisorId', c.supervisorId);
  set('declineReason', c.declineReason);
  set('visitDate', c.visitDate);
  set('outcome', c.outcome);
  const acknowledging = event.type === 'ACCEPT' || event.type === 'DECLINE' || event.type === 'REDIRECT';
  if (acknowledging && referral.acknowledgedAt === undefined) next.acknowledgedAt = at;
  // A new holder (re-route, reassign) starts a new acknowledgement clock; parked, none runs.
  const holderChanged = c.workerId !== (referral.workerId ?? null) || (c.workerId === null && c.supervisorId !== (referral.supervisorId ?? null));
  if (status === 'requested' && (holderChanged || event.type === 'REASSIGN')) next.assignedAt = at;
  if (status === 'declined' || status === 'redirected') delete next.assignedAt;
  if (CLOSED.includes(status)) next.closedAt = at;
  return next;
}

/** The holder: the worker, or the supervisor it went to when nobody else could take it. */
export const holderOf = (r: Referral): string | undefined => r.workerId ?? r.supervisorId;

/** Event ids name the write they come with (its version): a retried write publishes nothing twice. */
export function workerEvent(referral: Referral, notice: WorkerNotice, to: string, version = referral.version + 1): ReferralEvent {
  return { id: `${referral.id}:${version}:w:${notice}:${to}`, kind: 'worker', notice, referralId: referral.id, to };
}

/** The family's notice, when the family is on Telegram (and has not withdrawn). */
export function familyEvents(referral: Referral, notices: FamilyNotice[], version = referral.version + 1): ReferralEvent[] {
  if (referral.familyChatId === undefined) return [];
  return notices.map((notice) => ({ id: `${referral.id}:${version}:f:${notice}`, kind: 'family', notice, referralId: referral.id }));
}

/**
 * A new holder without their asking (a supervisor's REASSIGN, a directory reload's REROUTE): the
 * old holder hears it went away, the new one gets the card. The family is told nothing: for them
 * the same referral goes on.
 */
export function reassignNotices(before: Referral, after: Referral): ReferralEvent[] {
  const old = holderOf(before);
  const now = holderOf(after);
  return [...(old && old !== now ? [workerEvent(after, 'reassigned_away', old)] : []), ...(now ? [workerEvent(after, 'reassigned_to_you', now)] : [])];
}

/** What people are told about an action the machine took (before → after). */
export function noticesFor(before: Referral, after: Referral, action: ReferralAction): ReferralEvent[] {
  switch (action.type) {
    case 'ACCEPT':
      return familyEvents(after, ['accepted', 'contact_soon']);
    case 'VISIT_PLANNED':
      return familyEvents(after, ['visit_planned']);
    case 'COMPLETE':
      return familyEvents(after, [after.status === 'failed' ? 'not_reached' : 'completed']);
    case 'DECLINE':
    case 'REDIRECT': {
      const holder = holderOf(after);
      if (after.status === 'requested' && holder) return [workerEvent(after, 'new', holder), ...familyEvents(after, ['rerouted'])];
      return familyEvents(after, ['not_routed']);
    }
    case 'REASSIGN':
      return reassignNotices(before, after);
    default:
      return [];
  }
}

/** The audit detail of an action: reasons, outcomes, worker ids — never free text. */
export function auditDetail(action: ReferralAction, after: Referral): { detail?: string } {
  const to = holderOf(after) ?? 'none';
  switch (action.type) {
    case 'DECLINE':
      return { detail: `${action.reason}→${to}` };
    case 'REDIRECT':
      return { detail: `${after.region}/${after.profile}→${to}` };
    case 'COMPLETE':
      return { detail: action.outcome };
    case 'REASSIGN':
      return { detail: action.workerId };
    case 'VISIT_PLANNED':
      return { detail: action.date };
    default:
      return {};
  }
}
