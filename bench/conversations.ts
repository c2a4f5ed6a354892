/**
 * The same questionnaire written the usual grammY way: one conversation
 * function with `conversation.waitFor` in a loop, persisted in the same Redis.
 * The plugin replays the function from the top on every update, so the cost
 * of an update grows with the number of answers before it.
 */
import { conversations, createConversation, type Conversation, type ConversationFlavor } from '@grammyjs/conversations';
import { Bot, type Context } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { FAKE_BOT_INFO } from '../src/bot/in-process-api.js';
import type { Redis } from '../src/store/redis.js';
import { RedisSessionStorage } from '../src/store/session-storage.js';
import type { FakeTelegram, Keyboard } from './fake-telegram.js';
import type { Questionnaire } from './qamqor.js';

type OuterContext = ConversationFlavor<Context>;

const markup = (k: Keyboard): InlineKeyboardMarkup => ({ inline_keyboard: k.rows.map((r) => r.map((b) => ({ text: b.text, callback_data: b.data }))) });

export function createConversationsBot(telegram: FakeTelegram, redis: Redis, prefix: string, q: Questionnaire): Bot<OuterContext> {
  const screens = [q.intro, ...q.questions, q.after];

  async function screening(conversation: Conversation<OuterContext, Context>, ctx: Context): Promise<void> {
    const chatId = ctx.chatId!;
    const answers: Record<number, string> = {};
    let shown = await ctx.reply(q.intro.text, { reply_markup: markup(q.intro) });
    for (let i = 0; i < screens.length - 1; i++) {
      const valid = new Set(screens[i]!.rows.flat().map((b) => b.data));
      const press = await conversation.waitFor('callback_query:data');
      if (!valid.has(press.callbackQuery.data)) {
        // A stale or forged button: say so and ask the same question again (one re-ask; the benchmark never gets here).
        await press.answerCallbackQuery({ text: 'old button' });
        i--;
        continue;
      }
      if (i > 0) answers[i] = press.callbackQuery.data.split('|')[1]!;
      await press.answerCallbackQuery();
      await press.api.editMessageReplyMarkup(chatId, shown.message_id, { reply_markup: { inline_keyboard: [] } });
      const next = screens[i + 1]!;
      shown = await press.reply(next.text, { reply_markup: markup(next) });
    }
    // The summary is on screen: the family is still mid-way, as in Qamqor.
    await conversation.waitFor('callback_query:data');
  }

  const bot = new Bot<OuterContext>('0:bench', { botInfo: FAKE_BOT_INFO, client: { fetch: telegram.fetch } });
  bot.use(conversations({ storage: new RedisSessionStorage(redis, { prefix, ttlSeconds: 30 * 24 * 3600 }) }));
  bot.use(createConversation(screening, 'screening'));
  bot.command('start', (ctx) => ctx.conversation.enter('screening'));
  return bot;
}
