/**
 * Three-valued evaluation of rule conditions (Kleene logic). Every outcome
 * carries the criteria behind it (`because`) and, when undecided, the facts
 * that could still decide it — no more. Facts are tracked by the way they can
 * push: `toTrue` and `toFalse`. A clause that is already false inside an `all`
 * drops its siblings' facts; a clause that can never become true (a parameter
 * with no value in force) leaves only the facts that could make the whole false.
 */
import { anyRegionInForce, valueInForce } from './params.js';
import { topicClosed } from './topics.js';
import type { Catalogue, Condition, FactDef, Facts, FactValue, Reason, RuleResult } from './types.js';

export type Truth = 'T' | 'F' | 'U';

export interface Outcome {
  truth: Truth;
  because: Reason[];
  /** Facts whose answers could make an undecided outcome true / false. */
  toTrue: Set<string>;
  toFalse: Set<string>;
  missingParams: Set<string>;
}

export interface EvalContext {
  facts: Facts;
  catalogue: Catalogue;
  factDefs: Map<string, FactDef>;
  date: string;
  /** Rules already evaluated, for `ground:` / `benefit:` / `anyGround` references. */
  grounds: Map<string, RuleResult>;
  benefits: Map<string, RuleResult>;
  outcomes: Map<string, Outcome>;
  /** readFact results: facts do not change during one evaluation, and gates are shared by many rules. */
  readCache: Map<string, FactRead>;
}

export interface FactRead {
  value?: FactValue;
  because: Reason[];
  missing: Set<string>;
  undecidedBy: Set<string>;
}

/**
 * Outcomes are never changed once made, so a decided one shares the empty sets and an undecided
 * fact test shares its read's `missing` (evaluation builds thousands per answer: this keeps it cheap).
 */
const NONE: Set<string> = new Set();

const decided = (truth: 'T' | 'F', because: Reason[]): Outcome => ({ truth, because, toTrue: NONE, toFalse: NONE, missingParams: NONE });
const undecided = (missing: Set<string>, missingParams: Set<string> = NONE): Outcome => ({ truth: 'U', because: [], toTrue: missing, toFalse: missing, missingParams });

export function evaluateCondition(cond: Condition, ctx: EvalContext): Outcome {
  if ('all' in cond) return combine(cond.all.map((c) => evaluateCondition(c, ctx)), 'all');
  if ('any' in cond) return combine(cond.any.map((c) => evaluateCondition(c, ctx)), 'any');
  if ('not' in cond) {
    const inner = evaluateCondition(cond.not, ctx);
    const truth: Truth = inner.truth === 'T' ? 'F' : inner.truth === 'F' ? 'T' : 'U';
    return { ...inner, truth, toTrue: inner.toFalse, toFalse: inner.toTrue };
  }
  if ('ground' in cond) return fromRule(ctx, cond.ground);
  if ('benefit' in cond) return fromRule(ctx, cond.benefit);
  if ('anyGround' in cond) return combine([...ctx.grounds.keys()].map((id) => fromRule(ctx, id)), 'any');
  if ('perCapitaIncomeBelow' in cond) return perCapitaIncomeBelow(cond.perCapitaIncomeBelow, ctx);
  if ('sum' in cond) return sumAtLeast(cond, ctx);
  return factTest(cond, ctx);
}

function combine(parts: Outcome[], op: 'all' | 'any'): Outcome {
  const decisive: Truth = op === 'all' ? 'F' : 'T';
  const open: Outcome[] = [];
  let hits: Reason[] | undefined;
  for (const p of parts) {
    if (p.truth === decisive) (hits ??= []).push(...p.because);
    else if (p.truth === 'U') open.push(p);
  }
  if (hits) return decided(decisive, hits);
  if (!open.length) return decided(op === 'all' ? 'T' : 'F', becauseOf(parts, undefined));
  // `all` becomes true only if every open part can; `any` becomes false only if every open part can.
  const toTrue = op === 'any' || open.every(canTurnTrue) ? unionOf(open, 'toTrue') : NONE;
  const toFalse = op === 'all' || open.every(canTurnFalse) ? unionOf(open, 'toFalse') : NONE;
  return {
    truth: 'U',
    // Keep only the criteria already met (inside `all`), so a renderer's ✅ is always true.
    because: becauseOf(parts, 'T'),
    toTrue,
    toFalse,
    missingParams: unionOf(open, 'missingParams'),
  };
}

