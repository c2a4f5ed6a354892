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
 *
 * The emulator knows nothing of forum topics, copies, chat actions or pins, so
 * the front answers those itself (see FAKED): topics live in the front, and a
 * copy is delivered into the target chat (and topic) as the emulator stores a
 * bot's message, so the family and the operators read it like any other. An
 * operators' forum group (operatorsGroup()) has operators who write in topics
 * and press card buttons.
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
  /** What the bot sent (JSON or query parameters). */
  params: Record<string, unknown>;
}

/** Methods the emulator lacks, answered by the front itself. */
const FAKED = new Set([
  'createForumTopic',
  'editForumTopic',
  'closeForumTopic',
  'reopenForumTopic',
  'copyMessage',
  'sendChatAction',
  'deleteMessage',
  'deleteMessages',
  'pinChatMessage',
  'unpinChatMessage',
  'getChatMember',
]);

export interface ForumTopic {
  chatId: number;
  id: number;
  name: string;
  iconColor?: number;
  closed: boolean;
}

/** One copyMessage the front carried out: which message went where. */
export interface CopyRecord {
  token: string;
  fromChatId: number;
  messageId: number;
  chatId: number;
  threadId?: number;
  /** The copy's id in the target chat. */
  copyId: number;
  text: string;
}

/** A bot's message in a group as it stands now (after edits), with its topic. */
export interface GroupMessage extends BotMessage {
  threadId?: number;
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
  /** Forum supergroups per token: where topics can be created. */
  private readonly forums = new Map<string, Set<number>>();
  /** Forum topics the bots created, per token. */
  private readonly topicsByToken = new Map<string, ForumTopic[]>();
  /** Every copy carried out, in order. */
  readonly copies: CopyRecord[] = [];
  /** Messages the bots deleted: token, chat and id. */
  readonly deleted: { token: string; chatId: number; messageId: number }[] = [];
  /** Display names of the people in the chats, for getChatMember. */
  private readonly names = new Map<number, string>();

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

  /**
   * The operators' forum supergroup of the bot with this token: topics can be created in it, and its
   * members write and press buttons through the returned handle.
   */
  operatorsGroup(token: string, chatId: number, title = 'Operators'): OperatorsGroup {
    const forums = this.forums.get(token) ?? new Set<number>();
    forums.add(chatId);
    this.forums.set(token, forums);
    return new OperatorsGroup(this, token, chatId, title);
  }

  /** The forum topics this bot created in a chat, in order. */
  topics(token: string, chatId: number): ForumTopic[] {
    return (this.topicsByToken.get(token) ?? []).filter((t) => t.chatId === chatId);
  }

