/**
 * The hotline handoff driven in-process: the real bot with an operators' forum
 * group configured, a fake clock for SLA and opening timers, a captured log,
 * and drivers for operators (card buttons, topic messages, commands).
 * Memory store by default; pass a Redis client (and a prefix) for the Redis
 * stores, and build a second harness on the same prefix for "after a restart".
 */
import type { Update } from 'grammy/types';
import { createDeps, type ReferralOptions } from '../../src/app.js';
import { FAKE_BOT_INFO, type ApiCall } from '../../src/bot/in-process-api.js';
import { WorkingHours } from '../../src/handoff/hours.js';
import { MemoryHandoffStore } from '../../src/handoff/memory-store.js';
import type { HandoffService } from '../../src/handoff/service.js';
import type { HandoffStore } from '../../src/handoff/store.js';
import type { CaseRecord } from '../../src/handoff/types.js';
import { createLogger } from '../../src/log.js';
import type { Redis } from '../../src/store/redis.js';
import { BotHarness, type FamilyDriver } from './bot-harness.js';

export const GROUP = -1001234567890;
export const GROUP_CHAT = { id: GROUP, type: 'supergroup' as const, title: 'Operators', is_forum: true as const };
export const OPERATOR = 7001;
export const OTHER = 7002;
export const SUPERVISOR = 7100;
export const ADMIN = 7200;
export const STRANGER = 424242;
export const LOG_SALT = 'test-salt';

/** Monday 16 Nov 2026, 10:00 in Almaty (UTC+5): the line is open on weekdays. */
export const MONDAY_10_00 = Date.UTC(2026, 10, 16, 5, 0);
/** Sunday 15 Nov 2026, 03:00 in Almaty: out of weekday hours. */
export const SUNDAY_03_00 = Date.UTC(2026, 10, 14, 22, 0);
/** Monday 16 Nov 2026, 09:00 in Almaty: the weekday line opens. */
export const MONDAY_09_00 = Date.UTC(2026, 10, 16, 4, 0);
export const MINUTE = 60_000;

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(public at: number) {}
  readonly now = () => this.at;
  advance(ms: number): void {
    this.at += ms;
  }
}

export interface HandoffHarnessOptions {
  redis?: Redis;
  prefix?: string;
  clock?: FakeClock;
  hours?: string;
  showOperatorName?: boolean;
  operatorIds?: number[];
  supervisorIds?: number[];
  adminIds?: number[];
  firstResponseMinutes?: number;
  nextResponseMinutes?: number;
  /** Referrals to social workers (tests/referral/bot-*.test.ts). */
  referrals?: ReferralOptions;
}

/** Every log line, parsed (pino JSON). */
export type LogLine = Record<string, unknown> & { msg?: string };

let nextUpdateId = 900_000;
let nextGroupMessageId = 50_000;

export class HandoffHarness {
  readonly h: BotHarness;
  readonly clock: FakeClock;
  readonly logLines: string[] = [];

  constructor(opts: HandoffHarnessOptions = {}) {
    this.clock = opts.clock ?? new FakeClock(MONDAY_10_00);
    const log = createLogger('info', { write: (line: string) => void this.logLines.push(line) });
    const deps = createDeps({
      redis: opts.redis,
      prefix: opts.prefix ?? 'test:',
      dialogTtlDays: 30,
      log,
      logSalt: LOG_SALT,
      today: () => '2026-11-16',
      referrals: opts.referrals,
      handoff: {
        config: {
          groupId: GROUP,
          operatorIds: opts.operatorIds ?? [OPERATOR, OTHER],
          supervisorIds: opts.supervisorIds ?? [SUPERVISOR],
          hours: WorkingHours.parse(opts.hours ?? 'always'),
          firstResponseMinutes: opts.firstResponseMinutes ?? 15,
          nextResponseMinutes: opts.nextResponseMinutes ?? 30,
          showOperatorName: opts.showOperatorName ?? false,
          staffLang: 'en',
        },
        minutesPerCase: 10,
        adminIds: opts.adminIds ?? [ADMIN],
        // Without Redis, a memory store on the same fake clock.
        store: opts.redis ? undefined : new MemoryHandoffStore({ now: this.clock.now }),
        now: this.clock.now,
      },
    });
    this.h = new BotHarness({ deps });
  }

  get telegram() {
    return this.h.telegram;
  }

  get service(): HandoffService {
    return this.h.deps.handoff!.service;
  }

  /** The store the service was built on: tests look at and arrange the records directly. */
  get store(): HandoffStore {
    return this.h.deps.handoffSetup!.store;
  }

