/**
 * The handoff line in process memory, for the terminal demo and unit tests.
 * It mirrors RedisHandoffStore step by step (the Lua in redis-store.ts): the
 * same flat string hash per case (codec.ts), the same index rules, the same
 * line order. Every method does its read-check-write without an `await` in
 * between, so concurrent calls interleave the way Lua scripts do: whole.
 *
 * Not mirrored: key TTLs (nothing here outlives the process anyway). The
 * stats window is mirrored, since it changes what stats() returns.
 */
import { randomBytes } from 'node:crypto';
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
  isHeld,
  PERSONAL_FIELDS,
  lineScore,
  TIMER_KINDS,
  timerMember,
  type CaseHash,
  type HashChange,
} from './codec.js';
import type { CasePatch, HandoffStore, RelayClaimOptions, RelayRecordOptions } from './store.js';
import type { AuditEvent, CaseRecord, ClaimResult, DueTimer, RelayEntry, TimerKind } from './types.js';

export interface MemoryHandoffStoreOptions {
  /** Stats window in seconds, as RedisHandoffStore's ttlSeconds. Default 90 days. */
  ttlSeconds?: number;
  /** Milliseconds clock for setFields (Redis uses Date.now() there too). */
  now?: () => number;
  /** Secret for the families' pseudonyms, as RedisHandoffStore's; random per store by default. */
  salt?: string;
}

type Role = 'operator' | 'supervisor';
type StatName = 'created' | 'claimed' | 'closed' | 'first_response';

/** A sorted set: member → score, read in (score, member) order like Redis. */
class SortedSet {
  private readonly scores = new Map<string, number>();

  add(member: string, score: number): void {
    this.scores.set(member, score);
  }

  remove(member: string): boolean {
    return this.scores.delete(member);
  }

  get size(): number {
    return this.scores.size;
  }

  ordered(): [string, number][] {
    return [...this.scores].sort(([ma, sa], [mb, sb]) => sa - sb || (ma < mb ? -1 : ma > mb ? 1 : 0));
  }

  removeBelow(score: number): void {
    for (const [member, s] of this.scores) if (s < score) this.scores.delete(member);
  }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function applied(before: CaseHash, change: HashChange): CaseHash {
  const after: CaseHash = { ...before, ...change.set };
  for (const field of change.del) delete after[field];
  return after;
}


export class MemoryHandoffStore implements HandoffStore {
  private readonly cases = new Map<string, CaseHash>();
  private readonly auditTrails = new Map<string, string[]>();
  private readonly pending = new Map<string, string[]>();
  private readonly line = new SortedSet();
  /** Keyed by the family's pseudonym, as the Redis keys are. */
  private readonly families = new Map<string, string>();
  private readonly familyCases = new Map<string, Set<string>>();
  private readonly announced = new Map<string, number>();
  private readonly copies = new Map<string, number[]>();
  private readonly topics = new Map<string, string>();
  private readonly operatorCases = new Map<string, Set<string>>();
  private readonly relaySeen = new Set<string>();
  /** Insertion order is recording order, as relay:stream's. */
  private readonly outbox = new Map<string, string>();
  /** Per recorded relay: its sender's lease (real clock, as Redis's PX), failed sends, when a resend tick last took it (the group's delivery). */
  private readonly relayState = new Map<string, { leaseUntil: number; attempts: number; seenAt?: number }>();
  readonly deadRelays: { key: string; caseId: string; direction: string; reason: string; attempts: number }[] = [];
  private readonly timers = new SortedSet();
  private readonly roles = new Map<Role, Set<number>>();
  private readonly statSets = new Map<StatName, SortedSet>();
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly salt: string;

  constructor(options: MemoryHandoffStoreOptions = {}) {
    this.windowMs = (options.ttlSeconds ?? 90 * DAY_SECONDS) * 1000;
    this.now = options.now ?? Date.now;
    this.salt = options.salt ?? randomBytes(32).toString('hex');
  }

  private ref(chatId: number): string {
    return familyRef(this.salt, chatId);
  }

  async create(rec: CaseRecord, event: AuditEvent): Promise<boolean> {
    if (this.cases.has(rec.id)) return false;
    const hash = encodeRecord(rec);
    if (rec.chatId !== undefined) hash.familyRef = this.ref(rec.chatId);
    const ev = encodeEvent(event);
    if (hash.familyRef !== undefined && hash.status !== 'closed') {
      const current = this.families.get(hash.familyRef);
      if (current !== undefined) {
        const status = this.cases.get(current)?.status;
        if (status !== undefined && status !== 'closed') return false;
        this.families.delete(hash.familyRef);
      }
    }
    this.normalize(rec.id, hash, ev.at!);
    this.cases.set(rec.id, hash);
    this.reindex(rec.id, {}, hash, ev.at!);
    this.stat('created', Number(hash.createdAt), rec.id, ev.at!);
    this.appendAudit(rec.id, ev);
    return true;
  }

