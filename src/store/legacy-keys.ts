/**
 * Keys of the release before the hash tags, renamed once on a single Redis.
 *
 * The handoff and params stores moved their keys under one hash tag each
 * (`<prefix>handoff:{h}:…`, `<prefix>params:{p}:…`) so they work on Redis
 * Cluster. A single Redis that ran the release before still holds open cases,
 * the relay outbox and the admins' parameters under the old names; without
 * this, they would silently be out of sight. RENAME keeps each key's value,
 * TTL and (for streams) consumer groups, and no value names a key, so the
 * renamed keys work as they are.
 *
 * Runs at start-up (src/main.ts) before any store, on a single Redis or a
 * Sentinel-watched master (the release before ran on one through REDIS_URL),
 * never on a cluster (the release before never wrote one). Stop every process
 * of the old release first: one still running would go on writing the old names.
 * Once done, a marker key makes later starts skip the scan.
 */
import { scanKeys, type RedisClient, type RedisSentinel } from './redis.js';
import { HASH_TAG as HANDOFF_TAG } from '../handoff/redis-store.js';
import { HASH_TAG as PARAMS_TAG } from '../params/redis-store.js';

export interface LegacyKeysResult {
  renamed: number;
  /** Old keys left where they were because the new name exists already (the new one wins). */
  kept: number;
}

/** The namespaces that gained a tag: `qamqor:handoff:x` → `qamqor:handoff:{h}:x`. */
const TAGGED = [
  { namespace: 'handoff:', tag: HANDOFF_TAG },
  { namespace: 'params:', tag: PARAMS_TAG },
];

export const MIGRATED_MARKER = 'migrated:hash-tags';

export async function migrateLegacyKeys(redis: RedisClient | RedisSentinel, prefix: string): Promise<LegacyKeysResult> {
  const result: LegacyKeysResult = { renamed: 0, kept: 0 };
  if ((await redis.exists(prefix + MIGRATED_MARKER)) === 1) return result;
  for (const { namespace, tag } of TAGGED) {
    const base = prefix + namespace;
    const pattern = `${base.replace(/[*?[\]\\]/g, '\\$&')}*`;
    const old: string[] = [];
    for await (const keys of scanKeys(redis, pattern)) old.push(...keys.filter((key) => !key.startsWith(`${base}${tag}:`)));
    for (const key of old) {
      let moved: number;
      try {
        moved = Number(await redis.renameNX(key, `${base}${tag}:${key.slice(base.length)}`));
      } catch (error) {
        // Expired since the scan, or renamed by another new process starting at the same time.
        if (error instanceof Error && /no such key/i.test(error.message)) continue;
        throw error;
      }
      if (moved === 1) result.renamed++;
      else result.kept++;
    }
  }
  await redis.set(prefix + MIGRATED_MARKER, String(Date.now()));
  return result;
}
