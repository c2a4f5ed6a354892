import { describe, expect, it } from 'vitest';
import { LANGS } from '../../src/engine/types.js';
import { loadResources } from '../../src/i18n/resources.js';

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
    const all = new Set(LANGS.flatMap((l) => [...keys[l]!.keys()]));
    const missing = [...all].filter((k) => typeof keys[lang]!.get(k) !== 'string' || !(keys[lang]!.get(k) as string).trim());
    expect(missing).toEqual([]);
  });
  it('Kazakh texts use Cyrillic ә, not Latin look-alikes inside words', () => {
    const bad = [...keys.kk!].filter(([, v]) => typeof v === 'string' && /[\u0400-\u04ff][əa-zA-Z]|[əa-zA-Z][\u0400-\u04ff]/.test(v));
    expect(bad.map(([k]) => k)).toEqual([]);
  });
  it('interpolation placeholders are the same in every language', () => {
    const vars = (s: unknown) => [...String(s).matchAll(/{{\s*(\w+)\s*}}/g)].map((m) => m[1]).sort().join(',');
    const differ = [...keys.en!.keys()].filter((k) => LANGS.some((l) => vars(keys[l]!.get(k)) !== vars(keys.en!.get(k))));
    expect(differ).toEqual([]);
  });
});
