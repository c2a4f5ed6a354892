/**
 * Composition root: config → Redis → services → bot → long polling or webhook.
 * A bad setting stops the process at once with one line per problem.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Update } from 'grammy/types';
import { createDeps } from './app.js';
import { createBot } from './bot/create-bot.js';
import { useTelegramLimits } from './runtime/telegram-limits.js';
import { MemoryInbox, RedisStreamInbox, waitAtMost, type UpdateInbox } from './runtime/inbox.js';
import { LongPolling } from './runtime/polling.js';
import { webhookReceiver } from './runtime/webhook.js';
import { CONTENT_TYPE as METRICS_CONTENT_TYPE, runtimeMetrics } from './runtime/metrics.js';
import { createMetrics } from './runtime/app-metrics.js';
import { setCommandMenus } from './bot/commands.js';
import { PauseNotice } from './runtime/pause-notice.js';
import { ConfigError, readConfig, type Config } from './config.js';
import { createLogger } from './log.js';
import { WorkingHours } from './handoff/hours.js';
import { DirectoryError } from './referral/directory.js';
import { connectConfigured, isCluster, isSentinel, type Redis } from './store/redis.js';
import { migrateLegacyKeys } from './store/legacy-keys.js';

/** How long /healthz waits for Redis before it answers 503. */
const HEALTH_TIMEOUT_MS = 1500;
/**
 * How long an idle connection stays open. A load balancer in front of the processes (and
 * Telegram) reuses its connections: one the bot is closing just then fails with a reset. So the
 * bot keeps them longer than a balancer does (60 s is the usual idle timeout); Node's default,
 * 5 s, gave resets under load in bench/scale.ts.
 */
const KEEP_ALIVE_MS = 65_000;
/** How long a stop waits for the updates in hand (and again for a running timer tick). Compose's stop_grace_period is longer. */
const GRACE_MS = 10_000;
const TICK_MS = 5000;

