/**
 * The family's screening dialog as a state machine. It holds the answers and
 * where the family is; which question comes next is the engine's
 * `nextQuestions`, so the machine asks only what can still change a result.
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
import { evaluate, nextQuestions } from '../../src/engine/evaluate.js';
import { crossCheck, normaliseValue } from '../../src/engine/facts.js';
import type { Catalogue, Facts, FactValue } from '../../src/engine/types.js';
import type { DangerKind } from '../../src/safety/cues.js';

/**
 * Why the danger screen is shown: the button, words that hold a cue (with its
 * kind, so the reply fits), an answer that makes it an emergency, or an answer
 * that discloses violence or a child without care (SPEC §7).
 */
export type DangerReason = { via: 'button' } | { via: 'cue'; kind: DangerKind } | { via: 'answer' } | { via: 'disclosure'; kind: DangerKind };

/** Bump when states or context change shape; flows/screening/migrate.ts carries answers across. */
export const SCREENING_FLOW = 'screening';
export const SCREENING_FLOW_VERSION = 2; // 2: the topics screen

export interface ScreeningContext {
  /** The rules date, fixed when the screening starts (YYYY-MM-DD, Asia/Almaty). */
  date: string;
  facts: Facts;
  /** Answered fact ids in order, for Back. */
  history: string[];
  /** The fact being asked, in asking or editing. */
  current: string | null;
  /** Choices ticked so far on a multi-choice question. */
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
  const pending = (ctx: ScreeningContext) => nextQuestions(ctx.facts, catalogue, ctx.date);
  /** A value in the question's domain that agrees with the other answers (no more children than people at home). */
  const valid = (ctx: ScreeningContext, value: FactValue) => {
    const def = ctx.current ? defs.get(ctx.current) : undefined;
    const normalised = def ? normaliseValue(def, value, catalogue) : undefined;
    if (normalised === undefined) return false;
    return def!.type === 'list' || crossCheck({ ...ctx.facts, [def!.id]: normalised }).length === 0;
  };
  const isList = (fact: string | null) => (fact ? defs.get(fact)?.type === 'list' : false);
  const emergency = (facts: Facts, date: string) => evaluate(facts, catalogue, date).emergency;
  /** Questions answered "don't know" whose answer could still change a result. */
  const unsettled = (ctx: ScreeningContext) => evaluate(ctx.facts, catalogue, ctx.date).missing.filter((f) => ctx.facts[f] === 'unknown');
  /** What the answer about to be recorded says about safety: nothing, an emergency, or a disclosure. */
  const alertOf = (ctx: ScreeningContext, fact: string, value: FactValue): DangerReason | null => {
    const facts = { ...ctx.facts, [fact]: value };
    if (emergency(facts, ctx.date) && !emergency(ctx.facts, ctx.date)) return { via: 'answer' };
    const kind = catalogue.safety.disclosure[fact] as DangerKind | undefined;
    if (kind && value === 'yes' && ctx.facts[fact] !== 'yes') return { via: 'disclosure', kind };
    return null;
  };

  return setup({
    types: { context: {} as ScreeningContext, events: {} as ScreeningEvent, input: {} as ScreeningInput },
    guards: {
      validAnswer: ({ context, event }) => event.type === 'ANSWER' && valid(context, event.value),
      validChoice: ({ context, event }) => {
        if (event.type !== 'TOGGLE' || !context.current || !isList(context.current)) return false;
        return valid(context, [event.value]);
      },
      isMultiChoice: ({ context }) => isList(context.current),
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
        const current = pending(context)[0] ?? null;
        return { current, draft: [] };
      }),
      recordAnswer: assign(({ context, event }) => {
        if (event.type !== 'ANSWER' || !context.current) return {};
        const def = defs.get(context.current)!;
        const value = normaliseValue(def, event.value, catalogue)!;
        return {
          alert: alertOf(context, context.current, value),
          facts: { ...context.facts, [context.current]: value },
          history: [...context.history.filter((f) => f !== context.current), context.current],
        };
      }),
      recordDraft: assign(({ context }) => {
        if (!context.current) return {};
        return { facts: { ...context.facts, [context.current]: context.draft }, history: [...context.history.filter((f) => f !== context.current), context.current] };
      }),
      recordUnknown: assign(({ context }) => {
        if (!context.current) return {};
        // On the topics screen "don't know" is "not sure" (it opens the general questions), never "nothing happens".
        const value: FactValue = isList(context.current) ? (defs.get(context.current)?.of === 'topic' ? ['not_sure'] : []) : 'unknown';
        return { facts: { ...context.facts, [context.current]: value }, history: [...context.history.filter((f) => f !== context.current), context.current] };
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
        const { [previous]: _dropped, ...facts } = context.facts;
        const draft = Array.isArray(context.facts[previous]) ? (context.facts[previous] as string[]) : [];
        return { facts, history: context.history.slice(0, -1), current: previous, draft };
      }),
      startEditing: assign(({ context, event }) => {
        if (event.type !== 'EDIT') return {};
        const value = context.facts[event.fact];
        return { current: event.fact, draft: Array.isArray(value) ? value : [] };
      }),
      markUrgent: assign({ urgent: true }),
      clearQuestion: assign({ current: null, draft: [] }),
      reopenUnsettled: assign(({ context }) => {
        const reopen = new Set(unsettled(context));
        return { facts: Object.fromEntries(Object.entries(context.facts).filter(([f]) => !reopen.has(f))), history: context.history.filter((f) => !reopen.has(f)) };
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
        draft: [],
        urgent: false,
        danger: null,
        alert: null,
      })),
    },
  }).createMachine({
    id: SCREENING_FLOW,
    context: ({ input }) => ({ date: input.date, facts: input.facts ?? {}, history: [], current: null, draft: [], step: 0, urgent: false }),
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
