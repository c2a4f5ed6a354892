/**
 * The referrals' system of record. Implementations: RedisReferralStore
 * (src/referral/redis-store.ts) and MemoryReferralStore (src/referral/memory-store.ts, the
 * terminal demo and unit tests), which pass the same contract tests
 * (tests/referral/store.contract.test.ts).
 *
 * A status change is compare-and-set on `version`: the caller computed the new record with
 * the referral machine from the one it read; if someone changed it meanwhile, the write is
 * refused and the caller reads again. The write, its audit line and its notices (the outbox)
 * are one atomic step, so a notice is published exactly when its change is stored.
 */
import type { StreamConsumer } from '../store/stream-delivery.js';
import type { Referral, ReferralAuditEntry, ReferralEvent } from './types.js';

export const TIMER_KINDS = ['ack'] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

export interface DueTimer {
  referralId: string;
  kind: TimerKind;
  deadline: number;
}

/** Write only while `workerId` holds fewer than `limit` open referrals (routing read the counts before the write). */
export interface CapacityGuard {
  workerId: string;
  limit: number;
}

export interface ReferralStore {
  /**
   * Stores a new referral with its audit line and notices. The worker's open set, the
   * territory index, the family index and the created index follow the record. False when
   * the id is taken, or the guarded worker is full.
   */
  create(referral: Referral, audit: ReferralAuditEntry, events: ReferralEvent[], guard?: CapacityGuard): Promise<boolean>;
  get(referralId: string): Promise<Referral | undefined>;
  /**
   * Compare-and-set at `expectedVersion`: writes `next` (its version is expectedVersion + 1),
   * the audit line and the notices, and moves the indexes. A closed referral (completed,
   * failed, cancelled) keeps its packet and chat id for `personalDataMs` only, then they go
   * by themselves; reporting fields stay. Undefined when the version did not match, or the
   * guarded worker is full.
   */
  update(referralId: string, expectedVersion: number, next: Referral, audit: ReferralAuditEntry, events: ReferralEvent[], guard?: CapacityGuard): Promise<Referral | undefined>;
  /** Drops the packet and the family's chat id now (/forget), and the family index entry. */
  erase(referralId: string, audit: ReferralAuditEntry): Promise<void>;

  /** Open referrals someone holds: as workerId, or as supervisorId when no worker holds it (an escalation alone is not holding). */
  openOf(workerId: string): Promise<Referral[]>;
  /** How many open referrals each worker holds (0 for one who holds none). */
  openCounts(workerIds: readonly string[]): Promise<Map<string, number>>;
  /** Open referrals of a region. */
  openInRegion(region: string): Promise<Referral[]>;
  /** Every referral of the family (until /forget or the personal-data expiry). */
  ofFamily(chatId: number): Promise<Referral[]>;
  /** Referrals created in [from, to), oldest first. */
  createdBetween(from: number, to: number): Promise<Referral[]>;

  audit(referralId: string, entry: ReferralAuditEntry): Promise<void>;
  auditTrail(referralId: string): Promise<ReferralAuditEntry[]>;

  /** Durable timers: absolute deadlines (epoch ms). Scheduling the same referral+kind again replaces it. */
  schedule(referralId: string, kind: TimerKind, deadline: number): Promise<void>;
  cancelTimer(referralId: string, kind: TimerKind): Promise<void>;
  /**
   * Takes the timers due at `now`: each one is returned to exactly one caller, and re-armed
   * `leaseMs` later in the same step, so a timer whose caller died fires again. The caller
   * reschedules or cancels it once handled.
   */
  takeDue(now: number, leaseMs: number, limit?: number): Promise<DueTimer[]>;

  /** A one-time invite: `codeHash` → workerId for `ttlMs`. */
  saveInvite(codeHash: string, workerId: string, ttlMs: number): Promise<void>;
  /** Takes the invite (GETDEL): the second redeem of a code finds nothing. */
  takeInvite(codeHash: string): Promise<string | undefined>;
  /** Links a Telegram user to a worker, replacing the worker's previous account and the user's previous worker. Returns the replaced user id. */
  link(workerId: string, telegramUserId: number): Promise<number | undefined>;
  /** Returns whether the worker was linked. */
  unlink(workerId: string): Promise<boolean>;
  workerOf(telegramUserId: number): Promise<string | undefined>;
  userOf(workerId: string): Promise<number | undefined>;

  /** A directory reload, counted where every process sees it: the new count. */
  bumpDirectoryVersion(): Promise<number>;
  /** How many directory reloads there have been (0 before the first). */
  directoryVersion(): Promise<number>;

  /** The notices' consumer group (Redis Stream, or the memory twin). */
  outbox(): StreamConsumer<ReferralEvent>;
}
