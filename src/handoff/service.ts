/**
 * The hotline handoff: opens cases, lets operators take, transfer and close
 * them, relays messages both ways through one forum topic per case, and keeps
 * the SLA clocks. Every status change goes through the handoff machine and is
 * written compare-and-set; every relayed message is recorded before it is sent.
 *
 * This is the case lifecycle and the one door the bot layer uses; the parts do
 * one job each: transitions.ts (machine + compare-and-set), relay.ts (the
 * outbox), timers.ts (SLA and opening clocks), topic.ts (topic and card),
 * alerts.ts (staff alerts with mentions), family-notices.ts (the bot's words to the family),
 * roles.ts (who holds a staff role; the bot layer reads and grants them through `roles`).
 */
import type { HandoffEvent } from '../../flows/handoff/machine.js';
import type { Lang } from '../engine/types.js';
import { runtimeMetrics } from '../runtime/metrics.js';
import { StaffAlerts } from './alerts.js';
import type { HandoffDeps, HandoffParts } from './deps.js';
import { FamilyNotices } from './family-notices.js';
import { RelayOutbox } from './relay.js';
import { StaffRoles } from './roles.js';
import type { HandoffStore } from './store.js';
import { CaseTimers } from './timers.js';
import { CaseTopic } from './topic.js';
import { auditEvent, CaseTransitions, type Transition } from './transitions.js';
import type { AuditEvent, CaseRecord, CaseSummary, Outcome, RelayEntry } from './types.js';

export type { HandoffConfig, HandoffDeps } from './deps.js';
export { URGENT_ANNOUNCEMENT_WINDOW_MS } from './alerts.js';
export type { StaffRole } from './roles.js';
export { RELAY_IDLE_MS, RELAY_LEASE_MS, RELAY_MAX_ATTEMPTS, RELAY_MAX_NEVER_ATTEMPTS } from './relay.js';

export type OpenResult = { opened: true; record: CaseRecord; place?: number } | { opened: false; record: CaseRecord };

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'; // no 0/O, 1/I

export function randomCaseId(): string {
  return Array.from({ length: 6 }, () => ALPHABET[Math.floor(Math.random() * ALPHABET.length)]).join('');
}

export class HandoffService {
  private readonly now: () => number;
  private readonly newCaseId: () => string;
  private readonly deps: HandoffParts;
  private readonly transitions: CaseTransitions;
  private readonly topic: CaseTopic;
  private readonly alerts: StaffAlerts;
  private readonly notices: FamilyNotices;
  private readonly timers: CaseTimers;
  private readonly relay: RelayOutbox;
  /** Who may act in the operators' group: configured and granted roles. */
  readonly roles: StaffRoles;

  constructor(deps: HandoffDeps) {
    this.now = deps.now ?? Date.now;
    this.newCaseId = deps.newCaseId ?? randomCaseId;
    this.deps = { store: deps.store, api: deps.api, translator: deps.translator, log: deps.log, config: deps.config, now: this.now };
    const familyGone = (rec: CaseRecord) => this.familyUnreachable(rec);
    this.transitions = new CaseTransitions(deps.store, this.now);
    this.topic = new CaseTopic(this.deps);
    this.alerts = new StaffAlerts(this.deps);
    this.notices = new FamilyNotices(this.deps, familyGone);
    this.timers = new CaseTimers(this.deps, this.transitions, this.topic, this.alerts);
    this.relay = new RelayOutbox(this.deps, this.topic, this.timers, familyGone);
    this.roles = new StaffRoles(this.deps);
  }

  /** The handoff's clock: the operators' commands and the family's side read time here, so one clock drives them all. */
  time(): number {
    return this.now();
  }

  /** A case by its id (open or closed). */
  get(caseId: string): Promise<CaseRecord | undefined> {
    return this.deps.store.get(caseId);
  }

  /** The family's open case, if any. */
  openCaseOf(chatId: number): Promise<CaseRecord | undefined> {
    return this.deps.store.openCaseOf(chatId);
  }

  caseOfTopic(topicId: number): Promise<CaseRecord | undefined> {
    return this.deps.store.caseOfTopic(topicId);
  }

  /** Whether a case (open or closed) is this family's: closed cases keep no chat id to compare. */
  isFamilyOf(caseId: string, chatId: number): Promise<boolean> {
    return this.deps.store.isFamilyOf(caseId, chatId);
  }

  /** The waiting line in order: urgent first, then oldest. */
  waitingLine(limit?: number): Promise<CaseRecord[]> {
    return this.deps.store.waiting(limit);
  }

