/**
 * The relay outbox's consumer group, on every twin (memory, a real Redis, a Redis Cluster): the
 * resend never takes what a live sender holds, a dead sender's relay is taken
 * again after the idle time, two resenders never take the same relay, and a
 * relay given up leaves the outbox for the dead letters.
 */
import { describe, expect, it } from 'vitest';
import { MemoryHandoffStore } from '../../src/handoff/memory-store.js';
import { RedisHandoffStore } from '../../src/handoff/redis-store.js';
import type { HandoffStore } from '../../src/handoff/store.js';
import type { RelayEntry } from '../../src/handoff/types.js';
import { redisConnections, uniquePrefix } from '../helpers/redis-client.js';

const root = uniquePrefix('test:outbox');
let seq = 0;

const twins: { name: string; make: () => HandoffStore }[] = [
  { name: 'memory', make: () => new MemoryHandoffStore() },
  ...redisConnections(root).map(({ kind, redis }) => ({ name: `redis (${kind})`, make: () => new RedisHandoffStore(redis(), { prefix: `${root}${++seq}:` }) })),
];

const relay = (key: string): RelayEntry => ({ key, caseId: 'C00001', direction: 'to_operators', fromChatId: 500_000_001, messageId: 10, topicId: 77 });
const LONG = { idleMs: 60_000, leaseMs: 60_000 };
const keys = (entries: RelayEntry[]) => entries.map((e) => e.key);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(twins)('relay outbox ($name)', ({ make }) => {
  it('a relay the live path holds is not taken by the resend; once its send failed it is', async () => {
    const store = make();
    expect(await store.recordRelay(relay('f1'), { leaseMs: 60_000 })).toBe(true);
    expect(await store.claimUnsent('tick', LONG)).toEqual([]);
    // The live send failed and gave the lease back: the resend takes it after the idle time (short here).
    expect(await store.releaseRelay('f1')).toBe(1);
    expect(keys(await store.claimUnsent('tick', { idleMs: 0, leaseMs: 60_000 }))).toEqual(['f1']);
  });

  it('a relay nobody holds goes to exactly one of two resenders', async () => {
    const store = make();
    for (const k of ['a', 'b', 'c']) await store.recordRelay(relay(k));
    const [one, two] = await Promise.all([store.claimUnsent('p1', LONG), store.claimUnsent('p2', LONG)]);
    expect([...keys(one), ...keys(two)].sort()).toEqual(['a', 'b', 'c']);
    // Taken and not acknowledged: within the idle time nobody takes them again.
    expect(await store.claimUnsent('p3', LONG)).toEqual([]);
  });

  it("a dead sender's relay is taken again once its lease ran out and the idle time passed", async () => {
    const store = make();
    await store.recordRelay(relay('d'));
    expect(keys(await store.claimUnsent('dies', { idleMs: 20, leaseMs: 20 }))).toEqual(['d']);
    await sleep(40);
    expect(keys(await store.claimUnsent('lives', { idleMs: 20, leaseMs: 60_000 }))).toEqual(['d']);
    await store.ackRelay('d');
    await sleep(40);
    expect(await store.claimUnsent('lives', { idleMs: 20, leaseMs: 60_000 })).toEqual([]);
    expect(await store.relayBacklog()).toBe(0);
  });

  it('a relay given up leaves the outbox, later ones are still taken, and the backlog counts what is left', async () => {
    const store = make();
    for (let i = 0; i < 5; i++) await store.recordRelay(relay(`poison${i}`));
    await store.recordRelay(relay('ordinary'));
    expect(await store.relayBacklog()).toBe(6);
    const taken = await store.claimUnsent('tick', LONG);
    expect(keys(taken)).toContain('ordinary');
    for (const e of taken.filter((e) => e.key.startsWith('poison'))) await store.deadRelay(e, '400 Bad Request: message can not be copied', 3);
    await store.ackRelay('ordinary');
    expect(await store.relayBacklog()).toBe(0);
    expect(await store.unsentRelays()).toEqual([]);
  });
});
