/**
 * Every Lua script and every key of the stores on a Redis Cluster, with the
 * server's CLUSTER KEYSLOT as the oracle. The cluster's own refusal is not
 * enough: Redis lets a script touch an undeclared key of another slot when that
 * slot happens to live on the same node (it only refuses keys on other nodes),
 * so a missing hash tag can pass on three masters by luck.
 *
 * 1. Each registered script (src/store/scripts.ts) is called at least once here,
 *    and the keys of each call hash to one slot.
 * 2. After the calls, every key a store wrote (the referral store's too) is in
 *    its store's one slot (the hot path: has a hash tag, one per chat): this
 *    covers the keys the scripts build from the prefix without declaring them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HASH_TAG as HANDOFF_TAG, RedisHandoffStore } from '../../src/handoff/redis-store.js';
import type { CaseRecord } from '../../src/handoff/types.js';
import { HASH_TAG as PARAMS_TAG, RedisParamsStore } from '../../src/params/redis-store.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import { RedisHotPath } from '../../src/store/hot-path.js';
import { scripts } from '../../src/store/scripts.js';
import { scanKeys, sendTo, type RedisCluster } from '../../src/store/redis.js';
import { connectTestCluster, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { startTestCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { referral } from '../referral/fixtures.js';

const prefix = uniquePrefix('test:slots');
let cluster: TestRedisCluster;
let redis: RedisCluster;
/** Every script call the stores made: the script's name and the keys it declared. */
const calls: { script: string; keys: string[] }[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  redis = await connectTestCluster(cluster);
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.destroy();
  await cluster.stop();
});

/** The cluster client, with every script call recorded on its way through. */
function recording(target: RedisCluster): RedisCluster {
  return new Proxy(target, {
    get(obj, name, receiver) {
      const value: unknown = Reflect.get(obj, name, receiver);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(obj);
      // The hot path sends its scripts through a view of the connection (redis.ts `untimed`): record that too.
      if (name === 'withCommandOptions') return (...args: unknown[]) => recording(bound(...args) as RedisCluster);
      if (typeof name !== 'string' || !(name in scripts)) return bound;
      return (keys: string[], args: string[]) => {
        calls.push({ script: name, keys: [...keys] });
        return bound(keys, args);
      };
    },
  });
}

const slotOf = async (key: string): Promise<number> => Number(await sendTo(redis, key, ['CLUSTER', 'KEYSLOT', key]));

const T0 = 1_790_000_000_000;
const CHAT = 600_000_001;
const waiting = (id: string): CaseRecord => ({
  id,
  chatId: CHAT,
  lang: 'ru',
  urgent: false,
  status: 'waiting',
  version: 1,
  snapshot: { value: 'waiting' },
  summary: { rulesVersion: '2026-11', grounds: [], benefits: [], urgent: false },
  consentAt: T0 - 1,
  createdAt: T0,
  enqueuedAt: T0,
});

