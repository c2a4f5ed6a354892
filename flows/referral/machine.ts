/**
 * The lifecycle of one referral, with FHIR Task statuses. Only this machine decides a
 * referral's status; the store writes what it decided (compare-and-set on the version).
 *
 *   requested ──ACCEPT──▶ accepted ──CONTACTED | VISIT_PLANNED──▶ in-progress ──COMPLETE──▶ completed
 *     │  ▲                   │                                        │         (could_not_reach → failed)
 *     │  └─DECLINE/REDIRECT──┘ (re-routed: back to requested with a new holder)
 *     ├─DECLINE/REDIRECT, nobody to take it──▶ declined | redirected ──REASSIGN──▶ requested
 *     └─REMIND / ESCALATE (clock)                 any open ──CANCEL──▶ cancelled
 *   any open or declined/redirected ──REASSIGN (supervisor)──▶ requested
 *   any open ──REROUTE (the directory changed under the holder; routed again)──▶ requested
 *
 * Re-routing model: one referral (one id the family knows) carries one assignment at a time.
 * FHIR would close the rejected Task and open a new one; we keep the id and record each
 * declined/redirected assignment in the audit stream, so the same facts are kept. The routing
 * itself (SPEC §9) is computed by the service and handed in with the event: the machine stays pure.
 */
import { assertEvent, assign, setup } from 'xstate';
import type { DeclineReason, Profile, ReferralOutcome, ReferralStatus, Route } from '../../src/referral/types.js';

export const REFERRAL_FLOW_VERSION = 1;

export interface ReferralContext {
  workerId: string | null;
  supervisorId: string | null;
  /** Workers who declined or redirected it: not routed to again. */
  declinedBy: string[];
  reminders: number;
  region: string;
  district: string | null;
  profile: Profile;
  declineReason: DeclineReason | null;
  visitDate: string | null;
  outcome: ReferralOutcome | null;
}

export type ReferralMachineEvent =
  | { type: 'ACCEPT' }
  | { type: 'DECLINE'; reason: DeclineReason; by: string; route: Route }
  | { type: 'REDIRECT'; by: string; region: string; district?: string; profile: Profile; route: Route }
  | { type: 'CONTACTED' }
  | { type: 'VISIT_PLANNED'; date: string }
  | { type: 'COMPLETE'; outcome: ReferralOutcome }
  | { type: 'REASSIGN'; workerId: string }
  /** The holder no longer fits the directory: §9 again. A route to nobody is not taken (the referral stays). */
  | { type: 'REROUTE'; route: Route }
  | { type: 'REMIND' }
  | { type: 'ESCALATE'; supervisorId: string | null }
  | { type: 'CANCEL' };

export interface ReferralInput {
  route: Route;
  region: string;
  district?: string;
  profile: Profile;
}

const holderOf = (route: Route) => ({
  workerId: route.to === 'worker' ? route.workerId : null,
  supervisorId: route.to === 'supervisor' ? route.workerId : null,
});

/** What an open referral always allows. */
const WHILE_OPEN = {
  REASSIGN: { target: '#referral.requested', reenter: true, actions: 'reassign' },
  // Unlike REASSIGN it can hand the referral to a supervisor (§9 step 3), holding it without a worker.
  REROUTE: { guard: 'routed', target: '#referral.requested', reenter: true, actions: 'takeRoute' },
  CANCEL: '#referral.cancelled',
} as const;

/** The worker's steps once accepted: contacted, a visit planned, completed (or the family could not be reached). */
const WORKING = {
  CONTACTED: '#referral.in-progress',
  VISIT_PLANNED: { target: '#referral.in-progress', actions: 'planVisit' },
  COMPLETE: [
    { guard: 'couldNotReach', target: '#referral.failed', actions: 'setOutcome' },
    { target: '#referral.completed', actions: 'setOutcome' },
  ],
} as const;

