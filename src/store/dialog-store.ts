import type { StorageAdapter } from 'grammy';
import type { Redis } from './redis.js';
import { MemorySessionStorage, RedisSessionStorage } from './session-storage.js';

/**
 * The persisted dialog of one chat. `flow` + `flowVersion` say which machine
 * wrote `snapshot`, so a changed flow can migrate a conversation instead of
 * dropping it.
 */
export interface DialogRecord {
  flow: string;
  flowVersion: number;
  snapshot: unknown;
  /** Epoch milliseconds of the last save. */
  updatedAt: number;
}

export interface DialogStore {
  load(chatKey: string): Promise<DialogRecord | undefined>;
  save(chatKey: string, rec: DialogRecord): Promise<void>;
  delete(chatKey: string): Promise<void>;
}

export interface RedisDialogStoreOptions {
  prefix: string;
  /** Whole seconds; every save starts the countdown again. */
  ttlSeconds: number;
  /** Reports a stored value that is not a DialogRecord; the chat then starts afresh. */
  onCorrupt?: (chatKey: string) => void;
}

export interface MemoryDialogStoreOptions {
  ttlSeconds: number;
  now?: () => number;
  onCorrupt?: (chatKey: string) => void;
}

export function isDialogRecord(value: unknown): value is DialogRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const rec = value as Record<string, unknown>;
  return (
    typeof rec.flow === 'string' &&
    Number.isInteger(rec.flowVersion) &&
    'snapshot' in rec &&
    typeof rec.updatedAt === 'number' &&
    Number.isFinite(rec.updatedAt)
  );
}

/*
 * A dialog store is a TTL'd JSON key-value store plus a shape check, so both
 * twins reuse the session storages and differ only in where bytes live.
 * Corrupt values load as undefined rather than throwing: one bad record must
 * not wedge a family's chat — they start again, and the callback lets us count it.
 */
class ValidatingDialogStore implements DialogStore {
  constructor(
    private readonly storage: StorageAdapter<unknown>,
    private readonly onCorrupt: ((chatKey: string) => void) | undefined,
  ) {}

  async load(chatKey: string): Promise<DialogRecord | undefined> {
    const value = await this.storage.read(chatKey);
    if (value === undefined) return undefined;
    if (!isDialogRecord(value)) {
      this.onCorrupt?.(chatKey);
      return undefined;
    }
    return value;
  }

  async save(chatKey: string, rec: DialogRecord): Promise<void> {
    await this.storage.write(chatKey, rec);
  }

  async delete(chatKey: string): Promise<void> {
    await this.storage.delete(chatKey);
  }
}

export class RedisDialogStore extends ValidatingDialogStore {
  constructor(redis: Redis, options: RedisDialogStoreOptions) {
    const { prefix, ttlSeconds, onCorrupt } = options;
    // Non-JSON text is reported by the storage, wrong shapes by load(): same callback.
    super(new RedisSessionStorage<unknown>(redis, { prefix, ttlSeconds, onCorrupt }), onCorrupt);
  }
}

export class MemoryDialogStore extends ValidatingDialogStore {
  private readonly memory: MemorySessionStorage<unknown>;

  constructor(options: MemoryDialogStoreOptions) {
    const { ttlSeconds, now, onCorrupt } = options;
    const memory = new MemorySessionStorage<unknown>({ ttlSeconds, now, onCorrupt });
    super(memory, onCorrupt);
    this.memory = memory;
  }

  /** Test seam: store raw text as if an older or broken release had written it. */
  injectRaw(chatKey: string, raw: string): void {
    this.memory.injectRaw(chatKey, raw);
  }
}
