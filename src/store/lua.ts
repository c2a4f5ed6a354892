/**
 * Lua scripts as node-redis script definitions. The source lives in `.lua`
 * files next to the store that runs it; the definitions are registered with the
 * client once (src/store/scripts.ts → createClient/createCluster `scripts`), so
 * node-redis sends EVALSHA, falls back to EVAL on NOSCRIPT (first use, or a
 * restarted Redis), and on a cluster routes the call to the node of its first key.
 */
import { readFileSync } from 'node:fs';
import { defineScript, type CommandParser, type RedisArgument } from 'redis';

/** Reads a `.lua` file given relative to the caller (`import.meta.url`). */
export function readLua(file: string, base: string | URL): string {
  return readFileSync(new URL(file, base), 'utf8');
}

/**
 * A script called as `redis.<name>(keys, args)`. Every key it touches must be
 * in `keys` or share their hash tag: on a cluster the keys of one call must
 * hash to one slot (tests/cluster/slots.test.ts checks every registered script).
 */
export function luaScript(source: string) {
  return defineScript({
    SCRIPT: source,
    parseCommand(parser: CommandParser, keys: readonly RedisArgument[], args: readonly RedisArgument[]) {
      parser.pushKeysLength([...keys]);
      parser.pushVariadic([...args]);
    },
    // The reply as Redis sent it; each store decodes its own.
    transformReply: undefined as unknown as () => unknown,
  });
}

/** A Lua table literal of strings, for a header that hands constants from TypeScript to a script. */
export function luaStrings(values: readonly string[]): string {
  return `{ ${values.map((v) => `'${v.replace(/[\\']/g, '\\$&')}'`).join(', ')} }`;
}
