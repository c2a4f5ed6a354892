/**
 * The real Qamqor bot for the benchmark, and the questionnaire it asks, read
 * off its own screens so the conversations version asks exactly the same.
 */
import type { Bot } from 'grammy';
import { createDeps } from '../src/app.js';
import type { BotContext, BotDeps } from '../src/bot/context.js';
import { createBot } from '../src/bot/create-bot.js';
import { FAKE_BOT_INFO } from '../src/bot/in-process-api.js';
import { createLogger } from '../src/log.js';
import type { Redis } from '../src/store/redis.js';
import { FakeTelegram, type Keyboard } from './fake-telegram.js';
import { pressUpdate, startUpdate } from './family.js';

export const TODAY = '2026-11-21';
/** The bench bot's LOG_SALT, which also names its chats' Redis keys (src/store/hot-path.ts). */
export const BENCH_SALT = 'bench';

export interface Qamqor {
  bot: Bot<BotContext>;
  deps: BotDeps;
}

/** The production composition (createDeps + createBot), with Redis stores when a client is given. */
export function createQamqor(telegram: FakeTelegram, redis: Redis | undefined, prefix: string): Qamqor {
  const deps = createDeps({ redis, prefix, dialogTtlDays: 30, log: createLogger('silent'), logSalt: BENCH_SALT, today: () => TODAY });
  return { bot: createBot('0:bench', deps, { botInfo: FAKE_BOT_INFO, client: { fetch: telegram.fetch } }), deps };
}

/** What a family sees: the intro, then one screen per answer it gives. */
export interface Questionnaire {
  intro: Keyboard;
  /** questions[i] is shown after i answers; the screen after the last answer is `after`. */
  questions: Keyboard[];
  after: Keyboard;
}

/** Walks one family (memory stores) through `answers` answers and keeps every screen it was shown. */
export async function captureQuestionnaire(answers: number): Promise<Questionnaire> {
  const telegram = new FakeTelegram();
  const { bot } = createQamqor(telegram, undefined, 'capture:');
  const chatId = 1;
  const shown = (): Keyboard => {
    const k = telegram.lastKeyboard.get(chatId);
    if (!k) throw new Error('the bot sent no keyboard');
    return k;
  };
  await bot.handleUpdate(startUpdate(chatId));
  const intro = shown();
  await bot.handleUpdate(pressUpdate(telegram, chatId)); // consent
  const questions: Keyboard[] = [];
  for (let i = 0; i < answers; i++) {
    questions.push(shown());
    await bot.handleUpdate(pressUpdate(telegram, chatId));
  }
  const after = shown();
  if (new Set([intro, ...questions, after].map((k) => k.messageId)).size !== answers + 2) throw new Error('a press did not bring a new screen');
  return { intro, questions, after };
}
