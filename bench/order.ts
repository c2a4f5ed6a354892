/**
 * One order per chat across processes (issue 12), the probe's set-up
 * (shared/probes/concurrency.ts, B2): two bot processes (two createDeps + bots,
 * each on its own connection) on one real Redis, every Bot API call taking
 * 100 ms, one family's typed answers u1 → A, u2 → B (+gap), u3 → A (+2·gap),
 * gaps alternating 20 and 100 ms. In update_id order the family has 7 people
 * and 4 children ("2" then meets the topics screen, which wants buttons); out of
 * order "2" is taken as the children and the "4" after it lands nowhere.
 *
 *   npx tsx bench/order.ts [trials=20]
 */
import { connectRedis } from '../src/store/redis.js';
import { BotHarness } from '../tests/helpers/bot-harness.js';
import { slowBotApi, typedAnswersApart } from '../tests/helpers/order-probe.js';
import { startTestRedis } from '../tests/helpers/redis-server.js';

const TRIALS = Number(process.argv[2] ?? 20);

const server = await startTestRedis();
const prefix = `order:${process.pid}:`;
const clients = [await connectRedis(server.url), await connectRedis(server.url)];
const [A, B] = clients.map((redis) => new BotHarness({ redis, prefix })) as [BotHarness, BotHarness];
slowBotApi(A, B);
let inOrder = 0;
const other = new Map<string, number>();
for (let t = 0; t < TRIALS; t++) {
  const gap = t % 2 === 0 ? 20 : 100;
  const facts = await typedAnswersApart(A, B, 9_200_000_000 + t, gap);
  if (facts.household === 7 && facts.children === 4) inOrder++;
  else {
    const got = `household=${String(facts.household ?? '-')} children=${String(facts.children ?? '-')}`;
    other.set(got, (other.get(got) ?? 0) + 1);
  }
}
console.log(`two processes, Bot API calls 100 ms, answers 20/100 ms apart in alternation: applied in update_id order in ${inOrder}/${TRIALS} trials; other outcomes ${JSON.stringify(Object.fromEntries(other))}`);
for (const c of clients) c.destroy();
await server.stop();
process.exit(0);
