import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageAdapter } from 'grammy';
import type { Redis } from '../../src/store/redis.js';
import { MemorySessionStorage, RedisSessionStorage } from '../../src/store/session-storage.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

interface Session {
  step: string;
  answers: Record<string, string | number>;
}

interface Twin {
  storage: StorageAdapter<Session>;
  /** Stores text as if a broken release had written it. */
  writeRaw(key: string, raw: string): Promise<void>;
}

interface TwinFactory {
  name: string;
  make(options: { ttlSeconds: number; onCorrupt?: (key: string) => void }): Twin;
}

const prefix = uniquePrefix('test:session');
let redis: Redis;

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

const twins: TwinFactory[] = [
  {
    name: 'memory',
    make(options) {
      const storage = new MemorySessionStorage<Session>(options);
      return { storage, writeRaw: async (key, raw) => storage.injectRaw(key, raw) };
    },
  },
  {
    name: 'redis',
    make(options) {
      return {
        storage: new RedisSessionStorage<Session>(redis, { prefix, ...options }),
        writeRaw: async (key, raw) => void (await redis.set(prefix + key, raw)),
      };
    },
  },
];

let keySeq = 0;
const freshKey = (): string => `chat-${++keySeq}`;

describe.each(twins)('session storage contract: $name', ({ make }) => {
  it('reads undefined for a key never written', async () => {
    const { storage } = make({ ttlSeconds: 60 });
    expect(await storage.read(freshKey())).toBeUndefined();
  });

  it('reads back what was written, and the latest write wins', async () => {
    const { storage } = make({ ttlSeconds: 60 });
    const key = freshKey();
    await storage.write(key, { step: 'age', answers: {} });
    await storage.write(key, { step: 'income', answers: { age: 34 } });
    expect(await storage.read(key)).toEqual({ step: 'income', answers: { age: 34 } });
  });

  it('keeps keys apart', async () => {
    const { storage } = make({ ttlSeconds: 60 });
    const [a, b] = [freshKey(), freshKey()];
    await storage.write(a, { step: 'a', answers: {} });
    await storage.write(b, { step: 'b', answers: {} });
    expect((await storage.read(a))?.step).toBe('a');
    expect((await storage.read(b))?.step).toBe('b');
  });

  it('does not let a caller mutate the stored value without writing', async () => {
    const { storage } = make({ ttlSeconds: 60 });
    const key = freshKey();
    const session: Session = { step: 'age', answers: {} };
    await storage.write(key, session);
    session.step = 'changed in memory only';
    const read = await storage.read(key);
    if (read) read.answers.x = 1;
    expect(await storage.read(key)).toEqual({ step: 'age', answers: {} });
  });

  it('forgets a deleted key, and deleting an absent key is harmless', async () => {
    const { storage } = make({ ttlSeconds: 60 });
    const key = freshKey();
    await storage.write(key, { step: 'age', answers: {} });
    await storage.delete(key);
    expect(await storage.read(key)).toBeUndefined();
    await expect(storage.delete(freshKey())).resolves.toBeUndefined();
  });

  it('reads a non-JSON value as undefined and reports its key', async () => {
    const corrupt: string[] = [];
    const { storage, writeRaw } = make({ ttlSeconds: 60, onCorrupt: (key) => corrupt.push(key) });
    const key = freshKey();
    await writeRaw(key, '{not json');
    expect(await storage.read(key)).toBeUndefined();
    expect(corrupt).toEqual([key]);
  });

  it('refuses a TTL Redis could not honour', () => {
    expect(() => make({ ttlSeconds: 0 })).toThrow(RangeError);
    expect(() => make({ ttlSeconds: 1.5 })).toThrow(RangeError);
  });
});

describe('session storage TTL in Redis', () => {
  it('sets a TTL on every write, and a write refreshes it', async () => {
    const storage = new RedisSessionStorage<Session>(redis, { prefix, ttlSeconds: 600 });
    const key = freshKey();
    await storage.write(key, { step: 'age', answers: {} });
    const pttl = await redis.pTTL(prefix + key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(600_000);

    await redis.pExpire(prefix + key, 5_000);
    await storage.write(key, { step: 'income', answers: {} });
    expect(await redis.pTTL(prefix + key)).toBeGreaterThan(5_000);
  });
});

describe('session storage TTL in memory', () => {
  it('expires a value once its TTL has passed, and a write refreshes it', async () => {
    let now = 1_000_000;
    const storage = new MemorySessionStorage<Session>({ ttlSeconds: 60, now: () => now });
    await storage.write('k', { step: 'age', answers: {} });

    now += 59_999;
    expect(await storage.read('k')).toBeDefined();
    await storage.write('k', { step: 'income', answers: {} });

    now += 59_999;
    expect((await storage.read('k'))?.step).toBe('income');

    now += 1;
    expect(await storage.read('k')).toBeUndefined();
  });
});
