/**
 * Numbers as people type them (issue 8, item 4): the parser on its own, then
 * through the real bot — refusals with a kind example, and the one-tap confirm
 * of a number that looks unusual.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { readTyped } from '../../src/bot/answers.js';
import { groupDigits, isUnusual, numberKindOf, readNumber } from '../../src/bot/numbers.js';
import type { Lang } from '../../src/engine/types.js';
import { createLogger } from '../../src/log.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { astanaLine, catalogue } from '../helpers/catalogue.js';
import { NO_CHILDREN, currentFact, dialogOf, expectSafetyNet, factsOf, sentButtons, sentTexts, startScreening, text } from '../helpers/family-dialog.js';

const def = (id: string) => catalogue.facts.find((d) => d.id === id)!;
const INCOME = def('monthly_income_kzt');
const HOUSEHOLD = def('household_members');
const CHILDREN = def('children');

describe('readNumber: amounts of money', () => {
  it.each([
    // The forms of issue 8: all of them are 60 000 tenge.
    ['60.000,50', 60000],
    ['60 000', 60000],
    ['60000', 60000],
    ['60к', 60000],
    ['60 к', 60000],
    ['60k', 60000],
    ['60 мың', 60000],
    ['60мың', 60000],
    ['60 мын', 60000], // typed without Kazakh letters
    ['60 тыс', 60000],
    ['60 тыс.', 60000],
    ['60 тысяч', 60000],
    ['60т', 60000],
    ['60 т.', 60000],
    ['60 ТЫС', 60000],
    // Currency words and signs, before or after, glued or not.
    ['150 000 тг', 150000],
    ['150000тг', 150000],
    ['150000 тг.', 150000],
    ['150.000 ₸', 150000],
    ['150 000₸', 150000],
    ['₸150 000', 150000],
    ['150 000 тенге', 150000],
    ['150 000 теңге', 150000],
    ['150000 KZT', 150000],
    ['60 мың теңге', 60000],
    ['60мыңтеңге', 60000],
    ['60 тыс. тенге', 60000],
    ['60 тысяч тенге в месяц', 60000],
    ['60 000 теңге айына', 60000],
    // Separators: thousands and tiyn/kopecks (dropped).
    ['60,000.50', 60000],
    ['60 000,50', 60000],
    ['60000,5', 60000],
    ['60000.99', 60000],
    ['1.500.000', 1500000],
    ['1 500 000', 1500000],
    ['1\u00a0500\u00a0000', 1500000],
    ["1'500'000", 1500000],
    ['60,000', 60000],
    // A fraction of a thousand or a million.
    ['60,5к', 60500],
    ['1,5 млн', 1500000],
    ['1.5 млн', 1500000],
    ['1,15 млн', 1150000],
    ['2 миллиона', 2000000],
    ['1 миллион теңге', 1000000],
    ['0,5 млн тг', 500000],
    ['0', 0],
    ['0 тг', 0],
    ['  42 000  ', 42000],
  ])('%j is %d', (typed, value) => {
    expect(readNumber(typed, 'money')).toEqual({ ok: true, value });
  });

  it.each([
    ['-5000', 'negative'],
    ['−5000', 'negative'],
    ['– 5000 тг', 'negative'],
    ['минус 5000', 'negative'],
    ['сто тысяч', 'words'],
    ['бес мың', 'words'],
    ['жүз мың теңге', 'words'],
    ['много', 'words'],
    ['көп', 'words'],
    ['60 тысяч и 500', 'not_a_number'],
    ['около 60000', 'not_a_number'],
    ['60 00', 'not_a_number'],
    ['60000.5000', 'not_a_number'],
    ['1.000,000.5', 'not_a_number'],
    ['60 000 рублей', 'not_a_number'],
    ['50000-60000', 'not_a_number'],
    ['?', 'not_a_number'],
  ])('%j is refused (%s)', (typed, reason) => {
    expect(readNumber(typed, 'money')).toEqual({ ok: false, reason });
  });
});

describe('readNumber: numbers of people', () => {
  it.each([
    ['3', 3],
    [' 4 ', 4],
    ['5.', 5],
    ['12', 12],
    ['0', 0],
    ['2.500', 2500], // thousands, not 2.5 (and then out of range)
  ])('%j is %d', (typed, value) => {
    expect(readNumber(typed, 'count')).toEqual({ ok: true, value });
  });

  it.each([
    ['2.5', 'not_whole'],
    ['2,5', 'not_whole'],
    ['3,25', 'not_whole'],
    ['2.0', 'not_whole'],
    ['-5', 'negative'],
    ['−1', 'negative'],
    ['минус 2', 'negative'],
    ['бес', 'words'],
    ['екі', 'words'],
    ['три', 'words'],
    ['много', 'words'],
    ['2 3', 'not_a_number'], // two numbers, not 23
    ['5 человек', 'not_a_number'],
    ['3к', 'not_a_number'], // thousands are for money
    ['3 тг', 'not_a_number'],
  ])('%j is refused (%s)', (typed, reason) => {
    expect(readNumber(typed, 'count')).toEqual({ ok: false, reason });
  });
});

describe('readTyped with the catalogue', () => {
  it('amounts are the facts in tenge; everything else is a count of people', () => {
    expect(numberKindOf(INCOME)).toBe('money');
    for (const d of catalogue.facts.filter((f) => f.type === 'int' && f.id !== INCOME.id)) expect(numberKindOf(d), d.id).toBe('count');
  });

  it('«2.5» people is refused, never read as 25', () => {
    expect(readTyped(HOUSEHOLD, '2.5')).toEqual({ ok: false, reason: 'not_whole' });
    expect(readTyped(CHILDREN, '2,5')).toEqual({ ok: false, reason: 'not_whole' });
  });

  it('ranges are checked after reading: «2.500» people and «0» people are out of range', () => {
    expect(readTyped(HOUSEHOLD, '2.500')).toEqual({ ok: false, reason: 'out_of_range' });
    expect(readTyped(HOUSEHOLD, '0')).toEqual({ ok: false, reason: 'out_of_range' });
    expect(readTyped(INCOME, '200 млн')).toEqual({ ok: false, reason: 'out_of_range' });
  });

  it.each([
    [INCOME, '60 мың', 60000, false],
    [INCOME, '0', 0, false],
    [INCOME, '1000', 1000, false],
    [INCOME, '999', 999, true],
    [INCOME, '60', 60, true],
    [INCOME, '2 млн', 2000000, false],
    [INCOME, '2 000 001', 2000001, true],
    [INCOME, '5 млн', 5000000, true],
    [HOUSEHOLD, '15', 15, false],
    [HOUSEHOLD, '16', 16, true],
    [CHILDREN, '16', 16, true],
  ] as const)('%#: %j is %d, unusual: %s', (d, typed, value, unusual) => {
    expect(readTyped(d, typed)).toEqual(unusual ? { ok: true, value, unusual: true } : { ok: true, value });
    expect(isUnusual(d, value)).toBe(unusual);
  });

  it('groups digits as the family reads an amount', () => {
    expect([0, 999, 1000, 60000, 1500000, 100000000].map(groupDigits)).toEqual(['0', '999', '1 000', '60 000', '1 500 000', '100 000 000']);
  });
});

// ——— Through the bot ———

/** A bot whose catalogue has a poverty line in Astana, so that the income question is asked. */
function harness(): BotHarness {
  const dir = mkdtempSync(join(tmpdir(), 'qamqor-numbers-'));
  const paramsFile = join(dir, 'params.yaml');
  writeFileSync(paramsFile, JSON.stringify(astanaLine)); // JSON is YAML
  return new BotHarness({ deps: createDeps({ prefix: 'test:', dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'test-salt', today: () => '2026-11-21', paramsFile }) });
}

