/**
 * (With Redis the bot now runs src/store/hot-path.ts: the same states per chat, in the chat's
 * own keys, with the session and dialog in the same two round trips. RedisUpdateDedup below is
 * the release before's layout, kept for its tests and read by the hot path as a fallback.)
 *
 * Once per update. Telegram delivers an update again after a crash before its
 * offset was confirmed (long polling hands out the whole unconfirmed batch
 * again) and retries a webhook that answered slowly or with an error. Handled
 * twice, the same typed "3" would answer the next question too.
 *
 * `<prefix><update_id>` (e.g. `qamqor:seen:123456789`), kept a day, the longest
 * Telegram keeps an update, says how far the update got:
 *
 *   run:<token>  claimed by the holder of the lock lease <token>; it has done nothing yet
 *   sent         it has begun to act: a Bot API call, a write of the family's data
 *   done         handled (also when it failed and the family was told so)
 *
 * A delivery that finds
 *   nothing             handles the update;
 *   sent or done        is dropped: it changes nothing and sends nothing;
 *   run:<t>, lock held  waits for the lock, like any update of that chat, then looks again;
 *   run:<t>, lock free  its holder died (or failed) before acting, so nothing of the update
 *                       happened: it is handled again.
 * So the family never gets a second reply or a doubled answer, and an update
 * that never acted is not lost. The price: after a crash between the first act
 * and the end, the rest of that update's replies is lost (what was saved stays,
 * and /start → Continue shows the screen again). That is the safer failure.
 *
 * The claim is taken in the same round trip as the lock (one Lua script), and
 * given back with it: a private chat's updates queue on the chat lock anyway;
 * any other update (the operators' group) takes a lock of its own update id.
 */
import { MemoryChatLock, type LeaseHooks, type RedisChatLock } from './chat-lock.js';
import type { Redis } from './redis.js';

/** What a dropped delivery found. */
export type Duplicate = 'sent' | 'done';
/** A duplicate, or 'stale': older than an update already applied for its chat (src/store/hot-path.ts). */
export type Dropped = Duplicate | 'stale';

export type Once<T> =
  | { handled: true; value: T; /** an earlier delivery was claimed but never acted */ rerun: boolean }
  | { handled: false; seen: Dropped };

/** The handler's side of a claim. */
export interface UpdateClaim {
  /** Call before anything that must not happen twice. Idempotent: the first call records it, later ones wait for it. */
  commit(): Promise<void>;
  /**
   * Call before a write of the chat's session or dialog, when the store keeps writes until
   * the update ends (src/store/hot-path.ts); without it a write is fenced by commit.
   */
  wrote?(): Promise<void>;
}

export interface UpdateDedup {
  /**
   * Runs `fn` for the first delivery of `updateId` (or one whose earlier delivery
   * never acted), holding the lock `lockKey` of the lock this store was built with.
   */
  once<T>(updateId: number, lockKey: string, fn: (claim: UpdateClaim) => Promise<T>): Promise<Once<T>>;
}

export const DAY_SECONDS = 24 * 60 * 60;

/** Read by a later /metrics. Counts since the process started, over every store. */
export const updateDedupStats = {
  /** Updates handled (first deliveries and re-runs). */
  handled: 0,
  /** Handled again because the earlier delivery never acted. */
  reruns: 0,
  /** Deliveries dropped, by what they found. */
  dropped: { sent: 0, done: 0 } satisfies Record<Duplicate, number>,
  /** Dropped because an update after it was already applied for its chat (out of order across processes). */
  outOfOrder: 0,
};

export function countOnce<T>(outcome: Once<T>): Once<T> {
  if (outcome.handled) {
    updateDedupStats.handled++;
    if (outcome.rerun) updateDedupStats.reruns++;
  } else if (outcome.seen === 'stale') {
    updateDedupStats.outOfOrder++;
  } else {
    updateDedupStats.dropped[outcome.seen]++;
  }
  return outcome;
}

/*
 * KEYS[1] the update's key, KEYS[2] the lock; ARGV[1] lock token, ARGV[2] lease ms, ARGV[3] TTL s.
 * A claim whose holder still holds the lock is 'busy' like the lock itself; once the lock is free,
 * a leftover run:<token> is a holder that died before acting.
 */
