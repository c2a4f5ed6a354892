/** A referral service on a fake clock with a notifier that records what people would be told. */
import { WorkingHours } from '../../src/handoff/hours.js';
import { MemoryReferralStore } from '../../src/referral/memory-store.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import { ReferralService } from '../../src/referral/service.js';
import type { ReferralStore } from '../../src/referral/store.js';
import type { Directory, FamilyNotice, Referral, ReferralNotifier, WorkerNotice } from '../../src/referral/types.js';
import type { Redis } from '../../src/store/redis.js';
import { T0, testDirectory } from './fixtures.js';

export interface Told {
  to: string;
  notice: WorkerNotice | FamilyNotice;
  referralId: string;
  /** What the notifier was handed, for checks on redaction and erasure. */
  referral: Referral;
}

export class RecordingNotifier implements ReferralNotifier {
  told: Told[] = [];
  async toWorker(telegramUserId: number, referral: Referral, notice: WorkerNotice): Promise<void> {
    this.told.push({ to: `user:${telegramUserId}`, notice, referralId: referral.id, referral });
  }
  async toFamily(chatId: number, referral: Referral, notice: FamilyNotice): Promise<void> {
    this.told.push({ to: `chat:${chatId}`, notice, referralId: referral.id, referral });
  }
  /** "who:notice" lines, cleared. */
  take(): string[] {
    const lines = this.told.map((t) => `${t.to}:${t.notice}`);
    this.told = [];
    return lines;
  }
}

/** Telegram user ids of the linked directory workers in the tests. */
export const USER = { 'w-ast-1': 101, 'w-ast-2': 102, 'w-ast-psy': 103, 's-ast': 104, 'w-alm-1': 201, 's-alm': 204 } as const;

/** The directory worker acting, as the service sees a linked Telegram user. */
export const as = (workerId: keyof typeof USER) => ({ kind: 'user', userId: USER[workerId] }) as const;

export interface Harness {
  service: ReferralService;
  store: ReferralStore;
  notifier: RecordingNotifier;
  clock: { now: number };
  /** Runs the delivery until nothing is left and returns what people were told. */
  deliver(): Promise<string[]>;
}

let seq = 0;

export async function makeHarness(kind: 'memory' | 'redis', redis: Redis | undefined, prefix: string, opts: { directory?: Directory; ackMinutes?: number; hours?: string; regions?: readonly string[] } = {}): Promise<Harness> {
  const clock = { now: T0 };
  const store: ReferralStore =
    kind === 'memory' ? new MemoryReferralStore({ now: () => clock.now }) : new RedisReferralStore(redis!, { prefix: `${prefix}${++seq}:` });
  const service = new ReferralService({
    store,
    directory: opts.directory ?? testDirectory(),
    config: { ackMinutes: opts.ackMinutes ?? 60, hours: WorkingHours.parse(opts.hours ?? 'mon-fri 09:00-18:00') },
    now: () => clock.now,
    ...(opts.regions ? { regions: opts.regions } : {}),
  });
  for (const [workerId, userId] of Object.entries(USER)) {
    const invite = await service.issueInvite(workerId);
    await service.redeemInvite(`w-${invite.code}`, userId);
  }
  const notifier = new RecordingNotifier();
  const delivery = service.delivery({ notifier, consumer: 'test', minIdleMs: 0 });
  return {
    service,
    store,
    notifier,
    clock,
    async deliver() {
      for (let i = 0; i < 10; i++) {
        const r = await delivery.poll();
        if (r.delivered + r.failed + r.dead + r.duplicates === 0) break;
      }
      return notifier.take();
    },
  };
}
