import { createClient, createCluster, createSentinel, type RedisClientType, type RedisClusterType, type RedisSentinelType } from 'redis';
import { scripts, type Scripts } from './scripts.js';

/** One Redis server (REDIS_URL), with the stores' scripts registered. */
export type RedisClient = RedisClientType<{}, {}, Scripts>;
/** A Redis Cluster (REDIS_CLUSTER_URLS), with the same scripts; commands go to the node of their key. */
export type RedisCluster = RedisClusterType<{}, {}, Scripts>;
/** A master watched by Sentinel (REDIS_SENTINEL_URLS), with the same scripts; commands go to the current master. */
export type RedisSentinel = RedisSentinelType<{}, {}, Scripts>;

/**
 * The connected Redis every store takes: a single server, a cluster or a
 * Sentinel-watched master. The typed commands, `multi()` and the scripts are the
 * same on all three. What differs (`sendCommand`, `scanIterator`, `duplicate`) is
 * not used by the stores: on a cluster a raw command needs its key for routing,
 * on Sentinel whether it may go to a replica (`sendTo`), a SCAN runs per node (or
 * page by page on Sentinel's master), and on a cluster a MULTI or script must
 * keep its keys in one slot (one hash tag).
 *
 * No store blocks a connection (no XREADGROUP BLOCK, no BLPOP): the inbox and the
 * relay outbox poll with short non-blocking reads, so one shared connection per
 * node serves every store.
 */
export type Redis = RedisClient | RedisCluster | RedisSentinel;

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

export interface ConnectSentinelOptions extends ConnectRedisOptions {
  /** The master's name in the sentinels' `sentinel monitor <name> …` (REDIS_SENTINEL_MASTER). */
  master: string;
}

/**
 * Connects to the master a set of sentinels name (any of them is enough; the
 * rest are discovered), and follows it when they promote a replica. The
 * master and replicas take `options.password` (REDIS_PASSWORD), else the
 * credentials in a URL; the sentinels only those in their URLs, as sentinels
 * often run without. Commands go to the master only (no replica reads): the stores read
 * what they have just written.
 */
export async function connectRedisSentinel(urls: readonly string[], options: ConnectSentinelOptions): Promise<RedisSentinel> {
  if (urls.length === 0) throw new Error('Redis Sentinel needs at least one sentinel URL');
  const onError = options.onError ?? reportToStderr;
  const parsed = urls.map((u) => new URL(u));
  const withCredentials = parsed.find((u) => u.password !== '');
  const fromUrl = withCredentials
    ? { password: decodeURIComponent(withCredentials.password), ...(withCredentials.username ? { username: decodeURIComponent(withCredentials.username) } : {}) }
    : {};
  const tls = parsed.some((u) => u.protocol === 'rediss:') ? { socket: { tls: true as const } } : {};
  const sentinel: RedisSentinel = createSentinel({
    name: options.master,
    sentinelRootNodes: parsed.map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 26379) })),
    nodeClientOptions: { ...(options.password !== undefined ? { password: options.password } : fromUrl), ...tls },
    sentinelClientOptions: { ...fromUrl, ...tls },
    // Every node's connection errors to one listener (otherwise they are only 'client-error' events).
    passthroughClientErrorEvents: true,
    scripts,
  });
  sentinel.on('error', (error: unknown) => onError(asError(error)));
  await sentinel.connect();
  return sentinel;
}

export interface RedisSettings {
  REDIS_URL?: string;
  /** Comma-separated root nodes of a cluster (the config refuses more than one of the three). */
  REDIS_CLUSTER_URLS?: string[];
  /** Comma-separated sentinels, with REDIS_SENTINEL_MASTER the name of the master they watch. */
  REDIS_SENTINEL_URLS?: string[];
  REDIS_SENTINEL_MASTER?: string;
  REDIS_PASSWORD?: string;
}

/** The Redis the settings name, or undefined for none (development: memory twins). */
export async function connectConfigured(settings: RedisSettings, options: Omit<ConnectRedisOptions, 'password'> = {}): Promise<Redis | undefined> {
  const withPassword = { ...options, ...(settings.REDIS_PASSWORD ? { password: settings.REDIS_PASSWORD } : {}) };
  if (settings.REDIS_CLUSTER_URLS?.length) return connectRedisCluster(settings.REDIS_CLUSTER_URLS, withPassword);
  if (settings.REDIS_SENTINEL_URLS?.length) {
    if (!settings.REDIS_SENTINEL_MASTER) throw new Error('REDIS_SENTINEL_URLS needs REDIS_SENTINEL_MASTER, the name of the master the sentinels watch');
    return connectRedisSentinel(settings.REDIS_SENTINEL_URLS, { ...withPassword, master: settings.REDIS_SENTINEL_MASTER });
  }
  if (settings.REDIS_URL) return connectRedis(settings.REDIS_URL, withPassword);
  return undefined;
}

export function isCluster(redis: Redis): redis is RedisCluster {
  return 'masters' in redis;
}

export function isSentinel(redis: Redis): redis is RedisSentinel {
  return 'getMasterNode' in redis;
}

/**
 * The same connection without node-redis's own per-command time limit: for the update's
 * path, which limits its commands with one timer (deadlines.ts) instead of a timer each.
 * One view per connection, so what calls through it can be watched in tests.
 */
export function untimed(redis: Redis): Redis {
  let view = untimedViews.get(redis);
  if (!view) untimedViews.set(redis, (view = redis.withCommandOptions({ timeout: 0 }) as unknown as Redis));
  return view;
}

const untimedViews = new WeakMap<Redis, Redis>();

/**
 * A raw command on any client; `key` routes it on a cluster (the command's first
 * key). On Sentinel, `false` says it is not read-only, so it goes to the master.
 */
export function sendTo(redis: Redis, key: string, args: string[]): Promise<unknown> {
  if (isCluster(redis)) return redis.sendCommand(key, false, args);
  if (isSentinel(redis)) return redis.sendCommand(false, args);
  return redis.sendCommand(args);
}

/** Every key matching `pattern`, over every node of a cluster (for maintenance and tests, never on a hot path). */
export async function* scanKeys(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  if (isSentinel(redis)) {
    // The master only; it throws if the master changes mid-scan (run it again).
    yield* redis.scanIterator({ MATCH: pattern, COUNT: 500 });
    return;
  }
  if (!isCluster(redis)) {
    yield* redis.scanIterator({ MATCH: pattern, COUNT: 500 });
    return;
  }
  for (const master of redis.masters) {
    const node = await redis.nodeClient(master);
    yield* node.scanIterator({ MATCH: pattern, COUNT: 500 });
  }
}
