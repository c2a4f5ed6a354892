/**
 * The referrals in memory: the terminal demo and unit tests. Same contract as
 * RedisReferralStore (tests/referral/store.contract.test.ts); the personal part of a closed
 * referral expires on the store's clock.
 */
import { MemoryStreamDelivery, type StreamConsumer } from '../store/stream-delivery.js';
import { CLOSED, joinRecord, splitRecord } from './codec.js';
import { PERSONAL_DATA_MS } from './redis-store.js';
import type { CapacityGuard, DueTimer, ReferralStore, TimerKind } from './store.js';
import { OPEN_STATUSES, type Referral, type ReferralAuditEntry, type ReferralEvent } from './types.js';

/** Who holds it: the worker, or the supervisor it went to when nobody else could take it. */
const holderOf = (r: Referral) => r.workerId ?? r.supervisorId;

export interface MemoryReferralStoreOptions {
  now?: () => number;
  personalDataMs?: number;
}

export class MemoryReferralStore implements ReferralStore {
  private readonly records = new Map<string, string>();
  private readonly personal = new Map<string, { json: string; expiresAt?: number }>();
  private readonly audits = new Map<string, ReferralAuditEntry[]>();
  private readonly timers = new Map<string, number>();
  private readonly invites = new Map<string, { workerId: string; expiresAt: number }>();
  private readonly workerToUser = new Map<string, number>();
  private readonly userToWorker = new Map<number, string>();
  private readonly delivery = new MemoryStreamDelivery<ReferralEvent>();
  private reloads = 0;
  private readonly now: () => number;
  private readonly personalDataMs: number;

  constructor(options: MemoryReferralStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.personalDataMs = options.personalDataMs ?? PERSONAL_DATA_MS;
  }

  // Checks and writes run without an await in between: atomic, as the Redis scripts are.
  async create(referral: Referral, audit: ReferralAuditEntry, events: ReferralEvent[], guard?: CapacityGuard): Promise<boolean> {
    if (this.records.has(referral.id) || this.full(referral.id, guard)) return false;
    this.write(referral, audit, events);
    return true;
  }

  async get(referralId: string): Promise<Referral | undefined> {
    return this.read(referralId);
  }

  private read(referralId: string): Referral | undefined {
    const rec = this.records.get(referralId);
    if (rec === undefined) return undefined;
    const p = this.personal.get(referralId);
    if (p?.expiresAt !== undefined && p.expiresAt <= this.now()) this.personal.delete(referralId);
    return joinRecord(rec, this.personal.get(referralId)?.json);
  }

  async update(referralId: string, expectedVersion: number, next: Referral, audit: ReferralAuditEntry, events: ReferralEvent[], guard?: CapacityGuard): Promise<Referral | undefined> {
    const current = this.read(referralId);
    if (!current || current.version !== expectedVersion || this.full(referralId, guard)) return undefined;
    const written = { ...next, id: referralId, version: expectedVersion + 1 };
    this.write(written, audit, events);
    return structuredClone(written);
  }

  private full(referralId: string, guard: CapacityGuard | undefined): boolean {
    if (!guard) return false;
    const held = this.all().filter((r) => holderOf(r) === guard.workerId && OPEN_STATUSES.includes(r.status));
    return !held.some((r) => r.id === referralId) && held.length >= guard.limit;
  }

  private write(referral: Referral, audit: ReferralAuditEntry, events: ReferralEvent[]): void {
    const { record, personal } = splitRecord(referral);
    this.records.set(referral.id, record);
    if (personal === undefined) this.personal.delete(referral.id);
    else this.personal.set(referral.id, { json: personal, ...(CLOSED.includes(referral.status) ? { expiresAt: this.now() + this.personalDataMs } : {}) });
    this.pushAudit(referral.id, audit);
    for (const e of events) void this.delivery.publish(e);
  }

  async erase(referralId: string, audit: ReferralAuditEntry): Promise<void> {
    this.personal.delete(referralId);
    this.pushAudit(referralId, audit);
  }

  private pushAudit(referralId: string, entry: ReferralAuditEntry): void {
    const list = this.audits.get(referralId) ?? [];
    list.push({ ...entry, ...(entry.detail !== undefined ? { detail: entry.detail.slice(0, 100) } : {}) });
    this.audits.set(referralId, list);
  }

