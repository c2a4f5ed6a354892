/**
 * At-least-once delivery over a Redis Stream with a consumer group, made once-per-event by
 * event id: the referral notices use it, and the hotline relay can move onto it.
 *
 *   publish ──XADD──▶ <stream> ──XREADGROUP──▶ handler ──ok──▶ done marker + XACK + XDEL
 *                         ▲                       │ throws
 *                         └──XAUTOCLAIM (idle)────┘ attempts += 1; after maxAttempts ──▶ <stream>:dead
 *
 * - A consumer that dies mid-delivery leaves its entries pending; any consumer takes them over
 *   with XAUTOCLAIM once they were idle `minIdleMs`, so choose it longer than the slowest
 *   handler (a Telegram send with retries), or an entry can be delivered twice.
 * - The done marker (`<stream>:done:<event id>`, kept `doneTtlSeconds`) makes a redelivered or
 *   republished event with the same id a no-op.
 * - Dead letters keep the event as published: events must carry no personal data.
 *
 * Keys: `<stream>`, `<stream>:dead`, `<stream>:attempts`, `<stream>:done:<id>`. Give the stream a
 * key with a hash tag (`x:{ref}:outbox`) and they all share one Redis Cluster slot (MULTI works).
 * No blocking reads: a shared connection is never held by XREADGROUP BLOCK.
 */
import type { Redis } from './redis.js';

export interface StreamEvent {
  /** Stable per event: the same id published twice is delivered once. */
  id: string;
}

/** Thrown by a handler for an event that can never be delivered: dead-lettered at once. */
export class Undeliverable extends Error {}

export interface PollOptions<E extends StreamEvent> {
  /** This process's name in the group (unique per process). */
  consumer: string;
  handler: (event: E) => Promise<void>;
  /** Failures before the event is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** Pending this long without an ack → taken over. Default 60 s. */
  minIdleMs?: number;
  /** Entries per round. Default 50. */
  count?: number;
  /** An event was dead-lettered (reason: the handler's error message). */
  onDead?: (event: E, reason: string, attempts: number) => void | Promise<void>;
}

export interface PollResult {
  delivered: number;
  failed: number;
  dead: number;
  /** Redeliveries of events already done, acknowledged without calling the handler. */
  duplicates: number;
}

export interface DeadLetter {
  event: unknown;
  reason: string;
  attempts: number;
}

/** Both twins: the Redis stream, and the in-memory one for the terminal demo. */
export interface StreamConsumer<E extends StreamEvent> {
  publish(event: E): Promise<void>;
  /** One round: take over stale entries, read new ones, hand each to the handler in order. */
  poll(options: PollOptions<E>): Promise<PollResult>;
  /** Dead letters, oldest first (admins, tests). */
  deadLetters(limit?: number): Promise<DeadLetter[]>;
  /** Entries published and not yet acknowledged. */
  backlog(): Promise<number>;
}

/** The two stream fields an entry carries; a Lua script that publishes in the same step writes the same. */
export const ENTRY_FIELDS = { id: 'id', data: 'data' } as const;

export interface RedisStreamOptions {
  /** The stream key (with a hash tag for Redis Cluster). */
  stream: string;
  group: string;
  /** How long a delivered event id is remembered. Default 7 days. */
  doneTtlSeconds?: number;
  /** Dead letters kept at most (approximately). Default 10 000. */
  deadMaxLen?: number;
}

const DEFAULTS = { maxAttempts: 5, minIdleMs: 60_000, count: 50 };

