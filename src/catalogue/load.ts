/**
 * Loads and validates the catalogue (flows/catalogue/*.yaml). Any problem — an
 * unknown fact or ground, a bad value, a malformed date, a missing translation —
 * is a load error that names the file and the entry.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { mergeParams } from '../engine/params.js';
import { LANGS, type Catalogue, type Condition, type FactDef, type Params } from '../engine/types.js';
import { loadResources, lookup, refKey, sourceKey, type Resources } from '../i18n/resources.js';
import { DANGER_KINDS } from '../safety/cues.js';
import * as schema from './schema.js';

export const CATALOGUE_DIR = new URL('../../flows/catalogue/', import.meta.url).pathname;

export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

/** Reads a YAML (or JSON) file; an unreadable or malformed file is an error naming it. */
export function readYaml(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CatalogueError(`${path}: cannot read the file`);
  }
  try {
    return parse(text);
  } catch (e) {
    throw new CatalogueError(`${path}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
}

function check<T>(s: z.ZodType<T>, value: unknown, where: string): T {
  const r = s.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new CatalogueError(`${where}${issue.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue.message}`);
}

function readList<T extends { id: string }>(path: string, s: z.ZodType<T>): T[] {
  const raw = readYaml(path);
  if (!Array.isArray(raw)) throw new CatalogueError(`${path}: expected a list of entries`);
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    const id = (entry as { id?: unknown })?.id;
    const item = check(s, entry, `${path}: entry ${typeof id === 'string' ? id : `#${i + 1}`}`);
    if (seen.has(item.id)) throw new CatalogueError(`${path}: entry ${item.id} is listed twice`);
    seen.add(item.id);
    return item;
  });
}

export function loadParamsFile(path: string): Params {
  return check(schema.params, readYaml(path) ?? {}, path);
}

export interface LoadOptions {
  dir?: string;
  resources?: Resources;
  /** Extra parameters (a --params file) laid over the catalogue's own. */
  params?: Params;
}

export function loadCatalogue(opts: LoadOptions = {}): Catalogue {
  const dir = opts.dir ?? CATALOGUE_DIR;
  const file = (name: string) => join(dir, name);
  const catalogue: Catalogue = {
    rulesVersion: check(schema.meta, readYaml(file('meta.yaml')), file('meta.yaml')).rulesVersion,
    facts: readList(file('facts.yaml'), schema.factDef) as FactDef[],
    grounds: readList(file('grounds.yaml'), schema.rule),
    benefits: readList(file('benefits.yaml'), schema.rule),
    services: readList(file('services.yaml'), schema.service),
    documents: readList(file('documents.yaml'), schema.document),
    topics: readList(file('topics.yaml'), schema.topic),
    safety: check(schema.safety, readYaml(file('safety.yaml')), file('safety.yaml')),
    contacts: readList(file('contacts.yaml'), schema.contact),
    params: mergeParams(loadParamsFile(file('parameters.yaml')), opts.params),
  };
  crossCheck(catalogue, file);
  checkTranslations(catalogue, opts.resources ?? loadResources());
  return catalogue;
}

/** References between entries: facts, values, grounds, benefits (no forward references). */
function crossCheck(c: Catalogue, file: (name: string) => string): void {
  const facts = new Map(c.facts.map((f) => [f.id, f]));
  const grounds = new Set(c.grounds.map((g) => g.id));
  const checkCond = (cond: Condition, where: string, benefitsBefore: Set<string>, allowRules: boolean): void => {
    const fail = (msg: string) => {
      throw new CatalogueError(`${where}: ${msg}`);
    };
    if ('all' in cond) return cond.all.forEach((x) => checkCond(x, where, benefitsBefore, allowRules));
    if ('any' in cond) return cond.any.forEach((x) => checkCond(x, where, benefitsBefore, allowRules));
    if ('not' in cond) return checkCond(cond.not, where, benefitsBefore, allowRules);
    if ('ground' in cond || 'anyGround' in cond || 'benefit' in cond) {
      if (!allowRules) fail('only benefit rules may refer to grounds or benefits');
      if ('ground' in cond && !grounds.has(cond.ground)) fail(`unknown ground ${cond.ground}`);
      if ('benefit' in cond && !benefitsBefore.has(cond.benefit)) fail(`benefit ${cond.benefit} is unknown or listed later`);
      return;
    }
    if ('perCapitaIncomeBelow' in cond) {
      if (!(cond.perCapitaIncomeBelow in c.params)) fail(`unknown parameter ${cond.perCapitaIncomeBelow}`);
      return;
    }
    if ('sum' in cond) {
      for (const id of [...cond.sum, ...(cond.within ? [cond.within] : [])]) {
        if (!facts.has(id)) fail(`unknown fact ${id}`);
        if (facts.get(id)!.type !== 'int') fail(`fact ${id} is not a number, so it cannot be summed`);
      }
      return;
    }
    const def = facts.get(cond.fact);
    if (!def) return fail(`unknown fact ${cond.fact}`);
    const values = cond.is !== undefined ? [cond.is] : (cond.in ?? []);
    const domain = def.type === 'yesno' ? ['yes', 'no'] : def.type === 'enum' ? (def.values ?? []) : undefined;
    for (const v of values) {
      if (domain ? !domain.includes(String(v)) : typeof v !== 'number') fail(`${JSON.stringify(v)} is not a value of fact ${cond.fact}`);
    }
    if (domain && cond.is === undefined && cond.in === undefined) fail(`fact ${cond.fact} is not a number`);
  };

  const topics = new Set(c.topics.map((t) => t.id));
  for (const f of c.facts) {
    const unknownTopic = f.topics?.find((t) => !topics.has(t));
    if (unknownTopic) throw new CatalogueError(`${file('facts.yaml')}: entry ${f.id}: unknown topic ${unknownTopic} (topics.yaml)`);
    if (f.type === 'enum' && !f.values?.length) throw new CatalogueError(`${file('facts.yaml')}: entry ${f.id}: an enum needs values`);
    if (f.type === 'list' && !f.of) throw new CatalogueError(`${file('facts.yaml')}: entry ${f.id}: a list needs "of"`);
    if (f.ask === 'together' && f.type !== 'yesno') throw new CatalogueError(`${file('facts.yaml')}: entry ${f.id}: only yes/no questions can be asked together`);
    if (f.relevantIf) {
      checkCond(f.relevantIf, `${file('facts.yaml')}: entry ${f.id}`, new Set(), false);
      if (f.whenIrrelevant === undefined) throw new CatalogueError(`${file('facts.yaml')}: entry ${f.id}: relevantIf needs whenIrrelevant`);
    }
    for (const implied of f.impliedBy ?? []) checkCond(implied.when, `${file('facts.yaml')}: entry ${f.id}`, new Set(), false);
  }
  for (const g of c.grounds) checkCond(g.when, `${file('grounds.yaml')}: entry ${g.id}`, new Set(), false);
  const before = new Set<string>();
  for (const b of c.benefits) {
    checkCond(b.when, `${file('benefits.yaml')}: entry ${b.id}`, before, true);
    before.add(b.id);
  }
  for (const s of c.services) {
    for (const g of s.forGrounds) if (!grounds.has(g)) throw new CatalogueError(`${file('services.yaml')}: entry ${s.id}: unknown ground ${g}`);
  }
  checkCond(c.safety.urgent, `${file('safety.yaml')}: urgent`, new Set(), false);
  checkCond(c.safety.emergency, `${file('safety.yaml')}: emergency`, new Set(), false);
  for (const [id, kind] of Object.entries(c.safety.disclosure)) {
    if (facts.get(id)?.type !== 'yesno') throw new CatalogueError(`${file('safety.yaml')}: disclosure: ${id} is not a yes/no fact`);
    if (!(DANGER_KINDS as readonly string[]).includes(kind)) throw new CatalogueError(`${file('safety.yaml')}: disclosure: ${id}: ${kind} is not a kind of danger (${DANGER_KINDS.join(', ')})`);
  }
  const contacts = new Set(c.contacts.map((k) => k.id));
  const documents = new Set(c.documents.map((d) => d.id));
  for (const r of [...c.grounds, ...c.benefits]) {
    const unknown = r.contacts?.find((id) => !contacts.has(id));
    if (unknown) throw new CatalogueError(`entry ${r.id}: unknown contact ${unknown} (contacts.yaml)`);
    const unlisted = r.documents.find((id) => !documents.has(id));
    if (unlisted) throw new CatalogueError(`${file(c.grounds.includes(r) ? 'grounds.yaml' : 'benefits.yaml')}: entry ${r.id}: unknown document ${unlisted} (documents.yaml)`);
  }
}


/** Every key the catalogue needs, in every language. */
export function catalogueKeys(c: Catalogue): string[] {
  const rules = [...c.grounds, ...c.benefits];
  return [
    ...c.grounds.flatMap((g) => [`grounds:${g.id}.name`, `grounds:${g.id}.short`, `grounds:${g.id}.explain`]),
    // `short`: the plain-words button of the multi-choice questions (facts `needs`, `already_receiving`), at most 30 characters.
    ...c.benefits.flatMap((b) => [`benefits:${b.id}.name`, `benefits:${b.id}.short`, `benefits:${b.id}.explain`]),
    ...c.services.flatMap((s) => [`services:${s.id}.name`, `services:${s.id}.short`, `services:${s.id}.explain`]),
    ...c.topics.flatMap((x) => [`topics:${x.id}.name`, `topics:${x.id}.button`]),
    ...c.facts.flatMap((f) => [
      `facts:${f.id}.question`,
      `facts:${f.id}.label`,
      ...(f.sensitive ? [`facts:${f.id}.why`] : []),
      // Asked together: a line on the "which of these apply?" screen and its button.
      ...(f.ask === 'together' ? [`facts:${f.id}.item`, `facts:${f.id}.button`] : []),
      ...(f.type === 'enum' ? (f.values ?? []).map((v) => `facts:${f.id}.values.${v}`) : []),
    ]),
    ...[...new Set([...rules.flatMap((r) => r.documents), ...c.documents.map((d) => d.id)])].map((d) => `documents:${d}`),
    ...[...new Set(c.services.flatMap((s) => s.forms ?? []))].map((f) => `forms:${f}`),
    ...[...new Set(rules.flatMap((r) => r.apply))].map((p) => `places:${p}`),
    ...c.contacts.flatMap((k) => [`contacts:${k.id}.name`, `contacts:${k.id}.purpose`]),
    ...[...new Set(rules.map((r) => sourceKey(r.source.doc)))],
    // A reference with words in it ("funeral benefit") is shown to families: it needs its text in each language.
    ...[...new Set(rules.map((r) => refKey(r.source.ref)).filter((k): k is string => k !== undefined))],
  ];
}

function checkTranslations(c: Catalogue, resources: Resources): void {
  const missing = LANGS.flatMap((lang) => catalogueKeys(c).filter((k) => !lookup(resources, lang, k)).map((k) => `${lang}/${k}`));
  if (missing.length) {
    throw new CatalogueError(`locales: ${missing.length} catalogue texts are missing, e.g. ${missing.slice(0, 5).join(', ')}`);
  }
  // Button labels: Telegram cuts longer ones off on a phone.
  const buttons = [...c.services.map((s) => `services:${s.id}.short`), ...c.benefits.map((b) => `benefits:${b.id}.short`), ...c.facts.filter((f) => f.ask === 'together').map((f) => `facts:${f.id}.button`)];
  const long = LANGS.flatMap((lang) => buttons.filter((k) => [...lookup(resources, lang, k)!].length > MAX_BUTTON).map((k) => `${lang}/${k}`));
  if (long.length) throw new CatalogueError(`locales: ${long.length} button labels are longer than ${MAX_BUTTON} characters, e.g. ${long.slice(0, 5).join(', ')}`);
}

/** The longest `short` label of a service or benefit (a button of the multi-choice questions). */
export const MAX_BUTTON = 30;
