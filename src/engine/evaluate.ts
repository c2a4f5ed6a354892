/**
 * The screening engine: facts + catalogue + date → result (SPEC §5). Pure: no
 * I/O, no clock. The dialog, the CLI and the tests all call this one function.
 */
import { evaluateCondition, readFact, type EvalContext, type Outcome } from './conditions.js';
import { readsAnyOf, ruleReads, takeLineage } from './lineage.js';
import { topicClosed } from './topics.js';
import type { Catalogue, Condition, FactDef, Facts, Reason, Result, Rule, RuleResult, ServiceResult, Status } from './types.js';

const STATUS = { T: 'indicated', F: 'not_indicated', U: 'needs_info' } as const satisfies Record<string, Status>;

export function evaluate(facts: Facts, catalogue: Catalogue, date: string): Result {
  return evaluateIn(context(facts, catalogue, date));
}

/**
 * Every rule's result for the answers. With `before` (the rules worked out for the answers
 * these were made from, and the facts changed since), a rule that reads none of the changed
 * facts keeps its result and outcome from there (lineage.ts).
 */
function evaluateIn(ctx: EvalContext, before?: { rules: RuleEvaluations; changed: ReadonlySet<string> }): Result {
  const { facts, catalogue, date } = ctx;
  const reads = before && ruleReads(catalogue);
  const kept = (id: string, kind: 'grounds' | 'benefits'): RuleResult | undefined => {
    if (!before || readsAnyOf(reads!.get(id), before.changed)) return undefined;
    const result = before.rules[kind].get(id);
    const outcome = before.rules.outcomes.get(id);
    if (!result || !outcome) return undefined;
    ctx.outcomes.set(id, outcome);
    return result;
  };
  for (const rule of catalogue.grounds) ctx.grounds.set(rule.id, kept(rule.id, 'grounds') ?? evaluateRule(rule, ctx));
  const receiving = new Set(Array.isArray(facts.already_receiving) ? facts.already_receiving : []);
  for (const rule of catalogue.benefits) {
    const known = kept(rule.id, 'benefits');
    if (known) {
      ctx.benefits.set(rule.id, known);
      continue;
    }
    const r = evaluateRule(rule, ctx);
    ctx.benefits.set(rule.id, receiving.has(rule.id) ? { ...r, alreadyReceiving: true } : r);
  }
  const grounds = [...ctx.grounds.values()];
  const benefits = [...ctx.benefits.values()];
  return {
    rulesVersion: catalogue.rulesVersion,
    date,
    urgent: evaluateCondition(catalogue.safety.urgent, ctx).truth === 'T',
    emergency: evaluateCondition(catalogue.safety.emergency, ctx).truth === 'T',
    grounds,
    benefits,
    services: suggestServices(grounds, facts, catalogue),
    missing: inFactOrder(catalogue, [...grounds, ...benefits].flatMap((r) => r.missing ?? [])),
  };
}

/**
 * Whether the answers make it an emergency (SPEC §7). The dialog asks this of every
 * answer, twice (before and after): the flag's own condition is enough unless it
 * refers to grounds or benefits, which only a whole evaluation knows.
 */
export function isEmergency(facts: Facts, catalogue: Catalogue, date: string): boolean {
  const flag = catalogue.safety.emergency;
  if (refersToRules(flag)) return evaluate(facts, catalogue, date).emergency;
  return evaluateCondition(flag, context(facts, catalogue, date)).truth === 'T';
}

function refersToRules(cond: Condition): boolean {
  if ('all' in cond) return cond.all.some(refersToRules);
  if ('any' in cond) return cond.any.some(refersToRules);
  if ('not' in cond) return refersToRules(cond.not);
  return 'ground' in cond || 'benefit' in cond || 'anyGround' in cond;
}

/** Fact definitions by id, built once per catalogue. */
const defsOf = new WeakMap<Catalogue, Map<string, FactDef>>();

function context(facts: Facts, catalogue: Catalogue, date: string): EvalContext {
  let factDefs = defsOf.get(catalogue);
  if (!factDefs) defsOf.set(catalogue, (factDefs = new Map(catalogue.facts.map((f) => [f.id, f]))));
  return { facts, catalogue, date, factDefs, grounds: new Map(), benefits: new Map(), outcomes: new Map(), readCache: new Map() };
}

