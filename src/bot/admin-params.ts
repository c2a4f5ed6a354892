/**
 * /params in the operators' group, for admins only: the values in force by region
 * (with reference and verified flag), and a dated value added after a confirm button
 * that shows exactly what will change. The value goes to the shared parameters store
 * (src/params), with who set it in its audit trail; this process uses it at once and
 * every other one within a minute (src/params/live.ts).
 */
import { Composer, InlineKeyboard } from 'grammy';
import { valueInForce } from '../engine/params.js';
import type { DatedValue, Lang } from '../engine/types.js';
import type { T } from '../i18n/i18n.js';
import { chatRef } from '../log.js';
import { effectOf, readParamsCommand, type Known } from '../params/command.js';
import type { LiveParams } from '../params/live.js';
import { valueField, type ParamChange, type StoredParam } from '../params/store.js';
import type { BotContext } from './context.js';

declare module './context.js' {
  interface BotDeps {
    /** Parameters laid over the files' at run time (src/params/live.ts); absent in a setup without them. */
    params?: LiveParams;
  }
}

/** How long the confirm buttons of a proposed change work. */
export const CONFIRM_MINUTES = 15;
const REFERENCE_IN_LIST = 40;
/** Telegram's limit for one message. */
const MAX_MESSAGE = 4096;

export interface AdminParamsOptions {
  isAdmin: (userId: number | undefined) => Promise<boolean>;
  /** Says "not allowed" and logs the attempt (the operators' composer's refusal). */
  refuse: (ctx: BotContext, what: string) => Promise<void>;
  staffLang: Lang;
  /** Epoch ms, for when a value was set; the handoff's clock. */
  now: () => number;
}

export function adminParamsComposer(opts: AdminParamsOptions): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const staff = (ctx: BotContext) => ctx.deps.translator.bind(opts.staffLang);

  composer.command('params', async (ctx) => {
    if (!(await opts.isAdmin(ctx.from?.id))) return opts.refuse(ctx, '/params');
    const t = staff(ctx);
    const thread = { message_thread_id: ctx.msg?.message_thread_id };
    const live = ctx.deps.params;
    if (!live) return void (await ctx.reply(t('params:unavailable'), thread));
    const known = knownOf(ctx, live);
    const request = readParamsCommand(ctx.match, known);
    if (request.kind === 'error') {
      return void (await ctx.reply([t(`params:${request.error}`, request.vars), t('params:errors.nothingStored'), t('params:example')].join('\n'), thread));
    }
    if (request.kind === 'show') {
      // One message when it fits; otherwise a message per parameter (and one for how to set).
      const sections = await listInForce(t, ctx, live, known);
      const whole = sections.join('\n\n');
      for (const text of whole.length <= MAX_MESSAGE ? [whole] : sections) await ctx.reply(text, thread);
      return;
    }
    const { change } = request;
    const token = await live.store.propose({ ...change, proposedBy: ctx.from!.id }, CONFIRM_MINUTES * 60);
    const keyboard = InlineKeyboard.from([
      [
        { text: t('params:buttons.confirm'), callback_data: `pm|${token}|ok` },
        { text: t('params:buttons.cancel'), callback_data: `pm|${token}|no` },
      ],
    ]);
    await ctx.reply(await confirmText(t, ctx, live, change), { ...thread, reply_markup: keyboard });
  });

  composer.callbackQuery(/^pm\|([A-Za-z0-9_-]{8})\|(ok|no)$/, async (ctx) => {
    if (!(await opts.isAdmin(ctx.from.id))) return opts.refuse(ctx, 'params confirm');
    const t = staff(ctx);
    const live = ctx.deps.params;
    if (!live) return void (await ctx.answerCallbackQuery({ text: t('params:unavailable'), show_alert: true }));
    const [, token, choice] = ctx.match as RegExpMatchArray;
    const pending = await live.store.take(token!, ctx.from.id);
    if (pending === 'not_yours') return void (await ctx.answerCallbackQuery({ text: t('params:notYours'), show_alert: true }));
    if (!pending) {
      await ctx.editMessageReplyMarkup().catch(() => undefined);
      return void (await ctx.answerCallbackQuery({ text: t('params:expired'), show_alert: true }));
    }
    if (choice === 'no') {
      await ctx.editMessageText(t('params:cancelled')).catch(() => undefined);
      return void (await ctx.answerCallbackQuery({ text: t('params:cancelled') }));
    }
    const { proposedBy: _, ...change } = pending;
    const entry = await live.store.set(change, ctx.from.id, opts.now());
    // Stored is done: if this process cannot read it back now, its next check will.
    await live.refresh().catch(() => undefined);
    // Staff ids are hashed in logs like everyone's; the audit trail keeps who it was.
    ctx.deps.log.info({ admin: chatRef(ctx.from.id, ctx.deps.logSalt), param: change.param, region: change.region, from: change.from, replaced: entry.previous !== undefined }, 'parameter set');
    await ctx.editMessageText(t('params:saved', { ...changeVars(t, change), id: ctx.from.id })).catch(() => undefined);
    await ctx.answerCallbackQuery({ text: t('params:savedShort') });
  });

  return composer;
}

