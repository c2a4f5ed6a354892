/**
 * The referrals in Redis. Every key is `<prefix>{ref}:…`: one hash tag, so every key of the
 * store is in one Redis Cluster slot and the scripts may touch them together.
 *
 *   r:<id>            string  the referral without its personal part (JSON): reporting fields
 *   r:<id>:p          string  { packet, familyChatId } (JSON); expires personalDataMs after close
 *   r:<id>:audit      stream  who / what / at [/ detail]: every view and action, no personal data
 *   w:<workerId>      set     open referrals the worker holds (routing load, /referrals)
 *   reg:<region>      set     open referrals of a region (supervisors)
 *   fam:<ref>         set     the family's referrals; <ref> a keyed hash of the chat id
 *   created           zset    every referral, score = createdAt (export)
 *   timers            zset    "<id>|<kind>", score = absolute deadline (epoch ms); take-due.lua re-arms what it takes
 *   inv:<hash>        string  worker id of a one-time invite (sha256 of the code)   TTL the invite
 *   link:w:<workerId> string  the linked Telegram user id
 *   link:u:<userId>   string  the worker id a Telegram user is linked to
 *   outbox            stream  notices (fields id, data) with consumer group "notifiers"
 *   salt              string  the family pseudonym salt when none is configured (random, made once)
 *   directory:version string  directory reloads so far: other processes read their file again when it moves
 *
 * Writes of a referral are write.lua (compare-and-set, indexes, audit and notices in one
 * step); links are link.lua; the rest are single commands or MULTI.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Redis } from '../store/redis.js';
import { RedisStreamDelivery, type StreamConsumer } from '../store/stream-delivery.js';
import { OPEN_STATUSES, type Referral, type ReferralAuditEntry, type ReferralEvent } from './types.js';
import { TIMER_KINDS, type CapacityGuard, type DueTimer, type ReferralStore, type TimerKind } from './store.js';
import { auditFields, CLOSED, joinRecord, splitRecord } from './codec.js';

export interface RedisReferralStoreOptions {
  /** Prepended to every key, e.g. "qamqor:". */
  prefix: string;
  /** How long a closed referral keeps its packet and chat id. Default 30 days. */
  personalDataMs?: number;
  /** Secret for the family pseudonym; without it a random one is kept in Redis. */
  salt?: string;
}

export const PERSONAL_DATA_MS = 30 * 86_400_000;