/** A rule's source as results show it (without the seed's line references), made once per rule. */
const sourceOf = new WeakMap<Rule, RuleResult['source']>();

function resultSource(rule: Rule): RuleResult['source'] {
  let source = sourceOf.get(rule);
  if (!source) {
    const { seed: _seed, ...rest } = rule.source;
    sourceOf.set(rule, (source = rest));
  }
  return source;
}

function evaluateRule(rule: Rule, ctx: EvalContext): RuleResult {
  const source = resultSource(rule);
  if ((rule.validFrom && ctx.date < rule.validFrom) || (rule.validTo && ctx.date > rule.validTo)) {
    ctx.outcomes.set(rule.id, notIndicated());
    return { id: rule.id, status: 'not_indicated', because: [], source, notInForce: true };
  }
  const o = evaluateCondition(rule.when, ctx);
  if (o.truth === 'U' && o.toTrue.size && everyClosed(o.toTrue, ctx)) {
    // Only questions of topics the family did not tick could make it true: a topic not ticked is an answer.
    ctx.outcomes.set(rule.id, notIndicated());
    return { id: rule.id, status: 'not_indicated', because: dedupe(o.because), source };
  }
  ctx.outcomes.set(rule.id, o);
  const result: RuleResult = { id: rule.id, status: STATUS[o.truth], because: dedupe(o.because), source };
  if (o.truth === 'U') {
    // A parameter with no value in force (no poverty line for the date and region) keeps the rule from ever being
    // indicated: no answer can settle it, so none is asked for it; the answers could only say which way it cannot apply.
    const settleable = o.toTrue.size > 0 || o.missingParams.size === 0;
    result.missing = settleable ? inFactOrder(ctx.catalogue, [...o.toTrue, ...o.toFalse].filter((f) => !topicClosed(f, ctx))) : [];
    if (o.missingParams.size) result.missingParams = [...o.missingParams];
  }
  return result;
}

function suggestServices(grounds: RuleResult[], facts: Facts, catalogue: Catalogue): ServiceResult[] {
  const indicated = new Set(grounds.filter((g) => g.status === 'indicated').map((g) => g.id));
  const asked = new Set(Array.isArray(facts.needs) ? facts.needs : []);
  return catalogue.services.flatMap((s) => {
    const because = s.forGrounds.filter((g) => indicated.has(g));
    if (asked.has(s.id)) because.push('needs');
    return because.length ? [{ id: s.id, because }] : [];
  });
}

const notIndicated = (): Outcome => ({ truth: 'F', because: [], toTrue: new Set(), toFalse: new Set(), missingParams: new Set() });

function everyClosed(facts: Set<string>, ctx: EvalContext): boolean {
  for (const f of facts) if (!topicClosed(f, ctx)) return false;
  return true;
}

/** The same criterion can support a rule twice (directly and through a ground); say it once. */
function dedupe(reasons: Reason[]): Reason[] {
  if (reasons.length < 2) return [...reasons];
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = reasonKey(r);
    return !seen.has(key) && (seen.add(key), true);
  });
}

