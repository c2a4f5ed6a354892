/**
 * The screening dialog as a test model: the machine as the bot runs it (it
 * owns every rule of the dialog, danger after an answer included), the events
 * a family can cause on each screen
 * (the buttons the bot shows, a typed number, /restart), an abstraction of its
 * snapshots, and paths generated from it with `xstate/graph`.
 *
 * The full state space (every combination of answers) is far too large, so a
 * snapshot is abstracted to its state node, the question being asked, whether a
 * multi-choice question has something ticked, and — on the danger and talk
 * screens — where RESUME returns and whether urgent help was asked for (A). The
 * question traversal adds the questions still pending (B); the result
 * traversals add one rule's status, or the urgency flags (C).
 *
 * xstate/graph expands each abstract state from its first (breadth-first)
 * representative, and getShortestPaths follows the same breadth-first tree, so
 * replaying a path's events from the initial snapshot meets exactly those
 * representatives; `replay` checks that every event changes something (the bot
 * would refuse it otherwise), and the machine tests that every path ends on the
 * key it promised.
 */
import { DangerCues } from '../../src/safety/cues.js';
import { createActor, type SnapshotFrom } from 'xstate';
import { getShortestPaths, type StatePath } from 'xstate/graph';
import { createScreeningMachine, type ScreeningEvent, type ScreeningMachine } from '../../flows/screening/machine.js';
import { crossCheck, listIds } from '../../src/engine/facts.js';
import { mulberry32 } from '../helpers/prng.js';
import { evaluate, nextQuestions } from '../../src/engine/evaluate.js';
import type { Catalogue, Condition, FactDef, Facts, Result, Status } from '../../src/engine/types.js';
import { ScreenRenderer } from '../../src/bot/screens.js';

export type Snap = SnapshotFrom<ScreeningMachine>;
export type Path = StatePath<Snap, ScreeningEvent>;

/** The harness's today: the machine's input date and every RESTART's date. */
export const TODAY = '2026-11-21';
/** Regions offered in generated paths: one with a poverty line in the tests (astana), one without. */
export const REGIONS = ['astana', 'almaty'];
/** A typed monthly income, above any poverty line per person: the only int answer not on a button. */
export const TYPED_INCOME = 1_000_000;

const QUESTION_STATES = ['asking', 'askingPrevious', 'editing'] as const;

/** "main.screening.asking", "danger", … */
export function stateName(s: Snap): string {
  const walk = (v: unknown): string => (typeof v === 'string' ? v : Object.entries(v as Record<string, unknown>).map(([k, sub]) => `${k}.${walk(sub)}`)[0]!);
  return walk(s.value);
}

export function isQuestion(s: Snap): boolean {
  return QUESTION_STATES.some((q) => s.matches({ main: { screening: q } }));
}

/** The questions on a question screen: those asked together ("which of these apply?"), or the one asked. */
export function onScreen(s: Snap): string[] {
  const c = s.context;
  return c.together?.length ? c.together : c.current ? [c.current] : [];
}

/** Where RESUME would return: the leaf the deep history of `main` recorded. */
export function resumeTarget(s: Snap): string {
  const hv = (s as unknown as { historyValue: Record<string, { id: string }[]> }).historyValue;
  const recorded = hv['screening.main.hist'] ?? Object.entries(hv).find(([k]) => k.endsWith('hist'))?.[1];
  return (recorded ?? []).map((n) => n.id.replace(/^screening\./, '')).sort().join('+') || 'main.intro';
}

export class Model {
  readonly machine: ScreeningMachine;
  readonly defs: Map<string, FactDef>;
  readonly renderer: ScreenRenderer;

  constructor(readonly catalogue: Catalogue) {
    this.machine = createScreeningMachine(catalogue);
    this.defs = new Map(catalogue.facts.map((f) => [f.id, f]));
    this.renderer = new ScreenRenderer(catalogue, 30, DangerCues.load());
  }

  initial(): Snap {
    const actor = createActor(this.machine, { input: { date: TODAY } });
    actor.start();
    const s = actor.getSnapshot();
    actor.stop();
    return s;
  }

