import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from '../../src/store/redis.js';
import {
  LockTimeoutError,
  MemoryChatLock,
  RedisChatLock,
  releaseLease,
  tryAcquireLease,
  type ChatLock,
} from '../../src/store/chat-lock.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('test:lock');
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

/** Resolves when `until` settles, or rejects naming what never happened (instead of a 20 s test timeout). */
async function eventually<T>(until: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never happened: ${what}`)), 5_000);
  });
  try {
    return await Promise.race([until, giveUp]);
  } finally {
    clearTimeout(timer);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const twins: { name: string; make(): ChatLock }[] = [
  { name: 'memory', make: () => new MemoryChatLock() },
  { name: 'redis', make: () => new RedisChatLock(redis, { prefix }) },
];

let keySeq = 0;
const freshKey = (): string => `chat-${++keySeq}`;

describe.each(twins)('chat lock contract: $name', ({ make }) => {
  it('runs the tasks of one chat one at a time, in the order they arrived', async () => {
    const lock = make();
    const key = freshKey();
    let running = 0;
    let mostAtOnce = 0;
    const finished: number[] = [];

    const tasks = Array.from({ length: 20 }, (_, i) =>
      lock.run(key, async () => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        // Later tasks yield less, so a broken lock would let them overtake.
        for (let y = 0; y < 20 - i; y++) await nextMacrotask();
        running--;
        finished.push(i);
        return i * 10;
      }),
    );

    expect(await Promise.all(tasks)).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
    expect(mostAtOnce).toBe(1);
    expect(finished).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('runs different chats at the same time', async () => {
    const lock = make();
    const aStarted = deferred();
    const bStarted = deferred();
    // Each task waits for the other to start: only possible if they overlap.
    const a = lock.run(freshKey(), async () => {
      aStarted.resolve();
      await bStarted.promise;
      return 'a';
    });
    const b = lock.run(freshKey(), async () => {
      bStarted.resolve();
      await aStarted.promise;
      return 'b';
    });
    expect(await eventually(Promise.all([a, b]), 'two chats running together')).toEqual(['a', 'b']);
  });

  it('passes a failure to its caller and still runs the next task', async () => {
    const lock = make();
    const key = freshKey();
    const failing = lock.run(key, async () => {
      throw new Error('handler blew up');
    });
    const throwingSynchronously = lock.run(key, (() => {
      throw new Error('threw before returning a promise');
    }) as () => Promise<never>);
    const next = lock.run(key, async () => 'next ran');

    await expect(failing).rejects.toThrow('handler blew up');
    await expect(throwingSynchronously).rejects.toThrow('threw before returning a promise');
    expect(await eventually(next, 'the task after a failure')).toBe('next ran');
  });
});

describe('MemoryChatLock bookkeeping', () => {
  it('forgets a chat once its queue is empty, even after a failure', async () => {
    const lock = new MemoryChatLock();
    const done = [
      lock.run('a', async () => 1),
      lock.run('a', async () => {
        throw new Error('x');
      }),
      lock.run('b', async () => 2),
    ];
    expect(lock.activeKeyCount).toBe(2);
    await Promise.allSettled(done);
    await nextMacrotask();
    expect(lock.activeKeyCount).toBe(0);
  });
});

describe('RedisChatLock across processes', () => {
  it('keeps 200 read-modify-write increments from two processes exact', async () => {
    const counterKey = `${prefix}counter`;
    const lockKey = freshKey();
    const processA = new RedisChatLock(redis, { prefix });
    const processB = new RedisChatLock(otherProcessRedis, { prefix });

    const increment = (lock: RedisChatLock, client: Redis) =>
      lock.run(lockKey, async () => {
        const current = Number((await client.get(counterKey)) ?? '0');
        await nextMacrotask(); // Room for the other process to interleave, if the lock let it.
        await client.set(counterKey, String(current + 1));
      });

    await Promise.all(
      Array.from({ length: 100 }, () => [increment(processA, redis), increment(processB, otherProcessRedis)]).flat(),
    );
    expect(await redis.get(counterKey)).toBe('200');
  });

  it('lets another owner in once a crashed holder’s lease expires', async () => {
    const key = freshKey();
    // A holder that took the lock and died: nobody renews or releases it.
    expect(await tryAcquireLease(otherProcessRedis, prefix + key, 'crashed-holder', 150)).toBe(true);

    const survivor = new RedisChatLock(redis, { prefix, waitMs: 10_000 });
    expect(await eventually(survivor.run(key, async () => 'got in'), 'entry after lease expiry')).toBe('got in');
  });

  it('gives up with LockTimeoutError while a live holder keeps the lock', async () => {
    const key = freshKey();
    expect(await tryAcquireLease(otherProcessRedis, prefix + key, 'live-holder', 30_000)).toBe(true);
    let ran = false;

    const impatient = new RedisChatLock(redis, { prefix, waitMs: 100 });
    await expect(
      impatient.run(key, async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    expect(ran).toBe(false);
    expect(await redis.get(prefix + key)).toBe('live-holder');
  });

  it('does not delete the lock when released with a token that does not own it', async () => {
    const key = prefix + freshKey();
    expect(await tryAcquireLease(redis, key, 'owner', 30_000)).toBe(true);
    expect(await tryAcquireLease(otherProcessRedis, key, 'intruder', 30_000)).toBe(false);

    expect(await releaseLease(otherProcessRedis, key, 'intruder')).toBe(false);
    expect(await redis.get(key)).toBe('owner');

    expect(await releaseLease(redis, key, 'owner')).toBe(true);
    expect(await redis.exists(key)).toBe(0);
  });

  it('renews the lease while a long task runs, so no one else gets in', async () => {
    const key = freshKey();
    const leaseMs = 300;
    const problems: Error[] = [];
    const holder = new RedisChatLock(redis, { prefix, leaseMs, onLeaseProblem: (e) => problems.push(e) });
    const contender = new RedisChatLock(otherProcessRedis, { prefix, leaseMs });
    const events: string[] = [];
    const holderStarted = deferred();

    const long = holder.run(key, async () => {
      events.push('holder start');
      holderStarted.resolve();
      await sleep(leaseMs * 3); // Outlives several unrenewed leases.
      events.push('holder end');
    });
    await holderStarted.promise;
    const other = contender.run(key, async () => {
      events.push('contender');
    });

    await eventually(Promise.all([long, other]), 'both tasks finishing');
    expect(events).toEqual(['holder start', 'holder end', 'contender']);
    expect(problems).toEqual([]);
  });

  it('releases the lock after a task, so the key is gone', async () => {
    const key = freshKey();
    const lock = new RedisChatLock(redis, { prefix });
    await lock.run(key, async () => {
      expect(await redis.exists(prefix + key)).toBe(1);
    });
    expect(await redis.exists(prefix + key)).toBe(0);
  });
});
