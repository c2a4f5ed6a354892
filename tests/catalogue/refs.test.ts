/** The legal basis a family reads is in their language: no English words from the catalogue's `source.ref`. */
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../src/catalogue/load.js';
import type { Result, Rule, RuleResult } from '../../src/engine/types.js';
import { createTranslator } from '../../src/i18n/i18n.js';
import { renderResult } from '../../src/render/result.js';

const catalogue = loadCatalogue();
const translator = createTranslator();
const asIndicated = (r: Rule): RuleResult => ({ id: r.id, status: 'indicated', because: [], source: { doc: r.source.doc, ref: r.source.ref, status: r.source.status } });
const everything: Result = {
  rulesVersion: catalogue.rulesVersion,
  date: '2026-12-02',
  urgent: false,
  emergency: false,
  grounds: catalogue.grounds.map(asIndicated),
  benefits: catalogue.benefits.map(asIndicated),
  services: [],
  missing: [],
};

/** The "Basis: …" line of every rule, as a family reads it. */
function basisLines(lang: 'kk' | 'ru' | 'en'): string[] {
  const t = translator.bind(lang);
  const prefix = t('results:basis', { doc: '\u0000', ref: '' }).split('\u0000')[0]!;
  return renderResult(t, catalogue, everything)
    .join('\n')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(prefix));
}

describe('source references', () => {
  it.each(['kk', 'ru'] as const)('%s: every rule has its basis line, with no English in it', (lang) => {
    const lines = basisLines(lang);
    expect(lines).toHaveLength(catalogue.grounds.length + catalogue.benefits.length);
    // Roman numerals in law numbers ("№ 114-IV") are not English.
    expect(lines.filter((l) => /[A-Za-z]/.test(l.replace(/\b[IVX]+\b/g, '')))).toEqual([]);
  });

  it('Kazakh chains the parts of a reference: article, its paragraph, its subparagraph', () => {
    const kk = basisLines('kk');
    expect(kk.some((l) => l.includes('6-баптың 1-тармағының 9) тармақшасы, 2-тармағы'))).toBe(true);
    expect(kk.some((l) => l.includes('2-баптың 4-тармағы'))).toBe(true);
    expect(basisLines('ru').some((l) => l.includes('ст. 6 п. 1 пп. 9, п. 2'))).toBe(true);
  });
});
