/**
 * Every path the tests replay, generated from the screening machine for one
 * catalogue, and the oracles they are held to: the machine's state nodes, the
 * questions the catalogue can ask, the statuses each rule can take.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { getStateNodes } from 'xstate/graph';
import type { ScreeningEvent } from '../../flows/screening/machine.js';
import { valueInForce } from '../../src/engine/params.js';
import type { Catalogue, Condition, Params, Status } from '../../src/engine/types.js';
import { eventKey, eventsOf, isQuestion, maximal, Model, prng, TODAY, usesPovertyLine, type Path, type Snap } from './model.js';

export interface Plan {
  model: Model;
  /** A: the shortest path to every abstract state, with every button. */
  structural: Path[];
  /** B: the shortest path to every question the dialog asks. */
  questions: Map<string, Path>;
  /** C: rule id (or "flags") → class (a status; emergency/urgent/calm) → the shortest path to such a result. */
  results: Map<string, Map<string, Path>>;
}

export function makePlan(catalogue: Catalogue): Plan {
  const model = new Model(catalogue);
  const results = new Map<string, Map<string, Path>>();
  for (const rule of [...catalogue.grounds, ...catalogue.benefits]) {
    const classify = (s: Snap) => model.status(s, rule.id);
    const found = model.resultPaths(classify);
    // The coarse key explores each question once, from its first representative; when that misses a
    // status the rule can take (asp_unconditional is not_indicated only with a household of 2+), search
    // again with the pending questions in the key, as for the questions, and take what it adds.
    if (expectedStatuses(catalogue, rule.id).some((st) => !found.has(st))) {
      for (const [st, p] of model.resultPaths(classify, (s) => (isQuestion(s) ? model.pending(s).join(',') : ''))) {
        if (!found.has(st)) found.set(st, p);
      }
    }
    results.set(rule.id, found);
  }
  results.set('flags', model.resultPaths((s) => model.flags(s)));
  return { model, structural: model.structuralPaths(), questions: model.questionPaths(), results };
}

/** Every generated path, named after where it ends, without those that are a prefix of another (replaying the longer one passes their states). */
export function allPaths(plan: Plan): { events: ScreeningEvent[]; name: string }[] {
  const { model } = plan;
  const named = [
    ...plan.structural.map((p) => ({ p, name: model.key(p.state) })),
    ...[...plan.questions].map(([fact, p]) => ({ p, name: `question ${fact}` })),
    ...[...plan.results].flatMap(([rule, m]) => [...m].map(([cls, p]) => ({ p, name: `result with ${rule} ${cls}` }))),
  ];
  const kept = new Set(maximal(named.map((x) => eventsOf(x.p))).map((events) => events.map(eventKey).join('\n')));
  const out: { events: ScreeningEvent[]; name: string }[] = [];
  for (const { p, name } of named) {
    const events = eventsOf(p);
    const k = events.map(eventKey).join('\n');
    if (kept.delete(k)) out.push({ events, name });
  }
  return out;
}

/** The state nodes of the machine, without history pseudo-states, as values `snapshot.matches` takes. */
export function stateNodes(model: Model): { id: string; value: string | Record<string, unknown> }[] {
  return getStateNodes(model.machine.root)
    .filter((n) => n.type !== 'history')
    .map((n) => ({ id: n.path.join('.'), value: n.path.slice(0, -1).reduceRight<string | Record<string, unknown>>((v, k) => ({ [k]: v }), n.path.at(-1)!) }));
}

/** Is a poverty line in force for some region on the test date? */
export function hasPovertyLine(catalogue: Catalogue): boolean {
  return Object.keys(catalogue.params.poverty_line_kzt ?? {}).some((region) => valueInForce(catalogue.params, 'poverty_line_kzt', region, TODAY) !== undefined);
}

