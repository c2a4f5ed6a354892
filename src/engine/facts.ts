/**
 * Reading a situation (SPEC §4): lenient where the meaning is certain ("2" = 2,
 * true = "yes"), strict everywhere else. Nothing is guessed: a value outside a
 * fact's domain is an error that names the fact and what it expects.
 */
import { evaluateCondition, type EvalContext } from './conditions.js';
import type { Catalogue, FactDef, Facts, FactValue, Reason } from './types.js';

export interface FactProblem {
  fact: string;
  message: string;
}

export class FactsError extends Error {
  constructor(readonly problems: FactProblem[]) {
    super(problems.map((p) => `${p.fact}: ${p.message}`).join('; '));
    this.name = 'FactsError';
  }
}

/** What a fact accepts, in words, for error messages. */
export function describeExpected(def: FactDef, catalogue: Catalogue): string {
  switch (def.type) {
    case 'yesno':
      return 'yes, no or unknown';
    case 'int':
      return `a whole number from ${def.min ?? 0}${def.max !== undefined ? ` to ${def.max}` : ''}, or unknown`;
    case 'enum':
      return `one of ${[...(def.values ?? []), 'unknown'].join(', ')}`;
    case 'list': {
      return `a list of ${def.of} ids (${listIds(def, catalogue).join(', ')})`;
    }
  }
}

/** Normalises one value, or returns undefined when it is outside the fact's domain. */
export function normaliseValue(def: FactDef, raw: unknown, catalogue: Catalogue): FactValue | undefined {
  if (raw === 'unknown' && def.type !== 'list') return 'unknown';
  switch (def.type) {
    case 'yesno':
      if (raw === true || raw === 'yes') return 'yes';
      if (raw === false || raw === 'no') return 'no';
      return undefined;
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < (def.min ?? 0) || (def.max !== undefined && n > def.max)) return undefined;
      return n;
    }
    case 'enum': {
      const s = typeof raw === 'number' ? String(raw) : raw;
      return typeof s === 'string' && def.values?.includes(s) ? s : undefined;
    }
    case 'list': {
      if (!Array.isArray(raw)) return undefined;
      const allowed = new Set(listIds(def, catalogue));
      return raw.every((v) => typeof v === 'string' && allowed.has(v)) ? [...new Set(raw as string[])] : undefined;
    }
  }
}

/** Validates and normalises a situation; throws FactsError listing every problem. */
export function readFacts(input: unknown, catalogue: Catalogue): Facts {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new FactsError([{ fact: '(facts)', message: 'expected a map of fact id → value' }]);
  }
  const defs = new Map(catalogue.facts.map((f) => [f.id, f]));
  const problems: FactProblem[] = [];
  const facts: Facts = {};
  for (const [id, raw] of Object.entries(input)) {
    if (raw === null || raw === undefined) continue; // an empty YAML value means "not asked"
    const def = defs.get(id);
    if (!def) {
      problems.push({ fact: id, message: `unknown fact${suggest(id, [...defs.keys()])}` });
      continue;
    }
    const value = normaliseValue(def, raw, catalogue);
    if (value === undefined) problems.push({ fact: id, message: `got ${JSON.stringify(raw)}, expected ${describeExpected(def, catalogue)}` });
    else facts[id] = value;
  }
  problems.push(...crossCheck(facts), ...impliedConflicts(facts, catalogue));
  if (problems.length) throw new FactsError(problems);
  return facts;
}

/**
 * Explicit answers that contradict what other answers imply (facts.yaml `impliedBy`):
 * `household_members: 2` with `lives_alone: "yes"`. The engine would use the implied
 * value, so the explicit one would be silently overwritten; instead it is an error that
 * names both facts. "unknown" contradicts nothing.
 */
export function impliedConflicts(facts: Facts, catalogue: Catalogue): FactProblem[] {
  const problems: FactProblem[] = [];
  const factDefs = new Map(catalogue.facts.map((f) => [f.id, f]));
  for (const def of catalogue.facts) {
    const given = facts[def.id];
    if (given === undefined || given === 'unknown' || !def.impliedBy?.length) continue;
    const others = { ...facts };
    delete others[def.id];
    const ctx: EvalContext = { facts: others, catalogue, factDefs, date: '', grounds: new Map(), benefits: new Map(), outcomes: new Map(), readCache: new Map() };
    for (const implied of def.impliedBy) {
      const o = evaluateCondition(implied.when, ctx);
      if (o.truth !== 'T' || String(implied.value) === String(given)) continue;
      const by = o.because.filter((r): r is Extract<Reason, { fact: string }> => 'fact' in r);
      const said = by.map((r) => `${r.fact}: ${JSON.stringify(r.value)}`).join(', ');
      problems.push({ fact: def.id, message: `got ${JSON.stringify(given)}, but ${said} implies ${JSON.stringify(implied.value)}` });
      // Each fact is named (a form can mark both fields); the explanation is said once, above.
      for (const r of by) problems.push({ fact: r.fact, message: `contradicts ${def.id}: ${JSON.stringify(given)}` });
      break;
    }
  }
  return problems;
}

/** Counts that cannot be true together (children among household members, and so on). */
export function crossCheck(facts: Facts): FactProblem[] {
  const n = (id: string) => (typeof facts[id] === 'number' ? (facts[id] as number) : undefined);
  const problems: FactProblem[] = [];
  const household = n('household_members');
  const children = n('children');
  const under3 = n('children_under_3');
  const able = n('able_bodied_members');
  if (household !== undefined && children !== undefined && children > household) {
    problems.push({ fact: 'children', message: `${children} children is more than the ${household} household members (children are counted among them)` });
  }
  if (children !== undefined && under3 !== undefined && under3 > children) {
    problems.push({ fact: 'children_under_3', message: `${under3} is more than the ${children} children in the household` });
  }
  if (household !== undefined && able !== undefined && able > household) {
    problems.push({ fact: 'able_bodied_members', message: `${able} is more than the ${household} household members` });
  }
  const students = n('children_full_time_students_under_23');
  if (household !== undefined && students !== undefined && students + (children ?? 0) > household) {
    problems.push({
      fact: 'children_full_time_students_under_23',
      message: `${students} students${children ? ` and ${children} children` : ''} are more than the ${household} household members (they live with the family, so they are counted among them)`,
    });
  }
  return problems;
}

function suggest(id: string, known: string[]): string {
  const close = known.find((k) => distance(k, id) <= 2);
  return close ? ` (did you mean ${close}?)` : '';
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The ids a list fact may hold: services, benefits or life-event topics. */
export function listIds(def: FactDef, catalogue: Catalogue): string[] {
  const of = def.of === 'service' ? catalogue.services : def.of === 'topic' ? catalogue.topics : catalogue.benefits;
  return of.map((x) => x.id);
}

/** The benefits the family said they already receive (the `already_receiving` list), for a case summary or a referral packet. */
export function receivedBenefits(facts: Facts): string[] {
  const list = facts.already_receiving;
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}
