/**
 * Case files (SPEC §6): YAML lists of situations with a partial expectation.
 * Only what a case lists is checked. A malformed file or case is an error that
 * names the file and the case; it is counted as a failure, never a crash.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadParamsFile } from '../catalogue/load.js';
import { caseParams, isoDate } from '../catalogue/schema.js';
import { evaluate } from '../engine/evaluate.js';
import { FactsError, readFacts } from '../engine/facts.js';
import { mergeParams } from '../engine/params.js';
import type { Catalogue, Params, Result, RuleResult } from '../engine/types.js';

const status = z.enum(['indicated', 'needs_info', 'not_indicated']);
const ruleExpect = z.union([
  status,
  z.strictObject({ status: status.optional(), missing: z.array(z.string()).optional(), alreadyReceiving: z.boolean().optional() }),
]);
const expectSchema = z.strictObject({
  grounds: z.record(z.string(), ruleExpect).optional(),
  benefits: z.record(z.string(), ruleExpect).optional(),
  urgent: z.boolean().optional(),
  emergency: z.boolean().optional(),
  /** A list: each service must be suggested. A map: true = suggested, false = not. */
  services: z.union([z.array(z.string()), z.record(z.string(), z.boolean())]).optional(),
  /** Facts that must be listed in the top-level `missing`. */
  missing: z.array(z.string()).optional(),
  /** The facts are invalid: the error must name these facts. */
  error: z.union([z.string(), z.array(z.string())]).optional(),
});
const caseSchema = z.strictObject({
  name: z.string().min(1),
  date: z.union([isoDate, z.date().transform((d) => d.toISOString().slice(0, 10))]),
  facts: z.record(z.string(), z.unknown()).nullable().transform((f) => f ?? {}),
  params: caseParams.optional(),
  expect: expectSchema,
  note: z.string().optional(),
});
export type Case = z.infer<typeof caseSchema>;

export interface CaseOutcome {
  file: string;
  name: string;
  problems: string[];
}

/** Lists .yaml/.yml files under a path (a file or a directory, recursively), sorted. */
export function caseFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => {
      const full = join(path, entry);
      return statSync(full).isDirectory() ? caseFiles(full) : /\.ya?ml$/.test(entry) ? [full] : [];
    });
}

/** Runs every case of one file. A file that cannot be read yields one failing outcome. */
export function runCaseFile(file: string, catalogue: Catalogue, extraParams?: Params): CaseOutcome[] {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return [{ file, name: '(file)', problems: [`not valid YAML: ${(e as Error).message.split('\n')[0]}`] }];
  }
  if (!Array.isArray(raw)) return [{ file, name: '(file)', problems: ['expected a list of cases'] }];
  return raw.map((entry, i) => {
    const label = typeof entry?.name === 'string' ? entry.name : `case #${i + 1}`;
    const parsed = caseSchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { file, name: label, problems: [`malformed case${issue.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue.message}`] };
    }
    return { file, name: label, problems: runCase(parsed.data, catalogue, extraParams) };
  });
}

export function runCase(c: Case, catalogue: Catalogue, extraParams?: Params): string[] {
  const cat = c.params || extraParams ? { ...catalogue, params: mergeParams(catalogue.params, extraParams, c.params) } : catalogue;
  let result: Result;
  try {
    result = evaluate(readFacts(c.facts, cat), cat, c.date);
  } catch (e) {
    if (!(e instanceof FactsError)) throw e;
    if (c.expect.error === undefined) return [`invalid facts: ${e.message}`];
    const wanted = [c.expect.error].flat();
    const named = new Set(e.problems.map((p) => p.fact));
    return wanted.filter((f) => !named.has(f)).map((f) => `expected an error naming ${f}, got: ${e.message}`);
  }
  if (c.expect.error !== undefined) return [`expected an error naming ${[c.expect.error].flat().join(', ')}, but the facts were accepted`];
  return compare(c.expect, result);
}

function compare(expect: Case['expect'], result: Result): string[] {
  const problems: string[] = [];
  const rules = (kind: 'grounds' | 'benefits') => {
    const byId = new Map(result[kind].map((r) => [r.id, r]));
    for (const [id, want] of Object.entries(expect[kind] ?? {})) {
      const got = byId.get(id);
      if (!got) {
        problems.push(`${kind}.${id}: no such ${kind === 'grounds' ? 'ground' : 'benefit'} in the catalogue`);
        continue;
      }
      problems.push(...compareRule(`${kind}.${id}`, typeof want === 'string' ? { status: want } : want, got));
    }
  };
  rules('grounds');
  rules('benefits');
  for (const flag of ['urgent', 'emergency'] as const) {
    if (expect[flag] !== undefined && expect[flag] !== result[flag]) problems.push(`${flag}: expected ${expect[flag]}, got ${result[flag]}`);
  }
  const suggested = new Set(result.services.map((s) => s.id));
  const services = Array.isArray(expect.services) ? Object.fromEntries(expect.services.map((s) => [s, true])) : (expect.services ?? {});
  for (const [id, want] of Object.entries(services)) {
    if (suggested.has(id) !== want) problems.push(`services.${id}: expected ${want ? 'suggested' : 'not suggested'}, got ${suggested.has(id) ? 'suggested' : 'not suggested'}`);
  }
  for (const fact of expect.missing ?? []) {
    if (!result.missing.includes(fact)) problems.push(`missing: expected ${fact} among [${result.missing.join(', ')}]`);
  }
  return problems;
}

function compareRule(where: string, want: { status?: string; missing?: string[]; alreadyReceiving?: boolean }, got: RuleResult): string[] {
  const problems: string[] = [];
  if (want.status && want.status !== got.status) problems.push(`${where}: expected ${want.status}, got ${got.status}${explain(got)}`);
  if (want.missing) {
    const have = got.missing ?? [];
    if (want.missing.length !== have.length || want.missing.some((m) => !have.includes(m))) {
      problems.push(`${where}.missing: expected [${want.missing.join(', ')}], got [${have.join(', ')}]`);
    }
  }
  if (want.alreadyReceiving !== undefined && want.alreadyReceiving !== Boolean(got.alreadyReceiving)) {
    problems.push(`${where}.alreadyReceiving: expected ${want.alreadyReceiving}, got ${Boolean(got.alreadyReceiving)}`);
  }
  return problems;
}

function explain(r: RuleResult): string {
  if (r.status === 'needs_info') return ` (missing: ${[...(r.missing ?? []), ...(r.missingParams ?? []).map((p) => `parameter ${p}`)].join(', ') || 'nothing'})`;
  return r.because.length ? ` (because ${r.because.map((b) => ('fact' in b ? `${b.fact}=${b.value}` : `${b.param}=${b.value}`)).join(', ')})` : '';
}

export function loadParamsArg(path: string | undefined): Params | undefined {
  return path ? loadParamsFile(path) : undefined;
}
