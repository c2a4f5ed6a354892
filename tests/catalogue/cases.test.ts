import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseFiles, runCaseFile } from '../../src/cases/cases.js';
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
});
