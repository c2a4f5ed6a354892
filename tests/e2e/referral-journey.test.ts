/**
 * A referral end to end over real HTTP (issue 10's "done when"): the bot as its
 * own process with the example directory (flows/directory/example.yaml) and the
 * 2026 parameters (so the screening asks for the region), Telegram played by the
 * emulator behind tests/helpers/fake-telegram.ts, a real Redis.
 *
 * An admin issues an invite in the operators' group and a social worker links
 * their account with /start w-<code>. A family screens, talks to an operator,
 * the operator presses Refer, chooses the profile and confirms; the family
 * consents in their chat; the worker gets the notification, accepts, marks the
 * contact and completes with an outcome; the family hears each step and ends
 * with the final status. In Kazakh and in Russian (family and worker alike).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotProcess } from '../helpers/bot-process.js';
import { FakeTelegram, until, type BotMessage } from '../helpers/fake-telegram.js';
import { connectTestRedis, deleteKeysWithPrefix } from '../helpers/redis-client.js';
import { answerQuestions, isResult, isSummary, type Answer, type Lang } from '../helpers/screening-walk.js';
import { ADMIN, askForPerson, cardNow, hotline, lead, loggedErrors, newChatId, text, type Hotline } from './hotline.js';

/** In the example directory: assessment, Kazakh and Russian, the whole Karaganda region. */
const WORKER_ID = 'w-karaganda-01';
const WORKER_TELEGRAM: Record<Run, number> = { ru: 5_200_001, kk: 5_200_002, own: 5_200_003, stop: 5_200_004 };

/** A short screening that names the region (asked with the money topic once a poverty line is configured). */
const WALK: Record<string, Answer> = {
  in_danger_now: { press: 'a:no' },
  household_members: { press: 'a:3' },
  children: { press: 'a:1' },
  topics: { tick: ['money'] },
  region: { press: 'a:karaganda' },
  monthly_income_kzt: { type: '90000' },
};

let telegram: FakeTelegram;
const prefixes: string[] = [];
/** One bot per test, started together before the tests: the Kazakh and Russian journeys, a family's own request, SIGTERM mid-notice. */
type Run = Lang | 'own' | 'stop';
const lines = new Map<Run, Hotline>();
const bots = new Map<Run, BotProcess>();

beforeAll(async () => {
  telegram = await FakeTelegram.start();
  for (const run of ['ru', 'kk', 'own', 'stop'] as const) {
    lines.set(run, await hotline(telegram, prefixes, { REFERRAL_DIRECTORY: 'flows/directory/example.yaml', PARAMS_FILE: 'flows/examples/parameters-2026.yaml', REFERRAL_HOURS: 'always' }));
  }
  await Promise.all([...lines].map(async ([run, line]) => bots.set(run, await line.start())));
}, 90_000);

afterAll(async () => {
  await Promise.all([...lines.values()].map((l) => l.stop()));
  await telegram?.stop();
  const redis = await connectTestRedis();
  try {
    for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
  } finally {
    await redis.quit();
  }
});

/** The admin's /invite, and the worker's /start w-<code> with it: the worker's private chat, linked. */
async function linkWorker(line: Hotline, run: Run, lang: Lang) {
  const { group, admin } = line;
  await admin.write(`/invite ${WORKER_ID}`);
  await until(() => group.messages().some((m) => m.text === text('ru', 'referral', 'admin.inviteSentPrivately', { id: WORKER_ID })), 'the group hears the invite went privately');
  const invite = await until(() => telegram.botMessagesIn(line.token, ADMIN).find((m) => m.text.includes('?start=w-')), 'the invite in the admin’s private chat');
  const code = /\?start=w-([A-Za-z0-9_-]+)/.exec(invite.text)![1]!;
  expect(invite.text).toContain(`${WORKER_ID}: ${code}`);
  const worker = telegram.family(line.token, WORKER_TELEGRAM[run], lang);
  await worker.type(`/start w-${code}`);
  const linked = await worker.waitFor((m) => m.text.startsWith(lead(lang, 'referral', 'worker.linked')), 'the worker is linked');
  expect(linked.text).toContain(WORKER_ID);
  return { worker, code };
}

