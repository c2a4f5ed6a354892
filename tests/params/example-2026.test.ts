/**
 * flows/examples/parameters-2026.yaml loads with the existing loader, covers every region,
 * says what it is (unverified, with its basis); and with it turned on, every case-file
 * situation's first view stays one message, telling the family when a suggested benefit
 * rests on a line that is not verified — and only then.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadCatalogue, loadParamsFile } from '../../src/catalogue/load.js';
import { caseFiles } from '../../src/cases/cases.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import { LANGS } from '../../src/engine/types.js';
import { createTranslator } from '../../src/i18n/i18n.js';
import { renderFirstView } from '../../src/render/result.js';

const FILE = new URL('../../flows/examples/parameters-2026.yaml', import.meta.url).pathname;
const params = loadParamsFile(FILE);
const catalogue = loadCatalogue({ params });
const regions = catalogue.facts.find((f) => f.id === 'region')!.values!;

describe('the 2026 parameters example', () => {
  it('loads with the loader the bot uses (PARAMS_FILE) and has a poverty line for every region from 2026-01-01', () => {
    expect(Object.keys(params)).toEqual(['poverty_line_kzt']);
    expect(Object.keys(params.poverty_line_kzt!).sort()).toEqual([...regions].sort());
    for (const region of regions) expect(params.poverty_line_kzt![region]!.map((v) => v.from)).toEqual(['2026-01-01']);
  });

  it('every value is not verified, is 70% of the 2026 national subsistence minimum, and says so in its reference', () => {
    const values = Object.values(params.poverty_line_kzt!).flat();
    expect(values.every((v) => v.verified === false)).toBe(true);
    expect(new Set(values.map((v) => v.value))).toEqual(new Set([Math.round(0.7 * 50851)]));
    for (const v of values) expect(v.reference).toMatch(/50,851 ₸.*Order No\. 160 of 19\.05\.2023 as amended by Order No\. 473 of 20\.12\.2024.*to be confirmed/);
  });

  it('its comments explain how the line is set and how to turn the file on', () => {
    const text = readFileSync(FILE, 'utf8');
    for (const needed of ['PARAMS_FILE', 'Order No. 160 of 19.05.2023', 'Order No. 473 of 20.12.2024', '35% of the median', '70% of the region', 'quarter', '50,851 ₸', 'republican', 'budget for 2026–2028', 'content owner must confirm']) {
      expect(text).toContain(needed);
    }
  });

  it('is in force for 2026 only from its date: on 2025-12-31 no line is in force, so ASP needs information', () => {
    const facts = readFacts({ region: 'astana', household_members: 2, children: 0, monthly_income_kzt: 20000, able_bodied_members: 0 }, catalogue);
    expect(evaluate(facts, catalogue, '2025-12-31').benefits.find((b) => b.id === 'asp_unconditional')).toMatchObject({ status: 'needs_info', missingParams: ['poverty_line_kzt'] });
    expect(evaluate(facts, catalogue, '2026-01-01').benefits.find((b) => b.id === 'asp_unconditional')?.status).toBe('indicated');
  });
});

const situations = caseFiles(new URL('../../flows/cases', import.meta.url).pathname).flatMap((file) =>
  (parse(readFileSync(file, 'utf8')) as { name: string; date: string | Date; facts?: Record<string, unknown>; expect: { error?: unknown } }[])
    .filter((c) => c.expect.error === undefined)
    .map((c) => ({ name: `${file.split('/').pop()} › ${c.name}`, date: '2026-06-01', facts: c.facts ?? {} })),
);

describe('first views with the 2026 lines turned on', () => {
  const translator = createTranslator();
  it.each(LANGS)('in %s: at most 2,500 characters, no English word in kk/ru; the unverified line is named exactly when a suggested benefit used it', (lang) => {
    const t = translator.bind(lang);
    const problems: string[] = [];
    let withNote = 0;
    let longest = 0;
    for (const s of situations) {
      const result = evaluate(readFacts(s.facts, catalogue), catalogue, s.date);
      const view = renderFirstView(t, catalogue, result);
      if (view.length > 2500) problems.push(`${s.name}: ${view.length} characters`);
      const usedUnverified = result.benefits.some((b) => b.status === 'indicated' && !b.alreadyReceiving && b.because.some((r) => 'param' in r && !r.verified));
      const region = String(s.facts.region ?? '');
      const note = usedUnverified ? t('params:family.unverified', { region: t(`facts:region.values.${region}`), value: (35596).toLocaleString('ru-RU') }) : undefined;
      const shown = view.includes(t('params:family.unverified', { region: '@@', value: '@@' }).split('@@')[0]!);
      if (usedUnverified !== shown) problems.push(`${s.name}: note ${shown ? 'shown' : 'missing'}`);
      if (note && !view.includes(note)) problems.push(`${s.name}: the note does not name the line used`);
      if (shown) withNote++;
      longest = Math.max(longest, view.length);
      const english = lang === 'en' ? [] : (view.match(/[A-Za-z]{2,}/g) ?? []).filter((w) => !['eGov', 'SOS'].includes(w));
      if (english.length) problems.push(`${s.name}: ${english.join(' ')}`);
    }
    console.log(`${lang}: ${situations.length} situations with the 2026 lines, ${withNote} name the unverified line, longest first view ${longest} characters`);
    expect(problems).toEqual([]);
    expect(withNote).toBeGreaterThan(0);
  });
});

describe('a parameters file a content owner got wrong', () => {
  it.each([
    ['{ from: 2026-01-01, value: 45000, verified: false }', 'poverty_line_kzt.astana.0.reference: say where the value comes from'],
    ['{ from: 2026-01-01, value: 45000, reference: "Order No. 473" }', 'poverty_line_kzt.astana.0.verified: true once a content owner has checked'],
    ['{ from: 2026-01-01, value: "45 000", reference: "Order No. 473", verified: false }', 'poverty_line_kzt.astana.0.value: a number is needed'],
  ])('%s is refused with what to write, naming the file and the entry', (entry, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'qamqor-params-'));
    const file = join(dir, 'params.yaml');
    writeFileSync(file, `poverty_line_kzt:\n  astana:\n    - ${entry}\n`);
    expect(() => loadParamsFile(file)).toThrow(`${file} at ${message}`);
  });
});
