/**
 * The hotline handoff: opens cases, lets operators take, transfer and close
 * them, relays messages both ways through one forum topic per case, and keeps
 * the SLA clocks. Every status change goes through the handoff machine and is
 * written compare-and-set; every relayed message is recorded before it is sent.
 */
import { GrammyError, type Api } from 'grammy';
import { createActor, type SnapshotFrom } from 'xstate';
import { handoffMachine, statusOf, type HandoffEvent } from '../../flows/handoff/machine.js';
import type { Lang } from '../engine/types.js';
import type { Translator } from '../i18n/i18n.js';
import type { Logger } from '../log.js';
import { caseCard, caseCardKeyboard, topicName } from './card.js';
import type { WorkingHours } from './hours.js';
import type { HandoffStore } from './store.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { runtimeMetrics } from '../runtime/metrics.js';
import type { AuditEvent, CaseRecord, CaseSummary, Outcome, RelayEntry } from './types.js';

export interface HandoffConfig {
  /** The operators' forum supergroup. */
  groupId: number;
  operatorIds: number[];
  supervisorIds: number[];
  hours: WorkingHours;
  /** SLA: minutes of working time to the first operator reply, and between replies. */
  firstResponseMinutes: number;
  nextResponseMinutes: number;
  /** Show the operator's first name to the family. */
  showOperatorName: boolean;
  /** The language of cards and notices in the operators' group. */
  staffLang: Lang;
}

export interface HandoffDeps {
  store: HandoffStore;
  api: Api;
  translator: Translator;
  log: Logger;
  config: HandoffConfig;
  now?: () => number;
  /** Case ids: short, unambiguous, no personal data. */
  newCaseId?: () => string;
}

type Snapshot = SnapshotFrom<typeof handoffMachine>;

export type OpenResult = { opened: true; record: CaseRecord; place?: number } | { opened: false; record: CaseRecord };

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'; // no 0/O, 1/I

/**
 * One urgent announcement per family in this window: it mentions every
 * operator, and a family opening and cancelling urgent cases must not ping them
 * all each time. Later urgent cases still go to the front of the line with a 🔴 topic.
 */
export const URGENT_ANNOUNCEMENT_WINDOW_MS = 10 * 60_000;

export function randomCaseId(): string {
  return Array.from({ length: 6 }, () => ALPHABET[Math.floor(Math.random() * ALPHABET.length)]).join('');
}

/** Telegram's answer when a forum topic no longer exists. */
const isTopicGone = (e: unknown) => e instanceof GrammyError && /thread not found|TOPIC_DELETED|TOPIC_ID_INVALID|TOPIC_CLOSED/i.test(e.description);
/** Telegram's answer when the family blocked the bot or deleted their account. */
const isFamilyGone = (e: unknown) => e instanceof GrammyError && e.error_code === 403;
/** A 400 Telegram will give every time (a service message cannot be copied), as opposed to a limit or an outage. */
const isNeverCopyable = (e: unknown) => e instanceof GrammyError && e.error_code === 400 && !/too many requests/i.test(e.description);

/**
 * The relay outbox (src/handoff/store.ts claimUnsent). The lease covers the
 * longest live send (auto-retry waits up to 5 × 60 s, plus the group throttle),
 * so no resend goes out while the first send may still arrive; a relay whose
 * sender failed is tried again after RELAY_IDLE_MS.
 */
export const RELAY_LEASE_MS = 6 * 60_000;
export const RELAY_IDLE_MS = 30_000;
/** Sends before a relay goes to the dead-letter stream: Telegram's "never" soon, anything else after a while. */
export const RELAY_MAX_NEVER_ATTEMPTS = 3;
export const RELAY_MAX_ATTEMPTS = 20;

