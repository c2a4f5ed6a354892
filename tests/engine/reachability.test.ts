import fc from 'fast-check';
import { expect, it } from 'vitest';
import { evaluate } from '../../src/engine/evaluate.js';
import type { Status } from '../../src/engine/types.js';
import { astanaLine, withParams } from '../helpers/catalogue.js';
import { calmValue, factsArb } from '../helpers/facts-arb.js';

it('every ground and every benefit of the catalogue can reach each of its three statuses', () => {
  const cat = withParams(astanaLine);
  const seen = new Map<string, Set<Status>>();
  // Random situations, dense and sparse, plus a calm household with one to three answers changed:
  // some statuses (nothing indicated anywhere) are rare by chance alone.
  const calm = Object.fromEntries(cat.facts.map((f) => [f.id, calmValue(f)]));
  const samples = [
    ...fc.sample(factsArb(cat, 0.85), { numRuns: 3000, seed: 7 }),
    ...fc.sample(factsArb(cat, 0.3), { numRuns: 1000, seed: 8 }),
    ...fc.sample(factsArb(cat, 0.05), { numRuns: 500, seed: 9 }).map((changes) => ({ ...calm, ...changes })),
  ];
  for (const facts of samples) {
    const r = evaluate(facts, cat, '2026-11-21');
    for (const x of [...r.grounds, ...r.benefits]) {
      if (!seen.has(x.id)) seen.set(x.id, new Set());
      seen.get(x.id)!.add(x.status);
    }
  }
  const unreached = [...cat.grounds, ...cat.benefits].flatMap((rule) =>
    (['indicated', 'needs_info', 'not_indicated'] as const).filter((s) => !seen.get(rule.id)?.has(s)).map((s) => `${rule.id}: ${s}`),
  );
  expect(unreached).toEqual([]);
});