const CLAIM = `
local seen = redis.call('GET', KEYS[1])
if seen == 'sent' or seen == 'done' then return seen end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'busy' end
redis.call('SET', KEYS[1], 'run:' .. ARGV[1], 'EX', ARGV[3])
if seen then return 'rerun' end
return 'new'`;

/* ARGV[1] lock token, ARGV[2] 'done' or 'abandon' (failed before acting: a redelivery may run it), ARGV[3] TTL s. */
const RELEASE = `
if ARGV[2] == 'done' then
  redis.call('SET', KEYS[1], 'done', 'EX', ARGV[3])
elseif redis.call('GET', KEYS[1]) == 'run:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;

export interface UpdateDedupOptions {
  /** Prepended to the update id, e.g. "qamqor:seen:". */
  prefix: string;
  /** How long an update is remembered; a day by default (Telegram keeps an update at most 24 hours). */
  ttlSeconds?: number;
}

export class RedisUpdateDedup implements UpdateDedup {
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(
    private readonly redis: Redis,
    private readonly lock: RedisChatLock,
    options: UpdateDedupOptions,
  ) {
    this.prefix = options.prefix;
    this.ttlSeconds = positiveSeconds(options.ttlSeconds ?? DAY_SECONDS);
  }

  async once<T>(updateId: number, lockKey: string, fn: (claim: UpdateClaim) => Promise<T>): Promise<Once<T>> {
    const key = this.prefix + String(updateId);
    const ttl = String(this.ttlSeconds);
    let rerun = false;
    let committed: Promise<void> | undefined;
    let finished = false;
    const claim: UpdateClaim = {
      commit: () => {
        if (finished) return Promise.resolve(); // a timer the handler left behind
        committed ??= this.redis.set(key, 'sent', { expiration: { type: 'EX', value: this.ttlSeconds } }).then(
          () => undefined,
          (error: unknown) => {
            committed = undefined; // not recorded: the act it guards does not happen either
            throw error;
          },
        );
        return committed;
      },
    };
    const hooks: LeaseHooks<Duplicate> = {
      tryAcquire: async (lockRedisKey, token, leaseMs) => {
        const reply = await this.redis.eval(CLAIM, { keys: [key, lockRedisKey], arguments: [token, String(leaseMs), ttl] });
        if (reply === 'sent' || reply === 'done') return { refused: reply };
        if (reply === 'busy') return 'busy';
        rerun = reply === 'rerun';
        return 'acquired';
      },
      release: async (lockRedisKey, token, ok) => {
        finished = true;
        // A commit once started may have reached Redis even if its reply did not: count it as acted.
        const outcome = ok || committed !== undefined ? 'done' : 'abandon';
        await this.redis.eval(RELEASE, { keys: [key, lockRedisKey], arguments: [token, outcome, ttl] });
      },
    };
    const run = await this.lock.runWith(lockKey, hooks, () => fn(claim));
    return countOnce(run.ran ? { handled: true, value: run.value, rerun } : { handled: false, seen: run.refused });
  }
}

export interface MemoryUpdateDedupOptions {
  ttlSeconds?: number;
  /** Milliseconds clock; injectable so tests can move time. */
  now?: () => number;
}

/** The terminal demo's and unit tests' twin: one process, so a claim is never left behind by a crash. */
export class MemoryUpdateDedup implements UpdateDedup {
  private readonly seen = new Map<number, { state: 'run' | Duplicate; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private nextSweep = 0;

  constructor(
    private readonly lock: MemoryChatLock = new MemoryChatLock(),
    options: MemoryUpdateDedupOptions = {},
  ) {
    this.ttlMs = positiveSeconds(options.ttlSeconds ?? DAY_SECONDS) * 1000;
    this.now = options.now ?? Date.now;
  }

  async once<T>(updateId: number, lockKey: string, fn: (claim: UpdateClaim) => Promise<T>): Promise<Once<T>> {
    const outcome = await this.lock.run(lockKey, async (): Promise<Once<T>> => {
      this.sweep();
      const found = this.get(updateId);
      if (found === 'sent' || found === 'done') return { handled: false, seen: found };
      // Under the lock nobody else runs this update; a leftover 'run' failed before acting.
      const rerun = found === 'run';
      this.set(updateId, 'run');
      let committed = false;
      let finished = false;
      const claim: UpdateClaim = {
        commit: async () => {
          if (finished || committed) return;
          committed = true;
          this.set(updateId, 'sent');
        },
      };
      let ok = false;
      try {
        const value = await fn(claim);
        ok = true;
        return { handled: true, value, rerun };
      } finally {
        finished = true;
        if (ok || committed) this.set(updateId, 'done');
        else this.seen.delete(updateId);
      }
    });
    return countOnce(outcome);
  }

  /** How many updates are remembered (expired ones are swept once a minute). */
  get size(): number {
    return this.seen.size;
  }

  private get(updateId: number): 'run' | Duplicate | undefined {
    const entry = this.seen.get(updateId);
    if (entry === undefined || entry.expiresAt <= this.now()) return undefined;
    return entry.state;
  }

  private set(updateId: number, state: 'run' | Duplicate): void {
    this.seen.set(updateId, { state, expiresAt: this.now() + this.ttlMs });
  }

  private sweep(): void {
    const now = this.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + 60_000;
    for (const [id, entry] of this.seen) if (entry.expiresAt <= now) this.seen.delete(id);
  }
}

/*
 * The fence: what an update does that must not happen twice records first that
 * it has acted. Bot API calls are fenced on the update's own Api (createBot);
 * writes of a chat's dialog and session here, by the chat they are for: a
 * process handles one update of a chat at a time (the chat lock), so the chat
 * key names the claim. (Not AsyncLocalStorage: on Node 20 it slowed every update
 * by about a quarter.) The handoff store and the handoff service's own Bot API
 * calls are not fenced: the store is idempotent on its own (a second open case
 * is refused, status changes compare versions, relays are deduplicated by
 * update id), so an update run again after a crash cannot open a second case
 * or relay a message twice; at worst a notice in the operators' topic repeats.
 */
export class ChatClaims {
  private readonly running = new Map<string, UpdateClaim>();

  /** Runs `fn` as the handling of `claim`, the update of the chat `chatKey`. */
  async during<T>(chatKey: string, claim: UpdateClaim, fn: () => Promise<T>): Promise<T> {
    this.running.set(chatKey, claim);
    try {
      return await fn();
    } finally {
      if (this.running.get(chatKey) === claim) this.running.delete(chatKey);
    }
  }

  /** Records that the update the chat is handling has acted; outside an update (timers, the CLI) it does nothing. */
  async commit(chatKey: string): Promise<void> {
    await this.running.get(chatKey)?.commit();
  }

  /** Records that the update the chat is handling writes its session or dialog (UpdateClaim.wrote, else commit). */
  async wrote(chatKey: string): Promise<void> {
    const claim = this.running.get(chatKey);
    await (claim?.wrote ? claim.wrote() : claim?.commit());
  }

  /**
   * `store` with the methods `writes` (each takes the chat key first) committing
   * the chat's update before they run. Everything else is the store itself.
   */
  fence<T extends object>(store: T, writes: readonly (keyof T & string)[]): T {
    const wrapped = new Map<string, { original: unknown; fenced: unknown }>();
    return new Proxy(store, {
      get: (target, name) => {
        const value: unknown = Reflect.get(target, name, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (typeof name !== 'string' || !(writes as readonly string[]).includes(name)) return method.bind(target);
        let entry = wrapped.get(name);
        if (entry?.original !== method) {
          // Looked up on each call, so a method replaced later (a benchmark's timer) is fenced too.
          entry = {
            original: method,
            fenced: async (key: unknown, ...rest: unknown[]) => {
              await this.wrote(String(key));
              return method.call(target, key, ...rest);
            },
          };
          wrapped.set(name, entry);
        }
        return entry.fenced;
      },
    });
  }
}

/**
 * Whether a Bot API call counts as the update acting. Reads (getMe, getChat…) do not, and
 * neither does answerCallbackQuery: it only stops the button's spinner, comes first (before
 * the press changes anything) and is harmless when a redelivery answers it again — counted,
 * it would mark the update acted with the state from before the press, and a process dying
 * after the next screen left would keep that older state.
 */
export const actsOnTelegram = (method: string): boolean => !method.startsWith('get') && method !== 'answerCallbackQuery';

function positiveSeconds(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError(`ttlSeconds must be a positive integer, got ${seconds}`);
  return seconds;
}
