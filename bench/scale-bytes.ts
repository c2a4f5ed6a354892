/**
 * Redis bytes for `bench/scale.ts`: per active family (the chat's hot-path keys
 * after the questionnaire, written by the bot processes), per waiting case and
 * per open referral (made in-process through the real composition, createDeps).
 * A case or a referral also grows shared keys (the waiting line, the timers, the
 * created index), so those two are measured as the growth of every key of their
 * store over K new ones, after a few made first, divided by K.
 */
import { createDeps } from '../src/app.js';
import { createBot } from '../src/bot/create-bot.js';
import { FAKE_BOT_INFO, InProcessTelegram } from '../src/bot/in-process-api.js';
import { WorkingHours } from '../src/handoff/hours.js';
import { createLogger } from '../src/log.js';
import type { ReferralPacket } from '../src/referral/types.js';
import { hotPathChatKeys } from '../src/store/hot-path.js';
import type { RedisClient as Redis } from '../src/store/redis.js';

const GROUP = -1009999999999;
/** Made before the measured ones: the stores' shared keys exist by then. */
const FIRST = 10;

/** Mean MEMORY USAGE of the hot-path keys (dialog, session, updates; a lock if one is left) of the given chats. */
export async function familyBytes(redis: Redis, prefix: string, salt: string, chats: readonly number[]): Promise<{ bytes: number; families: number }> {
  let total = 0;
  for (const chat of chats) {
    const k = hotPathChatKeys(prefix, salt, String(chat));
    for (const key of [k.dialog, k.session, k.updates, k.lock]) total += await memoryUsage(redis, key);
  }
  return { bytes: chats.length ? total / chats.length : NaN, families: chats.length };
}

/** Bytes one waiting case adds under the handoff store's keys: families ask for a person and share their answers. */
export async function waitingCaseBytes(redis: Redis, prefix: string, cases: number): Promise<number> {
  const deps = createDeps({
    redis,
    prefix,
    dialogTtlDays: 30,
    log: createLogger('silent'),
    logSalt: 'bench-scale-salt',
    handoff: {
      config: { groupId: GROUP, operatorIds: [1001], supervisorIds: [], hours: WorkingHours.parse('always'), firstResponseMinutes: 15, nextResponseMinutes: 30, showOperatorName: false, staffLang: 'ru' },
      minutesPerCase: 10,
      adminIds: [],
    },
  });
  const bot = createBot('0:bench', deps, { botInfo: FAKE_BOT_INFO });
  bot.api.config.use(new InProcessTelegram().transformer);
  let updateId = 1;
  const from = (id: number) => ({ id, is_bot: false, first_name: 'F', language_code: 'ru' });
  const chat = (id: number) => ({ id, type: 'private' as const, first_name: 'F' });
  const press = (id: number, data: string) =>
    bot.handleUpdate({ update_id: updateId++, callback_query: { id: String(updateId), from: from(id), chat_instance: 'b', data, message: { message_id: 1, date: 0, chat: chat(id), text: '' } } });
  const ask = async (id: number) => {
    await bot.handleUpdate({ update_id: updateId++, message: { message_id: updateId, date: 0, chat: chat(id), from: from(id), text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }] } });
    await press(id, '0|cs'); // consent (the intro is step 0)
    await press(id, '1|tk'); // talk to a person from the first question: asked whether to share the answers
    await press(id, 'hs|1'); // share: the case joins the waiting line
  };
  const store = `${prefix}handoff:*`;
  for (let i = 0; i < FIRST; i++) await ask(7_000_000 + i);
  const before = await usageOf(redis, store);
  for (let i = 0; i < cases; i++) await ask(7_100_000 + i);
  const waiting = (await deps.handoffSetup!.store.waiting(FIRST + cases + 1)).length;
  if (waiting !== FIRST + cases) throw new Error(`expected ${FIRST + cases} waiting cases, found ${waiting}`);
  return ((await usageOf(redis, store)) - before) / cases;
}

/** Bytes one open referral adds under the referral store's keys (its notices' outbox left out: delivered notices are deleted). */
export async function referralBytes(redis: Redis, prefix: string, referrals: number): Promise<number> {
  const deps = createDeps({
    redis,
    prefix,
    dialogTtlDays: 30,
    log: createLogger('silent'),
    logSalt: 'bench-scale-salt',
    referrals: { config: { ackMinutes: 120, hours: WorkingHours.parse('always') } },
  });
  const service = deps.referrals!.service;
  const packet: ReferralPacket = {
    lang: 'ru',
    region: 'astana',
    district: 'yesil',
    urgent: false,
    profile: 'assessment',
    result: [{ kind: 'ground', id: 'low_income', status: 'indicated' }],
    receives: ['asp'],
    contact: { kind: 'phone', phone: '+77000000000' },
    contactTime: 'morning',
    admissionRoutes: ['own_application'],
  };
  const make = (chatId: number) => service.create({ packet, familyChatId: chatId, source: 'family', actor: { kind: 'family' } });
  const store = `${prefix}referral:*`;
  const outbox = (key: string) => key.endsWith(':outbox');
  for (let i = 0; i < FIRST; i++) await make(8_000_000 + i);
  const before = await usageOf(redis, store, outbox);
  for (let i = 0; i < referrals; i++) await make(8_100_000 + i);
  return ((await usageOf(redis, store, outbox)) - before) / referrals;
}

async function usageOf(redis: Redis, pattern: string, skip: (key: string) => boolean = () => false): Promise<number> {
  let total = 0;
  for await (const keys of redis.scanIterator({ MATCH: pattern, COUNT: 500 })) {
    for (const key of keys) if (!skip(key)) total += await memoryUsage(redis, key);
  }
  return total;
}

async function memoryUsage(redis: Redis, key: string): Promise<number> {
  return Number((await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])) ?? 0);
}
