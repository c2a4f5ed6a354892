/**
 * The updates Telegram handed us, recorded before Telegram hears they arrived.
 *
 * Long polling confirms a batch by asking for the next one, and a webhook by
 * answering 200: either way Telegram forgets the update. So the update is first
 * appended to a Redis Stream (`<prefix>inbox`), and handled from there by a
 * consumer group: a process killed at any moment after the append loses nothing,
 * because the entry stays pending until it was handled and is then taken over by
 * another process (or the same one, restarted). A second delivery, from Telegram
 * or from a take-over, is dropped by the update dedup (src/store/update-dedup.ts).
 *
 * Handling goes through the KeyedSequencer: chats in parallel, one order per chat.
 *
 *   <prefix>inbox        stream  {u: update JSON}; group "handlers"; an entry is XACKed and XDELed once handled
 *   <prefix>inbox:dead   stream  {u, reason, deliveries}: updates that failed or crashed a process `maxDeliveries` times
 *
 * Redis Cluster: every command and MULTI touches one of the two keys only, so
 * they may live on different nodes and need no hash tag. A dead letter is
 * written before the entry leaves the inbox (two steps): a crash in between
 * dead-letters it twice, never loses it. Reads never BLOCK: the loop polls
 * every `pollMs` (and wakes at once for what this process appended), so the
 * connection it shares with every store is never held.
 *
 * A live process renews its claim on the entries it holds (XCLAIM … JUSTID resets
 * their idle time) every `heartbeatMs`; entries idle for `takeOverMs` belong to a
 * process that died and are taken over. On a graceful stop, entries not started
 * are marked idle at once, so the next process takes them without waiting.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Update } from 'grammy/types';
import { sendTo, type Redis } from '../store/redis.js';
import { KeyedSequencer } from './sequencer.js';
import { sequenceKeyOf } from './update-key.js';

export type UpdateHandler = (update: Update) => Promise<void>;

export interface InboxStopResult {
  /** Updates neither finished nor started within the grace period (left for the next process). */
  unfinished: number;
}

export interface UpdateInbox {
  /** Records updates; resolves once they are durable (or, in memory, queued). */
  append(updates: readonly Update[]): Promise<void>;
  /** Starts handing recorded updates to `handle`. */
  start(handle: UpdateHandler): void;
  /** Takes no more, waits up to `graceMs` for what is queued or running. */
  stop(graceMs: number): Promise<InboxStopResult>;
  /** Updates queued or running in this process. */
  readonly inHand: number;
  /** Updates recorded and not yet handled, over every process (for /metrics). */
  backlog(): Promise<number>;
}

export interface InboxEvents {
  /** An update failed `maxDeliveries` times and went to the dead-letter stream. No update content here. */
  onDeadLetter?: (info: { updateId: number | undefined; deliveries: number; reason: string }) => void;
  /** A loop step failed (Redis away); it is tried again. */
  onProblem?: (error: Error) => void;
  /** The handler rejected (it normally reports its own failures); the entry stays pending and is retried. */
  onHandlerError?: (error: unknown) => void;
}

/** Without Redis (the terminal demo, tests): handled in this process, lost with it. */
export class MemoryInbox implements UpdateInbox {
  private readonly sequencer: KeyedSequencer;
  private handle: UpdateHandler | undefined;
  private stopped = false;
  private readonly early: Update[] = [];

  constructor(options: { maxRunning?: number } & InboxEvents = {}) {
    this.sequencer = new KeyedSequencer({ maxRunning: options.maxRunning, onError: options.onHandlerError });
  }

  async append(updates: readonly Update[]): Promise<void> {
    if (this.stopped) throw new Error('the inbox is stopped');
    for (const update of updates) {
      if (this.handle) this.dispatch(update, this.handle);
      else this.early.push(update);
    }
  }

  start(handle: UpdateHandler): void {
    this.handle = handle;
    for (const update of this.early.splice(0)) this.dispatch(update, handle);
  }

  async stop(graceMs: number): Promise<InboxStopResult> {
    this.stopped = true;
    await waitAtMost(this.sequencer.idle(), graceMs);
    return { unfinished: this.sequencer.size };
  }

  get inHand(): number {
    return this.sequencer.size;
  }

  async backlog(): Promise<number> {
    return this.sequencer.size + this.early.length;
  }

  private dispatch(update: Update, handle: UpdateHandler): void {
    this.sequencer.push(sequenceKeyOf(update), () => handle(update));
  }
}

