import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { connectRedis, type Redis } from '../../src/store/redis.js';

/** A fresh connection to the Redis that globalSetup started (or REDIS_URL). Close it in afterAll. */
export function connectTestRedis(): Promise<Redis> {
  return connectRedis(inject('redisUrl'), {
    onError: (error) => console.error(`test redis: ${error.message}`),
  });
}

/** A key prefix no other test file or run shares, so files can run in parallel on one Redis. */
export function uniquePrefix(label = 'test'): string {
  return `${label}:${randomUUID().slice(0, 8)}:`;
}

/** Removes what a test wrote, for when REDIS_URL points at a Redis that outlives the run. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  for await (const keys of redis.scanIterator({ MATCH: pattern, COUNT: 500 })) {
    if (keys.length > 0) await redis.del(keys);
  }
}