  /** The abstract state: state node, question, a ticked draft, resume target and urgency. */
  key(s: Snap): string {
    const parts = [stateName(s)];
    const c = s.context;
    if (isQuestion(s)) {
      parts.push(c.together?.length ? `together(${c.together.join(',')})` : (c.current ?? '-'));
      if ((c.together?.length || this.defs.get(c.current ?? '')?.type === 'list') && c.draft.length) parts.push('ticked');
    }
    if (s.matches('danger') || s.matches('talk')) parts.push(`from ${resumeTarget(s)}`);
    if (s.matches('danger')) parts.push(`via ${c.danger?.via ?? 'button'}`);
    if (s.matches('talk') && c.urgent) parts.push('urgent');
    return parts.join(' ');
  }

  /** The answers offered for a question: every button (numbers that fit the other answers), plus a typed income. */
  answers(fact: string, facts: Facts = {}): ScreeningEvent[] {
    const def = this.defs.get(fact)!;
    switch (def.type) {
      case 'yesno':
        return [{ type: 'ANSWER', value: 'yes' }, { type: 'ANSWER', value: 'no' }];
      case 'enum':
        return (def.id === 'region' ? REGIONS : def.values!).map((value) => ({ type: 'ANSWER', value }));
      case 'int':
        return [...fittingQuick(def, facts), ...(fact === 'monthly_income_kzt' ? [TYPED_INCOME] : [])].map((value) => ({ type: 'ANSWER', value }));
      case 'list': {
        const ids = listIds(def, this.catalogue);
        return [...ids.map((value): ScreeningEvent => ({ type: 'TOGGLE', value })), { type: 'CONFIRM' }];
      }
    }
  }

  /** Everything the family can do on the screen of this snapshot (no PREFILL: that is a deep link, not a button). */
  events(s: Snap): ScreeningEvent[] {
    const safety: ScreeningEvent[] = [{ type: 'TALK' }, { type: 'DANGER' }];
    const restart: ScreeningEvent = { type: 'RESTART', date: TODAY };
    if (s.matches('danger')) return [{ type: 'URGENT_TALK' }, { type: 'RESUME' }];
    if (s.matches('talk')) return [{ type: 'RESUME' }, { type: 'DANGER' }];
    if (s.matches({ main: 'intro' })) return [{ type: 'CONSENT' }, { type: 'DECLINE' }, ...safety];
    if (s.matches({ main: 'infoOnly' })) return [{ type: 'CONSENT' }, ...safety, restart];
    if (isQuestion(s) && s.context.together?.length) {
      return [...s.context.together.map((value): ScreeningEvent => ({ type: 'TOGGLE', value })), { type: 'CONFIRM' }, { type: 'SKIP' }, { type: 'BACK' }, ...safety, restart];
    }
    if (isQuestion(s)) return [...this.answers(s.context.current!, s.context.facts), ...this.skip(s), { type: 'BACK' }, ...safety, restart];
    if (s.matches({ main: { screening: 'summary' } })) {
      const edits = this.renderer.visibleAnswers(s.context.facts, s.context.date).map((fact): ScreeningEvent => ({ type: 'EDIT', fact }));
      return [{ type: 'CONFIRM' }, { type: 'BACK' }, ...edits, ...safety, restart];
    }
    if (s.matches({ main: 'result' })) {
      const more: ScreeningEvent[] = this.unsettled(s).length ? [{ type: 'MORE' }] : [];
      const topics = Array.isArray(s.context.facts.topics) && this.renderer.notChecked(s.context.facts).length ? [{ type: 'EDIT', fact: 'topics' } as ScreeningEvent] : [];
      return [{ type: 'REFER' }, { type: 'SAVE' }, { type: 'BACK' }, ...more, ...topics, restart, ...safety];
    }
    if (s.matches({ main: 'refer' }) || s.matches({ main: 'saved' })) return [{ type: 'RESUME' }, ...safety, restart];
    throw new Error(`no events for ${stateName(s)}`);
  }

  /** "Don't know": on every question but the topics screen, which has its own "not sure" tick. */
  skip(s: Snap): ScreeningEvent[] {
    return this.defs.get(s.context.current ?? '')?.of === 'topic' ? [] : [{ type: 'SKIP' }];
  }

