/**
 * The social workers' side, in their private chats with the bot: linking an
 * account with a one-time code (/start w-<code>), the referral card with its
 * buttons (edited in place as the status changes), /referrals, typed visit
 * dates and messages to a family. Only the service decides who may act; a
 * refused press is answered kindly and logged (hashed user id).
 *
 * Mounted before the family's composers: it takes only what is a worker's
 * (its commands, `w|…` buttons, the message a worker was asked for) and passes
 * everything else on, so a family never pays a lookup for it.
 */
import { Composer, InlineKeyboard } from 'grammy';
import type { Lang } from '../engine/types.js';
import type { T } from '../i18n/i18n.js';
import { chatRef } from '../log.js';
import { covers } from '../referral/routing.js';
import type { ReferralService } from '../referral/service.js';
import {
  DECLINE_REASONS,
  OUTCOMES,
  PROFILES,
  type Directory,
  type DirectoryWorker,
  type Referral,
  type ReferralAction,
  type Refusal,
} from '../referral/types.js';
import { setWorkerMenu } from './commands.js';
import type { BotContext, ReferralBotDeps } from './context.js';
import { familyLang, workerCard } from './referral-view.js';

/** A worker's message waits this long for its typed date or text; then it is an ordinary message again. */
const AWAIT_MS = 30 * 60_000;
const VISIT_DAYS = 5;
const ID = 'R-[A-Z0-9]{3,10}';
const ACTION = new RegExp(`^w\\|(${ID})\\|([a-z]{2})(?::([a-z0-9_:-]{1,48}))?$`);

/** Staff read English too: the chosen language, else the Telegram app's (Kazakh, English), else Russian. */
export function staffLang(chosen: Lang | undefined, languageCode: string | undefined): Lang {
  if (chosen) return chosen;
  const code = languageCode?.toLowerCase() ?? '';
  return code.startsWith('kk') ? 'kk' : code.startsWith('en') ? 'en' : 'ru';
}

export function directoryWorker(directory: Directory, workerId: string | undefined): DirectoryWorker | undefined {
  return workerId ? directory.workers.find((w) => w.id === workerId) : undefined;
}

/** Who the viewer is to this referral: the one who holds it, a supervisor of its territory, or neither. */
export function relation(r: Referral, viewer: DirectoryWorker | undefined): 'holder' | 'supervisor' | 'none' {
  if (!viewer) return 'none';
  if (viewer.role === 'supervisor' && viewer.areas.some((a) => covers(a, r.region, r.district))) return 'supervisor';
  if (r.workerId === viewer.id || r.supervisorId === viewer.id) return 'holder';
  return 'none';
}

const data = (r: Referral, action: string) => {
  const d = `w|${r.id}|${action}`;
  if (Buffer.byteLength(d) > 64) throw new Error(`callback data over 64 bytes: ${d}`);
  return d;
};

/** The card's buttons for this viewer and status: the next steps only. */
export function cardKeyboard(t: T, r: Referral, viewer: DirectoryWorker | undefined): InlineKeyboard {
  const who = relation(r, viewer);
  if (who === 'none') return new InlineKeyboard();
  const b = (key: string, action: string) => ({ text: t(`referral:worker.buttons.${key}`), callback_data: data(r, action) });
  const rows: { text: string; callback_data: string }[][] = [];
  const write = r.packet?.contact.kind === 'telegram' && r.familyChatId !== undefined ? [[b('write', 'wr')]] : [];
  if (r.status === 'requested') rows.push([b('accept', 'ac')], [b('decline', 'dc'), b('redirect', 'rd')]);
  if (r.status === 'accepted') rows.push([b('contacted', 'ct'), b('visit', 'vp')], [b('complete', 'cp')], [b('decline', 'dc'), b('redirect', 'rd')], ...write);
  if (r.status === 'in-progress') rows.push([b('visit', 'vp'), b('complete', 'cp')], ...write);
  const open = ['requested', 'accepted', 'in-progress', 'declined', 'redirected'].includes(r.status);
  if (who === 'supervisor' && open) rows.push([b('reassign', 'ra')]);
  return InlineKeyboard.from(rows);
}

