/**
 * What a family sees for each state of the screening machine: text and
 * buttons, in their language. Pure: state in, screens out. Every screen but the
 * danger screen carries the "talk to a person" and "I am not safe" buttons.
 */
import { InlineKeyboard } from 'grammy';
import { evaluate, isImplied, nextQuestions } from '../engine/evaluate.js';
import { crossCheck, listIds } from '../engine/facts.js';
import { screensOf } from '../engine/together.js';
import { LANGS, type Catalogue, type FactDef, type Facts, type Lang } from '../engine/types.js';
import type { T } from '../i18n/i18n.js';
import { numbersIn, renderDocuments, renderFirstView, renderValue, renderWhereToGo, renderWhy } from '../render/result.js';
import type { DangerCues, DangerKind } from '../safety/cues.js';
import type { ScreeningSnapshot } from '../runtime/dialog-host.js';
import type { ScreeningEvent } from '../../flows/screening/machine.js';
import { encode, RESULT_VIEWS, type Action, type ResultView } from './callback-data.js';

export interface Screen {
  text: string;
  keyboard?: InlineKeyboard;
}

/** Telegram's limit is 4096 characters; stay clear of it. */
const MAX_TEXT = 3800;

export class ScreenRenderer {
  private readonly defs: Map<string, FactDef>;
  /** The `refer` state's screen when referrals are configured (src/bot/referral-family.ts); "not yet" otherwise. */
  referScreen?: (snapshot: ScreeningSnapshot, t: T) => Screen[];

  constructor(
    private readonly catalogue: Catalogue,
    /** How long answers are kept, as promised in the consent text. */
    private readonly dialogTtlDays: number,
    /** Danger cues: which contacts lead the reply to each kind. */
    private readonly cues: DangerCues,
    /** A live operator can take the family (an operators' group is configured). */
    private readonly handoffEnabled = false,
  ) {
    this.defs = new Map(catalogue.facts.map((f) => [f.id, f]));
  }