type Answers = Record<string, string | number | readonly string[]>;
/** Money matters, so that the income question is asked; everything else "Don't know". */
const TO_INCOME: Answers = { ...NO_CHILDREN, topics: ['money'] };

/**
 * A family at the question `fact`: the answers given, else "Don't know"; a
 * multi-choice question gets its listed values ticked and "Done".
 */
async function atQuestion(h: BotHarness, chatId: number, fact: string, lang: Lang = 'ru', answers: Answers = TO_INCOME) {
  const f = h.family(chatId, lang);
  await startScreening(f);
  for (let i = 0; i < 80; i++) {
    const snapshot = await dialogOf(h, chatId);
    if (snapshot.matches('danger')) {
      await f.press('rs');
      continue;
    }
    if (!snapshot.matches({ main: 'screening' }) || snapshot.matches({ main: { screening: 'summary' } })) throw new Error(`${fact} was not asked`);
    const current = snapshot.context.current!;
    if (current === fact) break;
    const value = answers[current];
    if (h.deps.catalogue.facts.find((d) => d.id === current)?.type === 'list') {
      for (const v of Array.isArray(value) ? value : []) await f.press(`t:${v}`);
      await f.press('ok');
    } else await f.press(value === undefined ? 'sk' : `a:${String(value)}`);
  }
  expect(await currentFact(h, chatId)).toBe(fact);
  return { f, before: await dialogOf(h, chatId) };
}

