/**
 * Danger first (SPEC §7): from any screen, by button or in words, the very
 * first message the family gets carries the emergency numbers; then an offer
 * of urgent help; "I am safe" returns them to where they were.
 */
import { describe, expect, it } from 'vitest';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import { BotHarness, type FamilyDriver } from '../helpers/bot-harness.js';
import { answerUntil, currentFact, dialogOf, expectEmergencyNumbers, factsOf, NO_CHILDREN, sentTexts, startScreening, text } from '../helpers/family-dialog.js';

/** The family's reply to danger: numbers first, then the offer with "talk now" and "I am safe". */
function expectDangerReply(h: BotHarness, calls: ApiCall[], lang: 'kk' | 'ru' = 'ru'): void {
  const texts = sentTexts(calls);
  expectEmergencyNumbers(texts[0]);
  expect(texts[1]).toBe(text(h, lang, 'danger.offer'));
}

/** Ways to reach each screen a family can see, from a fresh chat. */
const SCREENS: Record<string, (f: FamilyDriver) => Promise<unknown>> = {
  intro: (f) => f.say('/start'),
  infoOnly: async (f) => {
    await f.say('/start');
    await f.press('dc');
  },
  question: async (f) => {
    await startScreening(f);
    await f.press('a:no');
  },
  sensitiveQuestion: async (f) => {
    await startScreening(f);
    await answerUntil(f, NO_CHILDREN, (fact) => fact === 'member_persistent_impairment');
  },
  summary: async (f) => {
    await startScreening(f);
    await answerUntil(f, NO_CHILDREN);
  },
  result: async (f) => {
    await startScreening(f);
    await answerUntil(f, NO_CHILDREN);
    await f.press('ok');
  },
  saved: async (f) => {
    await SCREENS.result!(f);
    await f.press('sv');
  },
  refer: async (f) => {
    await SCREENS.result!(f);
    await f.press('rf');
  },
  talk: async (f) => {
    await startScreening(f);
    await f.press('tk');
  },
  help: async (f) => {
    await startScreening(f);
    await f.say('/help');
  },
  language: async (f) => {
    await startScreening(f);
    await f.say('/language');
  },
  sticker: async (f) => {
    await startScreening(f);
    await f.send({ sticker: { file_id: 's', file_unique_id: 's', type: 'regular', width: 1, height: 1, is_animated: false, is_video: false } });
  },
};

describe('"I am not safe" button', () => {
  it.each(Object.keys(SCREENS))('works from the %s screen, and "I am safe" returns there', async (screen) => {
    const h = new BotHarness();
    const f = h.family(301);
    await SCREENS[screen]!(f);
    const before = await dialogOf(h, 301);
    const danger = f.buttons.find((b) => b.data.endsWith('|dg'));
    expect(danger, `a danger button on ${screen}`).toBeDefined();
    const calls = await f.pressData(danger!.data, danger!.messageId);
    expectDangerReply(h, calls);
    expect(calls.find((c) => c.method === 'answerCallbackQuery')?.payload.show_alert).toBeFalsy();

    await f.press('rs');
    const after = await dialogOf(h, 301);
    if (screen === 'talk') expect(after.matches('talk')).toBe(false); // "I am safe" goes back to the questions, not to the talk screen
    else expect(after.value).toEqual(before.value);
    expect(after.context.facts).toEqual(before.context.facts);
    expect(after.context.current).toBe(before.context.current);
  });

  it('works from an old message, however many screens ago', async () => {
    const h = new BotHarness();
    const f = h.family(302);
    await f.say('/start');
    const oldDanger = f.buttons.find((b) => b.data.endsWith('|dg'))!;
    await f.press('cs');
    await answerUntil(f, NO_CHILDREN, (fact) => fact === 'housing');
    const calls = await f.pressData(oldDanger.data, oldDanger.messageId);
    expectDangerReply(h, calls);
    await f.press('rs');
    expect(await currentFact(h, 302)).toBe('housing');
  });

  it('pressing it twice still shows the numbers, and "I am safe" still returns to the question', async () => {
    const h = new BotHarness();
    const f = h.family(303);
    await startScreening(f);
    await f.press('a:no');
    const fact = await currentFact(h, 303);
    const danger = f.buttons.find((b) => b.data.endsWith('|dg'))!;
    await f.pressData(danger.data, danger.messageId);
    expectDangerReply(h, await f.pressData(danger.data, danger.messageId));
    await f.press('rs');
    expect(await currentFact(h, 303)).toBe(fact);
  });

  it('the urgent offer leads to the hotlines with an urgent word, and back to the question', async () => {
    const h = new BotHarness();
    const f = h.family(304, 'kk');
    await startScreening(f);
    await f.press('a:no');
    const fact = await currentFact(h, 304);
    await f.press('dg');
    await f.press('ut');
    expect(f.lastText).toContain(text(h, 'kk', 'talk.urgent'));
    expect(f.lastText).toContain('111');
    await f.press('rs');
    expect(await currentFact(h, 304)).toBe(fact);
    expect(f.lastText).toContain(text(h, 'kk', `facts:${fact}.question`));
  });

  it('answering "yes" to "is someone in danger right now?" brings the numbers at once, before any further question', async () => {
    const h = new BotHarness();
    const f = h.family(305);
    await startScreening(f);
    expect(await currentFact(h, 305)).toBe('in_danger_now');
    const calls = await f.press('a:yes');
    expectDangerReply(h, calls);
    expect((await factsOf(h, 305)).in_danger_now).toBe('yes');
    await f.press('rs');
    const next = await currentFact(h, 305);
    expect(next).not.toBe('in_danger_now');
    expect(f.lastText).toContain(text(h, 'ru', `facts:${next}.question`));
  });

  it('typing "иә" to the danger question does the same', async () => {
    const h = new BotHarness();
    const f = h.family(306, 'kk');
    await startScreening(f);
    expectDangerReply(h, await f.say('иә'), 'kk');
  });
});

