import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../src/catalogue/load.js';
import { DIRECTORY_DIR, DirectoryError, loadDirectory, regionIds } from '../../src/referral/directory.js';
import { PROFILES } from '../../src/referral/types.js';

/** A folder with the given files; returns its path. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'qamqor-directory-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const ORG = `  - id: org-a
    name: { kk: "А ұйымы", ru: "Организация А", en: "Organisation A" }
    areas: [ { region: astana, district: yesil } ]
`;
const WORKER = (id: string, extra = '') => `  - { id: ${id}, organization: org-a, role: worker, profiles: [assessment], languages: [kk], capacity: 3${extra} }\n`;
/** One valid file with an organisation and two workers; `edit` breaks it. */
const valid = (workers = WORKER('w-1') + WORKER('w-2')) => `organizations:\n${ORG}workers:\n${workers}`;

/** The problems loading a one-file directory reports. */
function problemsOf(text: string): { file: string; problems: string[] } {
  const dir = folder({ 'x.yaml': text });
  const file = join(dir, 'x.yaml');
  try {
    loadDirectory(file);
  } catch (e) {
    expect(e).toBeInstanceOf(DirectoryError);
    return { file, problems: (e as DirectoryError).problems };
  }
  throw new Error('expected the directory to be rejected');
}

describe('the shipped example directory', () => {
  it('loads, is marked an example, and covers two regions, all seven profiles, kk and ru, a supervisor each', () => {
    const d = loadDirectory(DIRECTORY_DIR);
    expect(d.example).toBe(true);
    const workers = d.workers.filter((w) => w.role === 'worker');
    expect(workers.length).toBeGreaterThanOrEqual(6);
    expect(new Set(workers.flatMap((w) => w.profiles))).toEqual(new Set(PROFILES));
    expect(workers.some((w) => w.languages.includes('kk') && !w.languages.includes('ru'))).toBe(true);
    expect(workers.some((w) => w.languages.includes('ru') && !w.languages.includes('kk'))).toBe(true);
    const regions = new Set(d.workers.flatMap((w) => w.areas.map((a) => a.region)));
    expect(regions).toEqual(new Set(['astana', 'karaganda']));
    for (const region of regions) expect(d.workers.filter((w) => w.role === 'supervisor' && w.areas.some((a) => a.region === region))).toHaveLength(1);
    expect(new Set(d.workers.flatMap((w) => w.areas.map((a) => a.district)).filter(Boolean))).toEqual(new Set(['yesil', 'saryarka']));
  });

  it('gives a worker without areas the organisation\'s, and keeps a worker\'s own', () => {
    const d = loadDirectory(join(DIRECTORY_DIR, 'example.yaml'));
    expect(d.workers.find((w) => w.id === 'w-astana-01')!.areas).toEqual([{ region: 'astana', district: 'yesil' }]);
    expect(d.workers.find((w) => w.id === 'w-astana-04')!.areas).toEqual([{ region: 'astana' }]);
    // w-astana-02 belongs to the city department but works in Yesil only.
    expect(d.organizations.find((o) => o.id === 'astana-coordination')!.areas).toEqual([{ region: 'astana' }]);
    expect(d.workers.find((w) => w.id === 'w-astana-02')!.areas).toEqual([{ region: 'astana', district: 'yesil' }]);
  });
});

