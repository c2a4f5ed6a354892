/**
 * Worker invites: an admin issues a one-time code for a directory worker id; the worker sends
 * `/start w-<code>` and their Telegram account is linked to that worker. Codes are random
 * (11 characters of a 31-letter alphabet: about 54 bits), kept only as a SHA-256 hash with a TTL,
 * and taken with GETDEL, so a code works once and only until it expires.
 */
import { createHash, randomInt } from 'node:crypto';
import type { ReferralStore } from './store.js';

/** No 0/O, 1/I/L: codes are read off a screen and typed. */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** 11 characters of 31 letters ≈ 54 bits. */
export const CODE_LENGTH = 11;
export const START_PREFIX = 'w-';
export const INVITE_HOURS = 72;

export function newInviteCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

/** The code of a `/start` payload ("w-<code>") or a code typed by hand; undefined when it cannot be one. */
export function parseInviteCode(text: string): string | undefined {
  const code = text.trim().replace(/^w-/i, '').toUpperCase();
  return new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`).test(code) ? code : undefined;
}

export function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

export async function issueInvite(store: ReferralStore, workerId: string, now: number, hours = INVITE_HOURS): Promise<{ code: string; expiresAt: number }> {
  const code = newInviteCode();
  const ttlMs = hours * 3_600_000;
  await store.saveInvite(hashCode(code), workerId, ttlMs);
  return { code, expiresAt: now + ttlMs };
}

/** Takes the invite; the worker id it was for, or undefined (unknown, used or expired). */
export async function redeemInvite(store: ReferralStore, text: string): Promise<string | undefined> {
  const code = parseInviteCode(text);
  return code === undefined ? undefined : store.takeInvite(hashCode(code));
}
