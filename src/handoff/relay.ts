/**
 * The relay between a family's chat and their case topic, through an outbox:
 * every relayed message is recorded before it is sent, sent once under a
 * lease, resent by the tick when a send failed or the process died, and moved
 * to the dead letters when Telegram keeps refusing it.
 */
import { GrammyError } from 'grammy';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { runtimeMetrics } from '../runtime/metrics.js';
import type { HandoffParts } from './deps.js';
import { isFamilyGone, isNeverCopyable, isTopicGone } from './telegram-errors.js';
import type { CaseTimers } from './timers.js';
import type { CaseTopic } from './topic.js';
import type { CaseRecord, RelayEntry } from './types.js';

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

export class RelayOutbox {
  /** This process's name in the relay outbox's consumer group. */
  private readonly sender = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

  constructor(
    private readonly deps: HandoffParts,
    private readonly topic: CaseTopic,
    private readonly timers: CaseTimers,
    /** The family blocked the bot: the case learns it (the lifecycle's job, not the relay's). */
    private readonly onFamilyGone: (rec: CaseRecord) => Promise<void>,
  ) {}

  /** A family's message while their case is open: recorded, then copied into the case topic. */
  async fromFamily(rec: CaseRecord, updateId: number, messageId: number): Promise<void> {
    if (rec.chatId === undefined) return; // closed meanwhile
    const entry: RelayEntry = { key: `f${updateId}`, caseId: rec.id, direction: 'to_operators', fromChatId: rec.chatId, messageId, topicId: rec.topicId };
    if (!(await this.deps.store.recordRelay(entry, { leaseMs: RELAY_LEASE_MS }))) return; // delivered already (the same update twice)
    await this.deps.store.setFields(rec.id, { lastFamilyMessageAt: this.deps.now() });
    if (rec.status === 'claimed') await this.timers.startNextResponse(rec.id);
    await this.sendRecorded(entry);
  }

  /**
   * A message in a case topic. Only the operator who holds the case reaches the
   * family; anything else written there stays internal. Returns whether relayed.
   */
  async fromTopic(topicId: number, fromUserId: number, updateId: number, messageId: number): Promise<boolean> {
    const rec = await this.deps.store.caseOfTopic(topicId);
    if (!rec || rec.status !== 'claimed' || rec.operatorId !== fromUserId) return false;
    const entry: RelayEntry = { key: `o${updateId}`, caseId: rec.id, direction: 'to_family', fromChatId: this.deps.config.groupId, messageId };
    if (!(await this.deps.store.recordRelay(entry, { leaseMs: RELAY_LEASE_MS }))) return true;
    const at = this.deps.now();
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
    if (rec) await this.topic.notice(rec, `ops:relayUndeliverable.${entry.direction}`);
  }

  /** Sends one recorded relay and acknowledges it; heals a deleted topic and marks a family that blocked the bot. */
  async send(entry: RelayEntry): Promise<void> {
    const rec = await this.deps.store.get(entry.caseId);
    if (!rec) return this.deps.store.ackRelay(entry.key);
    try {
      if (entry.direction === 'to_operators') {
        const topicId = rec.topicId ?? (await this.topic.postCard(rec));
        await this.copyToTopic(rec, topicId, entry);
      } else {
        if (rec.status === 'family_unreachable' || !rec.chatId) return this.deps.store.ackRelay(entry.key);
        await this.deps.api.copyMessage(rec.chatId, entry.fromChatId, entry.messageId);
      }
      await this.deps.store.ackRelay(entry.key);
      runtimeMetrics.relayDeliveries.inc({ direction: entry.direction, result: 'delivered' });
    } catch (e) {
      if (entry.direction === 'to_family' && isFamilyGone(e)) {
        await this.onFamilyGone(rec);
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
      const fresh = await this.topic.postCard({ ...rec, topicId: undefined });
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
}
