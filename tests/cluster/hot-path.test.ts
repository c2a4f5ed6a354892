/**
 * The hot path (src/store/hot-path.ts) on a real three-master Redis Cluster:
 * a family's screening through two bot "processes" on their own cluster
 * connections — a redelivered update is handled once, an older one never
 * overwrites a later answer, and the probe's set-up (Bot API calls 100 ms, one
 * family's answers 20–100 ms apart on alternating processes) applies them in
 * update_id order. The single-Redis suite is tests/store/hot-path.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import type { RedisCluster } from '../../src/store/redis.js';
import { updateDedupStats } from '../../src/store/update-dedup.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { factsOf, startScreening } from '../helpers/family-dialog.js';
import { slowBotApi, typedAnswersApart } from '../helpers/order-probe.js';
import { connectTestCluster, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { startTestCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';

const prefix = uniquePrefix('test:cluster-hotpath');
let cluster: TestRedisCluster;
const clients: RedisCluster[] = [];
let chatSeq = 81_000;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);
afterAll(async () => {
  if (clients[0]) await deleteKeysWithPrefix(clients[0], prefix);
  for (const c of clients) c.destroy();
  await cluster?.stop();
});

/** A bot "process": its own cluster connection, the real composition. */
async function botProcess(): Promise<BotHarness> {
  const redis = await connectTestCluster(cluster);
  clients.push(redis);
  const deps = createDeps({ redis, prefix, dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'cluster-salt', today: () => '2026-11-21' });
  return new BotHarness({ deps });
}

describe('the hot path on a Redis Cluster', () => {
  it('a redelivered update is handled once; an older one is dropped and never overwrites a later answer', async () => {
    const h = await botProcess();
    const f = h.family(++chatSeq);
    await startScreening(f);
    await f.press('a:no');
    const id = h.newUpdateId() + 10;
    const first = await f.deliver(f.textUpdate('3'), id);
    expect(first.some((c) => c.method === 'sendMessage')).toBe(true);
    expect(await f.deliver(f.textUpdate('3'), id)).toEqual([]);
    const before = updateDedupStats.outOfOrder;
    expect(await f.deliver(f.textUpdate('5'), id - 5)).toEqual([]);
    expect(updateDedupStats.outOfOrder).toBe(before + 1);
    const facts = await factsOf(h, f.chat.id);
    expect(facts.household_members).toBe(3);
    expect(facts.children).toBeUndefined();
  });

  it("the probe's set-up on two processes: one family's typed answers are applied in update_id order", async () => {
    const [A, B] = [await botProcess(), await botProcess()];
    slowBotApi(A, B);
    for (const gap of [20, 100]) {
      expect({ gap, ...(await typedAnswersApart(A, B, ++chatSeq, gap)) }).toEqual({ gap, household: 7, children: 4 });
    }
  }, 30_000);
});
