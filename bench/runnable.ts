/**
 * How the bench starts this repository's modules in child processes: compiled with
 * plain node when the bench itself runs compiled (`npm run bench`, bench/compile.ts),
 * through tsx when it is run from source (`npx tsx bench/scale.ts`).
 */
export const COMPILED = import.meta.url.endsWith('.js');

/** Node options that load a module of this repository: tsx's loader only when running from source. */
export const LOADER_ARGS: string[] = COMPILED ? [] : ['--import', 'tsx'];

/** `bench/x.ts` → `bench/x.js` when compiled: the path of a module as this run has it. */
export function modulePath(sourcePath: string): string {
  return COMPILED ? sourcePath.replace(/\.ts$/, '.js') : sourcePath;
}

/** Extra node options for a child process from an environment variable (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
export function nodeArgs(variable: string): string[] {
  return process.env[variable]?.split(' ').filter(Boolean) ?? [];
}
