/**
 * The referral side of the bot driven in-process on a real Redis: the handoff
 * harness (operators' group, fake clock, captured log) with referrals
 * configured from a small directory file, drivers for workers (their private
 * chats are driven like a family's), and the notices' delivery polled by hand.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import { WorkingHours } from '../../src/handoff/hours.js';
import type { ReferralService } from '../../src/referral/service.js';
import type { Redis } from '../../src/store/redis.js';
import type { FamilyDriver } from '../helpers/bot-harness.js';
import { answerUntil, NO_CHILDREN } from '../helpers/family-dialog.js';
import { FakeClock, HandoffHarness, MONDAY_10_00 } from '../helpers/handoff-harness.js';

/** Not real people: Astana (two assessment workers, a psychologist, a supervisor) and Karaganda (one worker). */
export const DIRECTORY_YAML = `
example: true
organizations:
  - id: astana-social
    name: { kk: "Астана (тест)", ru: "Астана (тест)", en: "Astana (test)" }
    areas: [ { region: astana } ]
  - id: karaganda-social
    name: { kk: "Қарағанды (тест)", ru: "Караганда (тест)", en: "Karaganda (test)" }
    areas: [ { region: karaganda } ]
workers:
  - id: w-ast-1
    organization: astana-social
    role: worker
    profiles: [assessment, children_family]
    languages: [kk, ru]
    capacity: 5
  - id: w-ast-2
    organization: astana-social
    role: worker
    profiles: [assessment, children_family]
    languages: [kk, ru]
    capacity: 5
  - id: w-ast-psy
    organization: astana-social
    role: worker
    profiles: [psychologist, violence]
    languages: [kk, ru]
    capacity: 5
  - id: s-ast
    organization: astana-social
    role: supervisor
    languages: [kk, ru]
    capacity: 30
  - id: w-kar-1
    organization: karaganda-social
    role: worker
    profiles: [assessment, children_family]
    languages: [kk, ru]
    capacity: 5
`;

/** Telegram user ids of the workers in these tests. */
export const WORKER_USER = { 'w-ast-1': 8101, 'w-ast-2': 8102, 'w-ast-psy': 8103, 's-ast': 8104, 'w-kar-1': 8201 } as const;
export type WorkerId = keyof typeof WORKER_USER;

export function directoryFile(yaml = DIRECTORY_YAML): string {
  const dir = mkdtempSync(join(tmpdir(), 'qamqor-directory-'));
  const file = join(dir, 'directory.yaml');
  writeFileSync(file, yaml);
  return file;
}

export class ReferralBotHarness {
  readonly hh: HandoffHarness;
  readonly directoryPath: string;

  constructor(redis: Redis, prefix: string, opts: { clock?: FakeClock; ackMinutes?: number } = {}) {
    this.directoryPath = directoryFile();
    const clock = opts.clock ?? new FakeClock(MONDAY_10_00);
    this.hh = new HandoffHarness({
      redis,
      prefix,
      clock,
      referrals: { config: { ackMinutes: opts.ackMinutes ?? 60, hours: WorkingHours.parse('always') }, directory: this.directoryPath, now: clock.now, consumer: `test-${prefix}` },
    });
  }

  get telegram() {
    return this.hh.telegram;
  }

  get service(): ReferralService {
    return this.hh.h.deps.referrals!.service;
  }

  /** A worker's private chat, driven like a family's. */
  worker(id: WorkerId, languageCode = 'ru'): FamilyDriver {
    return this.hh.family(WORKER_USER[id], languageCode);
  }

  family(chatId: number, languageCode = 'ru'): FamilyDriver {
    return this.hh.family(chatId, languageCode);
  }

  /** Issues an invite for the worker and redeems it from their chat, as they would. */
  async link(id: WorkerId, languageCode = 'ru'): Promise<FamilyDriver> {
    const driver = this.worker(id, languageCode);
    const invite = await this.service.issueInvite(id);
    await driver.say(`/start w-${invite.code}`);
    return driver;
  }

  /** Delivers every notice waiting in the stream; returns the Bot API calls they made. */
  async deliver(): Promise<ApiCall[]> {
    this.telegram.take();
    const delivery = this.hh.h.deps.referrals!.delivery!;
    for (let i = 0; i < 20; i++) {
      const round = await delivery.poll();
      if (!round.delivered && !round.failed) break;
    }
    return this.telegram.take();
  }

  /** Locale keys this bot looked up that some language lacks (kk, ru, en): [] when every text it used exists. */
  missingKeys(): string[] {
    const tr = this.hh.h.deps.translator;
    return [...tr.usedKeys].filter((key) => (['kk', 'ru', 'en'] as const).some((lang) => !tr.has(lang, key)));
  }

  /** A family that answered the questions (no children; the region only if a link gave it) and sees the result. */
  async familyAtResult(chatId: number, languageCode = 'ru', start = '/start'): Promise<FamilyDriver> {
    const f = this.family(chatId, languageCode);
    await f.say(start);
    await f.press('cs');
    await answerUntil(f, NO_CHILDREN);
    await f.press('ok'); // the summary's "show the result"
    return f;
  }
}

/** The last text the bot sent (or edited into) a chat, with the buttons it carried. */
export function lastShown(calls: ApiCall[], chatId: number): { text: string; data: string[]; labels: string[]; method: string } | undefined {
  const call = [...calls].reverse().find((c) => (c.method === 'sendMessage' || c.method === 'editMessageText') && Number(c.payload.chat_id) === chatId);
  if (!call) return undefined;
  const rows = (call.payload.reply_markup as { inline_keyboard?: { text: string; callback_data: string }[][] } | undefined)?.inline_keyboard ?? [];
  return { text: String(call.payload.text), data: rows.flat().map((b) => b.callback_data), labels: rows.flat().map((b) => b.text), method: call.method };
}

/** Texts sent to a chat. */
export function textsTo(calls: ApiCall[], chatId: number): string[] {
  return calls.filter((c) => c.method === 'sendMessage' && Number(c.payload.chat_id) === chatId).map((c) => String(c.payload.text));
}

/** The press of a worker's card button on a given message (the card they received). */
export function pressOn(driver: FamilyDriver, data: string, messageId: number): Promise<ApiCall[]> {
  return driver.pressData(data, messageId);
}

/** The message id the bot's answer had (sendMessage result). */
export function messageIdOf(call: ApiCall | undefined): number {
  return (call?.result as { message_id?: number } | undefined)?.message_id ?? 0;
}
