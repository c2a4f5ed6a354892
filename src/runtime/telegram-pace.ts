/**
 * The pace the bot keeps for Telegram (its published limits): about one message a
 * second per chat in bursts, 20 a minute per group, 30 a second in all. A call to a
 * chat waits for the chat's previous call to finish and for its gap, then for room
 * in the bot-wide second; calls to different chats never wait for each other's gap.
 * Only calls that name a `chat_id` are paced (answerCallbackQuery, getMe… are not).
 *
 * Written here rather than taken from Bottleneck (@grammyjs/transformer-throttler):
 * same rules, a few timers instead of a job scheduler, which took most of a bot
 * process's CPU per update in the scale bench (~2.5× the updates per second without
 * it, bench/README.md). Per process: N processes may send up
 * to N times the bot-wide rate (Telegram then answers 429 and auto-retry waits).
 */
import type { Transformer } from 'grammy';

export interface PaceLimits {
  /** Calls started in any second, over all chats (Infinity: no bot-wide limit). */
  perSecond: number;
  /** Between the starts of two calls to one private chat; one call at a time per chat. */
  privateGapMs: number;
  /** Between the starts of two calls to one group or channel; one at a time. */
  groupGapMs: number;
  /** Calls started in any minute to one group or channel. */
  groupPerMinute: number;
}

/** Private chats get short bursts: a screen is often two calls (remove the old keyboard, send the next). */
export const PACE: PaceLimits = { perSecond: 30, privateGapMs: 100, groupGapMs: 1000, groupPerMinute: 20 };

/** At most `limit` starts in any `windowMs`. */
class StartWindow {
  private readonly starts: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** How long until one more may start (0: now). */
  waitMs(now: number): number {
    while (this.starts.length && this.starts[0]! <= now - this.windowMs) this.starts.shift();
    return this.starts.length < this.limit ? 0 : this.starts[0]! + this.windowMs - now;
  }

  take(now: number): void {
    this.starts.push(now);
  }
}

/** The bot-wide second: waiters start in the order they asked. */
class BotWide {
  private readonly window: StartWindow | undefined;
  private readonly waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(perSecond: number) {
    this.window = Number.isFinite(perSecond) ? new StartWindow(perSecond, 1000) : undefined;
  }

  acquire(): Promise<void> | undefined {
    if (!this.window) return undefined;
    if (!this.waiting.length && this.window.waitMs(Date.now()) === 0) {
      this.window.take(Date.now());
      return undefined;
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.pump();
    });
  }

  private pump(): void {
    if (this.timer) return;
    while (this.waiting.length) {
      const now = Date.now();
      const wait = this.window!.waitMs(now);
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.window!.take(now);
      this.waiting.shift()!();
    }
  }
}

/** One chat's calls: one at a time, starts `gapMs` apart (and for a group, a minute's window). */
interface Lane {
  tail: Promise<unknown>;
  lastStart: number;
  queued: number;
  minute: StartWindow | undefined;
}

export class TelegramPacer {
  private readonly lanes = new Map<string, Lane>();
  private readonly botWide: BotWide;

  constructor(private readonly limits: PaceLimits = PACE) {
    this.botWide = new BotWide(limits.perSecond);
  }

  /** Chats with a call queued or running (idle chats are forgotten once their gap has passed). */
  get activeChats(): number {
    return this.lanes.size;
  }

  run<T>(chat: string | number, call: () => Promise<T>): Promise<T> {
    const key = String(chat);
    const group = typeof chat === 'string' ? chat.startsWith('@') || Number(chat) < 0 : chat < 0;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { tail: Promise.resolve(), lastStart: -Infinity, queued: 0, minute: group ? new StartWindow(this.limits.groupPerMinute, 60_000) : undefined };
      this.lanes.set(key, lane);
    }
    const gapMs = group ? this.limits.groupGapMs : this.limits.privateGapMs;
    const own = lane;
    own.queued++;
    const result = own.tail.then(async () => {
      await this.laneTurn(own, gapMs);
      await this.botWide.acquire();
      return call();
    });
    own.tail = result.then(settled, settled);
    void own.tail.then(() => this.release(key, own, gapMs));
    return result;
  }

  private async laneTurn(lane: Lane, gapMs: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      const wait = Math.max(lane.lastStart + gapMs - now, lane.minute?.waitMs(now) ?? 0);
      if (wait <= 0) {
        lane.lastStart = now;
        lane.minute?.take(now);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** A chat with nothing queued is forgotten once its gap (for a group, its minute) has passed since its last start. */
  private release(key: string, lane: Lane, gapMs: number): void {
    if (--lane.queued > 0) return;
    const forget = () => {
      if (lane.queued === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
    };
    const left = lane.lastStart + (lane.minute ? Math.max(gapMs, 60_000) : gapMs) - Date.now();
    if (left <= 0) forget();
    else setTimeout(forget, left).unref();
  }
}

function settled(): void {}

/** The Bot API transformer: paces calls that name a chat. */
export function telegramPace(limits: PaceLimits = PACE): Transformer {
  const pacer = new TelegramPacer(limits);
  return (prev, method, payload, signal) => {
    const chat = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    if (typeof chat !== 'number' && typeof chat !== 'string') return prev(method, payload, signal);
    return pacer.run(chat, () => prev(method, payload, signal));
  };
}
