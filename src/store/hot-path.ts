/**
 * An update in two Redis round trips (issue 12), one order per chat across processes.
 *
 *   begin   (hot-path-begin.lua)  claims the update, takes the chat's lock in update_id
 *           order, and returns the chat's session and dialog;
 *   commit  (hot-path-commit.lua) writes the session and dialog with their TTLs, marks the
 *           update done and releases the lock, only while the lock is still ours (the
 *           token fences a holder whose lease expired and whose update another process
 *           took over).
 *   acted   (hot-path-acted.lua)  beside the update's first Bot API request: writes the
 *           session and dialog as they are then and marks the update 'sent'. Not waited
 *           for: it is handed to the socket (node-redis writes on setImmediate; the request
 *           waits one turn of the event loop behind it) and Redis runs it before the commit,
 *           which comes on the same connection. So it costs no round trip on the update's
 *           path, and a process that dies after a reply left is not answered twice: its
 *           redelivery finds 'sent' and is dropped, with the answer the family was shown.
 *           (Only a machine that dies with the command still in its kernel can lose it.)
 *
 * In between, the session (grammY's session() reads once and writes once) and the
 * dialog (DialogHost: load, save) of the chat are served from the update's cache,
 * filled by begin. Outside an update (the operators' group touching a family, the
 * CLI) the same stores go to Redis directly.
 *
 * All keys of a chat share one hash tag, `<prefix>{c:<pseudonym>}:session|dialog|lock|updates`
 * (an HMAC of the chat id under LOG_SALT), so both scripts run on a Redis Cluster and no key
 * name holds a chat id. An update of any other chat (the operators' group) has its own
 * `{u:<update_id>}` keys and no order. /forget (session and dialog deleted by one update)
 * deletes the chat's updates record too, so nothing named after the family is left.
 *
 * What the family can rely on:
 * - Once per update: a delivery of an update that was handled is dropped.
 * - One order per chat: an update waits behind any earlier update of its chat that
 *   waits on another process, and one older than an update already claimed for the
 *   chat is dropped ('stale', counted): it never overwrites a later answer and no
 *   stale screen is sent for it.
 * - Nothing of an update is stored before its first Bot API request (acted) or its commit.
 *   An update that dies before acting leaves nothing and is handled again; one that dies
 *   after is dropped when it comes again (the rest of its replies is lost, as before).
 *   An update that failed before any Bot API call or write stays claimable ('abandon').
 *
 * Migration from the keys of the release before (`<prefix>session:<chat>`,
 * `dialog:<chat>`, `seen:<update_id>`, `lock:chat:<chat>`): those deployments ran on a
 * single Redis, and there begin also reads them (a session or dialog found only there,
 * a "sent"/"done" mark, a lock an old process still holds) and commit deletes the old
 * session/dialog key when it writes the new one. The old keys expire on their own;
 * once the longest TTL (the session's) has passed, `legacyKeys` can go. On a cluster
 * there are no old keys, and none are read.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageAdapter } from 'grammy';
import { keepLeaseAlive, LockTimeoutError } from './chat-lock.js';
import { isDialogRecord, type DialogRecord, type DialogStore } from './dialog-store.js';
import { Deadlines } from './deadlines.js';
import { isCluster, untimed, type Redis } from './redis.js';
import { assertTtlSeconds } from './session-storage.js';
import { countOnce, DAY_SECONDS, type Dropped, type Once, type UpdateClaim, type UpdateDedup } from './update-dedup.js';

export interface HotPathOptions {
  /** e.g. "qamqor:". */
  prefix: string;
  /** Secret that turns a chat id into the pseudonym its keys are named by (LOG_SALT: changing it restarts every chat). */
  keySalt: string;
  sessionTtlSeconds: number;
  dialogTtlSeconds: number;
  /** How long an update is remembered (its dedup and the chat's order); a day, as Telegram keeps an update. */
  updatesTtlSeconds?: number;
  /**
   * How long a crashed holder keeps the chat (the family waits that long after a kill -9);
   * renewed every leaseMs/3 while the update runs, so only a process stalled that long loses it,
   * and then the lock token fences its commit. Default 10 s.
   */
  leaseMs?: number;
  /** How long to wait for the chat before LockTimeoutError. */
  waitMs?: number;
  /** How long an update waiting on the chat holds its place in the order without asking again. */
  placeMs?: number;
  /** How long begin, acted and commit may each wait for Redis before the update fails (node-redis's default, 5 s). */
  commandTimeoutMs?: number;
  /** Read the keys of the release before (single Redis only; see the top of this file). */
  legacyKeys?: boolean;
  /** A stored session or dialog that is not what it should be; the chat starts afresh. */
  onCorrupt?: (what: 'session' | 'dialog') => void;
  /** The lease could not be renewed, or was lost before the commit (the update's writes are dropped). */
  onLeaseProblem?: (error: Error) => void;
}

