/**
 * Three-valued evaluation of rule conditions (Kleene logic). Every outcome
 * carries the criteria behind it (`because`) and, when undecided, the facts
 * that could still decide it (`missing`) — no more: a clause that is already
 * false inside an `all` drops the missing facts of its siblings.
 */
import { anyRegionInForce, valueInForce } from './params.js';
import type { Catalogue, Condition, FactDef, Facts, FactValue, Reason, RuleResult } from './types.js';

export type Truth = 'T' | 'F' | 'U';

export interface Outcome {
  truth: Truth;
  because: Reason[];
  missing: Set<string>;
  missingParams: Set<string>;
}

export interface EvalContext {
  facts: Facts;
  catalogue: Catalogue;
  factDefs: Map<string, FactDef>;
  date: string;
  /** Results of rules already evaluated, for `ground:` / `benefit:` / `anyGround` references. */
  grounds: Map<string, RuleResult>;
  benefits: Map<string, RuleResult>;
}

const outcome = (truth: Truth, because: Reason[] = [], missing = new Set<string>(), missingParams = new Set<string>()): Outcome => ({
  truth,
  because,
  missing,
  missingParams,
});

export function evaluateCondition(cond: Condition, ctx: EvalContext): Outcome {
  if ('all' in cond) return combine(cond.all.map((c) => evaluateCondition(c, ctx)), 'all');
  if ('any' in cond) return combine(cond.any.map((c) => evaluateCondition(c, ctx)), 'any');
  if ('not' in cond) {
    const inner = evaluateCondition(cond.not, ctx);
    return { ...inner, truth: inner.truth === 'T' ? 'F' : inner.truth === 'F' ? 'T' : 'U' };
  }
  if ('ground' in cond) return fromRule(ctx.grounds.get(cond.ground));
  if ('benefit' in cond) return fromRule(ctx.benefits.get(cond.benefit));
  if ('anyGround' in cond) return combine([...ctx.grounds.values()].map(fromRule), 'any');
  if ('perCapitaIncomeBelow' in cond) return perCapitaIncomeBelow(cond.perCapitaIncomeBelow, ctx);
  return factTest(cond, ctx);
}

function combine(parts: Outcome[], op: 'all' | 'any'): Outcome {
  const decisive: Truth = op === 'all' ? 'F' : 'T';
  const hits = parts.filter((p) => p.truth === decisive);
  if (hits.length) return outcome(decisive, hits.flatMap((p) => p.because));
  const undecided = parts.filter((p) => p.truth === 'U');
  if (!undecided.length) return outcome(op === 'all' ? 'T' : 'F', parts.flatMap((p) => p.because));
  // Undecided: keep only the criteria already met (inside `all`), so a renderer's ✅ is always true.
  return outcome(
    'U',
    parts.filter((p) => p.truth === 'T').flatMap((p) => p.because),
    new Set(undecided.flatMap((p) => [...p.missing])),
    new Set(undecided.flatMap((p) => [...p.missingParams])),
  );
}

function fromRule(r: RuleResult | undefined): Outcome {
  if (!r) throw new Error('rule referenced before it was evaluated'); // the loader rejects forward references
  const truth: Truth = r.status === 'indicated' ? 'T' : r.status === 'not_indicated' ? 'F' : 'U';
  return outcome(truth, truth === 'U' ? [] : r.because, new Set(r.missing ?? []), new Set(r.missingParams ?? []));
}

type FactCondition = Extract<Condition, { fact: string }>;

/**
 * The value a condition sees for a fact: a closed gate (relevantIf false) gives
 * the fact's `whenIrrelevant`; an answer wins over an undecided gate, since the
 * answer itself says the question applied.
 */
export function readFact(id: string, ctx: EvalContext): { value?: FactValue; because: Reason[]; missing: Set<string> } {
  const def = ctx.factDefs.get(id);
  const given = ctx.facts[id];
  let gate: Outcome | undefined;
  if (def?.relevantIf) {
    gate = evaluateCondition(def.relevantIf, ctx);
    if (gate.truth === 'F') return { value: def.whenIrrelevant, because: gate.because, missing: new Set() };
  }
  if (given !== undefined && given !== 'unknown') return { value: given, because: [{ fact: id, value: given }], missing: new Set() };
  return { because: [], missing: new Set([id, ...(gate?.truth === 'U' ? gate.missing : [])]) };
}

function factTest(cond: FactCondition, ctx: EvalContext): Outcome {
  const read = readFact(cond.fact, ctx);
  if (read.value === undefined) return outcome('U', [], read.missing);
  return outcome(testValue(cond, read.value) ? 'T' : 'F', read.because);
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
  const region = readFact('region', ctx);
  if (region.value === undefined) {
    if (!anyRegionInForce(ctx.catalogue.params, paramId, ctx.date)) return outcome('U', [], new Set(), new Set([paramId]));
    return outcome('U', [], new Set(['region', ...undecidedIncomeFacts(ctx)]));
  }
  const line = valueInForce(ctx.catalogue.params, paramId, String(region.value), ctx.date);
  if (!line) return outcome('U', [], new Set(), new Set([paramId]));
  const lineReason: Reason = { param: paramId, value: line.value, region: String(region.value), verified: line.verified };
  const income = readFact('monthly_income_kzt', ctx);
  if (income.value === undefined) return outcome('U', [], new Set(['monthly_income_kzt']));
  const total = Number(income.value);
  if (total < line.value) return outcome('T', [...income.because, lineReason]);
  const members = readFact('household_members', ctx);
  if (members.value === undefined) return outcome('U', [], members.missing);
  const below = total / Number(members.value) < line.value;
  return outcome(below ? 'T' : 'F', [...income.because, ...members.because, lineReason]);
}

function undecidedIncomeFacts(ctx: EvalContext): string[] {
  return ['monthly_income_kzt', 'household_members'].filter((id) => readFact(id, ctx).value === undefined);
}
