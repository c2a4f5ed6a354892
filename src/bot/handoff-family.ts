/**
 * The family's side of the hotline handoff, in private chats. Mounted before
 * the screening composer: while a family has an open case, what they write
 * goes to the operators (danger cues still bring the emergency numbers first);
 * otherwise updates pass through to the screening.
 */
import { Composer, InlineKeyboard } from 'grammy';
import { evaluate } from '../engine/evaluate.js';
import { receivedBenefits } from '../engine/facts.js';
import type { WeekHours } from '../handoff/hours.js';
import type { CaseRecord, CaseSummary } from '../handoff/types.js';
import type { T } from '../i18n/i18n.js';
import type { BotContext, HandoffFamilyDeps } from './context.js';
import { wordsOf } from './show.js';

/** "Mon–Fri 09:00–18:00" in the family's language. */
export function formatHours(week: WeekHours, t: T): string {
  if (week.every((day) => day.length === 1 && day[0]![0] === 0 && day[0]![1] === 1440)) return t('handoff.family.always');
  const names = t('handoff.family.days').split(',');
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const order = [1, 2, 3, 4, 5, 6, 0]; // Monday first
  const groups: { from: number; to: number; hours: string }[] = [];
  for (const d of order) {
    const hours = week[d]!.map(([s, e]) => `${hhmm(s)}–${hhmm(e)}`).join(', ');
    if (!hours) continue;
    const last = groups.at(-1);
    if (last && last.hours === hours && order.indexOf(last.to) === order.indexOf(d) - 1) last.to = d;
    else groups.push({ from: d, to: d, hours });
  }
  const name = (d: number) => names[order.indexOf(d)] ?? '';
  return groups.map((g) => `${name(g.from)}${g.to !== g.from ? `–${name(g.to)}` : ''} ${g.hours}`).join('; ');
}

const PHONE = /^\+?[\d\s()-]{10,20}$/;

const h = (ctx: BotContext): HandoffFamilyDeps => ctx.deps.handoff!;

const waitingKeyboard = (ctx: BotContext, rec: CaseRecord) =>
    rec.status === 'claimed'
      ? InlineKeyboard.from([[{ text: ctx.t('handoff.family.buttons.end'), callback_data: 'he' }]])
      : rec.status === 'out_of_hours'
        ? InlineKeyboard.from([
            [{ text: ctx.t('handoff.family.buttons.leaveMessage'), callback_data: 'hm' }],
            [{ text: ctx.t('handoff.family.buttons.callback'), callback_data: 'hc' }],
            [{ text: ctx.t('handoff.family.buttons.cancel'), callback_data: 'hx' }],
          ])
        : InlineKeyboard.from([[{ text: ctx.t('handoff.family.buttons.cancel'), callback_data: 'hx' }]]);

const shareKeyboard = (ctx: BotContext) =>
  InlineKeyboard.from([[{ text: ctx.t('handoff.family.buttons.share'), callback_data: 'hs|1' }], [{ text: ctx.t('handoff.family.buttons.noShare'), callback_data: 'hs|0' }]]);

/** What the family may share with the operators: the statuses their answers point to and the region, never the answers. */
async function shareable(ctx: BotContext): Promise<{ summary: CaseSummary; region?: string; urgent: boolean }> {
  const { snapshot } = await ctx.deps.host.current(String(ctx.chat!.id));
  const facts = snapshot.context.facts;
  const result = evaluate(facts, ctx.deps.catalogue, snapshot.context.date);
  const summary: CaseSummary = {
    rulesVersion: result.rulesVersion,
    grounds: result.grounds.map((g) => ({ id: g.id, status: g.status })),
    benefits: result.benefits.map((b) => ({ id: b.id, status: b.status })),
    services: result.services.map((x) => x.id),
    receives: receivedBenefits(facts),
    urgent: result.urgent,
  };
  const region = typeof facts.region === 'string' && facts.region !== 'unknown' ? facts.region : undefined;
  return { summary, region, urgent: snapshot.context.urgent || result.urgent };
}

