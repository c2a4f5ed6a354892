/**
 * Delivers the referral notices (the store's outbox stream, written in the same step as the
 * change they announce) to people through the ReferralNotifier the bot implements: at least
 * once, once per event id, a crashed consumer's entries taken over, an entry that keeps
 * failing dead-lettered and reported. The notifier gets the referral as it is now: after
 * /forget it has no packet and no chat id, and a family notice is then dropped.
 */
import { PollLoop, Undeliverable, type PollResult } from '../store/stream-delivery.js';
import type { ReferralStore } from './store.js';
import { OPEN_STATUSES, type Referral, type ReferralEvent, type ReferralNotifier, type WorkerNotice } from './types.js';

/** Notices that ask the holder to act. */
const ASK_TO_ACT: readonly WorkerNotice[] = ['new', 'reminder', 'reassigned_to_you'];

/**
 * Longer than the slowest live send (auto-retry waits up to 5 × 60 s, src/runtime/telegram-limits.ts),
 * so a slow send is never taken over and sent twice; a crashed consumer's notices go out this late.
 */
export const NOTICE_IDLE_MS = 6 * 60_000;

export interface ReferralDeliveryOptions {
  store: ReferralStore;
  notifier: ReferralNotifier;
  /** This process's name in the consumer group (unique per process). */
  consumer: string;
  /** An event given up (after maxAttempts failures, or undeliverable: worker not linked): tell the admins. No personal data in it. */
  onDead?: (event: ReferralEvent, reason: string, attempts: number) => void | Promise<void>;
  /** A polling round failed (Redis down): log it; the loop goes on. */
  onError?: (error: unknown) => void;
  /** Failures before an event is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** An entry another consumer took this long ago and did not acknowledge is taken over. Default NOTICE_IDLE_MS. */
  minIdleMs?: number;
  /** What a worker may see of a referral (psychologists' notes); as is by default. */
  redact?: (referral: Referral, workerId: string) => Referral;
}

export class ReferralDelivery {
  private readonly loop: PollLoop;

  constructor(private readonly options: ReferralDeliveryOptions) {
    this.loop = new PollLoop(() => this.poll(), options.onError);
  }

  /** One round: take over stale entries, read new ones, deliver each. */
  poll(): Promise<PollResult> {
    const o = this.options;
    return o.store.outbox().poll({
      consumer: o.consumer,
      handler: (event) => this.deliver(event),
      ...(o.onDead ? { onDead: o.onDead } : {}),
      ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
      minIdleMs: o.minIdleMs ?? NOTICE_IDLE_MS,
    });
  }

  /** Polls every `intervalMs` until stop(). */
  start(intervalMs = 1_000): void {
    this.loop.start(intervalMs);
  }

  /** Stops polling; resolves when the round in progress ends. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async deliver(event: ReferralEvent): Promise<void> {
    const { store, notifier, redact } = this.options;
    const referral = await store.get(event.referralId);
    if (!referral) return; // gone: nothing left to say
    if (event.kind === 'family') {
      if (referral.familyChatId === undefined) return; // withdrew (/forget) meanwhile
      await notifier.toFamily(referral.familyChatId, referral, event.notice);
      return;
    }
    // "Act on this" notices that went stale before delivery (re-routed, withdrawn) are not sent.
    const holder = referral.workerId ?? referral.supervisorId;
    if (ASK_TO_ACT.includes(event.notice) && (!OPEN_STATUSES.includes(referral.status) || holder !== event.to)) return;
    if (event.notice === 'escalated' && !OPEN_STATUSES.includes(referral.status)) return;
    const userId = await store.userOf(event.to);
    if (userId === undefined) throw new Undeliverable('not_linked');
    await notifier.toWorker(userId, redact ? redact(referral, event.to) : referral, event.notice);
  }
}