export interface RedisInboxOptions extends InboxEvents {
  /** e.g. "qamqor:" → qamqor:inbox, qamqor:inbox:dead. */
  prefix: string;
  /** How many keys (chats) are handled at the same time in this process. */
  maxRunning?: number;
  /** This process holds at most this many updates; the rest wait in Redis for it or another process. */
  maxInHand?: number;
  /** How often a live process renews its claim on what it holds. */
  heartbeatMs?: number;
  /**
   * An entry idle this long belongs to a dead process (default 15 s: three heartbeats, so a live
   * process never loses one; and should a stalled one, the update dedup keeps it from running twice).
   */
  takeOverMs?: number;
  /** How often to look for new entries appended by another process (entries appended here wake the reader at once). */
  pollMs?: number;
  /** Deliveries (first one and take-overs) before an update goes to the dead-letter stream. */
  maxDeliveries?: number;
  /** The consumer's name in the group; unique per process by default. */
  consumer?: string;
}

const GROUP = 'handlers';
type Entry = [id: string, fields: string[]];

export class RedisStreamInbox implements UpdateInbox {
  private readonly stream: string;
  private readonly dead: string;
  private readonly consumer: string;
  private readonly sequencer: KeyedSequencer;
  private readonly maxInHand: number;
  private readonly heartbeatMs: number;
  private readonly takeOverMs: number;
  private readonly pollMs: number;
  private readonly maxDeliveries: number;
  /** Entry ids queued or running here, and whether they have started. */
  private readonly held = new Map<string, { started: boolean; key: string }>();
  private handle: UpdateHandler | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private groupReady: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisInboxOptions,
  ) {
    this.stream = `${options.prefix}inbox`;
    this.dead = `${options.prefix}inbox:dead`;
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.sequencer = new KeyedSequencer({ maxRunning: options.maxRunning });
    this.maxInHand = options.maxInHand ?? 1000;
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.takeOverMs = options.takeOverMs ?? 15_000;
    this.pollMs = options.pollMs ?? 200;
    this.maxDeliveries = options.maxDeliveries ?? 5;
    if (this.takeOverMs < 3 * this.heartbeatMs) throw new RangeError('takeOverMs must be at least three heartbeats');
  }

  async append(updates: readonly Update[]): Promise<void> {
    if (updates.length === 0) return;
    const multi = this.redis.multi();
    for (const update of updates) multi.xAdd(this.stream, '*', { u: JSON.stringify(update) });
    await multi.exec();
    this.wake?.();
  }

  start(handle: UpdateHandler): void {
    if (this.running) return;
    this.handle = handle;
    this.running = true;
    this.loop = this.readLoop();
  }

  async stop(graceMs: number): Promise<InboxStopResult> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await waitAtMost(this.sequencer.idle(), graceMs);
    // Not started, in a chat with nothing running: the next process may take them at once. Behind a
    // started one they wait for its take-over, so the chat's order holds (the dedup decides about the started one).
    const busy = new Set([...this.held.values()].filter((h) => h.started).map((h) => h.key));
    const waiting = [...this.held].filter(([, h]) => !h.started && !busy.has(h.key)).map(([id]) => id);
    if (waiting.length > 0) {
      await this.send(['XCLAIM', this.stream, GROUP, this.consumer, '0', ...waiting, 'IDLE', String(this.takeOverMs * 10), 'JUSTID']).catch((e: unknown) => this.problem(e));
    }
    return { unfinished: this.held.size };
  }

  get inHand(): number {
    return this.held.size;
  }

  async backlog(): Promise<number> {
    return Number(await this.redis.xLen(this.stream));
  }

  private ensureGroup(): Promise<void> {
    this.groupReady ??= this.send(['XGROUP', 'CREATE', this.stream, GROUP, '0', 'MKSTREAM']).then(
      () => undefined,
      (e: Error) => {
        if (!/BUSYGROUP/.test(e.message)) {
          this.groupReady = undefined;
          throw e;
        }
      },
    );
    return this.groupReady;
  }

  private async readLoop(): Promise<void> {
    let nextHeartbeat = 0;
    let nextTakeOver = 0;
    while (this.running) {
      let got = 0;
      try {
        await this.ensureGroup();
        const now = Date.now();
        if (now >= nextHeartbeat) {
          nextHeartbeat = now + this.heartbeatMs;
          await this.heartbeat();
        }
        if (now >= nextTakeOver) {
          nextTakeOver = now + this.heartbeatMs;
          got += await this.takeOver();
        }
        const room = this.maxInHand - this.held.size;
        if (room > 0) got += await this.readNew(Math.min(room, 100));
      } catch (e) {
        this.problem(e);
      }
      if (got === 0 && this.running) await this.sleep(this.pollMs);
    }
  }

  private async readNew(count: number): Promise<number> {
    const reply: unknown = await this.send(['XREADGROUP', 'GROUP', GROUP, this.consumer, 'COUNT', String(count), 'STREAMS', this.stream, '>']);
    const entries = streamEntries(reply);
    for (const entry of entries) this.dispatch(entry);
    return entries.length;
  }

  /** Entries of processes that died: too often delivered → dead letters, else handled here. */
  private async takeOver(): Promise<number> {
    const pending = (await this.send(['XPENDING', this.stream, GROUP, 'IDLE', String(this.takeOverMs), '-', '+', '100'])) as [
      string,
      string,
      number,
      number,
    ][];
    const ids = pending.map(([id]) => id).filter((id) => !this.held.has(id));
    if (ids.length === 0) return 0;
    const deliveries = new Map(pending.map(([id, , , n]) => [id, Number(n)]));
    const claimed = (await this.send(['XCLAIM', this.stream, GROUP, this.consumer, String(this.takeOverMs), ...ids])) as (Entry | null)[];
    let taken = 0;
    for (const entry of claimed) {
      if (!entry) continue;
      const n = (deliveries.get(entry[0]) ?? 0) + 1;
      if (n > this.maxDeliveries) await this.deadLetter(entry, n, 'delivered too often without being handled');
      else {
        this.dispatch(entry);
        taken++;
      }
    }
    return taken;
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.held.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      await this.send(['XCLAIM', this.stream, GROUP, this.consumer, '0', ...ids.slice(i, i + 500), 'JUSTID']);
    }
  }

  private dispatch([id, fields]: Entry): void {
    const handle = this.handle;
    if (!handle || this.held.has(id)) return;
    const update = parseUpdate(fields);
    if (!update) {
      void this.deadLetter([id, fields], 1, 'not an update').catch((e: unknown) => this.problem(e));
      return;
    }
    const holding = { started: false, key: sequenceKeyOf(update) };
    this.held.set(id, holding);
    this.sequencer.push(holding.key, async () => {
      holding.started = true;
      try {
        await handle(update);
      } catch (error) {
        // Left pending: taken over again later, dead-lettered after maxDeliveries.
        this.held.delete(id);
        this.options.onHandlerError?.(error);
        return;
      }
      try {
        await this.redis.multi().xAck(this.stream, GROUP, id).xDel(this.stream, id).exec();
      } catch (e) {
        this.problem(e); // handled; a take-over will find it done (the dedup) and drop it
      }
      this.held.delete(id);
    });
  }

  private async deadLetter([id, fields]: Entry, deliveries: number, reason: string): Promise<void> {
    const raw = fieldValue(fields, 'u') ?? '';
    await this.redis.xAdd(this.dead, '*', { u: raw, reason, deliveries: String(deliveries) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 10_000 } });
    await this.redis
      .multi()
      .xAck(this.stream, GROUP, id)
      .xDel(this.stream, id)
      .exec();
    this.options.onDeadLetter?.({ updateId: updateIdOf(raw), deliveries, reason });
  }

  /** A stream command the typed API does not cover (JUSTID, IDLE): every one has the inbox as its key. */
  private send(args: string[]): Promise<unknown> {
    return sendTo(this.redis, this.stream, args);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private problem(e: unknown): void {
    this.options.onProblem?.(e instanceof Error ? e : new Error(String(e)));
  }
}

/** XREADGROUP's entries of the one stream read: RESP2 answers [[name, entries]], RESP3 a map {name: entries}. */
function streamEntries(reply: unknown): Entry[] {
  if (reply === null || typeof reply !== 'object') return [];
  if (Array.isArray(reply)) return ((reply[0] as [string, Entry[]] | undefined)?.[1] ?? []) as Entry[];
  if (reply instanceof Map) return ([...reply.values()][0] ?? []) as Entry[];
  return (Object.values(reply)[0] ?? []) as Entry[];
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function parseUpdate(fields: string[]): Update | undefined {
  const raw = fieldValue(fields, 'u');
  if (raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === 'object' && Number.isSafeInteger((value as { update_id?: unknown }).update_id)) return value as Update;
  } catch {
    // falls through: not an update
  }
  return undefined;
}

function updateIdOf(raw: string): number | undefined {
  const match = /"update_id":(\d+)/.exec(raw);
  return match ? Number(match[1]) : undefined;
}

/** Resolves when `work` does or after `ms`, whichever is first. */
export function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void work.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