/**
 * "Talk to a person now" from the danger screen: the family joins the line at
 * once, as urgent; whether to share the summary is asked once they are in it.
 */
export async function openUrgentCase(ctx: BotContext): Promise<void> {
  const opened = await h(ctx).service.open(ctx.chat!.id, ctx.lang, { urgent: true });
  if (!opened.opened) return void (await ctx.reply(ctx.t('handoff.family.alreadyOpen'), { reply_markup: waitingKeyboard(ctx, opened.record) }));
  await tellPlace(ctx, opened.record, opened.place);
  await ctx.reply(ctx.t('handoff.family.shareAfterUrgent'), { reply_markup: shareKeyboard(ctx) });
}

async function tellPlace(ctx: BotContext, rec: CaseRecord, place: number | undefined): Promise<void> {
    const hours = formatHours(h(ctx).hours.week, ctx.t);
    let text: string;
    if (rec.status === 'out_of_hours') text = ctx.t('handoff.family.outOfHours', { hours });
    else if (rec.urgent) text = ctx.t('handoff.family.inLineUrgent');
    else {
      const operators = Math.max(1, h(ctx).service.roles.operatorIds().length);
      const minutes = Math.max(5, Math.round(((place ?? 1) * h(ctx).minutesPerCase) / operators));
      text = ctx.t('handoff.family.inLine', { place: place ?? 1, minutes, hours });
    }
    if (place) await h(ctx).service.toldPlace(rec.id, place);
    await ctx.reply(text, { reply_markup: waitingKeyboard(ctx, rec) });
}

