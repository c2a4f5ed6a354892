/**
 * Hotline handoff: the shapes shared by the handoff machine, its Redis store
 * and the operators' and family's sides of the bot.
 */
import type { Lang, Status } from '../engine/types.js';

/** A case's status. Only the handoff machine (flows/handoff/machine.ts) decides a change. */
export type CaseStatus = 'waiting' | 'claimed' | 'out_of_hours' | 'family_unreachable' | 'closed';

export type Outcome =
  | 'informed'
  | 'referred'
  | 'urgent_escalation'
  | 'no_answer'
  | 'out_of_scope'
  /** Closed by the family or by the system, not by an operator. */
  | 'cancelled_by_family'
  | 'ended_by_family'
  | 'forgotten';

export const OPERATOR_OUTCOMES = ['informed', 'referred', 'urgent_escalation', 'no_answer', 'out_of_scope'] as const satisfies readonly Outcome[];

/** What the family agreed to share with an operator: statuses only, no free text. */
export interface CaseSummary {
  rulesVersion: string;
  grounds: { id: string; status: Status }[];
  benefits: { id: string; status: Status }[];
  /** Service types the answers point to (absent in cases shared before they were recorded). */
  services?: string[];
  /** Benefit ids the family said they already receive (absent in cases shared before they were recorded). */
  receives?: string[];
  urgent: boolean;
}

export interface CaseRecord {
  /** Short, non-personal case id shown to operators, e.g. "K7QX2". */
  id: string;
  /**
   * The family's private chat, while the case is open. A closed case keeps none:
   * only the store's salted pseudonym of the family links it to them (see forgetFamily).
   */
  chatId?: number;
  lang: Lang;
  region?: string;
  urgent: boolean;
  status: CaseStatus;
  /** Optimistic-concurrency counter: every status change must name the version it read. */
  version: number;
  /** The handoff machine's persisted snapshot. */
  snapshot: unknown;
  summary?: CaseSummary;
  /** When the family agreed to share the summary (epoch ms); absent = nothing shared. */
  consentAt?: number;
  createdAt: number;
  /** Position key in the waiting line: set while waiting. */
  enqueuedAt?: number;
  operatorId?: number;
  /** Forum topic (message_thread_id) in the operators' group, and the card's message id. */
  topicId?: number;
  cardMessageId?: number;
  firstResponseAt?: number;
  lastFamilyMessageAt?: number;
  lastOperatorMessageAt?: number;
  /** Out of hours: the family asked to be called back; the phone only if they chose to give it. */
  callbackPhone?: string;
  closedAt?: number;
  outcome?: Outcome;
  /** The place in line the family was last told, so updates go out only when it changes meaningfully. */
  toldPlace?: number;
  /** The family used /forget. An open case keeps only what the conversation needs and is erased when it closes. */
  withdrawn?: boolean;
}

/** One line of the per-case audit trail (a Redis stream). No message texts. */
export interface AuditEvent {
  type: string;
  /** Telegram user id of the actor (operator), "family" or "system". */
  by: string;
  at: number;
  detail?: string;
}

export interface ClaimResult {
  won: boolean;
  /** When lost: who holds the case now (if anyone) and its status. */
  holder?: number;
  status: CaseStatus;
}

/** A message to relay, recorded before it is sent so a crash loses nothing. */
export interface RelayEntry {
  /** Unique id of the entry (the Telegram update id that produced it, with a direction prefix). */
  key: string;
  caseId: string;
  direction: 'to_operators' | 'to_family';
  fromChatId: number;
  messageId: number;
  /** Target thread for to_operators. */
  topicId?: number;
}

/** SLA clocks, and the moment an out-of-hours case joins the line when operators come on duty. */
export type TimerKind = 'first_response' | 'next_response' | 'opening';

export interface DueTimer {
  caseId: string;
  kind: TimerKind;
  deadline: number;
}
