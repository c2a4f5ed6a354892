/**
 * Telegram without a network, at the HTTP level: a `fetch` for grammY's
 * `client: { fetch }` option that answers every Bot API method in-process.
 * It sits below every Api object a bot builds — including the one the
 * conversations plugin builds inside a conversation, which an API transformer
 * on bot.api would miss — so both bots of the benchmark pay the same for it.
 */
import { FAKE_BOT_INFO } from '../src/bot/in-process-api.js';

export interface Button {
  text: string;
  data: string;
}

export interface Keyboard {
  messageId: number;
  text: string;
  rows: Button[][];
}

type InlineRows = { text: string; callback_data: string }[][];

export class FakeTelegram {
  private nextMessageId = 1;
  /** Every Bot API call answered, by method. */
  readonly counts = new Map<string, number>();
  /** The last message with buttons each chat received. */
  readonly lastKeyboard = new Map<number, Keyboard>();

  readonly fetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = url.slice(url.lastIndexOf('/') + 1);
    const payload = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const result = this.call(method, payload);
    // grammY reads only `json()`; a tiny stand-in keeps the fake's own cost out of the comparison
    // (the answer is made fresh for each call, so handing it over as an object is what parsing would give).
    return { ok: true, status: 200, json: async () => ({ ok: true, result }) } as Response;
  }) as typeof fetch;

  /** A Bot API method's result for a parsed payload (the HTTP fake of bench/scale-telegram.ts calls it directly). */
  call(method: string, payload: Record<string, unknown>): unknown {
    this.counts.set(method, (this.counts.get(method) ?? 0) + 1);
    return this.answer(method, payload);
  }

  private answer(method: string, payload: Record<string, unknown>): unknown {
    const chatId = Number(payload.chat_id ?? 0);
    const chat = { id: chatId, type: 'private', first_name: 'Bench' };
    const date = Math.floor(Date.now() / 1000);
    switch (method) {
      case 'getMe':
        return FAKE_BOT_INFO;
      case 'sendMessage': {
        const message_id = this.nextMessageId++;
        const rows = (payload.reply_markup as { inline_keyboard?: InlineRows } | undefined)?.inline_keyboard;
        if (rows?.length) {
          this.lastKeyboard.set(chatId, { messageId: message_id, text: String(payload.text), rows: rows.map((r) => r.map((b) => ({ text: b.text, data: b.callback_data }))) });
        }
        return { message_id, date, chat, from: FAKE_BOT_INFO, text: payload.text, reply_markup: payload.reply_markup };
      }
      case 'editMessageReplyMarkup':
      case 'editMessageText': {
        // A keyboard edited in place (the topics screen ticks a box): the family presses on what it shows now.
        const rows = (payload.reply_markup as { inline_keyboard?: InlineRows } | undefined)?.inline_keyboard;
        const shown = this.lastKeyboard.get(chatId);
        if (rows?.length && shown?.messageId === Number(payload.message_id)) {
          const text = typeof payload.text === 'string' ? payload.text : shown.text;
          this.lastKeyboard.set(chatId, { messageId: shown.messageId, text, rows: rows.map((r) => r.map((b) => ({ text: b.text, data: b.callback_data }))) });
        }
        return { message_id: Number(payload.message_id ?? 0), date, edit_date: date, chat, from: FAKE_BOT_INFO, text: '' };
      }
      default:
        return true;
    }
  }
}
