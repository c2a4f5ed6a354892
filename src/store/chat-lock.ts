import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from './redis.js';

/**
 * Per-chat ordering: updates of one chat are handled one at a time, in
 * arrival order, so an actor is never restored twice from the same snapshot.
 * Different chats do not wait for each other.
 */
export interface ChatLock {
  run<T>(chatKey: string, fn: () => Promise<T>): Promise<T>;
}

export class LockTimeoutError extends Error {
  // No chat key in the message: logs carry no personal data.
  constructor(readonly waitMs: number) {
    super(`Gave up waiting ${waitMs} ms for a chat lock held elsewhere`);
    this.name = 'LockTimeoutError';
  }
}

const ignore = (): void => {};

/** In-process ordering: one promise chain per key, dropped when the key goes idle. */
export class MemoryChatLock implements ChatLock {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(chatKey: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(chatKey) ?? Promise.resolve();
    const result = previous.then(fn);
    // The chain continues past a failure; the caller still sees the rejection via `result`.
    const tail = result.then(ignore, ignore);
    this.tails.set(chatKey, tail);
    void tail.then(() => {
      if (this.tails.get(chatKey) === tail) this.tails.delete(chatKey);
    });
    return result;
  }

  /** Keys with queued or running work; 0 when idle (no per-chat memory leak). */
  get activeKeyCount(): number {
    return this.tails.size;
  }
}

/*
 * Lease primitives. Each Lua script touches one key and compares the owner
 * token first, so a holder whose lease already expired can neither delete nor
 * extend a lock that someone else now owns.
 */

const RELEASE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

const EXTEND_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

export async function tryAcquireLease(redis: Redis, key: string, token: string, leaseMs: number): Promise<boolean> {
  const reply = await redis.set(key, token, { condition: 'NX', expiration: { type: 'PX', value: leaseMs } });
  return reply === 'OK';
}

export async function releaseLease(redis: Redis, key: string, token: string): Promise<boolean> {
  const deleted = await redis.eval(RELEASE_IF_OWNER, { keys: [key], arguments: [token] });
  return deleted === 1;
}

export async function extendLease(redis: Redis, key: string, token: string, leaseMs: number): Promise<boolean> {
  const extended = await redis.eval(EXTEND_IF_OWNER, { keys: [key], arguments: [token, String(leaseMs)] });
  return extended === 1;
}

/**
 * How a lease is taken and given back, for a caller that must do more in the
 * same round trip: the update dedup claims the update together with the lock
 * (src/store/update-dedup.ts).
 */
export interface LeaseHooks<R> {
  /**
   * One attempt. 'acquired' means it did `SET key token NX PX leaseMs`; 'busy'
   * waits and tries again, as for a lock held elsewhere; `{ refused }` gives up
   * at once, without the lock and without running the task.
   */
  tryAcquire(key: string, token: string, leaseMs: number): Promise<'acquired' | 'busy' | { refused: R }>;
  /** Gives the lease back: deletes `key` if it still holds `token`. `ok` says whether the task resolved. */
  release(key: string, token: string, ok: boolean): Promise<void>;
}

export type LeaseRun<T, R> = { ran: true; value: T } | { ran: false; refused: R };

export interface RedisChatLockOptions {
  prefix: string;
  /** How long a lock outlives a crashed holder. Renewed every leaseMs/3 while the task runs. */
  leaseMs?: number;
  /** How long to wait for another process's lock before throwing LockTimeoutError. */
  waitMs?: number;
  /** The lease could not be renewed (lost or Redis unreachable); the task keeps running. */
  onLeaseProblem?: (error: Error) => void;
}

const MIN_RETRY_MS = 5;
const MAX_RETRY_MS = 50;

/**
 * Ordering across processes. Tasks of one key are first queued in-process
 * (so this process never polls Redis against itself), then each takes a Redis
 * lease `SET NX PX`, retried with jitter until `waitMs`.
 */
export class RedisChatLock implements ChatLock {
  private readonly local = new MemoryChatLock();
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly waitMs: number;
  private readonly onLeaseProblem: ((error: Error) => void) | undefined;