/** Declining and redirecting, from requested or accepted: back to requested with the new holder, or parked when nobody fits. */
const DECLINABLE = {
  DECLINE: [
    { guard: 'routed', target: '#referral.requested', reenter: true, actions: ['recordDecline', 'takeRoute'] },
    { target: '#referral.declined', actions: ['recordDecline', 'takeRoute'] },
  ],
  REDIRECT: [
    { guard: 'routed', target: '#referral.requested', reenter: true, actions: ['recordRedirect', 'takeRoute'] },
    { target: '#referral.redirected', actions: ['recordRedirect', 'takeRoute'] },
  ],
} as const;

export const referralMachine = setup({
  types: { context: {} as ReferralContext, events: {} as ReferralMachineEvent, input: {} as ReferralInput },
  guards: {
    routed: ({ event }) => (event.type === 'DECLINE' || event.type === 'REDIRECT' || event.type === 'REROUTE') && event.route.to !== 'none',
    couldNotReach: ({ event }) => event.type === 'COMPLETE' && event.outcome === 'could_not_reach',
    toSomeoneElse: ({ context, event }) => event.type === 'REASSIGN' && event.workerId !== context.workerId,
  },
  actions: {
    takeRoute: assign(({ event }) => {
      assertEvent(event, ['DECLINE', 'REDIRECT', 'REROUTE']);
      return { ...holderOf(event.route), reminders: 0 };
    }),
    recordDecline: assign(({ context, event }) => {
      assertEvent(event, 'DECLINE');
      return { declineReason: event.reason, declinedBy: [...new Set([...context.declinedBy, event.by])] };
    }),
    recordRedirect: assign(({ context, event }) => {
      assertEvent(event, 'REDIRECT');
      return { region: event.region, district: event.district ?? null, profile: event.profile, declinedBy: [...new Set([...context.declinedBy, event.by])] };
    }),
    reassign: assign(({ event }) => {
      assertEvent(event, 'REASSIGN');
      return { workerId: event.workerId, supervisorId: null, reminders: 0 };
    }),
    countReminder: assign({ reminders: ({ context }) => context.reminders + 1 }),
    // The escalation keeps the holder (the worker can still accept; the supervisor can reassign).
    escalate: assign(({ context, event }) => {
      assertEvent(event, 'ESCALATE');
      return { supervisorId: event.supervisorId ?? context.supervisorId, reminders: context.reminders + 1 };
    }),
    planVisit: assign(({ event }) => {
      assertEvent(event, 'VISIT_PLANNED');
      return { visitDate: event.date };
    }),
    setOutcome: assign(({ event }) => {
      assertEvent(event, 'COMPLETE');
      return { outcome: event.outcome };
    }),
  },
}).createMachine({
  id: 'referral',
  context: ({ input }) => ({
    ...holderOf(input.route),
    declinedBy: [],
    reminders: 0,
    region: input.region,
    district: input.district ?? null,
    profile: input.profile,
    declineReason: null,
    visitDate: null,
    outcome: null,
  }),
  initial: 'requested',
  states: {
    requested: {
      on: {
        ACCEPT: 'accepted',
        ...DECLINABLE,
        REMIND: { actions: 'countReminder' },
        ESCALATE: { actions: 'escalate' },
        ...WHILE_OPEN,
        REASSIGN: { guard: 'toSomeoneElse', target: '#referral.requested', reenter: true, actions: 'reassign' },
      },
    },
    accepted: {
      on: {
        ...WORKING,
        ...DECLINABLE,
        ...WHILE_OPEN,
      },
    },
    'in-progress': {
      on: {
        ...WORKING,
        ...WHILE_OPEN,
      },
    },
    /** Declined and nobody else fits: parked until a supervisor reassigns it. */
    declined: { on: { ...WHILE_OPEN } },
    /** Redirected and nobody there fits: parked the same way. */
    redirected: { on: { ...WHILE_OPEN } },
    completed: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

/** The status a machine state stands for. */
export function statusOf(value: unknown): ReferralStatus {
  return value as ReferralStatus;
}
