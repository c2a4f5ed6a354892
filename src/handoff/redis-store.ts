/**
 * The handoff line in Redis, the system of record for live cases.
 *
 * Key layout (every key under `prefix` + `{h}:`):
 *
 *   case:<id>                  hash   the CaseRecord (codec.ts: scalars as strings, snapshot/summary JSON)   TTL
 *   case:<id>:audit            stream audit trail, XADD fields type/by/at[/detail]                          TTL
 *   case:<id>:pending          list   RelayEntry JSON the family wrote while waiting                        TTL
 *   line                       zset   waiting cases; score = band·1e13 + enqueuedAt (band 0 urgent, 1 normal)
 *   family:<ref>               string the family's open case id (released on close)                         TTL
 *   family:<ref>:cases         set    every case of the family, for /forget                                 TTL
 *   family:<ref>:announced     string when the family's last urgent case was announced              TTL the window
 *   case:<id>:copies           list   group message ids of the family's messages copied into the topic     TTL
 *   topic:<topicId>            string case id of an operators' forum topic                                   TTL
 *   operator:<userId>:cases    set    cases the operator holds (status neither waiting nor closed)
 *   relay:seen:<key>           string dedup marker of a recorded relay (SET NX)                   TTL relayDedupSeconds
 *   relay:stream               stream the outbox: fields k (key), e (RelayEntry JSON), in recording order;
 *                                     consumer group "senders" (the resend tick); XDELed once delivered
 *   relay:ids                  hash   key → stream entry id, for acknowledging by key
 *   relay:lease:<key>          string someone is sending this relay right now (SET NX PX)      TTL the lease
 *   relay:attempts             hash   key → failed sends so far
 *   relay:dead                 stream relays given up (k, caseId, direction, reason; no chat id, no text)  MAXLEN ~1000
 *   timers                     zset   member "<caseId>|<kind>", score = absolute deadline (epoch ms)
 *   roles:<role>               set    user ids granted at run time
 *   stats:created|claimed|closed  zset  member case id, score = when; trimmed to the TTL window
 *   stats:first_response       zset   member "<caseId>|<waitMs>", score = firstResponseAt
 *   salt                       string the pseudonym salt when none is configured (random, made once)
 *
 * "TTL" = `ttlSeconds` (default 90 days), refreshed on every write, so personal
 * data (chat id, phone, summary, pending messages) never lives forever.
 *
 * <ref> is the family's pseudonym (codec familyRef: a keyed hash of the chat
 * id), kept in the case hash as `familyRef`, so no key name holds a chat id. A
 * case drops `chatId` when it closes; /forget drops `familyRef` as well.
 *
 * Every change that touches more than one key is one Lua script (create,
 * update, claim, setFields, takeDue, recordRelay, ackRelay, claimUnsent,
 * deadRelay, forgetFamily, claimAnnouncement; the sources are
 * src/handoff/lua/*.lua, registered with the client by src/store/scripts.ts) or
 * a MULTI where no read-then-write decision is needed (audit, keepPending,
 * takePending, releaseRelay). The scripts derive the secondary keys (family, topic,
 * operator) from the record they read, so not every key is declared in KEYS.
 *
 * Redis Cluster: every key carries one hash tag, `<prefix>{h}:…` (e.g.
 * `qamqor:handoff:{h}:case:C1`), so all of them live in one slot and the scripts
 * and MULTIs may touch any of them together. One slot means one node holds the
 * whole hotline; at this scale (a few thousand cases a day, a few KB each) that
 * is far from a node's limits, and the per-family dialog keys, which carry the
 * real load, spread over the cluster. Keys written before the tag (no `{h}:`)
 * are renamed once on a single Redis (src/store/legacy-keys.ts, README).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from '../store/redis.js';
import {
  byCreated,
  DAY_SECONDS,
  decodeEvent,
  decodeRecord,
  decodeRelay,
  decodeTimer,
  encodeEvent,
  encodeFields,
  encodePatch,
  encodeRecord,
  encodeRelay,
  familyRef,
  timerMember,
  type CaseHash,
  type HashChange,
} from './codec.js';
import type { CasePatch, HandoffStore, RelayClaimOptions, RelayRecordOptions } from './store.js';
import type { AuditEvent, CaseRecord, CaseStatus, ClaimResult, DueTimer, RelayEntry, TimerKind } from './types.js';

export interface RedisHandoffStoreOptions {
  /** Prepended to every key, e.g. "qamqor:handoff:"; the store adds its hash tag after it ("qamqor:handoff:{h}:"). */
  prefix: string;
  /** Lifetime of per-case and per-family keys, refreshed on write; also the stats window. Default 90 days. */
  ttlSeconds?: number;
  /** How long a relay key is remembered for deduplication. Default 7 days. */
  relayDedupSeconds?: number;
  /**
   * Secret for the families' pseudonyms. Without it, a random salt is made
   * once and kept in Redis (`salt`), so every process agrees; a configured
   * secret is better, since a copy of Redis alone then cannot be matched to chat ids.
   */
  salt?: string;
}

