import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
const tmp = (name: string, text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'qamqor-cli-')), name);
  writeFileSync(file, text);
  return file;
};

describe('cli', () => {
  it('screen prints the §5 result as JSON', () => {
    const r = cli('screen', tmp('f.json', '{"member_disability_group": 2, "children": 0}'), '--date', '2026-11-21');
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ date: '2026-11-21', urgent: false, emergency: false });
    expect(result.grounds.find((g: { id: string }) => g.id === 'disability').status).toBe('indicated');
  });

  it('screen --format text prints the first view in the chosen language; --details adds why, documents and where to go', () => {
    const r = cli('screen', tmp('f.yaml', 'domestic_violence: "yes"\n'), '--format', 'text', '--lang', 'kk', '--date', '2026-11-21');
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeLessThanOrEqual(2500);
    expect(r.stdout).toContain('102 · 111 · 150');
    expect(r.stdout).toMatch(/әлеуметтік қызметкер/);
    expect(r.stdout).not.toContain('✅');
    const d = cli('screen', tmp('f.yaml', 'domestic_violence: "yes"\n'), '--format', 'text', '--details', '--lang', 'kk', '--date', '2026-11-21');
    expect(d.stdout.startsWith(r.stdout.trimEnd())).toBe(true);
    expect(d.stdout).toContain('✅');
    expect(d.stdout).toContain('📄');
  });

  it('screen with a params file uses the poverty line', () => {
    const params = tmp('p.yaml', 'poverty_line_kzt:\n  astana:\n    - { from: 2026-01-01, value: 50000, reference: t, verified: false }\n');
    const r = cli('screen', tmp('f.yaml', 'region: astana\nmonthly_income_kzt: 0\nable_bodied_members: 0\n'), '--params', params, '--date', '2026-11-21');
    expect(JSON.parse(r.stdout).benefits.find((b: { id: string }) => b.id === 'asp_unconditional').status).toBe('indicated');
  });

  it('screen rejects bad facts with one clear line naming the fact', () => {
    const r = cli('screen', tmp('f.yaml', 'children: -1\nregion: mars\n'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/children: got -1, expected a whole number/);
    expect(r.stderr).toMatch(/region: got "mars"/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('cases prints failing cases and the closing count, exit code 1 on failure', () => {
    const file = tmp('c.yaml', '- { name: fine, date: 2026-11-21, facts: {}, expect: { urgent: false } }\n- { name: wrong, date: 2026-11-21, facts: {}, expect: { urgent: true } }\n');
    const r = cli('cases', file);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([`FAIL ${file} › wrong: urgent: expected true, got false`, '1 passed, 1 failed']);
  });

  it('cases over the shipped directory passes', () => {
    const r = cli('cases', 'flows/cases');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed$/);
    expect(r.status).toBe(0);
  });
});
