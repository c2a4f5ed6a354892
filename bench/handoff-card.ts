/**
 * `npx tsx bench/handoff-card.ts`: enqueue-to-card latency, p50/p99, on one Redis.
 * From a family's "share and talk to a person" press (a real bot update through
 * bot.handleUpdate) to the moment the case card is handed to the Bot API for the
 * operators' forum topic. Telegram itself is faked in-process (no network), so
 * this is our share of the latency: machine, Redis (Lua create, line, timers),
 * topic creation call, card rendering. Prints numbers; asserts nothing.
 * Needs Redis: REDIS_URL, or a throwaway redis-server on loopback.
 */
import { performance } from 'node:perf_hooks';
import { createDeps } from '../src/app.js';
import { createBot } from '../src/bot/create-bot.js';
import { FAKE_BOT_INFO, InProcessTelegram } from '../src/bot/in-process-api.js';
import { WorkingHours } from '../src/handoff/hours.js';
import { createLogger } from '../src/log.js';
import { connectRedis } from '../src/store/redis.js';
import { startTestRedis } from '../tests/helpers/redis-server.js';

const FAMILIES = Number(process.env.BENCH_FAMILIES ?? 500);
const GROUP = -1009999999999;

const server = process.env.REDIS_URL ? undefined : await startTestRedis();
const redis = await connectRedis(process.env.REDIS_URL ?? server!.url);
const prefix = `bench:${process.pid}:`;
const deps = createDeps({
  redis,
  prefix,
  dialogTtlDays: 30,
  log: createLogger('silent'),
  logSalt: 'bench-salt',
  handoff: {
    config: { groupId: GROUP, operatorIds: [1001, 1002], supervisorIds: [], hours: WorkingHours.parse('always'), firstResponseMinutes: 15, nextResponseMinutes: 30, showOperatorName: false, staffLang: 'ru' },
    minutesPerCase: 10,
    adminIds: [],
  },
});
const telegram = new InProcessTelegram();
const bot = createBot('0:bench', deps, { botInfo: FAKE_BOT_INFO });
bot.api.config.use(telegram.transformer);

let cardAt = 0;
telegram.onCall = (call) => {
  if (call.method === 'sendMessage' && call.payload.chat_id === GROUP && call.payload.message_thread_id) cardAt = performance.now();
};

let updateId = 1;
const user = (id: number) => ({ id, is_bot: false, first_name: 'F', language_code: 'ru' });
const chat = (id: number) => ({ id, type: 'private' as const, first_name: 'F' });
const say = (id: number, text: string) =>
  bot.handleUpdate({ update_id: updateId++, message: { message_id: updateId, date: 0, chat: chat(id), from: user(id), text, entities: text.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: text.length }] : undefined } });
const press = (id: number, data: string) =>
  bot.handleUpdate({ update_id: updateId++, callback_query: { id: String(updateId), from: user(id), chat_instance: 'b', data, message: { message_id: 1, date: 0, chat: chat(id), text: '' } } });

const latencies: number[] = [];
for (let i = 0; i < FAMILIES; i++) {
  const id = 500_000 + i;
  await say(id, '/start');
  await press(id, '0|cs'); // consent (the intro screen is step 0)
  await press(id, '1|tk'); // talk to a person from the first question: the share question
  cardAt = 0;
  const started = performance.now();
  await press(id, 'hs|1');
  if (cardAt) latencies.push(cardAt - started);
}
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
console.log(`enqueue-to-card (bot update → card sent to the Bot API), ${latencies.length} families, line growing to ${FAMILIES}:`);
console.log(`  p50 ${q(0.5)} ms   p99 ${q(0.99)} ms   max ${latencies.at(-1)!.toFixed(2)} ms`);

for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
redis.destroy();
await server?.stop();