/**
 * The questions the catalogue can ask, worked out from the catalogue alone: the
 * facts its rules and safety flags read, the facts that gate or imply those,
 * the income test's facts when a poverty line is in force, and `needs`, which
 * the dialog always offers at the end. Without a poverty line, a conjunction
 * with the income test can never hold, so nothing in it is asked for it.
 */
export function askableFacts(catalogue: Catalogue): string[] {
  const found = new Set<string>(['needs', 'already_receiving', ...(catalogue.facts.some((f) => f.of === 'topic') ? ['topics'] : [])]);
  const rules = new Map([...catalogue.grounds, ...catalogue.benefits].map((r) => [r.id, r]));
  const seenRules = new Set<string>();
  const line = hasPovertyLine(catalogue);
  const visit = (c: Condition): void => {
    if ('fact' in c) found.add(c.fact);
    else if ('sum' in c) [...c.sum, ...(c.within ? [c.within] : [])].forEach((f) => found.add(f));
    else if ('all' in c) {
      if (line || !c.all.some((x) => usesPovertyLine(x, catalogue))) c.all.forEach(visit);
    }
    else if ('any' in c) c.any.forEach(visit);
    else if ('not' in c) visit(c.not);
    else if ('ground' in c || 'benefit' in c) {
      const id = 'ground' in c ? c.ground : c.benefit;
      if (!seenRules.has(id)) (seenRules.add(id), visit(rules.get(id)!.when));
    } else if ('anyGround' in c) catalogue.grounds.forEach((g) => visit({ ground: g.id }));
    else if ('perCapitaIncomeBelow' in c && line) ['region', 'monthly_income_kzt', 'household_members'].forEach((f) => found.add(f));
  };
  [...catalogue.grounds, ...catalogue.benefits].forEach((r) => visit(r.when));
  visit(catalogue.safety.urgent);
  visit(catalogue.safety.emergency);
  for (let grew = true; grew; ) {
    const before = found.size;
    for (const def of catalogue.facts) {
      if (!found.has(def.id)) continue;
      if (def.relevantIf) visit(def.relevantIf);
      for (const i of def.impliedBy ?? []) visit(i.when);
    }
    grew = found.size > before;
  }
  return catalogue.facts.map((f) => f.id).filter((id) => found.has(id));
}

/** The statuses a rule can take through the dialog: all three, but never `indicated` on an income test without a poverty line. */
export function expectedStatuses(catalogue: Catalogue, rule: string): Status[] {
  const r = [...catalogue.grounds, ...catalogue.benefits].find((x) => x.id === rule)!;
  const all: Status[] = ['indicated', 'needs_info', 'not_indicated'];
  return usesPovertyLine(r.when, catalogue) && !hasPovertyLine(catalogue) ? all.filter((s) => s !== 'indicated') : all;
}

/** A seeded random walk on the machine: answers weigh more than the other buttons, so walks get deep into the dialog. */
export function randomWalk(model: Model, seed: number, length: number): ScreeningEvent[] {
  const rand = prng(seed);
  const events: ScreeningEvent[] = [];
  const actor = createActor(model.machine, { input: { date: TODAY } });
  actor.start();
  for (let i = 0; i < length; i++) {
    const options = model.events(actor.getSnapshot());
    const weights = options.map((e) => (['ANSWER', 'SKIP', 'CONSENT', 'CONFIRM', 'TOGGLE'].includes(e.type) ? 6 : e.type === 'RESTART' ? 0.3 : 1));
    let x = rand() * weights.reduce((a, b) => a + b, 0);
    let pick = 0;
    while ((x -= weights[pick]!) > 0 && pick < options.length - 1) pick++;
    const e = options[pick]!;
    events.push(e);
    actor.send(e);
  }
  actor.stop();
  return events;
}

/** A params file with the Astana test poverty line, for a bot whose catalogue has one. */
export function paramsFile(params: Params): string {
  const path = join(mkdtempSync(join(tmpdir(), 'qamqor-paths-')), 'params.yaml');
  writeFileSync(path, JSON.stringify(params)); // JSON is YAML
  return path;
}