  /** Only what can change the answers: for the result traversals. */
  answeringEvents(s: Snap): ScreeningEvent[] {
    if (s.matches({ main: 'intro' })) return [{ type: 'CONSENT' }];
    if (s.matches('danger')) return [{ type: 'RESUME' }]; // after an answer that says someone is in danger, or discloses violence
    if (isQuestion(s) && this.defs.get(s.context.current!)?.of === 'topic') {
      // One topic at a time (what most families tick), none, "not sure" (the general set), or all of them.
      const ids = this.catalogue.topics.map((x) => x.id);
      const all = ids.filter((id) => id !== 'not_sure');
      return [...ids.map((id): ScreeningEvent => ({ type: 'ANSWER', value: [id] })), { type: 'ANSWER', value: [] }, { type: 'ANSWER', value: all }];
    }
    if (isQuestion(s) && s.context.together?.length) {
      // Asked together: nothing ticked (all "no"), each one ticked on its own, or "don't know" for all.
      return [{ type: 'ANSWER', value: [] }, ...s.context.together.map((id): ScreeningEvent => ({ type: 'ANSWER', value: [id] })), { type: 'SKIP' }];
    }
    if (isQuestion(s)) {
      // Numbers that stand for all (none, one, a few, many): the rules compare with 0, 1, 2+ and 4+.
      const answers = this.answers(s.context.current!, s.context.facts).filter((e) => e.type !== 'TOGGLE' && !(e.type === 'ANSWER' && typeof e.value === 'number' && ![0, 1, 2, 4, TYPED_INCOME].includes(e.value)));
      return [...answers, ...this.skip(s)];
    }
    if (s.matches({ main: { screening: 'summary' } })) return [{ type: 'CONFIRM' }];
    return [];
  }

  /** Shortest paths to every abstract state reachable with every button (A: the structure of the dialog). */
  structuralPaths(): Path[] {
    return getShortestPaths(this.machine, {
      input: { date: TODAY },
      events: (s) => this.events(s),
      serializeState: (s) => this.key(s),
    });
  }

  /**
   * The shortest path to every question the dialog can ask (B). Which questions
   * come later depends on earlier answers (no child questions after "0
   * children"), so here the key also holds the questions still pending.
   */
  questionPaths(): Map<string, Path> {
    const paths = getShortestPaths(this.machine, {
      input: { date: TODAY },
      events: (s) => this.answeringEvents(s),
      // The answers offered count too: "how many children" after a household of 1 and of 4 are different screens.
      serializeState: (s) => (isQuestion(s) ? `${this.key(s)} [${this.pending(s).join(',')}] ${this.answeringEvents(s).map(eventKey).join(' ')}` : this.key(s)),
      toState: (s) => s.matches({ main: { screening: 'asking' } }),
      stopWhen: () => false, // toState would otherwise stop the traversal at the first question
    });
    // A question asked together is reached with the screen that holds it.
    const out = new Map<string, Path>();
    for (const p of paths) {
      for (const fact of onScreen(p.state)) {
        const best = out.get(fact);
        if (!best || p.steps.length < best.steps.length) out.set(fact, p);
      }
    }
    return out;
  }

  /**
   * For one classification of results (a rule's status, the urgency flags): the
   * shortest path to a result screen of each class (C). `refine` adds to the key
   * what decides the class later on (for a rule, the facts it still misses), so
   * that a question is explored once per way the answers so far can still end.
   */
  resultPaths(classify: (s: Snap) => string, refine: (s: Snap) => string = () => ''): Map<string, Path> {
    const paths = getShortestPaths(this.machine, {
      input: { date: TODAY },
      events: (s) => this.answeringEvents(s),
      serializeState: (s) => `${this.key(s)} ${classify(s)} ${refine(s)}`,
      toState: (s) => s.matches({ main: 'result' }),
    });
    return shortestBy(paths, classify);
  }

  private readonly results = new WeakMap<object, Result>();
  private readonly pendings = new WeakMap<object, string[]>();

  /** The engine's result for a snapshot's answers (cached: traversals ask for it once per edge). */
  result(s: Snap): Result {
    let r = this.results.get(s.context);
    if (!r) this.results.set(s.context, (r = evaluate(s.context.facts, this.catalogue, s.context.date)));
    return r;
  }

  /** The questions still pending for a snapshot's answers (cached). */
  pending(s: Snap): string[] {
    let p = this.pendings.get(s.context);
    if (!p) this.pendings.set(s.context, (p = nextQuestions(s.context.facts, this.catalogue, s.context.date)));
    return p;
  }

