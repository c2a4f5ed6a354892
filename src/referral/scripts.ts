/**
 * The referral store's Lua scripts, each in a .lua file next to this one. They run by EVALSHA
 * with the SHA1 computed here and fall back to EVAL on NOSCRIPT (first use on a server, or
 * after a restart flushed the script cache), which also caches them. Typed eval/evalSha work
 * on a single client and on a cluster alike (routed by KEYS[1]), so nothing has to be
 * registered when a client is created.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from '../store/redis.js';

export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  static file(name: string): LuaScript {
    return new LuaScript(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8'));
  }

  async run(redis: Redis, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await redis.evalSha(this.sha, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return redis.eval(this.source, { keys, arguments: args });
    }
  }
}

export const WRITE_SCRIPT = LuaScript.file('write.lua');
export const LINK_SCRIPT = LuaScript.file('link.lua');
export const TAKE_DUE_SCRIPT = LuaScript.file('take-due.lua');
