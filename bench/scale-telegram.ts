/**
 * The Bot API for `bench/scale.ts`, over real HTTP on loopback: the bot processes
 * reach it through TELEGRAM_API_ROOT. Answers come from the in-process fake
 * (`fake-telegram.ts`), so buttons, message ids and each chat's last keyboard
 * behave as in `npm run bench`; every call is also handed to `onCall`, which is
 * how the load process sees a reply arrive.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeTelegram } from './fake-telegram.js';

export const SCALE_TOKEN = '123456789:AAEbenchscalebenchscalebenchscale01';

export type CallListener = (method: string, payload: Record<string, unknown>) => void;

export interface FakeBotApiServer {
  apiRoot: string;
  telegram: FakeTelegram;
  /** Calls answered, all methods. */
  readonly calls: number;
  stop(): Promise<void>;
}

export async function startFakeBotApi(onCall: CallListener): Promise<FakeBotApiServer> {
  const telegram = new FakeTelegram();
  let calls = 0;
  const prefix = `/bot${SCALE_TOKEN}/`;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = req.url ?? '/';
    if (!url.startsWith(prefix)) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error_code":404,"description":"Not Found"}');
    const body = Buffer.concat(chunks).toString('utf8');
    const method = url.slice(prefix.length).split('?')[0]!;
    let payload: Record<string, unknown> = {};
    try {
      payload = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"ok":false,"error_code":400,"description":"Bad Request: cannot parse JSON"}');
    }
    calls++;
    // The fake answers before the listener runs: a reply's message id exists once the family may press on it.
    const answer = await (await telegram.fetch(`http://fake${url}`, { method: 'POST', body: body || '{}' })).json();
    onCall(method, payload);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  };
  const server = createServer((req, res) => void handle(req, res).catch(() => res.writeHead(500).end()));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    telegram,
    get calls() {
      return calls;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
