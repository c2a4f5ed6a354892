/**
 * The handoff line on a real Redis, as separate processes would use it: every
 * "operator" or "bot process" has its own connection and its own store instance.
 * Each test runs on a single Redis and on a three-master Redis Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyRef } from '../../src/handoff/codec.js';
import { HASH_TAG, RedisHandoffStore } from '../../src/handoff/redis-store.js';
import type { CasePatch } from '../../src/handoff/store.js';
import type { CaseRecord, ClaimResult, RelayEntry } from '../../src/handoff/types.js';
import { isCluster, type Redis } from '../../src/store/redis.js';
import { deleteKeysWithPrefix, redisTargets, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('test:handoff-int');
const targets = redisTargets();

/** SCRIPT FLUSH on every node: a restarted Redis (or cluster) has forgotten every script. */
async function flushScripts(redis: Redis): Promise<void> {
  if (!isCluster(redis)) return void (await redis.scriptFlush());
  for (const master of redis.masters) await (await redis.nodeClient(master)).scriptFlush();
}

const T0 = 1_790_000_000_000;

function waitingCase(i: number): CaseRecord & { chatId: number } {
  return {
    id: `K${String(i).padStart(5, '0')}`,
    chatId: 700_000_000 + i,
    lang: 'kk',
    urgent: i % 7 === 0,
    status: 'waiting',
    version: 1,
    snapshot: { value: 'waiting' },
    createdAt: T0 + i,
    enqueuedAt: T0 + i,
  };
}

const claimPatch = (operatorId: number): CasePatch => ({ status: 'claimed', snapshot: { value: 'claimed', operatorId }, fields: { operatorId, enqueuedAt: undefined } });

