/**
 * The admission routes a referral carries come from the catalogue's grounds
 * (SPEC §1, seed 003 R1–R6): only for grounds the screening indicates, each once.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../src/catalogue/load.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import { admissionRoutesOf } from '../../src/referral/admission.js';

const catalogue = loadCatalogue();
const routesFor = (facts: Record<string, unknown>) => admissionRoutesOf(catalogue, evaluate(readFacts(facts, catalogue), catalogue, '2026-11-16').grounds);

describe('admission routes on a referral', () => {
  it('an orphan: an akimat decision, a guardianship referral, or the application of whoever brings the child', () => {
    expect(routesFor({ children: 1, child_orphan: 'yes' })).toEqual(['akimat_decision', 'guardianship_referral', 'own_application']);
  });

  it('a special-regime placement is decided by a court, and routes of several grounds are listed once', () => {
    expect(routesFor({ children: 1, child_in_special_education_org: 'yes' })).toEqual(['court']);
    expect(routesFor({ children: 2, child_orphan: 'yes', child_in_special_education_org: 'yes' })).toEqual(['akimat_decision', 'guardianship_referral', 'own_application', 'court']);
  });

  it('grounds without a route (disability) and grounds only "not clear yet" add none', () => {
    expect(routesFor({ member_disability_group: '2' })).toEqual([]);
    expect(routesFor({ children: 1, child_orphan: 'unknown' })).toEqual([]);
  });

  it('every route in the catalogue has its words for the worker in kk, ru and en', async () => {
    const { loadResources } = await import('../../src/i18n/resources.js');
    const resources = loadResources();
    const used = new Set(catalogue.grounds.flatMap((g) => g.admission ?? []));
    expect(used.size).toBeGreaterThan(0);
    for (const lang of ['kk', 'ru', 'en'] as const) {
      const words = (resources[lang].referral as { admissionRoutes: Record<string, string> }).admissionRoutes;
      for (const route of used) expect(words[route], `${lang} ${route}`).toBeTruthy();
    }
  });
});
