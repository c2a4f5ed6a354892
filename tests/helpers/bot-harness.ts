/**
 * Drives the real bot in-process: updates in through bot.handleUpdate, every
 * Bot API call recorded by InProcessTelegram. Memory stores by default; pass a
 * Redis client for the Redis stores.
 */
import type { Update } from 'grammy/types';
import { createDeps } from '../../src/app.js';
import type { BotDeps } from '../../src/bot/context.js';
import { createBot } from '../../src/bot/create-bot.js';
import { FAKE_BOT_INFO, InProcessTelegram, type ApiCall } from '../../src/bot/in-process-api.js';
import type { Lang } from '../../src/engine/types.js';
import { createLogger } from '../../src/log.js';
import type { Redis } from '../../src/store/redis.js';

export interface Button {
  text: string;
  data: string;
  messageId: number;
}

export interface HarnessOptions {
  redis?: Redis;
  prefix?: string;
  today?: () => string;
  deps?: BotDeps;
}

let nextUpdateId = 1;

export class BotHarness {
  readonly telegram = new InProcessTelegram();
  readonly deps: BotDeps;
  readonly bot;
  private messageId = 1_000_000;

  constructor(opts: HarnessOptions = {}) {
    this.deps =
      opts.deps ??
      createDeps({ redis: opts.redis, prefix: opts.prefix ?? 'test:', dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'test-salt', today: opts.today ?? (() => '2026-11-21') });
    this.bot = createBot('0:test', this.deps, { botInfo: FAKE_BOT_INFO });
    this.bot.api.config.use(this.telegram.transformer);
  }

  /** A family member in a private chat. */
  family(chatId: number, languageCode: string = 'ru'): FamilyDriver {
    return new FamilyDriver(this, chatId, languageCode);
  }

  async handle(update: Omit<Update, 'update_id'>): Promise<ApiCall[]> {
    return this.deliver(update, this.newUpdateId());
  }

  /** Delivers an update with a chosen update_id: twice with the same id is Telegram delivering it again. */
  async deliver(update: Omit<Update, 'update_id'>, updateId: number): Promise<ApiCall[]> {
    this.telegram.take();
    await this.bot.handleUpdate({ update_id: updateId, ...update } as Update);
    return this.telegram.take();
  }

  /** An update id no other update of this test file has. */
  newUpdateId(): number {
    return nextUpdateId++;
  }

  nextMessageId(): number {
    return this.messageId++;
  }
}

export class FamilyDriver {
  /** Buttons of the last message this chat received that had any. */
  buttons: Button[] = [];
  /** Every text the chat received, in order. */
  readonly texts: string[] = [];

  constructor(
    readonly harness: BotHarness,
    readonly chatId: number,
    readonly languageCode: string,
  ) {}

  get user() {
    return { id: this.chatId, is_bot: false, first_name: 'Test', language_code: this.languageCode };
  }

  get chat() {
    return { id: this.chatId, type: 'private' as const, first_name: 'Test' };
  }

  /** Sends text (a /command gets its entity) and returns the Bot API calls it caused. */
  async say(text: string): Promise<ApiCall[]> {
    return this.record(await this.harness.handle(this.textUpdate(text)));
  }

  /** The update Telegram sends for a text (a /command gets its entity), without its update_id. */
  textUpdate(text: string): Omit<Update, 'update_id'> {
    const entities = text.startsWith('/') ? [{ type: 'bot_command' as const, offset: 0, length: text.split(/\s/)[0]!.length }] : undefined;
    return { message: { message_id: this.harness.nextMessageId(), date: now(), chat: this.chat, from: this.user, text, entities } };
  }

  /** The update Telegram sends for a press of the button of the last keyboard whose label or data matches. */
  pressUpdate(match: string | RegExp): Omit<Update, 'update_id'> {
    const button = this.button(match);
    return this.dataUpdate(button.data, button.messageId);
  }

  /** Delivers an update from this chat with a chosen update_id (see BotHarness.deliver). */
  async deliver(update: Omit<Update, 'update_id'>, updateId: number): Promise<ApiCall[]> {
    return this.record(await this.harness.deliver(update, updateId));
  }

  /** Sends any message object (sticker, photo, voice…). */
  async send(message: Record<string, unknown>): Promise<ApiCall[]> {
    return this.record(await this.harness.handle({ message: { message_id: this.harness.nextMessageId(), date: now(), chat: this.chat, from: this.user, ...message } as never }));
  }

  /** Presses raw callback data, as if from a message with the given id. */
  async pressData(data: string, messageId = 1): Promise<ApiCall[]> {
    return this.record(await this.harness.handle(this.dataUpdate(data, messageId)));
  }

  /** Presses the button of the last keyboard whose label or data matches. */
  async press(match: string | RegExp): Promise<ApiCall[]> {
    const button = this.button(match);
    return this.pressData(button.data, button.messageId);
  }

  private dataUpdate(data: string, messageId: number): Omit<Update, 'update_id'> {
    return { callback_query: { id: String(Math.random()), from: this.user, chat_instance: 'test', data, message: { message_id: messageId, date: now(), chat: this.chat, text: '' } } };
  }

  private button(match: string | RegExp): Button {
    const button = this.buttons.find((b) => (typeof match === 'string' ? b.text === match || b.data.endsWith(`|${match}`) : match.test(b.text) || match.test(b.data)));
    if (!button) throw new Error(`no button ${String(match)} among: ${this.buttons.map((b) => `${b.text} (${b.data})`).join(', ')}`);
    return button;
  }

  get lastText(): string {
    return this.texts.at(-1) ?? '';
  }

  private record(calls: ApiCall[]): ApiCall[] {
    for (const call of calls) {
      if (call.method !== 'sendMessage' || Number(call.payload.chat_id) !== this.chatId) continue;
      this.texts.push(String(call.payload.text));
      const rows = (call.payload.reply_markup as { inline_keyboard?: { text: string; callback_data: string }[][] } | undefined)?.inline_keyboard;
      if (rows?.length) {
        const id = (call.result as { message_id: number } | undefined)?.message_id ?? 0;
        this.buttons = rows.flat().map((b) => ({ text: b.text, data: b.callback_data, messageId: id }));
      }
    }
    return calls;
  }
}

const now = () => Math.floor(Date.now() / 1000);

export type { Lang };
