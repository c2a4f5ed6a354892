/**
 * The hotline handoff end to end over real HTTP: the bot as its own process
 * (`node --import tsx src/main.ts`, long polling) with an operators' forum
 * supergroup, Telegram played by telegram-test-api behind the front in
 * tests/helpers/fake-telegram.ts (which fakes topics and copies), a real Redis.
 *
 * A family screens, asks for a person and shares the summary; the case card
 * appears in a new topic; an operator takes it; they write both ways; the
 * operator closes it and the family is told. Then issue 11's fault: SIGTERM
 * with family and operator messages in flight, and a restart: every message
 * reaches the other side exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotProcess } from '../helpers/bot-process.js';
import { FakeTelegram, until } from '../helpers/fake-telegram.js';
import { connectTestRedis, deleteKeysWithPrefix } from '../helpers/redis-client.js';
import type { Lang } from '../helpers/screening-walk.js';
import { askForPerson, cardNow, hotline, loggedErrors, metric, newChatId, OPERATOR, screenToResult, text, type Hotline } from './hotline.js';

let telegram: FakeTelegram;
const prefixes: string[] = [];
/** One bot per test, started together before the tests (a start takes seconds): ru, kk, the SIGTERM test, the slow copy. */
const lines: Hotline[] = [];
const bots: BotProcess[] = [];

beforeAll(async () => {
  telegram = await FakeTelegram.start();
  for (let i = 0; i < 4; i++) lines.push(await hotline(telegram, prefixes));
  bots.push(...(await Promise.all(lines.map((l) => l.start()))));
}, 60_000);

afterAll(async () => {
  await Promise.all(lines.map((l) => l.stop()));
  await telegram?.stop();
  const redis = await connectTestRedis();
  try {
    for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
  } finally {
    await redis.quit();
  }
});

const joinedText = (lang: Lang) => text(lang, 'bot', 'handoff.family.operatorJoined', { name: text(lang, 'bot', 'handoff.family.anOperator') });

const LANGUAGE_NAME: Record<Lang, string> = { ru: 'Russian', kk: 'Kazakh' };

