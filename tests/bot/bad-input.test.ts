/**
 * Anything the bot did not ask for changes nothing and gets a short, kind word
 * in the family's language, the current screen again and the safety net line
 * (the numbers, with "I am not safe"); the next valid press still works.
 */
import { describe, expect, it } from 'vitest';
import { BotHarness, type FamilyDriver } from '../helpers/bot-harness.js';
import { answerUntil, dialogOf, expectSafetyNet, NO_CHILDREN, popup, sentTexts, startScreening, text } from '../helpers/family-dialog.js';

/** A family at the question `fact`, with its keyboard. */
async function atQuestion(chatId: number, fact: string, lang: 'kk' | 'ru' = 'ru') {
  const h = new BotHarness();
  const f = h.family(chatId, lang);
  await startScreening(f);
  await answerUntil(f, { ...NO_CHILDREN, children: 2 }, (current) => current === fact);
  const before = await dialogOf(h, chatId);
  expect(before.context.current).toBe(fact);
  return { h, f, before, buttons: [...f.buttons] };
}

/** Nothing moved: same state, same answers, same step, and the keyboard shown before still answers. */
async function expectUnchanged(h: BotHarness, f: FamilyDriver, before: Awaited<ReturnType<typeof dialogOf>>, buttons: FamilyDriver['buttons']) {
  const after = await dialogOf(h, f.chatId);
  expect(after.value).toEqual(before.value);
  expect(after.context.facts).toEqual(before.context.facts);
  expect(after.context.step).toBe(before.context.step);
  const answer = buttons.find((b) => /\|a:/.test(b.data))!;
  await f.pressData(answer.data, answer.messageId);
  expect((await dialogOf(h, f.chatId)).context.history.at(-1)).toBe(before.context.current);
}

const MEDIA: Record<string, Record<string, unknown>> = {
  sticker: { sticker: { file_id: 's', file_unique_id: 's', type: 'regular', width: 1, height: 1, is_animated: false, is_video: false } },
  photo: { photo: [{ file_id: 'p', file_unique_id: 'p', width: 1, height: 1 }] },
  voice: { voice: { file_id: 'v', file_unique_id: 'v', duration: 3 } },
  document: { document: { file_id: 'd', file_unique_id: 'd', file_name: 'справка.pdf' } },
  location: { location: { latitude: 51.1, longitude: 71.4 } },
  contact: { contact: { phone_number: '+77000000000', first_name: 'Айгүл' } },
};

describe('typed words where a button was expected', () => {
  it.each([
    ['housing', 'где-то живём', 'ru'],
    ['domestic_violence', 'может быть', 'ru'],
    ['housing', 'бір жерде', 'kk'],
  ] as const)('%s: %j → "please use the buttons" and the same question again', async (fact, typed, lang) => {
    const { h, f, before, buttons } = await atQuestion(401, fact, lang);
    expectSafetyNet(h, lang, await f.say(typed), text(h, lang, 'errors.useButtons'), text(h, lang, `facts:${fact}.question`));
    await expectUnchanged(h, f, before, buttons);
  });

  it('the name of an option typed as shown on its button is taken as the answer', async () => {
    const { h, f } = await atQuestion(402, 'housing');
    await f.say(text(h, 'ru', 'facts:housing.values.rent'));
    expect((await dialogOf(h, 402)).context.facts.housing).toBe('rent');
  });

  it('text on the greeting (before consent) records nothing', async () => {
    const h = new BotHarness();
    const f = h.family(403);
    await f.say('/start');
    expectSafetyNet(h, 'ru', await f.say('2'), text(h, 'ru', 'errors.useButtons'), text(h, 'ru', 'intro.greeting'));
    expect((await dialogOf(h, 403)).context.facts).toEqual({});
  });

  it('an unknown command gets a pointer to /help', async () => {
    const { h, f, before, buttons } = await atQuestion(404, 'housing');
    expectSafetyNet(h, 'ru', await f.say('/foo'), text(h, 'ru', 'errors.unknownCommand'), text(h, 'ru', 'facts:housing.question'));
    await expectUnchanged(h, f, before, buttons);
  });
});

describe('messages that are not text', () => {
  it.each(Object.keys(MEDIA))('a %s gets a kind word (with the safety buttons) and changes nothing', async (kind) => {
    const { h, f, before, buttons } = await atQuestion(411, 'housing', 'kk');
    expectSafetyNet(h, 'kk', await f.send(MEDIA[kind]!), text(h, 'kk', 'errors.notText'), text(h, 'kk', 'facts:housing.question'));
    await expectUnchanged(h, f, before, buttons);
  });

  it('an edited message is not taken as an answer', async () => {
    const { h, f, before, buttons } = await atQuestion(412, 'household_members');
    const calls = await h.handle({ edited_message: { message_id: 9, date: 0, edit_date: 1, chat: f.chat, from: f.user, text: '5' } });
    expectSafetyNet(h, 'ru', calls, text(h, 'ru', 'errors.edited'), text(h, 'ru', 'facts:household_members.question'));
    await expectUnchanged(h, f, before, buttons);
  });
});

