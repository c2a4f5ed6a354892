/**
 * Telegram for end-to-end tests: the telegram-test-api emulator on a loopback
 * port, a thin Bot API front in front of it, and a family's side of a chat.
 *
 * The front exists because the emulator's getUpdates differs from Telegram's
 * in two ways that matter here: it answers at once (grammY would spin in a
 * tight loop), and it ignores `offset` (an update handed to a bot that is then
 * killed is lost, where Telegram would hand it out again). The front keeps
 * fetched updates until the bot confirms them with a higher offset, and holds
 * an empty getUpdates open for a while like long polling does. Every other
 * method goes to the emulator unchanged; the front records what it answered.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TelegramClient } from 'telegram-test-api/lib/modules/telegramClient.js';
import { TelegramServer } from 'telegram-test-api/lib/telegramServer.js';

const HOST = '127.0.0.1';
/** Longest a getUpdates is held open; grammY asks for 30 s, a short hold keeps shutdowns quick. */
const MAX_HOLD_MS = 5_000;
const POLL_MS = 15;

export interface ApiCallRecord {
  token: string;
  method: string;
  status: number;
  ok: boolean;
  description?: string;
}

interface Update {
  update_id: number;
  [key: string]: unknown;
}

export interface Button {
  text: string;
  data: string;
}

export interface BotMessage {
  id: number;
  text: string;
  buttons: Button[];
}

export class FakeTelegram {
  /** Bot API calls other than getUpdates, in order, with the emulator's answer. */
  readonly calls: ApiCallRecord[] = [];
  /** Tokens whose getUpdates Telegram refuses with 409 Conflict, as when another instance polls with the same token. */
  private readonly conflicted = new Set<string>();
  /** Updates fetched from the emulator and not yet confirmed by the bot, per token. */
  private readonly unconfirmed = new Map<string, Update[]>();
  /** Tokens whose new updates are held back, so that the next getUpdates hands them out in one batch. */
  private readonly held = new Set<string>();
  /** Per token: how many ms to take before passing a call on to the emulator (a slow Telegram). */
  private readonly slow = new Map<string, (method: string, params: Record<string, unknown>) => number>();

  private constructor(
    readonly emulator: TelegramServer,
    /** The emulator itself: its client routes (/sendMessage, /getUpdates…) are the family's side. */
    readonly emulatorUrl: string,
    private readonly front: Server,
    /** What the bot is given as TELEGRAM_API_ROOT. */
    readonly apiRoot: string,
  ) {}