describe.concurrent('the hotline handoff over the emulator', () => {
  for (const [n, lang] of (['ru', 'kk'] as const).entries()) {
    it(`a family (${LANGUAGE_NAME[lang]}) reaches an operator, they talk both ways, and the operator closes the case`, async (ctx) => {
      const line = lines[n]!;
      const bot = bots[n]!;
      line.watch(ctx);
      const { group, operator, other } = line;
      const chat = telegram.family(line.token, newChatId(), lang);

      await screenToResult(chat, lang);
      const opened = await askForPerson(chat, lang, group);
      const { caseId, topic } = opened;

      // The card: the case in the staff language (Russian), with the family's language and the shared summary; no chat id.
      const card = opened.card.text;
      expect(card.split('\n')[0]).toBe(text('ru', 'ops', 'card.title', { id: caseId }));
      expect(card).toContain(`${text('ru', 'ops', 'card.status')}: ${text('ru', 'ops', 'status.waiting')}`);
      expect(card).toContain(`${text('ru', 'ops', 'card.language')}: ${lang}`);
      expect(card).toContain(`${text('ru', 'ops', 'card.consent')}: ${text('ru', 'ops', 'card.consentGiven')}`);
      expect(card).toContain(text('ru', 'ops', 'card.summary'));
      expect(card).not.toContain(String(chat.chatId));
      expect(opened.card.buttons.map((b) => b.data)).toEqual([`h|${caseId}|take`, `h|${caseId}|cl`, `h|${caseId}|note`]);

      // The operator takes it: the toast, the card and the topic name say so, and the family hears an operator joined.
      expect(await operator.press(opened.card, 'take')).toBe(text('ru', 'ops', 'taken'));
      await chat.waitFor((m) => m.text === joinedText(lang), 'the family hears an operator joined');
      await until(() => group.topics().find((t) => t.id === topic.id)?.name === `💬 #${caseId} · ${lang.toUpperCase()}`, 'the topic name shows the conversation');
      const claimed = cardNow(group, opened);
      expect(claimed.text).toContain(`${text('ru', 'ops', 'card.status')}: ${text('ru', 'ops', 'status.claimed')} (${text('ru', 'ops', 'card.operator')} ${OPERATOR})`);
      expect(claimed.buttons.map((b) => b.data)).toEqual([`h|${caseId}|tr`, `h|${caseId}|cl`, `h|${caseId}|note`]);
      // A second operator cannot take it any more.
      expect(await other.press(opened.card, 'take')).toBe(text('ru', 'ops', 'alreadyTaken', { id: OPERATOR }));

      // The family writes: the message is copied into the case topic, once.
      const familyWords = lang === 'ru' ? 'Здравствуйте, нам нужна помощь с пособием' : 'Сәлеметсіз бе, жәрдемақы бойынша көмек керек';
      const fromFamily = await chat.write(familyWords);
      const copied = await until(() => group.copiesInTopic(topic.id).find((c) => c.messageId === fromFamily), 'the family’s message in the topic');
      expect(copied.fromChatId).toBe(chat.chatId);
      expect(group.message(copied.copyId)).toMatchObject({ text: familyWords, threadId: topic.id });

      // Another operator's words in the topic stay among the operators; the holder's reach the family, in order.
      await other.write('внутренний комментарий', topic.id);
      const answerWords = 'Добрый день! Расскажите, пожалуйста, подробнее.';
      const fromOperator = await operator.write(answerWords, topic.id);
      const reached = await chat.waitFor((m) => m.text === answerWords, 'the operator’s answer at the family');
      expect(chat.received.map((m) => m.text)).not.toContain('внутренний комментарий');
      expect(telegram.copyCounts(line.token, group.chatId)).toEqual(new Map([[fromOperator, 1]]));
      expect(telegram.copyCounts(line.token, chat.chatId)).toEqual(new Map([[fromFamily, 1]]));
      expect(reached.buttons).toEqual([]);

      // Close with an outcome: the card offers the outcomes, the operator picks one, and the family is told (and asked whether it helped).
      expect(await operator.press(cardNow(group, opened), 'cl')).toBe('');
      const outcomes = await until(() => cardNow(group, opened).buttons.some((b) => b.data === `h|${caseId}|cl:informed`) && cardNow(group, opened), 'the outcome buttons on the card');
      expect(await operator.press(outcomes, 'cl:informed')).toBe(text('ru', 'ops', 'closed'));
      const closed = await chat.waitFor((m) => m.text.startsWith(text(lang, 'bot', 'handoff.family.closed')), 'the family is told the conversation ended');
      expect(closed.text).toBe(`${text(lang, 'bot', 'handoff.family.closed')}\n\n${text(lang, 'bot', 'handoff.family.feedbackQuestion')}`);
      expect(closed.buttons.map((b) => b.data)).toEqual([`hf|${caseId}|1`, `hf|${caseId}|0`]);
      await until(() => cardNow(group, opened).text.includes(`${text('ru', 'ops', 'card.outcome')}: ${text('ru', 'ops', 'outcomes.informed')}`), 'the card shows the outcome');
      expect(cardNow(group, opened).text).toContain(`${text('ru', 'ops', 'card.status')}: ${text('ru', 'ops', 'status.closed')}`);
      expect(cardNow(group, opened).buttons.map((b) => b.data)).toEqual([`h|${caseId}|note`]);
      await until(() => group.topics().find((t) => t.id === topic.id)?.name === `✔️ #${caseId} · ${lang.toUpperCase()}`, 'the topic name shows the case closed');

      // What the operator writes after the close stays in the topic: once it is handled (nothing left in the inbox or the outbox), no copy went out.
      const late = await operator.write('Ещё одно сообщение после закрытия', topic.id);
      await telegram.waitAllConfirmed(line.token);
      await until(async () => (await metric(line.env, 'qamqor_inbox_backlog')) === 0 && (await metric(line.env, 'qamqor_relay_outbox_backlog')) === 0, 'the late message handled');
      expect(telegram.copyCounts(line.token, group.chatId).has(late)).toBe(false);
      expect(telegram.copyCounts(line.token, group.chatId)).toEqual(new Map([[fromOperator, 1]]));

      // Nothing the bot asked of Telegram failed (but for setMyCommands, which the emulator lacks).
      expect(telegram.calls.filter((c) => c.token === line.token && !c.ok && c.method !== 'setMyCommands')).toEqual([]);
      expect(loggedErrors(bot)).toEqual([]);
    }, 30_000);
  }

  it('SIGTERM with family and operator messages in flight: exits 0, and after a restart each message arrives exactly once', async (ctx) => {
    const lang = 'ru';
    const line = lines[2]!;
    const first = bots[2]!;
    line.watch(ctx);
    const { group, operator } = line;
    const chat = telegram.family(line.token, newChatId(), lang);
    await chat.say('/start');
    await chat.press('cs');
    const opened = await askForPerson(chat, lang, group);
    expect(await operator.press(opened.card, 'take')).toBe(text('ru', 'ops', 'taken'));
    await chat.waitFor((m) => m.text === joinedText(lang), 'the family hears an operator joined');
    await telegram.waitAllConfirmed(line.token);

    // Telegram is slow to carry out copies: several are in hand at once when SIGTERM comes.
    let copyStarted!: () => void;
    const started = new Promise<void>((resolve) => (copyStarted = resolve));
    telegram.slowDown(line.token, (method) => {
      if (method !== 'copyMessage') return 0;
      copyStarted();
      return 600;
    });
    // Three from the family and three from the operator, fetched by the bot in one batch.
    telegram.hold(line.token);
    const fromFamily: number[] = [];
    const fromOperator: number[] = [];
    for (let i = 1; i <= 3; i++) {
      fromFamily.push(await chat.write(`Сообщение семьи ${i}`));
      fromOperator.push(await operator.write(`Ответ оператора ${i}`, opened.topic.id));
    }
    telegram.release(line.token);
    await started;
    const total = (counts: Map<number, number>[]) => counts.reduce((n, c) => n + [...c.values()].reduce((a, b) => a + b, 0), 0);
    const copiesNow = () => total([telegram.copyCounts(line.token, chat.chatId), telegram.copyCounts(line.token, group.chatId)]);
    expect(copiesNow()).toBeLessThan(6); // in flight: not all of them were carried out yet
    // One more from each side while the process is stopping: the stopping process or the next one takes them, never both.
    const exited = first.kill('SIGTERM');
    fromFamily.push(await chat.write('Сообщение семьи 4'));
    fromOperator.push(await operator.write('Ответ оператора 4', opened.topic.id));
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(first.output).toContain('"msg":"stopped"');
    expect(loggedErrors(first)).toEqual([]);
    telegram.slowDown(line.token, undefined);

    // The next start carries on with whatever the grace period did not cover.
    const second = await line.start();
    const arrived = () => {
      const family = telegram.copyCounts(line.token, chat.chatId);
      const ops = telegram.copyCounts(line.token, group.chatId);
      return fromFamily.every((id) => family.has(id)) && fromOperator.every((id) => ops.has(id));
    };
    await until(arrived, 'every message copied to the other side', 20_000);
    // Settled: nothing left in the update inbox or the relay outbox that could still be sent again.
    await until(async () => (await metric(line.env, 'qamqor_inbox_backlog')) === 0 && (await metric(line.env, 'qamqor_relay_outbox_backlog')) === 0, 'the inbox and the relay outbox are empty', 15_000);

    expect(telegram.copyCounts(line.token, chat.chatId)).toEqual(new Map(fromFamily.map((id) => [id, 1])));
    expect(telegram.copyCounts(line.token, group.chatId)).toEqual(new Map(fromOperator.map((id) => [id, 1])));
    // Each side sees the other's messages once and in the order written.
    const inTopic = group.inTopic(opened.topic.id).map((m) => m.text).filter((t) => t.startsWith('Сообщение семьи'));
    expect(inTopic).toEqual(['Сообщение семьи 1', 'Сообщение семьи 2', 'Сообщение семьи 3', 'Сообщение семьи 4']);
    await chat.poll();
    expect(chat.received.map((m) => m.text).filter((t) => t.startsWith('Ответ оператора'))).toEqual(['Ответ оператора 1', 'Ответ оператора 2', 'Ответ оператора 3', 'Ответ оператора 4']);
    expect(loggedErrors(second)).toEqual([]);
    expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 30_000);

  it('a copy Telegram takes longer than the resend tick to carry out is not sent a second time', async (ctx) => {
    const lang = 'kk';
    const line = lines[3]!;
    const bot = bots[3]!;
    line.watch(ctx);
    const { group, operator } = line;
    const chat = telegram.family(line.token, newChatId(), lang);
    await chat.say('/start');
    await chat.press('cs');
    const opened = await askForPerson(chat, lang, group);
    expect(await operator.press(opened.card, 'take')).toBe(text('ru', 'ops', 'taken'));
    await chat.waitFor((m) => m.text === joinedText(lang), 'the family hears an operator joined');

    // The relay outbox is looked at every 5 s; this copy takes 6.5 s (issue 11 measured two copies of one message).
    let slowOnce = true;
    telegram.slowDown(line.token, (method) => {
      if (method !== 'copyMessage' || !slowOnce) return 0;
      slowOnce = false;
      return 6_500;
    });
    const written = await chat.write('Бір хабарлама');
    await until(() => telegram.copyCounts(line.token, chat.chatId).has(written), 'the slow copy carried out', 20_000);
    await until(async () => (await metric(line.env, 'qamqor_relay_outbox_backlog')) === 0, 'the relay acknowledged');
    expect(telegram.copyCounts(line.token, chat.chatId)).toEqual(new Map([[written, 1]]));
    expect(group.inTopic(opened.topic.id).filter((m) => m.text === 'Бір хабарлама')).toHaveLength(1);
    expect(loggedErrors(bot)).toEqual([]);
  }, 30_000);
});
