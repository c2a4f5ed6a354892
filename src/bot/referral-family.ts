/**
 * The family's side of referrals, in their private chat: from the result, a
 * request for a social worker to contact them (region if not answered, how to
 * contact them — Telegram's own contact button, their own number only — and
 * when), then exactly what will be shared and with whom, and their consent;
 * an operator's suggestion asked the same way; "What is happening with my
 * request?" at any time; /forget withdraws.
 *
 * Nothing leaves the chat before the family agrees: the request waits in their
 * session, and the consent button carries a fingerprint of the packet they saw,
 * so a packet that changed meanwhile is shown again instead of sent.
 */
import { Composer, InlineKeyboard } from 'grammy';
import { evaluate } from '../engine/evaluate.js';
import { receivedBenefits } from '../engine/facts.js';
import type { Catalogue, Lang } from '../engine/types.js';
import type { CaseRecord } from '../handoff/types.js';
import type { T } from '../i18n/i18n.js';
import { admissionRoutesOf } from '../referral/admission.js';
import type { ScreeningSnapshot } from '../runtime/dialog-host.js';
import { OPEN_STATUSES, PROFILES, type Profile, type ReferralPacket, type Route, type WorkerLang } from '../referral/types.js';
import { encode } from './callback-data.js';
import type { BotContext, ReferralBotDeps, ReferralDraft } from './context.js';
import { familyStatusText, packetHash, packetPreview, regionName } from './referral-view.js';
import type { Screen } from './screens.js';

/** A request not finished within this is dropped, with the phone number in it. */
export const DRAFT_MS = 2 * 60 * 60_000;
const CONTACT_TIMES = ['morning', 'afternoon', 'evening', 'any'] as const;
const VIOLENCE_KINDS = new Set(['violence', 'sexual_violence', 'threat', 'trafficking', 'abduction']);

/** Families speak Kazakh or Russian with a worker; a family reading English is referred in Russian. */
export const workerLangOf = (lang: Lang): WorkerLang => (lang === 'kk' ? 'kk' : 'ru');

/** The family's region from their answers, if they gave one. */
export function answeredRegion(snapshot: ScreeningSnapshot): string | undefined {
  const region = snapshot.context.facts.region;
  return typeof region === 'string' && region !== 'unknown' ? region : undefined;
}

/** A family's own request goes to an assessment social worker; one who disclosed violence, to the violence profile, urgently. */
export function familyProfile(snapshot: ScreeningSnapshot): Profile {
  const danger = snapshot.context.danger;
  return danger && 'kind' in danger && VIOLENCE_KINDS.has(danger.kind) ? 'violence' : 'assessment';
}

/** What the screening says, for a packet: statuses only, and what the family already receives. */
function screeningPart(catalogue: Catalogue, snapshot: ScreeningSnapshot): Pick<ReferralPacket, 'result' | 'receives' | 'urgent' | 'admissionRoutes'> {
  const ctx = snapshot.context;
  const result = evaluate(ctx.facts, catalogue, ctx.date);
  const items: ReferralPacket['result'] = [
    ...result.grounds.filter((g) => g.status !== 'not_indicated').map((g) => ({ kind: 'ground' as const, id: g.id, status: g.status })),
    ...result.benefits.filter((b) => b.status !== 'not_indicated').map((b) => ({ kind: 'benefit' as const, id: b.id, status: b.status })),
    ...result.services.map((s) => ({ kind: 'service' as const, id: s.id, status: 'indicated' as const })),
  ];
  return {
    result: items,
    receives: receivedBenefits(ctx.facts),
    urgent: ctx.urgent || result.urgent,
    admissionRoutes: admissionRoutesOf(catalogue, result.grounds),
  };
}

