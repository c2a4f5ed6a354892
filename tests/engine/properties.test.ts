import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, isEmergency, nextQuestions } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import type { Catalogue, Facts, FactValue, RuleResult } from '../../src/engine/types.js';
import { astanaLine, catalogue, withParams } from '../helpers/catalogue.js';
import { calmValue, candidateValues, factsArb } from '../helpers/facts-arb.js';

const DATE = '2026-11-21';
const catalogues: [string, Catalogue][] = [
  ['no poverty line', catalogue],
  ['a poverty line in Astana', withParams(astanaLine)],
];
const yesNoFacts = catalogue.facts.filter((f) => f.type === 'yesno').map((f) => f.id);
/**
 * Completions of the other missing facts to try, lazily: a calm household, each
 * single change of it (rare combinations like "every ground but one ruled out"
 * are found here, not by chance), then every combination when there are few,
 * otherwise a seeded random sample.
 */
function* completionsOf(domains: FactValue[][], calm: FactValue[], seed: number): Generator<FactValue[]> {
  yield calm;
  for (const [i, d] of domains.entries()) for (const v of d) yield calm.map((c, j) => (j === i ? v : c));
  const size = domains.reduce((n, d) => n * d.length, 1);
  if (size > 5000) {
    yield* fc.sample(fc.tuple(...domains.map((d) => fc.constantFrom(...d))), { numRuns: 1000, seed });
    return;
  }
  function* all(i: number, prefix: FactValue[]): Generator<FactValue[]> {
    if (i === domains.length) yield prefix;
    else for (const v of domains[i]!) yield* all(i + 1, [...prefix, v]);
  }
  yield* all(0, []);
}

const someOf = <T>(items: Iterable<T>, test: (x: T) => boolean): boolean => {
  for (const x of items) if (test(x)) return true;
  return false;
};
const entry = (facts: Facts, cat: Catalogue, id: string): RuleResult => {
  const r = evaluate(facts, cat, DATE);
  return [...r.grounds, ...r.benefits].find((x) => x.id === id)!;
};

describe.each(catalogues)('engine properties (%s)', (_name, cat) => {
  it('never throws on valid facts, and every result lists every rule with a status', () => {
    fc.assert(
      fc.property(factsArb(cat), fc.date({ min: new Date('2000-01-01'), max: new Date('2040-12-31'), noInvalidDate: true }), (facts, date) => {
        const r = evaluate(readFacts(facts, cat), cat, date.toISOString().slice(0, 10));
        expect(r.grounds).toHaveLength(cat.grounds.length);
        expect(r.benefits).toHaveLength(cat.benefits.length);
        for (const x of [...r.grounds, ...r.benefits]) expect(['indicated', 'needs_info', 'not_indicated']).toContain(x.status);
      }),
      { numRuns: 300 },
    );
  });

  it("the dialog's shortcuts agree with the whole evaluation: isEmergency, and nextQuestions asked twice of the same answers", () => {
    fc.assert(
      fc.property(factsArb(cat), (raw) => {
        const facts = readFacts(raw, cat);
        expect(isEmergency(facts, cat, DATE)).toBe(evaluate(facts, cat, DATE).emergency);
        const first = nextQuestions(facts, cat, DATE);
        first.push('changed by the caller'); // each caller gets its own list
        expect(nextQuestions(facts, cat, DATE)).toEqual(nextQuestions({ ...facts }, cat, DATE));
        expect(nextQuestions(facts, cat, '2000-01-01')).toEqual(nextQuestions({ ...facts }, cat, '2000-01-01'));
      }),
      { numRuns: 300 },
    );
    const danger = readFacts({ in_danger_now: 'yes' }, cat);
    expect(isEmergency(danger, cat, DATE)).toBe(true);
  });

  it('changing a yes/no fact to "yes" never takes an indicated ground away', () => {
    fc.assert(
      fc.property(factsArb(cat), fc.constantFrom(...yesNoFacts), (facts, fact) => {
        const before = evaluate(facts, cat, DATE).grounds;
        const after = evaluate({ ...facts, [fact]: 'yes' }, cat, DATE).grounds;
        before.forEach((g, i) => {
          if (g.status === 'indicated') expect(after[i]!.status, `${g.id} after ${fact}=yes`).toBe('indicated');
        });
      }),
      { numRuns: 300 },
    );
  });

  it('every fact named in missing can decide that rule: two of its values give different statuses in some completion', () => {
    const defs = new Map(cat.facts.map((f) => [f.id, f]));
    fc.assert(
      fc.property(factsArb(cat, 0.4), fc.integer(), (facts, seed) => {
        const r = evaluate(facts, cat, DATE);
        for (const rule of [...r.grounds, ...r.benefits].filter((x) => x.status === 'needs_info')) {
          for (const fact of rule.missing ?? []) {
            const others = (rule.missing ?? []).filter((m) => m !== fact);
            const domains = others.map((m) => [...candidateValues(defs.get(m)!, cat), ...(defs.get(m)!.type === 'list' ? [] : ['unknown'])]);
            const completions = completionsOf(domains, others.map((m) => calmValue(defs.get(m)!)), seed);
            const decides = someOf(completions, (values) => {
              const base: Facts = { ...facts, ...Object.fromEntries(others.map((m, i) => [m, values[i]!])) };
              const statuses = new Set(candidateValues(defs.get(fact)!, cat).map((v) => entry({ ...base, [fact]: v }, cat, rule.id).status));
              return statuses.size > 1;
            });
            expect(decides, `${rule.id}: ${fact} listed as missing but never changes the status (facts ${JSON.stringify(facts)})`).toBe(true);
          }
        }
      }),
      { numRuns: 20 },
    );
  }, 120_000);
});
