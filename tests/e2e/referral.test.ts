/**
 * A referral end to end over real HTTP: the bot as its own process with an
 * operators' forum group and a directory, Telegram played by telegram-test-api
 * (tests/helpers/fake-telegram.ts), a real Redis. An admin invites a worker, who
 * links their account; a family screens, reaches an operator, the operator
 * refers them, the family agrees, the worker accepts and completes, and the
 * family reads the final status in their language (kk and ru).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type BotProcess } from '../helpers/bot-process.js';
import { FakeTelegram, until, type BotMessage, type FamilyChat, type GroupMessage } from '../helpers/fake-telegram.js';
import { connectTestRedis, deleteKeysWithPrefix } from '../helpers/redis-client.js';
import { answerQuestions, isResult, isSummary } from '../helpers/screening-walk.js';
import { DIRECTORY_YAML, directoryFile } from '../referral/bot-referral-harness.js';
import { askForPerson, cardNow, hotline, loggedErrors, newChatId, SHORT_WALK, text, type Hotline } from './hotline.js';

let telegram: FakeTelegram;
const prefixes: string[] = [];
const lines: Hotline[] = [];
const bots: BotProcess[] = [];
const LANGS = ['ru', 'kk'] as const;
/** The worker's Telegram user id, one per bot. */
const WORKER = [6_200_001, 6_200_002];

