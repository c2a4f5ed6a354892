/**
 * Helpers for the family's dialog tests: what the family sees (texts, buttons)
 * and what the bot stores (the dialog snapshot), read through the real services.
 */
import { expect } from 'vitest';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import type { Lang } from '../../src/engine/types.js';
import type { BotHarness, FamilyDriver } from './bot-harness.js';

/** The bot's text for a key, in one language, exactly as the family would see it. */
export function text(h: BotHarness, lang: Lang, key: string, vars?: Record<string, string | number>): string {
  return h.deps.translator.t(lang, key, vars);
}

/** The chat's dialog as stored (restored by the host, not changed). */
export async function dialogOf(h: BotHarness, chatId: number) {
  const step = await h.deps.host.current(String(chatId));
  return step.snapshot;
}

export async function factsOf(h: BotHarness, chatId: number) {
  return (await dialogOf(h, chatId)).context.facts;
}

export async function currentFact(h: BotHarness, chatId: number): Promise<string | null> {
  return (await dialogOf(h, chatId)).context.current;
}

/** Texts of the messages these calls sent, in order. */
export function sentTexts(calls: ApiCall[]): string[] {
  return calls.filter((c) => c.method === 'sendMessage').map((c) => String(c.payload.text));
}

/** Callback data of every button these calls sent. */
export function sentButtons(calls: ApiCall[]): string[] {
  return calls
    .filter((c) => c.method === 'sendMessage')
    .flatMap((c) => ((c.payload.reply_markup as { inline_keyboard?: { callback_data: string }[][] } | undefined)?.inline_keyboard ?? []).flat())
    .map((b) => b.callback_data);
}

/** The short text of an answerCallbackQuery among these calls ('' when the press was answered silently). */
export function popup(calls: ApiCall[]): string | undefined {
  const answer = calls.find((c) => c.method === 'answerCallbackQuery');
  return answer ? String(answer.payload.text ?? '') : undefined;
}

export const EMERGENCY_NUMBERS = ['102', '103', '112'];

/** The safety net line that ends every reply to something the bot did not expect. */
export function netLine(h: BotHarness, lang: Lang): string {
  return h.deps.renderer.netLine(h.deps.translator.bind(lang));
}

/**
 * A reply to something unexpected: one message that starts with the kind word,
 * shows the current screen again, and ends with the numbers (112 · 111 · 150);
 * its keyboard ends with "talk to a person" and "I am not safe".
 */
export function expectSafetyNet(h: BotHarness, lang: Lang, calls: ApiCall[], note: string, screenPart?: string): void {
  const texts = sentTexts(calls);
  expect(texts, 'one message').toHaveLength(1);
  expect(texts[0]!.startsWith(note), `starts with ${note}`).toBe(true);
  if (screenPart) expect(texts[0]).toContain(screenPart);
  expect(texts[0]!.endsWith(netLine(h, lang)), 'ends with the safety net line').toBe(true);
  for (const n of ['112', '111', '150']) expect(netLine(h, lang)).toContain(n);
  expect(sentButtons(calls).slice(-2).map((d) => d.split('|')[1])).toEqual(['tk', 'dg']);
}

export function expectEmergencyNumbers(message: string | undefined): void {
  expect(message, 'a message with the emergency numbers').toBeDefined();
  for (const n of EMERGENCY_NUMBERS) expect(message).toContain(n);
}

/** /start and consent: the family is at the first question. */
export async function startScreening(f: FamilyDriver): Promise<void> {
  await f.say('/start');
  await f.press('cs');
}

/**
 * Answers questions from the current keyboard until `stop` says so (or the
 * summary): the value from `answers`, else "Don't know" (a multi-choice question is confirmed empty).
 * Returns the facts asked, in order.
 */
/** The life-event topics but "not sure": a family that ticks them all is asked every question, as before the topics screen. */
export const ALL_TOPICS = ['children', 'health', 'care', 'housing', 'violence', 'money', 'loss', 'prison'];

export async function answerUntil(
  f: FamilyDriver,
  answers: Record<string, string | number | string[]>,
  stop: (fact: string) => boolean = () => false,
): Promise<string[]> {
  const asked: string[] = [];
  for (let i = 0; i < 80; i++) {
    const snapshot = await dialogOf(f.harness, f.chatId);
    // An answer that disclosed violence brought help first; the family goes on with the questions.
    if (snapshot.matches('danger')) {
      await f.press('rs');
      continue;
    }
    if (!snapshot.matches({ main: 'screening' }) || snapshot.matches({ main: { screening: 'summary' } })) return asked;
    const fact = snapshot.context.current!;
    if (stop(fact)) return asked;
    asked.push(fact);
    if (fact === 'topics') {
      // Unless a test says which, every topic is ticked, so every question can come.
      const ticked = (answers as Record<string, unknown>).topics as string[] | undefined;
      for (const topic of ticked ?? ALL_TOPICS) await f.press(`t:${topic}`);
      await f.press('ok');
      continue;
    }
    const value = answers[fact];
    await f.press(value === undefined ? 'sk' : `a:${value}`);
  }
  throw new Error(`the screening did not end; asked: ${asked.join(', ')}`);
}

/** Questions about the children (not the count of them). */
export const isChildQuestion = (fact: string) => fact.startsWith('child_') || fact === 'children_under_3';

/** A family with no children and nothing special: every other question is "Don't know". */
export const NO_CHILDREN = { in_danger_now: 'no', region: 'astana', household_members: 2, children: 0 } as const;
