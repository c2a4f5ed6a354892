/**
 * Assembles the bot: error boundary, once per update with per-chat ordering,
 * session, language, and the audiences' composers. The same bot runs under long polling, a webhook,
 * the terminal demo and the tests; only the stores and the API client differ.
 */
import { Bot, InlineKeyboard, session, type BotConfig, type BotError, type Transformer } from 'grammy';
import { chatRef } from '../log.js';
import { runtimeMetrics } from '../runtime/metrics.js';
import { malformedReason } from '../runtime/update-shape.js';
import { sessionBeforeConsent } from '../runtime/session-before-consent.js';
import { actsOnTelegram, type UpdateClaim } from '../store/update-dedup.js';
import { encode } from './callback-data.js';
import type { BotContext, BotDeps, SessionData } from './context.js';
import { family } from './family.js';
import { handoffFamilyComposer } from './handoff-family.js';
import { operatorsComposer } from './operators.js';
import { workersComposer } from './workers.js';
import { referralFamilyComposer, referScreen } from './referral-family.js';
import { BotReferralNotifier } from './referral-notifier.js';
import { HandoffService } from '../handoff/service.js';
import { isLang } from '../i18n/i18n.js';
import type { Lang } from '../engine/types.js';

/** Telegram's language_code → the family's language: Kazakh if set so, otherwise Russian (English on request). */
export function languageFromTelegram(code: string | undefined): Lang {
  return code?.toLowerCase().startsWith('kk') ? 'kk' : 'ru';
}

export function createBot(token: string, deps: BotDeps, config: BotConfig<BotContext> = {}): Bot<BotContext> {
  const bot = new Bot<BotContext>(token, config);
  bot.api.config.use(commitOnTheWire);

  // The update loop never stops: a failed update is logged (no personal data) and the family gets a kind word.
  // An error boundary, not only bot.catch: bot.catch covers long polling, but webhooks and tests call
  // handleUpdate, which would otherwise throw.
  const reportFailure = async (err: BotError<BotContext>) => {
    const ctx = err.ctx;
    deps.log.error({ chat: ctx.chatRef, update: ctx.update.update_id, error: describe(err.error) }, 'update failed');
    runtimeMetrics.handlerErrors.inc();
    if (ctx.chat?.type === 'private') {
      const t = ctx.t ?? deps.translator.bind('ru');
      // "Continue" shows the current screen again: the one that failed may have taken the buttons away.
      // The safety net holds here too: the numbers and "I am not safe".
      const again = InlineKeyboard.from([
        [{ text: t('buttons.continue'), callback_data: encode(0, { kind: 'continue' }) }],
        [{ text: t('buttons.danger'), callback_data: encode(0, { kind: 'event', event: { type: 'DANGER' } }) }],
      ]);
      await ctx.reply(`${t('errors.internal')}\n\n${deps.renderer.netLine(t)}`, { reply_markup: again }).catch(() => undefined);
    }
  };
  bot.catch(reportFailure);
  const guarded = bot.errorBoundary(reportFailure);

  guarded.use(async (ctx, next) => {
    // Not from Telegram (src/runtime/update-shape.ts): no handler, no dedup key, no session.
    const malformed = malformedReason(ctx.update);
    if (malformed) return void deps.log.warn({ update: Number.isSafeInteger(ctx.update.update_id) ? ctx.update.update_id : undefined, malformed }, 'malformed update ignored');
    ctx.deps = deps;
    ctx.chatRef = ctx.chat ? chatRef(ctx.chat.id, deps.logSalt) : '-';
    ctx.lang = languageFromTelegram(ctx.from?.language_code);
    ctx.t = deps.translator.bind(ctx.lang);
    await next();
  });

  // Once per update, before any handler: a redelivered update changes nothing and sends nothing
  // (src/store/update-dedup.ts says what counts as seen). A private chat's updates are also handled
  // one at a time, in order, across processes: the claim is taken with the chat lock, in one round trip.
  guarded.use(async (ctx, next) => {
    const updateId = ctx.update.update_id;
    const lockKey = ctx.chat?.type === 'private' ? `chat:${ctx.chat.id}` : `update:${updateId}`;
    const outcome = await deps.updates.once(updateId, lockKey, (claim) => {
      ctx.api.config.use(fenceApi(claim));
      return ctx.chat?.type === 'private' ? deps.claims.during(String(ctx.chat.id), claim, next) : next();
    });
    if (!outcome.handled) deps.log.warn({ chat: ctx.chatRef, update: updateId, seen: outcome.seen }, outcome.seen === 'stale' ? 'update older than one already applied for the chat dropped' : 'redelivered update dropped');
    else if (outcome.rerun) deps.log.warn({ chat: ctx.chatRef, update: updateId }, 'update handled again: its first delivery stopped before acting');
  });

  if (deps.handoffSetup) {
    const { store, config: handoffConfig, minutesPerCase, adminIds, now } = deps.handoffSetup;
    const service = new HandoffService({ store, api: bot.api, translator: deps.translator, log: deps.log, config: handoffConfig, now });
    deps.handoff = { service, hours: handoffConfig.hours, minutesPerCase, groupId: handoffConfig.groupId, adminIds, supervisorIds: handoffConfig.supervisorIds };
    guarded.use(operatorsComposer({ service, groupId: handoffConfig.groupId, adminIds, supervisorIds: handoffConfig.supervisorIds, staffLang: handoffConfig.staffLang }));
  }

  if (deps.referrals) wireReferrals(bot, deps);

  // Groups and channels are not for families: say so once when addressed, otherwise stay quiet.
  guarded.chatType(['group', 'supergroup']).on('message', async (ctx, next) => {
    if (addressedToUs(ctx.message.text ?? '', ctx.me.username)) await ctx.reply(ctx.t('errors.groupChat'));
    else await next();
  });

  // Already under the chat lock, taken with the update's claim above.
  const privateOnly = guarded.chatType('private');
  privateOnly.use(
    session<SessionData, BotContext>({
      initial: () => ({}),
      // A session write counts as the update acting (keyed by the chat, as the claim is).
      // Nothing stored for a chat that only sent junk (src/runtime/session-before-consent.ts).
      storage: sessionBeforeConsent(deps.claims.fence(deps.sessions, ['write', 'delete'])),
      getSessionKey: (ctx) => (ctx.chat ? String(ctx.chat.id) : undefined),
    }),
  );
  privateOnly.use(async (ctx, next) => {
    // Before consent the message with the buttons is not stored (sessionBeforeConsent): a pressed
    // button's message is the one to take the keyboard off when the next screen comes.
    const pressed = ctx.callbackQuery?.message?.message_id;
    if (ctx.session.lastKeyboardMessageId === undefined && pressed !== undefined) ctx.session.lastKeyboardMessageId = pressed;
    if (isLang(ctx.session.lang)) {
      ctx.lang = ctx.session.lang;
      ctx.t = deps.translator.bind(ctx.lang);
    }
    await next();
  });
  // A second boundary inside the session, so that what an update changed in the session is kept even when it failed later.
  privateOnly.errorBoundary(reportFailure, workersComposer(), referralFamilyComposer(), handoffFamilyComposer(), family);
  return bot;
}