  render(snapshot: ScreeningSnapshot, t: T): Screen[] {
    const ctx = snapshot.context;
    const button = (label: string, action: Action) => ({ text: label, callback_data: encode(ctx.step, action) });
    const ev = (event: Parameters<typeof encode>[1] extends infer A ? (A extends { kind: 'event'; event: infer E } ? E : never) : never): Action => ({ kind: 'event', event });
    const safetyRow = () => [button(t('buttons.talk'), ev({ type: 'TALK' })), button(t('buttons.danger'), ev({ type: 'DANGER' }))];

    if (snapshot.matches('danger')) {
      // Neutral wording to go on: nobody in danger should have to say they are safe to continue.
      const offer = InlineKeyboard.from([[button(t('buttons.urgentTalk'), ev({ type: 'URGENT_TALK' }))], [button(t('buttons.continueQuestions'), ev({ type: 'RESUME' }))]]);
      if (ctx.danger?.via === 'disclosure') {
        // One message: thanks, not their fault, what stays confidential, the numbers with what each is for, the offer.
        return [{ text: [t('disclosure.text'), [t('disclosure.numbers'), ...this.leadLines(ctx.danger.kind, t)].join('\n'), t('disclosure.offer')].join('\n\n'), keyboard: offer }];
      }
      return [{ text: this.emergencyText(t, ctx.danger?.via === 'cue' ? ctx.danger.kind : undefined) }, { text: t('danger.offer'), keyboard: offer }];
    }
    if (snapshot.matches('talk') && this.handoffEnabled) {
      // The family agrees (or not) to share the summary; the handoff composer opens the case.
      return [
        {
          text: [t('handoff.family.shareQuestion'), this.hotlineText(t)].join('\n\n'),
          keyboard: InlineKeyboard.from([
            [{ text: t('handoff.family.buttons.share'), callback_data: 'hs|1' }],
            [{ text: t('handoff.family.buttons.noShare'), callback_data: 'hs|0' }],
            [button(t('buttons.resume'), ev({ type: 'RESUME' }))],
            [button(t('buttons.danger'), ev({ type: 'DANGER' }))],
          ]),
        },
      ];
    }
    if (snapshot.matches('talk')) {
      // No operators' group: a person is still one call or message away.
      return [
        {
          text: [ctx.urgent ? t('talk.urgent') : t('talk.intro'), this.hotlineText(t), t('talk.howToReach')].join('\n\n'),
          keyboard: InlineKeyboard.from([[button(t('buttons.resume'), ev({ type: 'RESUME' }))], [button(t('buttons.danger'), ev({ type: 'DANGER' }))]]),
        },
      ];
    }
    if (snapshot.matches({ main: 'intro' })) {
      return [
        {
          text: [t('intro.greeting'), t('intro.whatWeDo'), t('intro.notADecision'), t('consent.text', { days: this.dialogTtlDays, count: this.dialogTtlDays }), t('consent.reportingDuty'), t('consent.question')].join('\n\n'),
          keyboard: InlineKeyboard.from([
            languageRow(ctx.step),
            [button(t('buttons.consent'), ev({ type: 'CONSENT' }))],
            [button(t('buttons.decline'), ev({ type: 'DECLINE' }))],
            safetyRow(),
          ]),
        },
      ];
    }
    if (snapshot.matches({ main: 'infoOnly' })) {
      return [
        {
          text: [t('info.text'), this.hotlineText(t), this.emergencyText(t)].join('\n\n'),
          keyboard: InlineKeyboard.from([[button(t('buttons.consentLater'), ev({ type: 'CONSENT' }))], safetyRow()]),
        },
      ];
    }
    if (snapshot.matches({ main: { screening: 'summary' } })) return [this.summary(ctx.facts, ctx.date, t, button, ev, safetyRow)];
    if (snapshot.matches({ main: 'screening' })) return [this.question(snapshot, t, button, ev, safetyRow)];
    if (snapshot.matches({ main: 'result' })) {
      const result = evaluate(ctx.facts, this.catalogue, ctx.date);
      return [{ text: truncate(renderFirstView(t, this.catalogue, result, { notChecked: this.notChecked(ctx.facts) })), keyboard: this.resultKeyboard(snapshot, t) }];
    }
    if (snapshot.matches({ main: 'refer' })) {
      if (this.referScreen) return this.referScreen(snapshot, t);
      return [{ text: [t('refer.notYet'), this.hotlineText(t)].join('\n\n'), keyboard: InlineKeyboard.from([[button(t('buttons.backToResult'), ev({ type: 'RESUME' }))], safetyRow()]) }];
    }
    if (snapshot.matches({ main: 'saved' })) {
      return [{ text: t('saved.text', { days: this.dialogTtlDays, count: this.dialogTtlDays }), keyboard: InlineKeyboard.from([[button(t('buttons.backToResult'), ev({ type: 'RESUME' }))], safetyRow()]) }];
    }
    throw new Error(`no screen for state ${JSON.stringify(snapshot.value)}`);
  }

  /** The life-event topics the family did not tick ("not sure" aside); none when the screening had no topics screen. */
  notChecked(facts: Facts): string[] {
    const ticked = facts.topics;
    if (!Array.isArray(ticked)) return [];
    return this.catalogue.topics.map((x) => x.id).filter((id) => id !== 'not_sure' && !ticked.includes(id));
  }

  /** One part of the result a button opened (why, documents, where to go), with the result's buttons again. */
  resultView(snapshot: ScreeningSnapshot, t: T, view: ResultView): Screen[] {
    const result = evaluate(snapshot.context.facts, this.catalogue, snapshot.context.date);
    const texts = view === 'why' ? pack(renderWhy(t, this.catalogue, result)) : [view === 'docs' ? renderDocuments(t, this.catalogue, result) : renderWhereToGo(t, this.catalogue, result)];
    const last = texts.length - 1;
    return texts.map((text, i) => (i < last ? { text } : { text, keyboard: this.resultKeyboard(snapshot, t, view) }));
  }