describe('danger cues in free text', () => {
  it.each([
    ['ru', 'муж меня бьёт'],
    ['ru', 'мyж бьeт'], // Latin y and e inside Cyrillic words
    ['ru', 'МУЖ БЬЕТ ДЕТЕЙ'],
    ['ru', 'он угрожает убить'],
    ['ru', 'не хочу жить'],
    ['ru', 'ребёнок один дома уже два дня'],
    ['kk', 'күйеуім мені ұрып жатыр'],
    ['kk', 'куйеуим урып жатыр'], // ұ typed as у on a Russian keyboard
    ['kk', 'ол мені өлтіреді'],
    ['kk', 'қорқамын'],
    ['kk', 'бала жалғыз қалды'],
  ] as const)('%s: %j → the numbers first, then the offer of urgent help', async (lang, message) => {
    const h = new BotHarness();
    const f = h.family(311, lang);
    await startScreening(f);
    await f.press('a:no');
    const fact = await currentFact(h, 311);
    const calls = await f.say(message);
    expectDangerReply(h, calls, lang);
    await f.press('rs');
    expect(await currentFact(h, 311)).toBe(fact);
  });

  it('a cue before /start, in a fresh chat, also brings the numbers', async () => {
    const h = new BotHarness();
    const f = h.family(312);
    expectDangerReply(h, await f.say('помогите, муж бьёт'));
  });

  it('a cue in the caption of a photo is heard', async () => {
    const h = new BotHarness();
    const f = h.family(313);
    await startScreening(f);
    const calls = await f.send({ photo: [{ file_id: 'p', file_unique_id: 'p', width: 1, height: 1 }], caption: 'он меня избил' });
    expectDangerReply(h, calls);
  });

  it('a cue in an edited message is heard', async () => {
    const h = new BotHarness();
    const f = h.family(314);
    await startScreening(f);
    const calls = await h.handle({ edited_message: { message_id: 5, date: 0, edit_date: 1, chat: f.chat, from: f.user, text: 'муж бьёт' } });
    expectDangerReply(h, calls);
  });

  it('ordinary answers are not taken for danger', async () => {
    const h = new BotHarness();
    const f = h.family(315);
    await startScreening(f);
    await f.press('a:no');
    const calls = await f.say('2');
    expect(sentTexts(calls).join('\n')).not.toContain(text(h, 'ru', 'danger.offer'));
  });
});