describe('group chats', () => {
  const group = { id: -100123, type: 'supergroup' as const, title: 'Parents' };
  const from = { id: 421, is_bot: false, first_name: 'T', language_code: 'kk' };
  const message = (text: string, extra: Record<string, unknown> = {}) => ({ message: { message_id: 1, date: 0, chat: group, from, text, ...extra } });
  const command = (text: string) => message(text, { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] });

  it('plain talk in a group gets no reply, even with danger words or numbers', async () => {
    const h = new BotHarness();
    for (const t of ['привет всем', '3', 'муж бьёт']) expect(sentTexts(await h.handle(message(t)))).toEqual([]);
  });

  it('a command or a mention gets one short word, in the sender\'s language, pointing to a private chat', async () => {
    const h = new BotHarness();
    expect(sentTexts(await h.handle(command('/start')))).toEqual([text(h, 'kk', 'errors.groupChat')]);
    expect(sentTexts(await h.handle(command('/start@qamqor_demo_bot')))).toEqual([text(h, 'kk', 'errors.groupChat')]);
    expect(sentTexts(await h.handle(message('@qamqor_demo_bot сәлем')))).toEqual([text(h, 'kk', 'errors.groupChat')]);
  });

  it('a command for another bot is not ours to answer', async () => {
    const h = new BotHarness();
    expect(sentTexts(await h.handle(command('/start@other_bot')))).toEqual([]);
  });

  it('nothing of a group is stored', async () => {
    const h = new BotHarness();
    await h.handle(command('/start'));
    expect(await h.deps.sessions.read(String(group.id))).toBeUndefined();
    expect(await h.deps.host.exists(String(group.id))).toBe(false);
  });
});

describe('buttons', () => {
  it('a button from an old message is recognised as old and changes nothing', async () => {
    const h = new BotHarness();
    const f = h.family(431);
    await startScreening(f);
    const firstQuestion = [...f.buttons];
    await f.press('a:no');
    const before = await dialogOf(h, 431);
    const buttons = [...f.buttons];
    const old = firstQuestion.find((b) => b.data.endsWith('|a:yes'))!;
    const calls = await f.pressData(old.data, old.messageId);
    expect(popup(calls)).toBe(''); // no pop-up to close: the message says it, with the question where the family is
    expectSafetyNet(h, 'ru', calls, text(h, 'ru', 'errors.oldButton'), text(h, 'ru', `facts:${before.context.current}.question`));
    expect((await dialogOf(h, 431)).context.facts.in_danger_now).toBe('no');
    await expectUnchanged(h, f, before, buttons);
  });

  it.each(['', 'hello', '1|zz', '|cs', 'cs', '1|a:', '1|a:../../etc', "1|a:x'; DROP", '9999999999|cs', '1|lg:fr', '1|ed:', `1|a:${'x'.repeat(60)}`, '1|cs|dg', '１|cs'])(
    'forged or garbage callback data %j → "I did not understand this button", nothing changes',
    async (data) => {
      const { h, f, before, buttons } = await atQuestion(432, 'housing');
      const calls = await f.pressData(data);
      expect(popup(calls)).toBe('');
      expectSafetyNet(h, 'ru', calls, text(h, 'ru', 'errors.unknownButton'), text(h, 'ru', 'facts:housing.question'));
      await expectUnchanged(h, f, before, buttons);
    },
  );

  it.each([
    ['household_members', 'a:99'],
    ['household_members', 'a:0'],
    ['household_members', 'a:yes'],
    ['housing', 'a:castle'],
    ['housing', 'a:3'],
    ['domestic_violence', 'a:maybe'],
    ['domestic_violence', 'a:1'],
    ['housing', 't:school_meals'],
    ['housing', 'ed:housing'],
    ['housing', 'ok'],
    ['housing', 'rf'],
    ['housing', 'ed:not_a_fact'],
  ])('at %s, well-formed data %j that does not fit changes nothing', async (fact, body) => {
    const { h, f, before, buttons } = await atQuestion(433, fact);
    const calls = await f.pressData(`${before.context.step}|${body}`);
    expect(popup(calls)).toBe('');
    expectSafetyNet(h, 'ru', calls, text(h, 'ru', 'errors.notNow'), text(h, 'ru', `facts:${fact}.question`));
    await expectUnchanged(h, f, before, buttons);
  });

  it('on the summary, editing an answer that was never given changes nothing', async () => {
    const h = new BotHarness();
    const f = h.family(434);
    await startScreening(f);
    await answerUntil(f, NO_CHILDREN);
    const before = await dialogOf(h, 434);
    for (const body of ['ed:child_orphan', 'ed:nope', 'a:yes', 'sk']) {
      expectSafetyNet(h, 'ru', await f.pressData(`${before.context.step}|${body}`), text(h, 'ru', 'errors.notNow'), text(h, 'ru', 'summary.title'));
    }
    const after = await dialogOf(h, 434);
    expect(after.value).toEqual(before.value);
    expect(after.context.step).toBe(before.context.step);
    await f.press('ok');
    expect(f.lastText).toContain(text(h, 'ru', 'view:next'));
  });
});
