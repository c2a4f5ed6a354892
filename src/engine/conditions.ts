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

/** Every fact that could still decide an outcome. */
export const missingOf = (o: Outcome): Set<string> => new Set([...o.toTrue, ...o.toFalse]);

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

const decided = (truth: 'T' | 'F', because: Reason[]): Outcome => ({ truth, because, toTrue: new Set(), toFalse: new Set(), missingParams: new Set() });
const undecided = (missing: Iterable<string>, missingParams: Iterable<string> = []): Outcome => ({
  truth: 'U',
  because: [],
  toTrue: new Set(missing),
  toFalse: new Set(missing),
  missingParams: new Set(missingParams),
});

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
  const hits = parts.filter((p) => p.truth === decisive);
  if (hits.length) return decided(decisive, hits.flatMap((p) => p.because));
  const open = parts.filter((p) => p.truth === 'U');
  if (!open.length) return decided(op === 'all' ? 'T' : 'F', parts.flatMap((p) => p.because));
  // `all` becomes true only if every open part can; `any` becomes false only if every open part can.
  const union = (pick: (o: Outcome) => Set<string>) => new Set(open.flatMap((p) => [...pick(p)]));
  const everyCan = (pick: (o: Outcome) => Set<string>) => open.every((p) => pick(p).size > 0);
  const toTrue = op === 'any' || everyCan((o) => o.toTrue) ? union((o) => o.toTrue) : new Set<string>();
  const toFalse = op === 'all' || everyCan((o) => o.toFalse) ? union((o) => o.toFalse) : new Set<string>();
  return {
    truth: 'U',
    // Keep only the criteria already met (inside `all`), so a renderer's ✅ is always true.
    because: parts.filter((p) => p.truth === 'T').flatMap((p) => p.because),
    toTrue,
    toFalse,
    missingParams: union((o) => o.missingParams),
  };
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
  const o = undecided(open.flatMap((r) => [...r.read.missing]));
  if (bound && bound.value === undefined) for (const m of bound.missing) o.toFalse.add(m);
  return o;
}

/** What other answers say about a fact: a closed gate or an implication. */
function derivations(def: FactDef | undefined): { when: Condition; value: string | number }[] {
  if (!def) return [];
  const gate = def.relevantIf && def.whenIrrelevant !== undefined ? [{ when: { not: def.relevantIf }, value: def.whenIrrelevant }] : [];
  return [...gate, ...(def.impliedBy ?? [])];
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
  const undecidedBy = new Set<string>();
  for (const d of derivations(ctx.factDefs.get(id))) {
    const o = evaluateCondition(d.when, ctx);
    if (o.truth === 'T') return { value: d.value, because: o.because, missing: new Set(), undecidedBy };
    if (o.truth === 'U') for (const m of missingOf(o)) undecidedBy.add(m);
  }
  const given = ctx.facts[id];
  if (given !== undefined && given !== 'unknown') return { value: given, because: [{ fact: id, value: given }], missing: new Set(), undecidedBy };
  // A question the topics screen closed is never asked, so the answers that would open its gate settle nothing
  // (children_under_3 is worth asking only for the children topic's question about a child under 3).
  if (topicClosed(id, ctx)) return { because: [], missing: new Set([id]), undecidedBy: new Set() };
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
    if (!anyRegionInForce(ctx.catalogue.params, paramId, ctx.date)) return undecided([], [paramId]);
    return undecided(['region', ...undecidedIncomeFacts(ctx)]);
  }
  const line = valueInForce(ctx.catalogue.params, paramId, String(region.value), ctx.date);
  if (!line) return undecided([], [paramId]);
  const lineReason: Reason = { param: paramId, value: line.value, region: String(region.value), verified: line.verified };
  const income = readFact('monthly_income_kzt', ctx);
  if (income.value === undefined) return undecided(['monthly_income_kzt']);
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
