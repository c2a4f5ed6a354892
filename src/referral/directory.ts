/**
 * Loads and validates the referral directory (SPEC §9): organisations and the workers who
 * receive referrals, in YAML under flows/directory/. A problem is a load error naming the
 * file and the entry, and every problem is listed at once, so a content owner fixes the file
 * in one pass.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { z } from 'zod';
import { CATALOGUE_DIR, CatalogueError, readYaml } from '../catalogue/load.js';
import { directorySchemas, entryName, issueLines } from './directory-schema.js';
import type { Area, Directory, DirectoryWorker, Organization } from './types.js';

export const DIRECTORY_DIR = new URL('../../flows/directory/', import.meta.url).pathname;

export class DirectoryError extends Error {
  override name = 'DirectoryError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** The region ids of SPEC §4: the values of the catalogue's `region` fact, the one list of them. */
export function regionIds(catalogueDir = CATALOGUE_DIR): string[] {
  const file = join(catalogueDir, 'facts.yaml');
  const facts = readYaml(file);
  const region = Array.isArray(facts) ? facts.find((f) => (f as { id?: unknown })?.id === 'region') : undefined;
  const values = (region as { values?: unknown } | undefined)?.values;
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw new CatalogueError(`${file}: the region fact has no values`);
  return values;
}

/** The files of a directory path in name order, or the one file. */
function directoryFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(path, name));
}

/** A path as a person reads it: relative to where they are when it is below that. */
function shown(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export interface DirectoryOptions {
  /** Region ids to accept; the catalogue's by default. */
  regions?: readonly string[];
}

/**
 * Reads a directory file, or every *.yaml file of a folder merged in file-name order (the
 * order breaks routing ties). Workers without areas get their organisation's. The result is
 * marked an example when any file says `example: true`.
 */
export function loadDirectory(pathOrDir: string = DIRECTORY_DIR, opts: DirectoryOptions = {}): Directory {
  let files: string[];
  try {
    files = directoryFiles(pathOrDir);
  } catch {
    throw new DirectoryError([`${shown(pathOrDir)}: cannot read the file or folder`]);
  }
  if (!files.length) throw new DirectoryError([`${shown(pathOrDir)}: no .yaml files`]);
  const s = directorySchemas(opts.regions ?? regionIds());
  const problems: string[] = [];
  const organizations: Organization[] = [];
  const workers: z.infer<ReturnType<typeof directorySchemas>['worker']>[] = [];
  // Every entry's id and organisation as written, valid entry or not, so one pass reports a
  // duplicate or an unknown organisation beside an entry's other problems.
  const seen = { organizations: new Map<string, string>(), workers: new Map<string, string>() };
  const references: { organization: string; where: string }[] = [];
  let example = false;

  for (const path of files) {
    const file = shown(path);
    let raw: unknown;
    try {
      raw = readYaml(path);
    } catch (e) {
      problems.push((e as Error).message.replace(path, file));
      continue;
    }
    const top = s.file.safeParse(raw);
    if (!top.success) {
      problems.push(...issueLines(top.error, file));
      continue;
    }
    example ||= top.data.example === true;
    const entries = (name: 'organizations' | 'workers', list: unknown[], each: (entry: unknown, where: string) => void) =>
      list.forEach((entry, i) => {
        const where = `${file}: ${entryName(name, i, entry)}`;
        const id = (entry as { id?: unknown } | null)?.id;
        if (typeof id === 'string') {
          const first = seen[name].get(id);
          if (first) problems.push(`${where}: duplicate id ${id} (first at ${first})`);
          else seen[name].set(id, `${file}: ${name}[${i}]`);
        }
        each(entry, where);
      });
    entries('organizations', top.data.organizations ?? [], (entry, where) => {
      const r = s.organization.safeParse(entry);
      if (r.success) organizations.push(r.data);
      else problems.push(...issueLines(r.error, where));
    });
    entries('workers', top.data.workers ?? [], (entry, where) => {
      const organization = (entry as { organization?: unknown } | null)?.organization;
      if (typeof organization === 'string') references.push({ organization, where });
      const r = s.worker.safeParse(entry);
      if (r.success) workers.push(r.data);
      else problems.push(...issueLines(r.error, where));
    });
  }

  // Organisations may be in another file than their workers: checked once all are read.
  for (const { organization, where } of references) {
    if (!seen.organizations.has(organization)) problems.push(`${where}: unknown organisation ${JSON.stringify(organization)}`);
  }
  // First of a duplicate id wins, as it is the one the messages point to.
  const orgs = new Map<string, Organization>();
  for (const o of organizations) if (!orgs.has(o.id)) orgs.set(o.id, o);
  const resolved: DirectoryWorker[] = [];
  for (const worker of workers) {
    const org = orgs.get(worker.organization);
    if (!org) continue;
    const areas: Area[] = (worker.areas ?? org.areas).map((a) => ({ ...a }));
    resolved.push({ ...worker, profiles: [...new Set(worker.profiles)], languages: [...new Set(worker.languages)], areas });
  }
  if (problems.length) throw new DirectoryError(problems);
  return { organizations, workers: resolved, example };
}
