import { describe, expect, it } from 'vitest';
import { LANGS } from '../../src/engine/types.js';
import { loadResources } from '../../src/i18n/resources.js';

/** "consent.text_few" → "consent.text": i18next plural forms (Intl.PluralRules categories) of one text. */
const PLURAL = /_(zero|one|two|few|many|other)$/;
const base = (key: string) => key.replace(PLURAL, '');

function flatten(node: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  else out.set(prefix, node);
  return out;
}

describe('locales', () => {
  const resources = loadResources();
  const keys = Object.fromEntries(
    LANGS.map((lang) => [lang, new Map(Object.entries(resources[lang]).flatMap(([ns, tree]) => [...flatten(tree, '', new Map())].map(([k, v]) => [`${ns}:${k}`, v])))]),
  );
  it.each(LANGS)('%s has every key that any language has, each a non-empty string', (lang) => {
    // Plural forms count as their text: Russian has "text_one/_few/_many" where Kazakh has only "text".
    const all = new Set(LANGS.flatMap((l) => [...keys[l]!.keys()].map(base)));
    const missing = [...all].filter((k) => typeof keys[lang]!.get(k) !== 'string' || !(keys[lang]!.get(k) as string).trim());
    expect(missing).toEqual([]);
  });
  it.each(LANGS)('%s: a text with plural forms has every form the language needs', (lang) => {
    // The key without a suffix stays too: it is the "other" form, and what a caller that passes no count gets.
    const needed = new Intl.PluralRules(lang).resolvedOptions().pluralCategories.filter((c) => c !== 'other');
    const plural = new Set([...keys[lang]!.keys()].filter((k) => PLURAL.test(k)).map(base));
    const missing = [...plural].flatMap((k) => needed.filter((c) => typeof keys[lang]!.get(`${k}_${c}`) !== 'string').map((c) => `${k}_${c}`));
    expect(missing).toEqual([]);
  });
  it('Kazakh texts use Cyrillic ә, not Latin look-alikes inside words', () => {
    const bad = [...keys.kk!].filter(([, v]) => typeof v === 'string' && /[\u0400-\u04ff][əa-zA-Z]|[əa-zA-Z][\u0400-\u04ff]/.test(v));
    expect(bad.map(([k]) => k)).toEqual([]);
  });
  it('interpolation placeholders are the same in every language', () => {
    const vars = (s: unknown) => [...String(s).matchAll(/{{\s*(\w+)\s*}}/g)].map((m) => m[1]).sort().join(',');
    // Each plural form against the language-neutral text it is a form of.
    const all = new Set(LANGS.flatMap((l) => [...keys[l]!.keys()]));
    const differ = [...all].filter((k) => LANGS.some((l) => keys[l]!.has(k) && vars(keys[l]!.get(k)) !== vars(keys.en!.get(base(k)))));
    expect(differ).toEqual([]);
  });
});