function knownOf(ctx: BotContext, live: LiveParams): Known {
  const regions = ctx.deps.catalogue.facts.find((f) => f.id === 'region')?.values ?? [];
  return { params: Object.keys(live.fromFiles), regions };
}

const money = (n: number) => n.toLocaleString('ru-RU');
const regionName = (t: T, id: string) => t(`facts:region.values.${id}`);
const verifiedText = (t: T, verified: boolean) => t(verified ? 'params:list.verified' : 'params:list.unverified');

function changeVars(t: T, change: ParamChange): Record<string, string> {
  return { param: change.param, region: regionName(t, change.region), id: change.region, from: change.from, value: money(change.value), verified: verifiedText(t, change.verified) };
}

/** Where a value in force came from: the admin who set it (the store), or the parameters file. */
async function sourcesOf(live: LiveParams): Promise<(param: string, region: string, v: DatedValue) => StoredParam | undefined> {
  const stored = new Map((await live.store.values()).map((s) => [valueField(s), s]));
  return (param, region, v) => {
    const s = stored.get(valueField({ param, region, from: v.from }));
    return s && s.value === v.value && s.reference === v.reference ? s : undefined;
  };
}

const sourceText = (t: T, stored: StoredParam | undefined) => (stored ? t('params:list.setBy', { id: stored.setBy }) : t('params:list.fromFile'));

async function listInForce(t: T, ctx: BotContext, live: LiveParams, known: Known): Promise<string[]> {
  // Read the store now, not at the last poll: the admin should see what every process will use.
  await live.refresh();
  const date = ctx.deps.today();
  const params = ctx.deps.catalogue.params;
  const source = await sourcesOf(live);
  const sections = known.params.map((param) =>
    [
      t('params:list.title', { param, date }),
      ...known.regions.map((id) => {
        const v = valueInForce(params, param, id, date);
        if (!v) return t('params:list.none', { region: regionName(t, id), id });
        const reference = v.reference.length > REFERENCE_IN_LIST ? `${v.reference.slice(0, REFERENCE_IN_LIST - 1)}…` : v.reference;
        return t('params:list.row', { region: regionName(t, id), id, value: money(v.value), from: v.from, verified: verifiedText(t, v.verified), source: sourceText(t, source(param, id, v)), reference });
      }),
    ].join('\n'),
  );
  return [...sections, t('params:list.howToSet')];
}

async function confirmText(t: T, ctx: BotContext, live: LiveParams, change: ParamChange): Promise<string> {
  await live.refresh();
  const effect = effectOf(ctx.deps.catalogue.params, change);
  const source = await sourcesOf(live);
  const lines = [t('params:confirm.title'), t('params:confirm.what', changeVars(t, change)), t('params:confirm.reference', { reference: change.reference })];
  if (effect.replaces) {
    lines.push(t('params:confirm.replaces', { value: money(effect.replaces.value), source: sourceText(t, source(change.param, change.region, effect.replaces)) }));
  } else if (effect.before) {
    lines.push(t('params:confirm.before', { from: change.from, value: money(effect.before.value), since: effect.before.from, source: sourceText(t, source(change.param, change.region, effect.before)) }));
  } else {
    lines.push(t('params:confirm.beforeNone', { from: change.from }));
  }
  if (effect.until) lines.push(t('params:confirm.until', { date: effect.until.from, value: money(effect.until.value) }));
  if (!change.verified) lines.push(t('params:confirm.unverifiedHint'));
  lines.push(t('params:confirm.expires', { minutes: CONFIRM_MINUTES }));
  return lines.join('\n');
}