/** Referral notices not yet delivered: entries of the delivery stream (SPEC §9's outbox) unread by its group or read and not acknowledged. */
async function noticesLeft(prefix: string): Promise<number> {
  const redis = await connectTestRedis();
  try {
    const stream = `${prefix}referral:{ref}:outbox`;
    const groups = await redis.xInfoGroups(stream);
    const group = groups.find((g) => String(g.name) === 'notifiers');
    if (!group) throw new Error(`no consumer group on ${stream}`);
    return Number(group.pending) + Number(group.lag ?? 0);
  } finally {
    await redis.quit();
  }
}

const withData = (prefix: RegExp) => (m: BotMessage) => m.buttons.some((b) => prefix.test(b.data));

describe.concurrent('a referral from the screening to the family’s final status, over the emulator', () => {
  for (const lang of ['kk', 'ru'] as const) {
    it(`in ${lang === 'kk' ? 'Kazakh' : 'Russian'}: handoff, Refer, consent, a linked worker accepts, contacts and completes`, async (ctx) => {
      const line = lines.get(lang)!;
      const bot = bots.get(lang)!;
      line.watch(ctx);
      const { group, operator } = line;
      const ru = (ns: string, path: string, vars?: Record<string, string | number>) => text('ru', ns, path, vars);

      // An admin issues an invite in the operators' group (the code comes privately); the worker links their account, in their language.
      const { worker, code } = await linkWorker(line, lang, lang);
      // The code works once: a second account using it is refused.
      const stranger = telegram.family(line.token, newChatId(), lang);
      await stranger.type(`/start w-${code}`);
      await stranger.waitFor((m) => m.text === text(lang, 'referral', 'worker.badCode'), 'a used code is refused');

      // The family screens (naming their region), asks for a person and shares the summary; an operator takes the case.
      const chat = telegram.family(line.token, newChatId(), lang);
      await chat.say('/start');
      const walk = await answerQuestions(chat, lang, await chat.press('cs'), WALK);
      expect(walk.asked).toContain('region');
      expect(isSummary(walk.screen)).toBe(true);
      expect(isResult(await chat.press('ok'))).toBe(true);
      const opened = await askForPerson(chat, lang, group);
      const { caseId, topic } = opened;
      expect(opened.card.text).toContain(`${ru('ops', 'card.region')}: ${ru('facts', 'region.values.karaganda')}`);
      expect(await operator.press(opened.card, 'take')).toBe(ru('ops', 'taken'));
      const claimed = await until(() => cardNow(group, opened).buttons.some((b) => b.data === `h|${caseId}|rf`) && cardNow(group, opened), 'Refer on the claimed card');

      // Refer → the profile → the packet the worker would get → ask the family.
      expect(await operator.press(claimed, 'rf')).toBe('');
      const choose = await until(() => group.inTopic(topic.id).find((m) => m.text === ru('referral', 'ops.chooseProfile', { caseId })), 'the profile choice in the topic');
      await operator.press(choose, 'rf:assessment');
      const preview = await until(() => {
        const m = group.message(choose.id);
        return m?.text.startsWith(ru('referral', 'ops.preview', { caseId, profile: ru('referral', 'profiles.assessment') })) && m;
      }, 'the packet preview');
      expect(preview.text).toContain(ru('referral', 'ops.askFamily'));
      expect(preview.text).not.toContain(String(chat.chatId));
      await operator.press(preview, 'rq:assessment');

      // The family is asked in their language, sees exactly what goes, and agrees.
      const asked = await chat.waitFor(withData(/^ro\|/), 'the family is asked to consent');
      expect(asked.text.startsWith(lead(lang, 'referral', 'family.suggested'))).toBe(true);
      expect(asked.text).toContain(text(lang, 'referral', 'family.notShared'));
      // Yes and No first (the safety row follows, as under every message to a family).
      expect(asked.buttons.slice(0, 2).map((b) => b.data.split('|')[0])).toEqual(['ro', 'rn']);
      const created = await chat.press(/^ro\|/);
      const referralId = /R-[A-Z0-9]{3,10}/.exec(created.text)?.[0];
      expect(referralId, `a referral id in “${created.text}”`).toBeDefined();
      expect(created.text).toContain(text(lang, 'referral', 'family.created', { id: referralId! }));
      await until(() => group.inTopic(topic.id).find((m) => m.text.startsWith(ru('referral', 'ops.familyAgreed', { caseId, id: referralId!, route: '' }).trimEnd())), 'the topic hears the family agreed');
      await chat.waitFor((m) => m.text === text(lang, 'referral', 'family.notices.received', { id: referralId! }), 'the family hears the request was received');

      // The worker gets one notification to act on: the card with Accept, Decline, Redirect.
      const card = await worker.waitFor((m) => m.buttons.some((b) => b.data === `w|${referralId}|ac`), 'the referral card at the worker');
      expect(card.text.startsWith(text(lang, 'referral', 'worker.notices.new', { id: referralId! }))).toBe(true);
      expect(card.text).not.toContain(String(chat.chatId));
      expect(card.buttons.map((b) => b.data)).toEqual([`w|${referralId}|ac`, `w|${referralId}|dc`, `w|${referralId}|rd`]);
      // Nobody else can act on it: the stranger's press is refused.
      expect(await stranger.tap(card, 'ac')).toBe(text(lang, 'referral', 'worker.refused'));

      // Accept: the family hears it was taken and that a worker will contact them.
      expect(await worker.tap(card, 'ac')).toBe(text(lang, 'referral', 'worker.done.accepted'));
      await chat.waitFor((m) => m.text === text(lang, 'referral', 'family.notices.accepted', { id: referralId! }), 'the family hears it was accepted');
      await chat.waitFor((m) => m.text === text(lang, 'referral', 'family.notices.contact_soon', { id: referralId! }), 'the family hears a worker will contact them');
      const current = () => worker.messagesNow().find((m) => m.id === card.id)!;

      // Contacted, then Completed with an outcome.
      await until(() => current().buttons.some((b) => b.data === `w|${referralId}|ct`), 'Contacted on the card');
      expect(await worker.tap(current(), 'ct')).toBe(text(lang, 'referral', 'worker.done.contacted'));
      await until(() => current().buttons.some((b) => b.data === `w|${referralId}|cp`) && !current().buttons.some((b) => b.data.endsWith('|ct')), 'Completed on the card');
      expect(await worker.tap(current(), 'cp')).toBe('');
      await until(() => current().buttons.some((b) => b.data === `w|${referralId}|cp:need_determined`), 'the outcomes on the card');
      expect(await worker.tap(current(), 'cp:need_determined')).toBe(text(lang, 'referral', 'worker.done.completed'));
      await until(() => current().buttons.length === 0, 'a completed card has no buttons left');

      // The family's final status message, and the same answer to "what is happening with my request?".
      const final = `${text(lang, 'referral', 'family.notices.completed', { id: referralId! })}\n\n${text(lang, 'referral', 'family.outcomeWords.need_determined')}`;
      await chat.waitFor((m) => m.text === final, 'the family’s final status message');
      await chat.type('/status');
      const status = `${text(lang, 'referral', 'family.statusLine', { id: referralId!, status: text(lang, 'referral', 'family.statusWords.completed') })}\n${text(lang, 'referral', 'family.outcomeWords.need_determined')}`;
      await chat.waitFor((m) => m.text === status, 'the answer to /status');

      // The operator closes the case as referred; the family is told the conversation ended.
      await operator.press(cardNow(group, opened), 'cl');
      const outcomes = await until(() => cardNow(group, opened).buttons.some((b) => b.data === `h|${caseId}|cl:referred`) && cardNow(group, opened), 'the outcome buttons on the card');
      expect(await operator.press(outcomes, 'cl:referred')).toBe(ru('ops', 'closed'));
      await chat.waitFor((m) => m.text.startsWith(text(lang, 'bot', 'handoff.family.closed')), 'the family is told the conversation ended');

      expect(telegram.calls.filter((c) => c.token === line.token && !c.ok && c.method !== 'setMyCommands')).toEqual([]);
      expect(loggedErrors(bot)).toEqual([]);
    }, 60_000);
  }

  it('a family asks from the result screen (Russian), shares their phone with the contact button, consents; the worker completes', async (ctx) => {
    const lang = 'ru';
    const line = lines.get('own')!;
    const bot = bots.get('own')!;
    line.watch(ctx);
    const { worker } = await linkWorker(line, 'own', lang);

    const chat = telegram.family(line.token, newChatId(), lang);
    await chat.say('/start');
    const walk = await answerQuestions(chat, lang, await chat.press('cs'), WALK);
    expect(isSummary(walk.screen)).toBe(true);
    expect(isResult(await chat.press('ok'))).toBe(true);

    // "Refer me": who it goes to, and how to be contacted (the region is known from the answers).
    const refer = await chat.press('rf');
    expect(refer.last.text.startsWith(lead(lang, 'referral', 'family.intro'))).toBe(true);
    expect(refer.last.text.endsWith(text(lang, 'referral', 'family.howContact'))).toBe(true);
    // The phone is asked for with Telegram's contact button (a reply keyboard, not an inline one).
    await chat.tap(refer.last, 'rq|c:p');
    await chat.waitFor((m) => m.text === text(lang, 'referral', 'family.sendPhone'), 'the request for the phone');
    // Someone else's number is refused; their own, through the contact button, is taken.
    const mark = chat.received.length;
    await chat.shareContact('+7 701 000 11 22', chat.chatId + 1);
    await chat.nextScreen(mark, 'the refusal of another person’s number');
    expect(chat.received.slice(mark).map((m) => m.text)).toContain(text(lang, 'referral', 'family.notYourContact'));
    const whenMark = chat.received.length;
    await chat.shareContact('+7 701 555 66 77');
    const when = await chat.nextScreen(whenMark, 'the question when to contact');
    expect(when.last.text).toBe(text(lang, 'referral', 'family.whenContact'));

    // The preview shows exactly what goes, the phone included; only "yes" sends it.
    const preview = await chat.press(/^rq\|t:evening$/);
    expect(preview.last.text.startsWith(lead(lang, 'referral', 'family.preview'))).toBe(true);
    expect(preview.last.text).toContain(text(lang, 'referral', 'family.previewLines.phone', { phone: '+77015556677' }));
    expect(preview.last.text).toContain(text(lang, 'referral', 'family.consentQuestion'));
    const created = await chat.press(/^rq\|ok:/);
    const referralId = /R-[A-Z0-9]{3,10}/.exec(created.text)?.[0];
    expect(referralId, `a referral id in “${created.text}”`).toBeDefined();
    await chat.waitFor((m) => m.text === text(lang, 'referral', 'family.notices.received', { id: referralId! }), 'the family hears the request was received');

    // The worker gets it with the number to call; accepts and completes.
    const card = await worker.waitFor((m) => m.buttons.some((b) => b.data === `w|${referralId}|ac`), 'the referral card at the worker');
    expect(card.text).toContain('+77015556677');
    expect(await worker.tap(card, 'ac')).toBe(text(lang, 'referral', 'worker.done.accepted'));
    await chat.waitFor((m) => m.text === text(lang, 'referral', 'family.notices.accepted', { id: referralId! }), 'the family hears it was accepted');
    const current = () => worker.messagesNow().find((m) => m.id === card.id)!;
    await until(() => current().buttons.some((b) => b.data === `w|${referralId}|cp`), 'Completed on the card');
    expect(await worker.tap(current(), 'cp')).toBe('');
    await until(() => current().buttons.some((b) => b.data === `w|${referralId}|cp:services_assigned`), 'the outcomes on the card');
    expect(await worker.tap(current(), 'cp:services_assigned')).toBe(text(lang, 'referral', 'worker.done.completed'));

    const final = `${text(lang, 'referral', 'family.notices.completed', { id: referralId! })}\n\n${text(lang, 'referral', 'family.outcomeWords.services_assigned')}`;
    await chat.waitFor((m) => m.text === final, 'the family’s final status message');
    expect(telegram.calls.filter((c) => c.token === line.token && !c.ok && c.method !== 'setMyCommands')).toEqual([]);
    expect(loggedErrors(bot)).toEqual([]);
  }, 60_000);

  it('SIGTERM while the worker’s notification is on its way: the process exits 0, and after a restart the worker has it exactly once', async (ctx) => {
    const lang = 'kk';
    const line = lines.get('stop')!;
    const first = bots.get('stop')!;
    line.watch(ctx);
    const { worker } = await linkWorker(line, 'stop', lang);
    const chat = telegram.family(line.token, newChatId(), lang);
    await chat.say('/start');
    await answerQuestions(chat, lang, await chat.press('cs'), WALK);
    await chat.press('ok');
    await chat.press('rf');
    await chat.press(/^rq\|c:t$/);
    await chat.press(/^rq\|t:any$/);

    // Telegram is slow to take the worker's card: SIGTERM comes while it is on the wire.
    let onTheWire!: () => void;
    const sending = new Promise<void>((resolve) => (onTheWire = resolve));
    telegram.slowDown(line.token, (method, params) => {
      if (method !== 'sendMessage' || Number(params.chat_id) !== WORKER_TELEGRAM.stop) return 0;
      onTheWire();
      return 1_500;
    });
    const created = await chat.press(/^rq\|ok:/);
    const referralId = /R-[A-Z0-9]{3,10}/.exec(created.text)![0];
    await sending;
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(loggedErrors(first)).toEqual([]);
    telegram.slowDown(line.token, undefined);

    // After the restart: the family's "received" and the worker's card, each once, and the worker can act on it.
    const second = await line.start();
    const cards = () => worker.messagesNow().filter((m) => m.buttons.some((b) => b.data === `w|${referralId}|ac`));
    await until(() => cards().length > 0, 'the card at the worker');
    const received = text(lang, 'referral', 'family.notices.received', { id: referralId });
    await chat.waitFor((m) => m.text === received, 'the family hears the request was received');
    // Settled: the restarted process answers a press on the card, so its delivery loop has run.
    expect(await worker.tap(cards()[0]!, 'ac')).toBe(text(lang, 'referral', 'worker.done.accepted'));
    await chat.waitFor((m) => m.text === text(lang, 'referral', 'family.notices.contact_soon', { id: referralId }), 'the family hears a worker will contact them');
    // Settled: no notice is waiting in the delivery stream or pending with a consumer, so none can be sent again.
    await until(() => noticesLeft(line.prefix).then((n) => n === 0), 'the referral notices all delivered');
    // Every card Telegram was asked to deliver to the worker (carried out even when the sender died waiting): one.
    const header = text(lang, 'referral', 'worker.notices.new', { id: referralId });
    const sent = telegram.callsOf(line.token, 'sendMessage').filter((c) => Number(c.params.chat_id) === WORKER_TELEGRAM.stop && String(c.params.text).startsWith(header));
    expect(sent).toHaveLength(1);
    await chat.poll();
    expect(chat.received.filter((m) => m.text === received)).toHaveLength(1);
    expect(loggedErrors(second)).toEqual([]);
    expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);
});
