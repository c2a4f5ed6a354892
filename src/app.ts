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
import { MemoryDialogStore } from './store/dialog-store.js';
import { RedisHotPath } from './store/hot-path.js';
import type { Redis } from './store/redis.js';
import { MemorySessionStorage } from './store/session-storage.js';
import { ChatClaims, MemoryUpdateDedup, type UpdateDedup } from './store/update-dedup.js';
import { todayInAlmaty } from './time.js';
import { LiveParams, REFRESH_EVERY_MS } from './params/live.js';
import { MemoryParamsStore } from './params/memory-store.js';
import { RedisParamsStore } from './params/redis-store.js';
import { DIRECTORY_DIR, loadDirectory } from './referral/directory.js';
import { MemoryReferralStore } from './referral/memory-store.js';
import { RedisReferralStore } from './referral/redis-store.js';
import { ReferralService, type ReferralConfig } from './referral/service.js';
import type { ReferralStore } from './referral/store.js';
import type { ReferralBotDeps } from './bot/context.js';
import type { Catalogue } from './engine/types.js';

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
  /** Referrals to social workers; without it the result's "refer" says where to go. */
  referrals?: ReferralOptions;
}

export interface ReferralOptions {
  config: ReferralConfig;
  /** A directory file or folder (SPEC §9); flows/directory/ by default. */
  directory?: string;
  /** A store to use instead of the default (Redis when given, memory otherwise). */
  store?: ReferralStore;
  /** Days a closed referral keeps its packet and the family's chat id (the store's default: 30). */
  personalDataDays?: number;
  /** The referrals' clock (epoch ms); tests move it to fire reminders. */
  now?: () => number;
  /** This process's name in the notices' consumer group; a random one by default. */
  consumer?: string;
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
  // With Redis, an update is two round trips: the session and dialog come with its claim and go with its commit.
  const hot = redis
    ? new RedisHotPath(redis, {
        prefix,
        keySalt: opts.logSalt,
        sessionTtlSeconds: sessionTtl,
        dialogTtlSeconds: dialogTtl,
        onCorrupt,
        onLeaseProblem: (e) => opts.log.warn({ error: e.message }, 'chat lock problem'),
      })
    : undefined;
  const dialogs = hot ? hot.dialogs() : new MemoryDialogStore({ ttlSeconds: dialogTtl, onCorrupt });
  const sessions = hot ? hot.sessions<SessionData>() : new MemorySessionStorage<SessionData>({ ttlSeconds: sessionTtl });
  const { lock, updates } = redis && hot ? { lock: new RedisChatLock(redis, { prefix: `${prefix}lock:` }), updates: hot } : memoryOrdering();
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
  const referrals = opts.referrals && referralDeps(opts.referrals, catalogue, redis, prefix, opts.logSalt);
  // The claimed case's card offers "Refer" only when there is somewhere to refer to.
  if (referrals && handoffSetup) handoffSetup.config = { ...handoffSetup.config, referrals: true };
  return {
    handoffSetup,
    referrals,
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

/** The referral service on its store, with the directory read (and checked) at start: a broken one stops the start. */
function referralDeps(opts: ReferralOptions, catalogue: Catalogue, redis: Redis | undefined, prefix: string, salt: string): ReferralBotDeps {
  const regions = catalogue.facts.find((f) => f.id === 'region')?.values ?? [];
  const readDirectory = () => loadDirectory(opts.directory ?? DIRECTORY_DIR, { regions });
  const store = opts.store ?? (redis ? new RedisReferralStore(redis, { prefix: `${prefix}referral:`, salt, personalDataMs: days(opts.personalDataDays) }) : new MemoryReferralStore({ now: opts.now, personalDataMs: days(opts.personalDataDays) }));
  const service = new ReferralService({ store, directory: readDirectory(), config: opts.config, now: opts.now, regions });
  return { service, store, loadDirectory: readDirectory, keptDays: opts.personalDataDays ?? 30, consumer: opts.consumer ?? `bot-${process.pid}-${Math.random().toString(36).slice(2, 8)}` };
}

const days = (n: number | undefined) => (n === undefined ? undefined : n * DAY * 1000);

/** Reads the admins' values now and then every `everyMs`, for as long as the Redis connection lives. */
function watchParams(params: LiveParams, redis: Redis, everyMs: number): void {
  if (everyMs <= 0) return;
  params.start(everyMs);
  redis.once('end', () => params.stop());
}

function memoryOrdering(): { lock: ChatLock; updates: UpdateDedup } {
  const lock = new MemoryChatLock();
  return { lock, updates: new MemoryUpdateDedup(lock) };
}
