/** fast-check generators of situations that are valid under SPEC §4. */
import fc from 'fast-check';
import { listIds } from '../../src/engine/facts.js';
import type { Catalogue, FactDef, Facts, FactValue } from '../../src/engine/types.js';

const INCOMES = [0, 30000, 99000, 400000];

/** Values worth trying for a fact: small, boundary-hitting, without `unknown`. */
export function candidateValues(def: FactDef, catalogue: Catalogue): FactValue[] {
  switch (def.type) {
    case 'yesno':
      return ['yes', 'no'];
    case 'enum':
      // Three regions stand for all: one that has a poverty line in the tests, two that do not.
      return def.id === 'region' ? ['astana', 'almaty', 'shymkent'] : (def.values ?? []);
    case 'list':
      return [[], [listIds(def, catalogue)[0]!]];
    case 'int':
      return def.id === 'monthly_income_kzt' ? INCOMES : [0, 1, 2, 4].filter((n) => n >= (def.min ?? 0) && n <= (def.max ?? Infinity));
  }
}

function valueArb(def: FactDef, catalogue: Catalogue): fc.Arbitrary<FactValue> {
  const base = fc.constantFrom(...candidateValues(def, catalogue));
  return def.type === 'list' ? base : fc.oneof({ weight: 9, arbitrary: base }, { weight: 1, arbitrary: fc.constant<FactValue>('unknown') });
}

/** Situations where each fact is present with probability `density`, consistent in their counts. */
export function factsArb(catalogue: Catalogue, density = 0.6): fc.Arbitrary<Facts> {
  const entries = catalogue.facts.map((def) =>
    fc.option(valueArb(def, catalogue), { freq: Math.max(1, Math.round(density / (1 - density))), nil: undefined }).map((v) => [def.id, v] as const),
  );
  return fc.tuple(...entries).map((pairs) => {
    const facts: Facts = {};
    for (const [id, v] of pairs) if (v !== undefined) facts[id] = v;
    return consistent(facts);
  });
}

/**
 * Repairs counts that cannot be true together (children ≤ household, under-3 ≤ children,
 * able-bodied ≤ household, children and students ≤ household) and answers that contradict
 * what the household size implies (lives_alone), which readFacts refuses.
 */
function consistent(facts: Facts): Facts {
  const num = (id: string) => (typeof facts[id] === 'number' ? (facts[id] as number) : undefined);
  const household = num('household_members');
  if (household !== undefined) {
    if ((num('children') ?? 0) > household) facts.children = household;
    if ((num('able_bodied_members') ?? 0) > household) facts.able_bodied_members = household;
    const students = num('children_full_time_students_under_23');
    if (students !== undefined && students + (num('children') ?? 0) > household) facts.children_full_time_students_under_23 = household - (num('children') ?? 0);
    if (facts.lives_alone !== undefined && facts.lives_alone !== 'unknown') facts.lives_alone = household === 1 ? 'yes' : 'no';
  }
  const children = num('children');
  if (children !== undefined && (num('children_under_3') ?? 0) > children) facts.children_under_3 = children;
  return facts;
}

/** A household where nothing is wrong: every yes/no answered "no", own housing, no disability, a good income. */
export function calmValue(def: FactDef): FactValue {
  if (def.type === 'yesno') return 'no';
  if (def.type === 'list') return [];
  if (def.type === 'enum') return def.id === 'member_disability_group' ? 'none' : def.values![0]!;
  return def.id === 'monthly_income_kzt' ? 400000 : Math.max(1, def.min ?? 0);
}
