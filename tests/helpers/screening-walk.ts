/**
 * Walks a family through the screening over the emulator, reading each
 * question from the screen the bot sent and pressing its buttons (or typing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { PROJECT_ROOT } from './bot-process.js';
import type { FamilyChat, Screen } from './fake-telegram.js';

export type Lang = 'ru' | 'kk';

/** How to answer a question: press the button with this answer value, type this text, or tick these (then Done). */
export type Answer = { press: string } | { type: string } | { tick: string[] };

type Texts = Record<string, Record<string, unknown>>;

export function localeFile(lang: Lang, ns: string): Texts {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, 'locales', lang, `${ns}.json`), 'utf8')) as Texts;
}

/** The question a screen asks, found by its text in the family's language. */
export function factOf(text: string, lang: Lang): string | undefined {
  const facts = localeFile(lang, 'facts');
  let best: { id: string; length: number } | undefined;
  for (const [id, t] of Object.entries(facts)) {
    const q = t.question;
    if (typeof q === 'string' && text.includes(q) && q.length > (best?.length ?? 0)) best = { id, length: q.length };
  }
  return best?.id;
}

export const isSummary = (screen: Screen) => screen.last.buttons.some((b) => b.data.includes('|gr:')) && screen.last.buttons.some((b) => b.data.endsWith('|ok'));
export const isResult = (screen: Screen) => screen.last.buttons.some((b) => b.data.endsWith('|rf'));
/** The message after an answer that disclosed violence: urgent talk or continue the questions, and no question. */
export const isDisclosure = (screen: Screen) => screen.last.buttons.some((b) => b.data.endsWith('|ut')) && screen.last.buttons.some((b) => b.data.endsWith('|rs'));

/**
 * Checks the disclosure message: one message, not-their-fault first, then the
 * numbers, then the offer; two buttons, "talk to a person now" and "continue the questions".
 */
export function expectDisclosure(screen: Screen, lang: Lang): void {
  const bot = localeFile(lang, 'bot');
  const disclosure = bot.disclosure as Record<string, string>;
  const buttons = bot.buttons as Record<string, string>;
  expect(screen.messages).toHaveLength(1);
  expect(screen.last.text.startsWith(disclosure.text!)).toBe(true);
  expect(screen.last.text).toContain(disclosure.numbers!);
  expect(screen.last.text.endsWith(disclosure.offer!)).toBe(true);
  expect(screen.last.buttons.map((b) => [b.text, b.data.split('|')[1]])).toEqual([
    [buttons.urgentTalk, 'ut'],
    [buttons.continueQuestions, 'rs'],
  ]);
}

/** Default answers: "no" to yes/no, the first option or quick number, nothing ticked in lists. */
function defaultAnswer(screen: Screen): Answer {
  const data = screen.last.buttons.map((b) => b.data.split('|')[1]!);
  if (data.includes('a:no')) return { press: 'a:no' };
  const first = data.find((d) => d.startsWith('a:'));
  if (first) return { press: first };
  if (data.some((d) => d.startsWith('t:'))) return { press: 'ok' };
  throw new Error(`do not know how to answer: ${screen.last.text.slice(0, 200)}`);
}

export interface Walk {
  screen: Screen;
  /** Every button pressed and every answer typed, from the first question on. */
  taps: number;
  /** The questions asked, in order. */
  asked: string[];
  /** Disclosure messages shown, each with the question whose answer brought it. */
  disclosures: { after: string; screen: Screen }[];
}

/**
 * Answers questions, starting from the one on `screen`, until the summary (or
 * until `stopAfter` answers). Fails if a question does not move on. A
 * disclosure message after an answer is checked and "continue the questions"
 * pressed, so the walk always stops on a question, the summary or the result.
 */
export async function answerQuestions(chat: FamilyChat, lang: Lang, screen: Screen, answers: Record<string, Answer>, stopAfter = Infinity): Promise<Walk> {
  const asked: string[] = [];
  const disclosures: Walk['disclosures'] = [];
  let taps = 0;
  for (let i = 0; i < stopAfter; i++) {
    if (isSummary(screen)) return { screen, asked, disclosures, taps };
    const fact = factOf(screen.last.text, lang);
    if (!fact) throw new Error(`not a question screen: ${screen.text.slice(0, 300)}`);
    if (asked.includes(fact)) throw new Error(`asked “${fact}” twice: ${asked.join(', ')}`);
    if (asked.length > 60) throw new Error(`no summary after ${asked.length} questions`);
    asked.push(fact);
    const answer = answers[fact] ?? defaultAnswer(screen);
    if ('tick' in answer) {
      for (const id of answer.tick) screen = await chat.press(`t:${id}`);
      taps += answer.tick.length;
      screen = await chat.press('ok');
    } else screen = 'type' in answer ? await chat.say(answer.type) : await chat.press(answer.press);
    taps++;
    if (isDisclosure(screen)) {
      expectDisclosure(screen, lang);
      disclosures.push({ after: fact, screen });
      screen = await chat.press('rs');
      taps++;
    }
  }
  return { screen, asked, disclosures, taps };
}