/**
 * Referrals: the result's "refer" screen becomes the real request, and the service's notices
 * reach Telegram through the delivery stream (started by main.ts, polled by tests). A notice
 * given up is announced in the operators' group, without personal data.
 */
function wireReferrals(bot: Bot<BotContext>, deps: BotDeps): void {
  const referrals = deps.referrals!;
  deps.renderer.referScreen = referScreen(deps.catalogue);
  const notifier = new BotReferralNotifier({ api: bot.api, translator: deps.translator, sessions: deps.sessions, service: () => referrals.service, log: deps.log, logSalt: deps.logSalt });
  referrals.delivery = referrals.service.delivery({
    notifier,
    consumer: referrals.consumer,
    onDead: async (event, reason, attempts) => {
      deps.log.error({ referral: event.referralId, notice: event.notice, to: event.kind, reason, attempts }, 'referral notice given up (kept in the dead-letter stream)');
      runtimeMetrics.deadLetters.inc({ what: 'referral_notice' });
      const setup = deps.handoffSetup;
      if (!setup) return;
      const t = deps.translator.bind(setup.config.staffLang);
      await bot.api.sendMessage(setup.config.groupId, t('referral:admin.deadLetter', { id: event.referralId, notice: event.notice, reason })).catch(() => undefined);
    },
  });
}

/**
 * The update is recorded as acting when its first Bot API call that does
 * something (actsOnTelegram) leaves for Telegram: on this update's own Api (outermost) the call's
 * payload is tied to the claim, and commitOnTheWire, innermost on the bot's Api
 * (under the pacer and retries), commits just before the request goes out.
 * So an update whose reply still waits in the pacer when the process dies has
 * not acted, and its next delivery is handled instead of dropped. A Telegram
 * stand-in installed outside commitOnTheWire (tests) is covered by the commit
 * after the call.
 */
function fenceApi(claim: UpdateClaim): Transformer {
  return async (prev, method, payload, signal) => {
    if (!actsOnTelegram(method)) return prev(method, payload, signal);
    if (payload === null || typeof payload !== 'object') await claim.commit();
    else claimOfPayload.set(payload, claim);
    const answer = await prev(method, payload, signal);
    await claim.commit(); // idempotent: already done on the wire in production
    return answer;
  };
}

const claimOfPayload = new WeakMap<object, UpdateClaim>();

/** Installed first on the bot's Api, so it runs last, right before the network (see fenceApi). */
const commitOnTheWire: Transformer = async (prev, method, payload, signal) => {
  const claim = payload !== null && typeof payload === 'object' ? claimOfPayload.get(payload) : undefined;
  if (claim) await claim.commit();
  return prev(method, payload, signal);
};

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
