/**
 * The danger matcher (SPEC §7) on the kept corpora, its normalisation, the
 * validation of the cue file, and the `cues` command content owners use. The
 * corpora were written from how people write to helplines (tests/safety/*.tsv);
 * the bar is recall ≥ 95% and false alarms ≤ 15% on each.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogueError } from '../../src/catalogue/load.js';
import { CUES_FILE, DANGER_KINDS, DangerCues } from '../../src/safety/cues.js';
import { cueWords } from '../../src/safety/normalise.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const cues = DangerCues.load(CUES_FILE, ['police', 'ambulance', 'unified', 'family_centre', 'child_helpline']);

interface Phrase {
  danger: boolean;
  kind: string;
  lang: string;
  phrase: string;
}

function corpus(name: string): Phrase[] {
  const lines = readFileSync(join(ROOT, 'tests/safety', name), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  expect(lines[0]).toBe('expected\tkind\tlang\tphrase');
  return lines.slice(1).map((l) => {
    const [expected, kind, lang, phrase] = l.split('\t') as [string, string, string, string];
    expect(['danger', 'safe']).toContain(expected);
    return { danger: expected === 'danger', kind, lang, phrase };
  });
}

describe.each(['corpus.tsv', 'holdout.tsv'])('the phrases of %s', (name) => {
  const phrases = corpus(name);

  it('are at least 150, in every language group and every kind', () => {
    expect(phrases.length).toBeGreaterThanOrEqual(150);
    const danger = phrases.filter((p) => p.danger);
    expect(new Set(danger.map((p) => p.kind))).toEqual(new Set(DANGER_KINDS));
    expect(new Set(phrases.map((p) => p.lang))).toEqual(new Set(['ru', 'kk', 'kk-nokz', 'kk-lat', 'ru-lat', 'mixed', 'en']));
  });

  it('are heard with recall ≥ 95% and false alarms ≤ 15%', () => {
    const heard = phrases.map((p) => ({ ...p, heard: cues.matches(p.phrase) }));
    const byLang = new Map<string, { danger: number; caught: number; safe: number; alarms: number }>();
    for (const p of heard) {
      const row = byLang.get(p.lang) ?? { danger: 0, caught: 0, safe: 0, alarms: 0 };
      if (p.danger) {
        row.danger++;
        if (p.heard) row.caught++;
      } else {
        row.safe++;
        if (p.heard) row.alarms++;
      }
      byLang.set(p.lang, row);
    }
    const danger = heard.filter((p) => p.danger);
    const safe = heard.filter((p) => !p.danger);
    const recall = danger.filter((p) => p.heard).length / danger.length;
    const falseAlarms = safe.filter((p) => p.heard).length / safe.length;
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    console.log(
      [
        `${name}: ${danger.length} danger, ${safe.length} safe — recall ${pct(recall)}, false alarms ${pct(falseAlarms)}`,
        ...[...byLang].map(([lang, r]) => `  ${lang.padEnd(8)} recall ${r.caught}/${r.danger}  false alarms ${r.alarms}/${r.safe}`),
        ...danger.filter((p) => !p.heard).map((p) => `  missed (${p.kind}): ${p.phrase}`),
        ...safe.filter((p) => p.heard).map((p) => `  false alarm: ${p.phrase}`),
      ].join('\n'),
    );
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(falseAlarms).toBeLessThanOrEqual(0.15);
  });
});

describe('the matcher', () => {
  it.each([
    ['хочу умереть', 'self_harm'],
    ['не хочу больше жить', 'self_harm'],
    ['муж поднимает на меня руку', 'violence'],
    ['өлгім келеді', 'self_harm'],
    ['күйеуім соғады', 'violence'],
    ['meni urady', 'violence'],
    ['муж мeня бьёт', 'violence'], // a Latin e inside a Cyrillic word
    ['ребенок один дома уже два дня', 'child_alone'],
    ['забрали паспорт и заставляют работать', 'trafficking'],
  ])('hears %j as %s', (phrase, kind) => {
    expect(cues.match(phrase)?.kind).toBe(kind);
  });

  it.each(['никто не бьёт', 'насилия нет', 'сердце бьётся', 'избирательный участок', 'ешкім ұрмайды', 'уровень дохода', 'сколько пособие на ребенка', 'да', '3'])(
    'takes %j for what it is: no danger',
    (phrase) => expect(cues.matches(phrase)).toBe(false),
  );

  it('a "no" never hides another cue in the same message', () => {
    expect(cues.matches('никто не бьёт, но муж угрожает убить')).toBe(true);
    expect(cues.matches('угрожает убить и подать в суд')).toBe(true);
  });

  it('reads Latin, folded Kazakh letters and repeated letters the same way as the cue list', () => {
    expect(cueWords('Өлгім КЕЛЕДІ!!!')).toEqual(cueWords('olgim keledi'));
    expect(cueWords('бьёт')).toEqual(cueWords("b'yot"));
    expect(cueWords('помогиииите')).toEqual(cueWords('помогите'));
    expect(cueWords('ómirdiń qajeti joq')).toEqual(cueWords('өмірдің қажеті жоқ'));
  });

  it('a text of 5 million characters is cut before it is read: no error, no hang', () => {
    const huge = 'а'.repeat(5_000_000) + ' бьёт';
    expect(() => cues.match(huge)).not.toThrow();
    expect(cueWords(huge).join('').length).toBeLessThanOrEqual(4096);
  });
});

describe('the cue file is validated on load, errors name the file and the entry', () => {
  const write = (yaml: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'qamqor-cues-')), 'danger-cues.yaml');
    writeFileSync(path, yaml);
    return path;
  };
  const base = readFileSync(CUES_FILE, 'utf8');

  it('a stem too short to be safe', () => {
    const path = write(base.replace('      - суицид*|', '      - бь*|суицид*|'));
    expect(() => DangerCues.load(path)).toThrow(CatalogueError);
    expect(() => DangerCues.load(path)).toThrow(/kinds\.self_harm\.cues\[0\].*бь\*/);
  });

  it('an unknown kind, a missing kind, a lead that is not a contact', () => {
    expect(() => DangerCues.load(write(base.replace('  fear:\n', '  worry:\n')))).toThrow(/danger-cues\.yaml at kinds/);
    expect(() => DangerCues.load(CUES_FILE, ['police'])).toThrow(/lead names .* not in contacts\.yaml/);
  });

  it('a pattern that starts with a gap', () => {
    expect(() => DangerCues.load(write(base.replace('      - суицид*|', '      - … суицид*|')))).toThrow(/cannot start or end with …/);
  });
});

describe('npm run cli -- cues', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('prints a verdict per phrase (with the kind), then "N danger, M not"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qamqor-cli-cues-'));
    writeFileSync(join(dir, 'phrases.txt'), 'хочу умереть\n# a comment\nкак получить пособие\nmeni urady\n');
    const r = cli('cues', join(dir, 'phrases.txt'));
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['danger\tхочу умереть\tself_harm', '-\tкак получить пособие', 'danger\tmeni urady\tviolence', '2 danger, 1 not']);
  });

  it('reads a corpus file by its phrase column', () => {
    const r = cli('cues', 'tests/safety/corpus.tsv');
    const last = r.stdout.trim().split('\n').at(-1)!;
    const [, danger, not] = /^(\d+) danger, (\d+) not$/.exec(last)!;
    expect(Number(danger) + Number(not)).toBe(corpus('corpus.tsv').length);
  });
});