/** The packet of a family's own request, once it has a region and a contact. */
export function familyPacket(catalogue: Catalogue, snapshot: ScreeningSnapshot, draft: ReferralDraft, lang: Lang): ReferralPacket | undefined {
  const region = answeredRegion(snapshot) ?? draft.region;
  if (!region || !draft.contact) return undefined;
  const profile = familyProfile(snapshot);
  const part = screeningPart(catalogue, snapshot);
  return {
    lang: workerLangOf(lang),
    region,
    urgent: part.urgent || profile === 'violence',
    profile,
    result: part.result,
    receives: part.receives,
    contact: draft.contact,
    ...(draft.contactTime ? { contactTime: draft.contactTime } : {}),
    admissionRoutes: part.admissionRoutes,
  };
}

/** The packet of an operator's referral: from the case the family shared, the operator's last note, and the call-back phone if they gave one. */
export function operatorPacket(catalogue: Catalogue, rec: CaseRecord, profile: Profile, note: string | undefined): ReferralPacket | undefined {
  if (!rec.region) return undefined;
  const summary = rec.summary;
  const result: ReferralPacket['result'] = summary
    ? [
        ...summary.grounds.filter((g) => g.status !== 'not_indicated').map((g) => ({ kind: 'ground' as const, id: g.id, status: g.status })),
        ...summary.benefits.filter((b) => b.status !== 'not_indicated').map((b) => ({ kind: 'benefit' as const, id: b.id, status: b.status })),
        ...(summary.services ?? []).map((id) => ({ kind: 'service' as const, id, status: 'indicated' as const })),
      ]
    : [];
  return {
    caseId: rec.id,
    lang: workerLangOf(rec.lang),
    region: rec.region,
    urgent: rec.urgent || profile === 'violence',
    profile,
    result,
    receives: summary?.receives ?? [],
    contact: rec.callbackPhone ? { kind: 'phone', phone: rec.callbackPhone } : { kind: 'telegram' },
    ...(note ? { note } : {}),
    admissionRoutes: admissionRoutesOf(catalogue, summary?.grounds ?? []),
  };
}

const kindAndPlace = (t: T, profile: Profile, region: string | undefined) => ({
  kind: t(`referral:workerKinds.${profile}`),
  territory: region ? regionName(t, region) : t('referral:family.yourRegion'),
});

const regionButtons = (catalogue: Catalogue, t: T) => {
  const ids = (catalogue.facts.find((f) => f.id === 'region')?.values ?? []).filter((v) => v !== 'unknown');
  const buttons = ids.map((id) => ({ text: regionName(t, id), callback_data: `rq|r:${id}` }));
  const rows: (typeof buttons)[] = [];
  for (let i = 0; i < buttons.length; i += 2) rows.push(buttons.slice(i, i + 2));
  return rows;
};

const contactRows = (t: T) => [
  [{ text: t('referral:family.contactButtons.phone'), callback_data: 'rq|c:p' }],
  [{ text: t('referral:family.contactButtons.telegram'), callback_data: 'rq|c:t' }],
];

const safetyRow = (t: T, step: number) => [
  { text: t('buttons.talk'), callback_data: encode(step, { kind: 'event', event: { type: 'TALK' } }) },
  { text: t('buttons.danger'), callback_data: encode(step, { kind: 'event', event: { type: 'DANGER' } }) },
];

/** Back to the result (the screening's own button), "what is happening", and the safety row. */
function tailRows(t: T, step: number) {
  return [
    [{ text: t('buttons.backToResult'), callback_data: encode(step, { kind: 'event', event: { type: 'RESUME' } }) }],
    [{ text: t('referral:family.buttons.status'), callback_data: 'rq|st' }],
    safetyRow(t, step),
  ];
}

/**
 * The screen of the screening's `refer` state when referrals are configured (ScreenRenderer.referScreen):
 * who the request goes to and what happens, then the region (if not answered) or how to be contacted.
 */
