/**
 * Composition root: config → Redis → services → bot → long polling or webhook.
 * A bad setting stops the process at once with one line per problem.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { webhookCallback } from 'grammy';
import { createDeps } from './app.js';
import { createBot } from './bot/create-bot.js';
import { useTelegramLimits } from './runtime/telegram-limits.js';
import { setCommandMenus } from './bot/commands.js';
import { ConfigError, readConfig, type Config } from './config.js';
import { createLogger } from './log.js';
import { WorkingHours } from './handoff/hours.js';
import { connectRedis, type Redis } from './store/redis.js';

/** How long /healthz waits for Redis before it answers 503. */
const HEALTH_TIMEOUT_MS = 1500;

async function main(config: Config): Promise<void> {
  const log = createLogger(config.LOG_LEVEL);
  let redis: Redis | undefined;
  if (config.REDIS_URL) {
    redis = await connectRedis(config.REDIS_URL, { onError: (e) => log.error({ error: e.message }, 'redis connection problem') });
  } else {
    log.warn('REDIS_URL is not set: families’ progress lives in memory and is lost on restart (development only)');
  }
  const deps = createDeps({
    redis,
    prefix: config.KEY_PREFIX,
    dialogTtlDays: config.SESSION_TTL_DAYS,
    log,
    logSalt: config.LOG_SALT,
    paramsFile: config.PARAMS_FILE,
    handoff:
      config.OPERATORS_CHAT_ID === undefined
        ? undefined
        : {
            config: {
              groupId: config.OPERATORS_CHAT_ID,
              operatorIds: config.OPERATOR_IDS,
              supervisorIds: config.SUPERVISOR_IDS,
              hours: WorkingHours.parse(config.HOTLINE_HOURS),
              firstResponseMinutes: config.SLA_FIRST_RESPONSE_MINUTES,
              nextResponseMinutes: config.SLA_NEXT_RESPONSE_MINUTES,
              showOperatorName: config.SHOW_OPERATOR_NAME,
              staffLang: config.STAFF_LANG,
            },
            minutesPerCase: config.MINUTES_PER_CASE,
            adminIds: config.ADMIN_IDS,
          },
  });
  const bot = createBot(config.BOT_TOKEN, deps, { client: config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT } : {} });
  useTelegramLimits(bot.api);
  await bot.init();
  await setCommandMenus(bot.api, deps.translator).catch((e: Error) => log.warn({ error: e.message }, 'could not set command menus'));

  const webhookPath = config.WEBHOOK_URL ? new URL(config.WEBHOOK_URL).pathname : undefined;
  const handleWebhook = webhookPath
    ? webhookCallback(bot, 'http', { secretToken: config.WEBHOOK_SECRET, onTimeout: 'return', timeoutMilliseconds: 9000 })
    : undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/healthz') {
      // Within 2 s either way: node-redis queues commands while offline, so a ping could wait for ever.
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS).unref());
      const ping = redis ? Promise.race([redis.ping().then(() => true, () => false), timeout]) : Promise.resolve(true);
      void ping.then((ok) => {
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'redis unavailable');
      });
      return;
    }
    if (handleWebhook && req.method === 'POST' && req.url === webhookPath) {
      // grammY answers 401 when the secret-token header is wrong.
      void handleWebhook(req, res).catch((e: Error) => {
        log.error({ error: e.message }, 'webhook update failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  // A busy or forbidden port is a bad setting: one line, not an unhandled 'error' event with a stack trace.
  await new Promise<void>((resolve, reject) => {
    const refuse = (e: NodeJS.ErrnoException) => reject(new ConfigError([`PORT: cannot listen on ${config.PORT} (${e.code ?? e.message})`]));
    server.once('error', refuse);
    server.listen(config.PORT, () => {
      server.off('error', refuse);
      resolve();
    });
  });

  if (config.WEBHOOK_URL) {
    await bot.api.setWebhook(config.WEBHOOK_URL, { secret_token: config.WEBHOOK_SECRET });
    log.info({ port: config.PORT }, 'webhook mode');
  } else {
    // grammY gives up on 401 (token revoked) and 409 (another instance polls with this token): say so in the log and exit non-zero.
    bot.start({ onStart: () => log.info({ bot: bot.botInfo.username }, 'long polling started') }).catch((e: Error) => {
      log.fatal({ error: e.message }, 'long polling stopped');
      process.exit(1);
    });
  }

  // Durable timers and the relay outbox: every process checks; each timer fires once.
  const handoff = deps.handoff?.service;
  const tick = handoff
    ? setInterval(() => {
        void handoff.fireDueTimers().catch((e: Error) => log.warn({ error: e.message }, 'timers failed'));
        void handoff.resendUnsent().catch((e: Error) => log.warn({ error: e.message }, 'relay resend failed'));
      }, 5000)
    : undefined;
  if (handoff) void handoff.resendUnsent().catch(() => undefined);

  const stop = async (signal: string) => {
    log.info({ signal }, 'stopping');
    if (tick) clearInterval(tick);
    if (!config.WEBHOOK_URL) await bot.stop().catch(() => undefined);
    server.close();
    await redis?.quit().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

try {
  await main(readConfig());
} catch (e) {
  if (e instanceof ConfigError) {
    for (const line of e.lines) console.error(line);
    process.exit(2);
  }
  console.error(`qamqor could not start: ${(e as Error).message}`);
  process.exit(1);
}
