/**
 * The handoff line in Redis, the system of record for live cases.
 *
 * Key layout (every key under `prefix`):
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
 * update, claim, setFields, takeDue, recordRelay, forgetFamily) or a MULTI
 * where no read-then-write decision is needed (audit, keepPending,
 * takePending, ackRelay). The scripts derive the secondary keys (family,
 * topic, operator) from the record they read, so not every key is declared in
 * KEYS: fine on one Redis primary, which is what this store targets; for
 * Redis Cluster the prefix would need a hash tag ("{qamqor}:") so that all keys
 * share a slot.
 *
 * Scripts run by EVALSHA with the SHA1 computed here; on NOSCRIPT (first use,
 * or after a Redis restart flushed the script cache) one SCRIPT LOAD per
 * connection is shared by every waiting call, which then retries. We do not use
 * node-redis `defineScript` because that binds scripts to the client at
 * createClient time; stores take any connected client (src/store/redis.ts),
 * and a Redis restart that flushes the script cache is handled the same way.
 */
import { createHash, randomBytes } from 'node:crypto';
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
  FREE_TEXT_EVENTS,
  PERSONAL_FIELDS,
  TIMER_KINDS,
  timerMember,
  type CaseHash,
  type HashChange,
} from './codec.js';
import type { CasePatch, HandoffStore, RelayClaimOptions, RelayRecordOptions } from './store.js';
import type { AuditEvent, CaseRecord, CaseStatus, ClaimResult, DueTimer, RelayEntry, TimerKind } from './types.js';

