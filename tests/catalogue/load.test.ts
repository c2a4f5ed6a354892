import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE_DIR, loadCatalogue } from '../../src/catalogue/load.js';
import { loadResources } from '../../src/i18n/resources.js';

/** A copy of the catalogue with one file edited. */
function editedCatalogue(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qamqor-catalogue-'));
  cpSync(CATALOGUE_DIR, dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
  return dir;
}

describe('loading the catalogue', () => {
  it('loads the shipped catalogue: 12 grounds, the benefits, 8 service types, contacts', () => {
    const c = loadCatalogue();
    expect(c.grounds).toHaveLength(12);
    expect(c.services).toHaveLength(8);
    expect(c.benefits.map((b) => b.id)).toContain('guaranteed_special_social_services');
    expect(c.contacts.map((k) => k.number)).toEqual(expect.arrayContaining(['102', '103', '112', '111', '150']));
  });

  it.each([
    ['grounds.yaml', (t: string) => t.replace('fact: child_orphan', 'fact: child_orphn'), /grounds\.yaml: entry orphanhood: unknown fact child_orphn/],
    ['services.yaml', (t: string) => t.replace('forGrounds: [disability, cannot', 'forGrounds: [disabilty, cannot'), /services\.yaml: entry social_household: unknown ground disabilty/],
    ['grounds.yaml', (t: string) => t.replace('- id: orphanhood\n', '- id: orphanhood\n  validTo: 2009-13-01\n'), /grounds\.yaml: entry orphanhood at validTo: /],
    ['grounds.yaml', (t: string) => t.replace('documents: [id_document, child_birth_certificates, parents_death_certificates]', 'documents: [id_document, passport_photo]'), /grounds\.yaml: entry orphanhood: unknown document passport_photo \(documents\.yaml\)/],
    ['documents.yaml', (t: string) => t.replace('- { id: work_record, verified: false }', '- { id: work_record }'), /documents\.yaml: entry work_record at verified: /],
    ['benefits.yaml', (t: string) => t.replace('sum: [children, children_full_time_students_under_23]', 'sum: [children, housing]'), /entry special_state_benefit: fact housing is not a number, so it cannot be summed/],
    ['grounds.yaml', (t: string) => t.replace('in: [none, temporary_shelter]', 'in: [none, tent]'), /entry homelessness: "tent" is not a value of fact housing/],
    ['benefits.yaml', (t: string) => t.replace('not: { benefit: asp_unconditional }', 'not: { benefit: funeral_benefit }'), /entry asp_conditional: benefit funeral_benefit is unknown or listed later/],
    ['facts.yaml', (t: string) => t.replace('relevantIf: { fact: children, gt: 0 }, whenIrrelevant: 0', 'relevantIf: { fact: children, gt: 0 }'), /facts\.yaml: entry children_under_3: relevantIf needs whenIrrelevant/],
    ['grounds.yaml', (t: string) => t.replace('- id: probation', '- id: probation\n  oops: 1'), /grounds\.yaml: entry probation: /],
    ['parameters.yaml', () => 'poverty_line_kzt:\n  astana:\n    - { from: 2026-02-30, value: 1, reference: x, verified: false }\n', /parameters\.yaml at poverty_line_kzt\.astana\.0\.from/],
  ])('rejects a bad %s with an error naming the file and entry', (file, edit, message) => {
    expect(() => loadCatalogue({ dir: editedCatalogue(file, edit) })).toThrow(message);
  });

  it('rejects a catalogue whose texts are missing in a language', () => {
    const resources = loadResources();
    delete (resources.kk.grounds as Record<string, unknown>).probation;
    expect(() => loadCatalogue({ resources })).toThrow(/kk\/grounds:probation\.name/);
  });

  it('needs the short button labels of services and benefits, and the words of every source reference, in every language', () => {
    const noShort = loadResources();
    delete (noShort.ru.services as Record<string, Record<string, string>>).social_legal!.short;
    expect(() => loadCatalogue({ resources: noShort })).toThrow(/ru\/services:social_legal\.short/);
    const noRef = loadResources();
    delete (noRef.kk.sources as Record<string, Record<string, string>>).refs!.funeral_benefit;
    expect(() => loadCatalogue({ resources: noRef })).toThrow(/kk\/sources:refs\.funeral_benefit/);
  });

  it('rejects a short button label longer than 30 characters', () => {
    const resources = loadResources();
    (resources.en.benefits as Record<string, Record<string, string>>).funeral_benefit!.short = 'Benefit for the costs of a funeral';
    expect(() => loadCatalogue({ resources })).toThrow(/button labels are longer than 30 characters, e\.g\. en\/benefits:funeral_benefit\.short/);
  });
});
