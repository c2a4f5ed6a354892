/**
 * Referrals to social workers: the shapes shared by the directory and routing
 * (SPEC §9), the referral machine and store, and the workers', operators' and
 * family's sides of the bot. Only the referral machine (flows/referral/) decides
 * a status change.
 */
import type { AdmissionRoute, Lang, Status } from '../engine/types.js';

// ── Directory and routing (SPEC §9) ────────────────────────────────────────

export const PROFILES = ['assessment', 'children_family', 'disability', 'elderly_care', 'psychologist', 'legal_benefits', 'violence'] as const;
export type Profile = (typeof PROFILES)[number];

/** The languages a worker can be asked to speak with a family (staff read English, families do not). */
export const WORKER_LANGS = ['kk', 'ru'] as const;
export type WorkerLang = (typeof WORKER_LANGS)[number];

export interface Area {
  /** A region id of SPEC §4 (`astana`, `almaty_region`, …). */
  region: string;
  district?: string;
}

export interface Organization {
  id: string;
  name: Record<Lang, string>;
  areas: Area[];
}

export interface DirectoryWorker {
  /** Stable id; linked to a Telegram account by a one-time code, never in the directory file. */
  id: string;
  organization: string;
  role: 'worker' | 'supervisor';
  profiles: Profile[];
  languages: WorkerLang[];
  /** Resolved on load: the worker's own areas, or the organisation's. */
  areas: Area[];
  /** Open referrals at most. */
  capacity: number;
}

export interface Directory {
  organizations: Organization[];
  /** In file order (the order breaks ties). */
  workers: DirectoryWorker[];
  /** Marked `example: true` in the file: not real people; the bot says so to admins. */
  example: boolean;
}

/** The routing input of SPEC §9. */
export interface RoutingRequest {
  id: string;
  region: string;
  district?: string;
  profile: Profile;
  language: WorkerLang;
  urgent: boolean;
}

export type Route = { to: 'worker'; workerId: string } | { to: 'supervisor'; workerId: string } | { to: 'none' };

// ── The referral ───────────────────────────────────────────────────────────

/**
 * FHIR Task statuses of a referral (https://hl7.org/fhir/valueset-task-status.html); `declined` is
 * FHIR's `rejected`, and `redirected` is a referral sent on to another territory or profile.
 */
export const REFERRAL_STATUSES = ['requested', 'accepted', 'declined', 'redirected', 'in-progress', 'completed', 'failed', 'cancelled'] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];
export const OPEN_STATUSES: readonly ReferralStatus[] = ['requested', 'accepted', 'in-progress'];

export const DECLINE_REASONS = ['not_my_territory', 'not_my_profile', 'no_capacity', 'duplicate', 'other'] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

export const OUTCOMES = ['need_determined', 'need_not_determined', 'services_assigned', 'referred_elsewhere', 'could_not_reach'] as const;
export type ReferralOutcome = (typeof OUTCOMES)[number];

/** SPEC §1 admission routes, as catalogue data (grounds.yaml `admission`). */
export type { AdmissionRoute };

/** Exactly what the worker receives, and what the family is shown before they agree to share it. No names, no IIN, no address. */
export interface ReferralPacket {
  /** The hotline case it came from (short id), when an operator referred. */
  caseId?: string;
  lang: WorkerLang;
  region: string;
  district?: string;
  urgent: boolean;
  profile: Profile;
  /** The screening result: ids and statuses only. */
  result: { kind: 'ground' | 'benefit' | 'service'; id: string; status: Status }[];
  /** Benefit or service ids the family already receives. */
  receives: string[];
  contact: { kind: 'phone'; phone: string } | { kind: 'telegram' };
  /** When the family prefers to be contacted, as they chose it from a short list. */
  contactTime?: 'morning' | 'afternoon' | 'evening' | 'any';
  /** The operator's note (free text; never exported, erased by /forget). */
  note?: string;
  admissionRoutes: AdmissionRoute[];
}

