/**
 * Which rules an answer can change. The dialog records answers one screen at a
 * time (`withAnswers`), and after each it asks the engine which questions are still
 * worth asking: a whole evaluation of every ground and benefit, a third of an
 * answer's cost. A rule reads only some facts — those its condition tests, those
 * that could imply them (gates, implications), the topics — so a rule that reads
 * none of the facts just answered comes out as it did for the answers before, and
 * `nextQuestions` takes its outcome from there (evaluate.ts).
 *
 * Only for the questions: `evaluate` (results, the summary) always works everything
 * out afresh. Answers objects made any other way (restored from Redis, edited, taken
 * back) have no lineage and are evaluated whole.
 */
import { derivations } from './conditions.js';
import type { Catalogue, Condition, FactDef, Facts } from './types.js';

/** The answers an answers object was made from, and the facts that differ. */
export interface Lineage {
  parent: Facts;
  changed: ReadonlySet<string>;
}

const lineages = new WeakMap<Facts, Lineage>();

/** `facts` with `answers` recorded, remembering what it was made from. */
export function withAnswers(facts: Facts, answers: Facts): Facts {
  const next = { ...facts, ...answers };
  lineages.set(next, { parent: facts, changed: new Set(Object.keys(answers)) });
  return next;
}

/** What `facts` was made from, once: taken, the answers before are no longer held by these. */
export function takeLineage(facts: Facts): Lineage | undefined {
  const lineage = lineages.get(facts);
  lineages.delete(facts);
  return lineage;
}

/** Stands for "any fact": a rule that reads every ground (`anyGround`) is always evaluated again. */
export const EVERY_FACT = '*';

const readsOf = new WeakMap<Catalogue, Map<string, ReadonlySet<string>>>();

/** The facts each rule (ground or benefit, by id) can read, worked out once per catalogue. */
export function ruleReads(catalogue: Catalogue): Map<string, ReadonlySet<string>> {
  let reads = readsOf.get(catalogue);
  if (reads) return reads;
  reads = new Map();
  const defs = new Map(catalogue.facts.map((f) => [f.id, f]));
  for (const rule of catalogue.grounds) reads.set(rule.id, conditionReads(rule.when, defs, reads));
  for (const rule of catalogue.benefits) {
    // Whether the family already receives a benefit is part of its result.
    reads.set(rule.id, new Set([...conditionReads(rule.when, defs, reads), 'already_receiving']));
  }
  readsOf.set(catalogue, reads);
  return reads;
}

/** A rule changes with an answer when it reads one of the changed facts (or every fact). */
export function readsAnyOf(reads: ReadonlySet<string> | undefined, changed: ReadonlySet<string>): boolean {
  if (!reads || reads.has(EVERY_FACT)) return true;
  for (const id of changed) if (reads.has(id)) return true;
  return false;
}

/**
 * What a condition can read: the facts it names, for each of them the facts of its
 * derivations (gates and implications, followed to the end), `topics` (a topic not
 * ticked closes questions), and what the rules it refers to read.
 */
function conditionReads(cond: Condition, defs: Map<string, FactDef>, rules: Map<string, ReadonlySet<string>>): ReadonlySet<string> {
  const out = new Set<string>(['topics']);
  const facts: string[] = [];
  const visit = (c: Condition): void => {
    if ('all' in c) c.all.forEach(visit);
    else if ('any' in c) c.any.forEach(visit);
    else if ('not' in c) visit(c.not);
    else if ('ground' in c || 'benefit' in c) {
      const id = 'ground' in c ? c.ground : c.benefit;
      for (const f of rules.get(id) ?? [EVERY_FACT]) out.add(f);
    } else if ('anyGround' in c) out.add(EVERY_FACT);
    else if ('perCapitaIncomeBelow' in c) facts.push('monthly_income_kzt', 'household_members', 'region');
    else if ('sum' in c) facts.push(...c.sum, ...(c.within ? [c.within] : []));
    else facts.push(c.fact);
  };
  visit(cond);
  // Each fact named, and every fact its derivations name, to the end (a visited fact is not followed again).
  while (facts.length) {
    const id = facts.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    for (const d of derivations(defs.get(id))) visit(d.when);
  }
  return out;
}
