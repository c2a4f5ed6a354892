import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { caseFiles, runCaseFile, type Case } from '../../src/cases/cases.js';
import { caseParams, params as paramsSchema } from '../../src/catalogue/schema.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import { catalogue } from '../helpers/catalogue.js';

const CASES_DIR = new URL('../../flows/cases/', import.meta.url).pathname;

describe('flows/cases', () => {
  const outcomes = caseFiles(CASES_DIR).flatMap((file) => runCaseFile(file, catalogue));
  it('has at least 40 cases', () => expect(outcomes.length).toBeGreaterThanOrEqual(40));
  it.each(outcomes.map((o) => [`${o.file.slice(CASES_DIR.length)} › ${o.name}`, o.problems] as const))('%s', (_name, problems) => {
    expect(problems).toEqual([]);
  });
});

describe('case runner', () => {
  const write = (text: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'qamqor-cases-')), 'cases.yaml');
    writeFileSync(file, text);
    return file;
  };

  it('reports a malformed case by file and case name, and still runs the others', () => {
    const file = write(`
- name: good
  date: 2026-11-21
  facts: { children: 0 }
  expect: { grounds: { orphanhood: not_indicated } }
- name: no date
  facts: {}
  expect: {}
- name: wrong expectation
  date: 2026-11-21
  facts: { child_orphan: "yes" }
  expect: { grounds: { orphanhood: not_indicated }, urgent: true }
`);
    const [good, noDate, wrong] = runCaseFile(file, catalogue);
    expect(good).toMatchObject({ file, name: 'good', problems: [] });
    expect(noDate!.problems[0]).toMatch(/malformed case at date/);
    expect(wrong!.problems).toEqual([
      'grounds.orphanhood: expected not_indicated, got indicated (because child_orphan=yes)',
      'urgent: expected true, got false',
    ]);
  });

  it('reports invalid YAML and invalid facts without crashing', () => {
    expect(runCaseFile(write('- name: [unclosed'), catalogue)[0]!.problems[0]).toMatch(/not valid YAML/);
    const [bad] = runCaseFile(write('- { name: bad, date: 2026-11-21, facts: { children: -1 }, expect: {} }'), catalogue);
    expect(bad!.problems[0]).toMatch(/invalid facts: children: got -1/);
  });

  it('applies a case’s own params, and checks missing and services', () => {
    const file = write(`
- name: with a line
  date: 2026-11-21
  params: { poverty_line_kzt: { almaty: [{ from: 2026-01-01, value: 45000, reference: t, verified: false }] } }
  facts: { region: almaty, monthly_income_kzt: 0, able_bodied_members: 0 }
  expect: { benefits: { asp_unconditional: indicated }, services: { social_medical: false } }
- name: missing listed
  date: 2026-11-21
  facts: {}
  expect: { missing: [children], grounds: { orphanhood: { status: needs_info, missing: [children, child_orphan] } } }
`);
    expect(runCaseFile(file, catalogue).map((o) => o.problems)).toEqual([[], []]);
  });

  it('takes a reviewer’s short parameter entry (only from and value): reference "case file", verified false (SPEC §6)', () => {
    const file = write(`
- name: short entry
  date: 2026-11-21
  params: { poverty_line_kzt: { almaty: [{ from: 2026-01-01, value: 45000 }] } }
  facts: { region: almaty, monthly_income_kzt: 0, able_bodied_members: 0 }
  expect: { benefits: { asp_unconditional: indicated } }
- name: still refuses a bad entry
  date: 2026-11-21
  params: { poverty_line_kzt: { almaty: [{ from: 2026-02-30, value: -1 }] } }
  facts: {}
  expect: {}
`);
    const [short, bad] = runCaseFile(file, catalogue);
    expect(short!.problems).toEqual([]);
    expect(bad!.problems[0]).toMatch(/malformed case at params\.poverty_line_kzt\.almaty\.0\.from/);
    expect(caseParams.parse({ poverty_line_kzt: { almaty: [{ from: '2026-01-01', value: 45000 }] } })).toEqual({
      poverty_line_kzt: { almaty: [{ from: '2026-01-01', value: 45000, reference: 'case file', verified: false }] },
    });
    // A parameters file for a running bot keeps reference (and verified) required.
    expect(paramsSchema.safeParse({ poverty_line_kzt: { almaty: [{ from: '2026-01-01', value: 45000 }] } }).success).toBe(false);
  });

  it('the reason a short entry gives is an unverified line', () => {
    const file = write(`
- name: short entry
  date: 2026-11-21
  params: { poverty_line_kzt: { almaty: [{ from: 2026-01-01, value: 45000 }] } }
  facts: { region: almaty, monthly_income_kzt: 0, able_bodied_members: 0 }
  expect: { benefits: { asp_unconditional: indicated } }
`);
    const [c] = (parse(readFileSync(file, 'utf8')) as Case[]).map((x) => ({ ...x, params: caseParams.parse(x.params) }));
    const cat = { ...catalogue, params: { ...catalogue.params, ...c!.params } };
    const r = evaluate(readFacts(c!.facts, cat), cat, '2026-11-21');
    expect(r.benefits.find((b) => b.id === 'asp_unconditional')!.because).toContainEqual({ param: 'poverty_line_kzt', value: 45000, region: 'almaty', verified: false });
  });
});