  async get(caseId: string): Promise<CaseRecord | undefined> {
    const hash = this.cases.get(caseId);
    return hash && decodeRecord(hash);
  }

  async openCaseOf(chatId: number): Promise<CaseRecord | undefined> {
    const id = this.families.get(this.ref(chatId));
    const rec = id === undefined ? undefined : await this.get(id);
    return rec && rec.status !== 'closed' && rec.chatId === chatId ? rec : undefined;
  }

  async isFamilyOf(caseId: string, chatId: number): Promise<boolean> {
    return this.cases.get(caseId)?.familyRef === this.ref(chatId);
  }

  async caseOfTopic(topicId: number): Promise<CaseRecord | undefined> {
    const id = this.topics.get(String(topicId));
    const rec = id === undefined ? undefined : await this.get(id);
    return rec?.topicId === topicId ? rec : undefined;
  }

  async update(caseId: string, expectedVersion: number, patch: CasePatch, event: AuditEvent): Promise<CaseRecord | undefined> {
    const before = this.cases.get(caseId);
    if (before === undefined || Number(before.version) !== expectedVersion) return undefined;
    this.apply(caseId, before, encodePatch(patch), encodeEvent(event));
    return this.get(caseId);
  }

  async claim(caseId: string, operatorId: number, expectedVersion: number, patch: CasePatch, event: AuditEvent): Promise<ClaimResult> {
    const before = this.cases.get(caseId);
    if (before === undefined) return { won: false, status: 'closed' };
    if (before.status !== 'waiting' || Number(before.version) !== expectedVersion) {
      const lost = decodeRecord(before)!;
      const result: ClaimResult = { won: false, status: lost.status };
      if (isHeld(lost.status) && lost.operatorId !== undefined) result.holder = lost.operatorId;
      return result;
    }
    const after = decodeRecord(this.apply(caseId, before, encodePatch(patch, { operatorId }), encodeEvent(event)))!;
    const result: ClaimResult = { won: true, status: after.status };
    if (after.operatorId !== undefined) result.holder = after.operatorId;
    return result;
  }

  async setFields(caseId: string, fields: CasePatch['fields']): Promise<void> {
    const change = encodeFields(fields as Record<string, unknown> | undefined);
    if (Object.keys(change.set).length === 0 && change.del.length === 0) return;
    const before = this.cases.get(caseId);
    if (before === undefined) return;
    const at = String(this.now());
    const after = applied(before, change);
    this.normalize(caseId, after, at);
    this.cases.set(caseId, after);
    this.reindex(caseId, before, after, at);
  }

  /** UPDATE / CLAIM after their checks: new version, indexes, audit. */
  private apply(caseId: string, before: CaseHash, change: HashChange, ev: Record<string, string>): CaseHash {
    const after = applied(before, change);
    after.version = String(Number(before.version) + 1);
    this.normalize(caseId, after, ev.at!);
    this.cases.set(caseId, after);
    this.reindex(caseId, before, after, ev.at!);
    this.appendAudit(caseId, ev);
    return after;
  }

  /** The Lua normalize(). */
  private normalize(id: string, after: CaseHash, at: string): void {
    if (after.status === 'waiting' && after.enqueuedAt === undefined) after.enqueuedAt = at;
    if (after.status === 'closed') {
      delete after.chatId;
      if (after.withdrawn === '1') this.erase(id, after);
    }
  }

  /** The Lua erase(). */
  private erase(id: string, rec: CaseHash): void {
    if (rec.familyRef !== undefined) this.announced.delete(rec.familyRef);
    for (const field of ['familyRef', ...PERSONAL_FIELDS]) delete rec[field];
    rec.withdrawn = '1';
    this.pending.delete(id);
    const trail = this.auditTrails.get(id);
    if (trail === undefined) return;
    this.auditTrails.set(
      id,
      trail.map((raw) => {
        const ev = JSON.parse(raw) as Record<string, string>;
        if (FREE_TEXT_EVENTS.includes(ev.type!)) delete ev.detail;
        return JSON.stringify(ev);
      }),
    );
  }

