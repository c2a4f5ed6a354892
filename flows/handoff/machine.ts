/**
 * The lifecycle of one hotline case. Only this machine decides a case's status;
 * the store writes what it decided (compare-and-set on the case's version).
 *
 *   out_of_hours ──OPENING──▶ waiting ──CLAIM──▶ claimed ──CLOSE──▶ closed
 *        │                    ▲   │               │  ▲ TRANSFER (another operator)
 *        └──────CLAIM─────────┼───┼───────────────┘  │
 *                             └───┼──RELEASE─────────┘ (back to the line)
 *   any open ──FAMILY_BLOCKED──▶ family_unreachable ──FAMILY_RETURNED──▶ claimed | waiting
 */
import { assign, setup } from 'xstate';
import type { CaseStatus, Outcome } from '../../src/handoff/types.js';

export const HANDOFF_FLOW_VERSION = 1;

export interface HandoffContext {
  /** Operators were on duty when the case opened. */
  onDuty: boolean;
  operatorId: number | null;
  outcome: Outcome | null;
  transfers: number;
}

export type HandoffEvent =
  | { type: 'CLAIM'; operatorId: number }
  | { type: 'TRANSFER'; operatorId: number }
  | { type: 'RELEASE' }
  | { type: 'CLOSE'; outcome: Outcome }
  | { type: 'OPENING' }
  | { type: 'FAMILY_CANCEL' }
  | { type: 'FAMILY_END' }
  | { type: 'FAMILY_BLOCKED' }
  | { type: 'FAMILY_RETURNED' }
  | { type: 'FORGET' };

export interface HandoffInput {
  /** Whether operators are on duty when the case opens. */
  onDuty: boolean;
}

/** A case nobody holds yet (in line, or waiting for the line to open): taken, cancelled, closed or lost. */
const WHILE_NOBODY_HAS_IT = {
  CLAIM: { target: 'claimed', actions: 'takeOperator' },
  FAMILY_CANCEL: { target: 'closed', actions: 'setOutcome' },
  FORGET: { target: 'closed', actions: 'setOutcome' },
  CLOSE: { target: 'closed', actions: 'setOutcome' },
  FAMILY_BLOCKED: 'family_unreachable',
} as const;

export const handoffMachine = setup({
  types: { context: {} as HandoffContext, events: {} as HandoffEvent, input: {} as HandoffInput },
  guards: {
    onDuty: ({ context }) => context.onDuty,
    hasOperator: ({ context }) => context.operatorId !== null,
    toSomeoneElse: ({ context, event }) => event.type === 'TRANSFER' && event.operatorId !== context.operatorId,
  },
  actions: {
    takeOperator: assign({ operatorId: ({ event }) => (event.type === 'CLAIM' || event.type === 'TRANSFER' ? event.operatorId : null) }),
    countTransfer: assign({ transfers: ({ context }) => context.transfers + 1 }),
    dropOperator: assign({ operatorId: null }),
    setOutcome: assign({
      outcome: ({ event }) => {
        switch (event.type) {
          case 'CLOSE':
            return event.outcome;
          case 'FAMILY_CANCEL':
            return 'cancelled_by_family';
          case 'FAMILY_END':
            return 'ended_by_family';
          case 'FORGET':
            return 'forgotten';
          default:
            return null;
        }
      },
    }),
  },
}).createMachine({
  id: 'handoff',
  context: ({ input }) => ({ onDuty: input.onDuty, operatorId: null, outcome: null, transfers: 0 }),
  initial: 'opening',
  states: {
    /** Decides the first status from the input: on duty → the line; otherwise out of hours. */
    opening: {
      always: [{ guard: 'onDuty', target: 'waiting' }, { target: 'out_of_hours' }],
    },
    waiting: { on: { ...WHILE_NOBODY_HAS_IT } },
    out_of_hours: { on: { OPENING: 'waiting', ...WHILE_NOBODY_HAS_IT } },
    claimed: {
      on: {
        TRANSFER: { guard: 'toSomeoneElse', target: 'claimed', reenter: true, actions: ['takeOperator', 'countTransfer'] },
        RELEASE: { target: 'waiting', actions: ['dropOperator', 'countTransfer'] },
        CLOSE: { target: 'closed', actions: 'setOutcome' },
        FAMILY_END: { target: 'closed', actions: 'setOutcome' },
        FAMILY_BLOCKED: 'family_unreachable',
      },
    },
    family_unreachable: {
      on: {
        FAMILY_RETURNED: [{ guard: 'hasOperator', target: 'claimed' }, { target: 'waiting' }],
        // The holder lost the role: when the family comes back, they go to the line.
        RELEASE: { actions: 'dropOperator' },
        CLOSE: { target: 'closed', actions: 'setOutcome' },
        FORGET: { target: 'closed', actions: 'setOutcome' },
      },
    },
    closed: { type: 'final' },
  },
});

/** The status a machine state stands for. */
export function statusOf(value: unknown): CaseStatus {
  if (value === 'opening') return 'waiting'; // never persisted: `always` leaves it at once
  return value as CaseStatus;
}