/** One piece of stored state, as begin read it and as the update left it. */
interface Slot {
  /** JSON as read by begin; undefined when there was none. */
  readonly raw: string | undefined;
  op: '-' | 's' | 'd';
  json?: string;
  /** The JSON the acted mark already wrote: the commit need not send it again. */
  actedJson?: string;
}

/**
 * The op and JSON the commit sends for a slot: none when the acted mark already wrote
 * this very JSON (it is most of the bytes of an update). A delete is always sent: it
 * costs nothing and the commit reads "both deleted" as /forget.
 */
function commitWire(slot: Slot): [op: Slot['op'], json: string] {
  if (slot.op === 's' && slot.actedJson === slot.json) return ['-', ''];
  return [slot.op, slot.json ?? ''];
}

/** What begin read for an update in hand, and what the update wrote. */
class UpdateCache {
  readonly session: Slot;
  readonly dialog: Slot;
  /** A Bot API call or a write happened: a failure after it still commits (see UpdateClaim). */
  acted = false;
  /** The acted mark, once sent (its failure is reported, not thrown). */
  sent: Promise<void> | undefined;
  finished = false;

  constructor(session: string, dialog: string) {
    this.session = { raw: session === '' ? undefined : session, op: '-' };
    this.dialog = { raw: dialog === '' ? undefined : dialog, op: '-' };
  }
}

interface Scope {
  /** The hash tag's content: c:<chat pseudonym> or u:<update_id>. */
  tag: string;
  /** The chat key the session and dialog stores use, for a private chat. */
  chat?: string;
}

const MIN_RETRY_MS = 5;
const MAX_RETRY_MS = 50;

type Begun = { kind: 'dropped'; seen: Dropped } | { kind: 'begun'; rerun: boolean; session: string; dialog: string };

export class RedisHotPath implements UpdateDedup {
  private readonly inHand = new Map<string, UpdateCache>();
  private readonly local = new OrderedQueue();
  private readonly legacy: boolean;
  private readonly updatesTtl: number;
  private readonly leaseMs: number;
  private readonly waitMs: number;
  private readonly placeMs: number;
  /** The scripts go out without node-redis's timer per command and are limited here, by one timer. */
  private readonly scripts: Redis;
  private readonly deadlines: Deadlines;

  constructor(
    private readonly redis: Redis,
    private readonly options: HotPathOptions,
  ) {
    this.scripts = untimed(redis);
    this.deadlines = new Deadlines(options.commandTimeoutMs ?? 5_000, 'the update’s hot path');
    assertTtlSeconds(options.sessionTtlSeconds);
    assertTtlSeconds(options.dialogTtlSeconds);
    this.updatesTtl = options.updatesTtlSeconds ?? DAY_SECONDS;
    assertTtlSeconds(this.updatesTtl);
    this.legacy = options.legacyKeys ?? !isCluster(redis);
    this.leaseMs = options.leaseMs ?? 10_000;
    this.waitMs = options.waitMs ?? 60_000;
    this.placeMs = options.placeMs ?? 3_000;
  }

  /** The keys of a private chat (`chatKey` is the chat id as text). */
  chatKeys(chatKey: string): ChatKeys {
    return this.keysOf(this.chatTag(chatKey));
  }