  static async start(): Promise<FakeTelegram> {
    const emulator = await startEmulator();
    const emulatorUrl = emulator.config.apiURL;
    let fake: FakeTelegram | undefined;
    const front = createServer((req, res) => {
      fake!.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error_code: 502, description: `fake telegram front: ${error.message}` }));
      });
    });
    await new Promise<void>((resolve, reject) => front.once('error', reject).listen(0, HOST, resolve));
    const address = front.address();
    if (address === null || typeof address === 'string') throw new Error('fake telegram front has no port');
    fake = new FakeTelegram(emulator, emulatorUrl, front, `http://${HOST}:${address.port}`);
    return fake;
  }

  async stop(): Promise<void> {
    this.front.closeAllConnections();
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
    await this.emulator.stop();
  }

  /** What the emulator answered to this bot's calls of one method. */
  callsOf(token: string, method: string): ApiCallRecord[] {
    return this.calls.filter((c) => c.token === token && c.method === method);
  }

  /** A fresh bot token: the emulator keeps each token's messages apart. */
  newToken(): string {
    return `${randomInt(100_000_000, 999_999_999)}:${randomBytes(27).toString('base64url')}`;
  }

  /** A family member writing to the bot with this token from a private chat. */
  family(token: string, chatId: number, languageCode: string): FamilyChat {
    return new FamilyChat(this, token, chatId, languageCode);
  }

  /** From now on, getUpdates for this token answers 409 Conflict (another instance is polling), like Telegram. */
  conflict(token: string): void {
    this.conflicted.add(token);
  }

  /**
   * Holds back this token's new updates until release(): what the family sends meanwhile reaches the
   * bot in one getUpdates batch, as it does when the bot is busy. Telegram confirms a batch only with
   * the next getUpdates, so a bot killed in the middle of one gets all of it again.
   */
  hold(token: string): void {
    this.held.add(token);
  }

  release(token: string): void {
    this.held.delete(token);
  }

  /**
   * Makes Telegram slow for this token: `delay` says how many ms a call takes before it is carried out.
   * A call the bot made is carried out even if the bot dies while waiting for the answer.
   */
  slowDown(token: string, delay: ((method: string, params: Record<string, unknown>) => number) | undefined): void {
    if (delay) this.slow.set(token, delay);
    else this.slow.delete(token);
  }

  /** Updates handed to the bot and not yet confirmed: what a restarted bot gets again. */
  unconfirmedCount(token: string): number {
    return (this.unconfirmed.get(token) ?? []).length;
  }

  /** Updates the family sent that the bot has not fetched yet. */
  unreadCount(token: string): number {
    return this.emulator.storage.userMessages.filter((u) => u.botToken === token && !u.isRead).length;
  }

  /** Resolves once the bot has confirmed (by a later getUpdates offset) every update sent to it. */
  async waitAllConfirmed(token: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const waiting = this.emulator.storage.userMessages.some((u) => u.botToken === token && !u.isRead);
      if (!waiting && (this.unconfirmed.get(token) ?? []).length === 0) return;
      await sleep(POLL_MS);
    }
    throw new Error('the bot did not confirm all its updates in time');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const m = /^\/bot([^/]+)\/([A-Za-z]+)(\?.*)?$/.exec(req.url ?? '');
    if (m && m[2] === 'getUpdates') return this.getUpdates(decodeURIComponent(m[1]!), parseParams(body, m[3]), res);
    const delay = m ? (this.slow.get(decodeURIComponent(m[1]!))?.(m[2]!, parseParams(body, m[3])) ?? 0) : 0;
    if (delay > 0) await sleep(delay);

    const answer = await fetch(`${this.emulatorUrl}${req.url}`, {
      method: req.method,
      headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(body),
    });
    const text = await answer.text();
    if (m) {
      const json = safeJson(text) as { ok?: boolean; description?: string; message?: string } | undefined;
      this.calls.push({ token: decodeURIComponent(m[1]!), method: m[2]!, status: answer.status, ok: json?.ok === true, description: json?.description ?? json?.message });
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
  }

  /** Telegram's getUpdates: updates with update_id ≥ offset, kept until confirmed, held open while there are none. */
  private async getUpdates(token: string, params: Record<string, unknown>, res: ServerResponse): Promise<void> {
    if (this.conflicted.has(token)) {
      const description = 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error_code: 409, description }));
      return;
    }
    let gone = false;
    res.once('close', () => {
      if (!res.writableFinished) gone = true;
    });
    const offset = Number(params.offset ?? 0) || 0;
    const limit = Math.min(Number(params.limit ?? 100) || 100, 100);
    const holdMs = Math.min((Number(params.timeout ?? 0) || 0) * 1000, MAX_HOLD_MS);
    const deadline = Date.now() + holdMs;
    const keep = (this.unconfirmed.get(token) ?? []).filter((u) => u.update_id >= offset);
    this.unconfirmed.set(token, keep);
    for (;;) {
      // Fetched updates go straight into the kept list: a bot that dies mid-request loses nothing.
      const fresh = this.held.has(token) ? [] : await this.pullFromEmulator(token);
      const kept = this.unconfirmed.get(token)!;
      for (const u of fresh) if (!kept.some((k) => k.update_id === u.update_id)) kept.push(u);
      if (gone) return;
      if (kept.length > 0 || Date.now() >= deadline) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: kept.slice(0, limit) }));
        return;
      }
      await sleep(POLL_MS);
    }
  }

  private async pullFromEmulator(token: string): Promise<Update[]> {
    const answer = await fetch(`${this.emulatorUrl}/bot${token}/getUpdates`, { method: 'POST' });
    const json = (await answer.json()) as { ok: boolean; result?: Update[] };
    return json.ok && json.result ? json.result : [];
  }
}

/** One private chat, seen from the family's phone. */
export class FamilyChat {
  /** Every message the bot sent to this chat, in order. */
  readonly received: BotMessage[] = [];
  private readonly client: TelegramClient;

  constructor(
    private readonly telegram: FakeTelegram,
    readonly token: string,
    readonly chatId: number,
    readonly languageCode: string,
  ) {
    this.client = new TelegramClient(telegram.emulatorUrl, token, { userId: chatId, chatId, firstName: 'Test' });
  }

  private get from() {
    return { id: this.chatId, is_bot: false, first_name: 'Test', language_code: this.languageCode };
  }

  /** The buttons of the last message that had any. */
  get buttons(): Button[] {
    return this.lastWithButtons?.buttons ?? [];
  }

  get lastWithButtons(): BotMessage | undefined {
    for (let i = this.received.length - 1; i >= 0; i--) if (this.received[i]!.buttons.length > 0) return this.received[i];
    return undefined;
  }

