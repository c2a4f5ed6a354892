/**
 * The two-round-trip floor: what two Redis round trips cost on the same Redis,
 * the least an update that reads and writes its state can pay. Sampled beside
 * the recorded updates (bench/run.ts), so drift and neighbours fall on both.
 *
 * - rawPair: GET×2 pipelined, then SET×2 pipelined (values the size of a
 *   family's session and dialog), as the hot path's begin and commit would be
 *   without Lua;
 * - evalPair: two EVALSHA of trivial scripts, one after the other (the Lua call
 *   overhead alone);
 * - bareBot: the floor of the stack the design card names — a grammY bot that, for a
 *   button press, does only what every screening update must: the rawPair's reads,
 *   the three Bot API calls Qamqor makes (answer the press, take the pressed message's
 *   buttons off, send the next screen, the same text and buttons), then its writes.
 *   No questions worked out, no state machine, no texts looked up, no lock, no dedup.
 */
import { performance } from 'node:perf_hooks';
import { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { FAKE_BOT_INFO } from '../src/bot/in-process-api.js';
import type { RedisClient as Redis } from '../src/store/redis.js';
import type { FakeTelegram, Keyboard } from './fake-telegram.js';

export interface Floor {
  rawPair: number[];
  evalPair: number[];
  bareBot: number[];
}

const SESSION = 'x'.repeat(80);
const DIALOG = 'y'.repeat(1900);
let trivialSha: string | undefined;
let n = 0;

export async function measureFloor(redis: Redis, prefix: string, into: Floor, bare: BareBot): Promise<void> {
  trivialSha ??= await redis.scriptLoad("return redis.call('EXISTS', KEYS[1])");
  const id = n++ % 100;
  const a = `${prefix}{f:${id}}:session`;
  const b = `${prefix}{f:${id}}:dialog`;
  let t0 = performance.now();
  await Promise.all([redis.get(a), redis.get(b)]);
  await Promise.all([redis.set(a, SESSION, { EX: 600 }), redis.set(b, DIALOG, { EX: 600 })]);
  into.rawPair.push(performance.now() - t0);
  t0 = performance.now();
  await redis.evalSha(trivialSha, { keys: [a] });
  await redis.evalSha(trivialSha, { keys: [b] });
  into.evalPair.push(performance.now() - t0);
  const update = bare.press(id);
  t0 = performance.now();
  await bare.bot.handleUpdate(update);
  into.bareBot.push(performance.now() - t0);
}

export interface BareBot {
  bot: Bot;
  /** A press on the last screen the bare bot sent to its family number `family`. */
  press(family: number): Update;
}

/** The bare grammY bot (see the top of this file), on the same fake Telegram and Redis as the two bots measured. */
export function createBareBot(telegram: FakeTelegram, redis: Redis, prefix: string, screen: Keyboard, chatBase: number): BareBot {
  const bot = new Bot('0:bench', { botInfo: FAKE_BOT_INFO, client: { fetch: telegram.fetch } });
  const inlineKeyboard = screen.rows.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data })));
  bot.on('callback_query:data', async (ctx) => {
    const keys = [`${prefix}{b:${ctx.chat!.id}}:session`, `${prefix}{b:${ctx.chat!.id}}:dialog`];
    const [session, dialog] = await Promise.all(keys.map((k) => redis.get(k)));
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup();
    await ctx.reply(screen.text, { reply_markup: { inline_keyboard: inlineKeyboard } });
    await Promise.all([redis.set(keys[0]!, session ?? SESSION, { EX: 600 }), redis.set(keys[1]!, dialog ?? DIALOG, { EX: 600 })]);
  });
  let updateId = 1;
  const press = (family: number): Update => {
    const chatId = chatBase + family;
    const from = { id: chatId, is_bot: false, first_name: 'Bench', language_code: 'ru' };
    const messageId = telegram.lastKeyboard.get(chatId)?.messageId ?? 1;
    const chat = { id: chatId, type: 'private' as const, first_name: 'Bench' };
    return {
      update_id: updateId++,
      callback_query: { id: String(updateId), from, chat_instance: 'bench', data: screen.rows[0]![0]!.data, message: { message_id: messageId, date: Math.floor(Date.now() / 1000), chat, text: '' } },
    };
  };
  return { bot, press };
}
