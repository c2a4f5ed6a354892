/**
 * The parameters store in Redis, shared by every process (every key under
 * `prefix` + `{p}:`, one hash tag, so the set script's three keys are in one
 * Redis Cluster slot):
 *   <prefix>values   hash  "<param>|<region>|<from>" → JSON of the stored value
 *   <prefix>version  int   bumped by every write; processes poll it (src/params/live.ts)
 *   <prefix>audit    stream, one entry per change: the new value and the one it replaced
 *   <prefix>pending:<token>  hash: a change waiting for its confirm button (and who proposed it), with a TTL
 * No TTL on values and audit: they are configuration, not personal data.
 * The scripts are src/params/lua/*.lua (registered by src/store/scripts.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from '../store/redis.js';
import { valueField, type ParamAuditEntry, type ParamChange, type ParamsStore, type PendingChange, type StoredParam } from './store.js';

/** Every key of the store has it (see above). */
export const HASH_TAG = '{p}';

export class RedisParamsStore implements ParamsStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    /** e.g. "qamqor:params:"; the store adds its hash tag after it. */
    options: { prefix: string },
  ) {
    this.prefix = `${options.prefix}${HASH_TAG}:`;
  }

  async version(): Promise<number> {
    return Number((await this.redis.get(`${this.prefix}version`)) ?? 0);
  }

  async values(): Promise<StoredParam[]> {
    const all = await this.redis.hGetAll(`${this.prefix}values`);
    return Object.values(all).flatMap((raw) => readStored(raw) ?? []);
  }

  async set(change: ParamChange, by: number, at: number): Promise<ParamAuditEntry> {
    const stored: StoredParam = { ...change, setBy: by, setAt: at };
    const keys = [`${this.prefix}values`, `${this.prefix}version`, `${this.prefix}audit`];
    const previous = String(await this.redis.paramsSet(keys, [valueField(change), JSON.stringify(stored)]));
    const replaced = readStored(previous)?.value;
    return { ...stored, ...(replaced !== undefined ? { previous: replaced } : {}) };
  }

  async auditTrail(): Promise<ParamAuditEntry[]> {
    const entries = await this.redis.xRange(`${this.prefix}audit`, '-', '+');
    return (entries ?? []).flatMap(({ message }) => {
      const stored = readStored(message.entry ?? '');
      if (!stored) return [];
      const previous = readStored(message.previous ?? '')?.value;
      return [{ ...stored, ...(previous !== undefined ? { previous } : {}) }];
    });
  }

  async propose(change: PendingChange, ttlSeconds: number): Promise<string> {
    const token = randomBytes(6).toString('base64url');
    const key = `${this.prefix}pending:${token}`;
    await this.redis.multi().hSet(key, { by: String(change.proposedBy), change: JSON.stringify(change) }).expire(key, ttlSeconds).exec();
    return token;
  }

  async take(token: string, by: number): Promise<PendingChange | 'not_yours' | undefined> {
    const raw = await this.redis.paramsTake([`${this.prefix}pending:${token}`], [String(by)]);
    if (typeof raw !== 'string') return undefined;
    if (raw === 'not_yours') return raw;
    try {
      return JSON.parse(raw) as PendingChange;
    } catch {
      return undefined;
    }
  }
}

/** A stored value, or undefined for an empty or unreadable one (never a crash over one bad field). */
function readStored(raw: string): StoredParam | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as StoredParam;
    return typeof v.value === 'number' && typeof v.from === 'string' && typeof v.param === 'string' && typeof v.region === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
