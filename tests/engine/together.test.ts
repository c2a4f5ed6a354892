/**
 * Fewer taps without losing an answer: questions asked together, a question
 * closed by the topics screen that no longer opens its gate's questions, and a
 * rule no answer can make indicated that asks nothing.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, nextQuestions } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import { nextScreen, screensOf } from '../../src/engine/together.js';
import { astanaLine, catalogue, withParams } from '../helpers/catalogue.js';

const DATE = '2026-11-21';
const household = { in_danger_now: 'no', household_members: 5, children: 3 };
const next = (facts: Record<string, unknown>, cat = catalogue) => nextQuestions(readFacts(facts, cat), cat, DATE);
const benefit = (facts: Record<string, unknown>, id: string, cat = catalogue) => evaluate(readFacts(facts, cat), cat, DATE).benefits.find((b) => b.id === id)!;

describe('questions asked together', () => {
  it('the pending ones share one screen where the first of them comes; the others keep one screen each', () => {
    const together = (id: string) => catalogue.facts.find((f) => f.id === id)?.ask === 'together';
    expect(screensOf(['domestic_violence', 'expecting_or_child_under_1_5', 'honorary_or_veteran_status', 'member_hazardous_work_lists'], catalogue)).toEqual([
      ['domestic_violence'],
      ['expecting_or_child_under_1_5', 'member_hazardous_work_lists'],
      ['honorary_or_veteran_status'],
    ]);
    expect(together('honorary_or_veteran_status')).toBe(false);
    expect(screensOf([], catalogue)).toEqual([]);
  });

  it('asks only the pending ones: the disability group, asked first, settles "a child with a disability"', () => {
    const facts = readFacts({ ...household, topics: ['health', 'money'], member_disability_group: '2', domestic_violence: 'no' }, catalogue);
    expect(nextScreen(facts, catalogue, DATE)).toEqual(['member_socially_significant_disease', 'expecting_or_child_under_1_5', 'member_pension_age_no_pension', 'member_hazardous_work_lists']);
    const noGroup = readFacts({ ...household, topics: ['health'], member_disability_group: 'none' }, catalogue);
    expect(nextScreen(noGroup, catalogue, DATE)).toEqual(['child_with_disability', 'member_persistent_impairment', 'member_socially_significant_disease']);
  });

  it('one pending question marked together is asked on its own', () => {
    const facts = readFacts({ ...household, topics: ['care'], member_disability_group: '1', member_pension_age_no_pension: 'no' }, catalogue);
    expect(nextScreen(facts, catalogue, DATE)).toEqual(['member_cannot_self_care']);
  });
});

describe('a question the topics screen closed', () => {
  it('does not bring the questions of its gate: no "children under 3" without the children topic', () => {
    expect(next({ ...household, topics: ['health', 'money'] })).not.toContain('children_under_3');
    expect(next({ ...household, topics: ['children'] })).toContain('children_under_3');
    // Without a topics answer (a case file, a dialog from before) nothing is closed.
    expect(next(household)).toContain('children_under_3');
  });

  it('its rule is not indicated, not waiting for the gate', () => {
    const r = evaluate(readFacts({ ...household, topics: ['money'] }, catalogue), catalogue, DATE);
    expect(r.grounds.find((g) => g.id === 'early_development_limits')).toMatchObject({ status: 'not_indicated' });
  });
});

describe('a rule no answer can make indicated', () => {
  const money = { ...household, topics: ['money'] };

  it('without a poverty line: needs_info for the missing line, and nothing is asked for it', () => {
    expect(benefit(money, 'asp_unconditional')).toMatchObject({ status: 'needs_info', missing: [], missingParams: ['poverty_line_kzt'] });
    expect(benefit(money, 'asp_conditional')).toMatchObject({ status: 'needs_info', missing: [], missingParams: ['poverty_line_kzt'] });
    for (const id of ['able_bodied_members', 'sole_able_bodied_is_carer', 'lives_alone', 'monthly_income_kzt', 'region']) expect(next(money)).not.toContain(id);
  });

  it('with a poverty line in force its questions are asked', () => {
    const cat = withParams(astanaLine);
    expect(next(money, cat)).toEqual(expect.arrayContaining(['region', 'able_bodied_members', 'monthly_income_kzt']));
    expect(next({ ...money, region: 'astana', monthly_income_kzt: 0, able_bodied_members: 1 }, cat)).toContain('sole_able_bodied_is_carer');
    // In a region with no line there, again nothing can make it indicated.
    expect(benefit({ ...money, region: 'almaty' }, 'asp_unconditional', cat)).toMatchObject({ status: 'needs_info', missing: [] });
  });
});