  /** The result's buttons: its other parts, more questions when some could settle what is unclear, then what to do. */
  private resultKeyboard(snapshot: ScreeningSnapshot, t: T, without?: ResultView): InlineKeyboard {
    const ctx = snapshot.context;
    const button = (label: string, action: Action) => ({ text: label, callback_data: encode(ctx.step, action) });
    const event = (e: ScreeningEvent): Action => ({ kind: 'event', event: e });
    const label: Record<ResultView, string> = { why: t('view:buttons.why'), docs: t('view:buttons.documents'), where: t('view:buttons.where') };
    const views = RESULT_VIEWS.filter((v) => v !== without).map((v) => button(label[v], { kind: 'view', view: v }));
    const result = evaluate(ctx.facts, this.catalogue, ctx.date);
    const unsettled = result.missing.filter((f) => ctx.facts[f] === 'unknown').length;
    const checkTopic = this.notChecked(ctx.facts).length ? [[button(t('view:buttons.checkTopic'), event({ type: 'EDIT', fact: 'topics' }))]] : [];
    return InlineKeyboard.from([
      views,
      ...(unsettled ? [[button(t('view:buttons.answerMore', { n: unsettled }), event({ type: 'MORE' }))]] : []),
      ...checkTopic,
      [button(t('buttons.talkToOperator'), event({ type: 'TALK' }))],
      [button(t('buttons.refer'), event({ type: 'REFER' }))],
      [button(t('buttons.save'), event({ type: 'SAVE' })), button(t('buttons.changeAnswer'), event({ type: 'BACK' }))],
      [button(t('buttons.restart'), { kind: 'restart' })],
      [button(t('buttons.danger'), event({ type: 'DANGER' }))],
    ]);
  }

  /** "Question n of about total", counted in screens: the questions asked together are one. */
  progress(snapshot: ScreeningSnapshot): { n: number; total: number } {
    const ctx = snapshot.context;
    const shown = new Set(ctx.together?.length ? ctx.together : [ctx.current]);
    const remaining = screensOf(nextQuestions(ctx.facts, this.catalogue, ctx.date).filter((f) => !shown.has(f)), this.catalogue).length;
    return { n: ctx.history.length + 1, total: ctx.history.length + 1 + remaining };
  }

  private question(snapshot: ScreeningSnapshot, t: T, button: ButtonFn, ev: EvFn, safetyRow: () => Btn[]): Screen {
    const ctx = snapshot.context;
    const fact = ctx.current!;
    const def = this.defs.get(fact)!;
    const editing = snapshot.matches({ main: { screening: 'editing' } });
    const lines = [editing ? t('question.editing') : t('question.progress', this.progress(snapshot))];
    if (ctx.together?.length) return this.together(ctx.together, ctx.draft, lines, t, button, ev, safetyRow);
    lines.push(t(`facts:${fact}.question`));
    if (def.sensitive) lines.push(`ℹ️ ${t(`facts:${fact}.why`)}`);
    if (def.type === 'int') lines.push(t('question.typeNumber'));
    if (def.type === 'list') lines.push(t('question.chooseSeveral'));

    const rows: Btn[][] = [];
    const answer = (value: string | number) => ev({ type: 'ANSWER', value });
    if (def.type === 'yesno') rows.push([button(t('results:value.yes'), answer('yes')), button(t('results:value.no'), answer('no'))]);
    if (def.type === 'enum') rows.push(...chunk(def.values!.map((v) => button(t(`facts:${fact}.values.${v}`), answer(v))), def.values!.length > 6 ? 2 : 1));
    if (def.type === 'int' && def.quick) {
      // Only numbers that agree with earlier answers: no "4 children" button in a household of 3.
      const fitting = def.quick.filter((n) => crossCheck({ ...ctx.facts, [fact]: n }).length === 0);
      rows.push(...chunk(fitting.map((n) => button(String(n), answer(n))), 4));
    }
    if (def.type === 'list') {
      const label = (id: string) => (def.of === 'topic' ? t(`topics:${id}.button`) : t(`${def.of === 'service' ? 'services' : 'benefits'}:${id}.short`));
      const buttons = listIds(def, this.catalogue).map((id) => button(`${ctx.draft.includes(id) ? '✅ ' : ''}${label(id)}`, ev({ type: 'TOGGLE', value: id })));
      rows.push(...chunk(buttons, def.of === 'topic' ? 2 : 1));
      rows.push([button(t('buttons.done'), ev({ type: 'CONFIRM' }))]);
    }
    // The topics screen has its own "not sure" tick; everywhere else "don't know" can be said.
    if (def.of !== 'topic') rows.push([button(def.sensitive ? t('buttons.skipSensitive') : t('buttons.dontKnow'), ev({ type: 'SKIP' }))]);
    rows.push([button(editing ? t('buttons.backToSummary') : t('buttons.back'), ev({ type: 'BACK' }))]);
    rows.push(safetyRow());
    return { text: lines.join('\n\n'), keyboard: InlineKeyboard.from(rows) };
  }

