import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises';
import { MemoryChatLock, RedisChatLock, tryAcquireLease } from '../../src/store/chat-lock.js';
import type { Redis } from '../../src/store/redis.js';
import {
  ChatClaims,
  DAY_SECONDS,
  MemoryUpdateDedup,
  RedisUpdateDedup,
  updateDedupStats,
  type UpdateDedup,
} from '../../src/store/update-dedup.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('test:dedup');
const seenPrefix = `${prefix}seen:`;
const lockPrefix = `${prefix}lock:`;
let redis: Redis;
let otherProcessRedis: Redis;

beforeAll(async () => {
  [redis, otherProcessRedis] = await Promise.all([connectTestRedis(), connectTestRedis()]);
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
  otherProcessRedis.destroy();
});

const redisDedup = (client: Redis = redis, lockOptions: { leaseMs?: number; waitMs?: number } = {}) =>
  new RedisUpdateDedup(client, new RedisChatLock(client, { prefix: lockPrefix, ...lockOptions }), { prefix: seenPrefix });

const twins: { name: string; make(): UpdateDedup }[] = [
  { name: 'memory', make: () => new MemoryUpdateDedup(new MemoryChatLock()) },
  { name: 'redis', make: () => redisDedup() },
];

// Update ids are unique across the whole file: both twins share one Redis prefix.
let idSeq = 1_000;
const freshId = (): number => ++idSeq;
const chatKey = (id: number) => `chat:${id}`;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(twins)('update dedup contract: $name', ({ make }) => {
  it('runs the first delivery and drops a second one without running it', async () => {
    const dedup = make();
    const id = freshId();
    let runs = 0;
    const handle = async () => {
      runs++;
      return 'handled';
    };
    expect(await dedup.once(id, chatKey(1), handle)).toEqual({ handled: true, value: 'handled', rerun: false });
    expect(await dedup.once(id, chatKey(1), handle)).toEqual({ handled: false, seen: 'done' });
    expect(runs).toBe(1);
  });

  it('tells updates apart by id, also in one chat', async () => {
    const dedup = make();
    const [a, b] = [freshId(), freshId()];
    expect((await dedup.once(a, chatKey(2), async () => 'a')).handled).toBe(true);
    expect((await dedup.once(b, chatKey(2), async () => 'b')).handled).toBe(true);
  });

  it('runs a delivery that arrives while the first is being handled only once', async () => {
    const dedup = make();
    const id = freshId();
    const release = deferred();
    let runs = 0;
    const first = dedup.once(id, chatKey(3), async () => {
      runs++;
      await release.promise;
    });
    await nextMacrotask();
    const second = dedup.once(id, chatKey(3), async () => void runs++);
    await sleep(20);
    release.resolve();
    expect(await first).toMatchObject({ handled: true });
    expect(await second).toEqual({ handled: false, seen: 'done' });
    expect(runs).toBe(1);
  });

  it('holds the lock: updates of one lock key run one at a time, in arrival order', async () => {
    const dedup = make();
    const key = chatKey(freshId());
    let running = 0;
    let mostAtOnce = 0;
    const order: number[] = [];
    const runs = Array.from({ length: 8 }, (_, i) =>
      dedup.once(freshId(), key, async () => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        for (let y = 0; y < 8 - i; y++) await nextMacrotask();
        order.push(i);
        running--;
      }),
    );
    await Promise.all(runs);
    expect(mostAtOnce).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a failure before acting lets a redelivery run it again', async () => {
    const dedup = make();
    const id = freshId();
    await expect(
      dedup.once(id, chatKey(4), async () => {
        throw new Error('session could not be read');
      }),
    ).rejects.toThrow('session could not be read');
    expect(await dedup.once(id, chatKey(4), async () => 'second try')).toEqual({ handled: true, value: 'second try', rerun: false });
  });

  it('a failure after acting is final: the redelivery is dropped', async () => {
    const dedup = make();
    const id = freshId();
    await expect(
      dedup.once(id, chatKey(5), async (claim) => {
        await claim.commit(); // e.g. the answer was saved…
        throw new Error('…and the reply failed');
      }),
    ).rejects.toThrow('…and the reply failed');
    let ran = false;
    expect(await dedup.once(id, chatKey(5), async () => void (ran = true))).toEqual({ handled: false, seen: 'done' });
    expect(ran).toBe(false);
  });

  it('commit is idempotent and cheap to call before every act', async () => {
    const dedup = make();
    const outcome = await dedup.once(freshId(), chatKey(6), async (claim) => {
      await Promise.all([claim.commit(), claim.commit()]);
      await claim.commit();
      return 'ok';
    });
    expect(outcome).toMatchObject({ handled: true, value: 'ok' });
  });

  it('counts what it did for /metrics', async () => {
    const dedup = make();
    const id = freshId();
    const before = structuredClone(updateDedupStats);
    await dedup.once(id, chatKey(7), async () => undefined);
    await dedup.once(id, chatKey(7), async () => undefined);
    await dedup.once(id, chatKey(7), async () => undefined);
    expect(updateDedupStats.handled - before.handled).toBe(1);
    expect(updateDedupStats.dropped.done - before.dropped.done).toBe(2);
  });
});