  constructor(
    private readonly redis: Redis,
    options: RedisChatLockOptions,
  ) {
    this.prefix = options.prefix;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.waitMs = options.waitMs ?? 60_000;
    this.onLeaseProblem = options.onLeaseProblem;
    if (!Number.isInteger(this.leaseMs) || this.leaseMs <= 0) {
      throw new RangeError(`leaseMs must be a positive integer, got ${this.leaseMs}`);
    }
  }

  run<T>(chatKey: string, fn: () => Promise<T>): Promise<T> {
    return this.local.run(chatKey, async () => {
      const outcome = await this.runHoldingLease(this.prefix + chatKey, this.plainLease, fn);
      if (!outcome.ran) throw new Error('a plain lease is never refused');
      return outcome.value;
    });
  }

  /**
   * As run, but the lease is taken and given back by `hooks`, which may refuse
   * to run the task at all. Same in-process queue, waiting, renewal and release
   * on failure as run.
   */
  runWith<T, R>(chatKey: string, hooks: LeaseHooks<R>, fn: () => Promise<T>): Promise<LeaseRun<T, R>> {
    return this.local.run(chatKey, () => this.runHoldingLease(this.prefix + chatKey, hooks, fn));
  }

  private readonly plainLease: LeaseHooks<never> = {
    tryAcquire: async (key, token, leaseMs) => ((await tryAcquireLease(this.redis, key, token, leaseMs)) ? 'acquired' : 'busy'),
    release: async (key, token) => void (await releaseLease(this.redis, key, token)),
  };

  private async runHoldingLease<T, R>(key: string, hooks: LeaseHooks<R>, fn: () => Promise<T>): Promise<LeaseRun<T, R>> {
    const token = randomUUID();
    const refusal = await this.acquire(key, token, hooks);
    if (refusal) return { ran: false, refused: refusal.refused };
    const renewal = keepLeaseAlive(this.redis, key, token, this.leaseMs, 'the task', this.onLeaseProblem);
    let ok = false;
    try {
      const value = await fn();
      ok = true;
      return { ran: true, value };
    } finally {
      await renewal.stop();
      try {
        await hooks.release(key, token, ok);
      } catch (error) {
        // The task's work is done; failing it now would be a lie. The lease expires on its own.
        this.onLeaseProblem?.(asError(error));
      }
    }
  }

  /** Takes the lease (undefined) or returns the hooks' refusal. */
  private async acquire<R>(key: string, token: string, hooks: LeaseHooks<R>): Promise<{ refused: R } | undefined> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const attempt = await hooks.tryAcquire(key, token, this.leaseMs);
      if (attempt === 'acquired') return undefined;
      if (attempt !== 'busy') return attempt;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new LockTimeoutError(this.waitMs);
      // Jitter keeps two waiting processes from retrying in lockstep.
      const backoff = MIN_RETRY_MS + Math.random() * (MAX_RETRY_MS - MIN_RETRY_MS);
      await sleep(Math.min(backoff, remaining));
    }
  }
}

/**
 * Renews a held lease every leaseMs/3 until stopped, one renewal in flight at a
 * time; `onLost` hears a lease found taken (`lostWhat`: what was still running) or
 * an error (a short network blip: it keeps trying, the lease may still be valid).
 */
export function keepLeaseAlive(redis: Redis, key: string, token: string, leaseMs: number, lostWhat: string, onLost?: (error: Error) => void): { stop(): Promise<void> } {
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const renew = async (): Promise<void> => {
    try {
      if (!(await extendLease(redis, key, token, leaseMs)) && !stopped) {
        onLost?.(new Error(`Chat lock lease was lost before ${lostWhat} finished`));
        return; // nothing left to renew
      }
    } catch (error) {
      if (!stopped) onLost?.(asError(error));
    }
    schedule();
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => (inFlight = renew()), Math.max(1, Math.floor(leaseMs / 3)));
    timer.unref();
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight; // a renewal already sent must not land after the release
    },
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