export class RedisStreamDelivery<E extends StreamEvent> implements StreamConsumer<E> {
  private readonly dead: string;
  private readonly attempts: string;
  private readonly doneTtl: number;
  private readonly deadMaxLen: number;
  private groupReady: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisStreamOptions,
  ) {
    this.dead = `${options.stream}:dead`;
    this.attempts = `${options.stream}:attempts`;
    this.doneTtl = options.doneTtlSeconds ?? 7 * 86_400;
    this.deadMaxLen = options.deadMaxLen ?? 10_000;
  }

  async publish(event: E): Promise<void> {
    await this.redis.xAdd(this.options.stream, '*', { [ENTRY_FIELDS.id]: event.id, [ENTRY_FIELDS.data]: JSON.stringify(event) });
  }

  async poll(options: PollOptions<E>): Promise<PollResult> {
    const o = { ...DEFAULTS, ...options };
    const result: PollResult = { delivered: 0, failed: 0, dead: 0, duplicates: 0 };
    const take = async () => [...(await this.reclaim(o.consumer, o.minIdleMs, o.count)), ...(await this.readNew(o.consumer, o.count))];
    await this.ensureGroup();
    let entries: Entry[];
    try {
      entries = await take();
    } catch (error) {
      // The stream was deleted (and its group with it) since the group was made: make it again.
      if (!(error instanceof Error && error.message.startsWith('NOGROUP'))) throw error;
      this.groupReady = undefined;
      await this.ensureGroup();
      entries = await take();
    }
    for (const entry of entries) await this.deliver(entry, o, result);
    return result;
  }

  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    const entries = (await this.redis.xRange(this.dead, '-', '+', { COUNT: limit })) ?? [];
    return entries.map(({ message }) => ({ event: safeJson(message.data), reason: String(message.reason), attempts: Number(message.attempts) }));
  }

  async backlog(): Promise<number> {
    return this.redis.xLen(this.options.stream);
  }

  private ensureGroup(): Promise<void> {
    // From the start of the stream: events published before the group existed are delivered too.
    this.groupReady ??= this.redis.xGroupCreate(this.options.stream, this.options.group, '0', { MKSTREAM: true }).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return;
        this.groupReady = undefined;
        throw error;
      },
    );
    return this.groupReady;
  }

  private async reclaim(consumer: string, minIdleMs: number, count: number): Promise<Entry[]> {
    const taken: Entry[] = [];
    let cursor = '0-0';
    // One pass over the pending list, at most `count` entries.
    for (let round = 0; round < 100 && taken.length < count; round++) {
      const reply = await this.redis.xAutoClaim(this.options.stream, this.options.group, consumer, minIdleMs, cursor, { COUNT: count - taken.length });
      for (const m of reply.messages) if (m) taken.push({ streamId: m.id, fields: m.message as Record<string, string> });
      // Entries deleted while pending: XAUTOCLAIM already dropped them from the pending list.
      cursor = String(reply.nextId);
      if (cursor === '0-0') break;
    }
    return taken;
  }

  private async readNew(consumer: string, count: number): Promise<Entry[]> {
    const reply = await this.redis.xReadGroup(this.options.group, consumer, { key: this.options.stream, id: '>' }, { COUNT: count });
    if (!reply) return [];
    const streams = reply as unknown as { messages: { id: string; message: Record<string, string> }[] }[];
    return streams.flatMap((s) => s.messages.map((m) => ({ streamId: m.id, fields: m.message })));
  }

  private doneKey(eventId: string): string {
    return `${this.options.stream}:done:${eventId}`;
  }

  private async deliver(entry: Entry, o: Required<Omit<PollOptions<E>, 'onDead'>> & Pick<PollOptions<E>, 'onDead'>, result: PollResult): Promise<void> {
    const eventId = entry.fields[ENTRY_FIELDS.id];
    const event = safeJson(entry.fields[ENTRY_FIELDS.data]) as E | undefined;
    if (!eventId || !event) {
      await this.bury(entry, undefined, 'malformed entry', 1);
      result.dead++;
      return;
    }
    if (await this.redis.exists(this.doneKey(eventId))) {
      await this.finish(entry, eventId);
      result.duplicates++;
      return;
    }
    try {
      await o.handler(event);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const attempts = await this.redis.hIncrBy(this.attempts, entry.streamId, 1);
      if (error instanceof Undeliverable || attempts >= o.maxAttempts) {
        await this.bury(entry, event, reason, attempts);
        result.dead++;
        await o.onDead?.(event, reason, attempts);
      } else {
        // Stays pending: taken over (by any consumer) once idle minIdleMs.
        result.failed++;
      }
      return;
    }
    await this.finish(entry, eventId);
    result.delivered++;
  }

  /** Done: remembered by event id, acknowledged and dropped from the stream, in one step. */
  private async finish(entry: Entry, eventId: string): Promise<void> {
    await this.redis
      .multi()
      .set(this.doneKey(eventId), '1', { EX: this.doneTtl })
      .xAck(this.options.stream, this.options.group, entry.streamId)
      .xDel(this.options.stream, entry.streamId)
      .hDel(this.attempts, entry.streamId)
      .exec();
  }

  private async bury(entry: Entry, event: E | undefined, reason: string, attempts: number): Promise<void> {
    await this.redis
      .multi()
      .xAdd(
        this.dead,
        '*',
        { data: event ? JSON.stringify(event) : '', reason: reason.slice(0, 200), attempts: String(attempts), entry: entry.streamId },
        { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.deadMaxLen } },
      )
      .xAck(this.options.stream, this.options.group, entry.streamId)
      .xDel(this.options.stream, entry.streamId)
      .hDel(this.attempts, entry.streamId)
      .exec();
  }
}

interface Entry {
  streamId: string;
  fields: Record<string, string>;
}

function safeJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The memory twin (terminal demo, unit tests): one process, so no consumers to take over from;
 * a failed event is tried again on the next poll, the same attempts and dead-letter rules apply.
 */
export class MemoryStreamDelivery<E extends StreamEvent> implements StreamConsumer<E> {
  private entries: { event: E; attempts: number }[] = [];
  private readonly done = new Set<string>();
  private readonly dead: DeadLetter[] = [];

  async publish(event: E): Promise<void> {
    this.entries.push({ event: structuredClone(event), attempts: 0 });
  }

  async poll(options: PollOptions<E>): Promise<PollResult> {
    const o = { ...DEFAULTS, ...options };
    const result: PollResult = { delivered: 0, failed: 0, dead: 0, duplicates: 0 };
    for (const entry of this.entries.slice(0, o.count)) {
      const drop = () => (this.entries = this.entries.filter((e) => e !== entry));
      if (this.done.has(entry.event.id)) {
        drop();
        result.duplicates++;
        continue;
      }
      try {
        await o.handler(structuredClone(entry.event));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        entry.attempts++;
        if (error instanceof Undeliverable || entry.attempts >= o.maxAttempts) {
          drop();
          this.dead.push({ event: structuredClone(entry.event), reason: reason.slice(0, 200), attempts: entry.attempts });
          result.dead++;
          await o.onDead?.(entry.event, reason, entry.attempts);
        } else {
          result.failed++;
        }
        continue;
      }
      this.done.add(entry.event.id);
      drop();
      result.delivered++;
    }
    return result;
  }

  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.dead.slice(0, limit).map((d) => structuredClone(d));
  }

  async backlog(): Promise<number> {
    return this.entries.length;
  }
}

/** Polls a consumer on an interval until stopped; one round at a time. */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly round: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  start(intervalMs: number): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = (): void => {
      this.running = this.round()
        .catch(this.onError)
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
