/**
 * One family, as Telegram would deliver its updates: /start, then presses on
 * the buttons of the last message the bot sent. The family says "no" where it
 * can and skips otherwise — the same choices for both bots.
 */
import type { Update } from 'grammy/types';
import type { Button, FakeTelegram } from './fake-telegram.js';

let nextUpdateId = 1;

export function startUpdate(chatId: number): Update {
  return {
    update_id: nextUpdateId++,
    message: {
      message_id: nextUpdateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Bench' },
      from: { id: chatId, is_bot: false, first_name: 'Bench', language_code: 'ru' },
      text: '/start',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    },
  };
}

/** The topics screen's life events but "not sure" (tests/helpers/family-dialog.ts ALL_TOPICS). */
const LIFE_TOPICS = ['children', 'health', 'care', 'housing', 'violence', 'money', 'loss', 'prison'];

/**
 * Consent on the intro; "no" on a yes/no question; "don't know / skip" otherwise. On the
 * topics screen (issue 8) every topic is ticked, one press (one new screen) each, then
 * "done": the family is then asked every question, as before that screen.
 */
export function choose(buttons: Button[]): Button | undefined {
  const topic = buttons.find((b) => LIFE_TOPICS.some((t) => b.data.endsWith(`|t:${t}`)) && !b.text.startsWith('✅'));
  if (topic) return topic;
  return buttons.find((b) => b.data.endsWith('|cs')) ?? buttons.find((b) => b.data.endsWith('|a:no')) ?? buttons.find((b) => b.data.endsWith('|sk')) ?? buttons.find((b) => b.data.endsWith('|ok'));
}

/** The press the family makes next, from the keyboard it last received. */
export function pressUpdate(telegram: FakeTelegram, chatId: number): Update {
  const keyboard = telegram.lastKeyboard.get(chatId);
  const button = keyboard && choose(keyboard.rows.flat());
  if (!keyboard || !button) throw new Error(`chat ${chatId}: no button to press (last text: ${keyboard?.text.slice(0, 60) ?? 'none'})`);
  return {
    update_id: nextUpdateId++,
    callback_query: {
      id: String(nextUpdateId),
      from: { id: chatId, is_bot: false, first_name: 'Bench', language_code: 'ru' },
      chat_instance: 'bench',
      data: button.data,
      message: { message_id: keyboard.messageId, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private', first_name: 'Bench' }, text: '' },
    },
  };
}
