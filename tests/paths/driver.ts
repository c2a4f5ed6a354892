/**
 * Replays machine events through the real bot: each event becomes the button
 * the bot actually showed (found in its last keyboard by callback data), a
 * typed number when no button carries the answer, or /restart. After every
 * step the bot's stored dialog must equal the machine's snapshot, and the
 * messages it sent must be that state's screen in the family's language.
 */
import { numbersIn } from '../../src/render/result.js';
import { expect } from 'vitest';
import type { ScreeningEvent } from '../../flows/screening/machine.js';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import { nextQuestions } from '../../src/engine/evaluate.js';
import { listIds } from '../../src/engine/facts.js';
import { screensOf } from '../../src/engine/together.js';
import type { Lang } from '../../src/engine/types.js';
import type { T } from '../../src/i18n/i18n.js';
import type { BotHarness, FamilyDriver } from '../helpers/bot-harness.js';
import { fittingQuick, isQuestion, stateName, toggles, type Model, type Snap } from './model.js';

const CODE: Partial<Record<ScreeningEvent['type'], string>> = {
  CONSENT: 'cs',
  DECLINE: 'dc',
  SKIP: 'sk',
  BACK: 'bk',
  CONFIRM: 'ok',
  TALK: 'tk',
  URGENT_TALK: 'ut',
  DANGER: 'dg',
  RESUME: 'rs',
  REFER: 'rf',
  SAVE: 'sv',
  MORE: 'am',
};

/** The callback data body ("a:yes", "bk", …) of the button that sends this event. */
export function buttonBody(e: ScreeningEvent): string {
  if (e.type === 'ANSWER') return `a:${String(e.value)}`;
  if (e.type === 'TOGGLE') return `t:${e.value}`;
  if (e.type === 'EDIT') return `ed:${e.fact}`;
  if (e.type === 'RESTART') return 'rt';
  return CODE[e.type]!;
}

const body = (data: string) => data.slice(data.indexOf('|') + 1);

interface Sent {
  texts: string[];
  /** Bodies of the buttons of the last message with a keyboard, in order. */
  buttons: { text: string; body: string }[];
  callbackAnswers: Record<string, unknown>[];
}

function sentBy(calls: ApiCall[]): Sent {
  const messages = calls.filter((c) => c.method === 'sendMessage');
  const withKeyboard = messages.filter((c) => (c.payload.reply_markup as { inline_keyboard?: unknown[] } | undefined)?.inline_keyboard?.length).at(-1);
  const rows = (withKeyboard?.payload.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] } | undefined)?.inline_keyboard ?? [];
  return {
    texts: messages.map((c) => String(c.payload.text)),
    buttons: rows.flat().map((b) => ({ text: b.text, body: body(b.callback_data) })),
    callbackAnswers: calls.filter((c) => c.method === 'answerCallbackQuery').map((c) => c.payload),
  };
}

export class PathDriver {
  constructor(
    readonly h: BotHarness,
    readonly model: Model,
  ) {}

  t(lang: Lang): T {
    return this.h.deps.translator.bind(lang);
  }

  /** Opens a chat in `lang` (English is chosen with the language button, as a family would) and checks the intro. */
  async open(chatId: number, lang: Lang): Promise<FamilyDriver> {
    const f = this.h.family(chatId, lang === 'kk' ? 'kk' : lang === 'ru' ? 'ru-RU' : 'en');
    let calls = await f.say('/start');
    if (lang === 'en') {
      expect(f.lastText.startsWith(this.t('ru')('intro.greeting'))).toBe(true); // Telegram's "en" gets Russian first
      calls = await this.pressBody(f, 'lg:en');
    }
    await this.check(f, lang, this.model.initial(), calls);
    return f;
  }

  async pressBody(f: FamilyDriver, b: string): Promise<ApiCall[]> {
    const button = f.buttons.find((x) => body(x.data) === b);
    if (!button) throw new Error(`no button ${b} among: ${f.buttons.map((x) => body(x.data)).join(' ')}\n${f.lastText}`);
    return f.pressData(button.data, button.messageId);
  }

  /** Sends one event the way a family would. */
  async send(f: FamilyDriver, e: ScreeningEvent): Promise<ApiCall[]> {
    const b = buttonBody(e);
    if (f.buttons.some((x) => body(x.data) === b)) return this.pressBody(f, b);
    if (e.type === 'ANSWER' && typeof e.value === 'number') return f.say(String(e.value)); // a number not on a button is typed
    if (e.type === 'EDIT') {
      // On the summary an answer's edit button is inside its group: open the group, then edit.
      const snap = (await this.h.deps.host.current(String(f.chatId))).snapshot;
      const group = [...this.model.renderer.answerGroups(snap.context.facts, snap.context.date)].find(([, ids]) => ids.includes(e.fact))?.[0];
      if (group) await this.pressBody(f, `gr:${group}`);
      return this.pressBody(f, `ed:${e.fact}`);
    }
    if (e.type === 'ANSWER' && Array.isArray(e.value)) {
      // A whole multi-choice answer at once (the topics traversals): tick each, then Done.
      const ticked = f.buttons.filter((b) => b.text.startsWith('✅ ')).map((b) => body(b.data).slice(2));
      for (const id of toggles(ticked, e.value)) await this.pressBody(f, `t:${id}`);
      return this.pressBody(f, 'ok');
    }
    if (e.type === 'RESTART') return f.say('/restart');
    throw new Error(`the bot shows no button for ${JSON.stringify(e)} (${b}); it shows: ${f.buttons.map((x) => body(x.data)).join(' ')}`);
  }