export function referScreen(catalogue: Catalogue): (snapshot: ScreeningSnapshot, t: T) => Screen[] {
  return (snapshot, t) => {
    const region = answeredRegion(snapshot);
    const intro = t('referral:family.intro', kindAndPlace(t, familyProfile(snapshot), region));
    const ask = region ? t('referral:family.howContact') : t('referral:family.chooseRegion');
    const rows = region ? contactRows(t) : regionButtons(catalogue, t);
    return [{ text: `${intro}\n\n${ask}`, keyboard: InlineKeyboard.from([...rows, ...tailRows(t, snapshot.context.step)]) }];
  };
}

/** What the family is told about where a request went, in staff words, for the operators' topic. */
export function routeText(t: T, route: Route): string {
  return route.to === 'none' ? t('referral:worker.routedTo.none') : t(`referral:worker.routedTo.${route.to}`, { worker: route.workerId });
}

export function referralFamilyComposer(): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const chats = composer.chatType('private').filter((ctx) => ctx.deps.referrals !== undefined);
  const r = (ctx: BotContext): ReferralBotDeps => ctx.deps.referrals!;
  const snapshotOf = async (ctx: BotContext) => (await ctx.deps.host.current(String(ctx.chat!.id))).snapshot;

  /** The request being put together, or a fresh one; an old one is dropped first. */
  const draftOf = (ctx: BotContext): ReferralDraft => {
    const now = r(ctx).service.time();
    const d = ctx.session.referralDraft;
    if (d && now - d.at <= DRAFT_MS) return d;
    return (ctx.session.referralDraft = { at: now });
  };

  const openRequest = async (ctx: BotContext) => (await r(ctx).service.statusFor(ctx.chat!.id)).find((x) => OPEN_STATUSES.includes(x.status));

  /** A family with an open request is told so instead of making a second one. */
  const refuseSecond = async (ctx: BotContext): Promise<boolean> => {
    const open = await openRequest(ctx);
    if (!open) return false;
    ctx.session.referralDraft = undefined;
    await ctx.reply(ctx.t('referral:family.alreadyOpen', { id: open.id, status: ctx.t(`referral:family.statusWords.${open.status}`) }), {
      reply_markup: InlineKeyboard.from([[{ text: ctx.t('referral:family.buttons.status'), callback_data: 'rq|st' }]]),
    });
    return true;
  };

  /** "Talk to a person" and "I am not safe" under every screen of the request too (SPEC §7). */
  const safety = async (ctx: BotContext) => safetyRow(ctx.t, (await snapshotOf(ctx)).context.step);

  const askWhen = async (ctx: BotContext) => {
    const rows = CONTACT_TIMES.map((x) => [{ text: ctx.t(`referral:contactTimes.${x}`), callback_data: `rq|t:${x}` }]);
    await ctx.reply(ctx.t('referral:family.whenContact'), { reply_markup: InlineKeyboard.from([...rows, await safety(ctx)]) });
  };
  const askHow = async (ctx: BotContext) => ctx.reply(ctx.t('referral:family.howContact'), { reply_markup: InlineKeyboard.from([...contactRows(ctx.t), await safety(ctx)]) });

  const askPhone = async (ctx: BotContext, note?: string) => {
    await ctx.reply(note ?? ctx.t('referral:family.sendPhone'), {
      reply_markup: { keyboard: [[{ text: ctx.t('referral:family.contactButtons.sendPhone'), request_contact: true }]], one_time_keyboard: true, resize_keyboard: true },
    });
    if (note) await askHow(ctx);
  };

  const showPreview = async (ctx: BotContext) => {
    const snapshot = await snapshotOf(ctx);
    const packet = familyPacket(ctx.deps.catalogue, snapshot, draftOf(ctx), ctx.lang);
    if (!packet) return void (await ctx.reply(ctx.t('referral:family.expired')));
    const text = [
      ctx.t('referral:family.preview', kindAndPlace(ctx.t, packet.profile, packet.region)),
      packetPreview(ctx.t, packet),
      `${ctx.t('referral:family.notShared')} ${ctx.t('referral:family.kept', { count: r(ctx).keptDays })}`,
      ctx.t('referral:family.consentQuestion'),
    ].join('\n\n');
    await ctx.reply(text, {
      reply_markup: InlineKeyboard.from([
        [{ text: ctx.t('referral:family.buttons.agree'), callback_data: `rq|ok:${packetHash(packet)}` }],
        [{ text: ctx.t('referral:family.buttons.refuse'), callback_data: 'rq|no' }],
        await safety(ctx),
      ]),
    });
  };

  const backToResult = async (ctx: BotContext) => {
    const step = (await snapshotOf(ctx)).context.step;
    return InlineKeyboard.from([[{ text: ctx.t('buttons.backToResult'), callback_data: encode(step, { kind: 'event', event: { type: 'RESUME' } }) }], safetyRow(ctx.t, step)]);
  };

  const tellStatus = async (ctx: BotContext) => {
    const mine = (await r(ctx).service.statusFor(ctx.chat!.id)).slice(0, 3);
    if (!mine.length) return void (await ctx.reply(ctx.t('referral:family.noRequest')));
    await ctx.reply(mine.map((x) => familyStatusText(ctx.deps.translator, ctx.lang, x)).join('\n\n'));
  };

  chats.command('status', tellStatus);

  chats.command('forget', async (ctx, next) => {
    // Open requests are cancelled (their workers told, without the family's data) and every packet erased.
    const touched = await r(ctx).service.forgetFamily(ctx.chat.id);
    if (touched.length) {
      ctx.deps.log.info({ chat: ctx.chatRef, referrals: touched.length }, 'family withdrew from referrals');
      await ctx.reply(ctx.t('referral:family.forgotten'));
    }
    await next(); // the handoff's and the screening's /forget erase the rest and confirm
  });

  chats.callbackQuery(/^rq\|(st|no|c:[pt]|r:[a-z_]{2,30}|t:[a-z]{3,9}|ok:[A-Za-z0-9_-]{10})$/, async (ctx) => {
    await ctx.answerCallbackQuery();
    const [code, arg] = ctx.match[1]!.split(':') as [string, string | undefined];
    if (code === 'st') return tellStatus(ctx);
    if (code === 'no') {
      ctx.session.referralDraft = undefined;
      await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
      return void (await ctx.reply(ctx.t('referral:family.refused'), { reply_markup: await backToResult(ctx) }));
    }
    if (await refuseSecond(ctx)) return;
    const draft = draftOf(ctx);
    if (code === 'r') {
      const regions = ctx.deps.catalogue.facts.find((f) => f.id === 'region')?.values ?? [];
      if (!arg || !regions.includes(arg) || arg === 'unknown') return;
      draft.region = arg;
      return void (await askHow(ctx));
    }
    if (code === 'c') {
      if (arg === 't') {
        draft.contact = { kind: 'telegram' };
        draft.awaitingContact = false;
        return askWhen(ctx);
      }
      draft.awaitingContact = true;
      return askPhone(ctx);
    }
    if (code === 't') {
      if (!(CONTACT_TIMES as readonly string[]).includes(arg ?? '')) return;
      if (!draft.contact) return void (await askHow(ctx));
      draft.contactTime = arg as ReferralDraft['contactTime'];
      return showPreview(ctx);
    }
    // code === 'ok': send exactly the packet the family saw, or show it again if it changed.
    const snapshot = await snapshotOf(ctx);
    const packet = familyPacket(ctx.deps.catalogue, snapshot, draft, ctx.lang);
    if (!packet) {
      ctx.session.referralDraft = undefined;
      return void (await ctx.reply(ctx.t('referral:family.expired'), { reply_markup: await backToResult(ctx) }));
    }
    if (packetHash(packet) !== arg) return showPreview(ctx);
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
    const created = await r(ctx).service.create({ packet, familyChatId: ctx.chat.id, source: 'family', actor: { kind: 'family' } });
    ctx.session.referralDraft = undefined;
    ctx.deps.log.info({ chat: ctx.chatRef, referral: created.referral.id, route: created.route.to, profile: packet.profile }, 'family asked for a social worker');
    await ctx.reply(ctx.t('referral:family.created', { id: created.referral.id }), {
      reply_markup: InlineKeyboard.from([[{ text: ctx.t('referral:family.buttons.status'), callback_data: 'rq|st' }], ...(await backToResult(ctx)).inline_keyboard]),
    });
  });

  // Telegram's contact button: only the family's own number is taken.
  chats.on('message:contact', async (ctx, next) => {
    const draft = ctx.session.referralDraft;
    if (!draft?.awaitingContact) return next();
    if (ctx.message.contact.user_id !== ctx.from.id) {
      ctx.deps.log.warn({ chat: ctx.chatRef }, 'a contact that is not the family’s own was refused');
      return askPhone(ctx, ctx.t('referral:family.notYourContact'));
    }
    if (r(ctx).service.time() - draft.at > DRAFT_MS) {
      ctx.session.referralDraft = undefined;
      return void (await ctx.reply(ctx.t('referral:family.expired'), { reply_markup: { remove_keyboard: true } }));
    }
    const digits = ctx.message.contact.phone_number.replace(/[^\d+]/g, '');
    draft.contact = { kind: 'phone', phone: digits.startsWith('+') ? digits : `+${digits}` };
    draft.awaitingContact = false;
    await ctx.reply(ctx.t('referral:family.phoneSaved'), { reply_markup: { remove_keyboard: true } });
    await askWhen(ctx);
  });

  // "Reply to the social worker": the family's next text goes to whoever holds the request, through the bot.
  chats.callbackQuery(/^rr\|(R-[A-Z0-9]{3,10})$/, async (ctx) => {
    await ctx.answerCallbackQuery();
    const mine = (await r(ctx).service.statusFor(ctx.chat.id)).find((x) => x.id === ctx.match[1] && OPEN_STATUSES.includes(x.status));
    if (!mine) return void (await ctx.reply(ctx.t('referral:family.noRequest')));
    ctx.session.referralReply = { referralId: mine.id, at: r(ctx).service.time() };
    await ctx.reply(ctx.t('referral:family.replyPrompt'), { reply_markup: { force_reply: true } });
  });

  chats.on('message:text', async (ctx, next) => {
    const waiting = ctx.session.referralReply;
    const text = ctx.message.text;
    if (!waiting || text.startsWith('/') || r(ctx).service.time() - waiting.at > DRAFT_MS) {
      if (waiting) ctx.session.referralReply = undefined;
      return next();
    }
    // Danger first: words that may say someone is in danger are the screening's to answer, at once.
    if (ctx.deps.cues.match(text)) return next();
    ctx.session.referralReply = undefined;
    const mine = (await r(ctx).service.statusFor(ctx.chat.id)).find((x) => x.id === waiting.referralId && OPEN_STATUSES.includes(x.status));
    const holder = mine?.workerId ?? mine?.supervisorId;
    const to = holder ? await r(ctx).service.telegramOf(holder) : undefined;
    if (!mine || to === undefined) return void (await ctx.reply(ctx.t('referral:family.noRequest')));
    const staff = ctx.deps.translator.bind((await ctx.deps.sessions.read(String(to)))?.lang ?? 'ru');
    const write = { inline_keyboard: [[{ text: staff('referral:worker.buttons.write'), callback_data: `w|${mine.id}|wr` }]] };
    await ctx.api.sendMessage(to, `${staff('referral:worker.fromFamily', { id: mine.id })}\n\n${text.slice(0, 3500)}`, { reply_markup: write });
    ctx.deps.log.info({ chat: ctx.chatRef, referral: mine.id }, 'family wrote to the social worker');
    await ctx.reply(ctx.t('referral:family.replySent'));
  });

  // An operator's suggestion, answered: yes creates the referral they saw; no tells the operators.
  chats.callbackQuery(/^r([on])\|([A-Z0-9]{4,8})\|(\d)(?:\|([A-Za-z0-9_-]{10}))?$/, async (ctx) => {
    await ctx.answerCallbackQuery();
    const [, answer, caseId, index, hash] = ctx.match as RegExpMatchArray as [string, 'o' | 'n', string, string, string | undefined];
    const handoff = ctx.deps.handoff;
    const profile = PROFILES[Number(index)];
    const rec = handoff && profile ? await handoff.service.get(caseId) : undefined;
    const gone = async () => void (await ctx.reply(ctx.t('referral:family.suggestionGone')));
    if (!handoff || !rec || !profile || !(await handoff.service.isFamilyOf(caseId, ctx.chat.id))) return gone();
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
    const staff = ctx.deps.translator.bind(ctx.deps.handoffSetup?.config.staffLang ?? 'ru');
    const toTopic = (text: string) => ctx.api.sendMessage(handoff.groupId, text, rec.topicId ? { message_thread_id: rec.topicId } : {}).catch(() => undefined);
    if (answer === 'n') {
      await toTopic(staff('referral:ops.familyRefused', { caseId }));
      return void (await ctx.reply(ctx.t('referral:family.suggestionRefused')));
    }
    if (await refuseSecond(ctx)) return;
    const packet = operatorPacket(ctx.deps.catalogue, rec, profile, await lastNote(handoff.service, caseId));
    if (!packet) return gone();
    if (packetHash(packet) !== hash) {
      // The case changed since the family was asked (a new note, the region): ask again with what would go now.
      return suggest(ctx.api, ctx.deps.translator, ctx.chat.id, ctx.lang, rec, profile, packet, r(ctx).keptDays, (await snapshotOf(ctx)).context.step);
    }
    const created = await r(ctx).service.create({ packet, familyChatId: ctx.chat.id, source: 'operator', actor: { kind: 'operator', userId: rec.operatorId ?? 0 } });
    ctx.deps.log.info({ chat: ctx.chatRef, referral: created.referral.id, route: created.route.to, profile, case: caseId }, 'family agreed to an operator’s referral');
    await ctx.reply(ctx.t('referral:family.created', { id: created.referral.id }), { reply_markup: InlineKeyboard.from([[{ text: ctx.t('referral:family.buttons.status'), callback_data: 'rq|st' }]]) });
    await toTopic(staff('referral:ops.familyAgreed', { caseId, id: created.referral.id, route: routeText(staff, created.route) }));
  });

  return composer;
}

