/**
 * Chats in parallel, one order per chat. Tasks pushed with the same key run one
 * at a time in the order they were pushed; tasks of different keys run side by
 * side, at most `maxRunning` at once. So a family whose Telegram calls are slow
 * (retries, throttling) holds only its own queue, never another family's.
 *
 * (What @grammyjs/runner's `sequentialize` and its task limit do, in-process and
 * small; the Redis chat lock still orders a chat across processes.)
 */

export interface SequencerOptions {
  /** How many keys may run a task at the same time. */
  maxRunning?: number;
  /** A task that rejected; the queue goes on. */
  onError?: (error: unknown) => void;
}

interface Queue {
  tasks: (() => Promise<void>)[];
  running: boolean;
}

export class KeyedSequencer {
  private readonly queues = new Map<string, Queue>();
  /** Keys with work waiting for a free slot, in the order they became ready. */
  private readonly ready: string[] = [];
  private running = 0;
  private pending = 0;
  private readonly maxRunning: number;
  private readonly onError: (error: unknown) => void;
  private idleWaiters: (() => void)[] = [];

  constructor(options: SequencerOptions = {}) {
    this.maxRunning = options.maxRunning ?? 64;
    if (!Number.isInteger(this.maxRunning) || this.maxRunning <= 0) throw new RangeError(`maxRunning must be a positive integer, got ${this.maxRunning}`);
    this.onError = options.onError ?? (() => undefined);
  }

  /** Queues `task` behind the earlier tasks of `key`. Never throws: a failed task goes to onError. */
  push(key: string, task: () => Promise<void>): void {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { tasks: [], running: false };
      this.queues.set(key, queue);
    }
    queue.tasks.push(task);
    this.pending++;
    if (!queue.running && queue.tasks.length === 1) this.ready.push(key);
    this.pump();
  }

  /** Tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  /** Keys with work queued or running (no memory kept for idle keys). */
  get activeKeys(): number {
    return this.queues.size;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.maxRunning && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      const queue = this.queues.get(key);
      const task = queue?.tasks.shift();
      if (!queue || !task) continue;
      queue.running = true;
      this.running++;
      void this.run(task).then(() => {
        queue.running = false;
        this.running--;
        this.pending--;
        if (queue.tasks.length > 0) this.ready.push(key);
        else this.queues.delete(key);
        if (this.pending === 0) this.wakeIdle();
        this.pump();
      });
    }
  }

  private async run(task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      try {
        this.onError(error);
      } catch {
        // A failing reporter must not stop the queue.
      }
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
