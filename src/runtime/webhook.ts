/**
 * The webhook: Telegram hears 200 only once the update is recorded in the
 * inbox (a Redis Stream), so a process killed right after answering loses
 * nothing; handling happens from the inbox, in order per chat. Recording takes
 * milliseconds, so Telegram never times out and retries because a family's
 * handling is slow. When the update cannot be recorded (Redis away) the answer is
 * 503 and Telegram delivers it again later.
 *
 * Logs say what was wrong with a request, never what it contained.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Update } from 'grammy/types';
import type { UpdateInbox } from './inbox.js';

/** Telegram's updates are far smaller; a bigger body is not from Telegram and is not read. */
export const MAX_BODY_BYTES = 1 << 20;

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

export interface WebhookOptions {
  secretToken?: string;
  /** A refused request (no update content). */
  onRefused?: (reason: string, status: number) => void;
  /** Could not record (Redis away). */
  onProblem?: (error: Error) => void;
  /** Sees each update as it is being recorded (to tell the family when Redis is slow: pause-notice.ts). */
  onRecording?: (updates: Update[], recording: Promise<unknown>) => void;
}

export type WebhookReceiver = (req: IncomingMessage, res: ServerResponse) => void;

export function webhookReceiver(inbox: UpdateInbox, options: WebhookOptions): WebhookReceiver & { accepting: boolean } {
  const expected = options.secretToken === undefined ? undefined : Buffer.from(options.secretToken);
  const receiver = ((req: IncomingMessage, res: ServerResponse) => {
    const refuse = (status: number, reason: string) => {
      options.onRefused?.(reason, status);
      if (!res.headersSent) res.writeHead(status, { connection: 'close' }).end();
      req.resume(); // drain, never buffer, what is left of a refused body
    };
    if (!receiver.accepting) return refuse(503, 'stopping');
    if (expected && !secretMatches(req.headers[SECRET_HEADER], expected)) return refuse(401, 'secret token is wrong');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return refuse(413, 'body too large');

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        refused = true;
        chunks.length = 0;
        refuse(413, 'body too large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      refused = true;
    });
    req.on('end', () => {
      if (refused) return;
      const update = parseUpdate(Buffer.concat(chunks));
      if (!update) return refuse(400, 'not an update (bad JSON or no update_id)');
      const recording = inbox.append([update]);
      options.onRecording?.([update], recording);
      recording.then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
        (error: unknown) => {
          options.onProblem?.(error instanceof Error ? error : new Error(String(error)));
          if (!res.headersSent) res.writeHead(503).end();
        },
      );
    });
  }) as WebhookReceiver & { accepting: boolean };
  receiver.accepting = true;
  return receiver;
}

function secretMatches(header: string | string[] | undefined, expected: Buffer): boolean {
  if (typeof header !== 'string') return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function parseUpdate(body: Buffer): Update | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Number.isSafeInteger((value as { update_id?: unknown }).update_id)) {
      return value as Update;
    }
  } catch {
    // not JSON
  }
  return undefined;
}