/** The operator's last note on a case (the handoff keeps notes in its audit trail); erased notes have no text. */
export async function lastNote(handoff: { auditTrail(caseId: string): Promise<{ type: string; detail?: string }[]> }, caseId: string): Promise<string | undefined> {
  const notes = (await handoff.auditTrail(caseId)).filter((e) => e.type === 'note' && e.detail);
  return notes.at(-1)?.detail;
}

/** Asks the family in their chat whether an operator's referral may go, showing exactly what would be shared. */
export async function suggest(
  api: BotContext['api'],
  translator: BotContext['deps']['translator'],
  chatId: number,
  lang: Lang,
  rec: CaseRecord,
  profile: Profile,
  packet: ReferralPacket,
  keptDays: number,
  /** The family's screening step, for the safety row's buttons. */
  step = 0,
): Promise<void> {
  const t = translator.bind(lang);
  const index = PROFILES.indexOf(profile);
  const text = [
    t('referral:family.suggested', kindAndPlace(t, profile, packet.region)),
    packetPreview(t, packet),
    `${t('referral:family.notShared')} ${t('referral:family.kept', { count: keptDays })}`,
    t('referral:family.suggestedQuestion'),
  ].join('\n\n');
  await api.sendMessage(chatId, text, {
    reply_markup: InlineKeyboard.from([
      [{ text: t('referral:family.buttons.yes'), callback_data: `ro|${rec.id}|${index}|${packetHash(packet)}` }],
      [{ text: t('referral:family.buttons.no'), callback_data: `rn|${rec.id}|${index}` }],
      safetyRow(t, step),
    ]),
  });
}