export interface RedisHandoffStoreOptions {
  /** Prepended to every key, e.g. "qamqor:handoff:". */
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

/*
 * Lua shared by the scripts that change a case. ARGV[1] is the prefix and
 * ARGV[2] the TTL in seconds in all of them. Numbers that Redis must store
 * exactly are formatted with %.0f: Lua's tostring keeps only 14 digits.
 */
const PRELUDE = `
local P = ARGV[1]
local TTL = ARGV[2]

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function held(status)
  return status ~= nil and status ~= 'waiting' and status ~= 'closed'
end

local function int(n)
  return string.format('%.0f', n)
end

local function stat(name, score, member, at)
  local key = P .. 'stats:' .. name
  redis.call('ZADD', key, score, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. int(tonumber(at) - tonumber(TTL) * 1000))
end

local function applied(before, change)
  local after = {}
  for k, v in pairs(before) do after[k] = v end
  for k, v in pairs(change.set) do after[k] = v end
  for _, k in ipairs(change.del) do after[k] = nil end
  return after
end

-- /forget: the record loses what could name the family; note texts leave the
-- audit (their type and time stay; stream ids are kept by re-adding under them).
local function erase(id, rec)
  if rec.familyRef then redis.call('DEL', P .. 'family:' .. rec.familyRef .. ':announced') end
  for _, field in ipairs({ 'familyRef', ${PERSONAL_FIELDS.map((f) => `'${f}'`).join(', ')} }) do rec[field] = nil end
  rec.withdrawn = '1'
  redis.call('DEL', P .. 'case:' .. id .. ':pending')
  local key = P .. 'case:' .. id .. ':audit'
  local entries = redis.call('XRANGE', key, '-', '+')
  redis.call('DEL', key)
  for _, entry in ipairs(entries) do
    local flat, fields, freeText = entry[2], {}, false
    for i = 1, #flat, 2 do
      if flat[i] == 'type' and (${FREE_TEXT_EVENTS.map((t) => `flat[i + 1] == '${t}'`).join(' or ')}) then freeText = true end
    end
    for i = 1, #flat, 2 do
      if not (freeText and flat[i] == 'detail') then fields[#fields + 1] = flat[i]; fields[#fields + 1] = flat[i + 1] end
    end
    redis.call('XADD', key, entry[1], unpack(fields))
  end
  if #entries > 0 then redis.call('EXPIRE', key, TTL) end
end

-- A case that enters the line without a place keeps the time it entered. A
-- closed case keeps no chat id (only the pseudonym links it to the family), and
-- one whose family used /forget meanwhile is erased as it closes.
local function normalize(id, after, at)
  if after.status == 'waiting' and after.enqueuedAt == nil then after.enqueuedAt = at end
  if after.status == 'closed' then
    after.chatId = nil
    if after.withdrawn == '1' then erase(id, after) end
  end
end

local function write(key, before, after)
  local sets = {}
  for k, v in pairs(after) do
    if before[k] ~= v then sets[#sets + 1] = k; sets[#sets + 1] = v end
  end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  local dels = {}
  for k, _ in pairs(before) do
    if after[k] == nil then dels[#dels + 1] = k end
  end
  if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
  redis.call('EXPIRE', key, TTL)
end

-- The indexes follow the record: line, operator's cases, family, topic, stats, timers.
local function reindex(id, before, after, at)
  local line = P .. 'line'
  if after.status == 'waiting' then
    local band = 1
    if after.urgent == '1' then band = 0 end
    redis.call('ZADD', line, int(band * 1e13 + tonumber(after.enqueuedAt)), id)
  else
    redis.call('ZREM', line, id)
  end

  local heldBefore = held(before.status) and before.operatorId or nil
  local heldAfter = held(after.status) and after.operatorId or nil
  if heldBefore and heldBefore ~= heldAfter then redis.call('SREM', P .. 'operator:' .. heldBefore .. ':cases', id) end
  if heldAfter then redis.call('SADD', P .. 'operator:' .. heldAfter .. ':cases', id) end

  if before.familyRef and (before.familyRef ~= after.familyRef or after.status == 'closed') then
    local key = P .. 'family:' .. before.familyRef
    if redis.call('GET', key) == id then redis.call('DEL', key) end
    if before.familyRef ~= after.familyRef then redis.call('SREM', key .. ':cases', id) end
  end
  if after.familyRef then
    local key = P .. 'family:' .. after.familyRef
    if after.status ~= 'closed' then
      local current = redis.call('GET', key)
      if current == false or current == id then redis.call('SET', key, id, 'EX', TTL) end
    end
    redis.call('SADD', key .. ':cases', id)
    redis.call('EXPIRE', key .. ':cases', TTL)
  end

  if before.topicId and before.topicId ~= after.topicId then
    local key = P .. 'topic:' .. before.topicId
    if redis.call('GET', key) == id then redis.call('DEL', key) end
  end
  if after.topicId then redis.call('SET', P .. 'topic:' .. after.topicId, id, 'EX', TTL) end

  if after.status == 'claimed' and before.status ~= 'claimed' then stat('claimed', at, id, at) end
  if after.status == 'closed' and before.status ~= 'closed' then
    stat('closed', after.closedAt or at, id, at)
    redis.call('ZREM', P .. 'timers', ${TIMER_KINDS.map((kind) => `id .. '|${kind}'`).join(', ')})
  end
  if after.firstResponseAt and not before.firstResponseAt then
    local wait = tonumber(after.firstResponseAt) - tonumber(after.createdAt)
    stat('first_response', after.firstResponseAt, id .. '|' .. int(wait), at)
  end
end

local function audit(id, ev)
  local key = P .. 'case:' .. id .. ':audit'
  local fields = { 'type', ev.type, 'by', ev.by, 'at', ev.at }
  if ev.detail then fields[#fields + 1] = 'detail'; fields[#fields + 1] = ev.detail end
  redis.call('XADD', key, '*', unpack(fields))
  redis.call('EXPIRE', key, TTL)
end
`;

/**
 * create: KEYS[1] case:<id>; ARGV prefix, ttl, id, record hash JSON, event JSON.
 * Refuses an existing id, and a family that already has an open case (a stale
 * family index pointing at a closed or expired case is cleared).
 */
const CREATE = `${PRELUDE}
local id = ARGV[3]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local rec = cjson.decode(ARGV[4])
local ev = cjson.decode(ARGV[5])
if rec.familyRef and rec.status ~= 'closed' then
  local key = P .. 'family:' .. rec.familyRef
  local current = redis.call('GET', key)
  if current then
    local status = redis.call('HGET', P .. 'case:' .. current, 'status')
    if status and status ~= 'closed' then return 0 end
    redis.call('DEL', key)
  end
end
normalize(id, rec, ev.at)
write(KEYS[1], {}, rec)
reindex(id, {}, rec, ev.at)
stat('created', rec.createdAt, id, ev.at)
audit(id, ev)
return 1
`;

/** update: KEYS[1] case:<id>; ARGV prefix, ttl, id, expected version, change JSON, event JSON. Nil on a stale version. */
const UPDATE = `${PRELUDE}
local id = ARGV[3]
local before = hgetall(KEYS[1])
if before.id == nil or tonumber(before.version) ~= tonumber(ARGV[4]) then return false end
local ev = cjson.decode(ARGV[6])
local after = applied(before, cjson.decode(ARGV[5]))
after.version = int(tonumber(before.version) + 1)
normalize(id, after, ev.at)
write(KEYS[1], before, after)
reindex(id, before, after, ev.at)
audit(id, ev)
return redis.call('HGETALL', KEYS[1])
`;

/**
 * claim: as update, but only a waiting case at the expected version is taken.
 * Returns {won, status, holder}; the loser learns the status and holder it lost to.
 */
const CLAIM = `${PRELUDE}
local id = ARGV[3]
local before = hgetall(KEYS[1])
if before.id == nil then return { 0, 'closed', '' } end
if before.status ~= 'waiting' or tonumber(before.version) ~= tonumber(ARGV[4]) then
  local holder = ''
  if held(before.status) and before.operatorId then holder = before.operatorId end
  return { 0, before.status, holder }
end
local ev = cjson.decode(ARGV[6])
local after = applied(before, cjson.decode(ARGV[5]))
after.version = int(tonumber(before.version) + 1)
normalize(id, after, ev.at)
write(KEYS[1], before, after)
reindex(id, before, after, ev.at)
audit(id, ev)
return { 1, after.status, after.operatorId or '' }
`;

/** setFields: KEYS[1] case:<id>; ARGV prefix, ttl, id, change JSON, now. No version change, no audit; a missing case stays missing. */
const SET_FIELDS = `${PRELUDE}
local id = ARGV[3]
local before = hgetall(KEYS[1])
if before.id == nil then return 0 end
local after = applied(before, cjson.decode(ARGV[4]))
normalize(id, after, ARGV[5])
write(KEYS[1], before, after)
reindex(id, before, after, ARGV[5])
return 1
`;

/** takeDue: KEYS[1] timers; ARGV now, limit. Takes and removes due timers in one step, so each goes to one caller. */
const TAKE_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do redis.call('ZREM', KEYS[1], due[i]) end
return due
`;

/**
 * recordRelay: KEYS relay:seen:<key>, relay:stream, relay:ids, relay:lease:<key>;
 * ARGV key, entry JSON, dedup TTL, live lease ms (0: none), group. The marker and
 * the outbox entry are written together, so a recorded relay is never both "seen"
 * and missing from the outbox; the live sender's lease in the same step, so the
 * resend tick never picks up what the live path is about to send.
 */
const RECORD_RELAY = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[5], '0', 'MKSTREAM') end
local id = redis.call('XADD', KEYS[2], '*', 'k', ARGV[1], 'e', ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], id)
if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[4], '1', 'PX', ARGV[4]) end
return 1
`;

/** ackRelay: KEYS relay:ids, relay:stream, relay:lease:<key>, relay:attempts; ARGV key, group. Delivered (or given up): gone from the outbox. */
const ACK_RELAY = `
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then
  redis.pcall('XACK', KEYS[2], ARGV[2], id)
  redis.call('XDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
`;

/**
 * claimUnsent: KEYS relay:stream; ARGV group, consumer, idle ms, limit, lease ms, prefix.
 * Entries a dead sender left (pending longer than the idle time: XAUTOCLAIM) and
 * entries no sender has seen yet (XREADGROUP); of those, the ones whose lease this
 * call takes. An entry leased elsewhere (the live path is sending it) stays pending
 * here and is looked at again after the idle time, when it is either acknowledged
 * by its sender or its lease has run out.
 */
const CLAIM_UNSENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0')
local limit = tonumber(ARGV[4])
local batch = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', limit)[2]
local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', limit, 'STREAMS', KEYS[1], '>')
if fresh then for _, entry in ipairs(fresh[1][2]) do batch[#batch + 1] = entry end end
local out = {}
for _, entry in ipairs(batch) do
  local fields = entry[2]
  local key, json
  for i = 1, #fields, 2 do
    if fields[i] == 'k' then key = fields[i + 1] elseif fields[i] == 'e' then json = fields[i + 1] end
  end
  if key and json and redis.call('SET', ARGV[6] .. 'relay:lease:' .. key, '1', 'NX', 'PX', ARGV[5]) then out[#out + 1] = json end
end
return out
`;

/** deadRelay: KEYS relay:dead, then ackRelay's keys; ARGV key, group, caseId, direction, reason, attempts. */
const DEAD_RELAY = `
redis.call('XADD', KEYS[1], 'MAXLEN', '~', '1000', '*', 'k', ARGV[1], 'caseId', ARGV[3], 'direction', ARGV[4], 'reason', ARGV[5], 'attempts', ARGV[6])
local id = redis.call('HGET', KEYS[2], ARGV[1])
if id then
  redis.pcall('XACK', KEYS[3], ARGV[2], id)
  redis.call('XDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[2], ARGV[1])
end
redis.call('DEL', KEYS[4])
redis.call('HDEL', KEYS[5], ARGV[1])
return 1
`;

/** The relay outbox's consumer group. */
const SENDERS = 'senders';

/**
 * forgetFamily: ARGV prefix, ttl, family pseudonym, chat id. Closed cases are
 * erased now; an open one keeps only what the conversation needs (chat id,
 * pseudonym, the family index) and is erased when it closes (normalize).
 * Unsent relays of erased cases and from the family's chat go. Returns the ids touched.
 */
const FORGET = `${PRELUDE}
local familyKey = P .. 'family:' .. ARGV[3]
local ids = redis.call('SMEMBERS', familyKey .. ':cases')
local open = redis.call('GET', familyKey)
if open and redis.call('SISMEMBER', familyKey .. ':cases', open) == 0 then ids[#ids + 1] = open end
local touched, live, isLive, erased = {}, {}, {}, {}
for _, id in ipairs(ids) do
  local key = P .. 'case:' .. id
  local before = hgetall(key)
  if before.id then
    local after = applied(before, { set = {}, del = {} })
    if before.status == 'closed' then
      erase(id, after)
      erased[id] = true
    else
      for _, field in ipairs({ 'callbackPhone', 'summary', 'consentAt', 'region' }) do after[field] = nil end
      after.withdrawn = '1'
      live[#live + 1] = id
      isLive[id] = true
    end
    write(key, before, after)
    touched[#touched + 1] = id
  end
end
redis.call('DEL', familyKey .. ':cases', familyKey .. ':announced')
if #live > 0 then
  redis.call('SADD', familyKey .. ':cases', unpack(live))
  redis.call('EXPIRE', familyKey .. ':cases', TTL)
else
  redis.call('DEL', familyKey)
end
local outbox = redis.call('XRANGE', P .. 'relay:stream', '-', '+')
for _, item in ipairs(outbox) do
  local key, json
  for i = 1, #item[2], 2 do
    if item[2][i] == 'k' then key = item[2][i + 1] elseif item[2][i] == 'e' then json = item[2][i + 1] end
  end
  local entry = json and cjson.decode(json) or {}
  if key and (erased[entry.caseId] or (entry.fromChatId == tonumber(ARGV[4]) and not isLive[entry.caseId])) then
    redis.pcall('XACK', P .. 'relay:stream', 'senders', item[1])
    redis.call('XDEL', P .. 'relay:stream', item[1])
    redis.call('HDEL', P .. 'relay:ids', key)
    redis.call('HDEL', P .. 'relay:attempts', key)
    redis.call('DEL', P .. 'relay:lease:' .. key)
  end
end
return touched
`;

/** claimAnnouncement: KEYS[1] family:<ref>:announced; ARGV at, window ms. The time is the caller's clock; the TTL only cleans up. */
const ANNOUNCE = `
local last = redis.call('GET', KEYS[1])
if last and tonumber(ARGV[1]) - tonumber(last) < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

class LuaScript {
  readonly sha: string;
  /** One SCRIPT LOAD in flight per connection, however many calls hit NOSCRIPT at once. */
  private readonly loading = new WeakMap<Redis, Promise<unknown>>();

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await redis.evalSha(this.sha, { keys, arguments: args });
    } catch (error) {
      if (!isNoScript(error)) throw error;
    }
    let loading = this.loading.get(redis);
    if (loading === undefined) {
      loading = redis.scriptLoad(this.source).finally(() => this.loading.delete(redis));
      this.loading.set(redis, loading);
    }
    await loading;
    try {
      return await redis.evalSha(this.sha, { keys, arguments: args });
    } catch (error) {
      // Flushed again in between: send the source itself.
      if (!isNoScript(error)) throw error;
      return redis.eval(this.source, { keys, arguments: args });
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

const SCRIPTS = {
  create: new LuaScript(CREATE),
  update: new LuaScript(UPDATE),
  claim: new LuaScript(CLAIM),
  setFields: new LuaScript(SET_FIELDS),
  takeDue: new LuaScript(TAKE_DUE),
  recordRelay: new LuaScript(RECORD_RELAY),
  ackRelay: new LuaScript(ACK_RELAY),
  claimUnsent: new LuaScript(CLAIM_UNSENT),
  deadRelay: new LuaScript(DEAD_RELAY),
  forget: new LuaScript(FORGET),
  announce: new LuaScript(ANNOUNCE),
};

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
    this.prefix = options.prefix;
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
    const reply = await SCRIPTS.create.run(this.redis, [this.key('case', rec.id)], [this.prefix, this.ttl, rec.id, JSON.stringify(hash), JSON.stringify(encodeEvent(event))]);
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
    const reply = await SCRIPTS.update.run(
      this.redis,
      [this.key('case', caseId)],
      [this.prefix, this.ttl, caseId, String(expectedVersion), changeJson(encodePatch(patch)), JSON.stringify(encodeEvent(event))],
    );
    return reply === null ? undefined : decodeRecord(pairsToHash(reply));
  }

  async claim(caseId: string, operatorId: number, expectedVersion: number, patch: CasePatch, event: AuditEvent): Promise<ClaimResult> {
    const reply = (await SCRIPTS.claim.run(
      this.redis,
      [this.key('case', caseId)],
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
    await SCRIPTS.setFields.run(this.redis, [this.key('case', caseId)], [this.prefix, this.ttl, caseId, changeJson(change), String(Date.now())]);
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
    return (await SCRIPTS.announce.run(this.redis, [key], [String(at), String(windowMs)])) === 1;
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
    const reply = await SCRIPTS.recordRelay.run(
      this.redis,
      [this.key('relay', 'seen', entry.key), this.key('relay', 'stream'), this.key('relay', 'ids'), this.key('relay', 'lease', entry.key)],
      [entry.key, encodeRelay(entry), this.relayDedup, String(options.leaseMs ?? 0), SENDERS],
    );
    return reply === 1;
  }

  async unsentRelays(limit = 100): Promise<RelayEntry[]> {
    if (limit <= 0) return [];
    const entries = (await this.redis.sendCommand(['XRANGE', this.key('relay', 'stream'), '-', '+', 'COUNT', String(limit)])) as [string, string[]][];
    return entries.flatMap(([, fields]) => {
      const json = fields[fields.indexOf('e') + 1];
      return fields.includes('e') && json !== undefined ? [decodeRelay(json)] : [];
    });
  }

  async ackRelay(key: string): Promise<void> {
    await SCRIPTS.ackRelay.run(this.redis, this.ackKeys(key), [key, SENDERS]);
  }

  async claimUnsent(consumer: string, options: RelayClaimOptions): Promise<RelayEntry[]> {
    const raw = (await SCRIPTS.claimUnsent.run(
      this.redis,
      [this.key('relay', 'stream')],
      [SENDERS, consumer, String(options.idleMs), String(options.limit ?? 100), String(options.leaseMs), this.prefix],
    )) as string[];
    return raw.map(decodeRelay);
  }

  async releaseRelay(key: string): Promise<number> {
    const [attempts] = (await this.redis.multi().hIncrBy(this.key('relay', 'attempts'), key, 1).del(this.key('relay', 'lease', key)).exec()) as unknown as [number];
    return Number(attempts);
  }

  async deadRelay(entry: RelayEntry, reason: string, attempts: number): Promise<void> {
    await SCRIPTS.deadRelay.run(
      this.redis,
      [this.key('relay', 'dead'), ...this.ackKeys(entry.key)],
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
    const flat = (await SCRIPTS.takeDue.run(this.redis, [this.key('timers')], [String(now), String(limit)])) as string[];
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
    return (await SCRIPTS.forget.run(this.redis, [this.key('family', ref)], [this.prefix, this.ttl, ref, String(chatId)])) as string[];
  }
}
