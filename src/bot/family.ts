/**
 * The family's side of the bot, in private chats: commands, buttons, typed
 * answers, danger cues, and a kind word for everything else. Every path that
 * changes the dialog goes through the DialogHost and then shows the new state.
 */
import { Composer, InlineKeyboard } from 'grammy';
import type { ScreeningEvent } from '../../flows/screening/machine.js';
import { crossCheck, normaliseValue } from '../engine/facts.js';
import type { Step } from '../runtime/dialog-host.js';
import { confirmNumber, readTyped, refusalNote } from './answers.js';
import { decode, encode } from './callback-data.js';
import type { BotContext } from './context.js';
import { languageRow } from './screens.js';
import { openUrgentCase } from './handoff-family.js';
import { sendScreens, showState, wordsOf } from './show.js';

export const family = new Composer<BotContext>();
const privateChats = family.chatType('private');

const chatKey = (ctx: BotContext) => String(ctx.chat!.id);

/** The chat's dialog as it is, after telling the family what happened to it while they were away. */
async function loadCurrent(ctx: BotContext): Promise<Step> {
  const step = await ctx.deps.host.current(chatKey(ctx));
  await tellNotices(ctx, step);
  return step;
}

/**
 * What the family must hear about their saved answers, once: a change of the
 * questions kept only some of them, or they expired (the session outlives the
 * dialog, so a dialog missing where the session remembers one has expired).
 */
async function tellNotices(ctx: BotContext, step: Step): Promise<void> {
  const migrated = step.notice.migrated;
  if (migrated) await ctx.reply(migrated.dropped.length ? ctx.t('notices.migratedSome', { n: migrated.dropped.length }) : ctx.t('notices.migratedAll'));
  if (step.fresh && ctx.session.hadDialog) {
    ctx.session.hadDialog = false;
    await ctx.reply(ctx.t('notices.expired', { days: ctx.deps.dialogTtlDays, count: ctx.deps.dialogTtlDays }));
  }
}

/** Sends one event, remembers consent, and shows what follows. */
async function dispatch(ctx: BotContext, event: ScreeningEvent): Promise<boolean> {
  if (event.type === 'CONSENT' && ctx.session.startRegion) {
    await ctx.deps.host.send(chatKey(ctx), { type: 'PREFILL', facts: { region: ctx.session.startRegion } }); // only before the questions start
    ctx.session.startRegion = undefined;
  }
  const step = await ctx.deps.host.send(chatKey(ctx), event);
  if (step.unchanged) return false;
  if (event.type === 'CONSENT') ctx.session.consentAt = Date.now();
  // The machine sends an answer that says someone is in danger, or discloses violence, to the danger screen.
  if (step.snapshot.matches('danger') || event.type === 'URGENT_TALK') {
    const danger = step.snapshot.context.danger;
    ctx.deps.log.warn({ chat: ctx.chatRef, event: event.type, via: danger?.via, kind: danger?.via === 'cue' ? danger.kind : undefined }, 'family may be in danger');
  }
  // In danger, the family joins the line first; the share-summary question comes once they are in it.
  if (event.type === 'URGENT_TALK' && ctx.deps.handoff) await openUrgentCase(ctx);
  else await showState(ctx, step.snapshot);
  // After the screens, so that danger still comes first when this is the first update after a change.
  await tellNotices(ctx, step);
  ctx.session.hadDialog = true;
  return true;
}

/** "Talk to a person" and "I am not safe": on every screen the family can see, as SPEC §7 asks. */
function safetyRow(ctx: BotContext, step: number) {
  return [
    { text: ctx.t('buttons.talk'), callback_data: encode(step, { kind: 'event', event: { type: 'TALK' } }) },
    { text: ctx.t('buttons.danger'), callback_data: encode(step, { kind: 'event', event: { type: 'DANGER' } }) },
  ];
}

const languageKeyboard = (ctx: BotContext, step: number) => InlineKeyboard.from([languageRow(step), safetyRow(ctx, step)]);

/**
 * The safety net (SPEC §7): a reply to anything the bot did not expect ends
 * with the numbers and the "I am not safe" button, so a danger cue the list
 * missed still puts help in front of the person in the very next message.
 */
async function replyUnexpected(ctx: BotContext, note: string): Promise<void> {
  const step = (await ctx.deps.host.current(chatKey(ctx))).snapshot;
  await showState(ctx, step, { note, net: true });
}