  /** Replays events on the machine and through the bot in one chat, checking every step; returns the machine snapshots. */
  async run(chatId: number, lang: Lang, events: ScreeningEvent[]): Promise<{ f: FamilyDriver; snaps: Snap[] }> {
    const snaps = this.model.replay(events);
    const f = await this.open(chatId, lang);
    for (let i = 0; i < events.length; i++) {
      const calls = await this.send(f, events[i]!);
      await this.check(f, lang, snaps[i + 1]!, calls, events[i]);
    }
    return { f, snaps };
  }

  /** The bot's dialog equals the machine's, and what it sent is that state's screen. */
  async check(f: FamilyDriver, lang: Lang, snap: Snap, calls: ApiCall[], event?: ScreeningEvent): Promise<void> {
    const where = `${this.model.key(snap)} (${lang}, after ${JSON.stringify(event ?? '/start')})`;
    const stored = (await this.h.deps.host.current(String(f.chatId))).snapshot;
    expect(stored.value, where).toEqual(snap.value);
    expect(stored.context, where).toEqual(snap.context);

    const sent = sentBy(calls);
    const refusals = ['errors.notNow', 'errors.oldButton', 'errors.unknownButton'].map((k) => this.t(lang)(k));
    for (const a of sent.callbackAnswers) expect(refusals, `${where}: the button was refused`).not.toContain(a.text);
    expect(sent.texts.length, `${where}: no screen was sent`).toBeGreaterThan(0);
    const t = this.t(lang);
    expect(sent.texts, where).not.toContain(t('errors.internal'));
    const last = sent.texts.at(-1)!;
    const bodies = sent.buttons.map((b) => b.body);
    const safety = ['tk', 'dg'];
    const c = snap.context;

    if (snap.matches('danger')) {
      if (c.danger?.via === 'disclosure') {
        // One message: not their fault, what stays confidential, 102 / 111 / 150 with what each is for, the offer.
        expect(sent.texts, where).toHaveLength(1);
        expect(last.startsWith(t('disclosure.text')), where).toBe(true);
        for (const n of ['102', '111', '150']) expect(last, `${where}: ${n}`).toContain(`📞 ${n} — `);
        expect(last.endsWith(t('disclosure.offer')), where).toBe(true);
      } else {
        expect(sent.texts[0]!.startsWith(t('danger.title')), where).toBe(true);
        expect(last, where).toBe(t('danger.offer'));
      }
      expect(bodies, where).toEqual(['ut', 'rs']);
      expect(sent.buttons.find((b) => b.body === 'rs')!.text, where).toBe(t('buttons.continueQuestions'));
    } else if (snap.matches('talk')) {
      expect(last.startsWith(t(c.urgent ? 'talk.urgent' : 'talk.intro')), where).toBe(true);
      expect(bodies, where).toEqual(['rs', 'dg']);
    } else if (snap.matches({ main: 'intro' })) {
      expect(last.startsWith(t('intro.greeting')), where).toBe(true);
      expect(last.endsWith(t('consent.question')), where).toBe(true);
      expect(bodies, where).toEqual(['lg:kk', 'lg:ru', 'lg:en', 'cs', 'dc', ...safety]);
    } else if (snap.matches({ main: 'infoOnly' })) {
      expect(last.startsWith(t('info.text')), where).toBe(true);
      expect(bodies, where).toEqual(['cs', ...safety]);
    } else if (isQuestion(snap) && c.together?.length) {
      // Asked together: one screen, a line and a tick button for each question, Done, "don't know" for all.
      const paragraphs = last.split('\n\n');
      const shown = new Set(c.together);
      const total = c.history.length + 1 + screensOf(nextQuestions(c.facts, this.model.catalogue, c.date).filter((x) => !shown.has(x)), this.model.catalogue).length;
      expect(paragraphs[0], where).toBe(t('question.progress', { n: c.history.length + 1, total }));
      expect(paragraphs[1], where).toBe([t('facts:together.question'), ...c.together.map((id) => `• ${t(`facts:${id}.item`)}`)].join('\n'));
      const sensitive = c.together.some((id) => this.model.defs.get(id)?.sensitive);
      if (sensitive) expect(paragraphs[2], where).toBe(`ℹ️ ${t('facts:together.why')}`);
      expect(bodies, where).toEqual([...c.together.map((id) => `t:${id}`), 'ok', 'sk', 'bk', ...safety]);
      for (const b of sent.buttons.filter((x) => x.body.startsWith('t:'))) {
        const id = b.body.slice(2);
        expect(b.text, where).toBe(`${c.draft.includes(id) ? '✅ ' : ''}${t(`facts:${id}.button`)}`);
      }
      expect(sent.buttons.find((b) => b.body === 'sk')!.text, where).toBe(t(sensitive ? 'buttons.skipThese' : 'buttons.dontKnow'));
    } else if (isQuestion(snap)) {
      const fact = c.current!;
      const def = this.model.defs.get(fact)!;
      const paragraphs = last.split('\n\n');
      const editing = snap.matches({ main: { screening: 'editing' } });
      const total = c.history.length + 1 + screensOf(nextQuestions(c.facts, this.model.catalogue, c.date).filter((x) => x !== fact), this.model.catalogue).length;
      expect(paragraphs[0], where).toBe(editing ? t('question.editing') : t('question.progress', { n: c.history.length + 1, total }));
      expect(paragraphs[1], where).toBe(t(`facts:${fact}.question`));
      if (def.sensitive) expect(paragraphs[2], where).toBe(`ℹ️ ${t(`facts:${fact}.why`)}`);
      const answers =
        def.type === 'yesno'
          ? ['a:yes', 'a:no']
          : def.type === 'enum'
            ? def.values!.map((v) => `a:${v}`)
            : def.type === 'int'
              ? fittingQuick(def, c.facts).map((n) => `a:${n}`)
              : [...listIds(def, this.model.catalogue).map((x) => `t:${x}`), 'ok'];
      expect(bodies, where).toEqual([...answers, ...(def.of === 'topic' ? [] : ['sk']), 'bk', ...safety]);
      if (def.type === 'list') {
        const ticked = sent.buttons.filter((b) => b.text.startsWith('✅ ')).map((b) => b.body.slice(2));
        expect(ticked.sort(), where).toEqual([...c.draft].sort());
      }
      expect(sent.buttons.find((b) => b.body === 'bk')!.text, where).toBe(t(editing ? 'buttons.backToSummary' : 'buttons.back'));
    } else if (snap.matches({ main: { screening: 'summary' } })) {
      // Answers grouped under the household and each topic; one edit button per group.
      const groups = this.model.renderer.answerGroups(c.facts, c.date);
      const lines = last.split('\n').filter((l) => l !== '');
      expect(lines[0], where).toBe(t('summary.title'));
      const shown = [...groups.values()].flat();
      expect(new Set(shown), where).toEqual(new Set(this.model.renderer.visibleAnswers(c.facts, c.date)));
      expect(lines.length, where).toBe(shown.length + groups.size + 2);
      for (const id of shown) expect(lines.some((l) => l.startsWith(`• ${t(`facts:${id}.label`)}: `)), `${where}: ${id}`).toBe(true);
      expect(lines.at(-1), where).toBe(t('summary.hint'));
      expect(bodies, where).toEqual(['ok', ...[...groups.keys()].map((g) => `gr:${g}`), 'bk', ...safety]);
    } else if (snap.matches({ main: 'result' })) {
      // The first view: one message that fits a phone screen; the rest is behind buttons.
      const r = this.model.result(snap);
      expect(sent.texts, where).toHaveLength(1);
      expect(last.length, where).toBeLessThanOrEqual(2500);
      const lines = last.split('\n');
      for (const g of r.grounds.filter((x) => x.status === 'indicated')) expect(lines, `${where}: ground ${g.id}`).toContain(t('view:ground', { name: t(`grounds:${g.id}.short`) }));
      for (const g of r.grounds.filter((x) => x.status === 'not_indicated')) expect(lines, `${where}: ground ${g.id} not indicated`).not.toContain(t('view:ground', { name: t(`grounds:${g.id}.short`) }));
      if (r.emergency) expect(last.startsWith(t('results:emergency')), where).toBe(true);
      else if (r.urgent) expect(last.startsWith(t('results:urgent', { numbers: numbersIn(this.model.catalogue, 'urgent') })), where).toBe(true);
      else expect(last.startsWith(t('view:title')) || last.startsWith(t('view:nothing')), where).toBe(true);
      expect(last.split(t('view:notADecision')).length - 1, `${where}: "not a decision" once`).toBe(1);
      const more = this.model.unsettled(snap).length ? ['am'] : [];
      const notChecked = this.model.renderer.notChecked(c.facts);
      if (notChecked.length) expect(last, where).toContain(t('view:notChecked', { topics: notChecked.map((id) => t(`topics:${id}.name`)).join(', ') }));
      const checkTopic = notChecked.length ? ['ed:topics'] : [];
      expect(bodies, where).toEqual(['vw:why', 'vw:docs', 'vw:where', ...more, ...checkTopic, 'tk', 'rf', 'sv', 'bk', 'rt', 'dg']);
    } else if (snap.matches({ main: 'refer' })) {
      expect(last.startsWith(t('refer.notYet')), where).toBe(true);
      expect(bodies, where).toEqual(['rs', ...safety]);
    } else if (snap.matches({ main: 'saved' })) {
      expect(last, where).toBe(t('saved.text', { days: this.h.deps.dialogTtlDays }));
      expect(bodies, where).toEqual(['rs', ...safety]);
    } else {
      throw new Error(`no screen check for ${stateName(snap)}`);
    }
  }
}