export function handoffFamilyComposer(): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const chats = composer.chatType('private').filter((ctx) => ctx.deps.handoff !== undefined);

  // "Share the summary?" answered: open the case, or, when the family is already in the line (the urgent way), add the summary to it.
  chats.callbackQuery(/^hs\|([01])$/, async (ctx) => {
    await ctx.answerCallbackQuery();
    const share = ctx.match[1] === '1';
    const service = h(ctx).service;
    const { summary, region, urgent } = await shareable(ctx);
    const open = await service.openCaseOf(ctx.chat.id);
    if (open) {
      if (!share || open.summary) return void (await ctx.reply(ctx.t('handoff.family.alreadyOpen'), { reply_markup: waitingKeyboard(ctx, open) }));
      await service.shareSummary(open, summary, region);
      return void (await ctx.reply(ctx.t('handoff.family.summaryShared')));
    }
    const opened = await service.open(ctx.chat.id, ctx.lang, {
      urgent,
      summary: share ? summary : undefined,
      region: share ? region : undefined,
      consentAt: share ? service.time() : undefined,
    });
    if (!opened.opened) return void (await ctx.reply(ctx.t('handoff.family.alreadyOpen'), { reply_markup: waitingKeyboard(ctx, opened.record) }));
    await tellPlace(ctx, opened.record, opened.place);
  });

  chats.callbackQuery(['hx', 'he'], async (ctx) => {
    await ctx.answerCallbackQuery();
    const rec = await h(ctx).service.openCaseOf(ctx.chat.id);
    if (!rec) return void (await ctx.reply(ctx.t('errors.notNow')));
    const ending = ctx.callbackQuery.data === 'he';
    const closed = await h(ctx).service.close(rec.id, 'family', ending ? 'ended_by_family' : 'cancelled_by_family');
    if (!closed) return void (await ctx.reply(ctx.t('errors.notNow')));
    const feedback = ending ? InlineKeyboard.from([[{ text: ctx.t('handoff.family.feedbackGood'), callback_data: `hf|${rec.id}|1` }, { text: ctx.t('handoff.family.feedbackBad'), callback_data: `hf|${rec.id}|0` }]]) : undefined;
    await ctx.reply(ctx.t(ending ? 'handoff.family.endedByYou' : 'handoff.family.cancelled') + (ending ? `\n\n${ctx.t('handoff.family.feedbackQuestion')}` : ''), feedback ? { reply_markup: feedback } : {});
  });

  chats.callbackQuery('hm', async (ctx) => {
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t('handoff.family.leaveMessage'));
  });

  chats.callbackQuery('hc', async (ctx) => {
    await ctx.answerCallbackQuery();
    ctx.session.awaitingPhone = true;
    await ctx.reply(ctx.t('handoff.family.callbackAsk'), {
      reply_markup: { keyboard: [[{ text: ctx.t('handoff.family.buttons.sendPhone'), request_contact: true }]], one_time_keyboard: true, resize_keyboard: true },
    });
  });

  chats.callbackQuery(/^hf\|([A-Z0-9]{4,8})\|([01])$/, async (ctx) => {
    // Only the family of that case can rate it, once it is closed: the service checks.
    await h(ctx).service.feedback(ctx.match[1]!, ctx.chat.id, ctx.match[2] === '1');
    await ctx.answerCallbackQuery({ text: ctx.t('handoff.family.feedbackThanks') });
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
  });

  chats.command('forget', async (ctx, next) => {
    // A live conversation goes on, as the family is told, and is erased when it ends.
    if (await h(ctx).service.forget(ctx.chat.id)) await ctx.reply(ctx.t('handoff.family.forgetWhileTalking'));
    await next(); // the screening's own /forget erases the rest and confirms
  });

  // While a case is open, the family's messages go to the operators.
  chats.on('message', async (ctx, next) => {
    const text = wordsOf(ctx.message) ?? '';
    const service = h(ctx).service;
    const rec = await service.openCaseOf(ctx.chat.id);
    if (ctx.session.awaitingPhone && rec) {
      const phone = ctx.message.contact?.phone_number ?? (PHONE.test(text.trim()) ? text.trim() : undefined);
      ctx.session.awaitingPhone = false;
      if (phone) {
        await service.requestCallback(rec, phone);
        return void (await ctx.reply(ctx.t('handoff.family.callbackSaved'), { reply_markup: { remove_keyboard: true } }));
      }
      if (!text.startsWith('/')) return void (await ctx.reply(ctx.t('handoff.family.badPhone'), { reply_markup: { remove_keyboard: true } }));
    }
    if (!rec || rec.status === 'closed') return next();
    if (text.startsWith('/')) {
      if (/^\/(start|help)\b/.test(text)) return void (await ctx.reply(ctx.t('handoff.family.alreadyOpen'), { reply_markup: waitingKeyboard(ctx, rec) }));
      return next();
    }
    const danger = text ? ctx.deps.cues.match(text) : undefined;
    if (danger) {
      // Danger first: the numbers, then the operator who holds the case (or a supervisor) is alerted in its topic.
      await ctx.reply(ctx.deps.renderer.emergencyText(ctx.t, danger.kind));
      await service.dangerInCase(rec, danger.kind);
    }
    if (rec.status === 'family_unreachable') await service.familyReturned(rec.id);
    await service.fromFamily((await service.get(rec.id)) ?? rec, ctx.update.update_id, ctx.message.message_id);
  });

  chats.on('edited_message', async (ctx, next) => {
    const rec = await h(ctx).service.openCaseOf(ctx.chat.id);
    if (!rec) return next();
    const text = wordsOf(ctx.editedMessage) ?? '';
    const danger = text ? ctx.deps.cues.match(text) : undefined;
    if (danger) {
      // Danger first, also in an edit: the numbers, and the holder (or a supervisor) is alerted.
      await ctx.reply(ctx.deps.renderer.emergencyText(ctx.t, danger.kind));
      await h(ctx).service.dangerInCase(rec, danger.kind);
      return;
    }
    await ctx.reply(`${ctx.t('errors.edited')}\n\n${ctx.deps.renderer.netLine(ctx.t)}`);
  });

  return composer;
}
