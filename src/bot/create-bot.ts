/**
 * Assembles the bot: error boundary, per-chat ordering, session, language, and
 * the audiences' composers. The same bot runs under long polling, a webhook,
 * the terminal demo and the tests; only the stores and the API client differ.
 */
import { Bot, session, type BotConfig } from 'grammy';
import { chatRef } from '../log.js';
import type { BotContext, BotDeps, SessionData } from './context.js';
import { family } from './family.js';
import { handoffFamilyComposer } from './handoff-family.js';
import { operatorsComposer } from './operators.js';
import { HandoffService } from '../handoff/service.js';
import { isLang } from '../i18n/i18n.js';
import type { Lang } from '../engine/types.js';

/** Telegram's language_code → the family's language: Kazakh if set so, otherwise Russian (English on request). */
export function languageFromTelegram(code: string | undefined): Lang {
  return code?.toLowerCase().startsWith('kk') ? 'kk' : 'ru';
}

export function createBot(token: string, deps: BotDeps, config: BotConfig<BotContext> = {}): Bot<BotContext> {
  const bot = new Bot<BotContext>(token, config);

  // The update loop never stops: a failed update is logged (no personal data) and the family gets a kind word.
  bot.catch(async (err) => {
    const ctx = err.ctx;
    deps.log.error({ chat: ctx.chatRef, update: ctx.update.update_id, error: describe(err.error) }, 'update failed');
    if (ctx.chat?.type === 'private') {
      const t = ctx.t ?? deps.translator.bind('ru');
      await ctx.reply(t('errors.internal')).catch(() => undefined);
    }
  });

  bot.use(async (ctx, next) => {
    ctx.deps = deps;
    ctx.chatRef = ctx.chat ? chatRef(ctx.chat.id, deps.logSalt) : '-';
    ctx.lang = languageFromTelegram(ctx.from?.language_code);
    ctx.t = deps.translator.bind(ctx.lang);
    await next();
  });

  if (deps.handoffSetup) {
    const { store, config: handoffConfig, minutesPerCase, adminIds } = deps.handoffSetup;
    const service = new HandoffService({ store, api: bot.api, translator: deps.translator, log: deps.log, config: handoffConfig });
    deps.handoff = { service, hours: handoffConfig.hours, minutesPerCase, groupId: handoffConfig.groupId, adminIds, supervisorIds: handoffConfig.supervisorIds };
    bot.use(operatorsComposer({ service, groupId: handoffConfig.groupId, adminIds, supervisorIds: handoffConfig.supervisorIds, staffLang: handoffConfig.staffLang }));
  }

  // Groups and channels are not for families: say so once when addressed, otherwise stay quiet.
  bot.chatType(['group', 'supergroup']).on('message', async (ctx, next) => {
    if (addressedToUs(ctx.message.text ?? '', ctx.me.username)) await ctx.reply(ctx.t('errors.groupChat'));
    else await next();
  });

  const privateOnly = bot.chatType('private');
  // Updates of one chat are handled one at a time, in order, across processes.
  privateOnly.use((ctx, next) => deps.lock.run(`chat:${ctx.chat.id}`, next));
  privateOnly.use(
    session<SessionData, BotContext>({
      initial: () => ({}),
      storage: deps.sessions,
      getSessionKey: (ctx) => (ctx.chat ? String(ctx.chat.id) : undefined),
    }),
  );
  privateOnly.use(async (ctx, next) => {
    if (isLang(ctx.session.lang)) {
      ctx.lang = ctx.session.lang;
      ctx.t = deps.translator.bind(ctx.lang);
    }
    await next();
  });
  privateOnly.use(handoffFamilyComposer());
  privateOnly.use(family);
  return bot;
}

/** A command for us ("/start", "/start@us", not "/start@another_bot") or a mention of us. */
function addressedToUs(text: string, username: string): boolean {
  const command = /^\/\w+(?:@(\w+))?/.exec(text);
  if (command) return command[1] === undefined || command[1].toLowerCase() === username.toLowerCase();
  return text.toLowerCase().includes(`@${username.toLowerCase()}`);
}

function describe(error: unknown): string {
  // Error names and messages only: grammY errors can quote the message text a family sent.
  if (error instanceof Error) return `${error.name}: ${error.message.replace(/text=.*$/s, '').slice(0, 200)}`;
  return typeof error;
}