  private all(): Referral[] {
    const found = [...this.records.keys()].map((id) => this.read(id));
    return found.filter((r): r is Referral => r !== undefined).sort((x, y) => x.createdAt - y.createdAt || x.id.localeCompare(y.id));
  }

  async openOf(workerId: string): Promise<Referral[]> {
    return this.all().filter((r) => holderOf(r) === workerId && OPEN_STATUSES.includes(r.status));
  }

  async openCounts(workerIds: readonly string[]): Promise<Map<string, number>> {
    const all = this.all();
    return new Map(workerIds.map((w) => [w, all.filter((r) => holderOf(r) === w && OPEN_STATUSES.includes(r.status)).length]));
  }

  async openInRegion(region: string): Promise<Referral[]> {
    return this.all().filter((r) => r.region === region && OPEN_STATUSES.includes(r.status));
  }

  async ofFamily(chatId: number): Promise<Referral[]> {
    return this.all().filter((r) => r.familyChatId === chatId);
  }

  async createdBetween(from: number, to: number): Promise<Referral[]> {
    return this.all().filter((r) => r.createdAt >= from && r.createdAt < to);
  }

  async audit(referralId: string, entry: ReferralAuditEntry): Promise<void> {
    this.pushAudit(referralId, entry);
  }

  async auditTrail(referralId: string): Promise<ReferralAuditEntry[]> {
    return structuredClone(this.audits.get(referralId) ?? []);
  }

  async schedule(referralId: string, kind: TimerKind, deadline: number): Promise<void> {
    this.timers.set(`${referralId}|${kind}`, deadline);
  }

  async cancelTimer(referralId: string, kind: TimerKind): Promise<void> {
    this.timers.delete(`${referralId}|${kind}`);
  }

  async takeDue(now: number, leaseMs: number, limit = 100): Promise<DueTimer[]> {
    const due = [...this.timers.entries()]
      .filter(([, deadline]) => deadline <= now)
      .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
      .slice(0, limit);
    return due.map(([member, deadline]) => {
      this.timers.set(member, now + leaseMs);
      const [referralId, kind] = member.split('|') as [string, TimerKind];
      return { referralId, kind, deadline };
    });
  }

  async bumpDirectoryVersion(): Promise<number> {
    return ++this.reloads;
  }

  async directoryVersion(): Promise<number> {
    return this.reloads;
  }

  async saveInvite(codeHash: string, workerId: string, ttlMs: number): Promise<void> {
    this.invites.set(codeHash, { workerId, expiresAt: this.now() + ttlMs });
  }

  async takeInvite(codeHash: string): Promise<string | undefined> {
    const invite = this.invites.get(codeHash);
    this.invites.delete(codeHash);
    return invite && invite.expiresAt > this.now() ? invite.workerId : undefined;
  }

  async link(workerId: string, telegramUserId: number): Promise<number | undefined> {
    const previousUser = this.workerToUser.get(workerId);
    if (previousUser !== undefined && previousUser !== telegramUserId) this.userToWorker.delete(previousUser);
    const previousWorker = this.userToWorker.get(telegramUserId);
    if (previousWorker !== undefined && previousWorker !== workerId) this.workerToUser.delete(previousWorker);
    this.workerToUser.set(workerId, telegramUserId);
    this.userToWorker.set(telegramUserId, workerId);
    return previousUser === telegramUserId ? undefined : previousUser;
  }

  async unlink(workerId: string): Promise<boolean> {
    const user = this.workerToUser.get(workerId);
    if (user === undefined) return false;
    this.workerToUser.delete(workerId);
    if (this.userToWorker.get(user) === workerId) this.userToWorker.delete(user);
    return true;
  }

  async workerOf(telegramUserId: number): Promise<string | undefined> {
    return this.userToWorker.get(telegramUserId);
  }

  async userOf(workerId: string): Promise<number | undefined> {
    return this.workerToUser.get(workerId);
  }

  outbox(): StreamConsumer<ReferralEvent> {
    return this.delivery;
  }
}
