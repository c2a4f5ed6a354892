/**
 * The acknowledgement clock of a referral, counted in working time (Asia/Almaty): a holder who
 * has neither accepted, declined nor redirected `ackMinutes` after getting it is reminded; at
 * twice that the referral is escalated to the territory's supervisor. The deadlines live in the
 * store (absolute, durable); what is due is decided from the referral itself, so a timer that
 * fires late, early or twice does nothing wrong.
 */
import type { WorkingHours } from '../handoff/hours.js';
import { route } from './routing.js';
import type { Directory, Referral, Route } from './types.js';

/** A taken timer is re-armed this far ahead, in case its taker dies before handling it. */
export const TIMER_LEASE_MS = 5 * 60_000;

export interface AckClock {
  hours: WorkingHours;
  ackMinutes: number;
}

export type AckStep = { kind: 'remind' | 'escalate'; dueAt: number } | { kind: 'wait'; dueAt: number } | { kind: 'none' };

/** The next clock step of a referral: its deadline, and what happens then. */
export function nextAckStep(clock: AckClock, referral: Referral): AckStep {
  if (referral.status !== 'requested' || referral.assignedAt === undefined || referral.reminders >= 2) return { kind: 'none' };
  if (!referral.workerId && !referral.supervisorId) return { kind: 'none' };
  const dueAt = clock.hours.deadline(referral.assignedAt, clock.ackMinutes * (referral.reminders + 1));
  return { kind: referral.reminders === 0 ? 'remind' : 'escalate', dueAt };
}

/** What to do now: the step when its deadline passed, or wait until it. */
export function ackStepAt(clock: AckClock, referral: Referral, now: number): AckStep {
  const step = nextAckStep(clock, referral);
  if (step.kind === 'none' || step.dueAt <= now) return step;
  return { kind: 'wait', dueAt: step.dueAt };
}

/**
 * The territory's supervisor, by routing's own rule (SPEC §9 step 3: a supervisor whose areas
 * cover the region, least loaded, file order on ties): routing over the supervisors alone
 * always ends at that step.
 */
export function supervisorFor(directory: Directory, referral: Referral, openCount: (workerId: string) => number): string | undefined {
  const supervisors: Directory = { ...directory, workers: directory.workers.filter((w) => w.role === 'supervisor') };
  const r: Route = route(supervisors, { id: referral.id, region: referral.region, ...(referral.district ? { district: referral.district } : {}), profile: referral.profile, language: referral.lang, urgent: referral.urgent }, openCount);
  return r.to === 'supervisor' ? r.workerId : undefined;
}
