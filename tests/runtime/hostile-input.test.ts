/**
 * Hostile and malformed input through the real bot: 100,000 fuzzed updates
 * (fast-check, seeded) never reach a family as a TypeError and never fail an
 * update; a chat that sent only junk leaves no key in Redis; a 5-million-
 * character text is read without overflowing the stack; a typed answer that
 * disagrees with earlier ones gets a kind reply in the family's language.
 */
import fc from 'fast-check';
import type { Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { malformedReason } from '../../src/runtime/update-shape.js';
import { sequenceKeyOf } from '../../src/runtime/update-key.js';
import type { RedisClient as Redis } from '../../src/store/redis.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { answerUntil, dialogOf, expectSafetyNet, factsOf, startScreening, text } from '../helpers/family-dialog.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

const SEED = 20261211;
const prefix = uniquePrefix('test:hostile');
let redis: Redis;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

/** A harness whose log lines are kept, to count "update failed". */
function recordingHarness(opts: { redis?: Redis } = {}): { h: BotHarness; lines: { level: number; msg: string; error?: string }[] } {
  const lines: { level: number; msg: string; error?: string }[] = [];
  const log = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const deps = createDeps({ redis: opts.redis, prefix, dialogTtlDays: 30, log, logSalt: 'test-salt', today: () => '2026-11-21' });
  return { h: new BotHarness({ deps }), lines };
}

const CHAT = 8_100_000_000;
const anyValue = fc.anything({ maxDepth: 2 });
const privateChat = fc.integer({ min: 0, max: 200 }).map((i) => ({ id: CHAT + i, type: 'private' as const, first_name: 'F' }));
const from = (id: number) => ({ id, is_bot: false, first_name: 'F', language_code: 'ru' });

/** Updates as a forger or a broken client would post them, and plain odd ones. */
const hostileBody: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  // non-string text or caption
  fc.tuple(privateChat, anyValue).map(([chat, text]) => ({ message: { message_id: 1, date: 0, chat, from: from(chat.id), text } })),
  fc.tuple(privateChat, anyValue).map(([chat, caption]) => ({ message: { message_id: 1, date: 0, chat, from: from(chat.id), caption, photo: [] } })),
  // wrong types for ids and entities, missing chat or from
  fc.tuple(anyValue).map(([id]) => ({ message: { message_id: 1, date: 0, chat: { id, type: 'private' }, text: 'hi' } })),
  fc.tuple(privateChat, anyValue).map(([chat, entities]) => ({ message: { message_id: 1, date: 0, chat, from: from(chat.id), text: '/start', entities } })),
  fc.constant({ message: { message_id: 1, date: 0, text: 'no chat' } }),
  fc.constantFrom({ message: null }, { message: 'string' }, { message: [] }),
  // forged and odd callback data, missing from, unknown kinds, two kinds at once
  fc.tuple(privateChat, fc.oneof(anyValue, fc.string({ maxLength: 80 }))).map(([chat, data]) => ({
    callback_query: { id: 'q', from: from(chat.id), chat_instance: 'c', data, message: { message_id: 1, date: 0, chat } },
  })),
  fc.tuple(privateChat).map(([chat]) => ({ callback_query: { id: 'q', chat_instance: 'c', data: '0|dg', message: { message_id: 1, date: 0, chat } } })),
  fc.tuple(fc.string({ maxLength: 12 }), anyValue).map(([k, v]) => ({ [k || 'foo']: v })),
  fc.tuple(privateChat).map(([chat]) => ({ message: { message_id: 1, date: 0, chat, text: 'a' }, callback_query: { id: 'x', data: 'hx' } })),
  // valid-shaped text of every kind, long ones included, edited messages, groups and channels
  fc.tuple(privateChat, fc.string({ maxLength: 10_000, unit: 'grapheme' })).map(([chat, t]) => ({ message: { message_id: 1, date: 0, chat, from: from(chat.id), text: t } })),
  fc.tuple(privateChat, fc.string({ maxLength: 50 })).map(([chat, t]) => ({ edited_message: { message_id: 1, date: 0, edit_date: 1, chat, from: from(chat.id), text: t } })),
  fc.tuple(fc.integer({ min: 1, max: 10 }), fc.constantFrom('group', 'supergroup', 'channel'), fc.string({ maxLength: 40 })).map(([i, type, t]) => ({
    message: { message_id: 1, date: 0, chat: { id: -1_000_000_000_000 - i, type, title: 'g' }, from: from(7_000 + i), text: t },
  })),
);

