/**
 * The questions worked out from the answers before (src/engine/lineage.ts) are the
 * questions a whole evaluation gives: over random walks of answers, each step recorded
 * with `withAnswers`, `nextQuestions` of the new answers equals `nextQuestions` of a copy
 * of them that has no lineage (evaluated whole). Both catalogues: with and without a
 * poverty line, since the income rules read the region's line; and the parameters swapped
 * in place mid-walk, as LiveParams does when an admin sets one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextQuestions } from '../../src/engine/evaluate.js';
import { EVERY_FACT, readsAnyOf, ruleReads, withAnswers } from '../../src/engine/lineage.js';
import type { Catalogue, Facts, FactValue } from '../../src/engine/types.js';
import { astanaLine, catalogue, withParams } from '../helpers/catalogue.js';
import { candidateValues } from '../helpers/facts-arb.js';

const DATE = '2026-11-21';
const catalogues: [string, Catalogue][] = [
  ['no poverty line', catalogue],
  ['a poverty line in Astana', withParams(astanaLine)],
];

/** A walk: at each step, answer one of the questions asked (or, now and then, any fact), with one of its values. */
function walkArb(cat: Catalogue) {
  const step = fc.record({ pick: fc.nat(), value: fc.nat(), any: fc.boolean(), unknown: fc.integer({ min: 0, max: 9 }) });
  return fc.array(step, { minLength: 1, maxLength: 40 });
}

function valueFor(cat: Catalogue, id: string, n: number, unknown: boolean): FactValue {
  const def = cat.facts.find((f) => f.id === id)!;
  if (unknown && def.type !== 'list') return 'unknown';
  const values = candidateValues(def, cat);
  return values[n % values.length]!;
}

describe.each(catalogues)('questions from the answers before (%s)', (_name, cat) => {
  it('are the questions of a whole evaluation, at every step of random walks', () => {
    fc.assert(
      fc.property(walkArb(cat), (walk) => {
        let facts: Facts = {};
        nextQuestions(facts, cat, DATE);
        for (const s of walk) {
          const asked = nextQuestions(facts, cat, DATE);
          const pool = s.any || asked.length === 0 ? cat.facts.map((f) => f.id) : asked;
          const id = pool[s.pick % pool.length]!;
          facts = withAnswers(facts, { [id]: valueFor(cat, id, s.value, s.unknown === 0) });
          expect(nextQuestions(facts, cat, DATE)).toEqual(nextQuestions({ ...facts }, cat, DATE));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('are worked out afresh when the parameters change between two answers', () => {
    const live = withParams(astanaLine); // its own object: its parameters are swapped here
    const withLine = live.params;
    fc.assert(
      fc.property(walkArb(live), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), (walk, swaps) => {
        live.params = withLine;
        let facts: Facts = {};
        for (const [i, s] of walk.entries()) {
          const asked = nextQuestions(facts, live, DATE);
          const pool = s.any || asked.length === 0 ? live.facts.map((f) => f.id) : asked;
          const id = pool[s.pick % pool.length]!;
          facts = withAnswers(facts, { [id]: valueFor(live, id, s.value, s.unknown === 0) });
          if (swaps[i]) live.params = live.params === withLine ? catalogue.params : withLine;
          expect(nextQuestions(facts, live, DATE)).toEqual(nextQuestions({ ...facts }, live, DATE));
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('what a rule reads', () => {
  const reads = ruleReads(catalogue);

  it('covers every fact its condition names, and topics', () => {
    for (const rule of [...catalogue.grounds, ...catalogue.benefits]) {
      const named = JSON.stringify(rule.when).match(/"fact":"([a-z_0-9]+)"/g)?.map((m) => m.slice(8, -1)) ?? [];
      const r = reads.get(rule.id)!;
      expect(r.has('topics')).toBe(true);
      for (const f of named) expect(r.has(f) || r.has(EVERY_FACT)).toBe(true);
    }
  });

  it('lets an answer keep the rules that do not read it, and only those', () => {
    const some = catalogue.grounds[0]!;
    const read = [...reads.get(some.id)!].find((f) => f !== 'topics' && f !== EVERY_FACT)!;
    expect(readsAnyOf(reads.get(some.id), new Set([read]))).toBe(true);
    expect(readsAnyOf(reads.get(some.id), new Set(['no_such_fact']))).toBe(reads.get(some.id)!.has(EVERY_FACT));
    expect(readsAnyOf(undefined, new Set(['no_such_fact']))).toBe(true);
  });
});
