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

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

export async function startFakeBotApi(onCall: CallListener): Promise<FakeBotApiServer> {
  const telegram = new FakeTelegram();
  let calls = 0;
  const prefix = `/bot${SCALE_TOKEN}/`;
  // Events rather than `for await` over the request, one JSON.parse and one JSON.stringify a call:
  // the load process shares the two cores with the bots, so its own cost is kept small.
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      if (!url.startsWith(prefix)) return reply(res, 404, '{"ok":false,"error_code":404,"description":"Not Found"}');
      const method = url.slice(prefix.length).split('?')[0]!;
      let payload: Record<string, unknown>;
      try {
        payload = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return reply(res, 400, '{"ok":false,"error_code":400,"description":"Bad Request: cannot parse JSON"}');
      }
      calls++;
      try {
        // The fake answers before the listener runs: a reply's message id exists once the family may press on it.
        const result = telegram.call(method, payload);
        onCall(method, payload);
        reply(res, 200, JSON.stringify({ ok: true, result }));
      } catch {
        if (!res.headersSent) res.writeHead(500).end(); // as before: a fault of the fake is a 500, not a crash of the load process
      }
    });
  };
  const server = createServer(handle);
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
