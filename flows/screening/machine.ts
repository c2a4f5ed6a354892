/**
 * The family's screening dialog as a state machine. It holds the answers and
 * where the family is; which question comes next is the engine's
 * `nextQuestions` (grouped into screens by `nextScreen`: yes/no questions marked
 * `ask: together` share one "which of these apply?" screen), so the machine asks
 * only what can still change a result.
 * The machine knows no language and no Telegram: the bot renders its states.
 *
 *   intro ──consent──▶ screening.asking ⇄ screening.summary ⇄ screening.editing
 *     │                     │  ▲                    │
 *     └─decline─▶ infoOnly  └──┴── BACK             └─confirm─▶ result
 *   any state ──DANGER──▶ danger ──RESUME──▶ where the family was
 *   an answer that says someone is in danger now, or discloses violence ──▶ danger (then RESUME)
 *   any state ──TALK────▶ talk   ──RESUME──▶ where the family was
 */
import { assign, setup } from 'xstate';
import { evaluate, isEmergency } from '../../src/engine/evaluate.js';
import { crossCheck, normaliseValue } from '../../src/engine/facts.js';
import { withAnswers } from '../../src/engine/lineage.js';
import { nextScreen } from '../../src/engine/together.js';
import type { Catalogue, Facts, FactValue } from '../../src/engine/types.js';
import type { DangerKind } from '../../src/safety/cues.js';
import { entryOf, factsOf, withoutFacts } from './history.js';

/**
 * Why the danger screen is shown: the button, words that hold a cue (with its
 * kind, so the reply fits), an answer that makes it an emergency, or an answer
 * that discloses violence or a child without care (SPEC §7).
 */
export type DangerReason = { via: 'button' } | { via: 'cue'; kind: DangerKind } | { via: 'answer' } | { via: 'disclosure'; kind: DangerKind };

/** Bump when states or context change shape; flows/screening/migrate.ts carries answers across. */
export const SCREENING_FLOW = 'screening';
export const SCREENING_FLOW_VERSION = 3; // 2: the topics screen; 3: questions asked together (`together`, history entries of several facts)

export interface ScreeningContext {
  /** The rules date, fixed when the screening starts (YYYY-MM-DD, Asia/Almaty). */
  date: string;
  facts: Facts;
  /** The screens answered, in order, for Back: a fact id, or the ids answered together joined with "+" (history.ts). */
  history: string[];
  /** The fact being asked, in asking or editing (on a screen of questions asked together, the first of them). */
  current: string | null;
  /** The questions on the screen when several are asked together ("which of these apply?"); absent or empty otherwise. */
  together?: string[];
  /** Choices ticked so far on a multi-choice question, or the questions ticked "yes" on a screen of questions asked together. */
  draft: string[];
  /** Grows with every screen shown; a button carries it, so a button from an old message is recognised. */
  step: number;
  /** True once the family asked for urgent help from the danger screen. */
  urgent: boolean;
  /** Why the danger screen is (or was last) shown; absent in dialogs saved before it existed. */
  danger?: DangerReason | null;
  /** An answer just given brings the danger screen, for this reason, before the next question. */
  alert?: DangerReason | null;
}

export type ScreeningEvent =
  | { type: 'CONSENT' }
  | { type: 'DECLINE' }
  | { type: 'ANSWER'; value: FactValue }
  | { type: 'TOGGLE'; value: string }
  | { type: 'SKIP' }
  | { type: 'BACK' }
  | { type: 'EDIT'; fact: string }
  | { type: 'CONFIRM' }
  | { type: 'TALK' }
  | { type: 'URGENT_TALK' }
  | { type: 'REFER' }
  | { type: 'SAVE' }
  /** From the result: ask again the questions answered "don't know" that could still settle something. */
  | { type: 'MORE' }
  | { type: 'DANGER'; kind?: DangerKind }
  | { type: 'RESUME' }
  | { type: 'RESTART'; date: string }
  /** Answers known before the screening starts (a deep link with a region); only unanswered facts are filled. */
  | { type: 'PREFILL'; facts: Facts };