describe('the fence (ChatClaims)', () => {
  /** A dialog-like store that logs what it is asked. */
  const loggingStore = (log: string[]) => ({
    async load(key: string) {
      log.push(`load ${key}`);
    },
    async save(key: string) {
      log.push(`save ${key}`);
    },
  });

  it("records the chat's update as acting before a write, not before a read; a failure after that is final", async () => {
    const dedup = new MemoryUpdateDedup();
    const claims = new ChatClaims();
    const log: string[] = [];
    const store = claims.fence(loggingStore(log), ['save']);
    const id = freshId();
    const outcome = dedup.once(id, chatKey(8), (claim) =>
      claims.during('8', { commit: async () => (log.push('commit'), await claim.commit()) }, async () => {
        await store.load('8');
        await store.save('8');
        await store.save('8');
        throw new Error('crash after saving');
      }),
    );
    await expect(outcome).rejects.toThrow('crash after saving');
    expect(log).toEqual(['load 8', 'commit', 'save 8', 'commit', 'save 8']);
    expect(await dedup.once(id, chatKey(8), async () => 'again')).toEqual({ handled: false, seen: 'done' });
  });

  it("does not touch another chat's update, nor anything outside an update (timers, the CLI)", async () => {
    const claims = new ChatClaims();
    const log: string[] = [];
    const store = claims.fence(loggingStore(log), ['save']);
    await claims.during('1', { commit: async () => void log.push('commit 1') }, async () => {
      await store.save('2');
    });
    await store.save('1');
    expect(log).toEqual(['save 2', 'save 1']);
  });

  it('fences a method replaced after wrapping (a benchmark timing it), and keeps the rest of the store', async () => {
    const claims = new ChatClaims();
    const log: string[] = [];
    const raw = { ...loggingStore(log), extra: 42 };
    const store = claims.fence(raw, ['save']);
    store.save = async (key: string) => void log.push(`timed save ${key}`);
    await claims.during('3', { commit: async () => void log.push('commit') }, () => store.save('3'));
    expect(log).toEqual(['commit', 'timed save 3']);
    expect(store.extra).toBe(42);
  });
});

describe('MemoryUpdateDedup', () => {
  it('forgets an update after a day (Telegram keeps none longer), and sweeps what expired', async () => {
    let now = 1_000_000;
    const dedup = new MemoryUpdateDedup(new MemoryChatLock(), { now: () => now });
    const id = freshId();
    await dedup.once(id, chatKey(9), async () => undefined);
    now += DAY_SECONDS * 1000 - 1;
    expect((await dedup.once(id, chatKey(9), async () => undefined)).handled).toBe(false);
    now += 61_000;
    expect((await dedup.once(freshId(), chatKey(9), async () => undefined)).handled).toBe(true);
    expect(dedup.size).toBe(1); // the first update was swept
  });
});