  /** The copies of one chat's messages, counted per source message id. */
  copyCounts(token: string, fromChatId: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const c of this.copies) if (c.token === token && c.fromChatId === fromChatId) out.set(c.messageId, (out.get(c.messageId) ?? 0) + 1);
    return out;
  }

  /** The bot's messages in a chat as they stand now (after its edits, without what it deleted), in order. */
  botMessagesIn(token: string, chatId: number): GroupMessage[] {
    return this.emulator.storage.botMessages
      .filter((m) => m.botToken === token && String(m.message.chat_id) === String(chatId))
      .map((m) => {
        const message = m.message as { text?: unknown; message_thread_id?: unknown; reply_markup?: unknown };
        const thread = Number(message.message_thread_id);
        return { id: m.messageId, text: String(message.text ?? ''), buttons: buttonsOf(message.reply_markup), ...(thread ? { threadId: thread } : {}) };
      });
  }

  /** The name a person shows in chats (getChatMember). */
  setName(userId: number, firstName: string): void {
    this.names.set(userId, firstName);
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
    const params = m ? parseParams(body, m[3]) : {};
    const delay = m ? (this.slow.get(decodeURIComponent(m[1]!))?.(m[2]!, params) ?? 0) : 0;
    if (delay > 0) await sleep(delay);
    if (m) {
      const token = decodeURIComponent(m[1]!);
      const local = FAKED.has(m[2]!) ? this.fake(token, m[2]!, params) : this.refuseMissingThread(token, m[2]!, params);
      if (local) {
        this.calls.push({ token, method: m[2]!, status: local.status, ok: local.body.ok === true, description: local.body.description as string | undefined, params });
        res.writeHead(local.status, { 'content-type': 'application/json' }).end(JSON.stringify(local.body));
        return;
      }
    }

    const answer = await fetch(`${this.emulatorUrl}${req.url}`, {
      method: req.method,
      headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(body),
    });
    const text = await answer.text();
    if (m) {
      const json = safeJson(text) as { ok?: boolean; description?: string; message?: string } | undefined;
      this.calls.push({ token: decodeURIComponent(m[1]!), method: m[2]!, status: answer.status, ok: json?.ok === true, description: json?.description ?? json?.message, params });
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
  }

  /** A method the emulator lacks, answered as Telegram would. */
  private fake(token: string, method: string, p: Record<string, unknown>): { status: number; body: Record<string, unknown> } {
    const ok = (result: unknown) => ({ status: 200, body: { ok: true, result } });
    const bad = (description: string) => ({ status: 400, body: { ok: false, error_code: 400, description: `Bad Request: ${description}` } });
    const chatId = Number(p.chat_id);
    const topics = this.topicsByToken.get(token) ?? [];
    this.topicsByToken.set(token, topics);
    const topic = () => topics.find((t) => t.chatId === chatId && t.id === Number(p.message_thread_id));
    switch (method) {
      case 'createForumTopic': {
        if (!this.forums.get(token)?.has(chatId)) return bad('the chat is not a forum');
        // A topic's id is the id of the service message that opened it: one of the chat's message ids.
        const id = (this.emulator as unknown as { messageId: number }).messageId++;
        const created: ForumTopic = { chatId, id, name: String(p.name ?? ''), closed: false, ...(p.icon_color !== undefined ? { iconColor: Number(p.icon_color) } : {}) };
        topics.push(created);
        return ok({ message_thread_id: id, name: created.name, icon_color: created.iconColor ?? 0x6fb9f0 });
      }
      case 'editForumTopic':
      case 'closeForumTopic':
      case 'reopenForumTopic': {
        const t = topic();
        if (!t) return bad('TOPIC_ID_INVALID');
        if (method === 'editForumTopic') {
          if (p.name !== undefined && String(p.name) === t.name && p.icon_custom_emoji_id === undefined) return bad('TOPIC_NOT_MODIFIED');
          if (p.name !== undefined) t.name = String(p.name);
        } else if ((method === 'closeForumTopic') === t.closed) return bad('TOPIC_NOT_MODIFIED');
        else t.closed = method === 'closeForumTopic';
        return ok(true);
      }
      case 'copyMessage': {
        const fromChatId = Number(p.from_chat_id);
        const messageId = Number(p.message_id);
        const source = this.findMessage(token, fromChatId, messageId);
        if (!source) return bad('message to copy not found');
        const thread = Number(p.message_thread_id) || undefined;
        if (thread !== undefined && this.forums.get(token)?.has(chatId) && !topic()) return bad('message thread not found');
        const sent = this.emulator.addBotMessage({ chat_id: chatId, text: source.text, ...(thread ? { message_thread_id: thread } : {}), ...(p.reply_markup ? { reply_markup: p.reply_markup } : {}) }, token);
        this.copies.push({ token, fromChatId, messageId, chatId, ...(thread ? { threadId: thread } : {}), copyId: sent.message_id, text: source.text });
        return ok({ message_id: sent.message_id });
      }
      case 'deleteMessage':
      case 'deleteMessages': {
        const ids = method === 'deleteMessage' ? [Number(p.message_id)] : (typeof p.message_ids === 'string' ? (JSON.parse(p.message_ids) as number[]) : ((p.message_ids as number[] | undefined) ?? []));
        const storage = this.emulator.storage;
        const mine = (m: StoredBotMessage) => m.botToken === token && String(m.message.chat_id) === String(chatId) && ids.includes(m.messageId);
        const found = storage.botMessages.filter(mine);
        if (method === 'deleteMessage' && found.length === 0) return bad('message to delete not found');
        storage.botMessages = storage.botMessages.filter((m) => !mine(m));
        for (const f of found) this.deleted.push({ token, chatId, messageId: f.messageId });
        return ok(true);
      }
      case 'sendChatAction':
      case 'pinChatMessage':
      case 'unpinChatMessage':
        return ok(true);
      case 'getChatMember': {
        const userId = Number(p.user_id);
        return ok({ status: 'member', user: { id: userId, is_bot: false, first_name: this.names.get(userId) ?? 'Test' } });
      }
      default:
        return bad(`method ${method} is not faked`);
    }
  }

  /** Telegram refuses a message into a forum topic that does not exist (the emulator would take it). */
  private refuseMissingThread(token: string, method: string, p: Record<string, unknown>): { status: number; body: Record<string, unknown> } | undefined {
    if (method !== 'sendMessage' || p.message_thread_id === undefined || !this.forums.get(token)?.has(Number(p.chat_id))) return undefined;
    const known = (this.topicsByToken.get(token) ?? []).some((t) => t.chatId === Number(p.chat_id) && t.id === Number(p.message_thread_id));
    return known ? undefined : { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: message thread not found' } };
  }

  /** A message in a chat, sent by a person (through the emulator) or by this bot: what a copy of it shows. */
  private findMessage(token: string, chatId: number, messageId: number): { text: string } | undefined {
    for (const u of this.emulator.storage.userMessages) {
      const message = (u as { message?: { chat?: { id?: number }; text?: unknown; caption?: unknown } }).message;
      if (u.botToken === token && u.messageId === messageId && message?.chat?.id === chatId) return { text: String(message.text ?? message.caption ?? '') };
    }
    for (const b of this.emulator.storage.botMessages) {
      if (b.botToken === token && b.messageId === messageId && String(b.message.chat_id) === String(chatId)) return { text: String((b.message as { text?: unknown }).text ?? '') };
    }
    return undefined;
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

  /** Types a message, does not wait for a reply, and returns the message's id in this chat. */
  async write(text: string): Promise<number> {
    await this.type(text);
    return sentMessageId(this.telegram, this.token, this.chatId, this.chatId, text);
  }

  /** Waits until the bot has sent this chat a message that `match` accepts; returns it. */
  async waitFor(match: (m: BotMessage) => boolean, what: string, timeoutMs = 15_000): Promise<BotMessage> {
    return until(async () => {
      await this.poll();
      return this.received.find(match);
    }, what, timeoutMs);
  }

  /** Shares a phone number with Telegram's contact button (their own, unless `userId` says whose it is); does not wait for a reply. */
  async shareContact(phone: string, userId = this.chatId): Promise<void> {
    const answer = await fetch(`${this.telegram.emulatorUrl}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        botToken: this.token,
        date: Math.floor(Date.now() / 1000),
        from: this.from,
        chat: { id: this.chatId, type: 'private', first_name: 'Test' },
        contact: { phone_number: phone, first_name: 'Test', user_id: userId },
      }),
    });
    if (!answer.ok) throw new Error(`the emulator refused the contact: ${answer.status}`);
    await answer.arrayBuffer();
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

  /**
   * Presses a button on one of the bot's messages here (by callback data suffix, label or pattern) and
   * waits until the bot answers the press, for buttons that edit a message rather than send a new one.
   * Returns the answer's text (the toast).
   */
  async tap(message: BotMessage, which: string | RegExp): Promise<string> {
    const button = message.buttons.find((b) => (typeof which === 'string' ? b.data.endsWith(`|${which}`) || b.data === which || b.text === which : which.test(b.text) || which.test(b.data)));
    if (!button) throw new Error(`no button ${String(which)} among: ${message.buttons.map((b) => `${b.text} (${b.data})`).join(', ')}`);
    const query = this.client.makeCallbackQuery(button.data, {
      from: this.from,
      message: { message_id: message.id, date: Math.floor(Date.now() / 1000), chat: { id: this.chatId, type: 'private' }, text: message.text },
    });
    await this.client.sendCallback(query as Parameters<TelegramClient['sendCallback']>[0]);
    const mine = (this.telegram.emulator.storage.userMessages as unknown as StoredUserUpdate[]).filter(
      (u) => u.botToken === this.token && u.callbackQuery?.from?.id === this.chatId && u.callbackQuery.data === button.data,
    );
    const queryId = String(mine.at(-1)!.callbackId);
    const answer = await until(
      () => this.telegram.callsOf(this.token, 'answerCallbackQuery').find((c) => String(c.params.callback_query_id) === queryId),
      `the bot's answer to “${button.text}” (${button.data})`,
    );
    return String(answer.params.text ?? '');
  }

  /** The bot's messages in this chat as they stand now (after its edits), in order. */
  messagesNow(): BotMessage[] {
    return this.telegram.botMessagesIn(this.token, this.chatId);
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

type StoredBotMessage = TelegramServer['storage']['botMessages'][number];

/** The inline buttons of a reply_markup (as the bot sent it: an object or a JSON string). */
function buttonsOf(markup: unknown): Button[] {
  const parsed = (typeof markup === 'string' ? safeJson(markup) : markup) as { inline_keyboard?: { text: string; callback_data?: string }[][] } | undefined;
  return (parsed?.inline_keyboard ?? []).flat().flatMap((b) => (b.callback_data ? [{ text: b.text, data: b.callback_data }] : []));
}

/** Waits (bounded) until `find` returns something, polling; the error says what was awaited. */
export async function until<T>(find: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found) return found;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_MS * 2);
  }
}

interface StoredUserUpdate {
  botToken: string;
  messageId: number;
  callbackId?: number;
  message?: { chat?: { id?: number }; from?: { id?: number }; text?: unknown };
  callbackQuery?: { from?: { id?: number }; data?: string };
}

/** The id the emulator gave the newest message a person sent to a chat with this text (it does not say when it takes one). */
function sentMessageId(telegram: FakeTelegram, token: string, chatId: number, userId: number, text: string): number {
  const sent = (telegram.emulator.storage.userMessages as unknown as StoredUserUpdate[]).filter(
    (u) => u.botToken === token && u.message?.chat?.id === chatId && u.message.from?.id === userId && u.message.text === text,
  );
  const last = sent.at(-1);
  if (!last) throw new Error(`the emulator did not keep the message “${text}”`);
  return last.messageId;
}

/**
 * The operators' forum supergroup, as its members see it: the topics the bot
 * opened, the bot's messages in each (as they stand after edits), and members
 * who write and press buttons.
 */
export class OperatorsGroup {
  constructor(
    readonly telegram: FakeTelegram,
    readonly token: string,
    readonly chatId: number,
    readonly title: string,
  ) {}

  get chat() {
    return { id: this.chatId, type: 'supergroup' as const, title: this.title, is_forum: true as const };
  }

  /** Someone in the group (an operator, an admin, or a stranger). */
  member(userId: number, firstName = 'Operator'): GroupMember {
    this.telegram.setName(userId, firstName);
    return new GroupMember(this, userId, firstName);
  }

  topics(): ForumTopic[] {
    return this.telegram.topics(this.token, this.chatId);
  }

  /** The bot's messages in the group now, in every topic and outside them. */
  messages(): GroupMessage[] {
    return this.telegram.botMessagesIn(this.token, this.chatId);
  }

  /** The bot's messages in one topic now, in order. */
  inTopic(threadId: number): GroupMessage[] {
    return this.messages().filter((m) => m.threadId === threadId);
  }

  /** Copies of the chat's messages that reached this topic, in order. */
  copiesInTopic(threadId: number): CopyRecord[] {
    return this.telegram.copies.filter((c) => c.token === this.token && c.chatId === this.chatId && c.threadId === threadId);
  }

  /** A message of the bot in the group, found again by id (its text and buttons as they are now). */
  message(id: number): GroupMessage | undefined {
    return this.messages().find((m) => m.id === id);
  }
}

/** A person in the operators' group. */
export class GroupMember {
  constructor(
    readonly group: OperatorsGroup,
    readonly userId: number,
    readonly firstName: string,
  ) {}

  private get from() {
    return { id: this.userId, is_bot: false, first_name: this.firstName, language_code: 'ru' };
  }

  private async post(route: string, body: Record<string, unknown>): Promise<void> {
    const answer = await fetch(`${this.group.telegram.emulatorUrl}/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ botToken: this.group.token, date: Math.floor(Date.now() / 1000), ...body }),
    });
    if (!answer.ok) throw new Error(`the emulator refused ${route}: ${answer.status}`);
    await answer.arrayBuffer();
  }

  /** Writes in a topic (or the general chat) and returns the message's id. */
  async write(text: string, threadId?: number): Promise<number> {
    const command = text.startsWith('/');
    const entityLength = command ? (text.indexOf(' ') > 0 ? text.indexOf(' ') : text.length) : 0;
    await this.post(command ? 'sendCommand' : 'sendMessage', {
      from: this.from,
      chat: this.group.chat,
      text,
      ...(command ? { entities: [{ offset: 0, length: entityLength, type: 'bot_command' }] } : {}),
      ...(threadId ? { message_thread_id: threadId, is_topic_message: true } : {}),
    });
    return sentMessageId(this.group.telegram, this.group.token, this.group.chatId, this.userId, text);
  }

  /**
   * Presses a button of one of the bot's messages in the group (by callback data suffix, label or
   * pattern) and waits until the bot answers the press; returns the answer's text (the toast).
   */
  async press(message: GroupMessage, which: string | RegExp): Promise<string> {
    const button = message.buttons.find((b) => (typeof which === 'string' ? b.data.endsWith(`|${which}`) || b.data === which || b.text === which : which.test(b.text) || which.test(b.data)));
    if (!button) throw new Error(`no button ${String(which)} among: ${message.buttons.map((b) => `${b.text} (${b.data})`).join(', ')}`);
    await this.post('sendCallback', {
      from: this.from,
      data: button.data,
      message: {
        message_id: message.id,
        date: Math.floor(Date.now() / 1000),
        chat: this.group.chat,
        text: message.text,
        ...(message.threadId ? { message_thread_id: message.threadId, is_topic_message: true } : {}),
      },
    });
    const mine = (this.group.telegram.emulator.storage.userMessages as unknown as StoredUserUpdate[]).filter(
      (u) => u.botToken === this.group.token && u.callbackQuery?.from?.id === this.userId && u.callbackQuery.data === button.data,
    );
    const queryId = String(mine.at(-1)!.callbackId);
    const answer = await until(
      () => this.group.telegram.callsOf(this.group.token, 'answerCallbackQuery').find((c) => String(c.params.callback_query_id) === queryId),
      `the bot's answer to “${button.text}” (${button.data})`,
    );
    return String(answer.params.text ?? '');
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