async function expectUnchanged(h: BotHarness, chatId: number, before: Awaited<ReturnType<typeof dialogOf>>) {
  const after = await dialogOf(h, chatId);
  expect(after.context.facts).toEqual(before.context.facts);
  expect(after.context.step).toBe(before.context.step);
}

const bodies = (calls: Parameters<typeof sentButtons>[0]) => sentButtons(calls).map((d) => d.split('|')[1]);

describe('refused numbers get a kind example, the question again and the safety net', () => {
  it.each(['kk', 'ru'] as const)('people (%s): «2.5», «-5», words', async (lang) => {
    const h = harness();
    const { f, before } = await atQuestion(h, 601, 'household_members', lang, { in_danger_now: 'no', region: 'astana' });
    const question = text(h, lang, 'facts:household_members.question');
    expectSafetyNet(h, lang, await f.say('2.5'), text(h, lang, 'numbers.whole'), question);
    expectSafetyNet(h, lang, await f.say('2,5'), text(h, lang, 'numbers.whole'), question);
    expectSafetyNet(h, lang, await f.say('-5'), text(h, lang, 'numbers.negative'), question);
    expectSafetyNet(h, lang, await f.say(lang === 'kk' ? 'бес' : 'пять'), text(h, lang, 'numbers.words'), question);
    expectSafetyNet(h, lang, await f.say('много'), text(h, lang, 'numbers.words'), question);
    expectSafetyNet(h, lang, await f.say('5 человек'), text(h, lang, 'errors.notANumber'), question);
    await expectUnchanged(h, 601, before);
    // Nothing moved: the number typed plainly is taken.
    await f.say('3');
    expect((await factsOf(h, 601)).household_members).toBe(3);
  });

  it('children: «2.5» is refused, «2» is taken', async () => {
    const h = harness();
    const { f, before } = await atQuestion(h, 602, 'children', 'ru', { in_danger_now: 'no', region: 'astana', household_members: 4 });
    expectSafetyNet(h, 'ru', await f.say('2.5'), text(h, 'ru', 'numbers.whole'), text(h, 'ru', 'facts:children.question'));
    await expectUnchanged(h, 602, before);
    await f.say('2');
    expect((await factsOf(h, 602)).children).toBe(2);
  });

  it.each(['kk', 'ru'] as const)('an income (%s): minus, words, two numbers; an amount out of range says so with grouped digits', async (lang) => {
    const h = harness();
    const { f, before } = await atQuestion(h, 603, 'monthly_income_kzt', lang);
    const question = text(h, lang, 'facts:monthly_income_kzt.question');
    expectSafetyNet(h, lang, await f.say('-60000'), text(h, lang, 'numbers.negativeMoney'), question);
    expectSafetyNet(h, lang, await f.say(lang === 'kk' ? 'алпыс мың' : 'сто тысяч'), text(h, lang, 'numbers.wordsMoney'), question);
    expectSafetyNet(h, lang, await f.say('60 тысяч и 500'), text(h, lang, 'numbers.notAnAmount'), question);
    const range = text(h, lang, 'errors.outOfRange', { min: '0', max: '100 000 000' });
    expect(range).toContain('100 000 000');
    expectSafetyNet(h, lang, await f.say('200 млн'), range, question);
    await expectUnchanged(h, 603, before);
  });
});

describe('amounts as people type them are taken at once', () => {
  it.each(['60.000,50', '60 000', '60000', '60к', '60 к', '60 мың', '60 тыс', '60 тысяч', '60т', '60 000 тг', '60.000 ₸'])('%j → 60 000', async (typed) => {
    const h = harness();
    const { f } = await atQuestion(h, 611, 'monthly_income_kzt');
    const calls = await f.say(typed);
    expect((await factsOf(h, 611)).monthly_income_kzt).toBe(60000);
    expect(sentTexts(calls).join('\n')).not.toContain(text(h, 'ru', 'numbers.confirmMoney', { value: '60 000 ₸' }));
    expect(await currentFact(h, 611)).not.toBe('monthly_income_kzt');
  });
});

