/**
 * /healthz answers within 2 s either way: 200 while Redis answers, 503 while
 * it is away (node-redis queues commands while offline, so a plain PING would
 * wait for ever). A real bot process, a real redis-server of its own, stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotProcess } from '../helpers/bot-process.js';
import { FakeTelegram, freeLoopbackPort } from '../helpers/fake-telegram.js';
import { startTestRedis } from '../helpers/redis-server.js';

let telegram: FakeTelegram;
beforeAll(async () => {
  telegram = await FakeTelegram.start();
});
afterAll(async () => {
  await telegram?.stop();
});

const health = (port: string) => fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });

describe('/healthz', () => {
  it('answers 200 with Redis, and 503 within 2 s once Redis is gone', async () => {
    const redis = await startTestRedis({}); // a redis-server of its own, never the shared one: it is stopped here
    const port = String(await freeLoopbackPort());
    const bot = await BotProcess.start({ BOT_TOKEN: telegram.newToken(), TELEGRAM_API_ROOT: telegram.apiRoot, REDIS_URL: redis.url, PORT: port, LOG_LEVEL: 'silent', KEY_PREFIX: 'health:' });
    try {
      expect((await health(port)).status).toBe(200);
      await redis.stop();
      for (let i = 0; i < 3; i++) {
        const res = await health(port); // throws if it takes longer than 2 s
        expect(res.status).toBe(503);
        expect(await res.text()).toBe('redis unavailable');
      }
    } finally {
      await bot.kill();
      await redis.stop();
    }
  }, 30_000);
});
