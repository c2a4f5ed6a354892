/**
 * The two-round-trip floor: what two Redis round trips cost on the same Redis,
 * the least an update that reads and writes its state can pay. Sampled beside
 * the recorded updates (bench/run.ts), so drift and neighbours fall on both.
 *
 * - rawPair: GET×2 pipelined, then SET×2 pipelined (values the size of a
 *   family's session and dialog), as the hot path's begin and commit would be
 *   without Lua;
 * - evalPair: two EVALSHA of trivial scripts, one after the other (the Lua call
 *   overhead alone).
 */
import { performance } from 'node:perf_hooks';
import type { RedisClient as Redis } from '../src/store/redis.js';

export interface Floor {
  rawPair: number[];
  evalPair: number[];
}

const SESSION = 'x'.repeat(80);
const DIALOG = 'y'.repeat(1900);
let trivialSha: string | undefined;
let n = 0;

export async function measureFloor(redis: Redis, prefix: string, into: Floor): Promise<void> {
  trivialSha ??= await redis.scriptLoad("return redis.call('EXISTS', KEYS[1])");
  const id = n++ % 100;
  const a = `${prefix}{f:${id}}:session`;
  const b = `${prefix}{f:${id}}:dialog`;
  let t0 = performance.now();
  await Promise.all([redis.get(a), redis.get(b)]);
  await Promise.all([redis.set(a, SESSION, { EX: 600 }), redis.set(b, DIALOG, { EX: 600 })]);
  into.rawPair.push(performance.now() - t0);
  t0 = performance.now();
  await redis.evalSha(trivialSha, { keys: [a] });
  await redis.evalSha(trivialSha, { keys: [b] });
  into.evalPair.push(performance.now() - t0);
}
