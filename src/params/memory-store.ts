/** The parameters store in memory: for the terminal demo and fast tests (one process only). */
import { randomBytes } from 'node:crypto';
import { valueField, type ParamAuditEntry, type ParamChange, type ParamsStore, type PendingChange, type StoredParam } from './store.js';

export class MemoryParamsStore implements ParamsStore {
  private readonly stored = new Map<string, StoredParam>();
  private readonly trail: ParamAuditEntry[] = [];
  private readonly pending = new Map<string, { change: PendingChange; until: number }>();
  private counter = 0;

  /** `now`: epoch ms, for when a proposed change expires. */
  constructor(private readonly now: () => number = Date.now) {}

  async version(): Promise<number> {
    return this.counter;
  }

  async values(): Promise<StoredParam[]> {
    return [...this.stored.values()].map((v) => ({ ...v }));
  }

  async set(change: ParamChange, by: number, at: number): Promise<ParamAuditEntry> {
    const field = valueField(change);
    const previous = this.stored.get(field)?.value;
    const stored: StoredParam = { ...change, setBy: by, setAt: at };
    this.stored.set(field, stored);
    this.counter++;
    const entry: ParamAuditEntry = { ...stored, ...(previous !== undefined ? { previous } : {}) };
    this.trail.push(entry);
    return { ...entry };
  }

  async auditTrail(): Promise<ParamAuditEntry[]> {
    return this.trail.map((e) => ({ ...e }));
  }

  async propose(change: PendingChange, ttlSeconds: number): Promise<string> {
    const token = randomBytes(6).toString('base64url');
    this.pending.set(token, { change: { ...change }, until: this.now() + ttlSeconds * 1000 });
    return token;
  }

  async take(token: string, by: number): Promise<PendingChange | 'not_yours' | undefined> {
    const kept = this.pending.get(token);
    if (!kept || kept.until <= this.now()) return undefined;
    if (kept.change.proposedBy !== by) return 'not_yours';
    this.pending.delete(token);
    return kept.change;
  }
}
