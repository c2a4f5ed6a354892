/**
 * Settings from the environment, validated once at start. A bad setting stops
 * the process with one line per problem that names the variable and what it
 * expects — never a stack trace.
 */
import { z } from 'zod';
import { parseHours } from './handoff/hours.js';

/** A comma-separated list of Telegram user ids. */
const idList = z
  .string()
  .regex(/^\s*\d{3,15}(\s*,\s*\d{3,15})*\s*$/, 'expected Telegram user ids separated by commas, like 123456789,987654321')
  .transform((s) => s.split(',').map((x) => Number(x.trim())))
  .optional()
  .transform((ids) => ids ?? []);

const url = (what: string) => z.string().url(`expected ${what}, e.g. https://example.org`);

/** Working hours as src/handoff/hours.ts reads them (Asia/Almaty). */
const workingHours = (fallback: string, expected: string) =>
  z
    .string()
    .default(fallback)
    .refine((spec) => {
      try {
        parseHours(spec);
        return true;
      } catch {
        return false;
      }
    }, expected);

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
    BOT_TOKEN: z
      .string({ error: 'is required: the bot token from @BotFather, like 123456789:AAE…' })
      .regex(/^\d{5,}:[A-Za-z0-9_-]{30,}$/, 'expected a bot token from @BotFather, like 123456789:AAE…'),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://host:port or rediss://…').optional(),
    /** A Redis Cluster instead: some of its nodes (the rest are discovered), comma-separated. */
    REDIS_CLUSTER_URLS: z
      .string()
      .regex(/^\s*rediss?:\/\/[^,\s]+(\s*,\s*rediss?:\/\/[^,\s]+)*\s*$/, 'expected redis://host:port URLs separated by commas, like redis://10.0.0.1:6379,redis://10.0.0.2:6379')
      .transform((s) => s.split(',').map((u) => u.trim()))
      .optional(),
    /** Redis Sentinel instead: some of the sentinels (the rest are discovered), comma-separated, with the master's name. */
    REDIS_SENTINEL_URLS: z
      .string()
      .regex(/^\s*rediss?:\/\/[^,\s]+(\s*,\s*rediss?:\/\/[^,\s]+)*\s*$/, 'expected redis://host:port URLs of sentinels separated by commas, like redis://10.0.0.1:26379,redis://10.0.0.2:26379')
      .transform((s) => s.split(',').map((u) => u.trim()))
      .optional(),
    REDIS_SENTINEL_MASTER: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected the master name of the sentinels’ "sentinel monitor" line, like mymaster').optional(),
    /** The Redis password when it is not written into the URL(s); for a cluster it is used on every node, for Sentinel on the master and replicas. */
    REDIS_PASSWORD: z.string().min(1).optional(),
    TELEGRAM_API_ROOT: url('the Bot API server root').optional(),
    WEBHOOK_URL: url('the public https URL Telegram posts updates to').optional(),
    WEBHOOK_SECRET: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'expected 16–256 characters of A–Z, a–z, 0–9, _ or -').optional(),
    PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    SESSION_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    PARAMS_FILE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Salt for hashing chat ids in logs, so log lines cannot be joined back to a person. */
    LOG_SALT: z.string().min(8, 'expected at least 8 characters').default('qamqor-dev-salt'),
    KEY_PREFIX: z.string().regex(/^[a-z0-9:_-]+$/).default('qamqor:'),
    /** The operators' forum supergroup (a negative id like -1001234567890); without it, no live handoff. */
    OPERATORS_CHAT_ID: z.coerce.number().int().max(-1, 'expected the negative id of the operators’ supergroup, like -1001234567890').optional(),
    OPERATOR_IDS: idList,
    SUPERVISOR_IDS: idList,
    ADMIN_IDS: idList,
    HOTLINE_HOURS: workingHours('mon-fri 09:00-18:00', 'expected working hours like "mon-fri 09:00-18:00; sat 10:00-14:00" or "always" (Asia/Almaty time)'),
    SLA_FIRST_RESPONSE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
    SLA_NEXT_RESPONSE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
    MINUTES_PER_CASE: z.coerce.number().int().min(1).max(240).default(10),
    SHOW_OPERATOR_NAME: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    STAFF_LANG: z.enum(['kk', 'ru', 'en']).default('ru'),
    /** Referrals to social workers: the directory file or folder (SPEC §9, e.g. flows/directory); without it, no referrals. */
    REFERRAL_DIRECTORY: z.string().min(1).optional(),
    /** Working minutes before an unacknowledged referral gets a reminder, and again before it goes to the supervisor. */
    REFERRAL_ACK_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(120),
    REFERRAL_HOURS: workingHours('mon-fri 09:00-18:00', 'expected working hours like "mon-fri 09:00-18:00" or "always" (Asia/Almaty time)'),
    /** How long a worker's invite code can be used. */
    REFERRAL_INVITE_HOURS: z.coerce.number().int().min(1).max(30 * 24).default(72),
    /** Days a closed referral keeps the family's contact and packet before they are erased. */
    REFERRAL_DATA_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    /** Seconds before updates a dead process had taken are handled by another (src/runtime/inbox.ts). */
    INBOX_TAKEOVER_SECONDS: z.coerce.number().int().min(3).max(600).default(15),
  })
  .superRefine((c, ctx) => {
    const redisSet = (['REDIS_URL', 'REDIS_CLUSTER_URLS', 'REDIS_SENTINEL_URLS'] as const).filter((name) => c[name] !== undefined);
    if (c.NODE_ENV === 'production' && redisSet.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required in production: families’ progress must survive a restart (redis://host:port, or REDIS_CLUSTER_URLS for a cluster, or REDIS_SENTINEL_URLS for Sentinel)' });
    }
    // One line for any mix: the last one set, naming the others.
    if (redisSet.length > 1) {
      const others = redisSet.slice(0, -1).join(' and ');
      ctx.addIssue({ code: 'custom', path: [redisSet.at(-1)!], message: `cannot be set together with ${others}: one Redis, one cluster or one Sentinel-watched master` });
    }
    if (c.REDIS_SENTINEL_URLS && !c.REDIS_SENTINEL_MASTER) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_MASTER'], message: 'is required with REDIS_SENTINEL_URLS: the master name of the sentinels’ "sentinel monitor" line, like mymaster' });
    }
    if (c.REDIS_SENTINEL_MASTER && !c.REDIS_SENTINEL_URLS) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_MASTER'], message: 'is used only with REDIS_SENTINEL_URLS, which is not set' });
    }
    if (c.WEBHOOK_URL && !c.WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'is required with WEBHOOK_URL, so only Telegram can post updates' });
    }
    if (c.OPERATORS_CHAT_ID !== undefined && !c.OPERATOR_IDS.length && !c.ADMIN_IDS.length) {
      ctx.addIssue({ code: 'custom', path: ['OPERATOR_IDS'], message: 'is required with OPERATORS_CHAT_ID: who may take cases (or ADMIN_IDS to grant them later)' });
    }
    if (c.NODE_ENV === 'production' && c.LOG_SALT === 'qamqor-dev-salt') {
      ctx.addIssue({ code: 'custom', path: ['LOG_SALT'], message: 'must be set in production (a random string of 8+ characters)' });
    }
  });

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
    this.name = 'ConfigError';
  }
}

export function readConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = configSchema.safeParse(cleaned);
  if (r.success) return r.data;
  throw new ConfigError(r.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`));
}