beforeAll(async () => {
  telegram = await FakeTelegram.start();
  const directory = directoryFile();
  for (let i = 0; i < LANGS.length; i++) lines.push(await hotline(telegram, prefixes, { REFERRAL_DIRECTORY: directory, REFERRAL_HOURS: 'always' }));
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

/** A press in a private chat that does not wait for a new message (the bot edits the pressed one). */
async function pressInPlace(token: string, chat: FamilyChat, message: BotMessage | GroupMessage, data: string): Promise<void> {
  const answer = await fetch(`${telegram.emulatorUrl}/sendCallback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      botToken: token,
      date: Math.floor(Date.now() / 1000),
      from: { id: chat.chatId, is_bot: false, first_name: 'Worker', language_code: chat.languageCode },
      data,
      message: { message_id: message.id, date: Math.floor(Date.now() / 1000), chat: { id: chat.chatId, type: 'private' }, text: message.text },
    }),
  });
  expect(answer.ok).toBe(true);
  await answer.arrayBuffer();
}

/** The bot's message in a private chat as it stands now (after edits). */
const nowIn = (token: string, chatId: number, id: number) => telegram.botMessagesIn(token, chatId).find((m) => m.id === id);

describe.concurrent('a referral over the emulator', () => {
  for (const [n, lang] of LANGS.entries()) {
    it(`screening → handoff → Refer → the family agrees → the worker accepts and completes → the family’s final status (${lang})`, async (ctx) => {
      const line = lines[n]!;
      line.watch(ctx);
      const { group, operator, admin, token } = line;

      // An admin invites the worker; the code comes privately (or in the group when it cannot).
      await admin.write('/invite w-ast-1');
      const invite = await until(() => [...telegram.botMessagesIn(token, admin.userId), ...group.messages()].find((m) => /start=w-([A-Za-z0-9_-]+)/.test(m.text)), 'the invite code');
      const code = /start=w-([A-Za-z0-9_-]+)/.exec(invite.text)![1]!;
      const worker = telegram.family(token, WORKER[n]!, 'ru');
      await worker.type(`/start w-${code}`);
      await worker.waitFor((m) => m.text.startsWith(text('ru', 'referral', 'worker.linked').split('{{')[0]!), 'the worker is linked');

      // The family (region from the link) screens and reaches an operator with their summary.
      const chat = telegram.family(token, newChatId(), lang);
      await chat.say('/start r-astana');
      const first = await chat.press('cs');
      const walk = await answerQuestions(chat, lang, first, SHORT_WALK);
      expect(isSummary(walk.screen)).toBe(true);
      expect(isResult(await chat.press('ok'))).toBe(true);
      const opened = await askForPerson(chat, lang, group);
      await operator.press(opened.card, 'take');
      const claimed = await until(() => cardNow(group, opened).buttons.some((b) => b.data === `h|${opened.caseId}|rf`) && cardNow(group, opened), 'Refer on the claimed card');

      // Refer: the profile, the packet, the confirm; the family is asked.
      await operator.press(claimed, 'rf');
      const menu = await until(() => group.inTopic(opened.topic.id).find((m) => m.buttons.some((b) => b.data === `h|${opened.caseId}|rf:assessment`)), 'the profile menu');
      await operator.press(menu, 'rf:assessment');
      const preview = await until(() => group.message(menu.id)?.buttons.some((b) => b.data === `h|${opened.caseId}|rq:assessment`) && group.message(menu.id), 'the packet preview');
      expect(preview.text).toContain(text('ru', 'referral', 'worker.card.where', { where: 'Астана' }));
      await operator.press(preview, 'rq:assessment');
      const question = await chat.waitFor((m) => m.buttons.some((b) => b.data.startsWith('ro|')), 'the family is asked to agree');
      expect(question.text.startsWith(text(lang, 'referral', 'family.suggested').split('{{')[0]!)).toBe(true);

      const created = await chat.pressOn(question, question.buttons.find((b) => b.data.startsWith('ro|'))!);
      const id = /R-[A-Z0-9]+/.exec(created.last.text)![0];
      expect(created.last.text).toBe(text(lang, 'referral', 'family.created', { id }));
      await until(() => group.inTopic(opened.topic.id).find((m) => m.text.includes(`${id}`) && m.text.includes('w-ast-1')), 'the topic hears where it went');

      // The worker's card arrives; Accept, then Completed with an outcome, each edits it in place.
      const card = await worker.waitFor((m) => m.buttons.some((b) => b.data === `w|${id}|ac`), 'the referral card at the worker', 20_000);
      expect(card.text.length).toBeLessThanOrEqual(900);
      await pressInPlace(token, worker, card, `w|${id}|ac`);
      await until(() => nowIn(token, worker.chatId, card.id)?.buttons.some((b) => b.data === `w|${id}|cp`), 'the card offers Completed');
      await chat.waitFor((m) => m.text === text(lang, 'referral', 'family.notices.accepted', { id }), 'the family hears it was accepted', 20_000);
      await pressInPlace(token, worker, card, `w|${id}|cp`);
      await until(() => nowIn(token, worker.chatId, card.id)?.buttons.some((b) => b.data === `w|${id}|cp:need_determined`), 'the outcomes');
      await pressInPlace(token, worker, card, `w|${id}|cp:need_determined`);
      await until(() => nowIn(token, worker.chatId, card.id)?.buttons.length === 0 && nowIn(token, worker.chatId, card.id)!.text.includes(text('ru', 'referral', 'outcomes.need_determined')), 'the card shows the outcome');

      // The family's final status, in their language.
      const final = await chat.waitFor((m) => m.text.startsWith(text(lang, 'referral', 'family.notices.completed', { id })), 'the family’s final status', 20_000);
      expect(final.text).toBe(`${text(lang, 'referral', 'family.notices.completed', { id })}\n\n${text(lang, 'referral', 'family.outcomeWords.need_determined')}`);

      expect(telegram.calls.filter((c) => c.token === token && !c.ok && c.method !== 'setMyCommands')).toEqual([]);
      expect(loggedErrors(bots[n]!)).toEqual([]);
    }, 60_000);
  }
});

describe('a directory with problems', () => {
  it('stops the start with one line per problem, naming REFERRAL_DIRECTORY, the file and the entry', async () => {
    const broken = directoryFile(DIRECTORY_YAML.replace('region: karaganda', 'region: atlantis'));
    const r = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], { BOT_TOKEN: '123456789:AAEabcdefghijklmnopqrstuvwxyz012345', LOG_LEVEL: 'silent', REFERRAL_DIRECTORY: broken });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^REFERRAL_DIRECTORY: .*directory\.yaml/);
    expect(r.stderr).toContain('atlantis');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 30_000);
});
