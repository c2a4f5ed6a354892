import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from '../../src/store/redis.js';
import { MemoryStreamDelivery, RedisStreamDelivery, Undeliverable, type StreamConsumer } from '../../src/store/stream-delivery.js';
import { connectTestRedis, deleteKeysWithPrefix, redisConnections, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('test:stream');
let redis: Redis;
const connections = redisConnections(prefix);
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

interface Ev {
  id: string;
  n: number;
}

let seq = 0;
const streamKey = () => `${prefix}{s${++seq}}:outbox`;
const twins: { name: string; make: () => StreamConsumer<Ev> }[] = [
  ...connections.map((c) => ({ name: `redis ${c.kind}`, make: () => new RedisStreamDelivery<Ev>(c.redis(), { stream: streamKey(), group: 'notifiers' }) })),
  { name: 'memory', make: () => new MemoryStreamDelivery<Ev>() },
];

describe.each(twins)('stream delivery: $name', ({ make }) => {
  it('delivers in order, once, and acknowledges', async () => {
    const d = make();
    for (let n = 1; n <= 3; n++) await d.publish({ id: `e${n}`, n });
    const seen: string[] = [];
    expect(await d.poll({ consumer: 'a', handler: async (e) => void seen.push(e.id), minIdleMs: 0 })).toEqual({ delivered: 3, failed: 0, dead: 0, duplicates: 0 });
    expect(await d.poll({ consumer: 'a', handler: async (e) => void seen.push(e.id), minIdleMs: 0 })).toEqual({ delivered: 0, failed: 0, dead: 0, duplicates: 0 });
    expect(seen).toEqual(['e1', 'e2', 'e3']);
    expect(await d.backlog()).toBe(0);
  });

  it('is idempotent by event id: the same event published twice is delivered once', async () => {
    const d = make();
    await d.publish({ id: 'same', n: 1 });
    const seen: string[] = [];
    await d.poll({ consumer: 'a', handler: async (e) => void seen.push(e.id) });
    await d.publish({ id: 'same', n: 1 });
    const second = await d.poll({ consumer: 'a', handler: async (e) => void seen.push(e.id) });
    expect(seen).toEqual(['same']);
    expect(second.duplicates).toBe(1);
  });

  it('retries a failing event and dead-letters it after maxAttempts, reporting it once; the others go through', async () => {
    const d = make();
    await d.publish({ id: 'good1', n: 1 });
    await d.publish({ id: 'poison', n: 2 });
    await d.publish({ id: 'good2', n: 3 });
    const seen: string[] = [];
    const dead: string[] = [];
    const options = {
      consumer: 'a',
      minIdleMs: 0,
      maxAttempts: 3,
      handler: async (e: Ev) => {
        if (e.id === 'poison') throw new Error('Bad Request: chat not found');
        seen.push(e.id);
      },
      onDead: (e: Ev, reason: string, attempts: number) => void dead.push(`${e.id}:${reason}:${attempts}`),
    };
    for (let i = 0; i < 5; i++) await d.poll(options);
    expect(seen).toEqual(['good1', 'good2']);
    expect(dead).toEqual(['poison:Bad Request: chat not found:3']);
    expect(await d.deadLetters()).toEqual([{ event: { id: 'poison', n: 2 }, reason: 'Bad Request: chat not found', attempts: 3 }]);
    expect(await d.backlog()).toBe(0);
  });

  it('dead-letters an undeliverable event at once', async () => {
    const d = make();
    await d.publish({ id: 'nobody', n: 1 });
    const r = await d.poll({ consumer: 'a', handler: async () => Promise.reject(new Undeliverable('not_linked')) });
    expect(r.dead).toBe(1);
    expect((await d.deadLetters())[0]).toMatchObject({ reason: 'not_linked', attempts: 1 });
  });
});

describe('stream delivery: the stream deleted under it', () => {
  it('makes its consumer group again and goes on', async () => {
    const stream = streamKey();
    const d = new RedisStreamDelivery<Ev>(redis, { stream, group: 'notifiers' });
    await d.publish({ id: 'a', n: 1 });
    await d.poll({ consumer: 'c', handler: async () => {} });
    await redis.del(stream);
    await d.publish({ id: 'b', n: 2 });
    const seen: string[] = [];
    await d.poll({ consumer: 'c', handler: async (e) => void seen.push(e.id) });
    expect(seen).toEqual(['b']);
  });
});

describe('stream delivery: a consumer that dies', () => {
  it('killed mid-delivery: after a restart the event is delivered exactly once', async () => {
    const stream = streamKey();
    const d = new RedisStreamDelivery<Ev>(redis, { stream, group: 'notifiers' });
    await d.publish({ id: 'R-1:1:w:new:w-1', n: 1 });
    await d.publish({ id: 'R-1:1:f:received', n: 2 });

    // Process A takes both and dies inside the handler of the first.
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./stream-consumer.child.ts', import.meta.url)), inject('redisUrl'), stream, 'proc-a'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const taken = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    expect(taken).toBe('taken R-1:1:w:new:w-1');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    // The entries are pending with the dead consumer; nothing new is in the stream for B.
    const pending = await redis.xPending(stream, 'notifiers');
    expect(Number(pending.pending)).toBe(2);

    // Process B (restarted) takes them over and delivers each once.
    const seen: string[] = [];
    const restarted = new RedisStreamDelivery<Ev>(redis, { stream, group: 'notifiers' });
    const handler = async (e: Ev) => void seen.push(e.id);
    expect((await restarted.poll({ consumer: 'proc-b', handler, minIdleMs: 0 })).delivered).toBe(2);
    expect((await restarted.poll({ consumer: 'proc-b', handler, minIdleMs: 0 })).delivered).toBe(0);
    expect(seen).toEqual(['R-1:1:w:new:w-1', 'R-1:1:f:received']);
    expect(Number((await redis.xPending(stream, 'notifiers')).pending)).toBe(0);
  });

  it('an entry another consumer holds is not taken over before minIdleMs', async () => {
    const stream = streamKey();
    const d = new RedisStreamDelivery<Ev>(redis, { stream, group: 'notifiers' });
    await d.publish({ id: 'slow', n: 1 });
    let release!: () => void;
    const slow = d.poll({ consumer: 'a', handler: () => new Promise<void>((r) => (release = r)) });
    // Wait until A has taken it (it is pending), then B looks with a long idle time.
    while (Number((await redis.xPending(stream, 'notifiers')).pending) === 0) await new Promise((r) => setImmediate(r));
    const b = await d.poll({ consumer: 'b', handler: async () => {}, minIdleMs: 60_000 });
    expect(b).toEqual({ delivered: 0, failed: 0, dead: 0, duplicates: 0 });
    release();
    expect((await slow).delivered).toBe(1);
  });
});