export class HandoffService {
  private readonly now: () => number;
  /** This process's name in the relay outbox's consumer group. */
  private readonly sender = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly newCaseId: () => string;
  /** Topic creation is throttled: Telegram allows about 20 messages a minute in a group. */
  private topicQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: HandoffDeps) {
    this.now = deps.now ?? Date.now;
    this.newCaseId = deps.newCaseId ?? randomCaseId;
  }

  /** The handoff's clock: the operators' commands and the family's side read time here, so one clock drives them all. */
  time(): number {
    return this.now();
  }

  get store(): HandoffStore {
    return this.deps.store;
  }

  operatorIds(): number[] {
    return this.deps.config.operatorIds;
  }

  isOperator(userId: number, granted: number[] = []): boolean {
    const c = this.deps.config;
    return c.operatorIds.includes(userId) || c.supervisorIds.includes(userId) || granted.includes(userId);
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
    const actor = createActor(handoffMachine, { input: { onDuty } }).start();
    const snapshot = actor.getPersistedSnapshot();
    const value = actor.getSnapshot().value;
    actor.stop();
    const record: CaseRecord = {
      id: '',
      chatId,
      lang,
      region: opts.region,
      urgent: opts.urgent,
      status: statusOf(value),
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
    if (record.status === 'waiting') {
      await this.deps.store.schedule(record.id, 'first_response', this.deps.config.hours.deadline(at, this.deps.config.firstResponseMinutes));
    } else {
      await this.deps.store.schedule(record.id, 'opening', this.deps.config.hours.nextOpening(at));
    }
    await this.postCard(record);
    if (record.urgent) await this.announceUrgent(record);
    return { opened: true, record, place: await this.deps.store.placeInLine(record.id) };
  }

  /** Applies one machine event to a case, compare-and-set; retries on a concurrent change. */
  async apply(caseId: string, event: HandoffEvent, audit: AuditEvent, fields: Partial<CaseRecord> = {}): Promise<CaseRecord | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const rec = await this.deps.store.get(caseId);
      if (!rec) return undefined;
      const next = this.transition(rec, event);
      if (!next) return undefined; // the machine refused: nothing changes
      const updated = await this.deps.store.update(caseId, rec.version, { status: next.status, snapshot: next.snapshot, fields: { ...fields, ...next.fields } }, audit);
      if (updated) return updated;
    }
    throw new Error(`case ${caseId}: too many concurrent changes`);
  }

  /** What the machine says an event does to a case; undefined when it does nothing. */
  transition(rec: CaseRecord, event: HandoffEvent): { status: CaseRecord['status']; snapshot: unknown; fields: Partial<CaseRecord> } | undefined {
    const actor = createActor(handoffMachine, { snapshot: rec.snapshot as Snapshot, input: { onDuty: true } }).start();
    const before = actor.getSnapshot();
    actor.send(event);
    const after = actor.getSnapshot();
    const snapshot = actor.getPersistedSnapshot();
    actor.stop();
    if (after === before) return undefined;
    const fields: Partial<CaseRecord> = { operatorId: after.context.operatorId ?? undefined };
    if (after.context.outcome) fields.outcome = after.context.outcome;
    if (after.value === 'closed') fields.closedAt = this.now();
    return { status: statusOf(after.value), snapshot, fields };
  }

  /** Take: exactly one operator wins; the others learn who has it. */
  async claim(caseId: string, operatorId: number): Promise<{ won: boolean; holder?: number; record?: CaseRecord }> {
    let rec = await this.deps.store.get(caseId);
    if (!rec) return { won: false };
    if (rec.status === 'out_of_hours') {
      // The store's atomic claim takes waiting cases only: an operator taking an
      // out-of-hours case opens the line for it first, then the one claim decides.
      await this.joinLine(rec.id, String(operatorId));
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
    await this.tellFamily(record, 'handoff.family.operatorJoined', { name: await this.operatorLabel(record) });
    await this.notifyPlaces();
    return { won: true, record };
  }

  async release(caseId: string, by: number): Promise<CaseRecord | undefined> {
    const rec = await this.apply(caseId, { type: 'RELEASE' }, this.event('released', String(by)));
    if (!rec) return undefined;
    await this.deps.store.schedule(caseId, 'first_response', this.deps.config.hours.deadline(this.now(), this.deps.config.firstResponseMinutes));
    await this.refreshCard(rec);
    await this.tellFamily(rec, 'handoff.family.backInLine');
    return rec;
  }

  async transfer(caseId: string, by: number, to: number): Promise<CaseRecord | undefined> {
    const rec = await this.apply(caseId, { type: 'TRANSFER', operatorId: to }, this.event('transferred', String(by), String(to)));
    if (!rec) return undefined;
    await this.refreshCard(rec);
    if (rec.topicId) {
      // The receiving operator is mentioned in the topic, so the case does not sit unnoticed.
      const text = this.deps.translator.t(this.deps.config.staffLang, 'ops:transferredTo', { id: rec.id, mention: `<a href="tg://user?id=${to}">${to}</a>` });
      await this.deps.api.sendMessage(this.deps.config.groupId, text, { message_thread_id: rec.topicId, parse_mode: 'HTML' }).catch(() => undefined);
    }
    return rec;
  }

  async close(caseId: string, by: string, outcome: Outcome): Promise<CaseRecord | undefined> {
    const event: HandoffEvent =
      outcome === 'cancelled_by_family' ? { type: 'FAMILY_CANCEL' } : outcome === 'ended_by_family' ? { type: 'FAMILY_END' } : outcome === 'forgotten' ? { type: 'FORGET' } : { type: 'CLOSE', outcome };
    // A closed case keeps no chat id: the family is told with the one it had.
    const chatId = (await this.deps.store.get(caseId))?.chatId;
    const rec = await this.apply(caseId, event, this.event('closed', by, outcome));
    if (!rec) return undefined;
    for (const kind of ['first_response', 'next_response', 'opening'] as const) await this.deps.store.cancelTimer(caseId, kind);
    await this.refreshCard(rec);
    // The family used /forget during the conversation: the store erased the case as it closed; their messages leave the topic now.
    if (rec.withdrawn) await this.deleteCopies(rec.id);
    if (by === 'family') await this.noticeInTopic(rec, `ops:familyClosed.${outcome}`);
    else if (outcome !== 'forgotten') await this.tellFamily({ ...rec, chatId }, 'handoff.family.closed', {}, !rec.withdrawn);
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
      if (rec.status === 'closed') await this.deleteCopies(rec.id);
      else await this.noticeInTopic(rec, 'ops:familyWithdrew');
    }
    return talking;
  }

  /** Deletes the family's messages copied into a case topic. Telegram refuses some (older than 48 hours): they stay, and nothing else depends on it. */
  private async deleteCopies(caseId: string): Promise<void> {
    const ids = await this.deps.store.takeCopies(caseId);
    for (let i = 0; i < ids.length; i += 100) {
      await this.deps.api.deleteMessages(this.deps.config.groupId, ids.slice(i, i + 100)).catch(() => this.deps.log.warn({ case: caseId }, 'could not delete the family’s messages from the topic'));
    }
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
      await this.noticeInTopic(back, 'ops:releasedRoleGone');
    }
    return released;
  }

  /** A family's message while their case is open: recorded, then copied into the case topic. */
  async fromFamily(rec: CaseRecord, updateId: number, messageId: number): Promise<void> {
    if (rec.chatId === undefined) return; // closed meanwhile
    const entry: RelayEntry = { key: `f${updateId}`, caseId: rec.id, direction: 'to_operators', fromChatId: rec.chatId, messageId, topicId: rec.topicId };
    if (!(await this.deps.store.recordRelay(entry, { leaseMs: RELAY_LEASE_MS }))) return; // delivered already (the same update twice)
    await this.deps.store.setFields(rec.id, { lastFamilyMessageAt: this.now() });
    if (rec.status === 'claimed') {
      await this.deps.store.schedule(rec.id, 'next_response', this.deps.config.hours.deadline(this.now(), this.deps.config.nextResponseMinutes));
    }
    await this.sendRecorded(entry);
  }

  /**
   * A message in a case topic. Only the operator who holds the case reaches the
   * family; anything else written there stays internal. Returns whether relayed.
   * The caller (operators.ts) first checks that the writer still has a role:
   * holding a case is not enough once the role is gone.
   */
  async fromTopic(topicId: number, fromUserId: number, updateId: number, messageId: number): Promise<boolean> {
    const rec = await this.deps.store.caseOfTopic(topicId);
    if (!rec || rec.status !== 'claimed' || rec.operatorId !== fromUserId) return false;
    const entry: RelayEntry = { key: `o${updateId}`, caseId: rec.id, direction: 'to_family', fromChatId: this.deps.config.groupId, messageId };
    if (!(await this.deps.store.recordRelay(entry, { leaseMs: RELAY_LEASE_MS }))) return true;
    const at = this.now();
    await this.deps.store.setFields(rec.id, { lastOperatorMessageAt: at, ...(rec.firstResponseAt ? {} : { firstResponseAt: at }) });
    await this.deps.store.cancelTimer(rec.id, 'first_response');
    await this.deps.store.cancelTimer(rec.id, 'next_response');
    await this.sendRecorded(entry);
    return true;
  }

  /**
   * Sends a relay just recorded (holding its lease). A failure leaves it in the
   * outbox for resendUnsent() instead of failing the update: the family would
   * otherwise be told "something went wrong, try again" and write the same thing twice.
   */
  private async sendRecorded(entry: RelayEntry): Promise<void> {
    try {
      await this.send(entry);
    } catch (e) {
      this.deps.log.warn({ case: entry.caseId, error: (e as Error).message.slice(0, 200) }, 'relay failed; it stays in the outbox');
      await this.sendFailed(entry, e).catch(() => undefined);
    }
  }

  /** Gives the lease back; a relay Telegram refuses again and again goes to the dead letters, with a word in the topic. */
  private async sendFailed(entry: RelayEntry, error: unknown): Promise<void> {
    runtimeMetrics.relayDeliveries.inc({ direction: entry.direction, result: 'retry' });
    const attempts = await this.deps.store.releaseRelay(entry.key);
    const never = isNeverCopyable(error);
    if (attempts < (never ? RELAY_MAX_NEVER_ATTEMPTS : RELAY_MAX_ATTEMPTS)) return;
    const reason = error instanceof GrammyError ? `${error.error_code} ${error.description}` : (error as Error).message;
    await this.deps.store.deadRelay(entry, reason, attempts);
    runtimeMetrics.deadLetters.inc({ what: 'relay' });
    this.deps.log.error({ case: entry.caseId, direction: entry.direction, attempts, error: reason.slice(0, 200) }, 'relay given up; kept in the dead-letter stream');
    const rec = await this.deps.store.get(entry.caseId);
    if (rec) await this.noticeInTopic(rec, `ops:relayUndeliverable.${entry.direction}`);
  }

  /** Sends one recorded relay and acknowledges it; heals a deleted topic and marks a family that blocked the bot. */
  async send(entry: RelayEntry): Promise<void> {
    const rec = await this.deps.store.get(entry.caseId);
    if (!rec) return this.deps.store.ackRelay(entry.key);
    try {
      if (entry.direction === 'to_operators') {
        const topicId = rec.topicId ?? (await this.postCard(rec));
        await this.copyToTopic(rec, topicId, entry);
      } else {
        if (rec.status === 'family_unreachable' || !rec.chatId) return this.deps.store.ackRelay(entry.key);
        await this.deps.api.copyMessage(rec.chatId, entry.fromChatId, entry.messageId);
      }
      await this.deps.store.ackRelay(entry.key);
      runtimeMetrics.relayDeliveries.inc({ direction: entry.direction, result: 'delivered' });
    } catch (e) {
      if (entry.direction === 'to_family' && isFamilyGone(e)) {
        await this.familyUnreachable(rec);
        await this.deps.store.ackRelay(entry.key);
        return;
      }
      throw e; // stays in the outbox; resendUnsent() tries again
    }
  }

  /** Copies a family's message into the topic, and remembers the copy so /forget can delete it there. */
  private async copyToTopic(rec: CaseRecord, topicId: number, entry: RelayEntry): Promise<void> {
    let copy;
    try {
      copy = await this.deps.api.copyMessage(this.deps.config.groupId, entry.fromChatId, entry.messageId, { message_thread_id: topicId });
    } catch (e) {
      if (!isTopicGone(e)) throw e;
      // Someone deleted the topic: open a new one with the card, then deliver there.
      this.deps.log.warn({ case: rec.id }, 'case topic was gone; recreating it');
      const fresh = await this.postCard({ ...rec, topicId: undefined });
      copy = await this.deps.api.copyMessage(this.deps.config.groupId, entry.fromChatId, entry.messageId, { message_thread_id: fresh });
    }
    await this.deps.store.keepCopy(rec.id, copy.message_id);
  }

  /**
   * The resend tick: relays recorded and not delivered (their send failed, or the
   * process died), each taken with its lease so that no relay is sent while
   * another sender still holds it. Returns how many were delivered.
   */
  async resendUnsent(): Promise<number> {
    let sent = 0;
    for (const entry of await this.deps.store.claimUnsent(this.sender, { idleMs: RELAY_IDLE_MS, leaseMs: RELAY_LEASE_MS, limit: 100 })) {
      try {
        await this.send(entry);
        sent++;
      } catch (e) {
        this.deps.log.warn({ case: entry.caseId, error: (e as Error).message.slice(0, 200) }, 'relay still failing; will retry');
        await this.sendFailed(entry, e).catch(() => undefined);
      }
    }
    return sent;
  }


  /**
   * Tells waiting families their new place when it changed meaningfully: they
   * moved up by three or more, or reached the front. Not on every movement.
   */
  async notifyPlaces(): Promise<void> {
    const line = await this.deps.store.waiting(200);
    for (const [i, rec] of line.entries()) {
      const place = i + 1;
      const told = rec.toldPlace;
      if (told === undefined || place >= told || (told - place < 3 && place > 1)) continue;
      await this.deps.store.setFields(rec.id, { toldPlace: place });
      await this.tellFamily(rec, 'handoff.family.placeUpdate', { place });
    }
  }

  /** Fires due SLA and opening timers. Run every few seconds by every process: each timer is taken once. */
  async fireDueTimers(): Promise<number> {
    const due = await this.deps.store.takeDue(this.now(), 50);
    for (const timer of due) {
      const rec = await this.deps.store.get(timer.caseId);
      // A closed case has no clock; a family who blocked the bot cannot be answered, so no breach either.
      if (!rec || rec.status === 'closed' || (rec.status === 'family_unreachable' && timer.kind !== 'opening')) continue;
      if (timer.kind === 'opening') {
        await this.joinLine(rec.id, 'system');
        continue;
      }
      await this.deps.store.audit(rec.id, this.event('sla_breach', 'system', timer.kind));
      runtimeMetrics.slaBreaches.inc({ kind: timer.kind });
      const t = this.deps.translator.bind(this.deps.config.staffLang);
      const text = t(`ops:slaBreach.${timer.kind}`, { id: rec.id });
      if (rec.topicId) await this.deps.api.sendMessage(this.deps.config.groupId, text, { message_thread_id: rec.topicId }).catch(() => undefined);
      for (const supervisor of this.deps.config.supervisorIds) {
        await this.deps.api.sendMessage(supervisor, text).catch(() => undefined);
      }
    }
    return due.length;
  }

  /** An out-of-hours case joins the waiting line (operators came on duty, or one took it) and its SLA clock starts. */
  private async joinLine(caseId: string, by: string): Promise<CaseRecord | undefined> {
    const opened = await this.apply(caseId, { type: 'OPENING' }, this.event('line_opened', by));
    if (!opened) return undefined;
    await this.deps.store.cancelTimer(caseId, 'opening');
    await this.deps.store.schedule(caseId, 'first_response', this.deps.config.hours.deadline(this.now(), this.deps.config.firstResponseMinutes));
    await this.refreshCard(opened);
    return opened;
  }

  async familyUnreachable(rec: CaseRecord): Promise<void> {
    const updated = await this.apply(rec.id, { type: 'FAMILY_BLOCKED' }, this.event('family_unreachable', 'system'));
    if (!updated) return;
    await this.refreshCard(updated);
    await this.noticeInTopic(updated, 'ops:familyUnreachable');
  }

  async markUrgent(rec: CaseRecord): Promise<void> {
    await this.deps.store.setFields(rec.id, { urgent: true });
    await this.deps.store.audit(rec.id, this.event('urgent', 'family'));
    const updated = (await this.deps.store.get(rec.id))!;
    await this.refreshCard(updated);
    await this.announceUrgent(updated);
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
    const t = this.deps.translator.bind(this.deps.config.staffLang);
    const holder = updated.status === 'claimed' ? updated.operatorId : undefined;
    const who = holder ? [holder] : this.deps.config.supervisorIds;
    const mentions = who.map((id) => `<a href="tg://user?id=${id}">${t(holder ? 'ops:holder' : 'ops:supervisor')}</a>`).join(' ');
    const text = t('ops:dangerInCase', { id: rec.id, kind: t(`ops:dangerKind.${kind}`), mentions });
    await this.deps.api
      .sendMessage(this.deps.config.groupId, text, { parse_mode: 'HTML', ...(updated.topicId ? { message_thread_id: updated.topicId } : {}) })
      .catch(() => this.deps.log.warn({ case: rec.id }, 'could not post the danger alert'));
  }

  /** Creates the case topic and posts the card; returns the topic id. Throttled, one at a time. */
  async postCard(rec: CaseRecord): Promise<number> {
    const run = this.topicQueue.then(async () => {
      const t = this.deps.translator.bind(this.deps.config.staffLang);
      const topic = await this.deps.api.createForumTopic(this.deps.config.groupId, topicName(rec), { icon_color: rec.urgent ? 0xff93b2 : 0x6fb9f0 });
      const card = await this.deps.api.sendMessage(this.deps.config.groupId, caseCard(rec, t, this.now()), {
        message_thread_id: topic.message_thread_id,
        reply_markup: caseCardKeyboard(rec, t),
      });
      await this.deps.store.setFields(rec.id, { topicId: topic.message_thread_id, cardMessageId: card.message_id });
      return topic.message_thread_id;
    });
    this.topicQueue = run.catch(() => undefined);
    return run;
  }

  async refreshCard(rec: CaseRecord): Promise<void> {
    if (!rec.topicId || !rec.cardMessageId) return;
    const t = this.deps.translator.bind(this.deps.config.staffLang);
    await this.deps.api
      .editMessageText(this.deps.config.groupId, rec.cardMessageId, caseCard(rec, t, this.now()), { reply_markup: caseCardKeyboard(rec, t) })
      .catch((e: unknown) => {
        if (!(e instanceof GrammyError && /not modified/.test(e.description))) this.deps.log.warn({ case: rec.id }, 'could not refresh the case card');
      });
    await this.deps.api.editForumTopic(this.deps.config.groupId, rec.topicId, { name: topicName(rec) }).catch(() => undefined);
  }

  private async announceUrgent(rec: CaseRecord): Promise<void> {
    if (rec.chatId === undefined || !(await this.deps.store.claimAnnouncement(rec.chatId, this.now(), URGENT_ANNOUNCEMENT_WINDOW_MS))) {
      this.deps.log.info({ case: rec.id }, 'urgent announcement held back: this family had one in the last 10 minutes');
      return;
    }
    // Everyone who may take it: configured operators and those an admin granted at run time.
    const operators = [...new Set([...this.deps.config.operatorIds, ...(await this.deps.store.granted('operator'))])];
    const t = this.deps.translator.bind(this.deps.config.staffLang);
    const mentions = operators.map((id, i) => `<a href="tg://user?id=${id}">${t('ops:mention', { n: i + 1 })}</a>`).join(' ');
    const text = t('ops:urgentAnnouncement', { id: rec.id, mentions });
    await this.deps.api.sendMessage(this.deps.config.groupId, text, { parse_mode: 'HTML' }).catch(() => undefined);
  }

  private async operatorLabel(rec: CaseRecord): Promise<string> {
    const t = this.deps.translator.bind(rec.lang);
    if (!this.deps.config.showOperatorName || !rec.operatorId) return t('handoff.family.anOperator');
    const member = await this.deps.api.getChatMember(this.deps.config.groupId, rec.operatorId).catch(() => undefined);
    return member?.user.first_name ?? t('handoff.family.anOperator');
  }

  private async tellFamily(rec: CaseRecord, key: string, vars: Record<string, string | number> = {}, feedback = false): Promise<void> {
    if (rec.status === 'family_unreachable' || !rec.chatId) return;
    const t = this.deps.translator.bind(rec.lang);
    const reply_markup = feedback
      ? { inline_keyboard: [[{ text: t('handoff.family.feedbackGood'), callback_data: `hf|${rec.id}|1` }, { text: t('handoff.family.feedbackBad'), callback_data: `hf|${rec.id}|0` }]] }
      : undefined;
    try {
      await this.deps.api.sendMessage(rec.chatId, `${t(key, vars)}${feedback ? `\n\n${t('handoff.family.feedbackQuestion')}` : ''}`, reply_markup ? { reply_markup } : {});
    } catch (e) {
      if (isFamilyGone(e)) await this.familyUnreachable(rec);
      else throw e;
    }
  }

  /** A line from the bot in the case topic (a card edit alone is easy to miss). */
  private async noticeInTopic(rec: CaseRecord, key: string): Promise<void> {
    if (!rec.topicId) return;
    const text = this.deps.translator.t(this.deps.config.staffLang, key, { id: rec.id });
    await this.deps.api.sendMessage(this.deps.config.groupId, text, { message_thread_id: rec.topicId }).catch(() => undefined);
  }

  private event(type: string, by: string, detail?: string): AuditEvent {
    return { type, by, at: this.now(), ...(detail ? { detail } : {}) };
  }
}