  /** The Lua reindex(), line by line. */
  private reindex(id: string, before: CaseHash, after: CaseHash, at: string): void {
    if (after.status === 'waiting') this.line.add(id, lineScore(after.urgent === '1', Number(after.enqueuedAt)));
    else this.line.remove(id);

    const heldBefore = isHeld(before.status) ? before.operatorId : undefined;
    const heldAfter = isHeld(after.status) ? after.operatorId : undefined;
    if (heldBefore !== undefined && heldBefore !== heldAfter) this.operatorCases.get(heldBefore)?.delete(id);
    if (heldAfter !== undefined) getOrCreate(this.operatorCases, heldAfter, () => new Set()).add(id);

    if (before.familyRef !== undefined && (before.familyRef !== after.familyRef || after.status === 'closed')) {
      if (this.families.get(before.familyRef) === id) this.families.delete(before.familyRef);
      if (before.familyRef !== after.familyRef) this.familyCases.get(before.familyRef)?.delete(id);
    }
    if (after.familyRef !== undefined) {
      if (after.status !== 'closed') {
        const current = this.families.get(after.familyRef);
        if (current === undefined || current === id) this.families.set(after.familyRef, id);
      }
      getOrCreate(this.familyCases, after.familyRef, () => new Set()).add(id);
    }

    if (before.topicId !== undefined && before.topicId !== after.topicId) {
      if (this.topics.get(before.topicId) === id) this.topics.delete(before.topicId);
    }
    if (after.topicId !== undefined) this.topics.set(after.topicId, id);

    if (after.status === 'claimed' && before.status !== 'claimed') this.stat('claimed', Number(at), id, at);
    if (after.status === 'closed' && before.status !== 'closed') {
      this.stat('closed', Number(after.closedAt ?? at), id, at);
      for (const kind of TIMER_KINDS) this.timers.remove(timerMember(id, kind));
    }
    if (after.firstResponseAt !== undefined && before.firstResponseAt === undefined) {
      const wait = Number(after.firstResponseAt) - Number(after.createdAt);
      this.stat('first_response', Number(after.firstResponseAt), `${id}|${wait}`, at);
    }
  }

  private stat(name: StatName, score: number, member: string, at: string): void {
    const set = getOrCreate(this.statSets, name, () => new SortedSet());
    set.add(member, score);
    set.removeBelow(Number(at) - this.windowMs);
  }

  private appendAudit(caseId: string, ev: Record<string, string>): void {
    getOrCreate(this.auditTrails, caseId, () => []).push(JSON.stringify(ev));
  }

  async waiting(limit?: number): Promise<CaseRecord[]> {
    const ids = this.line.ordered().map(([id]) => id);
    return this.records(limit === undefined ? ids : ids.slice(0, Math.max(0, limit)));
  }

  async placeInLine(caseId: string): Promise<number | undefined> {
    const index = this.line.ordered().findIndex(([id]) => id === caseId);
    return index < 0 ? undefined : index + 1;
  }

  async casesOf(operatorId: number): Promise<CaseRecord[]> {
    const ids = [...(this.operatorCases.get(String(operatorId)) ?? [])];
    return this.records(ids)
      .filter((r) => r.operatorId === operatorId)
      .sort(byCreated);
  }

  private records(ids: string[]): CaseRecord[] {
    return ids.map((id) => this.cases.get(id)).flatMap((hash) => (hash ? [decodeRecord(hash)!] : []));
  }

  async audit(caseId: string, event: AuditEvent): Promise<void> {
    this.appendAudit(caseId, encodeEvent(event));
  }

  async auditTrail(caseId: string): Promise<AuditEvent[]> {
    return (this.auditTrails.get(caseId) ?? []).map((raw) => decodeEvent(JSON.parse(raw) as Record<string, string>));
  }

  async keepCopy(caseId: string, messageId: number): Promise<void> {
    getOrCreate(this.copies, caseId, () => []).push(messageId);
  }

  async takeCopies(caseId: string): Promise<number[]> {
    const ids = this.copies.get(caseId) ?? [];
    this.copies.delete(caseId);
    return ids;
  }

  async claimAnnouncement(chatId: number, at: number, windowMs: number): Promise<boolean> {
    const ref = this.ref(chatId);
    const last = this.announced.get(ref);
    if (last !== undefined && at - last < windowMs) return false;
    this.announced.set(ref, at);
    return true;
  }

  async keepPending(caseId: string, entry: RelayEntry): Promise<void> {
    getOrCreate(this.pending, caseId, () => []).push(encodeRelay(entry));
  }

  async takePending(caseId: string): Promise<RelayEntry[]> {
    const raw = this.pending.get(caseId) ?? [];
    this.pending.delete(caseId);
    return raw.map(decodeRelay);
  }

  async recordRelay(entry: RelayEntry, options: RelayRecordOptions = {}): Promise<boolean> {
    if (this.relaySeen.has(entry.key)) return false;
    this.relaySeen.add(entry.key);
    this.outbox.set(entry.key, encodeRelay(entry));
    this.relayState.set(entry.key, { leaseUntil: options.leaseMs ? Date.now() + options.leaseMs : 0, attempts: 0 });
    return true;
  }