const canTurnTrue = (o: Outcome): boolean => o.toTrue.size > 0;
const canTurnFalse = (o: Outcome): boolean => o.toFalse.size > 0;

/** The criteria of the parts (of those with `truth`, when given), in order. */
function becauseOf(parts: Outcome[], truth: Truth | undefined): Reason[] {
  const out: Reason[] = [];
  for (const p of parts) if (truth === undefined || p.truth === truth) out.push(...p.because);
  return out;
}

function unionOf(parts: Outcome[], field: 'toTrue' | 'toFalse' | 'missingParams'): Set<string> {
  if (parts.length === 1) return parts[0]![field];
  let union: Set<string> | undefined;
  for (const p of parts) {
    const ids = p[field];
    if (!ids.size) continue;
    if (!union) union = new Set(ids);
    else for (const id of ids) union.add(id);
  }
  return union ?? NONE;
}

function fromRule(ctx: EvalContext, id: string): Outcome {
  const o = ctx.outcomes.get(id);
  if (!o) throw new Error(`rule ${id} referenced before it was evaluated`); // the loader rejects forward references
  return o;
}

type FactCondition = Extract<Condition, { fact: string }>;

/**
 * The sum of whole-number facts ≥ n. The parts known so far decide it when they
 * already reach n, or when even the largest values the others may take (their
 * `max`, and what is left of `within`, the count they are among) cannot;
 * otherwise the unknown parts are what could still decide it (and `within`, which
 * could only make it false). A part that reads `unknown` (or is not asked)
 * counts as undecided, never as 0.
 */
function sumAtLeast(cond: Extract<Condition, { sum: string[] }>, ctx: EvalContext): Outcome {
  const n = cond.gte;
  const reads = cond.sum.map((id) => ({ id, read: readFact(id, ctx) }));
  const known = reads.filter((r) => typeof r.read.value === 'number');
  const open = reads.filter((r) => typeof r.read.value !== 'number');
  const total = known.reduce((s, r) => s + (r.read.value as number), 0);
  const because = known.flatMap((r) => r.read.because);
  if (total >= n) return decided('T', because);
  const bound = cond.within ? readFact(cond.within, ctx) : undefined;
  const room = open.reduce((s, r) => s + (ctx.factDefs.get(r.id)?.max ?? Infinity), 0);
  if (total + room < n) return decided('F', because);
  if (typeof bound?.value === 'number' && bound.value < n) return decided('F', [...because, ...bound.because]);
  const missing = new Set(open.flatMap((r) => [...r.read.missing]));
  const toFalse = bound && bound.value === undefined ? new Set([...missing, ...bound.missing]) : missing;
  return { truth: 'U', because: [], toTrue: missing, toFalse, missingParams: NONE };
}

type Derivation = { when: Condition; value: string | number };
const derivationsOf = new WeakMap<FactDef, Derivation[]>();

/** What other answers say about a fact: a closed gate or an implication (worked out once per definition). */
export function derivations(def: FactDef | undefined): Derivation[] {
  if (!def) return [];
  let list = derivationsOf.get(def);
  if (!list) {
    const gate = def.relevantIf && def.whenIrrelevant !== undefined ? [{ when: { not: def.relevantIf }, value: def.whenIrrelevant }] : [];
    derivationsOf.set(def, (list = [...gate, ...(def.impliedBy ?? [])]));
  }
  return list;
}

/**
 * The value a condition sees for a fact. What other answers imply wins (a
 * closed gate gives `whenIrrelevant`); otherwise the answer itself, which also
 * wins over an undecided gate, since answering says the question applied.
 * `undecidedBy` lists the facts that could still settle a derivation: they are
 * asked first, and the fact is askable only once they are answered.
 */
