import type { StorageAdapter } from 'grammy';
import type { Redis } from './redis.js';

/*
 * grammY session storage with a TTL that every write refreshes, so a family's
 * session disappears on its own after a quiet period. We write our own because
 * @grammyjs/storage-redis drops the TTL when used with node-redis.
 *
 * Values are stored as JSON in both twins: the memory twin then behaves like
 * Redis (no shared object references, undefined fields dropped), so a test
 * that passes on memory does not pass only because of aliasing.
 */

export interface SessionStorageOptions {
  /** Prepended to every key, e.g. "qamqor:session:". */
  prefix: string;
  /** Whole seconds; every write starts the countdown again. */
  ttlSeconds: number;
  /** A stored value that is not JSON reads as absent; this reports its key. */
  onCorrupt?: (key: string) => void;
}

export interface MemorySessionStorageOptions {
  ttlSeconds: number;
  /** Milliseconds clock; injectable so tests can move time. */
  now?: () => number;
  onCorrupt?: (key: string) => void;
}

export function assertTtlSeconds(ttlSeconds: number): void {
  // Redis EX accepts only positive integers; fail at construction, not on the first write.
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  }
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

export class RedisSessionStorage<T> implements StorageAdapter<T> {
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly onCorrupt: ((key: string) => void) | undefined;

  constructor(
    private readonly redis: Redis,
    options: SessionStorageOptions,
  ) {
    assertTtlSeconds(options.ttlSeconds);
    this.prefix = options.prefix;
    this.ttlSeconds = options.ttlSeconds;
    this.onCorrupt = options.onCorrupt;
  }

  async read(key: string): Promise<T | undefined> {
    const raw = await this.redis.get(this.prefix + key);
    if (raw === null) return undefined;
    const parsed = parseJson(raw);
    if (!parsed.ok) {
      this.onCorrupt?.(key);
      return undefined;
    }
    return parsed.value as T;
  }

  async write(key: string, value: T): Promise<void> {
    await this.redis.set(this.prefix + key, JSON.stringify(value), {
      expiration: { type: 'EX', value: this.ttlSeconds },
    });
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}

export class MemorySessionStorage<T> implements StorageAdapter<T> {
  private readonly entries = new Map<string, { json: string; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly onCorrupt: ((key: string) => void) | undefined;

  constructor(options: MemorySessionStorageOptions) {
    assertTtlSeconds(options.ttlSeconds);
    this.ttlMs = options.ttlSeconds * 1000;
    this.now = options.now ?? Date.now;
    this.onCorrupt = options.onCorrupt;
  }

  read(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) return Promise.resolve(undefined);
    if (this.now() >= entry.expiresAt) {
      this.entries.delete(key);
      return Promise.resolve(undefined);
    }
    const parsed = parseJson(entry.json);
    if (!parsed.ok) {
      this.onCorrupt?.(key);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(parsed.value as T);
  }

  write(key: string, value: T): Promise<void> {
    this.entries.set(key, { json: JSON.stringify(value), expiresAt: this.now() + this.ttlMs });
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  /** Test seam: store raw text as if an older or broken release had written it. */
  injectRaw(key: string, raw: string): void {
    this.entries.set(key, { json: raw, expiresAt: this.now() + this.ttlMs });
  }
}