  /**
   * Questions asked together: "which of these apply?", a line for each, a
   * button for each to tick, Done; "don't know" for all of them at once.
   */
  private together(ids: string[], ticked: string[], lines: string[], t: T, button: ButtonFn, ev: EvFn, safetyRow: () => Btn[]): Screen {
    const sensitive = ids.some((id) => this.defs.get(id)?.sensitive);
    lines.push([t('facts:together.question'), ...ids.map((id) => `• ${t(`facts:${id}.item`)}`)].join('\n'));
    if (sensitive) lines.push(`ℹ️ ${t('facts:together.why')}`);
    const rows: Btn[][] = ids.map((id) => [button(`${ticked.includes(id) ? '✅ ' : ''}${t(`facts:${id}.button`)}`, ev({ type: 'TOGGLE', value: id }))]);
    rows.push([button(t('buttons.done'), ev({ type: 'CONFIRM' }))]);
    rows.push([button(sensitive ? t('buttons.skipThese') : t('buttons.dontKnow'), ev({ type: 'SKIP' }))]);
    rows.push([button(t('buttons.back'), ev({ type: 'BACK' }))]);
    rows.push(safetyRow());
    return { text: lines.join('\n\n'), keyboard: InlineKeyboard.from(rows) };
  }

  /**
   * The answers grouped by topic, with one edit button per group (a group
   * opens with a button per answer), not one button per answer.
   */
  private summary(facts: Facts, date: string, t: T, button: ButtonFn, ev: EvFn, safetyRow: () => Btn[]): Screen {
    const groups = this.answerGroups(facts, date);
    const lines = [t('summary.title')];
    for (const [group, ids] of groups) lines.push('', this.groupName(group, t), ...ids.map((id) => `• ${t(`facts:${id}.label`)}: ${renderValue(t, this.catalogue, id, facts[id]!)}`));
    lines.push('', t('summary.hint'));
    const rows: Btn[][] = chunk([...groups.keys()].map((group) => button(`✏️ ${this.groupName(group, t)}`, { kind: 'group', group })), 2);
    rows.unshift([button(t('buttons.showResult'), ev({ type: 'CONFIRM' }))]);
    rows.push([button(t('buttons.back'), ev({ type: 'BACK' }))]);
    rows.push(safetyRow());
    return { text: truncate(lines.join('\n')), keyboard: InlineKeyboard.from(rows) };
  }

  /** One group of the summary opened: its answers, each with its edit button, and the way back. */
  summaryGroup(snapshot: ScreeningSnapshot, t: T, group: string): Screen[] {
    const ctx = snapshot.context;
    const ids = this.answerGroups(ctx.facts, ctx.date).get(group) ?? [];
    const button = (label: string, action: Action) => ({ text: label, callback_data: encode(ctx.step, action) });
    const lines = [this.groupName(group, t), ...ids.map((id) => `• ${t(`facts:${id}.label`)}: ${renderValue(t, this.catalogue, id, ctx.facts[id]!)}`)];
    const rows = ids.map((id) => [button(`✏️ ${t(`facts:${id}.label`)}`, { kind: 'event', event: { type: 'EDIT', fact: id } })]);
    rows.push([button(t('buttons.backToSummary'), { kind: 'continue' })]);
    return [{ text: truncate(lines.join('\n')), keyboard: InlineKeyboard.from(rows) }];
  }

  /** The answers in use, by group: the household first, then each topic in the topics screen's order. */
  answerGroups(facts: Facts, date: string): Map<string, string[]> {
    const order = ['household', ...this.catalogue.topics.map((x) => x.id)];
    const groups = new Map<string, string[]>(order.map((g) => [g, []]));
    for (const id of this.visibleAnswers(facts, date)) groups.get(this.defs.get(id)?.topics?.[0] ?? 'household')!.push(id);
    return new Map([...groups].filter(([, ids]) => ids.length));
  }

  private groupName(group: string, t: T): string {
    return group === 'household' ? t('view:household') : t(`topics:${group}.button`);
  }

