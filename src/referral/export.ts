/**
 * The referrals as CSV for official reporting (RFC 4180). Only routing keys, statuses and
 * times: no names, phone numbers, notes or free text, so nothing the family said leaves in a
 * spreadsheet. Every cell goes through one writer that quotes and defuses formulas.
 */
import type { Referral } from './types.js';

export const EXPORT_COLUMNS = [
  'id',
  'created',
  'region',
  'district',
  'profile',
  'lang',
  'urgent',
  'source',
  'status',
  'outcome',
  'decline_reason',
  'minutes_to_ack',
  'minutes_to_close',
] as const;

/**
 * One CSV cell. A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before
 * one) as a formula; such a cell gets a leading apostrophe. Cells with a comma, quote or line
 * break are quoted, quotes doubled.
 */
export function csvCell(value: string | number | boolean | undefined): string {
  let text = value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const minutes = (from: number, to: number | undefined): number | undefined => (to === undefined ? undefined : Math.round((to - from) / 60_000));

function row(r: Referral): (string | number | boolean | undefined)[] {
  return [
    r.id,
    new Date(r.createdAt).toISOString(),
    r.region,
    r.district,
    r.profile,
    r.lang,
    r.urgent,
    r.source,
    r.status,
    r.outcome,
    r.declineReason,
    minutes(r.createdAt, r.acknowledgedAt),
    minutes(r.createdAt, r.closedAt),
  ];
}

export function exportCsv(referrals: readonly Referral[]): string {
  const lines = [EXPORT_COLUMNS.map(csvCell).join(','), ...referrals.map((r) => row(r).map(csvCell).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