export class RedisReferralStore implements ReferralStore {
  private readonly base: string;
  private readonly personalDataMs: number;
  private salt: Promise<string> | undefined;
  private readonly delivery: RedisStreamDelivery<ReferralEvent>;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisReferralStoreOptions,
  ) {
    this.base = `${options.prefix}{ref}:`;
    this.personalDataMs = options.personalDataMs ?? PERSONAL_DATA_MS;
    if (options.salt) this.salt = Promise.resolve(options.salt);
    this.delivery = new RedisStreamDelivery(redis, { stream: `${this.base}outbox`, group: 'notifiers' });
  }

  private rec(id: string): string {
    return `${this.base}r:${id}`;
  }

  private async familyRef(chatId: number): Promise<string> {
    this.salt ??= (async () => {
      const key = `${this.base}salt`;
      await this.redis.set(key, randomBytes(16).toString('hex'), { NX: true });
      return String(await this.redis.get(key));
    })();
    return createHmac('sha256', await this.salt).update(String(chatId)).digest('hex').slice(0, 32);
  }

  async create(referral: Referral, audit: ReferralAuditEntry, events: ReferralEvent[], guard?: CapacityGuard): Promise<boolean> {
    return this.write(referral, -1, audit, events, guard);
  }

  async get(referralId: string): Promise<Referral | undefined> {
    const [rec, personal] = await this.redis.mGet([this.rec(referralId), `${this.rec(referralId)}:p`]);
    return rec ? joinRecord(rec, personal ?? undefined) : undefined;
  }

  async update(referralId: string, expectedVersion: number, next: Referral, audit: ReferralAuditEntry, events: ReferralEvent[], guard?: CapacityGuard): Promise<Referral | undefined> {
    const written = { ...next, id: referralId, version: expectedVersion + 1 };
    return (await this.write(written, expectedVersion, audit, events, guard)) ? written : undefined;
  }

  private async write(referral: Referral, expectedVersion: number, audit: ReferralAuditEntry, events: ReferralEvent[], guard?: CapacityGuard): Promise<boolean> {
    const { record, personal } = splitRecord(referral);
    const closed = CLOSED.includes(referral.status);
    const ref = expectedVersion < 0 && referral.familyChatId !== undefined ? await this.familyRef(referral.familyChatId) : '';
    const a = auditFields(audit);
    const args = [
      this.base,
      referral.id,
      String(expectedVersion),
      record,
      personal ?? '',
      String(closed && personal ? this.personalDataMs : 0),
      ref,
      a.what,
      a.who,
      a.at,
      a.detail ?? '',
      guard?.workerId ?? '',
      String(guard?.limit ?? 0),
      ...events.flatMap((e) => [e.id, JSON.stringify(e)]),
    ];
    return Number(await this.redis.referralWrite([this.rec(referral.id)], args)) === 1;
  }

  async erase(referralId: string, audit: ReferralAuditEntry): Promise<void> {
    const current = await this.get(referralId);
    const a = auditFields(audit);
    const m = this.redis.multi().del(`${this.rec(referralId)}:p`);
    if (current?.familyChatId !== undefined) m.sRem(`${this.base}fam:${await this.familyRef(current.familyChatId)}`, referralId);
    m.xAdd(`${this.rec(referralId)}:audit`, '*', a.detail === undefined ? { what: a.what, who: a.who, at: a.at } : { ...a, detail: a.detail });
    await m.exec();
  }

  private async many(ids: string[]): Promise<Referral[]> {
    const found = await Promise.all(ids.map((id) => this.get(id)));
    return found.filter((r): r is Referral => r !== undefined).sort((x, y) => x.createdAt - y.createdAt || x.id.localeCompare(y.id));
  }

  async openOf(workerId: string): Promise<Referral[]> {
    return (await this.many(await this.redis.sMembers(`${this.base}w:${workerId}`))).filter((r) => OPEN_STATUSES.includes(r.status));
  }

  async openCounts(workerIds: readonly string[]): Promise<Map<string, number>> {
    const counts = await Promise.all(workerIds.map((w) => this.redis.sCard(`${this.base}w:${w}`)));
    return new Map(workerIds.map((w, i) => [w, Number(counts[i])]));
  }

  async openInRegion(region: string): Promise<Referral[]> {
    return (await this.many(await this.redis.sMembers(`${this.base}reg:${region}`))).filter((r) => OPEN_STATUSES.includes(r.status));
  }

  async ofFamily(chatId: number): Promise<Referral[]> {
    const key = `${this.base}fam:${await this.familyRef(chatId)}`;
    const all = await this.many(await this.redis.sMembers(key));
    // Personal data of a closed referral expires by itself; its index entry goes here.
    const stale = all.filter((r) => r.familyChatId !== chatId);
    if (stale.length) await this.redis.sRem(key, stale.map((r) => r.id));
    return all.filter((r) => r.familyChatId === chatId);
  }

  async createdBetween(from: number, to: number): Promise<Referral[]> {
    const ids = await this.redis.zRangeByScore(`${this.base}created`, from, `(${to}`);
    return this.many(ids);
  }

  async audit(referralId: string, entry: ReferralAuditEntry): Promise<void> {
    const a = auditFields(entry);
    await this.redis.xAdd(`${this.rec(referralId)}:audit`, '*', a.detail === undefined ? { what: a.what, who: a.who, at: a.at } : { ...a, detail: a.detail });
  }

  async auditTrail(referralId: string): Promise<ReferralAuditEntry[]> {
    const entries = (await this.redis.xRange(`${this.rec(referralId)}:audit`, '-', '+')) ?? [];
    return entries.map(({ message }) => {
      const m = message as Record<string, string>;
      return { what: m.what!, who: m.who!, at: Number(m.at), ...(m.detail !== undefined ? { detail: m.detail } : {}) };
    });
  }

  async schedule(referralId: string, kind: TimerKind, deadline: number): Promise<void> {
    await this.redis.zAdd(`${this.base}timers`, { score: deadline, value: `${referralId}|${kind}` });
  }

  async cancelTimer(referralId: string, kind: TimerKind): Promise<void> {
    await this.redis.zRem(`${this.base}timers`, `${referralId}|${kind}`);
  }

  async takeDue(now: number, leaseMs: number, limit = 100): Promise<DueTimer[]> {
    const flat = (await this.redis.referralTakeDue([`${this.base}timers`], [String(now), String(leaseMs), String(limit)])) as string[];
    const taken: DueTimer[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [referralId, kind] = flat[i]!.split('|') as [string, string];
      if ((TIMER_KINDS as readonly string[]).includes(kind)) taken.push({ referralId, kind: kind as TimerKind, deadline: Number(flat[i + 1]) });
    }
    return taken;
  }

  async saveInvite(codeHash: string, workerId: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.base}inv:${codeHash}`, workerId, { PX: ttlMs });
  }

  async bumpDirectoryVersion(): Promise<number> {
    return this.redis.incr(`${this.base}directory:version`);
  }

  async directoryVersion(): Promise<number> {
    return Number((await this.redis.get(`${this.base}directory:version`)) ?? 0);
  }

  async takeInvite(codeHash: string): Promise<string | undefined> {
    return (await this.redis.getDel(`${this.base}inv:${codeHash}`)) ?? undefined;
  }

  async link(workerId: string, telegramUserId: number): Promise<number | undefined> {
    const previous = await this.redis.referralLink([`${this.base}link:w:${workerId}`], [this.base, workerId, String(telegramUserId)]);
    return typeof previous === 'string' ? Number(previous) : undefined;
  }

  async unlink(workerId: string): Promise<boolean> {
    const key = `${this.base}link:w:${workerId}`;
    const user = await this.redis.getDel(key);
    if (user === null) return false;
    // Only the user's entry that still names this worker (a relink may have moved it on).
    const userKey = `${this.base}link:u:${user}`;
    if ((await this.redis.get(userKey)) === workerId) await this.redis.del(userKey);
    return true;
  }

  async workerOf(telegramUserId: number): Promise<string | undefined> {
    return (await this.redis.get(`${this.base}link:u:${telegramUserId}`)) ?? undefined;
  }

  async userOf(workerId: string): Promise<number | undefined> {
    const user = await this.redis.get(`${this.base}link:w:${workerId}`);
    return user === null ? undefined : Number(user);
  }

  outbox(): StreamConsumer<ReferralEvent> {
    return this.delivery;
  }
}
