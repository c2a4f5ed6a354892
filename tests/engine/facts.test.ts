import { describe, expect, it } from 'vitest';
import { FactsError, readFacts } from '../../src/engine/facts.js';
import { catalogue } from '../helpers/catalogue.js';

const problems = (facts: unknown) => {
  try {
    readFacts(facts, catalogue);
  } catch (e) {
    if (e instanceof FactsError) return e.problems;
    throw e;
  }
  return [];
};

describe('reading facts', () => {
  it('reads leniently where the meaning is certain', () => {
    expect(readFacts({ children: '2', household_members: 3, child_orphan: true, abduction: false, member_disability_group: 2 }, catalogue)).toEqual({
      children: 2,
      household_members: 3,
      child_orphan: 'yes',
      abduction: 'no',
      member_disability_group: '2',
    });
  });

  it.each([
    [{ children: -1 }, 'children', /whole number from 0/],
    [{ region: 'mars' }, 'region', /one of astana, almaty/],
    [{ household_members: 0 }, 'household_members', /from 1/],
    [{ children: 'two' }, 'children', /"two"/],
    [{ child_orphan: 'maybe' }, 'child_orphan', /yes, no or unknown/],
    [{ needs: ['massage'] }, 'needs', /social_household/],
    [{ childern: 2 }, 'childern', /did you mean children/],
    [{ household_members: 2, children: 3 }, 'children', /more than the 2 household members/],
    [{ children: 1, children_under_3: 2 }, 'children_under_3', /more than the 1 children/],
  ])('rejects %j naming the fact and what it expects', (facts, fact, message) => {
    const found = problems(facts);
    expect(found.map((p) => p.fact)).toContain(fact);
    expect(found.find((p) => p.fact === fact)!.message).toMatch(message);
  });

  it('lists every problem at once', () => {
    expect(problems({ children: -1, region: 'mars' }).map((p) => p.fact)).toEqual(['children', 'region']);
  });

  it('accepts unknown for every single-valued fact, and treats empty values as not asked', () => {
    expect(readFacts({ monthly_income_kzt: 'unknown', region: 'unknown', housing: null }, catalogue)).toEqual({ monthly_income_kzt: 'unknown', region: 'unknown' });
  });
});
