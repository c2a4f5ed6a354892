/**
 * Chats in parallel, one order per chat, through the real bot, the real
 * Telegram limits (pacer and auto-retry), the Redis inbox, the update dedup
 * and the chat lock on a real Redis, fed by the real long-polling loop.
 * Telegram is in-process: one family's sendMessage hangs (a slow Telegram) until
 * the test lets it go. Counting, not timing: the other family is answered while
 * the first family's call is still hanging.
 */
import type { Transformer } from 'grammy';
import type { Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { createBot } from '../../src/bot/create-bot.js';
import { FAKE_BOT_INFO, InProcessTelegram } from '../../src/bot/in-process-api.js';
import { createLogger } from '../../src/log.js';
import { RedisStreamInbox } from '../../src/runtime/inbox.js';
import { LongPolling } from '../../src/runtime/polling.js';
import { useTelegramLimits } from '../../src/runtime/telegram-limits.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('test:parallel');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never: ${what}`);
}

/** getUpdates with Telegram's offset semantics over a list the test appends to. */
class FakeUpdates {
  private readonly updates: Update[] = [];
  private nextId = 1;
  fetches = 0;
  push(body: Omit<Update, 'update_id'>): void {
    this.updates.push({ update_id: this.nextId++, ...body } as Update);
  }
  async answer(offset: number, signal?: AbortSignal): Promise<Update[]> {
    this.fetches++;
    for (let i = 0; i < 20 && !signal?.aborted; i++) {
      const fresh = this.updates.filter((u) => u.update_id >= offset);
      if (fresh.length > 0) return fresh;
      await new Promise((r) => setTimeout(r, 5));
    }
    return [];
  }
}

const chat = (id: number) => ({ id, type: 'private' as const, first_name: 'T' });
const user = (id: number) => ({ id, is_bot: false, first_name: 'T', language_code: 'ru' });
let messageId = 1;
const say = (id: number, text: string) => ({
  message: { message_id: messageId++, date: 0, chat: chat(id), from: user(id), text, ...(text.startsWith('/') ? { entities: [{ type: 'bot_command' as const, offset: 0, length: text.length }] } : {}) },
});

describe('chats in parallel, one order per chat (long polling)', () => {
  it("a family whose Telegram calls hang holds only its own chat: another family's /start is answered meanwhile, and polling goes on", async () => {
    const SLOW = 610_001;
    const OTHER = 610_002;
    const telegram = new InProcessTelegram();
    const feed = new FakeUpdates();
    const slowCall = gate();
    let slowCallsWaiting = 0;
    const fake: Transformer = async (prev, method, payload, signal) => {
      if (method === 'getUpdates') {
        const result = await feed.answer(Number((payload as { offset?: number }).offset ?? 0), signal as AbortSignal | undefined);
        return { ok: true, result } as never;
      }
      if (method === 'sendMessage' && Number((payload as { chat_id: number }).chat_id) === SLOW) {
        slowCallsWaiting++;
        await slowCall.promise;
        slowCallsWaiting--;
      }
      return telegram.transformer(prev, method, payload, signal);
    };
    const deps = createDeps({ redis, prefix, dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'test-salt', today: () => '2026-11-21' });
    const bot = createBot('0:test', deps, { botInfo: FAKE_BOT_INFO });
    bot.api.config.use(fake);
    useTelegramLimits(bot.api);
    const inbox = new RedisStreamInbox(redis, { prefix, pollMs: 5 });
    inbox.start((u) => bot.handleUpdate(u));
    const polling = new LongPolling(bot.api, inbox, { timeoutSeconds: 1 });
    polling.start();
    const repliesTo = (id: number) => telegram.calls.filter((c) => c.method === 'sendMessage' && Number(c.payload.chat_id) === id).length;

    try {
      feed.push(say(SLOW, '/start'));
      feed.push(say(SLOW, '/start')); // the same family again: waits behind its first update
      await until(() => slowCallsWaiting === 1, 'the slow family’s reply is hanging at Telegram');
      const fetchesWhileBlocked = feed.fetches;

      feed.push(say(OTHER, '/start'));
      await until(() => repliesTo(OTHER) >= 1, 'the other family got its greeting');
      // Still hanging: the other family was not made to wait for it, and polling kept fetching.
      expect(slowCallsWaiting).toBe(1);
      expect(repliesTo(SLOW)).toBe(0);
      expect(feed.fetches).toBeGreaterThan(fetchesWhileBlocked);
      // The other family's update is done; the slow family's two are still held, its second not started beside its first.
      await until(() => inbox.inHand === 2, 'the other family’s update finished');
      expect(slowCallsWaiting).toBe(1);

      slowCall.open();
      await until(() => inbox.inHand === 0, 'everything handled');
      expect(repliesTo(SLOW)).toBeGreaterThanOrEqual(2);
      expect(repliesTo(OTHER)).toBe(1);
    } finally {
      slowCall.open();
      await polling.stop();
      await inbox.stop(5000);
    }
  });
});