  async unsentRelays(limit = 100): Promise<RelayEntry[]> {
    return [...this.outbox.values()].slice(0, Math.max(0, limit)).map(decodeRelay);
  }

  async ackRelay(key: string): Promise<void> {
    this.outbox.delete(key);
    this.relayState.delete(key);
  }

  async claimUnsent(_consumer: string, options: RelayClaimOptions): Promise<RelayEntry[]> {
    const now = Date.now();
    const out: RelayEntry[] = [];
    let looked = 0;
    for (const [key, raw] of this.outbox) {
      if (looked >= (options.limit ?? 100)) break;
      const state = this.relayState.get(key) ?? { leaseUntil: 0, attempts: 0 };
      // As XREADGROUP (never seen) or XAUTOCLAIM (seen, idle long enough).
      if (state.seenAt !== undefined && now - state.seenAt < options.idleMs) continue;
      looked++;
      state.seenAt = now;
      if (state.leaseUntil <= now) {
        state.leaseUntil = now + options.leaseMs;
        out.push(decodeRelay(raw));
      }
      this.relayState.set(key, state);
    }
    return out;
  }

  async releaseRelay(key: string): Promise<number> {
    const state = this.relayState.get(key) ?? { leaseUntil: 0, attempts: 0 };
    state.attempts++;
    state.leaseUntil = 0;
    if (this.outbox.has(key)) this.relayState.set(key, state);
    return state.attempts;
  }

  async deadRelay(entry: RelayEntry, reason: string, attempts: number): Promise<void> {
    this.deadRelays.push({ key: entry.key, caseId: entry.caseId, direction: entry.direction, reason: reason.slice(0, 200), attempts });
    await this.ackRelay(entry.key);
  }

  async relayBacklog(): Promise<number> {
    return this.outbox.size;
  }

  async schedule(caseId: string, kind: TimerKind, deadline: number): Promise<void> {
    this.timers.add(timerMember(caseId, kind), deadline);
  }

  async cancelTimer(caseId: string, kind: TimerKind): Promise<void> {
    this.timers.remove(timerMember(caseId, kind));
  }

  async takeDue(now: number, limit = 100): Promise<DueTimer[]> {
    const due = this.timers
      .ordered()
      .filter(([, deadline]) => deadline <= now)
      .slice(0, Math.max(0, limit));
    for (const [member] of due) this.timers.remove(member);
    return due.map(([member, deadline]) => decodeTimer(member, deadline));
  }

  async grantRole(role: Role, userId: number): Promise<void> {
    getOrCreate(this.roles, role, () => new Set()).add(userId);
  }

  async revokeRole(role: Role, userId: number): Promise<void> {
    this.roles.get(role)?.delete(userId);
  }

  async granted(role: Role): Promise<number[]> {
    return [...(this.roles.get(role) ?? [])].sort((a, b) => a - b);
  }

  async stats(since: number): Promise<{ created: number; claimed: number; closed: number; waitingNow: number; firstResponseMs: number[] }> {
    const from = (name: StatName) => (this.statSets.get(name)?.ordered() ?? []).filter(([, at]) => at >= since);
    return {
      created: from('created').length,
      claimed: from('claimed').length,
      closed: from('closed').length,
      waitingNow: this.line.size,
      firstResponseMs: from('first_response').map(([member]) => Number(member.slice(member.lastIndexOf('|') + 1))),
    };
  }

  /** The Lua FORGET, step by step. */
  async forgetFamily(chatId: number): Promise<string[]> {
    const ref = this.ref(chatId);
    const ids = new Set(this.familyCases.get(ref) ?? []);
    const open = this.families.get(ref);
    if (open !== undefined) ids.add(open);
    const touched: string[] = [];
    const live = new Set<string>();
    const erased = new Set<string>();
    for (const id of ids) {
      const rec = this.cases.get(id);
      if (rec === undefined) continue;
      if (rec.status === 'closed') {
        this.erase(id, rec);
        erased.add(id);
      } else {
        for (const field of ['callbackPhone', 'summary', 'consentAt', 'region']) delete rec[field];
        rec.withdrawn = '1';
        live.add(id);
      }
      touched.push(id);
    }
    this.familyCases.delete(ref);
    this.announced.delete(ref);
    if (live.size > 0) this.familyCases.set(ref, live);
    else this.families.delete(ref);
    for (const [key, raw] of this.outbox) {
      const entry = decodeRelay(raw);
      if (erased.has(entry.caseId) || (entry.fromChatId === chatId && !live.has(entry.caseId))) void this.ackRelay(key);
    }
    return touched;
  }
}
