/**
 * The operators' side, in their forum supergroup: case card buttons, messages
 * in case topics, and /queue, /mine, /stats, /grant, /revoke, /params (src/bot/admin-params.ts). Only configured
 * or granted operators may act; anyone else is told "not allowed" and the
 * attempt is logged (with a hashed user id).
 */
import { Composer } from 'grammy';
import { caseCard, caseCardKeyboard, outcomeKeyboard, transferKeyboard } from '../handoff/card.js';
import type { HandoffService } from '../handoff/service.js';
import { OPERATOR_OUTCOMES, type Outcome } from '../handoff/types.js';
import { chatRef } from '../log.js';
import type { BotContext } from './context.js';
import type { Lang } from '../engine/types.js';
import { adminParamsComposer } from './admin-params.js';
import { referralAdminComposer } from './referral-admin.js';
import { referralOperatorsComposer } from './referral-operators.js';

export interface OperatorsOptions {
  service: HandoffService;
  groupId: number;
  adminIds: number[];
  supervisorIds: number[];
  staffLang: Lang;
}

export function operatorsComposer(opts: OperatorsOptions): Composer<BotContext> {
  const { service, groupId } = opts;
  const composer = new Composer<BotContext>();
  const group = composer.filter((ctx) => ctx.chat?.id === groupId);
  const en = (ctx: BotContext) => ctx.deps.translator.bind(opts.staffLang);

  const role = async (userId: number | undefined): Promise<'admin' | 'supervisor' | 'operator' | undefined> => {
    if (!userId) return undefined;
    if (opts.adminIds.includes(userId)) return 'admin';
    if (opts.supervisorIds.includes(userId) || (await service.roles.granted('supervisor')).includes(userId)) return 'supervisor';
    if (service.roles.isOperator(userId, await service.roles.granted('operator'))) return 'operator';
    return undefined;
  };
  const refuse = async (ctx: BotContext, what: string) => {
    ctx.deps.log.warn({ user: ctx.from ? chatRef(ctx.from.id, ctx.deps.logSalt) : '-', what }, 'not allowed');
    const text = en(ctx)('ops:notAllowed');
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text, show_alert: true });
    else await ctx.reply(text);
  };

  // Refer (src/bot/referral-operators.ts) before the other card buttons, which its callback data would also match.
  group.use(referralOperatorsComposer({ role, refuse, staffLang: opts.staffLang }));

  group.callbackQuery(/^h\|([A-Z0-9]{4,8})\|([a-z]+)(?::([a-z_0-9]+))?$/, async (ctx) => {
    const [, caseId, action, arg] = ctx.match as RegExpMatchArray;
    const t = en(ctx);
    const who = await role(ctx.from.id);
    if (!who) return refuse(ctx, `button ${action}`);
    const rec = await service.get(caseId!);
    if (!rec) return void (await ctx.answerCallbackQuery({ text: t('ops:noSuchCase') }));
    switch (action) {
      case 'take': {
        const result = await service.claim(rec.id, ctx.from.id);
        if (result.won) return void (await ctx.answerCallbackQuery({ text: t('ops:taken') }));
        const holder = result.holder ?? rec.operatorId;
        if (holder === ctx.from.id) return void (await ctx.answerCallbackQuery({ text: t('ops:youHaveIt') }));
        return void (await ctx.answerCallbackQuery({ text: holder ? t('ops:alreadyTaken', { id: holder }) : t('ops:cannotTake'), show_alert: true }));
      }
      case 'tr': {
        if (rec.status !== 'claimed') return void (await ctx.answerCallbackQuery({ text: t('ops:notClaimed') }));
        if (rec.operatorId !== ctx.from.id && who === 'operator') return refuse(ctx, 'transfer of another operator’s case');
        const operators = [...new Set([...service.roles.operatorIds(), ...(await service.roles.granted('operator'))])];
        if (!arg) {
          await ctx.editMessageReplyMarkup({ reply_markup: transferKeyboard(rec, t, operators) }).catch(() => undefined);
          return void (await ctx.answerCallbackQuery());
        }
        // Only to someone who may hold a case: callback data is not proof that the button was offered.
        if (arg !== 'line' && !operators.includes(Number(arg))) return void (await ctx.answerCallbackQuery({ text: t('ops:notNow') }));
        const done = arg === 'line' ? await service.release(rec.id, ctx.from.id) : await service.transfer(rec.id, ctx.from.id, Number(arg));
        return void (await ctx.answerCallbackQuery({ text: done ? t('ops:transferred') : t('ops:notNow') }));
      }
      case 'cl': {
        if (rec.status === 'claimed' && rec.operatorId !== ctx.from.id && who === 'operator') return refuse(ctx, 'close of another operator’s case');
        if (!arg) {
          await ctx.editMessageReplyMarkup({ reply_markup: outcomeKeyboard(rec, t) }).catch(() => undefined);
          return void (await ctx.answerCallbackQuery());
        }
        if (!(OPERATOR_OUTCOMES as readonly string[]).includes(arg)) return void (await ctx.answerCallbackQuery({ text: t('ops:notNow') }));
        const closed = await service.close(rec.id, String(ctx.from.id), arg as Outcome);
        return void (await ctx.answerCallbackQuery({ text: closed ? t('ops:closed') : t('ops:notNow') }));
      }
      case 'note': {
        await ctx.answerCallbackQuery();
        await ctx.reply(t('ops:notePrompt', { id: rec.id }), {
          message_thread_id: rec.topicId,
          reply_markup: { force_reply: true, selective: true, input_field_placeholder: t('ops:notePlaceholder') },
        });
        return;
      }
      case 'card': {
        await ctx.editMessageText(caseCard(rec, t, service.time()), { reply_markup: caseCardKeyboard(rec, t, { refer: ctx.deps.referrals !== undefined }) }).catch(() => undefined);
        return void (await ctx.answerCallbackQuery());
      }
      default:
        return void (await ctx.answerCallbackQuery({ text: t('ops:notNow') }));
    }
  });

  group.command('queue', async (ctx) => {
    if (!(await role(ctx.from?.id))) return refuse(ctx, '/queue');
    const t = en(ctx);
    const line = await service.waitingLine(30);
    const now = service.time();
    const rows = line.map((c, i) => `${i + 1}. #${c.id}${c.urgent ? ' 🔴' : ''} · ${c.lang} · ${Math.round((now - (c.enqueuedAt ?? c.createdAt)) / 60000)} min`);
    await ctx.reply([t('ops:queueTitle', { n: line.length }), ...rows].join('\n'), { message_thread_id: ctx.msg?.message_thread_id });
  });

  group.command('mine', async (ctx) => {
    if (!ctx.from || !(await role(ctx.from.id))) return refuse(ctx, '/mine');
    const t = en(ctx);
    const mine = await service.casesOf(ctx.from.id);
    const rows = mine.map((c) => `#${c.id}${c.urgent ? ' 🔴' : ''} · ${c.lang} · ${t(`ops:status.${c.status}`)}`);
    await ctx.reply([t('ops:mineTitle', { n: mine.length }), ...rows].join('\n'), { message_thread_id: ctx.msg?.message_thread_id });
  });

  group.command('stats', async (ctx) => {
    if (!(await role(ctx.from?.id))) return refuse(ctx, '/stats');
    const t = en(ctx);
    const s = await service.statsSince(startOfTodayInAlmaty(service.time()));
    const waits = [...s.firstResponseMs].sort((a, b) => a - b);
    const median = waits.length ? Math.round(waits[Math.floor(waits.length / 2)]! / 60000) : 0;
    await ctx.reply(t('ops:stats', { created: s.created, claimed: s.claimed, closed: s.closed, waiting: s.waitingNow, median }), {
      message_thread_id: ctx.msg?.message_thread_id,
    });
  });

  for (const [command, grant] of [['grant', true], ['revoke', false]] as const) {
    group.command(command, async (ctx) => {
      if ((await role(ctx.from?.id)) !== 'admin') return refuse(ctx, `/${command}`);
      const t = en(ctx);
      const m = /^(operator|supervisor)\s+(\d{3,15})$/.exec(ctx.match.trim());
      if (!m) return void (await ctx.reply(t('ops:grantUsage', { command })));
      const [, which, id] = m as unknown as [string, 'operator' | 'supervisor', string];
      const userId = Number(id);
      if (grant) {
        await service.roles.grant(which, userId);
        return void (await ctx.reply(t('ops:granted', { role: which, id })));
      }
      // The configuration is the truth for configured ids: a run-time revocation would be undone by
      // the next restart, or silently override it. Say so instead of answering "revoked".
      const configured = which === 'operator' ? service.roles.operatorIds() : opts.supervisorIds;
      if (configured.includes(userId)) {
        return void (await ctx.reply(t('ops:revokeConfigured', { role: which, id, variable: which === 'operator' ? 'OPERATOR_IDS' : 'SUPERVISOR_IDS' })));
      }
      if (!(await service.roles.granted(which)).includes(userId)) return void (await ctx.reply(t('ops:revokeNotGranted', { role: which, id })));
      await service.roles.revoke(which, userId);
      // Someone with no role left cannot answer the families they hold: those cases go back to the line.
      const released = (await role(userId)) ? 0 : await service.releaseHeldBy(userId, ctx.from!.id);
      await ctx.reply([t('ops:revoked', { role: which, id }), ...(released ? [t('ops:casesReleased', { n: released })] : [])].join('\n'));
    });
  }

  group.use(referralAdminComposer({ isAdmin: async (id) => (await role(id)) === 'admin', refuse, staffLang: opts.staffLang }));
  group.use(adminParamsComposer({ isAdmin: async (id) => (await role(id)) === 'admin', refuse, staffLang: opts.staffLang, now: () => service.time() }));

  // Replies to the note prompt become private notes.
  group.on('message:text', async (ctx, next) => {
    const prompt = ctx.message.reply_to_message;
    const m = prompt?.from?.id === ctx.me.id ? /#([A-Z0-9]{4,8})/.exec(prompt.text ?? '') : null;
    if (!m || !prompt?.text?.startsWith('📝')) return next();
    if (!(await role(ctx.from.id))) return refuse(ctx, 'note');
    const kept = await service.note(m[1]!, ctx.from.id, ctx.message.text);
    await ctx.reply(en(ctx)(kept ? 'ops:noteSaved' : 'ops:noteNotKept'), { message_thread_id: ctx.message.message_thread_id });
  });

  // Anything written in a case topic: relayed to the family only from the operator who holds the
  // case and still has a role (revoked, or removed from the configuration, they may still be the holder).
  group.on('message', async (ctx) => {
    const topicId = ctx.message.message_thread_id;
    if (!topicId || !ctx.message.is_topic_message || ctx.from.is_bot) return;
    if (!(await role(ctx.from.id))) {
      // Others' words in a topic stay internal, as always; a holder without a role is told and logged.
      if ((await service.caseOfTopic(topicId))?.operatorId === ctx.from.id) await refuse(ctx, 'message to the family without a role');
      return;
    }
    await service.fromTopic(topicId, ctx.from.id, ctx.update.update_id, ctx.message.message_id);
  });

  return composer;
}

/** Midnight in Almaty (UTC+5, no daylight saving), as epoch ms. */
export function startOfTodayInAlmaty(now: number): number {
  const offset = 5 * 3600_000;
  return Math.floor((now + offset) / 86_400_000) * 86_400_000 - offset;
}
