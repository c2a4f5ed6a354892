/**
 * While Redis is away an update cannot be recorded, so it is not confirmed and
 * Telegram delivers it again later; the family would hear nothing meanwhile.
 * When recording takes longer than a moment, each private chat in the batch is
 * told once a minute, straight through the Bot API (no Redis needed): a short
 * pause, their message is safe and will be answered, and the emergency numbers
 * (a cue in that message cannot be read yet).
 */
import type { Api } from 'grammy';
import type { Update } from 'grammy/types';
import { languageFromTelegram } from '../bot/create-bot.js';
import type { Translator } from '../i18n/i18n.js';

/** Recording normally takes milliseconds; past this the family is told. */
export const PAUSE_NOTICE_AFTER_MS = 2_000;
const ONCE_PER_CHAT_MS = 60_000;

export interface PauseNoticeOptions {
  api: Pick<Api, 'sendMessage'>;
  translator: Translator;
  /** The emergency numbers line, in a language (the renderer's netLine). */
  netLine: (lang: ReturnType<typeof languageFromTelegram>) => string;
  afterMs?: number;
  now?: () => number;
}

export class PauseNotice {
  private readonly told = new Map<number, number>();

  constructor(private readonly options: PauseNoticeOptions) {}

  /** Call with a batch and the promise that records it; tells its families if recording is slow or fails. */
  watch(updates: readonly Update[], recording: Promise<unknown>): void {
    let settled = false;
    const tell = () => {
      if (!settled) for (const update of updates) void this.tell(update);
      settled = true;
    };
    const timer = setTimeout(tell, this.options.afterMs ?? PAUSE_NOTICE_AFTER_MS);
    timer.unref();
    recording.then(
      () => {
        settled = true;
        clearTimeout(timer);
      },
      () => {
        clearTimeout(timer);
        tell();
      },
    );
  }

  private async tell(update: Update): Promise<void> {
    const from = update.message?.from ?? update.callback_query?.from;
    const chat = update.message?.chat ?? update.callback_query?.message?.chat;
    if (!from || chat?.type !== 'private') return;
    const now = (this.options.now ?? Date.now)();
    if (now - (this.told.get(chat.id) ?? -Infinity) < ONCE_PER_CHAT_MS) return;
    this.told.set(chat.id, now);
    if (this.told.size > 10_000) this.told.clear(); // a memory bound, not a rule: at worst someone is told twice
    const lang = languageFromTelegram(from.language_code);
    const text = `${this.options.translator.t(lang, 'errors.pause')}\n\n${this.options.netLine(lang)}`;
    await this.options.api.sendMessage(chat.id, text).catch(() => undefined);
  }
}