  /** Answers "don't know" that could still settle something: the result offers to ask them again. */
  unsettled(s: Snap): string[] {
    return this.result(s).missing.filter((f) => s.context.facts[f] === 'unknown');
  }

  rule(s: Snap, rule: string) {
    const r = this.result(s);
    return [...r.grounds, ...r.benefits].find((x) => x.id === rule)!;
  }

  status(s: Snap, rule: string): Status {
    return this.rule(s, rule).status;
  }

  flags(s: Snap): string {
    const r = this.result(s);
    return r.emergency ? 'emergency' : r.urgent ? 'urgent' : 'calm';
  }

  /** Replays events from the initial snapshot; throws if one changes nothing (the bot would refuse it). */
  replay(events: ScreeningEvent[]): Snap[] {
    const actor = createActor(this.machine, { input: { date: TODAY } });
    actor.start();
    const out = [actor.getSnapshot()];
    for (const e of events) {
      // A whole multi-choice answer is given on the screen as ticks and Done, as the bot does it.
      if (e.type === 'ANSWER' && Array.isArray(e.value)) {
        for (const v of toggles(actor.getSnapshot().context.draft, e.value)) actor.send({ type: 'TOGGLE', value: v });
        actor.send({ type: 'CONFIRM' });
      } else actor.send(e);
      const next = actor.getSnapshot();
      if (next === out.at(-1)) throw new Error(`event ${JSON.stringify(e)} changed nothing in ${this.key(next)}`);
      out.push(next);
    }
    actor.stop();
    return out;
  }
}

function shortestBy(paths: Path[], classify: (s: Snap) => string): Map<string, Path> {
  const out = new Map<string, Path>();
  for (const p of paths) {
    const k = classify(p.state);
    const best = out.get(k);
    if (!best || p.steps.length < best.steps.length) out.set(k, p);
  }
  return out;
}

/** A path's events; getShortestPaths starts every path with a step for the machine's own xstate.init. */
export const eventsOf = (p: Path): ScreeningEvent[] => p.steps.map((s) => s.event).filter((e) => (e.type as string) !== 'xstate.init');

/** A path's events, for dedupe and prefix tests. */
export const eventKey = (e: ScreeningEvent): string => JSON.stringify(e);

/** Drops every path whose events are a prefix of another's: replaying the longer one visits its states too. */
export function maximal(paths: ScreeningEvent[][]): ScreeningEvent[][] {
  const keys = paths.map((p) => p.map(eventKey).join('\n'));
  const sorted = paths.map((p, i) => ({ p, k: keys[i]! })).sort((a, b) => b.k.length - a.k.length);
  const kept: { p: ScreeningEvent[]; k: string }[] = [];
  for (const x of sorted) if (!kept.some((y) => y.k === x.k || y.k.startsWith(`${x.k}\n`))) kept.push(x);
  return kept.map((x) => x.p);
}

/** Does the rule's condition use the poverty line (so it is never `indicated` without one)? */
export function usesPovertyLine(c: Condition, catalogue: Catalogue): boolean {
  if ('perCapitaIncomeBelow' in c) return true;
  if ('all' in c) return c.all.some((x) => usesPovertyLine(x, catalogue));
  if ('any' in c) return c.any.some((x) => usesPovertyLine(x, catalogue));
  if ('not' in c) return usesPovertyLine(c.not, catalogue);
  if ('benefit' in c) return usesPovertyLine(catalogue.benefits.find((b) => b.id === c.benefit)!.when, catalogue);
  return false;
}

/** A seeded PRNG, so random walks are the same on every run. */
export const prng = mulberry32;

/** The quick-answer numbers the bot shows: those that agree with the other answers. */
export function fittingQuick(def: FactDef, facts: Facts): number[] {
  return (def.quick ?? []).filter((n) => crossCheck({ ...facts, [def.id]: n }).length === 0);
}

/** The ticks that turn what is ticked now into the wanted answer (a question returned to by Back starts with its old ticks). */
export function toggles(ticked: string[], wanted: string[]): string[] {
  return [...wanted.filter((v) => !ticked.includes(v)), ...ticked.filter((v) => !wanted.includes(v))];
}
