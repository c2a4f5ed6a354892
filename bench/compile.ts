/**
 * `npm run bench` first compiles the repository's TypeScript to plain JavaScript in
 * `.bench-build/` (same layout, assets copied beside it), then runs the bench from
 * there with plain `node`: Qamqor is measured as the Dockerfile runs it (compiled, no
 * loader), like the conversations plugin, which comes compiled from npm. Under tsx
 * every function of ours would also pay esbuild's `keepNames` wrapper (a
 * defineProperty per closure made) and the loader thread's hooks.
 *
 * esbuild transforms file by file (no bundling, imports kept), which takes about a
 * second; types are checked by `npm run typecheck`, not here.
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD_DIR = join(ROOT, '.bench-build');
/** What the bench and the bot processes import or read at run time. */
const TREES = ['src', 'flows', 'bench', 'tests/helpers', 'locales'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

const all = TREES.flatMap((t) => files(join(ROOT, t)));
const sources = all.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
rmSync(BUILD_DIR, { recursive: true, force: true });
await build({ entryPoints: sources, outdir: BUILD_DIR, outbase: ROOT, bundle: false, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' });
// YAML, Lua, locale JSON: read next to the code that reads them (import.meta.url-relative paths).
for (const asset of all.filter((f) => !f.endsWith('.ts'))) {
  const to = join(BUILD_DIR, relative(ROOT, asset));
  mkdirSync(dirname(to), { recursive: true });
  cpSync(asset, to);
}
console.log(`bench: compiled ${sources.length} modules to ${relative(ROOT, BUILD_DIR)}/`);
