/**
 * Rules that match their sources (issue 9; SPEC §3 "corrections", §4, §0.2): the sum of
 * minors and students, answers that contradict what others imply, the seeds' rules at any date.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, nextQuestions } from '../../src/engine/evaluate.js';
import { FactsError, readFacts } from '../../src/engine/facts.js';
import type { Result } from '../../src/engine/types.js';
import { catalogue } from '../helpers/catalogue.js';

const DATE = '2026-11-21';
const run = (facts: Record<string, unknown>, date = DATE): Result => evaluate(readFacts(facts, catalogue), catalogue, date);
const benefit = (r: Result, id: string) => r.benefits.find((b) => b.id === id)!;
const problemsOf = (facts: Record<string, unknown>) => {
  try {
    readFacts(facts, catalogue);
    return [];
  } catch (e) {
    if (!(e instanceof FactsError)) throw e;
    return e.problems;
  }
};
const noOther = { child_with_disability: 'no', member_disability_group: 'none', mother_heroine_awards: 'no', political_repression_victim: 'no', honorary_or_veteran_status: 'no' };

describe('special state benefit, item 11: minors and students in full-time study together', () => {
  it('3 minors and a student: indicated, because of both answers', () => {
    const r = benefit(run({ household_members: 6, children: 3, children_full_time_students_under_23: 1 }), 'special_state_benefit');
    expect(r.status).toBe('indicated');
    expect(r.because).toEqual(expect.arrayContaining([{ fact: 'children', value: 3 }, { fact: 'children_full_time_students_under_23', value: 1 }]));
  });

  it('asks for students only while they could still make four, and only when there are children', () => {
    expect(nextQuestions(readFacts({ household_members: 5, children: 3, ...noOther }, catalogue), catalogue, DATE)).toContain('children_full_time_students_under_23');
    // four minors already count; a household of 3 cannot hold four children; no minors: the question is closed
    for (const facts of [{ household_members: 6, children: 4 }, { household_members: 3, children: 2 }, { household_members: 4, children: 0 }]) {
      expect(nextQuestions(readFacts({ ...facts, ...noOther }, catalogue), catalogue, DATE)).not.toContain('children_full_time_students_under_23');
    }
  });

  it('is asked after the topics screen when children or money is ticked, not otherwise', () => {
    const ask = (topics: string[]) => nextQuestions(readFacts({ household_members: 5, children: 3, topics, ...noOther }, catalogue), catalogue, DATE);
    expect(ask(['children'])).toContain('children_full_time_students_under_23');
    expect(ask(['money'])).toContain('children_full_time_students_under_23');
    expect(ask(['health', 'violence'])).not.toContain('children_full_time_students_under_23');
  });

  it('students are household members: more than the household is an error naming the fact', () => {
    expect(problemsOf({ household_members: 4, children: 3, children_full_time_students_under_23: 2 }).map((p) => p.fact)).toEqual(['children_full_time_students_under_23']);
    expect(problemsOf({ household_members: 5, children: 3, children_full_time_students_under_23: 2 })).toEqual([]);
  });
});

describe('an explicit answer that contradicts an implied one', () => {
  it.each([
    [{ household_members: 2, lives_alone: 'yes' }, ['lives_alone', 'household_members']],
    [{ household_members: 1, lives_alone: 'no' }, ['lives_alone', 'household_members']],
    [{ member_pension_age: 'no', member_pension_age_no_pension: 'yes' }, ['member_pension_age', 'member_pension_age_no_pension']],
  ])('%j is an error naming both facts, never silently overwritten', (facts, named) => {
    const found = problemsOf(facts);
    expect(found.map((p) => p.fact).sort()).toEqual([...named].sort());
    expect(found[0]!.message).toContain(named[1]!);
  });

  it('agreeing answers and "unknown" are accepted', () => {
    expect(problemsOf({ household_members: 1, lives_alone: 'yes' })).toEqual([]);
    expect(problemsOf({ household_members: 3, lives_alone: 'unknown' })).toEqual([]);
    expect(problemsOf({ member_pension_age: 'yes', member_pension_age_no_pension: 'yes' })).toEqual([]);
  });
});

describe('the two state benefits seed 004 lists that the catalogue lacked', () => {
  it('state social benefit by age: one question says both, pension age is implied', () => {
    expect(benefit(run({ member_pension_age_no_pension: 'yes' }), 'age_state_social_benefit').status).toBe('indicated');
    expect(benefit(run({ member_pension_age_no_pension: 'no' }), 'age_state_social_benefit').status).toBe('not_indicated');
    expect(benefit(run({ member_pension_age: 'no' }), 'age_state_social_benefit').status).toBe('not_indicated');
    expect(benefit(run({}), 'age_state_social_benefit')).toMatchObject({ status: 'needs_info', missing: ['member_pension_age_no_pension', 'member_pension_age'] });
  });

  it('state special benefit, Lists No. 1 and No. 2', () => {
    expect(benefit(run({ member_hazardous_work_lists: 'yes' }), 'state_special_benefit_lists_1_2').status).toBe('indicated');
    expect(benefit(run({ member_hazardous_work_lists: 'no' }), 'state_special_benefit_lists_1_2').status).toBe('not_indicated');
    expect(benefit(run({ topics: ['violence'] }), 'state_special_benefit_lists_1_2').status).toBe('not_indicated');
  });
});

describe('the seeds’ rules are carried forward to any date (SPEC §0.2)', () => {
  it.each(['1995-01-01', '2005-06-01', '2023-07-01', '2040-12-31'])('on %s no rule is out of force', (date) => {
    const r = run({ child_orphan: 'yes', children: 1, domestic_violence: 'yes', member_disability_group: '1' }, date);
    expect([...r.grounds, ...r.benefits].filter((x) => x.notInForce).map((x) => x.id)).toEqual([]);
    expect(r.grounds.find((g) => g.id === 'orphanhood')!.status).toBe('indicated');
    expect(benefit(r, 'guaranteed_special_social_services').status).toBe('indicated');
  });

  it('a rule a content owner dates still goes out of force (validFrom / validTo stay data)', () => {
    const dated = { ...catalogue, grounds: catalogue.grounds.map((g) => (g.id === 'orphanhood' ? { ...g, validTo: '2023-06-30' } : g)) };
    const r = evaluate({ child_orphan: 'yes', children: 1 }, dated, DATE);
    expect(r.grounds.find((g) => g.id === 'orphanhood')).toMatchObject({ status: 'not_indicated', notInForce: true });
  });
});