describe('an unusual number is echoed back for one tap', () => {
  it.each(['kk', 'ru'] as const)('«500» tenge a month (%s): "Did you mean 500 ₸?", Yes takes it', async (lang) => {
    const h = harness();
    const { f, before } = await atQuestion(h, 621, 'monthly_income_kzt', lang);
    const calls = await f.say('500');
    const value = text(h, lang, 'numbers.amount', { amount: '500' });
    expect(value).toBe('500 ₸');
    // The question again, under the confirm, with the safety net: nothing is taken yet.
    expectSafetyNet(h, lang, calls, text(h, lang, 'numbers.confirmMoney', { value }), text(h, lang, 'facts:monthly_income_kzt.question'));
    expect(bodies(calls).slice(0, 2)).toEqual(['a:500', 'go']);
    expect(f.buttons[0]!.text).toBe(text(h, lang, 'numbers.yes', { value }));
    expect(f.buttons[1]!.text).toBe(text(h, lang, 'numbers.no'));
    expect(bodies(calls)).toEqual(expect.arrayContaining(['sk', 'bk', 'tk', 'dg'])); // and the question's own buttons
    await expectUnchanged(h, 621, before);

    await f.press('a:500');
    expect((await factsOf(h, 621)).monthly_income_kzt).toBe(500);
    expect(await currentFact(h, 621)).not.toBe('monthly_income_kzt');
  });

  it('«5 млн»: "No, type again" shows the question; the amount typed again is taken', async () => {
    const h = harness();
    const { f, before } = await atQuestion(h, 622, 'monthly_income_kzt');
    const calls = await f.say('5 млн');
    expect(sentTexts(calls)[0]!.startsWith(text(h, 'ru', 'numbers.confirmMoney', { value: '5 000 000 ₸' }))).toBe(true);
    expect(sentTexts(calls)[0]!.startsWith('Вы имели в виду 5 000 000 ₸')).toBe(true);
    expect(bodies(calls)[0]).toBe('a:5000000');

    const again = await f.press('go');
    expect(sentTexts(again)).toHaveLength(1);
    expect(sentTexts(again)[0]).toContain(text(h, 'ru', 'facts:monthly_income_kzt.question'));
    expect(sentTexts(again)[0]).not.toContain(text(h, 'ru', 'numbers.confirmMoney', { value: '5 000 000 ₸' }));
    expect(bodies(again)).not.toContain('a:5000000');
    await expectUnchanged(h, 622, before);

    await f.say('500 000');
    expect((await factsOf(h, 622)).monthly_income_kzt).toBe(500000);
  });

  it('«20» people: "Did you mean 20?", Yes takes it; 20 children then is asked again too', async () => {
    const h = harness();
    const { f } = await atQuestion(h, 623, 'household_members', 'ru', { in_danger_now: 'no', region: 'astana' });
    const calls = await f.say('20');
    expectSafetyNet(h, 'ru', calls, text(h, 'ru', 'numbers.confirmCount', { value: '20' }), text(h, 'ru', 'facts:household_members.question'));
    expect(bodies(calls).slice(0, 2)).toEqual(['a:20', 'go']);
    expect((await factsOf(h, 623)).household_members).toBeUndefined();
    await f.press('a:20');
    expect((await factsOf(h, 623)).household_members).toBe(20);

    expect(await currentFact(h, 623)).toBe('children');
    expectSafetyNet(h, 'ru', await f.say('16'), text(h, 'ru', 'numbers.confirmCount', { value: '16' }), text(h, 'ru', 'facts:children.question'));
    await f.press('a:16');
    expect((await factsOf(h, 623)).children).toBe(16);
  });

  it('an unusual number that disagrees with earlier answers is refused at once, not offered', async () => {
    const h = harness();
    const { f, before } = await atQuestion(h, 624, 'children', 'ru', { in_danger_now: 'no', region: 'astana', household_members: 3 });
    const calls = await f.say('18');
    expectSafetyNet(h, 'ru', calls, text(h, 'ru', 'errors.doesNotAgree'), text(h, 'ru', 'facts:children.question'));
    expect(bodies(calls)).not.toContain('a:18');
    await expectUnchanged(h, 624, before);
  });

  it('the confirm button is an ordinary answer of its screen: once the family typed another answer, it is old', async () => {
    const h = harness();
    const { f } = await atQuestion(h, 625, 'monthly_income_kzt');
    await f.say('500');
    const yes = f.buttons[0]!;
    expect(yes.data.endsWith('|a:500')).toBe(true);
    await f.say('80 000');
    expect((await factsOf(h, 625)).monthly_income_kzt).toBe(80000);
    const calls = await f.pressData(yes.data, yes.messageId);
    expectSafetyNet(h, 'ru', calls, text(h, 'ru', 'errors.oldButton'));
    expect((await factsOf(h, 625)).monthly_income_kzt).toBe(80000);
  });
});