  /** Keys are named by a keyed pseudonym, never the chat id: a chat that only sent junk leaves no key named after it. */
  private chatTag(chatKey: string): string {
    let tag = this.tags.get(chatKey);
    if (!tag) {
      tag = chatTagOf(this.options.keySalt, chatKey);
      if (this.tags.size >= 10_000) this.tags.clear(); // a bound, not an LRU: recomputing a tag is cheap
      this.tags.set(chatKey, tag);
    }
    return tag;
  }

  /** Pseudonyms already worked out (an HMAC per update otherwise); memory only. */
  private readonly tags = new Map<string, string>();

  /** `lockKey` is createBot's: `chat:<id>` for a private chat (ordered, with its session and dialog), else `update:<id>`. */
  once<T>(updateId: number, lockKey: string, fn: (claim: UpdateClaim) => Promise<T>): Promise<Once<T>> {
    const chat = lockKey.startsWith('chat:') ? lockKey.slice(5) : undefined;
    const scope: Scope = chat ? { tag: this.chatTag(chat), chat } : { tag: `u:${updateId}` };
    return this.local.run(scope.tag, updateId, async () => countOnce(await this.handle(scope, updateId, lockKey, fn)));
  }

  private async handle<T>(scope: Scope, updateId: number, lockKey: string, fn: (claim: UpdateClaim) => Promise<T>): Promise<Once<T>> {
    const token = randomUUID();
    const keys = this.keysOf(scope.tag);
    const begun = await this.begin(scope, updateId, token, lockKey);
    if (begun.kind === 'dropped') return { handled: false, seen: begun.seen };
    const cache = new UpdateCache(begun.session, begun.dialog);
    const claim: UpdateClaim = {
      // Right before a Bot API request leaves (createBot): the acted mark goes first.
      commit: () => this.acted(scope, token, cache),
      // A session or dialog write: it is in the cache until acted or commit carries it.
      wrote: () => {
        if (!cache.finished) cache.acted = true;
        return Promise.resolve();
      },
    };
    if (scope.chat) this.inHand.set(scope.chat, cache);
    const renewal = keepLeaseAlive(this.redis, keys.lock, token, this.leaseMs, 'the update', this.options.onLeaseProblem);
    let ok = false;
    try {
      const value = await fn(claim);
      ok = true;
      return { handled: true, value, rerun: begun.rerun };
    } finally {
      cache.finished = true;
      if (scope.chat && this.inHand.get(scope.chat) === cache) this.inHand.delete(scope.chat);
      await renewal.stop();
      await cache.sent;
      try {
        await this.commit(scope, token, cache, ok || cache.acted);
      } catch (error) {
        // The update's work is done or failed already; the lease expires on its own.
        this.options.onLeaseProblem?.(asError(error));
      }
    }
  }