  /** Open cases held by an operator. */
  casesOf(operatorId: number): Promise<CaseRecord[]> {
    return this.deps.store.casesOf(operatorId);
  }

  /** Counts for /stats since `since` (epoch ms). */
  statsSince(since: number): ReturnType<HandoffStore['stats']> {
    return this.deps.store.stats(since);
  }

  /** A case's audit trail; the operators' notes are in it. */
  auditTrail(caseId: string): Promise<AuditEvent[]> {
    return this.deps.store.auditTrail(caseId);
  }

  /** Records an event in a case's audit trail, at the handoff's clock. */
  recordEvent(caseId: string, type: string, by: string, detail?: string): Promise<void> {
    return this.deps.store.audit(caseId, this.event(type, by, detail));
  }

  /** Opens a case for a family (or returns their open one). */
  async open(chatId: number, lang: Lang, opts: { urgent: boolean; summary?: CaseSummary; region?: string; consentAt?: number }): Promise<OpenResult> {
    const existing = await this.deps.store.openCaseOf(chatId);
    if (existing) {
      if (opts.urgent && !existing.urgent) await this.markUrgent(existing);
      return { opened: false, record: existing };
    }
    const at = this.now();
    const onDuty = this.deps.config.hours.isOpen(at);
    const { status, snapshot } = this.transitions.initial(onDuty);
    const record: CaseRecord = {
      id: '',
      chatId,
      lang,
      region: opts.region,
      urgent: opts.urgent,
      status,
      version: 1,
      snapshot,
      summary: opts.consentAt ? opts.summary : undefined,
      consentAt: opts.consentAt,
      createdAt: at,
      enqueuedAt: at,
    };
    // The store refuses a second open case of the family atomically; a refusal
    // with no open case to show means the random id was taken: draw another.
    for (let attempt = 1; ; attempt++) {
      record.id = this.newCaseId();
      if (await this.deps.store.create(record, this.event('created', 'family', opts.urgent ? 'urgent' : undefined))) break;
      const raced = await this.deps.store.openCaseOf(chatId);
      if (raced) return { opened: false, record: raced };
      if (attempt === 5) throw new Error('could not open a case: the case ids drawn were all taken');
    }
    if (record.status === 'waiting') await this.timers.startFirstResponse(record.id, at);
    else await this.timers.scheduleOpening(record.id, at);
    await this.postCard(record);
    if (record.urgent) await this.alerts.urgent(record);
    return { opened: true, record, place: await this.deps.store.placeInLine(record.id) };
  }

  /** Applies one machine event to a case, compare-and-set; retries on a concurrent change. */
  apply(caseId: string, event: HandoffEvent, audit: AuditEvent, fields: Partial<CaseRecord> = {}): Promise<CaseRecord | undefined> {
    return this.transitions.apply(caseId, event, audit, fields);
  }

  /** What the machine says an event does to a case; undefined when it does nothing. */
  transition(rec: CaseRecord, event: HandoffEvent): Transition | undefined {
    return this.transitions.transition(rec, event);
  }

  /** Take: exactly one operator wins; the others learn who has it. */
  async claim(caseId: string, operatorId: number): Promise<{ won: boolean; holder?: number; record?: CaseRecord }> {
    let rec = await this.deps.store.get(caseId);
    if (!rec) return { won: false };
    if (rec.status === 'out_of_hours') {
      // The store's atomic claim takes waiting cases only: an operator taking an
      // out-of-hours case opens the line for it first, then the one claim decides.
      await this.timers.joinLine(rec.id, String(operatorId));
      rec = await this.deps.store.get(caseId);
      if (!rec) return { won: false };
    }
    const next = this.transition(rec, { type: 'CLAIM', operatorId });
    if (!next) return { won: false, holder: rec.operatorId, record: rec };
    const result = await this.deps.store.claim(caseId, operatorId, rec.version, { status: next.status, snapshot: next.snapshot, fields: next.fields }, this.event('claimed', String(operatorId)));
    if (!result.won) return { won: false, holder: result.holder };
    const record = (await this.deps.store.get(caseId))!;
    if (rec.enqueuedAt) runtimeMetrics.caseWaitSeconds.observe(Math.max(0, this.now() - rec.enqueuedAt) / 1000, { urgent: String(rec.urgent) });
    await this.deps.store.cancelTimer(caseId, 'opening');
    await this.refreshCard(record);
    await this.notices.tell(record, 'handoff.family.operatorJoined', { name: await this.notices.operatorLabel(record) });
    await this.notifyPlaces();
    return { won: true, record };
  }

