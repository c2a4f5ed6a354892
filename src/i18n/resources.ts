/** Reads locales/<lang>/<namespace>.json into i18next-shaped resources. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LANGS, type Lang } from '../engine/types.js';

export type Resources = Record<Lang, Record<string, Record<string, unknown>>>;

export const LOCALES_DIR = new URL('../../locales/', import.meta.url).pathname;

export function loadResources(dir = LOCALES_DIR): Resources {
  const out = {} as Resources;
  for (const lang of LANGS) {
    out[lang] = {};
    for (const file of readdirSync(join(dir, lang)).filter((f) => f.endsWith('.json'))) {
      const path = join(dir, lang, file);
      try {
        out[lang][file.replace(/\.json$/, '')] = JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
      }
    }
  }
  return out;
}

/** Looks up "ns:a.b.c" in one language's resources; undefined when absent or not a string. */
export function lookup(resources: Resources, lang: Lang, key: string): string | undefined {
  const [ns, path] = key.includes(':') ? (key.split(':', 2) as [string, string]) : ['bot', key];
  let node: unknown = resources[lang]?.[ns];
  for (const part of path.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  return typeof node === 'string' ? node : undefined;
}

/** The locale key of a source document's plain-words name: "Law 114-IV" → "sources:law_114_iv". */
export function sourceKey(doc: string): string {
  return `sources:${doc.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '_').replace(/^_|_$/g, '')}`;
}

/** "Art. 6", "p.1", "sub.9": the numbered parts of a legal reference, which the renderer words per language. */
const REF_PART = /(Art\.|\bp\.|\bsub\.) ?(\d+)/g;

/**
 * The locale key of a source reference that has words in it, which is translated whole:
 * "funeral benefit" → "sources:refs.funeral_benefit". Undefined for a reference made only of
 * numbered parts ("Art. 6 p.1 sub.9, p.2"): the renderer words those itself (results:ref.*).
 * src/render/result.ts (localRef) derives the same key.
 */
export function refKey(ref: string): string | undefined {
  if (!/\p{L}/u.test(ref.replace(REF_PART, ''))) return undefined;
  return sourceKey(ref).replace('sources:', 'sources:refs.');
}