export interface Referral {
  /** Short, non-personal id shown to workers and the family, e.g. "R-7K3QX". */
  id: string;
  status: ReferralStatus;
  /** Optimistic-concurrency counter, as for handoff cases. */
  version: number;
  /** The referral machine's persisted snapshot. */
  snapshot: unknown;
  source: 'operator' | 'family';
  /** The family's private chat; absent once the family withdrew (/forget). */
  familyChatId?: number;
  /** Absent once erased (/forget); the routing keys below stay for reporting. */
  packet?: ReferralPacket;
  region: string;
  district?: string;
  profile: Profile;
  lang: WorkerLang;
  urgent: boolean;
  /** The directory worker who holds it, or the supervisor it was escalated to. */
  workerId?: string;
  supervisorId?: string;
  createdAt: number;
  updatedAt: number;
  acknowledgedAt?: number;
  /** ISO date (Asia/Almaty) of a planned visit. */
  visitDate?: string;
  declineReason?: DeclineReason;
  outcome?: ReferralOutcome;
  /** Reminders sent for this assignment (0, 1, then escalation). */
  reminders: number;
  /** When the current holder got it: the acknowledgement clock counts from here. (Added by referral-core.) */
  assignedAt?: number;
  /** When it reached completed, failed or cancelled. (Added by referral-core.) */
  closedAt?: number;
}

/** What a worker or supervisor does to a referral; the machine says which are allowed when. */
export type ReferralAction =
  | { type: 'ACCEPT' }
  | { type: 'DECLINE'; reason: DeclineReason }
  | { type: 'REDIRECT'; region?: string; district?: string; profile?: Profile }
  | { type: 'CONTACTED' }
  | { type: 'VISIT_PLANNED'; date: string }
  | { type: 'COMPLETE'; outcome: ReferralOutcome }
  | { type: 'REASSIGN'; workerId: string };

/** Who acts. Workers are directory ids linked to a Telegram user id. */
export type ReferralActor = { kind: 'worker'; workerId: string } | { kind: 'operator'; userId: number } | { kind: 'family' } | { kind: 'system' };

/** Why the bot tells a worker something. */
export type WorkerNotice = 'new' | 'reminder' | 'escalated' | 'withdrawn' | 'reassigned_away' | 'reassigned_to_you';

/** What the family hears, in their language. */
export type FamilyNotice = 'received' | 'accepted' | 'contact_soon' | 'visit_planned' | 'completed' | 'rerouted' | 'not_routed' | 'cancelled' | 'not_reached';

/**
 * How the referral service reaches people; the bot implements it with grammY and the texts in
 * locales/. The service never formats a message itself.
 */
export interface ReferralNotifier {
  toWorker(telegramUserId: number, referral: Referral, notice: WorkerNotice): Promise<void>;
  toFamily(chatId: number, referral: Referral, notice: FamilyNotice): Promise<void>;
}

// ── Added by referral-core: service-facing shapes ─────────────────────────

/**
 * A Telegram user pressing a worker's or supervisor's button. The service resolves it through
 * the worker links (src/referral/links.ts); the bot passes this, never a `worker` actor it made up.
 */
export type ReferralCaller = ReferralActor | { kind: 'user'; userId: number };

/** One line of a referral's audit stream: who, what, when. Never personal data. */
export interface ReferralAuditEntry {
  /** e.g. "created", "viewed", "ACCEPT", "refused", "reminder", "escalated", "erased". */
  what: string;
  /** "worker:<id>", "operator", "family", "system", or "user:<pseudonym>" for someone not linked. */
  who: string;
  at: number;
  /** A non-personal detail: a decline reason, an outcome, a refusal reason, a worker id. */
  detail?: string;
}

/** A notice waiting in the delivery stream; `to` is a directory worker id, or absent for the family (read from the referral at delivery). */
export type ReferralEvent =
  | { id: string; kind: 'worker'; notice: WorkerNotice; referralId: string; to: string }
  | { id: string; kind: 'family'; notice: FamilyNotice; referralId: string };

/** Why an action was not taken. */
export type Refusal =
  /** No such referral (or its id is malformed). */
  | 'not_found'
  /** The Telegram user is linked to no worker. */
  | 'not_linked'
  /** A linked worker who neither holds it nor supervises its territory. */
  | 'not_yours'
  /** The machine does not allow this action in this status (a stale button). */
  | 'not_now'
  /** REASSIGN to someone who is not a worker of the directory. */
  | 'unknown_worker'
  /** Someone changed it at the same moment, again and again. */
  | 'conflict';
