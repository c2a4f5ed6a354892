/**
 * The pace kept for Telegram (src/runtime/telegram-pace.ts), on a fake clock: one
 * call at a time per chat with its gap, chats independent of each other, at most
 * `perSecond` starts in any second over all chats, `groupPerMinute` per group.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TelegramPacer, telegramPace, type PaceLimits } from '../../src/runtime/telegram-pace.js';

const LIMITS: PaceLimits = { perSecond: 30, privateGapMs: 100, groupGapMs: 1000, groupPerMinute: 20 };

/** Records when each call started and ended (fake ms since the test began), each taking `ms`. */
function recorder(ms = 0) {
  const t0 = Date.now();
  const log: { name: string; start: number; end: number }[] = [];
  let running = 0;
  let most = 0;
  const call = (name: string) => async () => {
    const entry = { name, start: Date.now() - t0, end: -1 };
    log.push(entry);
    most = Math.max(most, ++running);
    if (ms) await new Promise((r) => setTimeout(r, ms));
    running--;
    entry.end = Date.now() - t0;
    return name;
  };
  return { log, call, most: () => most };
}

/** The most starts in any window of `windowMs` (starts sorted). */
function mostInWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the pace kept for Telegram', () => {
  it('one private chat: calls run one at a time, in order, their starts at least the gap apart', async () => {
    const pacer = new TelegramPacer(LIMITS);
    const rec = recorder(30);
    const done = Promise.all(['a', 'b', 'c', 'd'].map((n) => pacer.run(42, rec.call(n))));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await done).toEqual(['a', 'b', 'c', 'd']);
    expect(rec.log.map((e) => e.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(rec.most()).toBe(1);
    for (let i = 1; i < rec.log.length; i++) {
      expect(rec.log[i]!.start - rec.log[i - 1]!.start).toBeGreaterThanOrEqual(100);
      expect(rec.log[i]!.start).toBeGreaterThanOrEqual(rec.log[i - 1]!.end);
    }
  });

  it('different chats do not wait for each other’s gap', async () => {
    const pacer = new TelegramPacer(LIMITS);
    const rec = recorder();
    const done = Promise.all([1, 2, 3, 4, 5].map((chat) => pacer.run(chat, rec.call(String(chat)))));
    await vi.advanceTimersByTimeAsync(0);
    await done;
    expect(rec.log.map((e) => e.start)).toEqual([0, 0, 0, 0, 0]);
  });

  it('over all chats, no more than perSecond calls start in any second, first come first served', async () => {
    const pacer = new TelegramPacer(LIMITS);
    const rec = recorder();
    const done = Promise.all(Array.from({ length: 75 }, (_, i) => pacer.run(1000 + i, rec.call(String(i)))));
    await vi.advanceTimersByTimeAsync(3_000);
    await done;
    const starts = rec.log.map((e) => e.start);
    expect(mostInWindow(starts, 1000)).toBe(30);
    expect(rec.log.map((e) => e.name)).toEqual(Array.from({ length: 75 }, (_, i) => String(i)));
    expect(Math.max(...starts)).toBe(2000); // 30 at 0 ms, 30 at 1000, the last 15 at 2000
  });

  it('a group: one call at a time, a second apart, and at most groupPerMinute in any minute', async () => {
    const pacer = new TelegramPacer(LIMITS);
    const rec = recorder();
    const done = Promise.all(Array.from({ length: 25 }, (_, i) => pacer.run(-100200, rec.call(String(i)))));
    await vi.advanceTimersByTimeAsync(120_000);
    await done;
    const starts = rec.log.map((e) => e.start);
    expect(mostInWindow(starts, 60_000)).toBe(20);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(starts[20]).toBeGreaterThanOrEqual(60_000); // the 21st waits for the first to leave the minute
  });

  it('a failed call does not stall its chat, and its error reaches the caller', async () => {
    const pacer = new TelegramPacer(LIMITS);
    const failing = pacer.run(7, () => Promise.reject(new Error('Bad Gateway')));
    const next = pacer.run(7, async () => 'after');
    const failed = expect(failing).rejects.toThrow('Bad Gateway');
    await vi.advanceTimersByTimeAsync(200);
    await failed;
    expect(await next).toBe('after');
  });

  it('idle chats are forgotten once their gap has passed (memory stays bounded)', async () => {
    const pacer = new TelegramPacer({ ...LIMITS, perSecond: Infinity });
    await Promise.all(Array.from({ length: 50 }, (_, i) => pacer.run(i + 1, async () => i)));
    await pacer.run(-100, async () => 'group');
    expect(pacer.activeChats).toBe(51);
    await vi.advanceTimersByTimeAsync(150);
    expect(pacer.activeChats).toBe(1); // the group keeps its minute's count
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pacer.activeChats).toBe(0);
  });

  it('the transformer paces calls that name a chat and lets the others through at once', async () => {
    const pace = telegramPace(LIMITS);
    const started: string[] = [];
    const prev = (async (method: string) => {
      started.push(method);
      return { ok: true, result: true };
    }) as never;
    const calls = [
      pace(prev, 'sendMessage', { chat_id: 5, text: 'a' } as never),
      pace(prev, 'sendMessage', { chat_id: 5, text: 'b' } as never),
      pace(prev, 'answerCallbackQuery', { callback_query_id: 'x' } as never),
    ];
    await vi.advanceTimersByTimeAsync(0);
    expect([...started].sort()).toEqual(['answerCallbackQuery', 'sendMessage']);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all(calls);
    expect([...started].sort()).toEqual(['answerCallbackQuery', 'sendMessage', 'sendMessage']);
  });
});
