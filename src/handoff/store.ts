/**
 * The handoff line's system of record. Implementations: RedisHandoffStore
 * (src/handoff/redis-store.ts; Lua for every multi-key change) and
 * MemoryHandoffStore (src/handoff/memory-store.ts; terminal demo and unit tests),
 * which pass the same contract tests (tests/handoff/store.contract.test.ts).
 *
 * Status changes are compare-and-set on `version`: the caller computed the new
 * status with the handoff machine from the record it read; if someone changed
 * the case meanwhile, the write is refused and the caller re-reads.
 */
import type { AuditEvent, CaseRecord, CaseStatus, ClaimResult, DueTimer, RelayEntry, TimerKind } from './types.js';

export interface CasePatch {
  status: CaseStatus;
  snapshot: unknown;
  /** Other fields to set; `undefined` values delete the field. */
  fields?: Partial<Omit<CaseRecord, 'id' | 'version' | 'status' | 'snapshot'>>;
}

export interface HandoffStore {
  /**
   * Opens a case atomically: the record, the family → case index, the waiting
   * line entry when status is "waiting" (score: urgent band first, then enqueuedAt),
   * and a "created" audit event. Refused (returns false) when the family already
   * has an open case: the check and the write are one step, so a family holds
   * one open case at a time however many opens race.
   *
   * Families are indexed by a salted pseudonym of the chat id (codec familyRef),
   * never by the raw id; a case drops its chatId when it closes.
   */
  create(rec: CaseRecord, event: AuditEvent): Promise<boolean>;
  get(caseId: string): Promise<CaseRecord | undefined>;
  /** The family's open case (not closed), if any. */
  openCaseOf(chatId: number): Promise<CaseRecord | undefined>;
  /** Whether a case (open or closed) is this family's: closed cases keep no chat id to compare. */
  isFamilyOf(caseId: string, chatId: number): Promise<boolean>;
  caseOfTopic(topicId: number): Promise<CaseRecord | undefined>;

  /**
   * Compare-and-set status change at `expectedVersion`, with its audit event,
   * atomically: the line entry is added when the new status is "waiting"
   * (keeping enqueuedAt) and removed otherwise; the operator's open-case set and
   * the family index follow the record; "closed" releases the family index.
   * Returns the new record, or undefined when the version did not match.
   */
  update(caseId: string, expectedVersion: number, patch: CasePatch, event: AuditEvent): Promise<CaseRecord | undefined>;

  /**
   * The atomic claim: exactly one of any number of concurrent claims of a
   * waiting case wins. `patch` is what the machine computed for the claim (status
   * "claimed", snapshot, operatorId…). Losers learn who holds it.
   */
  claim(caseId: string, operatorId: number, expectedVersion: number, patch: CasePatch, event: AuditEvent): Promise<ClaimResult>;

  /** Sets fields that are not the status (topic ids, timestamps) without a version check. */
  setFields(caseId: string, fields: CasePatch['fields']): Promise<void>;

  /** The waiting line in order: urgent first, then oldest. */
  waiting(limit?: number): Promise<CaseRecord[]>;
  /** 1-based place in line, or undefined when not waiting. */
  placeInLine(caseId: string): Promise<number | undefined>;
  /** Open cases held by an operator. */
  casesOf(operatorId: number): Promise<CaseRecord[]>;

  audit(caseId: string, event: AuditEvent): Promise<void>;
  auditTrail(caseId: string): Promise<AuditEvent[]>;

  /** Group message ids of the family's messages copied into the case topic, so /forget can delete them there. */
  keepCopy(caseId: string, messageId: number): Promise<void>;
  takeCopies(caseId: string): Promise<number[]>;

  /**
   * True at most once per family per `windowMs` (measured on the caller's clock,
   * `at`): urgent announcements mention every operator, so one family opening
   * and cancelling urgent cases must not ping them all each time.
   */
  claimAnnouncement(chatId: number, at: number, windowMs: number): Promise<boolean>;

  /** Messages the family wrote while waiting, kept for the operator who takes the case. */
  keepPending(caseId: string, entry: RelayEntry): Promise<void>;
  takePending(caseId: string): Promise<RelayEntry[]>;

  /**
   * Records a message to relay before it is sent. Deduplicated by `entry.key`
   * (an update id delivered twice records once): returns false for a duplicate.
   * With `leaseMs`, the caller also holds the sending lease: it sends at once,
   * and no resend picks the entry up while the lease lasts.
   */
  recordRelay(entry: RelayEntry, options?: RelayRecordOptions): Promise<boolean>;
  /** Relays recorded but not yet acknowledged, in recording order (read only). */
  unsentRelays(limit?: number): Promise<RelayEntry[]>;
  /** Delivered: gone from the outbox, with its lease and attempt count. */
  ackRelay(key: string): Promise<void>;
  /**
   * The relay outbox's consumer group (Redis Streams): relays nobody has taken
   * yet, and relays taken more than `idleMs` ago and still not acknowledged (their
   * sender died or failed). Returns those whose sending lease this call took; a
   * relay leased elsewhere (being sent right now) is skipped and looked at again
   * after `idleMs`.
   */
  claimUnsent(consumer: string, options: RelayClaimOptions): Promise<RelayEntry[]>;
  /** A send failed: the lease is given back. Returns the failed sends so far. */
  releaseRelay(key: string): Promise<number>;
  /** Given up: moved to the dead-letter stream (no chat id, no text) and out of the outbox. */
  deadRelay(entry: RelayEntry, reason: string, attempts: number): Promise<void>;
  /** How many relays are recorded and not yet delivered. */
  relayBacklog(): Promise<number>;

  /** Durable timers: absolute deadlines (epoch ms). Scheduling the same case+kind again replaces it. */
  schedule(caseId: string, kind: TimerKind, deadline: number): Promise<void>;
  cancelTimer(caseId: string, kind: TimerKind): Promise<void>;
  /** Atomically takes the timers due at `now` (each is returned to exactly one caller). */
  takeDue(now: number, limit?: number): Promise<DueTimer[]>;

  /** Operators granted by an admin at run time (in addition to configuration). */
  grantRole(role: 'operator' | 'supervisor', userId: number): Promise<void>;
  revokeRole(role: 'operator' | 'supervisor', userId: number): Promise<void>;
  granted(role: 'operator' | 'supervisor'): Promise<number[]>;

  /** Counts for /stats since `since` (epoch ms): created, claimed, closed, waiting now, first-response waits. */
  stats(since: number): Promise<{ created: number; claimed: number; closed: number; waitingNow: number; firstResponseMs: number[] }>;

  /**
   * /forget, atomically. A closed case of the family loses everything that could
   * name them (chat id, pseudonym, phone, summary, consent, region, pending and
   * unsent messages, note texts; status, times and event types stay) and is
   * marked `withdrawn`. An open case (the conversation the family is told goes
   * on) keeps only its chat id and pseudonym, is marked `withdrawn`, and is
   * erased the same way when it closes. Returns the ids of the cases touched.
   */
  forgetFamily(chatId: number): Promise<string[]>;
}

export interface RelayRecordOptions {
  /** Take the sending lease for this long (the live path, which sends at once). */
  leaseMs?: number;
}

export interface RelayClaimOptions {
  /** A relay taken this long ago and not acknowledged is taken again. Longer than a live send. */
  idleMs: number;
  /** How long the sending lease lasts. */
  leaseMs: number;
  limit?: number;
}
