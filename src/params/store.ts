/**
 * Parameter values set at run time by an admin (/params), kept beside the parameters
 * files and laid over them (SPEC §0.3: dated, region-scoped, with a reference and a
 * verified flag). One value per parameter, region and `from` date: setting the same
 * date again corrects it. Every change is in the audit trail with who made it.
 */
import type { DatedValue, Params } from '../engine/types.js';

/** One dated value of one parameter in one region. */
export interface ParamChange {
  param: string;
  region: string;
  from: string;
  value: number;
  reference: string;
  verified: boolean;
}

/** A stored value, with who set it and when (epoch ms). */
export interface StoredParam extends ParamChange {
  setBy: number;
  setAt: number;
}

/** An audit entry: the change, who made it, and the value it replaced for that date, if any. */
export interface ParamAuditEntry extends StoredParam {
  previous?: number;
}

/** A change shown to an admin with a confirm button, waiting for the press. */
export interface PendingChange extends ParamChange {
  proposedBy: number;
}

export interface ParamsStore {
  /** Changes with every write: processes compare it to know when to read the values again. */
  version(): Promise<number>;
  values(): Promise<StoredParam[]>;
  /** Stores the value (replacing the one of the same parameter, region and date), bumps the version and appends to the audit trail, all at once. */
  set(change: ParamChange, by: number, at: number): Promise<ParamAuditEntry>;
  auditTrail(): Promise<ParamAuditEntry[]>;
  /** Keeps a change until it is confirmed (or for ttlSeconds); returns its token. */
  propose(change: PendingChange, ttlSeconds: number): Promise<string>;
  /**
   * The proposed change, removed so that it is confirmed (or cancelled) at most once, and only by
   * the admin who proposed it: anyone else gets 'not_yours' and the change stays. Undefined when
   * there is none (expired, or already done).
   */
  take(token: string, by: number): Promise<PendingChange | 'not_yours' | undefined>;
}

/** Stored values in the shape of a parameters file. */
export function asParams(values: StoredParam[]): Params {
  const out: Params = {};
  for (const v of values) {
    const dated: DatedValue = { from: v.from, value: v.value, reference: v.reference, verified: v.verified };
    ((out[v.param] ??= {})[v.region] ??= []).push(dated);
  }
  return out;
}

/** The field a value is kept under: one per parameter, region and date. */
export function valueField(change: Pick<ParamChange, 'param' | 'region' | 'from'>): string {
  return `${change.param}|${change.region}|${change.from}`;
}
