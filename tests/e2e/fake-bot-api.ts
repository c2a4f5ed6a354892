/**
 * A Bot API on loopback for process tests in webhook mode: answers what the bot
 * calls on /start (getMe, setWebhook, sendMessage…) and records every call when
 * it arrives, so a call the bot made just before it was killed still counts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freeLoopbackPort } from '../helpers/fake-telegram.js';

const HOST = '127.0.0.1';
export const FAKE_TOKEN = '123456789:AAEabcdefghijklmnopqrstuvwxyz012345';

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
}

export class LoopbackBotApi {
  readonly calls: RecordedCall[] = [];
  private nextMessageId = 1;

  private constructor(
    private readonly server: Server,
    readonly apiRoot: string,
  ) {}

  static async start(): Promise<LoopbackBotApi> {
    const port = await freeLoopbackPort();
    let api: LoopbackBotApi | undefined;
    const server = createServer((req, res) => void api!.handle(req, res));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, HOST, resolve));
    api = new LoopbackBotApi(server, `http://${HOST}:${port}`);
    return api;
  }

  /** sendMessage calls per chat id. */
  messagesTo(chatId: number): RecordedCall[] {
    return this.calls.filter((c) => c.method === 'sendMessage' && Number(c.params.chat_id) === chatId);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', this.apiRoot).pathname);
    const send = (status: number, payload: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    if (!match || match[1] !== FAKE_TOKEN) return void send(404, { ok: false, error_code: 404, description: 'Not Found' });
    const method = match[2]!;
    const params = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    this.calls.push({ method, params });
    switch (method) {
      case 'getMe':
        return void send(200, { ok: true, result: { id: 123456789, is_bot: true, first_name: 'Qamqor', username: 'qamqor_test_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
      case 'sendMessage':
        return void send(200, {
          ok: true,
          result: { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: params.chat_id, type: 'private', first_name: 'F' }, text: params.text },
        });
      default:
        return void send(200, { ok: true, result: true });
    }
  }
}

/** A /start from a Russian-speaking family, as Telegram posts it. */
export function startUpdate(updateId: number, chatId: number): Record<string, unknown> {
  return {
    update_id: updateId,
    message: {
      message_id: 1,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private', first_name: 'Айгуль' },
      from: { id: chatId, is_bot: false, first_name: 'Айгуль', language_code: 'ru' },
      text: '/start',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    },
  };
}