describe('hostile input', () => {
  it('100,000 fuzzed updates: no update fails, no TypeError reaches a family, every malformed one is dropped at the door', async () => {
    const { h, lines } = recordingHarness();
    const samples = fc.sample(hostileBody, { numRuns: 100_000, seed: SEED });
    let updateId = 1;
    let malformed = 0;
    for (let i = 0; i < samples.length; i += 8) {
      // Eight at a time, as chats arrive side by side.
      await Promise.all(
        samples.slice(i, i + 8).map(async (body) => {
          const update = { update_id: updateId++, ...body } as Update;
          if (malformedReason(update)) malformed++;
          expect(typeof sequenceKeyOf(update)).toBe('string');
          await h.bot.handleUpdate(update);
        }),
      );
    }
    const failed = lines.filter((l) => l.msg === 'update failed');
    expect(failed.map((l) => l.error)).toEqual([]);
    const internalError = text(h, 'ru', 'errors.internal');
    expect(h.telegram.calls.filter((c) => String(c.payload.text ?? '').includes(internalError))).toEqual([]);
    expect(lines.filter((l) => l.msg === 'malformed update ignored')).toHaveLength(malformed);
    expect(malformed).toBeGreaterThan(10_000);
  }, 600_000);

  it('a chat that sent only junk (stickers, edits, stale buttons, random text, forged updates) leaves no key in Redis', async () => {
    const { h } = recordingHarness({ redis });
    const junkChats = Array.from({ length: 20 }, (_, i) => 8_200_000_000 + i);
    const junk = fc.tuple(fc.constantFrom(...junkChats), fc.integer({ min: 0, max: 5 }), fc.string({ maxLength: 200 })).map(([id, k, t]) => {
      const chat = { id, type: 'private' as const, first_name: 'F' };
      switch (k) {
        case 0: return { message: { message_id: 1, date: 0, chat, from: from(id), sticker: { file_id: 's', file_unique_id: 's', type: 'regular', width: 1, height: 1, is_animated: false, is_video: false } } };
        case 1: return { edited_message: { message_id: 1, date: 0, edit_date: 1, chat, from: from(id), text: t } };
        case 2: return { callback_query: { id: 'q', from: from(id), chat_instance: 'c', data: `999|a:${t.slice(0, 10)}`, message: { message_id: 1, date: 0, chat } } };
        case 3: return { message: { message_id: 1, date: 0, chat, from: from(id), text: 42 } };
        case 4: return { message: { message_id: 1, date: 0, chat, from: from(id), text: t.replace(/^\//, '') || 'hello' } };
        default: return { message: { message_id: 1, date: 0, chat, from: from(id), text: '/nosuchcommand' } };
      }
    });
    let updateId = 5_000_000;
    for (const body of fc.sample(junk, { numRuns: 400, seed: SEED })) await h.bot.handleUpdate({ update_id: updateId++, ...body } as Update);
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
    // Only the update dedup's own records (a day; a chat's is named by a keyed pseudonym, src/store/hot-path.ts): nothing named after a chat.
    expect(keys.filter((k) => junkChats.some((id) => k.includes(String(id))))).toEqual([]);
    expect(keys.every((k) => /^\{[cu]:[0-9a-f]+\}:updates$/.test(k.slice(prefix.length)))).toBe(true);
  }, 60_000);

  it('a 5-million-character text is read without overflowing the stack, and the family gets the next screen', async () => {
    const { h, lines } = recordingHarness();
    const f = h.family(8_300_000_001);
    await startScreening(f);
    const calls = await f.say('помогите '.repeat(600_000).slice(0, 5_000_000));
    expect(lines.filter((l) => l.msg === 'update failed')).toEqual([]);
    expect(calls.some((c) => c.method === 'sendMessage')).toBe(true);
  });

  it.each(['ru', 'kk'] as const)('a typed answer that disagrees with an earlier one (%s: 6 under 3 of 3 children) gets a kind reason, and changes nothing', async (lang) => {
    const { h } = recordingHarness();
    const chatId = lang === 'ru' ? 8_400_000_001 : 8_400_000_002;
    const f = h.family(chatId, lang === 'kk' ? 'kk' : 'ru');
    await startScreening(f);
    await answerUntil(f, { in_danger_now: 'no', region: 'astana', household_members: 5, children: 3 }, (fact) => fact === 'children_under_3');
    const before = await dialogOf(h, chatId);
    expect(before.context.current).toBe('children_under_3');
    const calls = await f.say('6');
    expectSafetyNet(h, lang, calls, text(h, lang, 'errors.doesNotAgree'), text(h, lang, 'facts:children_under_3.question'));
    expect(await factsOf(h, chatId)).toEqual(before.context.facts);
  });
});