describe('loading a directory', () => {
  it('reads the region ids from the catalogue\'s region fact', () => {
    const fact = loadCatalogue().facts.find((f) => f.id === 'region')!;
    expect(regionIds()).toEqual(fact.values);
    expect(regionIds()).toHaveLength(20);
  });

  it('merges a folder\'s .yaml files in name order, across files, ignoring other files', () => {
    const dir = folder({
      'b.yaml': `workers:\n${WORKER('w-b')}`,
      'a.yaml': valid(WORKER('w-a1') + WORKER('w-a2')),
      'notes.txt': 'not a directory file',
    });
    const d = loadDirectory(dir);
    expect(d.workers.map((w) => w.id)).toEqual(['w-a1', 'w-a2', 'w-b']);
    expect(d.workers[2]!.areas).toEqual([{ region: 'astana', district: 'yesil' }]);
    expect(d.example).toBe(false);
  });

  it('marks the directory an example when a file says example: true', () => {
    expect(loadDirectory(folder({ 'a.yaml': valid(), 'b.yaml': 'example: true\n' })).example).toBe(true);
  });

  it('accepts other region lists when given', () => {
    const text = valid().replace('region: astana', 'region: atlantis');
    expect(() => loadDirectory(join(folder({ 'x.yaml': text }), 'x.yaml'))).toThrow(/unknown region "atlantis"/);
    expect(loadDirectory(join(folder({ 'x.yaml': text }), 'x.yaml'), { regions: ['atlantis'] }).workers).toHaveLength(2);
  });

  it('names the file and the entry, e.g. an unknown profile', () => {
    const { file, problems } = problemsOf(valid(WORKER('w-1') + WORKER('w-astana-07').replace('[assessment]', '[assessment, elder]')));
    expect(problems).toEqual([`${file}: workers[1] (w-astana-07): profiles[1]: unknown profile "elder"`]);
  });

  it.each([
    ['an unknown region of an organisation', valid().replace('region: astana', 'region: mars'), /x\.yaml: organizations\[0\] \(org-a\): areas\[0\]\.region: unknown region "mars"$/],
    ['an unknown region of a worker', valid(WORKER('w-1', ', areas: [ { region: karagandy } ]')), /x\.yaml: workers\[0\] \(w-1\): areas\[0\]\.region: unknown region "karagandy"$/],
    ['a malformed district', valid().replace('district: yesil', 'district: "Yesil district"'), /organizations\[0\] \(org-a\): areas\[0\]\.district: must be lower-case/],
    ['an unknown language', valid(WORKER('w-1').replace('[kk]', '[kk, en]')), /x\.yaml: workers\[0\] \(w-1\): languages\[1\]: unknown language "en"$/],
    ['no language', valid(WORKER('w-1').replace('languages: [kk]', 'languages: []')), /workers\[0\] \(w-1\): languages: must name at least one language$/],
    ['an unknown role', valid(WORKER('w-1').replace('role: worker', 'role: boss')), /workers\[0\] \(w-1\): role: must be worker or supervisor, not "boss"$/],
    ['a worker with no profile', valid(WORKER('w-1').replace('profiles: [assessment]', 'profiles: []')), /workers\[0\] \(w-1\): profiles: a worker needs at least one profile$/],
    ['a worker of an unknown organisation', valid(WORKER('w-1') + WORKER('w-2').replace('org-a', 'org-b')), /x\.yaml: workers\[1\] \(w-2\): unknown organisation "org-b"$/],
    ['a duplicate worker id', valid(WORKER('w-1') + WORKER('w-1')), /x\.yaml: workers\[1\] \(w-1\): duplicate id w-1 \(first at .*x\.yaml: workers\[0\]\)$/],
    ['a duplicate organisation id', valid().replace('workers:', ORG.replace('Organisation A', 'Again') + 'workers:'), /x\.yaml: organizations\[1\] \(org-a\): duplicate id org-a/],
    ['capacity 0', valid(WORKER('w-1').replace('capacity: 3', 'capacity: 0')), /x\.yaml: workers\[0\] \(w-1\): capacity: must be a positive whole number, got 0$/],
    ['a negative capacity', valid(WORKER('w-1').replace('capacity: 3', 'capacity: -2')), /workers\[0\] \(w-1\): capacity: must be a positive whole number, got -2$/],
    ['a fractional capacity', valid(WORKER('w-1').replace('capacity: 3', 'capacity: 1.5')), /workers\[0\] \(w-1\): capacity: must be a positive whole number, got 1.5$/],
    ['a capacity in words', valid(WORKER('w-1').replace('capacity: 3', 'capacity: ten')), /workers\[0\] \(w-1\): capacity: must be a positive whole number, got "ten"$/],
    ['no capacity', valid(WORKER('w-1').replace(', capacity: 3', '')), /workers\[0\] \(w-1\): capacity: must be a positive whole number, got nothing$/],
    ['a name without its English', valid().replace(', en: "Organisation A"', ''), /x\.yaml: organizations\[0\] \(org-a\): name\.en: missing \(the en name\)$/],
    ['an empty Kazakh name', valid().replace('kk: "А ұйымы"', 'kk: " "'), /organizations\[0\] \(org-a\): name\.kk: missing \(the kk name\)$/],
    ['no name at all', valid().replace(/ {4}name: .*\n/, ''), /organizations\[0\] \(org-a\): name: missing \(kk, ru, en\)$/],
    ['an organisation without areas', valid().replace(/ {4}areas: .*\n/, '    areas: []\n'), /organizations\[0\] \(org-a\): areas: must name at least one area$/],
    ['an unknown field', valid(WORKER('w-1', ', telegram: 12345')), /workers\[0\] \(w-1\): unknown field "telegram"$/],
    ['an entry without an id', valid(WORKER('w-1').replace('id: w-1, ', '')), /x\.yaml: workers\[0\]: id: missing$/],
    ['an unknown top-level key', `${valid()}people: []\n`, /x\.yaml: unknown field "people"$/],
    ['a list at the top', '- id: w-1\n', /x\.yaml: expected organizations and workers$/],
    ['text that is not YAML', 'workers: [ {\n', /x\.yaml: not valid YAML/],
  ])('rejects %s, naming the file and the entry', (_what, text, message) => {
    const { problems } = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('lists every problem at once, across files', () => {
    const dir = folder({
      'a.yaml': valid(WORKER('w-1', ', capacity: 0').replace('capacity: 3, ', '') + WORKER('w-2').replace('[kk]', '[de]')),
      'b.yaml': `workers:\n${WORKER('w-2')}${WORKER('w-3').replace('org-a', 'org-z')}`,
    });
    let error: unknown;
    try {
      loadDirectory(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DirectoryError);
    const problems = (error as DirectoryError).problems;
    expect(problems).toEqual([
      expect.stringMatching(/a\.yaml: workers\[0\] \(w-1\): capacity: must be a positive whole number, got 0$/),
      expect.stringMatching(/a\.yaml: workers\[1\] \(w-2\): languages\[0\]: unknown language "de"$/),
      expect.stringMatching(/b\.yaml: workers\[0\] \(w-2\): duplicate id w-2 \(first at .*a\.yaml: workers\[1\]\)$/),
      expect.stringMatching(/b\.yaml: workers\[1\] \(w-3\): unknown organisation "org-z"$/),
    ]);
    expect((error as Error).message).toBe(problems.join('\n'));
  });

  it('rejects a folder with no .yaml files and a path that does not exist', () => {
    expect(() => loadDirectory(folder({ 'readme.txt': '' }))).toThrow(/: no \.yaml files$/);
    expect(() => loadDirectory('/nonexistent/directory.yaml')).toThrow(/\/nonexistent\/directory\.yaml: cannot read the file or folder/);
  });
});
