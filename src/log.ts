/**
 * Structured logs without personal data: no names, phone numbers or message
 * texts, and chat ids only as salted hashes.
 */
import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { app: 'qamqor' }, redact: { paths: ['text', '*.text', 'phone', '*.phone', 'name', '*.name'], censor: '[redacted]' } }, destination);
}

/** A stable pseudonym for a chat in logs. */
export function chatRef(chatId: number | string, salt: string): string {
  return createHash('sha256').update(`${salt}:${chatId}`).digest('hex').slice(0, 12);
}