/** Every key of the store has it: one Redis Cluster slot for the whole hotline (see the key layout). */
export const HASH_TAG = '{h}';

/** The relay outbox's consumer group (forget.lua names it too). */
const SENDERS = 'senders';

function pairsToHash(flat: unknown): CaseHash {
  const hash: CaseHash = {};
  if (!Array.isArray(flat)) return hash;
  for (let i = 0; i + 1 < flat.length; i += 2) hash[String(flat[i])] = String(flat[i + 1]);
  return hash;
}

const changeJson = (change: HashChange): string => JSON.stringify(change);

export class RedisHandoffStore implements HandoffStore {
  private readonly prefix: string;
  private readonly ttl: string;
  private readonly relayDedup: string;
  private salt?: Promise<string>;

  constructor(
    private readonly redis: Redis,
    options: RedisHandoffStoreOptions,
  ) {
    const ttlSeconds = options.ttlSeconds ?? 90 * DAY_SECONDS;
    const relayDedupSeconds = options.relayDedupSeconds ?? 7 * DAY_SECONDS;
    for (const [name, value] of [['ttlSeconds', ttlSeconds], ['relayDedupSeconds', relayDedupSeconds]] as const) {
      if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    this.prefix = `${options.prefix}${HASH_TAG}:`;
    this.ttl = String(ttlSeconds);
    this.relayDedup = String(relayDedupSeconds);
    if (options.salt !== undefined) this.salt = Promise.resolve(options.salt);
  }

  /** The family's pseudonym (see the key layout). */
  private async ref(chatId: number): Promise<string> {
    this.salt ??= this.storedSalt().catch((error: unknown) => {
      this.salt = undefined; // Redis was away: ask again next time
      throw error;
    });
    return familyRef(await this.salt, chatId);
  }

  /** The first process to ask makes the salt; SET NX makes every later one read the same. */
  private async storedSalt(): Promise<string> {
    await this.redis.set(this.key('salt'), randomBytes(32).toString('hex'), { NX: true });
    const salt = await this.redis.get(this.key('salt'));
    if (salt === null) throw new Error('the pseudonym salt vanished from Redis');
    return salt;
  }

  private key(...parts: (string | number)[]): string {
    return this.prefix + parts.join(':');
  }

  async create(rec: CaseRecord, event: AuditEvent): Promise<boolean> {
    const hash = encodeRecord(rec);
    if (rec.chatId !== undefined) hash.familyRef = await this.ref(rec.chatId);
    const reply = await this.redis.handoffCreate([this.key('case', rec.id)], [this.prefix, this.ttl, rec.id, JSON.stringify(hash), JSON.stringify(encodeEvent(event))]);
    return reply === 1;
  }

  async get(caseId: string): Promise<CaseRecord | undefined> {
    return decodeRecord(await this.redis.hGetAll(this.key('case', caseId)));
  }

  async openCaseOf(chatId: number): Promise<CaseRecord | undefined> {
    const id = await this.redis.get(this.key('family', await this.ref(chatId)));
    if (id === null) return undefined;
    const rec = await this.get(id);
    return rec && rec.status !== 'closed' && rec.chatId === chatId ? rec : undefined;
  }

  async isFamilyOf(caseId: string, chatId: number): Promise<boolean> {
    return (await this.redis.hGet(this.key('case', caseId), 'familyRef')) === (await this.ref(chatId));
  }

  async caseOfTopic(topicId: number): Promise<CaseRecord | undefined> {
    const id = await this.redis.get(this.key('topic', topicId));
    if (id === null) return undefined;
    const rec = await this.get(id);
    return rec?.topicId === topicId ? rec : undefined;
  }

  async update(caseId: string, expectedVersion: number, patch: CasePatch, event: AuditEvent): Promise<CaseRecord | undefined> {
    const reply = await this.redis.handoffUpdate([this.key('case', caseId)],
      [this.prefix, this.ttl, caseId, String(expectedVersion), changeJson(encodePatch(patch)), JSON.stringify(encodeEvent(event))],
    );
    return reply === null ? undefined : decodeRecord(pairsToHash(reply));
  }

  async claim(caseId: string, operatorId: number, expectedVersion: number, patch: CasePatch, event: AuditEvent): Promise<ClaimResult> {
    const reply = (await this.redis.handoffClaim([this.key('case', caseId)],
      [
        this.prefix,
        this.ttl,
        caseId,
        String(expectedVersion),
        changeJson(encodePatch(patch, { operatorId })),
        JSON.stringify(encodeEvent(event)),
      ],
    )) as [number, string, string];
    const [won, status, holder] = reply;
    const result: ClaimResult = { won: won === 1, status: status as CaseStatus };
    if (holder !== '') result.holder = Number(holder);
    return result;
  }

  async setFields(caseId: string, fields: CasePatch['fields']): Promise<void> {
    const change = encodeFields(fields as Record<string, unknown> | undefined);
    if (Object.keys(change.set).length === 0 && change.del.length === 0) return;
    await this.redis.handoffSetFields([this.key('case', caseId)], [this.prefix, this.ttl, caseId, changeJson(change), String(Date.now())]);
  }

  async waiting(limit?: number): Promise<CaseRecord[]> {
    // ZRANGE 0 -1 would mean "all": a limit of 0 must mean none.
    if (limit !== undefined && limit <= 0) return [];
    const ids = await this.redis.zRange(this.key('line'), 0, limit === undefined ? -1 : limit - 1);
    return this.records(ids);
  }

  async placeInLine(caseId: string): Promise<number | undefined> {
    const rank = await this.redis.zRank(this.key('line'), caseId);
    return rank === null ? undefined : rank + 1;
  }

  async casesOf(operatorId: number): Promise<CaseRecord[]> {
    const ids = await this.redis.sMembers(this.key('operator', operatorId, 'cases'));
    const records = await this.records(ids);
    return records.filter((r) => r.operatorId === operatorId).sort(byCreated);
  }

  /** Records by id in order, fetched in one pipeline; ids whose case expired are skipped. */
  private async records(ids: string[]): Promise<CaseRecord[]> {
    const hashes = await Promise.all(ids.map((id) => this.redis.hGetAll(this.key('case', id))));
    return hashes.map(decodeRecord).filter((r): r is CaseRecord => r !== undefined);
  }

  async audit(caseId: string, event: AuditEvent): Promise<void> {
    const key = this.key('case', caseId, 'audit');
    await this.redis.multi().xAdd(key, '*', encodeEvent(event)).expire(key, Number(this.ttl)).exec();
  }

  async auditTrail(caseId: string): Promise<AuditEvent[]> {
    const entries = await this.redis.xRange(this.key('case', caseId, 'audit'), '-', '+');
    return (entries ?? []).map((e) => decodeEvent(e.message as Record<string, string>));
  }

  async keepCopy(caseId: string, messageId: number): Promise<void> {
    const key = this.key('case', caseId, 'copies');
    await this.redis.multi().rPush(key, String(messageId)).expire(key, Number(this.ttl)).exec();
  }

  async takeCopies(caseId: string): Promise<number[]> {
    const key = this.key('case', caseId, 'copies');
    const [raw] = (await this.redis.multi().lRange(key, 0, -1).del(key).exec()) as unknown as [string[], number];
    return raw.map(Number);
  }

  async claimAnnouncement(chatId: number, at: number, windowMs: number): Promise<boolean> {
    const key = this.key('family', await this.ref(chatId), 'announced');
    return (await this.redis.handoffAnnounce([key], [String(at), String(windowMs)])) === 1;
  }

  async keepPending(caseId: string, entry: RelayEntry): Promise<void> {
    const key = this.key('case', caseId, 'pending');
    await this.redis.multi().rPush(key, encodeRelay(entry)).expire(key, Number(this.ttl)).exec();
  }

  async takePending(caseId: string): Promise<RelayEntry[]> {
    const key = this.key('case', caseId, 'pending');
    const [raw] = (await this.redis.multi().lRange(key, 0, -1).del(key).exec()) as unknown as [string[], number];
    return raw.map(decodeRelay);
  }

  async recordRelay(entry: RelayEntry, options: RelayRecordOptions = {}): Promise<boolean> {
    const reply = await this.redis.handoffRecordRelay([this.key('relay', 'seen', entry.key), this.key('relay', 'stream'), this.key('relay', 'ids'), this.key('relay', 'lease', entry.key)],
      [entry.key, encodeRelay(entry), this.relayDedup, String(options.leaseMs ?? 0), SENDERS],
    );
    return reply === 1;
  }

  async unsentRelays(limit = 100): Promise<RelayEntry[]> {
    if (limit <= 0) return [];
    const entries = await this.redis.xRange(this.key('relay', 'stream'), '-', '+', { COUNT: limit });
    return (entries ?? []).flatMap(({ message }) => (message.e !== undefined ? [decodeRelay(message.e)] : []));
  }

  async ackRelay(key: string): Promise<void> {
    await this.redis.handoffAckRelay(this.ackKeys(key), [key, SENDERS]);
  }

  async claimUnsent(consumer: string, options: RelayClaimOptions): Promise<RelayEntry[]> {
    const raw = (await this.redis.handoffClaimUnsent([this.key('relay', 'stream')],
      [SENDERS, consumer, String(options.idleMs), String(options.limit ?? 100), String(options.leaseMs), this.prefix],
    )) as string[];
    return raw.map(decodeRelay);
  }

  async releaseRelay(key: string): Promise<number> {
    const [attempts] = (await this.redis.multi().hIncrBy(this.key('relay', 'attempts'), key, 1).del(this.key('relay', 'lease', key)).exec()) as unknown as [number];
    return Number(attempts);
  }

  async deadRelay(entry: RelayEntry, reason: string, attempts: number): Promise<void> {
    await this.redis.handoffDeadRelay([this.key('relay', 'dead'), ...this.ackKeys(entry.key)],
      [entry.key, SENDERS, entry.caseId, entry.direction, reason.slice(0, 200), String(attempts)],
    );
  }

  async relayBacklog(): Promise<number> {
    return Number(await this.redis.hLen(this.key('relay', 'ids')));
  }

  private ackKeys(key: string): string[] {
    return [this.key('relay', 'ids'), this.key('relay', 'stream'), this.key('relay', 'lease', key), this.key('relay', 'attempts')];
  }

  async schedule(caseId: string, kind: TimerKind, deadline: number): Promise<void> {
    await this.redis.zAdd(this.key('timers'), { score: deadline, value: timerMember(caseId, kind) });
  }

  async cancelTimer(caseId: string, kind: TimerKind): Promise<void> {
    await this.redis.zRem(this.key('timers'), timerMember(caseId, kind));
  }

  async takeDue(now: number, limit = 100): Promise<DueTimer[]> {
    if (limit <= 0) return [];
    const flat = (await this.redis.handoffTakeDue([this.key('timers')], [String(now), String(limit)])) as string[];
    const due: DueTimer[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) due.push(decodeTimer(flat[i]!, Number(flat[i + 1])));
    return due;
  }

  async grantRole(role: 'operator' | 'supervisor', userId: number): Promise<void> {
    await this.redis.sAdd(this.key('roles', role), String(userId));
  }

  async revokeRole(role: 'operator' | 'supervisor', userId: number): Promise<void> {
    await this.redis.sRem(this.key('roles', role), String(userId));
  }

  async granted(role: 'operator' | 'supervisor'): Promise<number[]> {
    return (await this.redis.sMembers(this.key('roles', role))).map(Number).sort((a, b) => a - b);
  }

  async stats(since: number): Promise<{ created: number; claimed: number; closed: number; waitingNow: number; firstResponseMs: number[] }> {
    const [created, claimed, closed, waitingNow, firstResponses] = (await this.redis
      .multi()
      .zCount(this.key('stats', 'created'), since, '+inf')
      .zCount(this.key('stats', 'claimed'), since, '+inf')
      .zCount(this.key('stats', 'closed'), since, '+inf')
      .zCard(this.key('line'))
      .zRangeByScore(this.key('stats', 'first_response'), since, '+inf')
      .exec()) as unknown as [number, number, number, number, string[]];
    const firstResponseMs = firstResponses.map((member) => Number(member.slice(member.lastIndexOf('|') + 1)));
    return { created, claimed, closed, waitingNow, firstResponseMs };
  }

  async forgetFamily(chatId: number): Promise<string[]> {
    const ref = await this.ref(chatId);
    return (await this.redis.handoffForget([this.key('family', ref)], [this.prefix, this.ttl, ref, String(chatId)])) as string[];
  }
}
