/**
 * The parameters store in Redis, shared by every process:
 *   <prefix>values   hash  "<param>|<region>|<from>" → JSON of the stored value
 *   <prefix>version  int   bumped by every write; processes poll it (src/params/live.ts)
 *   <prefix>audit    stream, one entry per change: the new value and the one it replaced
 *   <prefix>pending:<token>  hash: a change waiting for its confirm button (and who proposed it), with a TTL
 * No TTL on values and audit: they are configuration, not personal data.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from '../store/redis.js';
import { valueField, type ParamAuditEntry, type ParamChange, type ParamsStore, type PendingChange, type StoredParam } from './store.js';

/** Value, version and audit change together, so no process sees a new value without its audit entry. */
const SET = `
local previous = redis.call('HGET', KEYS[1], ARGV[1]) or ''
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], '*', 'entry', ARGV[2], 'previous', previous)
return previous
`;

/** Only the admin who proposed a change may confirm or cancel it; the first press takes it. */
const TAKE = `
local by = redis.call('HGET', KEYS[1], 'by')
if not by then return false end
if by ~= ARGV[1] then return 'not_yours' end
local change = redis.call('HGET', KEYS[1], 'change')
redis.call('DEL', KEYS[1])
return change
`;

export class RedisParamsStore implements ParamsStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    options: { prefix: string },
  ) {
    this.prefix = options.prefix;
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
    const previous = String(await this.redis.eval(SET, { keys, arguments: [valueField(change), JSON.stringify(stored)] }));
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
    const raw = await this.redis.eval(TAKE, { keys: [`${this.prefix}pending:${token}`], arguments: [String(by)] });
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