export function readFact(id: string, ctx: EvalContext): FactRead {
  let read = ctx.readCache.get(id);
  if (!read) ctx.readCache.set(id, (read = readUncached(id, ctx)));
  return read;
}

function readUncached(id: string, ctx: EvalContext): FactRead {
  let undecidedBy = NONE;
  for (const d of derivations(ctx.factDefs.get(id))) {
    const o = evaluateCondition(d.when, ctx);
    if (o.truth === 'T') return { value: d.value, because: o.because, missing: NONE, undecidedBy };
    if (o.truth === 'U') {
      if (undecidedBy === NONE) undecidedBy = new Set();
      for (const m of o.toTrue) undecidedBy.add(m);
      for (const m of o.toFalse) undecidedBy.add(m);
    }
  }
  const given = ctx.facts[id];
  if (given !== undefined && given !== 'unknown') return { value: given, because: [{ fact: id, value: given }], missing: NONE, undecidedBy };
  // A question the topics screen closed is never asked, so the answers that would open its gate settle nothing
  // (children_under_3 is worth asking only for the children topic's question about a child under 3).
  if (topicClosed(id, ctx)) return { because: [], missing: new Set([id]), undecidedBy: NONE };
  return { because: [], missing: new Set([...undecidedBy, id]), undecidedBy };
}

function factTest(cond: FactCondition, ctx: EvalContext): Outcome {
  const read = readFact(cond.fact, ctx);
  if (read.value === undefined) return undecided(read.missing);
  return decided(testValue(cond, read.value) ? 'T' : 'F', read.because);
}

export function testValue(cond: FactCondition, v: FactValue): boolean {
  if (cond.is !== undefined) return String(v) === String(cond.is);
  if (cond.in !== undefined) return cond.in.map(String).includes(String(v));
  if (typeof v !== 'number') return false;
  if (cond.eq !== undefined) return v === cond.eq;
  if (cond.gt !== undefined) return v > cond.gt;
  if (cond.gte !== undefined) return v >= cond.gte;
  if (cond.lt !== undefined) return v < cond.lt;
  if (cond.lte !== undefined) return v <= cond.lte;
  return false;
}

/**
 * monthly_income_kzt / household_members < the region's line in force on the date.
 * Asks only for what can still decide it: an income already under the line
 * needs no household size; with no line in force anywhere, no fact can help.
 */
function perCapitaIncomeBelow(paramId: string, ctx: EvalContext): Outcome {
  // Money is a topic the family did not tick: their income is not low (SPEC §4, topics close rules only when present).
  if (topicClosed('monthly_income_kzt', ctx)) return decided('F', []);
  const region = readFact('region', ctx);
  if (region.value === undefined) {
    if (!anyRegionInForce(ctx.catalogue.params, paramId, ctx.date)) return undecided(NONE, new Set([paramId]));
    return undecided(new Set(['region', ...undecidedIncomeFacts(ctx)]));
  }
  const line = valueInForce(ctx.catalogue.params, paramId, String(region.value), ctx.date);
  if (!line) return undecided(NONE, new Set([paramId]));
  const lineReason: Reason = { param: paramId, value: line.value, region: String(region.value), verified: line.verified };
  const income = readFact('monthly_income_kzt', ctx);
  if (income.value === undefined) return undecided(new Set(['monthly_income_kzt']));
  const total = Number(income.value);
  if (total < line.value) return decided('T', [...income.because, lineReason]);
  const members = readFact('household_members', ctx);
  if (members.value === undefined) return undecided(members.missing);
  const below = total / Number(members.value) < line.value;
  return decided(below ? 'T' : 'F', [...income.because, ...members.because, lineReason]);
}

function undecidedIncomeFacts(ctx: EvalContext): string[] {
  return ['monthly_income_kzt', 'household_members'].filter((id) => readFact(id, ctx).value === undefined);
}
