/**
 * A single Redis written by the release before the hash tags: after the one-off
 * rename at start-up, the open case, its place in line, its unsent relay and the
 * admins' parameters are all found again under the tagged names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HASH_TAG as HANDOFF_TAG, RedisHandoffStore } from '../../src/handoff/redis-store.js';
import type { CaseRecord } from '../../src/handoff/types.js';
import { HASH_TAG as PARAMS_TAG, RedisParamsStore } from '../../src/params/redis-store.js';
import { migrateLegacyKeys } from '../../src/store/legacy-keys.js';
import type { RedisClient } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('test:legacy');
let redis: RedisClient;
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
});

/** Moves every key of a namespace back to its untagged name, as the release before wrote it. */
async function untag(namespace: string, tag: string): Promise<string[]> {
  const tagged = `${namespace}${tag}:`;
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${tagged}*`, COUNT: 500 })) keys.push(...batch);
  for (const key of keys) await redis.rename(key, namespace + key.slice(tagged.length));
  return keys;
}

const T0 = 1_790_000_000_000;
const CHAT = 610_000_001;
const open: CaseRecord = { id: 'L0001', chatId: CHAT, lang: 'kk', urgent: true, status: 'waiting', version: 1, snapshot: { value: 'waiting' }, createdAt: T0, enqueuedAt: T0 };

describe('keys of the release before the hash tags', () => {
  it('are renamed once and read again: the open case, the line, the outbox, the parameters', async () => {
    const handoffNs = `${prefix}handoff:`;
    const paramsNs = `${prefix}params:`;
    const handoff = new RedisHandoffStore(redis, { prefix: handoffNs, salt: 'legacy-test' });
    const params = new RedisParamsStore(redis, { prefix: paramsNs });
    await handoff.create(open, { type: 'created', by: 'family', at: T0 });
    const relay = { key: 'up:9', caseId: open.id, direction: 'to_operators' as const, fromChatId: CHAT, messageId: 9 };
    await handoff.recordRelay(relay);
    const value = { param: 'poverty_line_kzt', region: 'astana', from: '2026-01-01', value: 45_000, reference: 'r', verified: true };
    await params.set(value, 7, T0);
    const oldKeys = [...(await untag(handoffNs, HANDOFF_TAG)), ...(await untag(paramsNs, PARAMS_TAG))];
    expect(oldKeys.length).toBeGreaterThan(5);
    // Out of sight before the rename: this is what would be lost silently.
    expect(await handoff.openCaseOf(CHAT)).toBeUndefined();

    const moved = await migrateLegacyKeys(redis, prefix);
    expect(moved).toEqual({ renamed: oldKeys.length, kept: 0 });
    expect(await handoff.openCaseOf(CHAT)).toEqual(open);
    expect(await handoff.placeInLine(open.id)).toBe(1);
    expect(await handoff.claimUnsent('after-upgrade', { idleMs: 60_000, leaseMs: 60_000 })).toEqual([relay]);
    expect(await params.values()).toMatchObject([value]);
    expect(await params.version()).toBe(1);

    // Later starts skip the scan: a key with an old name written now stays where it is.
    await redis.set(`${handoffNs}stray`, '1');
    expect(await migrateLegacyKeys(redis, prefix)).toEqual({ renamed: 0, kept: 0 });
    expect(await redis.exists(`${handoffNs}stray`)).toBe(1);
  });

  it('keeps the new key when both names exist', async () => {
    const own = `${prefix}both:`;
    await redis.set(`${own}handoff:salt`, 'old');
    await redis.set(`${own}handoff:${HANDOFF_TAG}:salt`, 'new');
    expect(await migrateLegacyKeys(redis, own)).toEqual({ renamed: 0, kept: 1 });
    expect(await redis.get(`${own}handoff:${HANDOFF_TAG}:salt`)).toBe('new');
  });
});
