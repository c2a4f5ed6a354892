import { describe, expect, it } from 'vitest';
import { evaluate, nextQuestions } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import type { Facts, Result } from '../../src/engine/types.js';
import { astanaLine, catalogue, withParams } from '../helpers/catalogue.js';

const DATE = '2026-11-21';
const run = (facts: Record<string, unknown>, cat = catalogue): Result => evaluate(readFacts(facts, cat), cat, DATE);
const ground = (r: Result, id: string) => r.grounds.find((g) => g.id === id)!;
const benefit = (r: Result, id: string) => r.benefits.find((b) => b.id === id)!;

describe('evaluate', () => {
  it('lists every ground and benefit of the catalogue, with its source', () => {
    const r = run({});
    expect(r.grounds.map((g) => g.id)).toEqual(catalogue.grounds.map((g) => g.id));
    expect(r.benefits.map((b) => b.id)).toEqual(catalogue.benefits.map((b) => b.id));
    expect(ground(r, 'disability').source).toEqual({ doc: 'Law 114-IV', ref: 'Art. 6 p.1 sub.6', status: 'repealed' });
    expect(r.rulesVersion).toBe(catalogue.rulesVersion);
  });

  it('explains an indicated ground by the facts behind it', () => {
    const r = run({ member_disability_group: 2 });
    expect(ground(r, 'disability')).toMatchObject({ status: 'indicated', because: [{ fact: 'member_disability_group', value: '2' }] });
  });

  it('closes every child question when there are no children, without asking', () => {
    const r = run({ children: 0 });
    for (const id of ['orphanhood', 'no_parental_care', 'child_neglect', 'special_education_placement', 'early_development_limits']) {
      expect(ground(r, id).status, id).toBe('not_indicated');
    }
    expect(nextQuestions(readFacts({ children: 0 }, catalogue), catalogue, DATE)).not.toContain('child_orphan');
  });

  it('asks about children before child questions, and names both as missing', () => {
    const r = run({});
    expect(ground(r, 'orphanhood').missing).toEqual(['children', 'child_orphan']);
    const next = nextQuestions({}, catalogue, DATE);
    expect(next).toContain('children');
    expect(next).not.toContain('child_orphan');
  });

  it('an answer wins over an undecided gate', () => {
    expect(ground(run({ child_orphan: 'yes' }), 'orphanhood').status).toBe('indicated');
    expect(ground(run({ children: 'unknown', child_orphan: 'yes' }), 'orphanhood').status).toBe('indicated');
  });

  it('treats unknown as asked: needs_info, and never asks again', () => {
    const facts = readFacts({ children: 2, child_orphan: 'unknown' }, catalogue);
    expect(ground(evaluate(facts, catalogue, DATE), 'orphanhood')).toMatchObject({ status: 'needs_info', missing: ['child_orphan'] });
    expect(nextQuestions(facts, catalogue, DATE)).not.toContain('child_orphan');
  });

  it('ASP needs the poverty line: without one it says needs_info and asks nothing about income', () => {
    const r = run({ region: 'astana', household_members: 2, monthly_income_kzt: 0, able_bodied_members: 0 });
    expect(benefit(r, 'asp_unconditional')).toMatchObject({ status: 'needs_info', missing: [], missingParams: ['poverty_line_kzt'] });
  });

  it('ASP with a poverty line: per-capita income below the line, no able-bodied member → unconditional', () => {
    const cat = withParams(astanaLine);
    const r = run({ region: 'astana', household_members: 3, monthly_income_kzt: 120000, able_bodied_members: 0 }, cat);
    expect(benefit(r, 'asp_unconditional').status).toBe('indicated');
    expect(benefit(r, 'asp_unconditional').because).toContainEqual({ param: 'poverty_line_kzt', value: 50000, region: 'astana', verified: false });
    expect(benefit(r, 'asp_conditional').status).toBe('not_indicated');
  });

  it('ASP conditional when someone can work and is not a carer', () => {
    const cat = withParams(astanaLine);
    const r = run({ region: 'astana', household_members: 4, monthly_income_kzt: 100000, able_bodied_members: 2 }, cat);
    expect(benefit(r, 'asp_unconditional').status).toBe('not_indicated');
    expect(benefit(r, 'asp_conditional').status).toBe('indicated');
  });

  it('income above the line per person → ASP not indicated; an income under the line needs no household size', () => {
    const cat = withParams(astanaLine);
    expect(benefit(run({ region: 'astana', household_members: 2, monthly_income_kzt: 200000, able_bodied_members: 0 }, cat), 'asp_unconditional').status).toBe('not_indicated');
    expect(benefit(run({ region: 'astana', monthly_income_kzt: 10000, able_bodied_members: 0 }, cat), 'asp_unconditional').status).toBe('indicated');
  });

  it('uses the parameter in force on the date', () => {
    const cat = withParams(astanaLine);
    const facts = readFacts({ region: 'astana', household_members: 1, monthly_income_kzt: 10000, able_bodied_members: 0 }, cat);
    expect(benefit(evaluate(facts, cat, '2025-12-31'), 'asp_unconditional').status).toBe('needs_info');
    expect(benefit(evaluate(facts, cat, '2026-01-01'), 'asp_unconditional').status).toBe('indicated');
  });

  it('marks benefits already received and keeps their status', () => {
    const r = run({ breadwinner_died: 'yes', already_receiving: ['survivor_benefit'] });
    expect(benefit(r, 'survivor_benefit')).toMatchObject({ status: 'indicated', alreadyReceiving: true });
  });

  it('urgent and emergency flags', () => {
    expect(run({ in_danger_now: 'yes' })).toMatchObject({ urgent: true, emergency: true });
    expect(run({ domestic_violence: 'yes' })).toMatchObject({ urgent: true, emergency: false });
    expect(run({ housing: 'none', children: 2 })).toMatchObject({ urgent: true });
    expect(run({ housing: 'none', children: 0 })).toMatchObject({ urgent: false });
    expect(run({})).toMatchObject({ urgent: false, emergency: false });
  });

  it('suggests services for indicated grounds and for needs asked directly', () => {
    const r = run({ member_on_probation: 'yes', needs: ['social_cultural'] });
    expect(r.services).toContainEqual({ id: 'social_labour', because: ['probation'] });
    expect(r.services).toContainEqual({ id: 'social_cultural', because: ['needs'] });
    expect(r.services.map((s) => s.id)).not.toContain('social_medical');
  });

  it('cruel treatment never depends on a police report or criminal case', () => {
    const r = run({ domestic_violence: 'yes' });
    expect(ground(r, 'cruel_treatment').status).toBe('indicated');
    expect(ground(r, 'cruel_treatment').because).toEqual([{ fact: 'domestic_violence', value: 'yes' }]);
  });

  it('a full interview ends with no more questions', () => {
    let facts: Facts = {};
    for (let step = 0; step < 60; step++) {
      const [next] = nextQuestions(facts, catalogue, DATE);
      if (!next) break;
      const def = catalogue.facts.find((f) => f.id === next)!;
      facts = { ...facts, [next]: def.type === 'list' ? [] : def.type === 'int' ? 1 : def.type === 'enum' ? def.values![0]! : 'no' };
    }
    expect(nextQuestions(facts, catalogue, DATE)).toEqual([]);
    expect(evaluate(facts, catalogue, DATE).grounds.every((g) => g.status === 'not_indicated')).toBe(true);
  });
});