/** The next working days (Mon–Fri) from today, as ISO dates in Almaty. */
export function nextWorkingDays(today: string, n = VISIT_DAYS): string[] {
  const out: string[] = [];
  const d = new Date(`${today}T00:00:00Z`);
  while (out.length < n) {
    const day = d.getUTCDay();
    if (day !== 0 && day !== 6) out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

/** "24.11" or "24.11.2026" → an ISO date, today or later (a day already past this year is next year's); undefined if not a date. */
export function readDate(text: string, today: string): string | undefined {
  const m = /^\s*(\d{1,2})[./-](\d{1,2})(?:[./-](\d{4}))?\s*$/.exec(text);
  if (!m) return undefined;
  const [day, month] = [Number(m[1]), Number(m[2])];
  const thisYear = Number(today.slice(0, 4));
  const make = (year: number) => {
    const probe = new Date(Date.UTC(year, month - 1, day));
    return probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day ? probe.toISOString().slice(0, 10) : undefined;
  };
  if (m[3]) {
    const iso = make(Number(m[3]));
    return iso && iso >= today ? iso : undefined;
  }
  const iso = make(thisYear);
  if (!iso) return undefined;
  return iso >= today ? iso : make(thisYear + 1);
}

const ddmm = (iso: string) => `${iso.slice(8, 10)}.${iso.slice(5, 7)}`;

export function workersComposer(): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const chats = composer.chatType('private');
  const ref = (ctx: BotContext): ReferralBotDeps | undefined => ctx.deps.referrals;

  /** The worker's language for this update. */
  const speak = (ctx: BotContext) => {
    ctx.lang = staffLang(ctx.session.lang, ctx.from?.language_code);
    ctx.t = ctx.deps.translator.bind(ctx.lang);
  };

  const today = (service: ReferralService) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Almaty' }).format(new Date(service.time()));

  const logRefusal = (ctx: BotContext, referralId: string, action: string, refusal: Refusal) =>
    ctx.deps.log.warn({ user: chatRef(ctx.from!.id, ctx.deps.logSalt), referral: referralId, action, refusal }, 'referral action refused');

  /** The viewer's directory entry, from their link. */
  const viewerOf = async (ctx: BotContext, deps: ReferralBotDeps) => directoryWorker(deps.service.directory(), await deps.service.workerOf(ctx.from!.id));

  const render = (ctx: BotContext, deps: ReferralBotDeps, r: Referral, viewer: DirectoryWorker | undefined, header?: string) => ({
    text: workerCard(ctx.t, r, { header, viewerIsPsychologist: viewer?.profiles.includes('psychologist') ?? false, lang: ctx.lang, showHolder: viewer?.role === 'supervisor' }),
    keyboard: cardKeyboard(ctx.t, r, viewer),
  });

  // ── Linking ───────────────────────────────────────────────────────────────
  chats.command('start', async (ctx, next) => {
    const payload = ctx.match.trim();
    if (!payload.startsWith('w-')) return next();
    speak(ctx);
    const deps = ref(ctx);
    if (!deps) return void (await ctx.reply(ctx.t('referral:worker.unavailable')));
    const linked = await deps.service.redeemInvite(payload.slice(2), ctx.from.id);
    if (!linked.ok) {
      // Nothing about why: a guessed code learns nothing.
      ctx.deps.log.warn({ user: chatRef(ctx.from.id, ctx.deps.logSalt), reason: linked.reason }, 'invite code refused');
      return void (await ctx.reply(ctx.t('referral:worker.badCode')));
    }
    ctx.session.lang = ctx.lang; // notices later come in the language the worker linked in
    const directory = deps.service.directory();
    const worker = directoryWorker(directory, linked.workerId);
    const org = directory.organizations.find((o) => o.id === worker?.organization);
    ctx.deps.log.info({ user: chatRef(ctx.from.id, ctx.deps.logSalt), worker: linked.workerId, relinked: linked.replaced !== undefined }, 'worker linked');
    const lines = [ctx.t('referral:worker.linked', { id: linked.workerId, org: org?.name[ctx.lang] ?? '-', role: ctx.t(`referral:worker.roles.${worker?.role ?? 'worker'}`) })];
    if (directory.example) lines.push(ctx.t('referral:worker.linkedExample'));
    await ctx.reply(lines.join('\n\n'));
    await setWorkerMenu(ctx.api, ctx.deps.translator, ctx.from.id, ctx.lang).catch(() => undefined);
  });

  // ── /referrals ───────────────────────────────────────────────────────────
  chats.command('referrals', async (ctx) => {
    speak(ctx);
    const deps = ref(ctx);
    if (!deps) return void (await ctx.reply(ctx.t('referral:worker.unavailable')));
    const viewer = await viewerOf(ctx, deps);
    if (!viewer) return void (await ctx.reply(ctx.t('referral:worker.notLinked')));
    const supervisor = viewer.role === 'supervisor';
    const list = supervisor ? await deps.service.listTerritory(viewer.id) : await deps.service.listOpenFor(viewer.id);
    if (!list.length) return void (await ctx.reply(ctx.t('referral:worker.list.none')));
    const rows = list.slice(0, 30).map((r) =>
      ctx.t('referral:worker.list.row', { id: r.id, urgent: r.urgent ? ' 🔴' : '', profile: ctx.t(`referral:profiles.${r.profile}`), region: ctx.t(`facts:region.values.${r.region}`), status: ctx.t(`referral:statuses.${r.status}`) }),
    );
    const title = ctx.t(supervisor ? 'referral:worker.list.territoryTitle' : 'referral:worker.list.title', { n: list.length });
    const buttons = list.slice(0, 30).map((r) => [{ text: `${r.id}${r.urgent ? ' 🔴' : ''}`, callback_data: data(r, 'op') }]);
    await ctx.reply([title, ...rows].join('\n'), { reply_markup: InlineKeyboard.from(buttons) });
  });

  // ── /language for workers (a family's /language is the screening's) ────────
  chats.command('language', async (ctx, next) => {
    const deps = ref(ctx);
    if (!deps || !(await deps.service.workerOf(ctx.from.id))) return next();
    speak(ctx);
    const names: Record<Lang, string> = { kk: 'Қазақша', ru: 'Русский', en: 'English' };
    await ctx.reply(ctx.t('referral:worker.language'), { reply_markup: InlineKeyboard.from([(['kk', 'ru', 'en'] as const).map((l) => ({ text: names[l], callback_data: `wl|${l}` }))]) });
  });

  chats.callbackQuery(/^wl\|(kk|ru|en)$/, async (ctx) => {
    ctx.session.lang = ctx.match[1] as Lang;
    speak(ctx);
    await ctx.answerCallbackQuery({ text: ctx.t('referral:worker.languageSet') });
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
  });

  // ── The card's buttons ─────────────────────────────────────────────────────
  chats.callbackQuery(ACTION, async (ctx) => {
    speak(ctx);
    const deps = ref(ctx);
    if (!deps) return void (await ctx.answerCallbackQuery({ text: ctx.t('referral:worker.unavailable'), show_alert: true }));
    const [, id, action, arg] = ctx.match as RegExpMatchArray as [string, string, string, string | undefined];
    const caller = { kind: 'user' as const, userId: ctx.from.id };
    const viewer = await viewerOf(ctx, deps);

    const refused = async (refusal: Refusal, current?: Referral) => {
      if (refusal === 'not_linked' || refusal === 'not_yours') {
        logRefusal(ctx, id, action, refusal);
        return void (await ctx.answerCallbackQuery({ text: ctx.t('referral:worker.refused'), show_alert: true }));
      }
      if (refusal === 'not_found') {
        await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
        return void (await ctx.answerCallbackQuery({ text: ctx.t('referral:worker.gone'), show_alert: true }));
      }
      // A stale button: show the referral as it is now.
      const fresh = current ?? (await deps.service.view(id, caller).then((v) => (v.ok ? v.referral : undefined)));
      if (fresh) await editCard(fresh);
      await ctx.answerCallbackQuery({ text: ctx.t('referral:worker.notNow'), show_alert: true });
    };
    const editCard = async (r: Referral, header?: string, footer?: string) => {
      const card = render(ctx, deps, r, viewer, header);
      await ctx.editMessageText(footer ? `${card.text}\n\n${footer}` : card.text, { reply_markup: card.keyboard }).catch(() => undefined);
    };
    const menu = async (r: Referral, prompt: string, rows: { text: string; callback_data: string }[][]) => {
      const back = [{ text: ctx.t('referral:worker.buttons.back'), callback_data: data(r, 'bk') }];
      await ctx.editMessageText(`${render(ctx, deps, r, viewer).text}\n\n${prompt}`, { reply_markup: InlineKeyboard.from([...rows, back]) }).catch(() => undefined);
      await ctx.answerCallbackQuery();
    };
    const act = async (a: ReferralAction, done: string) => {
      const result = await deps.service.act(id, caller, a);
      if (!result.ok) return refused(result.refusal, result.referral);
      // Declined, redirected or reassigned away: the card says what this worker did, and has no buttons left.
      await editCard(result.referral, undefined, relation(result.referral, viewer) === 'none' ? done : undefined);
      await ctx.answerCallbackQuery({ text: done });
    };

    // Every look at a referral goes through the service: it checks who asks and audits the view.
    const seen = await deps.service.view(id, caller);
    if (!seen.ok) return refused(seen.refusal);
    const r = seen.referral;
    const t = ctx.t;
    const pick = (key: string) => t(`referral:worker.pick.${key}`, { id: r.id });

    switch (action) {
      case 'op': {
        const card = render(ctx, deps, r, viewer);
        await ctx.reply(card.text, { reply_markup: card.keyboard });
        return void (await ctx.answerCallbackQuery());
      }
      case 'bk':
        await editCard(r);
        return void (await ctx.answerCallbackQuery());
      case 'ac':
        return act({ type: 'ACCEPT' }, t('referral:worker.done.accepted'));
      case 'ct':
        return act({ type: 'CONTACTED' }, t('referral:worker.done.contacted'));
      case 'dc': {
        if (!arg) return menu(r, pick('reason'), DECLINE_REASONS.map((x) => [{ text: t(`referral:declineReasons.${x}`), callback_data: data(r, `dc:${x}`) }]));
        if (!(DECLINE_REASONS as readonly string[]).includes(arg)) return refused('not_now', r);
        return act({ type: 'DECLINE', reason: arg as (typeof DECLINE_REASONS)[number] }, t('referral:worker.done.declined'));
      }
      case 'rd': {
        if (!arg) return menu(r, pick('redirect'), [[{ text: t('referral:worker.buttons.otherTerritory'), callback_data: data(r, 'rd:t') }, { text: t('referral:worker.buttons.otherProfile'), callback_data: data(r, 'rd:p') }]]);
        const regions = ctx.deps.catalogue.facts.find((f) => f.id === 'region')?.values ?? [];
        if (arg === 't') return menu(r, pick('territory'), chunk(regions.filter((x) => x !== r.region && x !== 'unknown').map((x) => ({ text: t(`facts:region.values.${x}`), callback_data: data(r, `rd:t:${x}`) })), 2));
        if (arg === 'p') return menu(r, pick('profile'), PROFILES.filter((x) => x !== r.profile).map((x) => [{ text: t(`referral:profiles.${x}`), callback_data: data(r, `rd:p:${x}`) }]));
        const [kind, value] = arg.split(':') as [string, string | undefined];
        if (kind === 't' && value && regions.includes(value)) return act({ type: 'REDIRECT', region: value }, t('referral:worker.done.redirected'));
        if (kind === 'p' && value && (PROFILES as readonly string[]).includes(value)) return act({ type: 'REDIRECT', profile: value as (typeof PROFILES)[number] }, t('referral:worker.done.redirected'));
        return refused('not_now', r);
      }
      case 'vp': {
        const now = today(deps.service);
        if (!arg) {
          const days = nextWorkingDays(now).map((d) => ({ text: ddmm(d), callback_data: data(r, `vp:${d}`) }));
          return menu(r, pick('date'), [...chunk(days, 3), [{ text: t('referral:worker.buttons.typeDate'), callback_data: data(r, 'vp:ty') }]]);
        }
        if (arg === 'ty') {
          ctx.session.workerAwait = { kind: 'date', referralId: r.id, messageId: ctx.callbackQuery.message?.message_id, at: deps.service.time() };
          await ctx.answerCallbackQuery();
          return void (await ctx.reply(pick('typeDate'), { reply_markup: { force_reply: true, input_field_placeholder: 'DD.MM' } }));
        }
        const date = /^\d{4}-\d{2}-\d{2}$/.test(arg) ? readDate(`${arg.slice(8, 10)}.${arg.slice(5, 7)}.${arg.slice(0, 4)}`, now) : undefined;
        if (!date) return refused('not_now', r);
        return act({ type: 'VISIT_PLANNED', date }, t('referral:worker.done.visit', { date: ddmm(date) }));
      }
      case 'cp': {
        if (!arg) return menu(r, pick('outcome'), OUTCOMES.map((x) => [{ text: t(`referral:outcomes.${x}`), callback_data: data(r, `cp:${x}`) }]));
        if (!(OUTCOMES as readonly string[]).includes(arg)) return refused('not_now', r);
        return act({ type: 'COMPLETE', outcome: arg as (typeof OUTCOMES)[number] }, t('referral:worker.done.completed'));
      }
      case 'wr': {
        if (r.packet?.contact.kind !== 'telegram' || r.familyChatId === undefined) return refused('not_now', r);
        ctx.session.workerAwait = { kind: 'write', referralId: r.id, at: deps.service.time() };
        await ctx.answerCallbackQuery();
        return void (await ctx.reply(t('referral:worker.write.prompt', { id: r.id }), { reply_markup: { force_reply: true } }));
      }
      case 'ra': {
        if (relation(r, viewer) !== 'supervisor') return refused('not_yours');
        const candidates = deps.service
          .directory()
          .workers.filter((w) => w.role === 'worker' && w.id !== r.workerId && w.areas.some((a) => covers(a, r.region, r.district)) && w.profiles.includes(r.profile));
        if (!arg) return menu(r, pick('reassign'), candidates.filter((w) => Buffer.byteLength(data(r, 'ra:x')) + w.id.length <= 64).map((w) => [{ text: w.id, callback_data: data(r, `ra:${w.id}`) }]));
        if (!candidates.some((w) => w.id === arg)) return refused('not_now', r);
        return act({ type: 'REASSIGN', workerId: arg }, t('referral:worker.done.reassigned', { worker: arg }));
      }
      default:
        return refused('not_now', r);
    }
  });

  // ── What a worker was asked to type: a visit date, or a message for the family ──
  chats.on('message', async (ctx, next) => {
    const waiting = ctx.session.workerAwait;
    const deps = ref(ctx);
    if (!waiting || !deps) return next();
    const text = ctx.message.text;
    if (typeof text === 'string' && text.startsWith('/')) {
      ctx.session.workerAwait = undefined;
      return next();
    }
    if (deps.service.time() - waiting.at > AWAIT_MS) {
      ctx.session.workerAwait = undefined;
      return next();
    }
    speak(ctx);
    const caller = { kind: 'user' as const, userId: ctx.from.id };
    if (waiting.kind === 'date') {
      const date = typeof text === 'string' ? readDate(text, today(deps.service)) : undefined;
      if (!date) return void (await ctx.reply(ctx.t('referral:worker.badDate'), { reply_markup: { force_reply: true, input_field_placeholder: 'DD.MM' } }));
      ctx.session.workerAwait = undefined;
      const result = await deps.service.act(waiting.referralId, caller, { type: 'VISIT_PLANNED', date });
      if (!result.ok) {
        if (result.refusal === 'not_linked' || result.refusal === 'not_yours') logRefusal(ctx, waiting.referralId, 'vp', result.refusal);
        return void (await ctx.reply(ctx.t(result.refusal === 'not_yours' || result.refusal === 'not_linked' ? 'referral:worker.refused' : result.refusal === 'not_found' ? 'referral:worker.gone' : 'referral:worker.notNow')));
      }
      if (waiting.messageId) {
        const viewer = await viewerOf(ctx, deps);
        const card = render(ctx, deps, result.referral, viewer);
        await ctx.api.editMessageText(ctx.chat.id, waiting.messageId, card.text, { reply_markup: card.keyboard }).catch(() => undefined);
      }
      return void (await ctx.reply(ctx.t('referral:worker.done.visit', { date: ddmm(date) })));
    }
    // A message for the family: text only, through the bot, to a family who chose to be written to here.
    if (typeof text !== 'string' || !text.trim()) return void (await ctx.reply(ctx.t('referral:worker.write.prompt', { id: waiting.referralId }), { reply_markup: { force_reply: true } }));
    ctx.session.workerAwait = undefined;
    const seen = await deps.service.view(waiting.referralId, caller);
    if (!seen.ok) {
      if (seen.refusal === 'not_linked' || seen.refusal === 'not_yours') logRefusal(ctx, waiting.referralId, 'wr', seen.refusal);
      return void (await ctx.reply(ctx.t(seen.refusal === 'not_found' ? 'referral:worker.gone' : 'referral:worker.refused')));
    }
    const r = seen.referral;
    if (r.familyChatId === undefined || r.packet?.contact.kind !== 'telegram') return void (await ctx.reply(ctx.t('referral:worker.write.notSent')));
    const lang = await familyLang(ctx.deps.sessions, r.familyChatId, r.lang);
    const header = ctx.deps.translator.t(lang, 'referral:family.fromWorker', { id: r.id });
    const reply = { inline_keyboard: [[{ text: ctx.deps.translator.t(lang, 'referral:family.buttons.reply'), callback_data: `rr|${r.id}` }]] };
    const sent = await ctx.api.sendMessage(r.familyChatId, `${header}\n\n${text.slice(0, 3500)}`, { reply_markup: reply }).then(
      () => true,
      () => false,
    );
    ctx.deps.log.info({ referral: r.id, sent }, 'worker wrote to the family');
    await ctx.reply(ctx.t(sent ? 'referral:worker.write.sent' : 'referral:worker.write.notSent'));
  });

  return composer;
}

function chunk<X>(items: X[], size: number): X[][] {
  const rows: X[][] = [];
  for (let i = 0; i < items.length; i += size) rows.push(items.slice(i, i + size));
  return rows;
}
