import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { connectRedis, connectRedisCluster, scanKeys, type Redis, type RedisClient, type RedisCluster } from '../../src/store/redis.js';
import { startTestCluster, type TestRedisCluster } from './redis-cluster.js';

const onError = (error: Error): void => console.error(`test redis: ${error.message}`);

/** A fresh connection to the Redis that globalSetup started (or REDIS_URL). Close it in afterAll. */
export function connectTestRedis(): Promise<RedisClient> {
  return connectRedis(inject('redisUrl'), { onError });
}

/** A fresh cluster connection through the given nodes. Close it in afterAll. */
export function connectTestCluster(cluster: TestRedisCluster): Promise<RedisCluster> {
  return connectRedisCluster(cluster.urls, { onError });
}

export type RedisKind = 'single' | 'cluster';

export interface RedisTarget {
  kind: RedisKind;
  /** A new connection (a new "process"); the cluster is started on the first call in a file. */
  connect(): Promise<Redis>;
}

/**
 * The two Redis shapes a suite runs on, for `describe.each(redisTargets())`:
 * the run's single Redis, and a three-master cluster (tests/helpers/redis-cluster.ts,
 * or REDIS_CLUSTER_URLS) started once for the calling test file, on first use,
 * and stopped after it. Call at the top level of the file.
 */
export function redisTargets(): RedisTarget[] {
  let cluster: Promise<TestRedisCluster> | undefined;
  afterAll(async () => {
    if (cluster) await (await cluster).stop();
  });
  return [
    { kind: 'single', connect: connectTestRedis },
    {
      kind: 'cluster',
      connect: async () => {
        cluster ??= startTestCluster();
        return connectTestCluster(await cluster);
      },
    },
  ];
}

export interface ConnectedTarget {
  kind: RedisKind;
  /** The file's connection to this Redis (open between beforeAll and afterAll). */
  redis(): Redis;
}

/**
 * One connection per Redis shape for the whole file, for suites whose stores share
 * a connection: connected in beforeAll, cleaned of `prefix` keys and closed in afterAll.
 */
export function redisConnections(prefix: string): ConnectedTarget[] {
  const targets = redisTargets();
  const open = new Map<RedisKind, Redis>();
  beforeAll(async () => {
    for (const target of targets) open.set(target.kind, await target.connect());
  });
  afterAll(async () => {
    for (const redis of open.values()) {
      await deleteKeysWithPrefix(redis, prefix);
      redis.destroy();
    }
  });
  return targets.map(({ kind }) => ({
    kind,
    redis: () => {
      const redis = open.get(kind);
      if (!redis) throw new Error(`no ${kind} Redis connection outside the tests`);
      return redis;
    },
  }));
}

/** A key prefix no other test file or run shares, so files can run in parallel on one Redis. */
export function uniquePrefix(label = 'test'): string {
  return `${label}:${randomUUID().slice(0, 8)}:`;
}

/** Removes what a test wrote, for when REDIS_URL points at a Redis that outlives the run. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  for await (const keys of scanKeys(redis, pattern)) {
    // One DEL per key: on a cluster, keys of one node may still be in different slots.
    await Promise.all(keys.map((key) => redis.del(key)));
  }
}