// Danger first: words that say someone may be in danger bring the numbers before anything else is said,
// wherever they are typed (a message, a photo's caption, an edit).
privateChats.use(async (ctx, next) => {
  const words = wordsOf(ctx.message ?? ctx.editedMessage);
  const match = words !== undefined && !words.startsWith('/') ? ctx.deps.cues.match(words) : undefined;
  if (match) await dispatch(ctx, { type: 'DANGER', kind: match.kind });
  else await next();
});

// /start, also from a deep link: t.me/bot?start=r-astana (a region) or any short source tag (a school's QR code).
privateChats.command('start', async (ctx) => {
  const payload = ctx.match.trim();
  if (/^[A-Za-z0-9_-]{1,64}$/.test(payload)) ctx.session.source = payload;
  const step = await loadCurrent(ctx);
  const region = /^r-([a-z_]+)$/.exec(payload)?.[1];
  const regionDef = ctx.deps.catalogue.facts.find((f) => f.id === 'region');
  // The region from the link waits in the session (it says nothing about the family) and joins
  // their answers only when they consent: declining stores no answers at all.
  if (region && regionDef && normaliseValue(regionDef, region, ctx.deps.catalogue) !== undefined) ctx.session.startRegion = region;
  if (!step.fresh && !step.snapshot.matches({ main: 'intro' })) {
    const s = step.snapshot.context.step;
    await sendScreens(ctx, [
      {
        text: ctx.t('start.welcomeBack'),
        keyboard: InlineKeyboard.from([
          [{ text: ctx.t('buttons.continue'), callback_data: encode(s, { kind: 'continue' }) }],
          [{ text: ctx.t('buttons.restart'), callback_data: encode(s, { kind: 'restart' }) }],
        ]),
      },
    ]);
    return;
  }
  await showState(ctx, step.snapshot); // the intro screen carries the language buttons
});

privateChats.command('language', async (ctx) => {
  const step = await loadCurrent(ctx);
  await sendScreens(ctx, [{ text: ctx.t('start.chooseLanguage'), keyboard: languageKeyboard(ctx, step.snapshot.context.step) }]);
});

privateChats.command('help', async (ctx) => {
  const step = await loadCurrent(ctx);
  const s = step.snapshot.context.step;
  await sendScreens(ctx, [
    {
      text: [ctx.t('help.text'), ctx.deps.renderer.hotlineText(ctx.t)].join('\n\n'),
      keyboard: InlineKeyboard.from([[{ text: ctx.t('buttons.continue'), callback_data: encode(s, { kind: 'continue' }) }], safetyRow(ctx, s)]),
    },
  ]);
});

privateChats.command('restart', async (ctx) => {
  await dispatch(ctx, { type: 'RESTART', date: ctx.deps.today() });
});

privateChats.command('forget', async (ctx) => {
  const t = ctx.t; // keep the language for the confirmation: the session goes with everything else
  await ctx.deps.host.forget(chatKey(ctx));
  ctx.session = undefined as never; // grammY deletes the session from storage
  ctx.deps.log.info({ chat: ctx.chatRef }, 'family data erased on request');
  await ctx.reply(t('forget.done'));
});