async function main(config: Config): Promise<void> {
  const log = createLogger(config.LOG_LEVEL);
  /** Set by SIGTERM: /healthz says 503 so a load balancer stops sending, and no new tick starts. */
  let stopping = false;
  let redis: Redis | undefined;
  if (config.REDIS_URL || config.REDIS_CLUSTER_URLS || config.REDIS_SENTINEL_URLS) {
    redis = await connectConfigured(config, { onError: (e) => log.error({ error: e.message }, 'redis connection problem') });
    log.info({ redis: redis && (isCluster(redis) ? 'cluster' : isSentinel(redis) ? 'sentinel' : 'single') }, 'redis connected');
    // Keys of the release before the hash tags (handoff, params): renamed once, before any store reads them.
    if (redis && !isCluster(redis)) {
      const moved = await migrateLegacyKeys(redis, config.KEY_PREFIX);
      if (moved.renamed + moved.kept > 0) log.warn(moved, 'renamed handoff and params keys to their hash-tagged names (one-off)');
    }
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
    referrals:
      config.REFERRAL_DIRECTORY === undefined
        ? undefined
        : {
            directory: config.REFERRAL_DIRECTORY,
            config: {
              ackMinutes: config.REFERRAL_ACK_MINUTES,
              hours: WorkingHours.parse(config.REFERRAL_HOURS),
              inviteHours: config.REFERRAL_INVITE_HOURS,
            },
            personalDataDays: config.REFERRAL_DATA_DAYS,
          },
  });
  const bot = createBot(config.BOT_TOKEN, deps, { client: config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT } : {} });
  useTelegramLimits(bot.api);
  await bot.init();
  await setCommandMenus(bot.api, deps.translator, { referrals: deps.referrals !== undefined }).catch((e: Error) => log.warn({ error: e.message }, 'could not set command menus'));

  const inbox: UpdateInbox = redis
    ? new RedisStreamInbox(redis, {
        prefix: config.KEY_PREFIX,
        takeOverMs: config.INBOX_TAKEOVER_SECONDS * 1000,
        heartbeatMs: Math.min(5000, Math.floor((config.INBOX_TAKEOVER_SECONDS * 1000) / 4)),
        onProblem: (e) => log.warn({ error: e.message }, 'update inbox problem; trying again'),
        onHandlerError: (e) => log.error({ error: (e as Error).message?.slice(0, 200) }, 'update handling failed; it will be tried again'),
        onDeadLetter: (info) => {
          runtimeMetrics.deadLetters.inc({ what: 'update' });
          log.error(info, 'update given up after repeated failures (kept in the inbox dead-letter stream)');
        },
      })
    : new MemoryInbox({ onHandlerError: (e) => log.error({ error: (e as Error).message?.slice(0, 200) }, 'update handling failed') });
  inbox.start(async (update) => {
    const started = performance.now();
    try {
      await bot.handleUpdate(update);
    } finally {
      runtimeMetrics.updateSeconds.observe((performance.now() - started) / 1000, { kind: updateKind(update) });
    }
  });

  const metrics = createMetrics({ inbox, handoff: deps.handoffSetup?.store });
  const pause = new PauseNotice({ api: bot.api, translator: deps.translator, netLine: (lang) => deps.renderer.netLine(deps.translator.bind(lang)) });
  const onRecording = pause.watch.bind(pause);
  const webhookPath = config.WEBHOOK_URL ? new URL(config.WEBHOOK_URL).pathname : undefined;
  const receiver = webhookPath
    ? webhookReceiver(inbox, {
        secretToken: config.WEBHOOK_SECRET,
        onRefused: (reason, status) => log.warn({ status, reason }, 'webhook request refused'),
        onProblem: (e) => log.error({ error: e.message }, 'webhook update could not be recorded; Telegram will send it again'),
        onRecording,
      })
    : undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/healthz') {
      // Within 2 s either way: node-redis queues commands while offline, so a ping could wait for ever.
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS).unref());
      const ping = redis ? Promise.race([redis.ping().then(() => true, () => false), timeout]) : Promise.resolve(true);
      void ping.then((ok) => {
        const healthy = ok && !stopping;
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(healthy ? 'ok' : stopping ? 'stopping' : 'redis unavailable');
      });
      return;
    }
    if (req.url === '/metrics' && req.method === 'GET') {
      void metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (receiver && req.method === 'POST' && req.url === webhookPath) return receiver(req, res);
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000; // a request's headers may start arriving at the very end of the idle time
  // A busy or forbidden port is a bad setting: one line, not an unhandled 'error' event with a stack trace.
  await new Promise<void>((resolve, reject) => {
    const refuse = (e: NodeJS.ErrnoException) => reject(new ConfigError([`PORT: cannot listen on ${config.PORT} (${e.code ?? e.message})`]));
    server.once('error', refuse);
    server.listen(config.PORT, () => {
      server.off('error', refuse);
      resolve();
    });
  });

  let polling: LongPolling | undefined;
  if (config.WEBHOOK_URL) {
    await bot.api.setWebhook(config.WEBHOOK_URL, { secret_token: config.WEBHOOK_SECRET });
    log.info({ port: config.PORT }, 'webhook mode');
  } else {
    // Telegram refuses polling while a webhook is set; an earlier webhook run may have left one.
    await bot.api.deleteWebhook().catch((e: Error) => log.warn({ error: e.message }, 'could not remove an old webhook'));
    polling = new LongPolling(bot.api, inbox, {
      onRecording,
      onProblem: (e) => log.warn({ error: e.message.slice(0, 200) }, 'getUpdates failed; trying again'),
      // 401 (token revoked) and 409 (another instance polls with this token): say so in the log and exit non-zero.
      onFatal: (e) => {
        log.fatal({ error: e.message }, 'long polling stopped');
        process.exit(1);
      },
    });
    polling.start();
    log.info({ bot: bot.botInfo.username }, 'long polling started');
  }

  // Durable timers and the relay outbox: every process checks; each timer fires once. One tick at a time.
  const handoff = deps.handoff?.service;
  const referrals = deps.referrals;
  let ticking: Promise<void> = Promise.resolve();
  const runTick = () => {
    if ((!handoff && !referrals) || stopping) return;
    ticking = ticking.then(async () => {
      await handoff?.fireDueTimers().catch((e: Error) => log.warn({ error: e.message }, 'timers failed'));
      await handoff?.resendUnsent().catch((e: Error) => log.warn({ error: e.message }, 'relay resend failed'));
      await referrals?.service.fireDueTimers().catch((e: Error) => log.warn({ error: e.message }, 'referral timers failed'));
      // An admin's /directory reload on another process: read the directory file here too.
      const followed = await referrals?.service.followReloads(referrals.loadDirectory).catch((e: Error) => void log.warn({ error: e.message }, 'directory check failed'));
      if (followed === 'reloaded') log.info('directory reloaded after a reload on another process');
      if (followed === 'failed') log.warn('directory reloaded on another process does not load here; the previous one stays');
    });
  };
  const tick = handoff || referrals ? setInterval(runTick, TICK_MS) : undefined;
  runTick();
  // Referral notices: their own consumer of the delivery stream, polled every second.
  referrals?.delivery?.start(1000);

  // SIGTERM (docker stop, systemd, compose): take no more updates, finish what runs (bounded), close Redis, exit 0.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new updates, finishing the ones in hand');
    if (receiver) receiver.accepting = false;
    await polling?.stop();
    if (tick) clearInterval(tick);
    await waitAtMost(ticking, GRACE_MS);
    if (referrals?.delivery) await waitAtMost(referrals.delivery.stop(), GRACE_MS);
    const { unfinished } = await inbox.stop(GRACE_MS);
    if (unfinished > 0) log.warn({ unfinished }, 'updates not finished in time; another process (or the next start) takes them over');
    await waitAtMost(new Promise<void>((resolve) => server.close(() => resolve())), 1000);
    server.closeAllConnections();
    await redis?.close().catch(() => undefined);
    log.info({ signal }, 'stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** The kind of an update for metrics labels: Telegram's field names only, so fuzzed junk adds no label. */
function updateKind(update: Update): string {
  const kind = Object.keys(update).find((k) => k !== 'update_id');
  return kind && KINDS.has(kind) ? kind : 'other';
}
const KINDS = new Set(['message', 'edited_message', 'callback_query', 'my_chat_member', 'chat_member', 'channel_post', 'edited_channel_post', 'message_reaction', 'chat_join_request']);

try {
  await main(readConfig());
} catch (e) {
  if (e instanceof ConfigError) {
    for (const line of e.lines) console.error(line);
    process.exit(2);
  }
  // A directory with problems is a bad setting too: each problem names its file and entry.
  if (e instanceof DirectoryError) {
    for (const problem of e.problems) console.error(`REFERRAL_DIRECTORY: ${problem}`);
    process.exit(2);
  }
  console.error(`qamqor could not start: ${(e as Error).message}`);
  process.exit(1);
}