describe('on a Redis Cluster', () => {
  it('the handoff, params, hot-path and referral stores run every registered script with the keys of one slot, and write no key outside their slot', async () => {
    const via = recording(redis);
    const handoff = new RedisHandoffStore(via, { prefix: `${prefix}handoff:`, salt: 'slots-test' });
    const ev = (type: string, at = T0) => ({ type, by: 'system', at });
    const first = waiting('S0001');
    expect(await handoff.create(first, ev('created'))).toBe(true);
    expect(await handoff.update(first.id, 1, { status: 'waiting', snapshot: { value: 'waiting', asked: 2 } }, ev('touched'))).toBeDefined();
    await handoff.setFields(first.id, { topicId: 41 });
    expect((await handoff.claim(first.id, 101, 2, { status: 'claimed', snapshot: { value: 'claimed' }, fields: { operatorId: 101, enqueuedAt: undefined } }, ev('claimed'))).won).toBe(true);
    await handoff.schedule(first.id, 'next_response', T0);
    expect(await handoff.takeDue(T0 + 1)).toHaveLength(1);
    const relay = { key: 'up:1', caseId: first.id, direction: 'to_operators' as const, fromChatId: CHAT, messageId: 5, topicId: 41 };
    expect(await handoff.recordRelay(relay)).toBe(true);
    expect(await handoff.claimUnsent('slots', { idleMs: 0, leaseMs: 60_000 })).toEqual([relay]);
    await handoff.ackRelay(relay.key);
    expect(await handoff.recordRelay({ ...relay, key: 'up:2' })).toBe(true);
    await handoff.deadRelay({ ...relay, key: 'up:2' }, 'gave up', 5);
    expect(await handoff.claimAnnouncement(CHAT, T0, 60_000)).toBe(true);
    await handoff.update(first.id, 3, { status: 'closed', snapshot: { value: 'closed' }, fields: { closedAt: T0 + 5, outcome: 'informed' } }, ev('closed'));
    expect(await handoff.forgetFamily(CHAT)).toEqual([first.id]);

    const params = new RedisParamsStore(via, { prefix: `${prefix}params:` });
    await params.set({ param: 'poverty_line_kzt', region: 'astana', from: '2026-01-01', value: 45_000, reference: 'r', verified: false }, 7, T0);
    const token = await params.propose({ param: 'poverty_line_kzt', region: 'astana', from: '2027-01-01', value: 46_000, reference: 'r', verified: false, proposedBy: 7 }, 900);
    expect(await params.take(token, 7)).toBeDefined();

    const hot = new RedisHotPath(via, { prefix: `${prefix}hot:`, keySalt: 'slots-test-salt', sessionTtlSeconds: 60, dialogTtlSeconds: 60 });
    // begin, then the acted mark (claim.commit, as before a Bot API request), then commit.
    const family = await hot.once(1, `chat:${CHAT}`, async (claim) => {
      await hot.sessions<{ step: number }>().write(String(CHAT), { step: 1 });
      await claim.commit();
    });
    expect(family.handled).toBe(true);
    expect((await hot.once(2, 'update:2', async () => undefined)).handled).toBe(true);

    const referrals = new RedisReferralStore(via, { prefix: `${prefix}referral:` });
    const r = referral();
    expect(await referrals.create(r, { what: 'created', who: 'system', at: T0 }, [{ id: `${r.id}:new`, kind: 'worker', notice: 'new', referralId: r.id, to: 'w1' }])).toBe(true);
    await referrals.audit(r.id, { what: 'viewed', who: 'w1', at: T0 + 1 });
    await referrals.schedule(r.id, 'ack', T0);
    expect(await referrals.takeDue(T0 + 1, 60_000)).toHaveLength(1);
    expect(await referrals.link('w1', 4242)).toBeUndefined();

    // Scripts another store registers must be exercised here too, or this fails and names them.
    const called = new Set(calls.map((c) => c.script));
    expect(Object.keys(scripts).filter((name) => !called.has(name))).toEqual([]);

    const crossSlot: string[] = [];
    for (const { script, keys } of calls) {
      const slots = new Set(await Promise.all(keys.map(slotOf)));
      if (slots.size > 1) crossSlot.push(`${script}: ${keys.join(' ')}`);
    }
    expect(crossSlot).toEqual([]);

    const expected = new Map([
      [`${prefix}handoff:`, await slotOf(`${prefix}handoff:${HANDOFF_TAG}:line`)],
      [`${prefix}params:`, await slotOf(`${prefix}params:${PARAMS_TAG}:values`)],
      [`${prefix}referral:`, await slotOf(`${prefix}referral:{ref}:x`)],
    ]);
    const strays: string[] = [];
    let written = 0;
    for await (const keys of scanKeys(redis, `${prefix}*`)) {
      for (const key of keys) {
        written++;
        if (key.startsWith(`${prefix}hot:`)) {
          // One slot per chat (or per update outside a chat): the key names its own tag.
          if (!/^[^{]*\{[^}]+\}/.test(key)) strays.push(key);
          continue;
        }
        const store = [...expected.keys()].find((p) => key.startsWith(p));
        if (store === undefined || (await slotOf(key)) !== expected.get(store)) strays.push(key);
      }
    }
    expect(strays).toEqual([]);
    expect(written).toBeGreaterThan(10);
  });
});
