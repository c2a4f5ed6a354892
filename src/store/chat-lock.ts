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
    return this.local.run(chatKey, () => this.runHoldingLease(this.prefix + chatKey, fn));
  }

  private async runHoldingLease<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const token = randomUUID();
    await this.acquire(key, token);
    const renewal = this.keepLeaseAlive(key, token);
    try {
      return await fn();
    } finally {
      await renewal.stop();
      try {
        await releaseLease(this.redis, key, token);
      } catch (error) {
        // The task's work is done; failing it now would be a lie. The lease expires on its own.
        this.onLeaseProblem?.(asError(error));
      }
    }
  }

  private async acquire(key: string, token: string): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    while (!(await tryAcquireLease(this.redis, key, token, this.leaseMs))) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new LockTimeoutError(this.waitMs);
      // Jitter keeps two waiting processes from retrying in lockstep.
      const backoff = MIN_RETRY_MS + Math.random() * (MAX_RETRY_MS - MIN_RETRY_MS);
      await sleep(Math.min(backoff, remaining));
    }
  }

  /** Renews the lease every leaseMs/3 until stopped; one renewal in flight at a time. */
  private keepLeaseAlive(key: string, token: string): { stop(): Promise<void> } {
    let stopped = false;
    let inFlight: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;

    const renew = async (): Promise<void> => {
      try {
        const stillOwner = await extendLease(this.redis, key, token, this.leaseMs);
        if (!stillOwner && !stopped) {
          this.onLeaseProblem?.(new Error('Chat lock lease was lost before the task finished'));
          return; // Nothing left to renew.
        }
      } catch (error) {
        if (!stopped) this.onLeaseProblem?.(asError(error));
        // Keep trying: the lease may still be valid after a short network blip.
      }
      schedule();
    };
    const schedule = (): void => {
      if (stopped) return;
      timer = setTimeout(() => {
        inFlight = renew();
      }, Math.max(1, Math.floor(this.leaseMs / 3)));
      timer.unref();
    };

    schedule();
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        // Let a renewal already sent finish, so it cannot run after the release.
        await inFlight;
      },
    };
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
