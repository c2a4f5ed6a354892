/**
 * The case record as a flat string hash, shared by both store twins: Redis
 * keeps it in a hash, the memory twin in a Map of the same strings. Both then
 * read back exactly the same values (no aliasing, `undefined` fields absent),
 * so a contract test that passes on memory does not pass only by accident.
 *
 * Scalars are plain strings so the Lua scripts can read them (status,
 * version, chatId, operatorId, topicId, urgent, timestamps); `snapshot` and
 * `summary` are JSON.
 */
import { createHmac } from 'node:crypto';
import type { CasePatch } from './store.js';
import type { AuditEvent, CaseRecord, DueTimer, RelayEntry, TimerKind } from './types.js';

type Kind = 'string' | 'number' | 'boolean' | 'json';

const FIELD_KINDS: Record<keyof CaseRecord, Kind> = {
  id: 'string',
  chatId: 'number',
  lang: 'string',
  region: 'string',
  urgent: 'boolean',
  status: 'string',
  version: 'number',
  snapshot: 'json',
  summary: 'json',
  consentAt: 'number',
  createdAt: 'number',
  enqueuedAt: 'number',
  operatorId: 'number',
  topicId: 'number',
  cardMessageId: 'number',
  firstResponseAt: 'number',
  lastFamilyMessageAt: 'number',
  lastOperatorMessageAt: 'number',
  callbackPhone: 'string',
  closedAt: 'number',
  outcome: 'string',
  toldPlace: 'number',
  withdrawn: 'boolean',
};

export type CaseHash = Record<string, string>;

function encodeValue(field: string, value: unknown): string {
  const kind = FIELD_KINDS[field as keyof CaseRecord];
  if (kind === undefined) throw new TypeError(`Unknown case field "${field}"`);
  switch (kind) {
    case 'string':
      return String(value);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`Case field "${field}" must be a finite number`);
      return String(value);
    case 'boolean':
      return value ? '1' : '0';
    case 'json':
      return JSON.stringify(value);
  }
}

function decodeValue(kind: Kind, raw: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'number':
      return Number(raw);
    case 'boolean':
      return raw === '1';
    case 'json':
      return JSON.parse(raw) as unknown;
  }
}

/** Fields to set and fields to delete; an `undefined` value means delete. */
export interface HashChange {
  set: CaseHash;
  del: string[];
}

export function encodeFields(fields: Record<string, unknown> | undefined, change: HashChange = { set: {}, del: [] }): HashChange {
  for (const [field, value] of Object.entries(fields ?? {})) {
    // A JSON field set to undefined (e.g. snapshot) has no JSON text: absent, like any undefined field.
    if (value === undefined) {
      change.del.push(field);
      delete change.set[field];
    } else {
      change.set[field] = encodeValue(field, value);
      change.del = change.del.filter((f) => f !== field);
    }
  }
  return change;
}

export function encodeRecord(rec: CaseRecord): CaseHash {
  return encodeFields(rec as unknown as Record<string, unknown>).set;
}

/** The change an update or claim makes: the machine's fields, then status and snapshot. */
export function encodePatch(patch: CasePatch, extra: Partial<CaseRecord> = {}): HashChange {
  const change = encodeFields(patch.fields as Record<string, unknown> | undefined);
  return encodeFields({ ...extra, status: patch.status, snapshot: patch.snapshot }, change);
}

export function decodeRecord(hash: CaseHash): CaseRecord | undefined {
  if (hash.id === undefined) return undefined;
  const rec: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(hash)) {
    const kind = FIELD_KINDS[field as keyof CaseRecord];
    // Fields a newer release wrote are skipped rather than guessed at.
    if (kind !== undefined) rec[field] = decodeValue(kind, raw);
  }
  return rec as unknown as CaseRecord;
}

/** Band 0 = urgent, 1 = normal; within a band the oldest first. Exact below 2^53. */
export function lineScore(urgent: boolean, enqueuedAt: number): number {
  return (urgent ? 0 : 1) * 1e13 + enqueuedAt;
}

/** Audit event as strings (stream fields / Lua arguments). */
export function encodeEvent(event: AuditEvent): Record<string, string> {
  const out: Record<string, string> = { type: event.type, by: event.by, at: String(event.at) };
  if (event.detail !== undefined) out.detail = event.detail;
  return out;
}

export function decodeEvent(fields: Record<string, string>): AuditEvent {
  const event: AuditEvent = { type: fields.type ?? '', by: fields.by ?? '', at: Number(fields.at) };
  if (fields.detail !== undefined) event.detail = fields.detail;
  return event;
}

export function encodeRelay(entry: RelayEntry): string {
  return JSON.stringify(entry);
}

export function decodeRelay(raw: string): RelayEntry {
  return JSON.parse(raw) as RelayEntry;
}

export function timerMember(caseId: string, kind: TimerKind): string {
  return `${caseId}|${kind}`;
}

export function decodeTimer(member: string, deadline: number): DueTimer {
  const bar = member.lastIndexOf('|');
  return { caseId: member.slice(0, bar), kind: member.slice(bar + 1) as TimerKind, deadline };
}

/** Every timer kind; a Record so that a new TimerKind fails to compile until it is listed here. */
const TIMER_KIND_SET: Record<TimerKind, true> = { first_response: true, next_response: true, opening: true };
export const TIMER_KINDS = Object.keys(TIMER_KIND_SET) as TimerKind[];

/** Statuses in which an operator holds a case (it counts in casesOf). */
export function isHeld(status: string | undefined): boolean {
  return status !== undefined && status !== 'waiting' && status !== 'closed';
}

export const DAY_SECONDS = 24 * 60 * 60;

/** casesOf order: oldest case first. */
export function byCreated(a: CaseRecord, b: CaseRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The family's pseudonym in key names and in closed cases: a keyed hash of the
 * chat id, so neither a key name nor a closed case shows who the family is, and
 * without the salt a chat id cannot be turned into its key. Differs from the
 * log's chatRef, so log lines and keys cannot be joined by equal strings.
 */
export function familyRef(salt: string, chatId: number): string {
  return createHmac('sha256', salt).update(`family:${chatId}`).digest('hex').slice(0, 24);
}

/** Fields /forget erases from a case, besides the pseudonym; note texts in the audit go too (their type and time stay). */
export const PERSONAL_FIELDS = ['chatId', 'callbackPhone', 'summary', 'consentAt', 'region'] as const satisfies readonly (keyof CaseRecord)[];

/** The audit event types whose detail is free text someone typed (erased by /forget). */
export const FREE_TEXT_EVENTS = ['note'];
