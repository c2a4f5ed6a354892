/**
 * The result's first view (what `screen --format text` prints and the bot
 * sends as one message) for every situation in flows/cases: at most 2,500
 * characters, and no English word in the Kazakh or Russian text.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../src/catalogue/load.js';
import { caseFiles } from '../../src/cases/cases.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { readFacts } from '../../src/engine/facts.js';
import { createTranslator } from '../../src/i18n/i18n.js';
import { renderFirstView } from '../../src/render/result.js';

const catalogue = loadCatalogue();
const translator = createTranslator();
/** Names that are written in Latin letters in Kazakhstan too. */
const ALLOWED_LATIN = new Set(['eGov', 'SOS']);

const situations = caseFiles(new URL('../../flows/cases', import.meta.url).pathname).flatMap((file) =>
  (parse(readFileSync(file, 'utf8')) as { name: string; date: string | Date; facts?: Record<string, unknown>; expect: { error?: unknown } }[])
    .filter((c) => c.expect.error === undefined)
    .map((c) => ({ name: `${file.split('/').pop()} › ${c.name}`, date: c.date instanceof Date ? c.date.toISOString().slice(0, 10) : String(c.date), facts: c.facts ?? {} })),
);

describe('the first view of every case file situation', () => {
  it('there are many situations to look at', () => expect(situations.length).toBeGreaterThan(60));

  it.each(['kk', 'ru'] as const)('in %s: one message of at most 2,500 characters, with no English word', (lang) => {
    const t = translator.bind(lang);
    const problems: string[] = [];
    let longest = 0;
    for (const s of situations) {
      const view = renderFirstView(t, catalogue, evaluate(readFacts(s.facts, catalogue), catalogue, s.date));
      longest = Math.max(longest, view.length);
      if (view.length > 2500) problems.push(`${s.name}: ${view.length} characters`);
      const english = (view.match(/[A-Za-z]{2,}/g) ?? []).filter((w) => !ALLOWED_LATIN.has(w));
      if (english.length) problems.push(`${s.name}: ${english.join(' ')}`);
    }
    console.log(`${lang}: ${situations.length} situations, longest first view ${longest} characters`);
    expect(problems).toEqual([]);
  });
});