privateChats.on('callback_query:data', async (ctx) => {
  const decoded = decode(ctx.callbackQuery.data);
  // Answered first: the spinner on the button stops at once, and a slow screen cannot make the answer come too late.
  const languageSet = decoded.ok && decoded.action.kind === 'language' ? { text: ctx.deps.translator.t(decoded.action.lang, 'start.languageSet') } : undefined;
  await ctx.answerCallbackQuery(languageSet).catch(() => ctx.deps.log.warn({ chat: ctx.chatRef }, 'a button press could not be answered'));
  if (!decoded.ok) {
    await replyUnexpected(ctx, ctx.t('errors.unknownButton'));
    return;
  }
  const { action } = decoded;
  if (action.kind === 'language') {
    ctx.session.lang = action.lang;
    ctx.lang = action.lang;
    ctx.t = ctx.deps.translator.bind(action.lang);
    await showState(ctx, (await loadCurrent(ctx)).snapshot);
    return;
  }
  if (action.kind === 'continue') {
    await showState(ctx, (await loadCurrent(ctx)).snapshot);
    return;
  }
  if (action.kind === 'restart') {
    await dispatch(ctx, { type: 'RESTART', date: ctx.deps.today() });
    return;
  }
  // "I am not safe" and "talk to a person" work from any message, and nothing is said before them.
  if (decoded.timeless && action.kind === 'event') {
    const changed = await dispatch(ctx, action.event);
    if (!changed) await replyUnexpected(ctx, ctx.t('errors.notNow'));
    return;
  }
  const current = await loadCurrent(ctx);
  if (current.notice.migrated) {
    // Every button on the screen is from before the change; show the question to continue with.
    await showState(ctx, current.snapshot);
    return;
  }
  if (action.kind === 'view') {
    // A part of the result (why, documents, where to go): read only, the dialog does not move.
    if (current.snapshot.matches({ main: 'result' }) && decoded.step === current.snapshot.context.step) await sendScreens(ctx, ctx.deps.renderer.resultView(current.snapshot, ctx.t, action.view));
    else await showState(ctx, current.snapshot, { note: ctx.t('errors.oldButton'), net: true });
    return;
  }
  if (action.kind === 'group') {
    // A group of answers on the summary, opened to edit one: read only, the dialog does not move.
    const shown = current.snapshot.matches({ main: { screening: 'summary' } }) && decoded.step === current.snapshot.context.step;
    const group = shown ? ctx.deps.renderer.answerGroups(current.snapshot.context.facts, current.snapshot.context.date).has(action.group) : false;
    if (group) await sendScreens(ctx, ctx.deps.renderer.summaryGroup(current.snapshot, ctx.t, action.group));
    else await showState(ctx, current.snapshot, { note: ctx.t(shown ? 'errors.unknownButton' : 'errors.oldButton'), net: true });
    return;
  }
  if (decoded.step !== current.snapshot.context.step) {
    // A button from an earlier message: say so, and show where the family is now.
    await showState(ctx, current.snapshot, { note: ctx.t('errors.oldButton'), net: true });
    return;
  }
  const changed = await dispatch(ctx, action.event);
  if (!changed) await showState(ctx, current.snapshot, { note: ctx.t('errors.notNow'), net: true });
});

privateChats.on('message:text', async (ctx) => {
  const text = ctx.message.text;
  if (typeof text !== 'string') return void (await replyUnexpected(ctx, ctx.t('errors.notText'))); // forged updates
  if (text.startsWith('/')) {
    await replyUnexpected(ctx, ctx.t('errors.unknownCommand'));
    return;
  }
  const current = await loadCurrent(ctx);
  const snapshot = current.snapshot;
  const fact = snapshot.context.current;
  const asking = snapshot.matches({ main: 'screening' }) && !snapshot.matches({ main: { screening: 'summary' } });
  // "Which of these apply?" takes ticks and Done; a typed "yes" cannot say which line it means.
  if (asking && snapshot.context.together?.length) return void (await showState(ctx, snapshot, { note: ctx.t('errors.tickThenDone'), net: true }));
  if (asking && fact) {
    const def = ctx.deps.catalogue.facts.find((f) => f.id === fact)!;
    const labels = new Map((def.values ?? []).map((v) => [v, ctx.t(`facts:${fact}.values.${v}`)]));
    const typed = readTyped(def, text, labels);
    if (typed.ok && typed.unusual && typeof typed.value === 'number') {
      // «500» for a month's income, «20» people: echo it back for one tap (or a disagreement with earlier answers, at once).
      if (crossCheck({ ...snapshot.context.facts, [fact]: typed.value }).length) return void (await showState(ctx, snapshot, { note: ctx.t('errors.doesNotAgree'), net: true }));
      const { note, rows } = confirmNumber(ctx.t, def, typed.value, snapshot.context.step);
      await showState(ctx, snapshot, { note, rows, net: true });
      return;
    }
    if (typed.ok) {
      const applied = await dispatch(ctx, typed.value === 'unknown' ? { type: 'SKIP' } : { type: 'ANSWER', value: typed.value });
      // A number the machine refused disagrees with earlier answers (more children under 3 than children).
      if (!applied) await showState(ctx, snapshot, { note: ctx.t('errors.doesNotAgree'), net: true });
      return;
    }
    await showState(ctx, snapshot, { note: refusalNote(ctx.t, def, typed.reason), net: true });
    return;
  }
  await showState(ctx, snapshot, { note: ctx.t('errors.useButtons'), net: true });
});

privateChats.on('edited_message', async (ctx) => {
  await replyUnexpected(ctx, ctx.t('errors.edited'));
});

// Stickers, photos, voice, documents, locations…: a short, kind word; nothing changes.
privateChats.on('message', async (ctx) => {
  await replyUnexpected(ctx, ctx.t('errors.notText'));
});
