/**
 * The first minute: greeting in the family's language, switching language,
 * what the consent promises, declining, and deep links.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotPathChatKeys } from '../../src/store/hot-path.js';
import type { Redis } from '../../src/store/redis.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { answerUntil, currentFact, dialogOf, expectEmergencyNumbers, factsOf, sentTexts, startScreening, text } from '../helpers/family-dialog.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

describe('/start greets the family in their Telegram language', () => {
  it.each([
    ['kk', 'kk'],
    ['kk-KZ', 'kk'],
    ['ru', 'ru'],
    ['en', 'ru'],
    ['de', 'ru'],
  ] as const)('language_code %s → %s', async (code, lang) => {
    const h = new BotHarness();
    const f = h.family(101, code);
    const calls = await f.say('/start');
    const [greeting] = sentTexts(calls);
    expect(greeting).toContain(text(h, lang, 'intro.greeting'));
    expect(greeting).toContain(text(h, lang, 'consent.question'));
  });

  it('a family with no language_code is greeted in Russian', async () => {
    const h = new BotHarness();
    const calls = await h.handle({
      message: { message_id: 1, date: 0, chat: { id: 102, type: 'private', first_name: 'T' }, from: { id: 102, is_bot: false, first_name: 'T' }, text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }] },
    });
    expect(sentTexts(calls)[0]).toContain(text(h, 'ru', 'intro.greeting'));
  });
});

describe('language', () => {
  it('the language buttons on the greeting show the same screen in the chosen language, and it is remembered', async () => {
    const h = new BotHarness();
    const f = h.family(111, 'ru');
    await f.say('/start');
    const calls = await f.press('Қазақша');
    expect(calls.find((c) => c.method === 'answerCallbackQuery')?.payload.text).toBe(text(h, 'kk', 'start.languageSet'));
    expect(f.lastText).toContain(text(h, 'kk', 'intro.greeting'));
    await f.say('/help');
    expect(f.lastText).toContain(text(h, 'kk', 'help.text'));
  });

  it('/language in the middle of the questions re-shows the current question in the new language, answers kept', async () => {
    const h = new BotHarness();
    const f = h.family(112, 'kk');
    await startScreening(f);
    await f.press('a:no');
    const fact = await currentFact(h, 112);
    await f.say('/language');
    expect(f.lastText).toBe(text(h, 'kk', 'start.chooseLanguage'));
    await f.press('English');
    expect(f.lastText).toContain(text(h, 'en', `facts:${fact}.question`));
    expect(await currentFact(h, 112)).toBe(fact);
    expect((await factsOf(h, 112)).in_danger_now).toBe('no');
    // The question's own buttons work after the switch, in English.
    expect(f.buttons.some((b) => b.text === text(h, 'en', 'buttons.back'))).toBe(true);
  });

  it('a language button from an old message still works', async () => {
    const h = new BotHarness();
    const f = h.family(113, 'ru');
    await f.say('/start');
    const oldLanguage = f.buttons.find((b) => b.text === 'English')!;
    await f.press('cs');
    await f.press('a:no');
    await f.pressData(oldLanguage.data, oldLanguage.messageId);
    expect(f.lastText).toContain(text(h, 'en', `facts:${(await currentFact(h, 113))!}.question`));
  });
});

describe('consent', () => {
  it.each(['kk', 'ru', 'en'] as const)('in %s it says what is stored, for how long, who sees it and how to delete it', async (lang) => {
    const h = new BotHarness();
    const f = h.family(121, lang === 'kk' ? 'kk' : 'ru');
    await f.say('/start');
    if (lang === 'en') await f.press('English');
    const consent = text(h, lang, 'consent.text', { days: 30 });
    expect(f.lastText).toContain(consent);
    expect(consent).toContain('30');
    expect(consent).toContain('/forget');
    expect(f.lastText).toContain(text(h, lang, 'consent.reportingDuty'));
    expect(f.lastText).toContain(text(h, lang, 'intro.notADecision'));
    expect(f.buttons.map((b) => b.data)).toEqual(expect.arrayContaining(['0|cs', '0|dc', '0|tk', '0|dg']));
  });

  it('nothing is asked before consent: the intro has no question, and answers cannot be sent', async () => {
    const h = new BotHarness();
    const f = h.family(122);
    await f.say('/start');
    await f.pressData('0|a:no');
    await f.say('3');
    expect(await factsOf(h, 122)).toEqual({});
    expect((await dialogOf(h, 122)).matches({ main: 'intro' })).toBe(true);
  });

  describe('declining (Redis)', () => {
    let redis: Redis;
    const prefix = uniquePrefix('decline');
    beforeAll(async () => {
      redis = await connectTestRedis();
    });
    afterAll(async () => {
      await deleteKeysWithPrefix(redis, prefix);
      await redis.close();
    });

    it('shows general information and the emergency numbers, and stores no answers', async () => {
      const h = new BotHarness({ redis, prefix });
      const f = h.family(123, 'kk');
      await f.say('/start');
      const calls = await f.press('dc');
      const [info] = sentTexts(calls);
      expect(info).toContain(text(h, 'kk', 'info.text'));
      expectEmergencyNumbers(info);
      // Typing after declining records nothing either.
      await f.say('2');
      await f.say('иә');
      const raw = JSON.parse((await redis.get(hotPathChatKeys(prefix, 'test-salt', '123').dialog))!) as { snapshot: { context: { facts: object } } };
      expect(raw.snapshot.context.facts).toEqual({});
      const session = JSON.parse((await redis.get(hotPathChatKeys(prefix, 'test-salt', '123').session))!) as Record<string, unknown>;
      expect(session.consentAt).toBeUndefined();
      // "Consent later" still starts the questions.
      await f.press('cs');
      expect(await currentFact(h, 123)).toBe('in_danger_now');
    });
  });
});

describe('deep links', () => {
  it('/start r-astana prefills the region: it is not asked', async () => {
    const h = new BotHarness();
    const f = h.family(131);
    await f.say('/start r-astana');
    expect(f.lastText).toContain(text(h, 'ru', 'intro.greeting'));
    await f.press('cs');
    const asked = await answerUntil(f, { in_danger_now: 'no', household_members: 3, children: 0 });
    expect(asked).not.toContain('region');
    expect(f.texts.join('\n')).not.toContain(text(h, 'ru', 'facts:region.question'));
    expect((await factsOf(h, 131)).region).toBe('astana');
    // The summary shows it like any answer, so the family can correct it.
    expect(f.lastText).toContain(`${text(h, 'ru', 'facts:region.label')}: ${text(h, 'ru', 'facts:region.values.astana')}`);
  });

  it('a region from a link is not stored with answers until the family consents; declining stores none', async () => {
    const h = new BotHarness();
    const f = h.family(134);
    await f.say('/start r-almaty');
    expect(await factsOf(h, 134)).toEqual({});
    await f.press('dc');
    expect(await factsOf(h, 134)).toEqual({});
  });

  it.each(['r-atlantis', 'r-', 'r-ASTANA', '<script>', 'r-astana; DROP', 'x'.repeat(80)])('a junk payload %j is ignored safely', async (payload) => {
    const h = new BotHarness();
    const f = h.family(132);
    const calls = await f.say(`/start ${payload}`);
    expect(sentTexts(calls)[0]).toContain(text(h, 'ru', 'intro.greeting'));
    expect(await factsOf(h, 132)).toEqual({});
    await f.press('cs');
    expect(await currentFact(h, 132)).toBe('in_danger_now');
    await answerUntil(f, { in_danger_now: 'no', household_members: 3, children: 0 });
    expect((await factsOf(h, 132)).region).toBeUndefined();
    const session = await h.deps.sessions.read('132');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(payload)) expect(session?.source).toBeUndefined();
  });

  it('a source payload (a school QR code) is kept with the session, not with the answers', async () => {
    const h = new BotHarness();
    const f = h.family(133);
    await f.say('/start school_42');
    expect((await h.deps.sessions.read('133'))?.source).toBe('school_42');
    expect(await factsOf(h, 133)).toEqual({});
  });
});