  get logs(): LogLine[] {
    return this.logLines.map((l) => JSON.parse(l) as LogLine);
  }

  family(chatId: number, languageCode = 'ru'): FamilyDriver {
    return this.h.family(chatId, languageCode);
  }

  operator(id: number, firstName = 'Op'): OperatorDriver {
    return new OperatorDriver(this, id, firstName);
  }

  /** A family asks for a person and answers the share question; returns their case. */
  async open(family: FamilyDriver, share = true): Promise<CaseRecord> {
    await family.pressData(share ? 'hs|1' : 'hs|0');
    const rec = await this.store.openCaseOf(family.chatId);
    if (!rec) throw new Error(`no case opened for ${family.chatId}: ${family.lastText}`);
    return rec;
  }

  async get(caseId: string): Promise<CaseRecord> {
    const rec = await this.store.get(caseId);
    if (!rec) throw new Error(`no case ${caseId}`);
    return rec;
  }

  /** Delivers an update with a chosen update id (Telegram redelivering the same update). */
  async deliver(update: Omit<Update, 'update_id'>, updateId = nextUpdateId++): Promise<ApiCall[]> {
    this.telegram.take();
    await this.h.bot.handleUpdate({ update_id: updateId, ...update } as Update);
    return this.telegram.take();
  }

  newUpdateId(): number {
    return nextUpdateId++;
  }
}

export class OperatorDriver {
  constructor(
    readonly harness: HandoffHarness,
    readonly id: number,
    readonly firstName: string,
  ) {}

  get user() {
    return { id: this.id, is_bot: false, first_name: this.firstName };
  }

  /** Presses a card button `h|<caseId>|<action>` on the case's card. */
  async press(rec: CaseRecord, action: string): Promise<ApiCall[]> {
    const fresh = (await this.harness.store.get(rec.id)) ?? rec;
    return this.harness.deliver({
      callback_query: {
        id: String(Math.random()),
        from: this.user,
        chat_instance: 'ops',
        data: `h|${rec.id}|${action}`,
        message: { message_id: fresh.cardMessageId ?? 1, date: 0, chat: GROUP_CHAT, text: '', message_thread_id: fresh.topicId, is_topic_message: true },
      },
    } as never);
  }

  /** Writes in a forum topic (undefined: the General topic). */
  async write(topicId: number | undefined, text: string, extra: Record<string, unknown> = {}, updateId?: number): Promise<ApiCall[]> {
    const message = {
      message_id: nextGroupMessageId++,
      date: 0,
      chat: GROUP_CHAT,
      from: this.user,
      text,
      ...(topicId ? { message_thread_id: topicId, is_topic_message: true } : {}),
      ...extra,
    };
    return this.harness.deliver({ message } as never, updateId);
  }

  /** A command in the operators' group, e.g. "/queue" or "/grant operator 7003". */
  async command(text: string, topicId?: number): Promise<ApiCall[]> {
    const length = text.split(/\s/)[0]!.length;
    return this.write(topicId, text, { entities: [{ type: 'bot_command', offset: 0, length }] });
  }

  /** Replies to the bot's note prompt for a case. */
  async replyToNotePrompt(prompt: ApiCall, text: string): Promise<ApiCall[]> {
    const promptMessage = {
      message_id: (prompt.result as { message_id: number }).message_id,
      date: 0,
      chat: GROUP_CHAT,
      from: { id: FAKE_BOT_INFO.id, is_bot: true, first_name: FAKE_BOT_INFO.first_name },
      text: String(prompt.payload.text),
    };
    return this.write(prompt.payload.message_thread_id as number | undefined, text, { reply_to_message: promptMessage });
  }
}

/** The text answerCallbackQuery showed, if any. */
export function answered(calls: ApiCall[]): string | undefined {
  return calls.find((c) => c.method === 'answerCallbackQuery')?.payload.text as string | undefined;
}

/** Messages the bot sent to a chat (sendMessage), as texts. */
export function sentTo(calls: ApiCall[], chatId: number): string[] {
  return calls.filter((c) => c.method === 'sendMessage' && Number(c.payload.chat_id) === chatId).map((c) => String(c.payload.text));
}

/** Calls that put anything in front of a chat: messages, copies, media. */
export function reaching(calls: ApiCall[], chatId: number): ApiCall[] {
  return calls.filter((c) => ['sendMessage', 'copyMessage', 'forwardMessage', 'sendPhoto', 'sendDocument'].includes(c.method) && Number(c.payload.chat_id) === chatId);
}

export function copies(calls: ApiCall[], to: number): ApiCall[] {
  return calls.filter((c) => c.method === 'copyMessage' && Number(c.payload.chat_id) === to);
}
