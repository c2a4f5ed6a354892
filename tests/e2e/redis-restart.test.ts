/**
 * Redis killed and restarted in the middle of a family's screening, with AOF on
 * (as compose.yaml runs it): the real process in webhook mode keeps running,
 * tells the family kindly that there is a short pause (with the emergency
 * numbers), and once Redis is back the family's message is answered and the
 * screening goes on from where it was.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotProcess } from '../helpers/bot-process.js';
import { freeLoopbackPort } from '../helpers/fake-telegram.js';
import { answersPing } from '../helpers/redis-server.js';
import { FAKE_TOKEN, LoopbackBotApi, startUpdate } from './fake-bot-api.js';

const HOST = '127.0.0.1';
const HOOK_PATH = '/telegram/hook';
const ru = (file: string) => JSON.parse(readFileSync(new URL(`../../locales/ru/${file}.json`, import.meta.url), 'utf8')) as Record<string, Record<string, string>>;
const PAUSE_TEXT = ru('bot').errors!.pause!;
const TOPICS_QUESTION = (ru('facts').topics as unknown as { question: string }).question;

let api: LoopbackBotApi;
let dir: string;
let redisPort: number;
let redis: ChildProcess | undefined;

/** A redis-server with AOF every second, in a directory that outlives it. */
async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', HOST, '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], { stdio: 'ignore' });
  const url = `redis://${HOST}:${redisPort}`;
  for (let i = 0; i < 200 && !(await answersPing(url)); i++) await sleep(25);
  expect(await answersPing(url)).toBe(true);
}

async function killRedis(): Promise<void> {
  const child = redis!;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  redis = undefined;
}

beforeAll(async () => {
  api = await LoopbackBotApi.start();
  dir = mkdtempSync(join(tmpdir(), 'qamqor-aof-'));
  redisPort = await freeLoopbackPort();
  await startRedis();
});
afterAll(async () => {
  await api.stop();
  if (redis) await killRedis();
  rmSync(dir, { recursive: true, force: true });
});

async function eventually(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe('Redis restarted mid-screening (AOF on)', () => {
  it('the process survives Redis being away, the family is told kindly with the numbers, and goes on where it was', async () => {
    const port = await freeLoopbackPort();
    const secret = randomBytes(16).toString('hex');
    const bot = await BotProcess.start({
      NODE_ENV: 'production',
      BOT_TOKEN: FAKE_TOKEN,
      TELEGRAM_API_ROOT: api.apiRoot,
      REDIS_URL: `redis://${HOST}:${redisPort}`,
      KEY_PREFIX: 'e2e:aof:',
      PORT: String(port),
      LOG_LEVEL: 'info',
      LOG_SALT: 'e2e-aof-salt',
      WEBHOOK_URL: `https://bot.example.org${HOOK_PATH}`,
      WEBHOOK_SECRET: secret,
    });
    try {
      const chatId = randomInt(100_000_000, 900_000_000);
      const chat = { id: chatId, type: 'private', first_name: 'Айгуль' };
      const from = { id: chatId, is_bot: false, first_name: 'Айгуль', language_code: 'ru' };
      let updateId = randomInt(1, 1_000_000);
      const text = (t: string) => ({ update_id: ++updateId, message: { message_id: updateId, date: Math.floor(Date.now() / 1000), chat, from, text: t } });
      const press = (data: string, messageId: number) => ({ update_id: ++updateId, callback_query: { id: String(updateId), from, chat_instance: 'ci', data, message: { message_id: messageId, date: 0, chat, text: '' } } });
      const post = async (update: unknown, timeoutMs = 10_000) => {
        const res = await fetch(`http://${HOST}:${port}${HOOK_PATH}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': secret },
          body: JSON.stringify(update),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer();
        return res.status;
      };
      const messages = () => api.messagesTo(chatId).map((c) => c.params);
      const lastKeyboard = () => {
        const calls = api.calls.filter((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chatId && c.params.reply_markup);
        const index = api.calls.indexOf(calls.at(-1)!);
        const rows = (calls.at(-1)?.params.reply_markup as { inline_keyboard?: { callback_data?: string }[][] } | undefined)?.inline_keyboard ?? [];
        // LoopbackBotApi numbers sendMessage results in call order.
        const messageId = api.calls.slice(0, index + 1).filter((c) => c.method === 'sendMessage').length;
        return { messageId, data: rows.flat().flatMap((b) => (b.callback_data ? [b.callback_data] : [])) };
      };
      const sent = () => messages().length;

      // /start, consent, "no" to danger, 4 people: the family is asked about children.
      expect(await post(startUpdate(++updateId, chatId))).toBe(200);
      await eventually(() => lastKeyboard().data.some((d) => d.endsWith('|cs')), 'the consent question was sent');
      let keyboard = lastKeyboard();
      expect(await post(press(keyboard.data.find((d) => d.endsWith('|cs'))!, keyboard.messageId))).toBe(200);
      await eventually(() => lastKeyboard().data.some((d) => d.endsWith('|a:no')), 'the danger question was sent');
      keyboard = lastKeyboard();
      expect(await post(press(keyboard.data.find((d) => d.endsWith('|a:no'))!, keyboard.messageId))).toBe(200);
      await eventually(() => lastKeyboard().messageId !== keyboard.messageId, 'the household question was sent');
      let mark = sent();
      expect(await post(text('4'))).toBe(200);
      await eventually(() => sent() > mark, 'the children question was sent');
      await sleep(1_500); // AOF everysec: the last answer reaches the disk

      // Redis dies. The family answers the children question meanwhile.
      await killRedis();
      mark = sent();
      const answer = text('2');
      const whileAway = post(answer, 30_000);
      await eventually(() => messages().slice(mark).some((m) => String(m.text).startsWith(PAUSE_TEXT)), 'the family was told about the pause');
      const pause = String(messages().slice(mark).find((m) => String(m.text).startsWith(PAUSE_TEXT))!.text);
      expect(pause).toMatch(/112/); // the numbers: a cue in that message cannot be read yet

      // Back after a few seconds, from its AOF: the family's answer is applied to the right question.
      await sleep(3_000);
      await startRedis();
      const status = await whileAway;
      // Recorded once Redis answered again; had Telegram given up waiting, it would post the update again.
      if (status !== 200) expect(await post(answer)).toBe(200);
      await eventually(() => messages().slice(mark).some((m) => String(m.text).includes(TOPICS_QUESTION.slice(0, 30))), 'the topics question (after children) was sent', 20_000);
      expect(messages().slice(mark).filter((m) => String(m.text).startsWith(PAUSE_TEXT))).toHaveLength(1);
      expect(bot.child.exitCode).toBeNull();
    } finally {
      await bot.kill('SIGTERM');
    }
  }, 90_000);
});
