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

describe("an operator's referral packet, from the summary the family shared", () => {
  it('carries what the answers suggest (services too), what the family already receives, and the admission routes', async () => {
    const { operatorPacket } = await import('../../src/bot/referral-family.js');
    const result = evaluate(readFacts({ children: 1, child_orphan: 'yes', already_receiving: ['child_benefit'] }, catalogue), catalogue, '2026-11-16');
    const summary = {
      rulesVersion: result.rulesVersion,
      grounds: result.grounds.map((g) => ({ id: g.id, status: g.status })),
      benefits: result.benefits.map((b) => ({ id: b.id, status: b.status })),
      services: result.services.map((s) => s.id),
      receives: ['child_benefit'],
      urgent: result.urgent,
    };
    const rec = { id: 'K7QX2', lang: 'ru', region: 'astana', urgent: false, status: 'claimed', version: 3, summary } as unknown as import('../../src/handoff/types.js').CaseRecord;
    const packet = operatorPacket(catalogue, rec, 'children_family', 'просит визит')!;
    expect(packet.receives).toEqual(['child_benefit']);
    expect(packet.result).toContainEqual({ kind: 'ground', id: 'orphanhood', status: 'indicated' });
    expect(packet.result.filter((r) => r.kind === 'service').map((r) => r.id)).toEqual(summary.services);
    expect(summary.services.length).toBeGreaterThan(0);
    expect(packet.admissionRoutes).toEqual(['akimat_decision', 'guardianship_referral', 'own_application']);
    // A case shared before services and receipts were recorded still makes a packet.
    const older = operatorPacket(catalogue, { ...rec, summary: { ...summary, services: undefined, receives: undefined } }, 'children_family', undefined)!;
    expect(older.receives).toEqual([]);
  });
});