/** Equal for equal reasons; a fact's value is a number, a string or a list of strings. */
function reasonKey(r: Reason): string {
  if (!('fact' in r)) return JSON.stringify(r);
  const v = r.value;
  return `${r.fact}\u0000${Array.isArray(v) ? `[${v.join('\u0001')}` : `${typeof v}:${v}`}`;
}

/** Where each fact stands in the catalogue's asking order, once per catalogue. */
const orderOf = new WeakMap<Catalogue, Map<string, number>>();

/** Dedupes fact ids and sorts them in the catalogue's asking order. */
function inFactOrder(catalogue: Catalogue, ids: string[]): string[] {
  let order = orderOf.get(catalogue);
  if (!order) orderOf.set(catalogue, (order = new Map(catalogue.facts.map((f, i) => [f.id, i]))));
  const known = order;
  return [...new Set(ids)].filter((id) => known.has(id)).sort((a, b) => known.get(a)! - known.get(b)!);
}

/**
 * The questions still worth asking, in asking order: facts that could change
 * some ground, benefit, or the urgent/emergency flags, that have not been
 * answered (an `unknown` answer counts as answered) and whose gate is open or
 * undecided only by answered facts. `needs` is offered once, at the end, then
 * `already_receiving` when some benefit is still in play.
 */
export function nextQuestions(facts: Facts, catalogue: Catalogue, date: string): string[] {
  // The dialog picks the next screen and then counts what is left from the same answers: work it out once.
  const memo = askedOf.get(facts);
  if (memo && sameRules(memo, catalogue, date)) return [...memo.ids];
  const ids = questionsWorthAsking(facts, catalogue, date);
  askedOf.set(facts, { catalogue, params: catalogue.params, date, ids });
  return [...ids];
}

/** nextQuestions by answers object: the dialog never changes an answers object, it makes a new one. */
const askedOf = new WeakMap<Facts, RulesOf & { ids: string[] }>();

/** What rules were worked out under: the catalogue, its parameters (swapped in place by LiveParams) and the date. */
interface RulesOf {
  catalogue: Catalogue;
  params: Catalogue['params'];
  date: string;
}

const sameRules = (memo: RulesOf, catalogue: Catalogue, date: string): boolean => memo.catalogue === catalogue && memo.params === catalogue.params && memo.date === date;

/** The rules as the questions worked them out for an answers object (only ever read, never changed). */
interface RuleEvaluations extends RulesOf {
  grounds: Map<string, RuleResult>;
  benefits: Map<string, RuleResult>;
  outcomes: Map<string, Outcome>;
}

const rulesFor = new WeakMap<Facts, RuleEvaluations>();

/** The rules of the answers these were made from, when they were worked out with the same catalogue and date. */
function rulesBefore(facts: Facts, catalogue: Catalogue, date: string): { rules: RuleEvaluations; changed: ReadonlySet<string> } | undefined {
  const lineage = takeLineage(facts);
  const rules = lineage && rulesFor.get(lineage.parent);
  return rules && sameRules(rules, catalogue, date) ? { rules, changed: lineage.changed } : undefined;
}

function questionsWorthAsking(facts: Facts, catalogue: Catalogue, date: string): string[] {
  const ctx = context(facts, catalogue, date);
  const result = evaluateIn(ctx, rulesBefore(facts, catalogue, date));
  rulesFor.set(facts, { catalogue, params: catalogue.params, date, grounds: ctx.grounds, benefits: ctx.benefits, outcomes: ctx.outcomes });
  const wanted = new Set(result.missing);
  for (const flag of [catalogue.safety.urgent, catalogue.safety.emergency]) {
    for (const id of evaluateCondition(flag, ctx).toTrue) if (!topicClosed(id, ctx)) wanted.add(id);
  }
  // What is happening comes first, once: it decides which questions follow.
  if (facts.topics === undefined && ctx.factDefs.get('topics')?.of === 'topic') wanted.add('topics');
  // "What help do you need?": the ticked topics already say it, unless the family is not sure.
  const needsSaid = facts.needs !== undefined || (Array.isArray(facts.topics) && !facts.topics.includes('not_sure'));
  if (!wanted.size && !needsSaid) wanted.add('needs');
  // Last, which of the benefits the answers point to the family already receives ("you already receive" in the result).
  const pointed = result.benefits.some((b) => b.status !== 'not_indicated');
  if (!wanted.size && needsSaid && facts.already_receiving === undefined && pointed) wanted.add('already_receiving');
  return catalogue.facts
    .filter((def) => wanted.has(def.id) && facts[def.id] === undefined && isAskable(def.id, ctx))
    .map((def) => def.id);
}

/** True when other answers already imply a fact (a closed gate or an implication), so its own answer is not used. */
export function isImplied(fact: string, facts: Facts, catalogue: Catalogue, date: string): boolean {
  const others = { ...facts };
  delete others[fact];
  return readFact(fact, context(others, catalogue, date)).value !== undefined;
}

/** A question is asked once nothing implies its answer and the facts that could imply it are answered. */
function isAskable(id: string, ctx: EvalContext): boolean {
  const read = readFact(id, ctx);
  return read.value === undefined && [...read.undecidedBy].every((m) => ctx.facts[m] !== undefined);
}