  async release(caseId: string, by: number): Promise<CaseRecord | undefined> {
    const rec = await this.apply(caseId, { type: 'RELEASE' }, this.event('released', String(by)));
    if (!rec) return undefined;
    await this.timers.startFirstResponse(caseId);
    await this.refreshCard(rec);
    await this.notices.tell(rec, 'handoff.family.backInLine');
    return rec;
  }

  async transfer(caseId: string, by: number, to: number): Promise<CaseRecord | undefined> {
    const rec = await this.apply(caseId, { type: 'TRANSFER', operatorId: to }, this.event('transferred', String(by), String(to)));
    if (!rec) return undefined;
    await this.refreshCard(rec);
    await this.alerts.transferred(rec, to);
    return rec;
  }

  async close(caseId: string, by: string, outcome: Outcome): Promise<CaseRecord | undefined> {
    const event: HandoffEvent =
      outcome === 'cancelled_by_family' ? { type: 'FAMILY_CANCEL' } : outcome === 'ended_by_family' ? { type: 'FAMILY_END' } : outcome === 'forgotten' ? { type: 'FORGET' } : { type: 'CLOSE', outcome };
    // A closed case keeps no chat id: the family is told with the one it had.
    const chatId = (await this.deps.store.get(caseId))?.chatId;
    const rec = await this.apply(caseId, event, this.event('closed', by, outcome));
    if (!rec) return undefined;
    await this.timers.cancelAll(caseId);
    await this.refreshCard(rec);
    // The family used /forget during the conversation: the store erased the case as it closed; their messages leave the topic now.
    if (rec.withdrawn) await this.topic.deleteCopies(rec.id);
    if (by === 'family') await this.topic.notice(rec, `ops:familyClosed.${outcome}`);
    else if (outcome !== 'forgotten') await this.notices.tell({ ...rec, chatId }, 'handoff.family.closed', {}, !rec.withdrawn);
    await this.notifyPlaces();
    return rec;
  }

  /**
   * /forget. A case in conversation goes on (the family is told so) with only
   * what it needs and is erased when it closes; any other open case closes now.
   * Closed cases are erased, their cards say the family withdrew, and the
   * family's messages leave the topics where Telegram allows. Returns whether a
   * conversation goes on.
   */
  async forget(chatId: number): Promise<boolean> {
    const open = await this.deps.store.openCaseOf(chatId);
    const talking = open?.status === 'claimed';
    if (open && !talking) await this.close(open.id, 'family', 'forgotten');
    for (const id of await this.deps.store.forgetFamily(chatId)) {
      const rec = await this.deps.store.get(id);
      if (!rec) continue;
      await this.refreshCard(rec);
      if (rec.status === 'closed') await this.topic.deleteCopies(rec.id);
      else await this.topic.notice(rec, 'ops:familyWithdrew');
    }
    return talking;
  }

  /** Notes stay inside the operators' group and the audit trail; they never reach the family. Returns whether the text was kept. */
  async note(caseId: string, by: number, text: string): Promise<boolean> {
    // A family who used /forget has had their closed case erased: a note on it keeps its time and author, not its text.
    const rec = await this.deps.store.get(caseId);
    const kept = !(rec?.withdrawn && rec.status === 'closed');
    await this.deps.store.audit(caseId, this.event('note', String(by), kept ? text.slice(0, 500) : undefined));
    return kept;
  }

  /**
   * Someone lost the operator role (revoked): every case they hold returns to
   * the line, with a word in its topic, so no family waits on a person who can
   * no longer answer. Returns how many.
   */
  async releaseHeldBy(operatorId: number, by: number): Promise<number> {
    let released = 0;
    for (const rec of await this.deps.store.casesOf(operatorId)) {
      const back = await this.release(rec.id, by);
      if (!back) continue;
      released++;
      await this.topic.notice(back, 'ops:releasedRoleGone');
    }
    return released;
  }

  /** The family was told their place in the line; notifyPlaces() counts movement from it. */
  async toldPlace(caseId: string, place: number): Promise<void> {
    await this.deps.store.setFields(caseId, { toldPlace: place });
  }

  /** The family agreed to share their summary after the case was opened (the urgent way): it goes onto the case and its card. */
  async shareSummary(rec: CaseRecord, summary: CaseSummary, region: string | undefined): Promise<void> {
    await this.deps.store.setFields(rec.id, { summary, region, consentAt: this.now() });
    await this.refreshCard((await this.deps.store.get(rec.id)) ?? rec);
  }