export interface ScreeningInput {
  date: string;
  facts?: Facts;
}

export function createScreeningMachine(catalogue: Catalogue) {
  const defs = new Map(catalogue.facts.map((f) => [f.id, f]));
  const screenOf = (ctx: ScreeningContext) => nextScreen(ctx.facts, catalogue, ctx.date);
  const togetherOf = (ctx: ScreeningContext) => ctx.together ?? [];
  /** A value in the question's domain that agrees with the other answers (no more children than people at home). */
  const valid = (ctx: ScreeningContext, value: FactValue) => {
    const def = ctx.current ? defs.get(ctx.current) : undefined;
    const normalised = def ? normaliseValue(def, value, catalogue) : undefined;
    if (normalised === undefined) return false;
    return def!.type === 'list' || crossCheck({ ...ctx.facts, [def!.id]: normalised }).length === 0;
  };
  const isList = (fact: string | null) => (fact ? defs.get(fact)?.type === 'list' : false);
  const emergency = (facts: Facts, date: string) => isEmergency(facts, catalogue, date);
  /** Questions answered "don't know" whose answer could still change a result. */
  const unsettled = (ctx: ScreeningContext) => evaluate(ctx.facts, catalogue, ctx.date).missing.filter((f) => ctx.facts[f] === 'unknown');
  /** What the answers about to be recorded say about safety: nothing, an emergency, or a disclosure. */
  const alertOf = (ctx: ScreeningContext, answers: Facts): DangerReason | null => {
    const facts = { ...ctx.facts, ...answers };
    if (emergency(facts, ctx.date) && !emergency(ctx.facts, ctx.date)) return { via: 'answer' };
    for (const [fact, value] of Object.entries(answers)) {
      const kind = catalogue.safety.disclosure[fact] as DangerKind | undefined;
      if (kind && value === 'yes' && ctx.facts[fact] !== 'yes') return { via: 'disclosure', kind };
    }
    return null;
  };
  /** Records the answers of the screen on display, as one entry of the history. */
  const recordScreen = (ctx: ScreeningContext, answers: Facts) => {
    const ids = Object.keys(answers);
    return { alert: alertOf(ctx, answers), facts: withAnswers(ctx.facts, answers), history: [...withoutFacts(ctx.history, ids), entryOf(ids)] };
  };
  /** Asked together: a tick is "yes", a line left unticked is "no". */
  const yesForTicked = (together: string[], ticked: string[]): Facts => Object.fromEntries(together.map((f) => [f, ticked.includes(f) ? 'yes' : 'no']));
  /** The questions on the screen: those asked together, or the one asked. */
  const onScreen = (ctx: ScreeningContext) => (togetherOf(ctx).length ? togetherOf(ctx) : ctx.current ? [ctx.current] : []);

  return setup({
    types: { context: {} as ScreeningContext, events: {} as ScreeningEvent, input: {} as ScreeningInput },
    guards: {
      // Questions asked together take the list of those that apply (the ticks and Done at once), never one answer for all.
      validAnswer: ({ context, event }) => {
        if (event.type !== 'ANSWER') return false;
        const together = togetherOf(context);
        if (together.length) return Array.isArray(event.value) && event.value.every((f) => together.includes(f));
        return valid(context, event.value);
      },
      validChoice: ({ context, event }) => {
        if (event.type !== 'TOGGLE' || !context.current) return false;
        if (togetherOf(context).length) return togetherOf(context).includes(event.value);
        return isList(context.current) && valid(context, [event.value]);
      },
      isMultiChoice: ({ context }) => isList(context.current) || togetherOf(context).length > 0,
      hasHistory: ({ context }) => context.history.length > 0,
      canEdit: ({ context, event }) => event.type === 'EDIT' && context.facts[event.fact] !== undefined && defs.has(event.fact),
      alertPending: ({ context }) => Boolean(context.alert),
      onQuestion: ({ context }) => context.current !== null,
      hasUnsettled: ({ context }) => unsettled(context).length > 0,
      noQuestionLeft: ({ context }) => context.current === null,
    },
    actions: {
      nextStep: assign({ step: ({ context }) => context.step + 1 }),
      pickQuestion: assign(({ context }) => {
        const screen = screenOf(context);
        return { current: screen[0] ?? null, together: screen.length > 1 ? screen : [], draft: [] };
      }),
      recordAnswer: assign(({ context, event }) => {
        if (event.type !== 'ANSWER' || !context.current) return {};
        const together = togetherOf(context);
        if (together.length && Array.isArray(event.value)) return recordScreen(context, yesForTicked(together, event.value));
        const def = defs.get(context.current)!;
        return recordScreen(context, { [context.current]: normaliseValue(def, event.value, catalogue)! });
      }),
      recordDraft: assign(({ context }) => {
        if (!context.current) return {};
        const together = togetherOf(context);
        if (together.length) return recordScreen(context, yesForTicked(together, context.draft));
        return recordScreen(context, { [context.current]: context.draft });
      }),
      recordUnknown: assign(({ context }) => {
        if (!context.current) return {};
        // On the topics screen "don't know" is "not sure" (it opens the general questions), never "nothing happens".
        const value: FactValue = isList(context.current) ? (defs.get(context.current)?.of === 'topic' ? ['not_sure'] : []) : 'unknown';
        return recordScreen(context, Object.fromEntries(onScreen(context).map((f) => [f, value])));
      }),
      toggleDraft: assign({
        draft: ({ context, event }) => {
          if (event.type !== 'TOGGLE') return context.draft;
          return context.draft.includes(event.value) ? context.draft.filter((v) => v !== event.value) : [...context.draft, event.value];
        },
      }),
      stepBack: assign(({ context }) => {
        const previous = context.history.at(-1);
        if (!previous) return {};
        // The screen answered last, again: its answers taken back, its ticks kept to change.
        const ids = factsOf(previous);
        const facts = Object.fromEntries(Object.entries(context.facts).filter(([f]) => !ids.includes(f)));
        const first = ids[0]!;
        const draft = ids.length > 1 ? ids.filter((f) => context.facts[f] === 'yes') : Array.isArray(context.facts[first]) ? (context.facts[first] as string[]) : [];
        return { facts, history: context.history.slice(0, -1), current: first, together: ids.length > 1 ? ids : [], draft };
      }),
      // One answer changed from the summary is asked on its own, whatever screen it was answered on.
      startEditing: assign(({ context, event }) => {
        if (event.type !== 'EDIT') return {};
        const value = context.facts[event.fact];
        return { current: event.fact, together: [], draft: Array.isArray(value) ? value : [] };
      }),
      markUrgent: assign({ urgent: true }),
      clearQuestion: assign({ current: null, together: [], draft: [] }),
      reopenUnsettled: assign(({ context }) => {
        const reopen = new Set(unsettled(context));
        return { facts: Object.fromEntries(Object.entries(context.facts).filter(([f]) => !reopen.has(f))), history: withoutFacts(context.history, reopen) };
      }),
      noteDanger: assign({
        danger: ({ event }): DangerReason => (event.type === 'DANGER' && event.kind ? { via: 'cue', kind: event.kind } : { via: 'button' }),
      }),
      raiseAlert: assign(({ context }) => ({ danger: context.alert ?? { via: 'answer' }, alert: null })),
      prefill: assign({
        facts: ({ context, event }) => (event.type === 'PREFILL' ? { ...event.facts, ...context.facts } : context.facts),
      }),
      reset: assign(({ event }) => ({
        date: event.type === 'RESTART' ? event.date : '',
        facts: {},
        history: [],
        current: null,
        together: [],
        draft: [],
        urgent: false,
        danger: null,
        alert: null,
      })),
    },
  }).createMachine({
    id: SCREENING_FLOW,
    context: ({ input }) => ({ date: input.date, facts: input.facts ?? {}, history: [], current: null, together: [], draft: [], step: 0, urgent: false }),
    initial: 'main',
    on: {
      DANGER: { target: '.danger', actions: ['noteDanger', 'nextStep'] },
      TALK: { target: '.talk', actions: 'nextStep' },
      RESTART: { target: '.main.intro', actions: ['reset', 'nextStep'] },
    },
    states: {
      /** Everything but the two screens that may interrupt it; its history is where RESUME returns. */
      main: {
        initial: 'intro',
        states: {
          intro: {
            on: {
              PREFILL: { actions: 'prefill' },
              CONSENT: { target: 'screening', actions: 'nextStep' },
              DECLINE: { target: 'infoOnly', actions: 'nextStep' },
            },
          },
          infoOnly: {
            on: { CONSENT: { target: 'screening', actions: 'nextStep' } },
          },
          screening: {
            initial: 'asking',
            // Answering the question on the screen, written once for asking, askingPrevious and editing:
            // each records and goes on to the next question (asking picks it), or to the summary.
            on: {
              ANSWER: { guard: 'validAnswer', target: '.asking', reenter: true, actions: ['recordAnswer', 'nextStep'] },
              TOGGLE: { guard: 'validChoice', actions: ['toggleDraft', 'nextStep'] },
              CONFIRM: { guard: 'isMultiChoice', target: '.asking', reenter: true, actions: ['recordDraft', 'nextStep'] },
              SKIP: { guard: 'onQuestion', target: '.asking', reenter: true, actions: ['recordUnknown', 'nextStep'] },
            },
            states: {
              asking: {
                entry: 'pickQuestion',
                // Danger first: an answer that raised an alert shows the numbers before the next question.
                always: [
                  { guard: 'alertPending', target: '#screening.danger', actions: 'raiseAlert' },
                  { guard: 'noQuestionLeft', target: 'summary' },
                ],
                on: {
                  BACK: [
                    { guard: 'hasHistory', target: 'askingPrevious', actions: ['stepBack', 'nextStep'] },
                    { target: '#screening.main.intro', actions: 'nextStep' },
                  ],
                },
              },
              /** The question Back returned to: like asking, but the question is already chosen. */
              askingPrevious: {
                on: {
                  BACK: [
                    { guard: 'hasHistory', target: 'askingPrevious', reenter: true, actions: ['stepBack', 'nextStep'] },
                    { target: '#screening.main.intro', actions: 'nextStep' },
                  ],
                },
              },
              summary: {
                // No question is on the screen: answers and ticks sent now are refused.
                entry: 'clearQuestion',
                on: {
                  EDIT: { guard: 'canEdit', target: 'editing', actions: ['startEditing', 'nextStep'] },
                  CONFIRM: { target: '#screening.main.result', actions: 'nextStep' },
                  BACK: { guard: 'hasHistory', target: 'askingPrevious', actions: ['stepBack', 'nextStep'] },
                },
              },
              /** One answer changed from the summary; new questions it opens are asked, then the summary again. */
              editing: {
                on: {
                  BACK: { target: 'summary', actions: 'nextStep' },
                },
              },
            },
          },
          result: {
            on: {
              MORE: { guard: 'hasUnsettled', target: 'screening.asking', actions: ['reopenUnsettled', 'nextStep'] },
              // "Check one more topic": the topics screen again, from the result.
              EDIT: { guard: 'canEdit', target: 'screening.editing', actions: ['startEditing', 'nextStep'] },
              REFER: { target: 'refer', actions: 'nextStep' },
              SAVE: { target: 'saved', actions: 'nextStep' },
              BACK: { target: 'screening.summary', actions: 'nextStep' },
            },
          },
          refer: { on: { RESUME: { target: 'result', actions: 'nextStep' } } },
          saved: { on: { RESUME: { target: 'result', actions: 'nextStep' } } },
          hist: { type: 'history', history: 'deep' },
        },
      },
      danger: {
        on: {
          URGENT_TALK: { target: 'talk', actions: ['markUrgent', 'nextStep'] },
          RESUME: { target: 'main.hist', actions: 'nextStep' },
        },
      },
      talk: {
        on: { RESUME: { target: 'main.hist', actions: 'nextStep' } },
      },
    },
  });
}

export type ScreeningMachine = ReturnType<typeof createScreeningMachine>;
