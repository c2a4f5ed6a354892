/**
 * Builds the bot's services: with Redis for the real bot, with memory twins for
 * the terminal demo and fast tests. Everything else is the same code.
 */
import { loadCatalogue, loadParamsFile } from './catalogue/load.js';
import type { BotDeps, SessionData } from './bot/context.js';
import { ScreenRenderer } from './bot/screens.js';
import { createTranslator } from './i18n/i18n.js';
import type { Logger } from './log.js';
import { MemoryHandoffStore } from './handoff/memory-store.js';
import { RedisHandoffStore } from './handoff/redis-store.js';
import type { HandoffConfig } from './handoff/service.js';
import type { HandoffStore } from './handoff/store.js';
import { DialogHost } from './runtime/dialog-host.js';
import { CUES_FILE, DangerCues } from './safety/cues.js';
import { MemoryChatLock, RedisChatLock, type ChatLock } from './store/chat-lock.js';
import { MemoryDialogStore, RedisDialogStore } from './store/dialog-store.js';
import type { Redis } from './store/redis.js';
import { MemorySessionStorage, RedisSessionStorage } from './store/session-storage.js';
import { ChatClaims, MemoryUpdateDedup, RedisUpdateDedup, type UpdateDedup } from './store/update-dedup.js';
import { todayInAlmaty } from './time.js';
import { LiveParams, REFRESH_EVERY_MS } from './params/live.js';
import { MemoryParamsStore } from './params/memory-store.js';
import { RedisParamsStore } from './params/redis-store.js';

export interface AppOptions {
  /** Without Redis, memory twins: for the terminal demo and tests only. */
  redis?: Redis;
  prefix: string;
  dialogTtlDays: number;
  log: Logger;
  logSalt: string;
  paramsFile?: string;
  /**
   * How often this process checks Redis for parameter values an admin set (/params); 0: never on
   * its own (tests call deps.params.refresh()). Only with Redis: in memory there is one process.
   */
  paramsRefreshMs?: number;
  today?: () => string;
  /** The live hotline handoff; without it "Talk to a person" shows the help lines. */
  handoff?: {
    config: HandoffConfig;
    minutesPerCase: number;
    adminIds: number[];
    /** A store to use instead of the default (Redis when given, memory otherwise). */
    store?: HandoffStore;
    /** The handoff's clock (epoch ms), Date.now by default; tests move it to fire timers. */
    now?: () => number;
  };
}

const DAY = 24 * 60 * 60;
/** Preferences outlive the answers, so a family whose answers expired can be told so. */
const SESSION_EXTRA_DAYS = 180;

export function createDeps(opts: AppOptions): BotDeps {
  const catalogue = loadCatalogue({ params: opts.paramsFile ? loadParamsFile(opts.paramsFile) : undefined });
  const dialogTtl = opts.dialogTtlDays * DAY;
  const sessionTtl = (opts.dialogTtlDays + SESSION_EXTRA_DAYS) * DAY;
  const cues = DangerCues.load(CUES_FILE, catalogue.contacts.map((c) => c.id));
  const onCorrupt = () => opts.log.warn('a stored dialog was unreadable; the chat starts afresh');
  const { redis, prefix } = opts;
  const dialogs = redis
    ? new RedisDialogStore(redis, { prefix: `${prefix}dialog:`, ttlSeconds: dialogTtl, onCorrupt })
    : new MemoryDialogStore({ ttlSeconds: dialogTtl, onCorrupt });
  const sessions = redis
    ? new RedisSessionStorage<SessionData>(redis, { prefix: `${prefix}session:`, ttlSeconds: sessionTtl })
    : new MemorySessionStorage<SessionData>({ ttlSeconds: sessionTtl });
  const { lock, updates } = redis ? redisOrdering(redis, prefix) : memoryOrdering();
  const claims = new ChatClaims();
  const today = opts.today ?? (() => todayInAlmaty());
  const handoffSetup = opts.handoff && {
    ...opts.handoff,
    store: opts.handoff.store ?? (redis ? new RedisHandoffStore(redis, { prefix: `${prefix}handoff:` }) : new MemoryHandoffStore()),
  };
  const params = new LiveParams(catalogue, redis ? new RedisParamsStore(redis, { prefix: `${prefix}params:` }) : new MemoryParamsStore(), (e) =>
    opts.log.warn({ error: e.message }, 'could not read parameters from Redis; the last ones read stay in use'),
  );
  if (redis) watchParams(params, redis, opts.paramsRefreshMs ?? REFRESH_EVERY_MS);
  return {
    handoffSetup,
    params,
    catalogue,
    translator: createTranslator(),
    // A saved answer counts as the update acting: a redelivery must not apply it again.
    host: new DialogHost(claims.fence(dialogs, ['save', 'delete']), catalogue, today),
    renderer: new ScreenRenderer(catalogue, opts.dialogTtlDays, cues, opts.handoff !== undefined),
    sessions,
    lock,
    updates,
    claims,
    cues,
    log: opts.log,
    today,
    logSalt: opts.logSalt,
    dialogTtlDays: opts.dialogTtlDays,
  };
}

/** Reads the admins' values now and then every `everyMs`, for as long as the Redis connection lives. */
function watchParams(params: LiveParams, redis: Redis, everyMs: number): void {
  if (everyMs <= 0) return;
  params.start(everyMs);
  redis.once('end', () => params.stop());
}

/** The chat lock and the update dedup share one lock, so an update's claim and its chat's lock are one round trip. */
function redisOrdering(redis: Redis, prefix: string): { lock: ChatLock; updates: UpdateDedup } {
  const lock = new RedisChatLock(redis, { prefix: `${prefix}lock:` });
  return { lock, updates: new RedisUpdateDedup(redis, lock, { prefix: `${prefix}seen:` }) };
}

function memoryOrdering(): { lock: ChatLock; updates: UpdateDedup } {
  const lock = new MemoryChatLock();
  return { lock, updates: new MemoryUpdateDedup(lock) };
}