  /** Types a message (a /command gets its entity) and waits for the bot's next screen. */
  async say(text: string): Promise<Screen> {
    const mark = this.received.length;
    await this.type(text);
    return this.nextScreen(mark, `reply to “${text}”`);
  }

  /** Types a message and does not wait for a reply. */
  async type(text: string): Promise<void> {
    if (text.startsWith('/')) await this.client.sendCommand(this.client.makeCommand(text, { from: this.from }));
    else await this.client.sendMessage(this.client.makeMessage(text, { from: this.from }));
  }

  /** Presses a button of the last keyboard (by callback data suffix, label, or the button itself) and waits for the next screen. */
  async press(which: string | RegExp | Button): Promise<Screen> {
    const message = this.lastWithButtons;
    const button =
      typeof which === 'object' && 'data' in which
        ? which
        : this.buttons.find((b) => (typeof which === 'string' ? b.data.endsWith(`|${which}`) || b.text === which : which.test(b.text) || which.test(b.data)));
    if (!message || !button) throw new Error(`no button ${String(which)} among: ${this.buttons.map((b) => `${b.text} (${b.data})`).join(', ')}`);
    return this.pressOn(message, button);
  }

  /** Presses a button on a given (possibly old) message. */
  async pressOn(message: BotMessage, button: Button): Promise<Screen> {
    const mark = this.received.length;
    const query = this.client.makeCallbackQuery(button.data, {
      from: this.from,
      message: { message_id: message.id, date: Math.floor(Date.now() / 1000), chat: { id: this.chatId, type: 'private' }, text: message.text },
    });
    await this.client.sendCallback(query as Parameters<TelegramClient['sendCallback']>[0]);
    return this.nextScreen(mark, `reply to button “${button.text}”`);
  }

  /** Waits for new messages up to and including the first one with buttons: what the family sees after one action. */
  async nextScreen(mark: number, what: string, timeoutMs = 15_000): Promise<Screen> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.received.slice(mark).findIndex((m) => m.buttons.length > 0);
      if (at >= 0) {
        const messages = this.received.slice(mark, mark + at + 1);
        return { messages, text: messages.map((m) => m.text).join('\n\n'), last: messages.at(-1)! };
      }
      if (Date.now() >= deadline) {
        const got = this.received.slice(mark).map((m) => m.text.slice(0, 80));
        throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(got)}`);
      }
      await this.poll();
      await sleep(POLL_MS);
    }
  }

  /** Reads what the bot sent to this chat since the last read. */
  async poll(): Promise<void> {
    const answer = await fetch(`${this.telegram.emulatorUrl}/getUpdates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: this.token, chatId: this.chatId }),
    });
    const json = (await answer.json()) as { result?: { messageId: number; message: { text?: string; reply_markup?: { inline_keyboard?: { text: string; callback_data?: string }[][] } } }[] };
    for (const r of json.result ?? []) {
      const rows = r.message.reply_markup?.inline_keyboard ?? [];
      this.received.push({
        id: r.messageId,
        text: String(r.message.text ?? ''),
        buttons: rows.flat().flatMap((b) => (b.callback_data ? [{ text: b.text, data: b.callback_data }] : [])),
      });
    }
  }

  /** The keyboard each of the bot's messages in this chat has now, after the bot's edits. */
  currentKeyboards(): Map<number, number> {
    const out = new Map<number, number>();
    for (const m of this.telegram.emulator.storage.botMessages) {
      if (m.botToken !== this.token || String(m.message.chat_id) !== String(this.chatId)) continue;
      const markup = m.message.reply_markup as { inline_keyboard?: unknown[][] } | undefined;
      out.set(m.messageId, markup?.inline_keyboard?.flat().length ?? 0);
    }
    return out;
  }
}

export interface Screen {
  /** The messages of this screen, the last one carrying the buttons. */
  messages: BotMessage[];
  text: string;
  last: BotMessage;
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

async function startEmulator(): Promise<TelegramServer> {
  // The emulator takes a port number (0 means its default, 9000): probe a free one, retry if it was taken meanwhile.
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const emulator = new TelegramServer({ port: await freeLoopbackPort(), host: HOST, storeTimeout: 600 });
    try {
      await emulator.start();
      return emulator;
    } catch (error) {
      last = error;
    }
  }
  throw new Error(`telegram-test-api did not start: ${String(last)}`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function parseParams(body: Buffer, query: string | undefined): Record<string, unknown> {
  const fromQuery = Object.fromEntries(new URLSearchParams(query?.slice(1) ?? ''));
  const json = body.length ? safeJson(body.toString()) : undefined;
  return { ...fromQuery, ...(json && typeof json === 'object' ? json : {}) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