describe.each(targets)('RedisHandoffStore on a real Redis ($kind)', ({ kind, connect: connectTestRedis }) => {
  let admin: Redis;
  beforeAll(async () => {
    admin = await connectTestRedis();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(admin, prefix);
    admin.destroy();
  });

  // Fewer on the cluster: the line is one slot there too, so the size adds time, not coverage.
  const CASES = kind === 'single' ? 5_000 : 1_000;
  it(`2 operators × ${CASES.toLocaleString('en')} cases = ${(2 * CASES).toLocaleString('en')} concurrent claims: exactly one winner per case`, async () => {
    const OPERATORS = [101, 202];
    const keyPrefix = `${prefix}claims:`;
    const setup = new RedisHandoffStore(admin, { prefix: keyPrefix });
    const cases = Array.from({ length: CASES }, (_, i) => waitingCase(i));
    // Not awaited one by one: node-redis pipelines commands issued in the same tick.
    expect(await Promise.all(cases.map((rec) => setup.create(rec, { type: 'created', by: 'family', at: rec.createdAt })))).toEqual(cases.map(() => true));
    expect((await setup.waiting()).length).toBe(CASES);

    const connections = await Promise.all(OPERATORS.map(() => connectTestRedis()));
    try {
      const stores = connections.map((redis) => new RedisHandoffStore(redis, { prefix: keyPrefix }));
      const started = performance.now();
      // Both operators fire a claim for every case at once, from opposite ends of
      // the line, so the two pipelines meet in the middle and each wins some.
      const results: ClaimResult[][] = await Promise.all(
        stores.map(async (store, o) => {
          const op = OPERATORS[o]!;
          const order = o === 0 ? cases.map((_, i) => i) : cases.map((_, i) => CASES - 1 - i);
          const byOrder = await Promise.all(order.map((i) => store.claim(cases[i]!.id, op, 1, claimPatch(op), { type: 'claimed', by: String(op), at: T0 + 10_000_000 })));
          const byCase: ClaimResult[] = [];
          order.forEach((i, k) => (byCase[i] = byOrder[k]!));
          return byCase;
        }),
      );
      const elapsedMs = performance.now() - started;
      console.info(`claims: ${CASES} cases × ${OPERATORS.length} operators = ${CASES * OPERATORS.length} claims in ${elapsedMs.toFixed(0)} ms`);

      // Checked case by case, reported all at once (15,000 expect calls would dominate the run time).
      const problems: string[] = [];
      const winners = cases.map((rec, i) => {
        const won = OPERATORS.filter((_, o) => results[o]![i]!.won);
        if (won.length !== 1) problems.push(`${rec.id}: ${won.length} winners`);
        const winner = won[0]!;
        const lost = results[OPERATORS.indexOf(winner) === 0 ? 1 : 0]![i]!;
        if (lost.won || lost.status !== 'claimed' || lost.holder !== winner) problems.push(`${rec.id}: loser told ${JSON.stringify(lost)}`);
        return winner;
      });

      const records = await Promise.all(cases.map((rec) => setup.get(rec.id)));
      const trails = await Promise.all(cases.map((rec) => setup.auditTrail(rec.id)));
      cases.forEach((rec, i) => {
        const stored = records[i];
        if (stored?.status !== 'claimed' || stored.version !== 2 || stored.operatorId !== winners[i]) problems.push(`${rec.id}: stored ${JSON.stringify(stored)}`);
        const claimed = trails[i]!.filter((e) => e.type === 'claimed');
        if (claimed.length !== 1 || claimed[0]!.by !== String(winners[i])) problems.push(`${rec.id}: audit ${JSON.stringify(claimed)}`);
      });
      expect(problems).toEqual([]);
      expect(await setup.waiting()).toEqual([]);
      const held = await Promise.all(OPERATORS.map(async (op) => (await setup.casesOf(op)).length));
      expect(held[0]! + held[1]!).toBe(CASES);
      console.info(`claims: wins per operator ${held.join(' / ')}`);
      expect(await setup.stats(T0)).toMatchObject({ created: CASES, claimed: CASES, waitingNow: 0 });
    } finally {
      for (const redis of connections) redis.destroy();
    }
  });

  it('timers fire after a restart: scheduled by one process, taken once by the next', async () => {
    const keyPrefix = `${prefix}timers:`;
    const before = await connectTestRedis();
    const now = Date.now();
    await new RedisHandoffStore(before, { prefix: keyPrefix }).schedule('K1', 'first_response', now + 1_000);
    await new RedisHandoffStore(before, { prefix: keyPrefix }).schedule('K2', 'next_response', now + 2_000);
    await new RedisHandoffStore(before, { prefix: keyPrefix }).schedule('K3', 'next_response', now + 3_600_000);
    before.destroy(); // the process dies; nothing in memory survives

    const after = await connectTestRedis();
    try {
      const store = new RedisHandoffStore(after, { prefix: keyPrefix });
      expect(await store.takeDue(now + 5_000)).toEqual([
        { caseId: 'K1', kind: 'first_response', deadline: now + 1_000 },
        { caseId: 'K2', kind: 'next_response', deadline: now + 2_000 },
      ]);
      expect(await store.takeDue(now + 5_000)).toEqual([]);
    } finally {
      after.destroy();
    }
  });

  it('a relay recorded before sending survives a crash, is sent again once, and a redelivered update is not recorded twice', async () => {
    const keyPrefix = `${prefix}relay:`;
    const entry: RelayEntry = { key: 'up:880001', caseId: 'K7QX2', direction: 'to_operators', fromChatId: 700_000_001, messageId: 314, topicId: 77 };

    const crashed = await connectTestRedis();
    expect(await new RedisHandoffStore(crashed, { prefix: keyPrefix }).recordRelay(entry)).toBe(true);
    crashed.destroy(); // killed between recording and sending: no ack

    const restarted = await connectTestRedis();
    try {
      const store = new RedisHandoffStore(restarted, { prefix: keyPrefix });
      expect(await store.unsentRelays()).toEqual([entry]);
      // Telegram redelivers the same update after the restart.
      expect(await store.recordRelay(entry)).toBe(false);
      await store.ackRelay(entry.key);
      expect(await store.unsentRelays()).toEqual([]);
      expect(await store.recordRelay(entry)).toBe(false);
    } finally {
      restarted.destroy();
    }
  });

  it('keeps working after Redis forgets its scripts, and gives personal keys a TTL', async () => {
    const keyPrefix = `${prefix}ttl:`;
    const store = new RedisHandoffStore(admin, { prefix: keyPrefix, ttlSeconds: 3_600, salt: 'a-test-secret' });
    await flushScripts(admin);
    const rec = waitingCase(1);
    expect(await store.create(rec, { type: 'created', by: 'family', at: T0 })).toBe(true);
    await store.keepPending(rec.id, { key: 'up:1', caseId: rec.id, direction: 'to_operators', fromChatId: rec.chatId, messageId: 1 });
    await store.keepCopy(rec.id, 77);
    const ref = familyRef('a-test-secret', rec.chatId);
    for (const key of [`case:${rec.id}`, `case:${rec.id}:audit`, `case:${rec.id}:pending`, `case:${rec.id}:copies`, `family:${ref}`, `family:${ref}:cases`]) {
      const ttl = await admin.ttl(`${keyPrefix}${HASH_TAG}:${key}`);
      expect(ttl, key).toBeGreaterThan(3_500);
      expect(ttl, key).toBeLessThanOrEqual(3_600);
    }
  });
});
