/**
 * The bot's ReferralNotifier: the service's notices, delivered from its stream
 * (src/referral/delivery.ts), worded in locales/ and sent with grammY. A worker
 * reads them in the language they linked in (or chose with /language), a family
 * in theirs. A chat that blocked the bot is not an error to retry: it is logged
 * and the notice is done.
 */
import { GrammyError, InlineKeyboard, type Api, type StorageAdapter } from 'grammy';
import type { Translator } from '../i18n/i18n.js';
import { chatRef, type Logger } from '../log.js';
import type { ReferralService } from '../referral/service.js';
import type { FamilyNotice, Referral, ReferralNotifier, WorkerNotice } from '../referral/types.js';
import type { SessionData } from './context.js';
import { familyLang } from './referral-view.js';
import { cardKeyboard, directoryWorker, staffLang } from './workers.js';
import { workerCard } from './referral-view.js';
import { formatDate } from '../i18n/dates.js';

export interface BotNotifierDeps {
  api: Api;
  translator: Translator;
  sessions: StorageAdapter<SessionData>;
  /** The service, once built (it and its delivery are made together). */
  service: () => ReferralService;
  log: Logger;
  logSalt: string;
}

/** Notices that bring the whole card with its buttons; the others are one line without the family's data. */
const WITH_CARD = new Set<WorkerNotice>(['new', 'reminder', 'escalated', 'reassigned_to_you']);

export class BotReferralNotifier implements ReferralNotifier {
  constructor(private readonly deps: BotNotifierDeps) {}

  async toWorker(telegramUserId: number, referral: Referral, notice: WorkerNotice): Promise<void> {
    const session = await this.deps.sessions.read(String(telegramUserId));
    const lang = staffLang(session?.lang, undefined);
    const t = this.deps.translator.bind(lang);
    if (!WITH_CARD.has(notice)) return this.send(telegramUserId, t(`referral:worker.notices.${notice}`, { id: referral.id }), undefined, 'worker');
    const service = this.deps.service();
    const viewer = directoryWorker(service.directory(), await service.workerOf(telegramUserId));
    const text = workerCard(t, referral, {
      header: t(`referral:worker.notices.${notice}`, { id: referral.id }),
      viewerIsPsychologist: viewer?.profiles.includes('psychologist') ?? false,
      lang,
      showHolder: viewer?.role === 'supervisor',
    });
    await this.send(telegramUserId, text, cardKeyboard(t, referral, viewer), 'worker');
  }

  async toFamily(chatId: number, referral: Referral, notice: FamilyNotice): Promise<void> {
    const lang = await familyLang(this.deps.sessions, chatId, referral.lang);
    const t = this.deps.translator.bind(lang);
    const lines = [t(`referral:family.notices.${notice}`, { id: referral.id, date: referral.visitDate ? formatDate(referral.visitDate, lang) : '' })];
    if (notice === 'completed' && referral.outcome) lines.push(t(`referral:family.outcomeWords.${referral.outcome}`));
    const keyboard = notice === 'cancelled' ? undefined : InlineKeyboard.from([[{ text: t('referral:family.buttons.status'), callback_data: 'rq|st' }]]);
    await this.send(chatId, lines.join('\n\n'), keyboard, 'family');
  }

  private async send(chatId: number, text: string, keyboard: InlineKeyboard | undefined, to: 'worker' | 'family'): Promise<void> {
    try {
      await this.deps.api.sendMessage(chatId, text, keyboard && keyboard.inline_keyboard.length ? { reply_markup: keyboard } : {});
    } catch (e) {
      // Blocked, deleted or never started: retrying cannot help. Anything else is retried by the delivery.
      if (e instanceof GrammyError && (e.error_code === 403 || (e.error_code === 400 && /chat not found/i.test(e.description)))) {
        this.deps.log.warn({ chat: chatRef(chatId, this.deps.logSalt), to, code: e.error_code }, 'referral notice could not reach the chat');
        return;
      }
      throw e;
    }
  }
}