  private async begin(scope: Scope, updateId: number, token: string, lockKey: string): Promise<Begun> {
    const keys = this.keysOf(scope.tag);
    const p = this.options.prefix;
    const scriptKeys = [keys.updates, keys.lock, keys.session, keys.dialog];
    if (this.legacy) {
      const old = scope.chat ? [`${p}session:${scope.chat}`, `${p}dialog:${scope.chat}`] : [keys.session, keys.dialog];
      scriptKeys.push(`${p}seen:${updateId}`, `${p}lock:${lockKey}`, ...old);
    }
    const args = [String(updateId), token, String(this.leaseMs), String(this.updatesTtl), scope.chat ? '1' : '0', String(this.placeMs)];
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const reply = (await this.deadlines.race(this.scripts.hotPathBegin(scriptKeys, args))) as string[];
      const [outcome, session = '', dialog = ''] = reply;
      if (outcome === 'new' || outcome === 'rerun') return { kind: 'begun', rerun: outcome === 'rerun', session, dialog };
      if (outcome === 'stale' || outcome === 'done' || outcome === 'sent') return { kind: 'dropped', seen: outcome };
      if (outcome !== 'busy') throw new Error(`hot path begin: unexpected reply ${String(outcome)}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new LockTimeoutError(this.waitMs);
      // Jitter keeps two waiting processes from asking in lockstep.
      await sleep(Math.min(MIN_RETRY_MS + Math.random() * (MAX_RETRY_MS - MIN_RETRY_MS), remaining));
    }
  }

  /** The acted mark (see the top of this file); once per update, not waited for by the request. */
  private acted(scope: Scope, token: string, cache: UpdateCache): Promise<void> {
    if (cache.finished || cache.sent) return Promise.resolve();
    cache.acted = true;
    const { session, dialog } = cache;
    const args = [token, session.op, session.json ?? '', String(this.options.sessionTtlSeconds), dialog.op, dialog.json ?? '', String(this.options.dialogTtlSeconds)];
    for (const slot of [session, dialog]) slot.actedJson = slot.op === 's' ? slot.json : undefined;
    const forgetActed = () => {
      session.actedJson = undefined;
      dialog.actedJson = undefined;
    };
    cache.sent = this.deadlines.race(this.scripts.hotPathActed(this.writeKeys(scope), args)).then(
      (held) => {
        if (held === 1) return;
        forgetActed();
        this.options.onLeaseProblem?.(new Error('Chat lock lease was lost before the update acted'));
      },
      (error: unknown) => {
        forgetActed(); // not known to be written: the commit sends it all
        this.options.onLeaseProblem?.(asError(error));
      },
    );
    // node-redis writes on setImmediate: one turn later the mark is on the socket, ahead of the request.
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** The keys acted and commit write: the scope's four, and on a single Redis a chat's release-before session and dialog. */
  private writeKeys(scope: Scope): string[] {
    const keys = this.keysOf(scope.tag);
    const scriptKeys = [keys.updates, keys.lock, keys.session, keys.dialog];
    if (this.legacy && scope.chat) scriptKeys.push(`${this.options.prefix}session:${scope.chat}`, `${this.options.prefix}dialog:${scope.chat}`);
    return scriptKeys;
  }

  private async commit(scope: Scope, token: string, cache: UpdateCache, done: boolean): Promise<void> {
    const scriptKeys = this.writeKeys(scope);
    const [sessionOp, sessionJson] = commitWire(cache.session);
    const [dialogOp, dialogJson] = commitWire(cache.dialog);
    const args = [token, done ? 'done' : 'abandon', String(this.updatesTtl), sessionOp, sessionJson, String(this.options.sessionTtlSeconds), dialogOp, dialogJson, String(this.options.dialogTtlSeconds)];
    const held = await this.deadlines.race(this.scripts.hotPathCommit(scriptKeys, args));
    if (held !== 1) this.options.onLeaseProblem?.(new Error('Chat lock lease was lost before the commit; the update’s writes were dropped'));
  }

  /** grammY session storage: the update's cache when the chat has one in hand, Redis otherwise. */
  sessions<T>(): StorageAdapter<T> {
    const slots = new CachedSlots(this, 'session', this.options.sessionTtlSeconds, () => this.options.onCorrupt?.('session'));
    return {
      read: async (key) => slots.read(key) as Promise<T | undefined>,
      write: (key, value) => slots.write(key, JSON.stringify(value)),
      delete: (key) => slots.delete(key),
    };
  }

  /** The dialog store on the same cache; a stored value that is not a DialogRecord loads as none. */
  dialogs(): DialogStore {
    const onCorrupt = () => this.options.onCorrupt?.('dialog');
    const slots = new CachedSlots(this, 'dialog', this.options.dialogTtlSeconds, onCorrupt);
    return {
      load: async (key): Promise<DialogRecord | undefined> => {
        const value = await slots.read(key);
        if (value === undefined) return undefined;
        if (isDialogRecord(value)) return value;
        onCorrupt();
        return undefined;
      },
      save: (key, rec) => slots.write(key, JSON.stringify(rec)),
      delete: (key) => slots.delete(key),
    };
  }

  /** @internal for CachedSlots */
  cacheOf(chatKey: string): UpdateCache | undefined {
    const cache = this.inHand.get(chatKey);
    return cache && !cache.finished ? cache : undefined;
  }

  /** @internal the key of `what` for a chat, and the release-before key when it is still read. */
  storedKeys(chatKey: string, what: 'session' | 'dialog'): { key: string; old?: string } {
    const key = this.chatKeys(chatKey)[what];
    return this.legacy ? { key, old: `${this.options.prefix}${what}:${chatKey}` } : { key };
  }

  /** @internal */
  get client(): Redis {
    return this.redis;
  }

  private keysOf(tag: string): ChatKeys {
    return keysOfTag(this.options.prefix, tag);
  }
}

/** A session or dialog read and written through the update in hand, or straight from Redis. */
class CachedSlots {
  constructor(
    private readonly hot: RedisHotPath,
    private readonly what: 'session' | 'dialog',
    private readonly ttlSeconds: number,
    private readonly onCorrupt: () => void,
  ) {}

  async read(chatKey: string): Promise<unknown> {
    const cache = this.hot.cacheOf(chatKey);
    let raw: string | undefined;
    if (cache) {
      const slot = cache[this.what];
      raw = slot.op === 's' ? slot.json : slot.op === 'd' ? undefined : slot.raw;
    } else {
      raw = await this.readDirect(chatKey);
    }
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw); // a fresh object per read: no aliasing between readers
    } catch {
      this.onCorrupt();
      return undefined;
    }
  }

  async write(chatKey: string, json: string): Promise<void> {
    const cache = this.hot.cacheOf(chatKey);
    if (cache) {
      Object.assign(cache[this.what], { op: 's', json });
      cache.acted = true;
      return;
    }
    const { key, old } = this.hot.storedKeys(chatKey, this.what);
    const redis = this.hot.client;
    await Promise.all([redis.set(key, json, { expiration: { type: 'EX', value: this.ttlSeconds } }), old ? redis.del(old) : undefined]);
  }

  async delete(chatKey: string): Promise<void> {
    const cache = this.hot.cacheOf(chatKey);
    if (cache) {
      Object.assign(cache[this.what], { op: 'd', json: undefined });
      cache.acted = true;
      return;
    }
    const { key, old } = this.hot.storedKeys(chatKey, this.what);
    await this.hot.client.del(old ? [key, old] : key);
  }

  private async readDirect(chatKey: string): Promise<string | undefined> {
    const { key, old } = this.hot.storedKeys(chatKey, this.what);
    const redis = this.hot.client;
    if (!old) return (await redis.get(key)) ?? undefined;
    const [now, before] = await Promise.all([redis.get(key), redis.get(old)]);
    return now ?? before ?? undefined;
  }
}

/**
 * This process's updates of one scope, one at a time, the lowest update_id first:
 * so two updates of a chat that reach the same process out of order are applied in order.
 */
class OrderedQueue {
  private readonly queues = new Map<string, { running: boolean; waiting: { id: number; start: () => void }[] }>();

  run<T>(key: string, id: number, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) {
        queue = { running: false, waiting: [] };
        this.queues.set(key, queue);
      }
      const start = (): void => {
        fn()
          .then(resolve, reject)
          .finally(() => this.next(key));
      };
      if (!queue.running) {
        queue.running = true;
        start();
        return;
      }
      const at = queue.waiting.findIndex((w) => w.id > id);
      queue.waiting.splice(at < 0 ? queue.waiting.length : at, 0, { id, start });
    });
  }

  private next(key: string): void {
    const queue = this.queues.get(key);
    const following = queue?.waiting.shift();
    if (following) following.start();
    else this.queues.delete(key);
  }

  /** Scopes with an update queued or running; 0 when idle. */
  get activeKeys(): number {
    return this.queues.size;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

type ChatKeys = { session: string; dialog: string; lock: string; updates: string };

/** A chat's pseudonym in its keys' hash tag: an HMAC of the chat id under the key salt. */
function chatTagOf(keySalt: string, chatKey: string): string {
  return `c:${createHmac('sha256', keySalt).update(`chat:${chatKey}`).digest('hex').slice(0, 24)}`;
}

function keysOfTag(prefix: string, tag: string): ChatKeys {
  const base = `${prefix}{${tag}}:`;
  return { session: `${base}session`, dialog: `${base}dialog`, lock: `${base}lock`, updates: `${base}updates` };
}

/** The keys of a private chat, for tools and tests that look at Redis directly (same as RedisHotPath.chatKeys). */
export function hotPathChatKeys(prefix: string, keySalt: string, chatKey: string): ChatKeys {
  return keysOfTag(prefix, chatTagOf(keySalt, chatKey));
}
