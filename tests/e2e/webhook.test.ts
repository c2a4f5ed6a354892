/**
 * Webhook mode end to end over real HTTP on 127.0.0.1: the bot as its own
 * process (`node --import tsx src/main.ts`) with WEBHOOK_URL set, a tiny fake
 * Bot API server (TELEGRAM_API_ROOT) that records what the bot calls, and a
 * real Redis. The test plays Telegram posting updates to the webhook: only a
 * post that carries the secret token the bot registered gets through.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { BotProcess } from '../helpers/bot-process.js';
import { freeLoopbackPort } from '../helpers/fake-telegram.js';
import { hotPathChatKeys } from '../../src/store/hot-path.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { localeFile } from '../helpers/screening-walk.js';

const HOST = '127.0.0.1';
const TOKEN = '123456789:AAEabcdefghijklmnopqrstuvwxyz012345';
const HOOK_PATH = '/telegram/hook';
const SECRET_HEADER = 'X-Telegram-Bot-Api-Secret-Token';

interface Call {
  method: string;
  params: Record<string, unknown>;
  result?: unknown;
}

/** Just enough of the Bot API for a bot in webhook mode; records every call it gets. */
class FakeBotApi {
  readonly calls: Call[] = [];
  /** Milliseconds to take over answering a call (a slow Telegram); none by default. */
  slow: ((method: string, params: Record<string, unknown>) => number) | undefined;
  private nextMessageId = 1;

  private constructor(
    private readonly server: Server,
    readonly apiRoot: string,
  ) {}

  static async start(): Promise<FakeBotApi> {
    const port = await freeLoopbackPort();
    let api: FakeBotApi | undefined;
    const server = createServer((req, res) => void api!.handle(req, res));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, HOST, resolve));
    api = new FakeBotApi(server, `http://${HOST}:${port}`);
    return api;
  }

  callsOf(method: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', this.apiRoot).pathname);
    const send = (status: number, payload: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    if (!match || match[1] !== TOKEN) return void send(404, { ok: false, error_code: 404, description: 'Not Found' });
    const method = match[2]!;
    let params: Record<string, unknown> = {};
    if (body) {
      try {
        params = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return void send(400, { ok: false, error_code: 400, description: 'Bad Request: cannot parse JSON' });
      }
    }
    const call: Call = { method, params };
    this.calls.push(call);
    const delay = this.slow?.(method, params) ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const result = this.answer(method, params);
    if (result === undefined) return void send(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    call.result = result;
    send(200, { ok: true, result });
  }

  private answer(method: string, params: Record<string, unknown>): unknown {
    switch (method) {
      case 'getMe':
        return { id: 123456789, is_bot: true, first_name: 'Qamqor', username: 'qamqor_test_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };
      case 'setWebhook':
      case 'setMyCommands':
      case 'deleteWebhook':
      case 'answerCallbackQuery':
        return true;
      case 'sendMessage':
        return {
          message_id: this.nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: params.chat_id, type: 'private', first_name: 'Family' },
          from: { id: 123456789, is_bot: true, first_name: 'Qamqor', username: 'qamqor_test_bot' },
          text: params.text,
          ...(params.reply_markup ? { reply_markup: params.reply_markup } : {}),
        };
      case 'editMessageReplyMarkup':
        return true;
      default:
        return undefined;
    }
  }
}

/** Waits (bounded) for something the bot does in the background. */
async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Telegram's update ids increase (a chat's older update is dropped as out of order, src/store/hot-path.ts). */
let lastUpdateId = randomInt(1, 1_000_000_000);

/** A `/start` from a Russian-speaking family, as Telegram posts it to a webhook. */
function startUpdate(chatId: number): Record<string, unknown> {
  return {
    update_id: ++lastUpdateId,
    message: {
      message_id: 1,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Айгуль' },
      from: { id: chatId, is_bot: false, first_name: 'Айгуль', language_code: 'ru' },
      text: '/start',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    },
  };
}

/** A family's message or button press, as Telegram posts it to a webhook. */
function familyUpdate(chatId: number, body: { text: string } | { data: string; messageId: number }): Record<string, unknown> {
  const chat = { id: chatId, type: 'private', first_name: 'Айгуль' };
  const from = { id: chatId, is_bot: false, first_name: 'Айгуль', language_code: 'ru' };
  const date = Math.floor(Date.now() / 1000);
  const update_id = ++lastUpdateId;
  if ('text' in body) return { update_id, message: { message_id: randomInt(1, 1_000_000), date, chat, from, text: body.text } };
  return { update_id, callback_query: { id: String(randomInt(1, 1_000_000_000)), from, chat_instance: 'ci', data: body.data, message: { message_id: body.messageId, date, chat, text: '' } } };
}

/** 24 characters of A–Z, a–z, 0–9 (what WEBHOOK_SECRET accepts). */
function randomSecret(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join('');
}

