import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from '../../src/store/redis.js';
import {
  MemoryDialogStore,
  RedisDialogStore,
  type DialogRecord,
  type DialogStore,
} from '../../src/store/dialog-store.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

interface Twin {
  store: DialogStore;
  writeRaw(chatKey: string, raw: string): Promise<void>;
}

interface TwinFactory {
  name: string;
  make(options: { ttlSeconds: number; onCorrupt?: (chatKey: string) => void }): Twin;
}

const prefix = uniquePrefix('test:dialog');
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
      const store = new MemoryDialogStore(options);
      return { store, writeRaw: async (chatKey, raw) => store.injectRaw(chatKey, raw) };
    },
  },
  {
    name: 'redis',
    make(options) {
      return {
        store: new RedisDialogStore(redis, { prefix, ...options }),
        writeRaw: async (chatKey, raw) => void (await redis.set(prefix + chatKey, raw)),
      };
    },
  },
];

const record = (overrides: Partial<DialogRecord> = {}): DialogRecord => ({
  flow: 'screening',
  flowVersion: 3,
  snapshot: { value: { asking: 'household' }, context: { answers: { children: 2 } }, status: 'active' },
  updatedAt: 1_700_000_000_000,
  ...overrides,
});

let keySeq = 0;
const freshKey = (): string => `chat-${++keySeq}`;

describe.each(twins)('dialog store contract: $name', ({ make }) => {
  it('loads undefined for a chat with no dialog', async () => {
    const { store } = make({ ttlSeconds: 60 });
    expect(await store.load(freshKey())).toBeUndefined();
  });

  it('round-trips a record, and the latest save wins', async () => {
    const { store } = make({ ttlSeconds: 60 });
    const key = freshKey();
    await store.save(key, record());
    const later = record({ flowVersion: 4, snapshot: { value: 'done' }, updatedAt: 1_700_000_060_000 });
    await store.save(key, later);
    expect(await store.load(key)).toEqual(later);
  });

  it('keeps a null snapshot (a legitimate JSON value)', async () => {
    const { store } = make({ ttlSeconds: 60 });
    const key = freshKey();
    await store.save(key, record({ snapshot: null }));
    expect(await store.load(key)).toEqual(record({ snapshot: null }));
  });

  it('forgets a deleted dialog', async () => {
    const { store } = make({ ttlSeconds: 60 });
    const key = freshKey();
    await store.save(key, record());
    await store.delete(key);
    expect(await store.load(key)).toBeUndefined();
  });

  it.each([
    ['text that is not JSON', 'snapshot: {'],
    ['JSON null', 'null'],
    ['an array', '[1,2]'],
    ['a record without a flow', JSON.stringify({ flowVersion: 1, snapshot: {}, updatedAt: 1 })],
    ['a flowVersion as text', JSON.stringify({ flow: 'screening', flowVersion: '1', snapshot: {}, updatedAt: 1 })],
    ['a record without a snapshot', JSON.stringify({ flow: 'screening', flowVersion: 1, updatedAt: 1 })],
  ])('loads %s as undefined, reports the chat, and does not throw', async (_label, raw) => {
    const corrupt: string[] = [];
    const { store, writeRaw } = make({ ttlSeconds: 60, onCorrupt: (chatKey) => corrupt.push(chatKey) });
    const key = freshKey();
    await writeRaw(key, raw);
    await expect(store.load(key)).resolves.toBeUndefined();
    expect(corrupt).toEqual([key]);
  });

  it('lets a fresh save replace a corrupt value', async () => {
    const { store, writeRaw } = make({ ttlSeconds: 60 });
    const key = freshKey();
    await writeRaw(key, 'garbage');
    await store.save(key, record());
    expect(await store.load(key)).toEqual(record());
  });

  it('does not require an onCorrupt callback', async () => {
    const { store, writeRaw } = make({ ttlSeconds: 60 });
    const key = freshKey();
    await writeRaw(key, 'garbage');
    await expect(store.load(key)).resolves.toBeUndefined();
  });
});

describe('dialog store TTL in Redis', () => {
  it('gives every saved dialog a TTL, refreshed by each save', async () => {
    const store = new RedisDialogStore(redis, { prefix, ttlSeconds: 3600 });
    const key = freshKey();
    await store.save(key, record());
    expect(await redis.pTTL(prefix + key)).toBeGreaterThan(0);

    await redis.pExpire(prefix + key, 5_000);
    await store.save(key, record());
    expect(await redis.pTTL(prefix + key)).toBeGreaterThan(5_000);
  });
});

describe('dialog store TTL in memory', () => {
  it('forgets a dialog after its TTL, counted from the last save', async () => {
    let now = 0;
    const store = new MemoryDialogStore({ ttlSeconds: 10, now: () => now });
    await store.save('c', record());
    now = 9_000;
    await store.save('c', record({ flowVersion: 5 }));
    now = 18_999;
    expect((await store.load('c'))?.flowVersion).toBe(5);
    now = 19_000;
    expect(await store.load('c')).toBeUndefined();
  });
});
