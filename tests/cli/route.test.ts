import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
const tmp = (name: string, text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'qamqor-route-')), name);
  writeFileSync(file, text);
  return file;
};

/** What SPEC §9 says the shipped example requests route to; the comments in the requests file say why. */
const EXPECTED = `req-01\tw-astana-01
req-02\tw-astana-02
req-03\tw-astana-04
req-04\tw-astana-05
req-05\tw-astana-04
req-06\tw-astana-03
req-07\tsupervisor:w-astana-sup-01
req-08\tsupervisor:w-astana-sup-01
req-09\tw-karaganda-01
req-10\tsupervisor:w-karaganda-sup-01
req-11\tw-karaganda-02
req-12\tnone
req-13\tnone
8 routed, 3 to supervisors, 2 unrouted
`;

describe('cli route', () => {
  it('routes the example requests over the example directory, given as a folder or a file', () => {
    const r = cli('route', 'flows/directory', 'flows/examples/referral-requests.yaml');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(EXPECTED);
    expect(cli('route', 'flows/directory/example.yaml', 'flows/examples/referral-requests.yaml').stdout).toBe(EXPECTED);
  });

  it('takes a plain list of requests too', () => {
    const requests = tmp('r.yaml', '- { id: a, region: karaganda, profile: legal_benefits, language: ru, urgent: false }\n- { id: b, region: karaganda, profile: legal_benefits, language: ru, urgent: false }\n');
    expect(cli('route', 'flows/directory', requests).stdout).toBe('a\tw-karaganda-02\nb\tsupervisor:w-karaganda-sup-01\n1 routed, 1 to supervisors, 0 unrouted\n');
  });

  it('a malformed directory: every problem on stderr naming file and entry, exit 1, no stack trace', () => {
    const text = readFileSync(join(ROOT, 'flows/directory/example.yaml'), 'utf8')
      .replace('profiles: [psychologist, violence]', 'profiles: [psychologist, elder]')
      .replace('organization: karaganda-territorial-centre', 'organization: karaganda-nowhere');
    const dir = tmp('x.yaml', text);
    const r = cli('route', dir, 'flows/examples/referral-requests.yaml');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: ${dir}: workers[3] (w-astana-04): profiles[1]: unknown profile "elder"\nerror: ${dir}: workers[7] (w-karaganda-02): unknown organisation "karaganda-nowhere"\n`);
  });

  it('a malformed requests file: the entries on stderr, exit 1', () => {
    const requests = tmp('r.yaml', 'requests:\n  - { id: a, region: mars, profile: assessment, language: kk, urgent: false }\n  - { id: b, region: astana, profile: assessment, language: en, urgent: false }\n');
    const r = cli('route', 'flows/directory', requests);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: ${requests}: requests[0] (a): region: unknown region "mars"\nerror: ${requests}: requests[1] (b): language: unknown language "en"\n`);
  });

  it('a file that is not there or not YAML: one line, exit 1', () => {
    const missing = cli('route', 'flows/directory', 'no-such-requests.yaml');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe('error: no-such-requests.yaml: cannot read the file\n');
    const broken = tmp('r.yaml', 'requests: [ {\n');
    expect(cli('route', 'flows/directory', broken).stderr).toMatch(new RegExp(`^error: ${broken}: not valid YAML`));
  });

  it('without a requests file it shows the usage, exit 2', () => {
    const r = cli('route', 'flows/directory');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('route <directory file|dir> <requests.yaml>');
  });
});
