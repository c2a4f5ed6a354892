/**
 * One time limit for many Redis commands, kept by one timer.
 *
 * node-redis limits every command by itself (5 s by default) with an
 * `AbortSignal.timeout`: a signal, a listener and a timer per command, and the
 * timer fires even after the reply came, making a DOMException. On the update's
 * path (three commands an update) that was about 6% of an update's CPU. The hot path
 * sends its commands without node-redis's limit (`untimed`, redis.ts) and races them
 * here instead: a command still unanswered after `limitMs` is rejected by a sweep
 * that runs every `tickMs` while anything is pending, so the caller fails as before
 * (at most one tick late). The command itself stays queued on its connection until
 * Redis answers or the connection drops, as it did when node-redis gave up on it.
 */
import { performance } from 'node:perf_hooks';

export class RedisTimeoutError extends Error {
  constructor(what: string, limitMs: number) {
    super(`${what}: Redis did not answer within ${limitMs} ms`);
    this.name = 'RedisTimeoutError';
  }
}

interface Pending {
  at: number;
  reject: (error: Error) => void;
}

export class Deadlines {
  /** In the order raced; with one limit for all, also in the order they expire. */
  private readonly pending = new Set<Pending>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly limitMs: number,
    private readonly what: string,
    private readonly tickMs = Math.max(10, Math.ceil(limitMs / 10)),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limitMs > 0)) throw new RangeError('limitMs must be positive');
  }

  /** `work`, or a RedisTimeoutError once it has taken longer than the limit. */
  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { at: this.now() + this.limitMs, reject };
      this.pending.add(entry);
      this.timer ??= this.startSweeping();
      work.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(entry);
          reject(error);
        },
      );
    });
  }

  /** Commands raced and not yet answered. */
  get size(): number {
    return this.pending.size;
  }

  private startSweeping(): ReturnType<typeof setInterval> {
    const timer = setInterval(() => this.sweep(), this.tickMs);
    timer.unref(); // a pending command keeps the process alive through its connection, not through this timer
    return timer;
  }

  private sweep(): void {
    const now = this.now();
    for (const entry of this.pending) {
      if (entry.at > now) break;
      this.pending.delete(entry);
      entry.reject(new RedisTimeoutError(this.what, this.limitMs));
    }
    if (this.pending.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