describe('RedisUpdateDedup', () => {
  it('keeps one key per update, under the prefix, for a day; the lock is gone afterwards', async () => {
    const id = freshId();
    await redisDedup().once(id, chatKey(10), async () => undefined);
    expect(await redis.get(`${seenPrefix}${id}`)).toBe('done');
    const ttl = await redis.ttl(`${seenPrefix}${id}`);
    expect(ttl).toBeGreaterThan(DAY_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(DAY_SECONDS);
    expect(await redis.exists(`${lockPrefix}${chatKey(10)}`)).toBe(0);
  });

  it('while handling: run:<token> of the lock held, then sent after the first act', async () => {
    const id = freshId();
    const key = chatKey(11);
    const seen: (string | null)[] = [];
    await redisDedup().once(id, key, async (claim) => {
      const token = await redis.get(`${lockPrefix}${key}`);
      seen.push(await redis.get(`${seenPrefix}${id}`));
      expect(seen[0]).toBe(`run:${token}`);
      await claim.commit();
      seen.push(await redis.get(`${seenPrefix}${id}`));
      expect(await redis.ttl(`${seenPrefix}${id}`)).toBeGreaterThan(DAY_SECONDS - 60);
    });
    expect(seen[1]).toBe('sent');
  });

  it('another process handling the same update: the second waits for it, then drops its delivery', async () => {
    const id = freshId();
    const key = chatKey(12);
    const release = deferred();
    const started = deferred();
    let runs = 0;
    const first = redisDedup(redis).once(id, key, async () => {
      runs++;
      started.resolve();
      await release.promise;
    });
    await started.promise;
    const second = redisDedup(otherProcessRedis).once(id, key, async () => void runs++);
    await sleep(100);
    release.resolve();
    await first;
    expect(await second).toEqual({ handled: false, seen: 'done' });
    expect(runs).toBe(1);
  });

  it('a holder that died before acting: once its lease expires, the redelivery runs it again', async () => {
    const id = freshId();
    const key = chatKey(13);
    // What a SIGKILL leaves: the claim and a lock nobody renews.
    expect(await tryAcquireLease(otherProcessRedis, `${lockPrefix}${key}`, 'dead-holder', 150)).toBe(true);
    await otherProcessRedis.set(`${seenPrefix}${id}`, 'run:dead-holder', { expiration: { type: 'EX', value: DAY_SECONDS } });

    const outcome = await redisDedup(redis, { waitMs: 5_000 }).once(id, key, async () => 'ran again');
    expect(outcome).toEqual({ handled: true, value: 'ran again', rerun: true });
    expect(await redis.get(`${seenPrefix}${id}`)).toBe('done');
  });

  it('a holder that died after acting: the redelivery is dropped at once, without waiting for its lock', async () => {
    const id = freshId();
    const key = chatKey(14);
    expect(await tryAcquireLease(otherProcessRedis, `${lockPrefix}${key}`, 'dead-holder', 30_000)).toBe(true);
    await otherProcessRedis.set(`${seenPrefix}${id}`, 'sent', { expiration: { type: 'EX', value: DAY_SECONDS } });

    let ran = false;
    const t0 = performance.now();
    const outcome = await redisDedup(redis, { waitMs: 5_000 }).once(id, key, async () => void (ran = true));
    expect(outcome).toEqual({ handled: false, seen: 'sent' });
    expect(ran).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('a failure before acting gives the claim and the lock back', async () => {
    const id = freshId();
    const key = chatKey(15);
    await expect(
      redisDedup().once(id, key, async () => {
        throw new Error('nothing done');
      }),
    ).rejects.toThrow('nothing done');
    expect(await redis.exists(`${seenPrefix}${id}`)).toBe(0);
    expect(await redis.exists(`${lockPrefix}${key}`)).toBe(0);
  });
});