  /** Answers still in use: one that a later answer made irrelevant (child questions after "0 children") is not shown. */
  visibleAnswers(facts: Facts, date: string): string[] {
    return this.catalogue.facts.map((f) => f.id).filter((id) => facts[id] !== undefined && !isImplied(id, facts, this.catalogue, date));
  }

  /**
   * The emergency numbers. For a kind of danger heard in words, the contacts
   * that fit it come first, each with what it is for (a child alone: 102, 111;
   * self-harm: the trust line), then the other numbers.
   */
  emergencyText(t: T, kind?: DangerKind): string {
    if (!kind) {
      const lines = this.catalogue.contacts.filter((c) => c.emergency).map((c) => `📞 ${c.number} — ${t(`contacts:${c.id}.name`)}`);
      return [t('danger.title'), ...lines, t('danger.hotlines'), ...this.hotlineLines(t)].join('\n');
    }
    const lead = this.cues.lead[kind];
    const others = this.catalogue.contacts.filter((c) => !lead.includes(c.id)).map((c) => `📞 ${c.number} — ${t(`contacts:${c.id}.name`)}`);
    return [t(`danger.lead.${kind}`), ...this.leadLines(kind, t), '', t('danger.otherNumbers'), ...others].join('\n');
  }

  /** The contacts that lead the reply to a kind of danger: number, name, what it is for. */
  private leadLines(kind: DangerKind, t: T): string[] {
    return this.cues.lead[kind].map((id) => {
      const c = this.catalogue.contacts.find((k) => k.id === id)!;
      return `📞 ${c.number} — ${t(`contacts:${c.id}.name`)}: ${t(`contacts:${c.id}.purpose`)}`;
    });
  }

  /** The one short line under every reply the bot did not expect: a missed cue still puts the numbers in front of the person. */
  netLine(t: T): string {
    return t('safety.net', { numbers: numbersIn(this.catalogue, 'net') });
  }

  hotlineText(t: T): string {
    return [t('talk.hotlines'), ...this.hotlineLines(t)].join('\n');
  }

  private hotlineLines(t: T): string[] {
    return this.catalogue.contacts
      .filter((c) => !c.emergency)
      .map((c) => `☎️ ${c.number} — ${t(`contacts:${c.id}.name`)} (${t(`hours.${c.hours}`)}${c.textFriendly ? `, ${t('hours.textFriendly')}` : ''})`);
  }
}

type Btn = { text: string; callback_data: string };

const LANGUAGE_NAMES: Record<Lang, string> = { kk: 'Қазақша', ru: 'Русский', en: 'English' };

/** Language buttons, each in its own language so anyone can find theirs. */
export function languageRow(step: number): Btn[] {
  return LANGS.map((lang) => ({ text: LANGUAGE_NAMES[lang], callback_data: encode(step, { kind: 'language', lang }) }));
}
type ButtonFn = (label: string, action: Action) => Btn;
type EvFn = (event: import('../../flows/screening/machine.js').ScreeningEvent) => Action;

function chunk<X>(items: X[], size: number): X[][] {
  const rows: X[][] = [];
  for (let i = 0; i < items.length; i += size) rows.push(items.slice(i, i + size));
  return rows;
}

function truncate(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

/**
 * Joins sections into as few messages as fit, splitting between sections. A
 * section too long for one message (many grounds still needing answers) is
 * split between its paragraphs, then its lines: none of it is cut off.
 */
export function pack(sections: string[]): string[] {
  return joinFitting(sections.flatMap((s) => fit(s, '\n\n')), '\n\n');
}

/** A text in pieces that each fit in a message, split at `sep` (paragraphs, then lines); only a single over-long line is cut. */
function fit(text: string, sep: '\n\n' | '\n'): string[] {
  if (text.length <= MAX_TEXT) return [text];
  return joinFitting(text.split(sep).flatMap((part) => (sep === '\n\n' ? fit(part, '\n') : [truncate(part)])), sep);
}

function joinFitting(parts: string[], sep: string): string[] {
  const out: string[] = [];
  for (const s of parts) {
    const last = out.at(-1);
    if (last !== undefined && last.length + sep.length + s.length <= MAX_TEXT) out[out.length - 1] = `${last}${sep}${s}`;
    else out.push(s);
  }
  return out;
}