  /** Out of hours, the family left a phone number to be called back: it goes onto the card, and the request into the audit trail. */
  async requestCallback(rec: CaseRecord, phone: string): Promise<void> {
    await this.deps.store.setFields(rec.id, { callbackPhone: phone });
    await this.deps.store.audit(rec.id, this.event('callback_requested', 'family'));
    await this.refreshCard((await this.deps.store.get(rec.id))!);
  }

  /** "Did this help?": recorded only from the family of that case, once it is closed (a closed case keeps only their pseudonym to check). */
  async feedback(caseId: string, chatId: number, helped: boolean): Promise<void> {
    const rec = await this.deps.store.get(caseId);
    if (rec && rec.status === 'closed' && (await this.deps.store.isFamilyOf(rec.id, chatId))) {
      await this.deps.store.audit(rec.id, this.event('feedback', 'family', helped ? 'helped' : 'did_not_help'));
    }
  }

  /** A family marked unreachable (they had blocked the bot) wrote again. */
  familyReturned(caseId: string): Promise<CaseRecord | undefined> {
    return this.apply(caseId, { type: 'FAMILY_RETURNED' }, this.event('family_returned', 'family'));
  }

  /** A family's message while their case is open: recorded, then copied into the case topic. */
  fromFamily(rec: CaseRecord, updateId: number, messageId: number): Promise<void> {
    return this.relay.fromFamily(rec, updateId, messageId);
  }

  /**
   * A message in a case topic. Only the operator who holds the case reaches the
   * family; anything else written there stays internal. Returns whether relayed.
   * The caller (operators.ts) first checks that the writer still has a role:
   * holding a case is not enough once the role is gone.
   */
  fromTopic(topicId: number, fromUserId: number, updateId: number, messageId: number): Promise<boolean> {
    return this.relay.fromTopic(topicId, fromUserId, updateId, messageId);
  }

  /** Sends one recorded relay and acknowledges it; heals a deleted topic and marks a family that blocked the bot. */
  send(entry: RelayEntry): Promise<void> {
    return this.relay.send(entry);
  }

  /** The resend tick over the relay outbox; returns how many were delivered. */
  resendUnsent(): Promise<number> {
    return this.relay.resendUnsent();
  }

  /**
   * Tells waiting families their new place when it changed meaningfully: they
   * moved up by three or more, or reached the front. Not on every movement.
   */
  notifyPlaces(): Promise<void> {
    return this.notices.places();
  }

  /** Fires due SLA and opening timers. Run every few seconds by every process: each timer is taken once. */
  fireDueTimers(): Promise<number> {
    return this.timers.fireDue();
  }

  async familyUnreachable(rec: CaseRecord): Promise<void> {
    const updated = await this.apply(rec.id, { type: 'FAMILY_BLOCKED' }, this.event('family_unreachable', 'system'));
    if (!updated) return;
    await this.refreshCard(updated);
    await this.topic.notice(updated, 'ops:familyUnreachable');
  }

  async markUrgent(rec: CaseRecord): Promise<void> {
    await this.deps.store.setFields(rec.id, { urgent: true });
    await this.deps.store.audit(rec.id, this.event('urgent', 'family'));
    const updated = (await this.deps.store.get(rec.id))!;
    await this.refreshCard(updated);
    await this.alerts.urgent(updated);
  }

  /**
   * Danger words from a family whose case is open. The case becomes urgent
   * (it moves up the line); the operator who holds it is alerted in its topic,
   * or the supervisors when nobody holds it. It is not announced as a new case.
   */
  async dangerInCase(rec: CaseRecord, kind: string): Promise<void> {
    if (!rec.urgent) await this.deps.store.setFields(rec.id, { urgent: true });
    await this.deps.store.audit(rec.id, this.event('danger_words', 'family', kind));
    const updated = (await this.deps.store.get(rec.id)) ?? rec;
    if (!rec.urgent) await this.refreshCard(updated);
    await this.alerts.danger(rec, updated, kind);
  }

  /** Creates the case topic and posts the card; returns the topic id. Throttled, one at a time. */
  postCard(rec: CaseRecord): Promise<number> {
    return this.topic.postCard(rec);
  }

  refreshCard(rec: CaseRecord): Promise<void> {
    return this.topic.refreshCard(rec);
  }

  private event(type: string, by: string, detail?: string): AuditEvent {
    return auditEvent(this.now, type, by, detail);
  }
}
