/** The result's details: documents marked by their own `verified` flag (documents.yaml), forms of help with their services. */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import type { Catalogue } from '../../src/engine/types.js';
import { createTranslator } from '../../src/i18n/i18n.js';
import { renderDocuments, renderWhy } from '../../src/render/result.js';
import { catalogue } from '../helpers/catalogue.js';

const translator = createTranslator();
const DATE = '2026-11-21';
const disabled = { member_disability_group: '2' };

describe('documents to bring', () => {
  it('every shipped document is unverified (the seeds name none), so each is "to be confirmed"', () => {
    expect(catalogue.documents.filter((d) => d.verified)).toEqual([]);
    const ids = new Set([...catalogue.grounds, ...catalogue.benefits].flatMap((r) => r.documents));
    expect([...ids].filter((id) => !catalogue.documents.some((d) => d.id === id))).toEqual([]);
    for (const lang of ['kk', 'ru', 'en'] as const) {
      const t = translator.bind(lang);
      const text = renderDocuments(t, catalogue, evaluate(readFacts(disabled, catalogue), catalogue, DATE));
      const lines = text.split('\n').filter((l) => l.startsWith('• '));
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expect(line.endsWith(t('view:unconfirmed'))).toBe(true);
      expect(text).toContain(t('view:unconfirmedNote'));
    }
  });

  it('a document a content owner has verified is shown without the mark, whatever the rule’s legal status', () => {
    const verified: Catalogue = { ...catalogue, documents: catalogue.documents.map((d) => (d.id === 'id_document' ? { ...d, verified: true, reference: 'checked' } : d)) };
    const t = translator.bind('ru');
    const text = renderDocuments(t, verified, evaluate(readFacts(disabled, verified), verified, DATE));
    expect(text).toContain(`• ${t('documents:id_document')}\n`);
    expect(text).toContain(`• ${t('documents:disability_certificate')} ${t('view:unconfirmed')}`);
    // every document verified: no mark and no note
    const all: Catalogue = { ...catalogue, documents: catalogue.documents.map((d) => ({ ...d, verified: true })) };
    const clean = renderDocuments(t, all, evaluate(readFacts(disabled, all), all, DATE));
    expect(clean).not.toContain(t('view:unconfirmed'));
    expect(clean).not.toContain(t('view:unconfirmedNote'));
  });
});

describe('forms of help of the health sector (seed 004: 26–31)', () => {
  it('are named under the services they belong to in "Why?", in every language', () => {
    const result = evaluate(readFacts({ domestic_violence: 'yes', member_socially_significant_disease: 'yes' }, catalogue), catalogue, DATE);
    for (const lang of ['kk', 'ru', 'en'] as const) {
      const t = translator.bind(lang);
      const why = renderWhy(t, catalogue, result).join('\n');
      const psych = why.split('\n• ').find((block) => block.startsWith(t('services:social_psychological.name')))!;
      for (const form of ['consultation', 'home_visits', 'trust_phone', 'support_groups']) expect(psych).toContain(t(`forms:${form}`));
    }
    // every form of seed 004 belongs to some service
    expect(new Set(catalogue.services.flatMap((s) => s.forms ?? []))).toEqual(new Set(['consultation', 'home_visits', 'trust_phone', 'support_groups']));
  });
});