describe('npm start in webhook mode', () => {
  let api: FakeBotApi;
  let bot: BotProcess | undefined;
  let port: number;
  let hookUrl: string;
  const secret = randomSecret();
  const prefix = uniquePrefix('e2e-webhook');

  const post = (update: unknown, headers: Record<string, string> = {}) =>
    fetch(`http://${HOST}:${port}${HOOK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(update),
      signal: AbortSignal.timeout(10_000),
    });
  const sentTo = (chatId: number) => api.callsOf('sendMessage').filter((p) => p.chat_id === chatId);
  /** Chats whose updates were refused: checked again once a later, accepted update has been answered. */
  const refused: number[] = [];

  beforeAll(async () => {
    api = await FakeBotApi.start();
    port = await freeLoopbackPort();
    hookUrl = `http://${HOST}:${port}${HOOK_PATH}`;
    bot = await BotProcess.start(
      {
        BOT_TOKEN: TOKEN,
        TELEGRAM_API_ROOT: api.apiRoot,
        WEBHOOK_URL: hookUrl,
        WEBHOOK_SECRET: secret,
        PORT: String(port),
        REDIS_URL: inject('redisUrl'),
        KEY_PREFIX: prefix,
        LOG_LEVEL: 'warn',
      },
      10_000,
    );
    // /healthz answers as soon as the server listens; setWebhook comes right after.
    await eventually(() => api.callsOf('setWebhook').length > 0, 'the bot registered its webhook');
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && bot) console.error(`bot output:\n${bot.output}`);
  });

  afterAll(async () => {
    await bot?.kill();
    await api?.stop();
    const redis = await connectTestRedis();
    try {
      await deleteKeysWithPrefix(redis, prefix);
    } finally {
      await redis.quit();
    }
  });

  it('registers WEBHOOK_URL with Telegram, together with the secret token', () => {
    const calls = api.callsOf('setWebhook');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ url: hookUrl, secret_token: secret });
    expect(api.calls.map((c) => c.method)).not.toContain('getUpdates'); // no long polling alongside
  });

  it('refuses an update without the secret-token header, and does not act on it', async () => {
    const chatId = randomInt(10_000_000, 99_999_999);
    refused.push(chatId);
    const res = await post(startUpdate(chatId));
    expect(res.status).toBe(401);
    await res.arrayBuffer();
    expect(sentTo(chatId)).toEqual([]);
  });

  it('refuses an update with a wrong secret token', async () => {
    const chatId = randomInt(10_000_000, 99_999_999);
    refused.push(chatId);
    const wrong = randomSecret();
    for (const token of [wrong, secret.slice(0, -1), `${secret}x`, secret.toLowerCase() === secret ? secret.toUpperCase() : secret.toLowerCase()]) {
      const res = await post(startUpdate(chatId), { [SECRET_HEADER]: token });
      expect(res.status, `secret ${token}`).toBe(401);
      await res.arrayBuffer();
    }
    expect(sentTo(chatId)).toEqual([]);
  });

  it('handles an update with the right secret token: the family gets the Russian greeting', async () => {
    const chatId = randomInt(10_000_000, 99_999_999);
    const res = await post(startUpdate(chatId), { [SECRET_HEADER]: secret });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const greeting = String(localeFile('ru', 'bot').intro!.greeting);
    await eventually(() => sentTo(chatId).some((p) => String(p.text).includes(greeting)), 'the greeting was sent');
    // Sends are paced one at a time, so anything owed to the refused chats would have gone out by now.
    expect(refused).toHaveLength(2);
    for (const id of refused) expect(sentTo(id)).toEqual([]);
    const failed = bot!.output.split('\n').filter((line) => /"level":(50|60)/.test(line));
    expect(failed).toEqual([]);
  });

  it('keeps an idle connection open for longer than a load balancer would (Node closes it after 5 s by default)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = request({ host: HOST, port, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get()).toEqual({ status: 200, reused: false });
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(await get()).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 15_000);

  it('answers /healthz with 200 "ok" and anything else with 404', async () => {
    const health = await fetch(`http://${HOST}:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');

    const stray = randomInt(10_000_000, 99_999_999);
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/nope'],
      ['POST', '/telegram/hook/extra'],
      ['GET', HOOK_PATH], // the hook takes only POSTs
    ] as const) {
      const res = await fetch(`http://${HOST}:${port}${path}`, {
        method,
        headers: { [SECRET_HEADER]: secret, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify(startUpdate(stray)) } : {}),
        signal: AbortSignal.timeout(5_000),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      await res.arrayBuffer();
    }
    expect(sentTo(stray)).toEqual([]);
  });
  describe('Telegram retrying a webhook post', () => {
    /** The keyboard of the last message with buttons the bot sent to this chat: message id and callback data. */
    const lastKeyboard = (chatId: number) => {
      const call = api.calls.filter((c) => c.method === 'sendMessage' && c.params.chat_id === chatId && c.params.reply_markup && c.result).at(-1);
      const rows = (call?.params.reply_markup as { inline_keyboard: { callback_data?: string }[][] } | undefined)?.inline_keyboard ?? [];
      return { messageId: (call?.result as { message_id: number } | undefined)?.message_id ?? 0, data: rows.flat().flatMap((b) => (b.callback_data ? [b.callback_data] : [])) };
    };
    const facts = async (chatId: number): Promise<Record<string, unknown>> => {
      const redis = await connectTestRedis();
      try {
        const raw = await redis.get(hotPathChatKeys(prefix, 'qamqor-dev-salt', String(chatId)).dialog);
        return (JSON.parse(raw ?? '{}') as { snapshot?: { context?: { facts?: Record<string, unknown> } } }).snapshot?.context?.facts ?? {};
      } finally {
        await redis.quit();
      }
    };
    const accepted = async (update: unknown, signal?: AbortSignal) => {
      const res = await fetch(`http://${HOST}:${port}${HOOK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SECRET_HEADER]: secret },
        body: JSON.stringify(update),
        signal: signal ?? AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    /** /start, consent, "no" to danger: the family is asked how many people live with them. */
    const toHouseholdMembers = async (chatId: number) => {
      await accepted(startUpdate(chatId));
      await eventually(() => lastKeyboard(chatId).data.some((d) => d.endsWith('|cs')), 'the consent question was sent');
      const consent = lastKeyboard(chatId);
      await accepted(familyUpdate(chatId, { data: consent.data.find((d) => d.endsWith('|cs'))!, messageId: consent.messageId }));
      await eventually(() => lastKeyboard(chatId).data.some((d) => d.endsWith('|a:no')), 'the danger question was sent');
      const danger = lastKeyboard(chatId);
      await accepted(familyUpdate(chatId, { data: danger.data.find((d) => d.endsWith('|a:no'))!, messageId: danger.messageId }));
      await eventually(() => lastKeyboard(chatId).messageId !== danger.messageId, 'the household question was sent');
      expect(await facts(chatId)).toEqual({ in_danger_now: 'no' });
    };
    /** sendMessage calls to this chat that Telegram has answered (a slow one is recorded when it arrives). */
    const answeredTo = (chatId: number) => api.calls.filter((c) => c.method === 'sendMessage' && c.params.chat_id === chatId && c.result);
    const dropsLogged = () => bot!.output.split('\n').filter((line) => line.includes('redelivered update dropped')).length;

    it('a slow reply: the update is posted again while it is still handled; one answer, one reply', async () => {
      const chatId = randomInt(10_000_000, 99_999_999);
      await toHouseholdMembers(chatId);
      const mark = sentTo(chatId).length;
      const drops = dropsLogged();
      // Telegram is slow to take the reply, so the bot's answer to the post comes late…
      api.slow = (method, params) => (method === 'sendMessage' && params.chat_id === chatId ? 1_500 : 0);
      const three = familyUpdate(chatId, { text: '3' });
      // …but the post is answered once the update is recorded, before it is handled. Telegram posts the
      // same update again anyway (as it does after a timeout or a lost answer).
      await accepted(three, AbortSignal.timeout(1_000));
      await accepted(three);
      await eventually(() => answeredTo(chatId).length > mark, 'the reply was sent');
      api.slow = undefined;
      await new Promise((r) => setTimeout(r, 500)); // time for a second reply, were one coming
      expect(await facts(chatId)).toEqual({ in_danger_now: 'no', household_members: 3 });
      expect(answeredTo(chatId).slice(mark)).toHaveLength(1);
      expect(dropsLogged()).toBe(drops + 1);
    });

    it('an answer Telegram did not receive: the update is posted again later and changes nothing', async () => {
      const chatId = randomInt(10_000_000, 99_999_999);
      await toHouseholdMembers(chatId);
      const mark = sentTo(chatId).length;
      const three = familyUpdate(chatId, { text: '3' });
      await accepted(three);
      await eventually(() => sentTo(chatId).length > mark, 'the reply was sent');
      const before = api.calls.length;
      const drops = dropsLogged();
      await accepted(three); // answered once recorded; handled (and dropped as a duplicate) from the inbox
      await eventually(() => dropsLogged() > drops, 'the second delivery was dropped');
      expect(await facts(chatId)).toEqual({ in_danger_now: 'no', household_members: 3 });
      expect(api.calls.slice(before).filter((c) => c.params.chat_id === chatId)).toEqual([]);
      expect(sentTo(chatId).slice(mark)).toHaveLength(1);
      expect(dropsLogged()).toBe(drops + 1);
      // The family carries on.
      await accepted(familyUpdate(chatId, { text: '0' }));
      await eventually(() => sentTo(chatId).length > mark + 1, 'the next question was sent');
    });
  });
});
