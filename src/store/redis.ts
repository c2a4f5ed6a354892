import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis';
import { scripts, type Scripts } from './scripts.js';

/** One Redis server (REDIS_URL), with the stores' scripts registered. */
export type RedisClient = RedisClientType<{}, {}, Scripts>;
/** A Redis Cluster (REDIS_CLUSTER_URLS), with the same scripts; commands go to the node of their key. */
export type RedisCluster = RedisClusterType<{}, {}, Scripts>;

/**
 * The connected Redis every store takes: a single server or a cluster. The typed
 * commands, `multi()` and the scripts are the same on both. What differs
 * (`sendCommand`, `scanIterator`, `duplicate`) is not used by the stores: on a
 * cluster a raw command needs its key for routing (`sendTo`), a SCAN runs per
 * node, and a MULTI or script must keep its keys in one slot (one hash tag).
 *
 * No store blocks a connection (no XREADGROUP BLOCK, no BLPOP): the inbox and the
 * relay outbox poll with short non-blocking reads, so one shared connection per
 * node serves every store.
 */
export type Redis = RedisClient | RedisCluster;

export interface ConnectRedisOptions {
  /**
   * Called for connection errors. node-redis emits 'error' on every failed
   * reconnect attempt, and an EventEmitter with no 'error' listener crashes the
   * process — so there is always a listener, and the caller decides how to log.
   */
  onError?: (error: Error) => void;
  /** For servers that take a password not written into the URL(s) (REDIS_PASSWORD). */
  password?: string;
}

/** Default reporter: the message only, never the URL (it may carry a password). */
function reportToStderr(error: Error): void {
  console.error(`redis: ${error.message}`);
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<RedisClient> {
  const onError = options.onError ?? reportToStderr;
  const client: RedisClient = createClient({ url, scripts, ...(options.password ? { password: options.password } : {}) });
  client.on('error', (error: unknown) => onError(asError(error)));
  await client.connect();
  return client;
}

/**
 * Connects to a cluster through any of its nodes (the rest are discovered).
 * The discovered nodes' connections do not inherit the root URLs' settings, so
 * the password (from a URL or `options.password`) and TLS go in `defaults`.
 */
export async function connectRedisCluster(urls: readonly string[], options: ConnectRedisOptions = {}): Promise<RedisCluster> {
  if (urls.length === 0) throw new Error('a Redis Cluster needs at least one node URL');
  const onError = options.onError ?? reportToStderr;
  const parsed = urls.map((u) => new URL(u));
  const withCredentials = parsed.find((u) => u.password !== '');
  const password = options.password ?? (withCredentials ? decodeURIComponent(withCredentials.password) : undefined);
  const username = withCredentials?.username ? decodeURIComponent(withCredentials.username) : undefined;
  const tls = parsed.some((u) => u.protocol === 'rediss:');
  const cluster: RedisCluster = createCluster({
    rootNodes: urls.map((url) => ({ url })),
    defaults: {
      ...(password !== undefined ? { password } : {}),
      ...(username !== undefined ? { username } : {}),
      ...(tls ? { socket: { tls: true as const } } : {}),
    },
    scripts,
  });
  cluster.on('error', (error: unknown) => onError(asError(error)));
  // A node's own connection problems (the cluster carries on with the others, or redirects).
  cluster.on('node-error', (error: unknown) => onError(asError(error)));
  // The single client says 'end' when closed, and callers wait for it (app.ts stops its params watcher).
  cluster.on('disconnect', () => cluster.emit('end'));
  await cluster.connect();
  return cluster;
}

export interface RedisSettings {
  REDIS_URL?: string;
  /** Comma-separated root nodes of a cluster; wins over REDIS_URL (the config refuses both). */
  REDIS_CLUSTER_URLS?: string[];
  REDIS_PASSWORD?: string;
}

/** The Redis the settings name, or undefined for none (development: memory twins). */
export async function connectConfigured(settings: RedisSettings, options: Omit<ConnectRedisOptions, 'password'> = {}): Promise<Redis | undefined> {
  const withPassword = { ...options, ...(settings.REDIS_PASSWORD ? { password: settings.REDIS_PASSWORD } : {}) };
  if (settings.REDIS_CLUSTER_URLS?.length) return connectRedisCluster(settings.REDIS_CLUSTER_URLS, withPassword);
  if (settings.REDIS_URL) return connectRedis(settings.REDIS_URL, withPassword);
  return undefined;
}

export function isCluster(redis: Redis): redis is RedisCluster {
  return 'masters' in redis;
}

/** A raw command on either client; `key` routes it on a cluster (the command's first key). */
export function sendTo(redis: Redis, key: string, args: string[]): Promise<unknown> {
  return isCluster(redis) ? redis.sendCommand(key, false, args) : redis.sendCommand(args);
}

/** Every key matching `pattern`, over every node of a cluster (for maintenance and tests, never on a hot path). */
export async function* scanKeys(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  if (!isCluster(redis)) {
    yield* redis.scanIterator({ MATCH: pattern, COUNT: 500 });
    return;
  }
  for (const master of redis.masters) {
    const node = await redis.nodeClient(master);
    yield* node.scanIterator({ MATCH: pattern, COUNT: 500 });
  }
}
