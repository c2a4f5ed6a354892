/**
 * How a referral is kept: the reporting part (status, routing keys, times) and the personal
 * part (packet, family chat id), stored apart so the personal part can expire or be erased
 * while the reporting part stays.
 */
import type { Referral, ReferralAuditEntry, ReferralPacket, ReferralStatus } from './types.js';

export const CLOSED: readonly ReferralStatus[] = ['completed', 'failed', 'cancelled'];

interface Personal {
  packet?: ReferralPacket;
  familyChatId?: number;
}

/** The record JSON without the personal part, and the personal part's JSON (undefined when there is none). */
export function splitRecord(referral: Referral): { record: string; personal?: string } {
  const { packet, familyChatId, ...rest } = referral;
  const personal: Personal = {};
  if (packet !== undefined) personal.packet = packet;
  if (familyChatId !== undefined) personal.familyChatId = familyChatId;
  return { record: JSON.stringify(rest), ...(Object.keys(personal).length ? { personal: JSON.stringify(personal) } : {}) };
}

export function joinRecord(record: string, personal?: string): Referral {
  const rec = JSON.parse(record) as Referral;
  if (!personal) return rec;
  const p = JSON.parse(personal) as Personal;
  return { ...rec, ...(p.packet !== undefined ? { packet: p.packet } : {}), ...(p.familyChatId !== undefined ? { familyChatId: p.familyChatId } : {}) };
}

/** Stream fields as strings; the detail is cut short so nobody can use it as a notepad. */
export function auditFields(entry: ReferralAuditEntry): { what: string; who: string; at: string; detail?: string } {
  return {
    what: entry.what,
    who: entry.who,
    at: String(entry.at),
    ...(entry.detail !== undefined ? { detail: entry.detail.slice(0, 100) } : {}),
  };
}
