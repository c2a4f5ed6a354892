/**
 * "Refer" on a case card in the operators' group: the operator chooses the
 * profile, sees the packet a worker would get (from the summary the family
 * shared, the case's language, region and urgency, the operator's last note),
 * and confirms; the family is then asked in their chat, with exactly that
 * packet, and only their "yes" creates the referral. The topic hears the
 * family's answer and where §9 routed it.
 */
import { Composer, InlineKeyboard } from 'grammy';
import type { Lang } from '../engine/types.js';
import { PROFILES, type Profile } from '../referral/types.js';
import type { BotContext } from './context.js';
import { lastNote, operatorPacket, suggest } from './referral-family.js';
import { packetCardLines, whereText } from './referral-view.js';

export interface ReferralOperatorsOptions {
  role: (userId: number | undefined) => Promise<'admin' | 'supervisor' | 'operator' | undefined>;
  refuse: (ctx: BotContext, what: string) => Promise<void>;
  staffLang: Lang;
}

const PROFILE_CODE = new RegExp(`^(${PROFILES.join('|')})$`);

export function referralOperatorsComposer(opts: ReferralOperatorsOptions): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const staff = (ctx: BotContext) => ctx.deps.translator.bind(opts.staffLang);

  composer.callbackQuery(/^h\|([A-Z0-9]{4,8})\|(rf|rq|rx)(?::([a-z_]{3,20}))?$/, async (ctx) => {
    const [, caseId, action, arg] = ctx.match as RegExpMatchArray as [string, string, string, string | undefined];
    const t = staff(ctx);
    const who = await opts.role(ctx.from.id);
    if (!who) return opts.refuse(ctx, `button ${action}`);
    const handoff = ctx.deps.handoff;
    if (!ctx.deps.referrals || !handoff) return void (await ctx.answerCallbackQuery({ text: t('referral:ops.unavailable'), show_alert: true }));
    const rec = await handoff.service.get(caseId);
    if (!rec) return void (await ctx.answerCallbackQuery({ text: t('ops:noSuchCase') }));
    if (rec.status !== 'claimed') return void (await ctx.answerCallbackQuery({ text: t('referral:ops.notClaimed'), show_alert: true }));
    // As for Transfer: an operator refers only the case they hold; supervisors and admins any.
    if (rec.operatorId !== ctx.from.id && who === 'operator') return opts.refuse(ctx, 'referral of another operator’s case');
    const thread = rec.topicId ? { message_thread_id: rec.topicId } : {};

    if (action === 'rx') {
      await ctx.editMessageText(t('referral:ops.cancelled')).catch(() => undefined);
      return void (await ctx.answerCallbackQuery());
    }
    if (action === 'rf' && !arg) {
      const rows = PROFILES.map((p) => [{ text: t(`referral:profiles.${p}`), callback_data: `h|${rec.id}|rf:${p}` }]);
      await ctx.reply(t('referral:ops.chooseProfile', { caseId: rec.id }), { ...thread, reply_markup: InlineKeyboard.from([...rows, [{ text: t('referral:ops.buttons.cancel'), callback_data: `h|${rec.id}|rx` }]]) });
      return void (await ctx.answerCallbackQuery());
    }
    if (!arg || !PROFILE_CODE.test(arg)) return void (await ctx.answerCallbackQuery({ text: t('ops:notNow') }));
    const profile = arg as Profile;
    const packet = operatorPacket(ctx.deps.catalogue, rec, profile, await lastNote(handoff.service, rec.id));
    if (!packet) return void (await ctx.answerCallbackQuery({ text: t('referral:ops.noRegion', { caseId: rec.id }), show_alert: true }));

    if (action === 'rf') {
      // The profile chosen: the packet as the worker would read it, and the confirm button.
      const lines = [
        t('referral:ops.preview', { caseId: rec.id, profile: t(`referral:profiles.${profile}`) }),
        ...(packet.urgent ? [t('referral:worker.card.urgent')] : []),
        t('referral:worker.card.where', { where: whereText(t, packet.region, packet.district) }),
        t('referral:worker.card.language', { lang: t(`referral:languages.${packet.lang}`) }),
        ...packetCardLines(t, packet, true),
      ];
      if (!packet.note) lines.push(t('referral:ops.noNote'));
      lines.push('', t('referral:ops.askFamily'));
      await ctx.editMessageText(lines.join('\n'), {
        reply_markup: InlineKeyboard.from([[{ text: t('referral:ops.buttons.confirm'), callback_data: `h|${rec.id}|rq:${profile}` }], [{ text: t('referral:ops.buttons.cancel'), callback_data: `h|${rec.id}|rx` }]]),
      }).catch(() => undefined);
      return void (await ctx.answerCallbackQuery());
    }
    // Confirmed: the family decides.
    if (rec.chatId === undefined || rec.withdrawn) return void (await ctx.answerCallbackQuery({ text: t('referral:ops.familyGone', { caseId: rec.id }), show_alert: true }));
    const familyLang = (await ctx.deps.sessions.read(String(rec.chatId)))?.lang ?? rec.lang;
    const step = (await ctx.deps.host.current(String(rec.chatId))).snapshot.context.step;
    await suggest(ctx.api, ctx.deps.translator, rec.chatId, familyLang, rec, profile, packet, ctx.deps.referrals.keptDays, step);
    await handoff.service.recordEvent(rec.id, 'referral_suggested', String(ctx.from.id), profile);
    await ctx.editMessageText(t('referral:ops.asked', { caseId: rec.id, profile: t(`referral:profiles.${profile}`) })).catch(() => undefined);
    await ctx.answerCallbackQuery();
  });

  return composer;
}
