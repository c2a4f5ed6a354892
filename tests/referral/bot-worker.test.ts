/**
 * The workers' side on a real Redis: linking by a one-time code, the card a
 * worker acts on without scrolling, accept → contacted → visit → complete
 * edited in place while the family hears each step in their language, decline
 * re-routing, reminders, /referrals and a supervisor's reassign, and a press by
 * anyone else refused and logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import { CARD_LIMIT } from '../../src/bot/referral-view.js';
import type { Lang } from '../../src/engine/types.js';
import { chatRef } from '../../src/log.js';
import type { ReferralPacket } from '../../src/referral/types.js';
import type { Redis } from '../../src/store/redis.js';
import type { FamilyDriver } from '../helpers/bot-harness.js';
import { LOG_SALT, MINUTE, STRANGER } from '../helpers/handoff-harness.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { lastShown, messageIdOf, ReferralBotHarness, textsTo, WORKER_USER } from './bot-referral-harness.js';

const base = uniquePrefix('test:referral-bot-worker');
let redis: Redis;
let n = 0;
const harness = () => new ReferralBotHarness(redis, `${base}${++n}:`);

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, base);
  redis.destroy();
});

/** A family in Astana asks through the bot (written to here in Telegram); returns the family and the referral id. */
async function familyRequest(rb: ReferralBotHarness, chatId: number, lang: Lang): Promise<{ family: FamilyDriver; id: string }> {
  const family = await rb.familyAtResult(chatId, lang, '/start r-astana');
  await family.press('rf');
  await family.press('c:t');
  await family.press('t:morning');
  await family.press(/^rq\|ok:/);
  const [referral] = await rb.service.statusFor(chatId);
  return { family, id: referral!.id };
}

/** The card message a worker received (its id and buttons). */
function cardIn(calls: ApiCall[], userId: number) {
  const call = [...calls].reverse().find((c) => c.method === 'sendMessage' && Number(c.payload.chat_id) === userId)!;
  return { ...lastShown([call], userId)!, messageId: messageIdOf(call) };
}

/** The edit of a given message, as last made. */
function editOf(calls: ApiCall[], userId: number, messageId: number) {
  const call = [...calls].reverse().find((c) => c.method === 'editMessageText' && Number(c.payload.chat_id) === userId && c.payload.message_id === messageId);
  return call ? lastShown([call], userId) : undefined;
}

describe('linking a worker', () => {
  it('a one-time code links the account and says who they are and what comes next; a used or wrong code reveals nothing', async () => {
    const rb = harness();
    const invite = await rb.service.issueInvite('w-ast-1');
    const worker = rb.worker('w-ast-1', 'ru');
    await worker.say(`/start w-${invite.code}`);
    expect(worker.lastText).toContain('привязан к сотруднику w-ast-1 (Астана (тест), сотрудник)');
    expect(worker.lastText).toContain('Новые направления для Вас будут приходить в этот чат');
    expect(worker.lastText).toContain(rb.hh.h.deps.translator.t('ru', 'referral:worker.linkedExample'));
    expect(await rb.service.workerOf(WORKER_USER['w-ast-1'])).toBe('w-ast-1');

    const other = rb.worker('w-ast-2', 'ru');
    await other.say(`/start w-${invite.code}`);
    const refusal = rb.hh.h.deps.translator.t('ru', 'referral:worker.badCode');
    expect(other.lastText).toBe(refusal);
    await other.say('/start w-NOTACODE1');
    expect(other.lastText).toBe(refusal);
    expect(await rb.service.workerOf(WORKER_USER['w-ast-2'])).toBeUndefined();
    expect(rb.hh.logLines.join('\n')).not.toContain(invite.code);
  });

  it('an English Telegram app gets the English texts', async () => {
    const rb = harness();
    const worker = await rb.link('w-ast-1', 'en');
    expect(worker.lastText).toContain('This Telegram account is now linked as worker w-ast-1');
  });
});

describe('the referral card', () => {
  it('fits one screen (≤ 900 characters) with everything a worker needs, and its buttons', async () => {
    const rb = harness();
    await rb.link('w-ast-psy', 'ru');
    const packet: ReferralPacket = {
      caseId: 'K7QX2',
      lang: 'kk',
      region: 'astana',
      urgent: true,
      profile: 'psychologist',
      result: [
        { kind: 'ground', id: 'disability', status: 'indicated' },
        { kind: 'ground', id: 'cruel_treatment', status: 'needs_info' },
        { kind: 'ground', id: 'child_neglect', status: 'needs_info' },
        { kind: 'ground', id: 'homelessness', status: 'needs_info' },
        { kind: 'ground', id: 'orphanhood', status: 'needs_info' },
        { kind: 'ground', id: 'cannot_self_care', status: 'needs_info' },
      ].map((x) => x as ReferralPacket['result'][number]),
      receives: [],
      contact: { kind: 'phone', phone: '+77011234567' },
      contactTime: 'evening',
      note: 'Долгая заметка оператора. '.repeat(40),
      admissionRoutes: ['own_application'],
    };
    const { referral } = await rb.service.create({ packet, source: 'operator', actor: { kind: 'operator', userId: 7001 } });
    const card = cardIn(await rb.deliver(), WORKER_USER['w-ast-psy']);
    expect(card.text.length).toBeLessThanOrEqual(CARD_LIMIT);
    for (const part of [referral.id, '🔴 СРОЧНО', 'Профиль: Психолог', 'Где: Астана', 'Язык семьи: казахский', 'обращение на горячую линию #K7QX2', 'Связь: телефон +77011234567', 'Удобное время: ближе к вечеру (15–18)', 'Заметка оператора: Долгая', 'Основание приёма: заявление самого человека', 'Статус: ждёт принятия', '❓ ещё неизвестно: 2']) {
      expect(card.text).toContain(part);
    }
    expect(card.labels).toEqual(['✅ Принять', '✖️ Отклонить', '↪️ Перенаправить']);
    for (const d of card.data) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(64);

    // A psychologist's referral: its note is for psychologists only, not for the supervisor.
    const supervisor = await rb.link('s-ast');
    await supervisor.say('/referrals');
    const seen = cardIn(await supervisor.press('op'), WORKER_USER['s-ast']);
    expect(seen.text).toContain(referral.id);
    expect(seen.text).not.toContain('Долгая заметка');
  });
});

describe.each(['ru', 'kk'] as const)('accept → contacted → visit → complete (%s family)', (lang) => {
  it('edits the card in place at each step, and the family hears each step in their language', async () => {
    const rb = harness();
    const worker = await rb.link('w-ast-1', 'ru');
    const chatId = lang === 'ru' ? 6001 : 6002;
    const { id } = await familyRequest(rb, chatId, lang);
    const first = await rb.deliver();
    const card = cardIn(first, WORKER_USER['w-ast-1']);
    const tf = rb.hh.h.deps.translator.bind(lang);
    expect(textsTo(first, chatId)).toEqual([tf('referral:family.notices.received', { id })]);

    const accepted = await worker.pressData(`w|${id}|ac`, card.messageId);
    expect(accepted.find((c) => c.method === 'answerCallbackQuery')!.payload.text).toBe('Принято. Семье сообщено, что с ней свяжется сотрудник.');
    const afterAccept = editOf(accepted, WORKER_USER['w-ast-1'], card.messageId)!;
    expect(afterAccept.text).toContain('Статус: принято');
    expect(afterAccept.data).toEqual([`w|${id}|ct`, `w|${id}|vp`, `w|${id}|cp`, `w|${id}|dc`, `w|${id}|rd`, `w|${id}|wr`]);
    expect(textsTo(await rb.deliver(), chatId)).toEqual([tf('referral:family.notices.accepted', { id }), tf('referral:family.notices.contact_soon', { id })]);

    const contacted = await worker.pressData(`w|${id}|ct`, card.messageId);
    expect(editOf(contacted, WORKER_USER['w-ast-1'], card.messageId)!.text).toContain('Статус: в работе');

    const menu = await worker.pressData(`w|${id}|vp`, card.messageId);
    const days = editOf(menu, WORKER_USER['w-ast-1'], card.messageId)!.data;
    // Monday 16 Nov 2026: the next working days, then "type a date", then back.
    expect(days).toEqual([...['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'].map((d) => `w|${id}|vp:${d}`), `w|${id}|vp:ty`, `w|${id}|bk`]);
    const planned = await worker.pressData(`w|${id}|vp:2026-11-18`, card.messageId);
    expect(editOf(planned, WORKER_USER['w-ast-1'], card.messageId)!.text).toContain('Визит запланирован: 18.11.2026');
    const visitDate = lang === 'ru' ? '18.11.2026' : '2026 жылғы 18 қараша';
    expect(textsTo(await rb.deliver(), chatId)).toEqual([tf('referral:family.notices.visit_planned', { id, date: visitDate })]);

    await worker.pressData(`w|${id}|cp`, card.messageId);
    const completed = await worker.pressData(`w|${id}|cp:need_determined`, card.messageId);
    const final = editOf(completed, WORKER_USER['w-ast-1'], card.messageId)!;
    expect(final.text).toContain('Статус: завершено');
    expect(final.text).toContain('Итог: Потребность определена');
    expect(final.data).toEqual([]);
    const told = textsTo(await rb.deliver(), chatId);
    expect(told).toEqual([`${tf('referral:family.notices.completed', { id })}\n\n${tf('referral:family.outcomeWords.need_determined')}`]);
    expect(told[0]).toMatch(lang === 'ru' ? /Ваш запрос R-\w+ завершён/ : /сұрауыңыз аяқталды/);
    expect(rb.missingKeys()).toEqual([]);
  });
});

describe('decline, redirect, reminders', () => {
  it('a decline with a reason re-routes to the next worker; the decliner’s card keeps no buttons', async () => {
    const rb = harness();
    const first = await rb.link('w-ast-1');
    await rb.link('w-ast-2');
    const { id } = await familyRequest(rb, 6011, 'ru');
    const card = cardIn(await rb.deliver(), WORKER_USER['w-ast-1']);
    const reasons = editOf(await first.pressData(`w|${id}|dc`, card.messageId), WORKER_USER['w-ast-1'], card.messageId)!;
    expect(reasons.data).toEqual([...['not_my_territory', 'not_my_profile', 'no_capacity', 'duplicate', 'other'].map((r) => `w|${id}|dc:${r}`), `w|${id}|bk`]);
    const declined = await first.pressData(`w|${id}|dc:no_capacity`, card.messageId);
    const mine = editOf(declined, WORKER_USER['w-ast-1'], card.messageId)!;
    expect(mine.data).toEqual([]);
    expect(mine.text).toContain('Отклонено; направление распределяется заново.');
    const [referral] = await rb.service.statusFor(6011);
    expect(referral).toMatchObject({ status: 'requested', workerId: 'w-ast-2', declineReason: 'no_capacity' });
    const next = await rb.deliver();
    expect(cardIn(next, WORKER_USER['w-ast-2']).data).toEqual([`w|${id}|ac`, `w|${id}|dc`, `w|${id}|rd`]);
    expect(textsTo(next, 6011)).toEqual([rb.hh.h.deps.translator.t('ru', 'referral:family.notices.rerouted', { id })]);
  });

  it('a redirect to another region goes to a worker there', async () => {
    const rb = harness();
    const worker = await rb.link('w-ast-1');
    await rb.link('w-kar-1');
    const { id } = await familyRequest(rb, 6012, 'ru');
    const card = cardIn(await rb.deliver(), WORKER_USER['w-ast-1']);
    await worker.pressData(`w|${id}|rd`, card.messageId);
    const regions = editOf(await worker.pressData(`w|${id}|rd:t`, card.messageId), WORKER_USER['w-ast-1'], card.messageId)!;
    expect(regions.data).toContain(`w|${id}|rd:t:karaganda`);
    await worker.pressData(`w|${id}|rd:t:karaganda`, card.messageId);
    expect((await rb.service.statusFor(6012))[0]).toMatchObject({ region: 'karaganda', workerId: 'w-kar-1' });
    expect(cardIn(await rb.deliver(), WORKER_USER['w-kar-1']).text).toContain('Карагандинская область');
  });

  it('an unacknowledged referral brings a reminder with the card again, then goes to the supervisor', async () => {
    const rb = harness();
    await rb.link('w-ast-1');
    await rb.link('s-ast');
    const { id } = await familyRequest(rb, 6013, 'ru');
    await rb.deliver();
    rb.hh.clock.advance(61 * MINUTE);
    expect(await rb.service.fireDueTimers()).toBeGreaterThan(0);
    const reminder = cardIn(await rb.deliver(), WORKER_USER['w-ast-1']);
    expect(reminder.text.startsWith('⏰ Напоминание')).toBe(true);
    expect(reminder.data).toEqual([`w|${id}|ac`, `w|${id}|dc`, `w|${id}|rd`]);

    rb.hh.clock.advance(61 * MINUTE);
    await rb.service.fireDueTimers();
    const escalated = cardIn(await rb.deliver(), WORKER_USER['s-ast']);
    expect(escalated.text.startsWith('⚠️ Передано Вам как супервизору')).toBe(true);
    expect(escalated.data).toEqual([`w|${id}|ac`, `w|${id}|dc`, `w|${id}|rd`, `w|${id}|ra`]);
  });
});

describe('who may act', () => {
  it('a worker of another region, or an account that is not linked, is refused, nothing changes, and the attempt is logged', async () => {
    const rb = harness();
    await rb.link('w-ast-1');
    const outsider = await rb.link('w-kar-1');
    const { id } = await familyRequest(rb, 6021, 'ru');
    await rb.deliver();

    const press = await outsider.pressData(`w|${id}|ac`, 1);
    expect(press.find((c) => c.method === 'answerCallbackQuery')!.payload).toMatchObject({ text: 'Нельзя: это направление не Ваше.', show_alert: true });
    expect(press.filter((c) => c.method === 'editMessageText')).toEqual([]);
    const stranger = rb.hh.family(STRANGER);
    await stranger.pressData(`w|${id}|ac`, 1);
    expect((await rb.service.statusFor(6021))[0]!.status).toBe('requested');

    const refused = rb.hh.logs.filter((l) => l.msg === 'referral action refused');
    expect(refused.map((l) => [l.user, l.referral, l.action, l.refusal])).toEqual([
      [chatRef(WORKER_USER['w-kar-1'], LOG_SALT), id, 'ac', 'not_yours'],
      [chatRef(STRANGER, LOG_SALT), id, 'ac', 'not_linked'],
    ]);
    expect(rb.hh.logLines.join('\n')).not.toContain(String(WORKER_USER['w-kar-1']));
    expect((await rb.service.auditTrail(id)).some((e) => e.what === 'refused')).toBe(true);
  });
});

describe('/referrals and the supervisor', () => {
  it('a worker sees their open referrals; the supervisor sees the territory and reassigns', async () => {
    const rb = harness();
    const worker = await rb.link('w-ast-1');
    await rb.link('w-ast-2');
    const supervisor = await rb.link('s-ast');
    const { id } = await familyRequest(rb, 6031, 'ru');
    await rb.deliver();

    await worker.say('/referrals');
    expect(worker.lastText).toContain('Ваши открытые направления: 1');
    expect(worker.lastText).toContain(`${id} · Оценка потребности · Астана · ждёт принятия`);
    expect(worker.buttons.map((b) => b.data)).toEqual([`w|${id}|op`]);

    await supervisor.say('/referrals');
    expect(supervisor.lastText).toContain('Открытые направления на Вашей территории: 1');
    const opened = await supervisor.press(`op`);
    const card = cardIn(opened, WORKER_USER['s-ast']);
    expect(card.data).toContain(`w|${id}|ra`);
    const menu = editOf(await supervisor.pressData(`w|${id}|ra`, card.messageId), WORKER_USER['s-ast'], card.messageId)!;
    expect(menu.data).toEqual([`w|${id}|ra:w-ast-2`, `w|${id}|bk`]);
    await supervisor.pressData(`w|${id}|ra:w-ast-2`, card.messageId);
    expect((await rb.service.statusFor(6031))[0]!.workerId).toBe('w-ast-2');
    const told = await rb.deliver();
    expect(textsTo(told, WORKER_USER['w-ast-1'])).toEqual([`Направление ${id} передано другому сотруднику.`]);
    expect(cardIn(told, WORKER_USER['w-ast-2']).text.startsWith('👥 Передано Вам')).toBe(true);
  });

  it('a visit date can be typed as DD.MM; a wrong one is asked again', async () => {
    const rb = harness();
    const worker = await rb.link('w-ast-1');
    const { id } = await familyRequest(rb, 6032, 'ru');
    const card = cardIn(await rb.deliver(), WORKER_USER['w-ast-1']);
    await worker.pressData(`w|${id}|ac`, card.messageId);
    await worker.pressData(`w|${id}|vp:ty`, card.messageId);
    expect(worker.lastText).toContain('в виде ДД.ММ');
    await worker.say('31.02');
    expect(worker.lastText).toBe(rb.hh.h.deps.translator.t('ru', 'referral:worker.badDate'));
    const typed = await worker.say('24.11');
    expect(worker.lastText).toBe('Визит запланирован на 24.11.');
    expect(editOf(typed, WORKER_USER['w-ast-1'], card.messageId)!.text).toContain('Визит запланирован: 24.11.2026');
    expect((await rb.service.statusFor(6032))[0]).toMatchObject({ status: 'in-progress', visitDate: '2026-11-24' });
  });

  it('a worker writes to a family who chose Telegram, through the bot, and the family replies', async () => {
    const rb = harness();
    const worker = await rb.link('w-ast-1');
    const { family, id } = await familyRequest(rb, 6033, 'kk');
    const card = cardIn(await rb.deliver(), WORKER_USER['w-ast-1']);
    await worker.pressData(`w|${id}|ac`, card.messageId);
    await worker.pressData(`w|${id}|wr`, card.messageId);
    expect(worker.lastText).toBe(rb.hh.h.deps.translator.t('ru', 'referral:worker.write.prompt', { id }));
    const sent = await worker.say('Здравствуйте! Когда Вам удобно встретиться?');
    expect(worker.lastText).toBe('Отправлено семье.');
    expect(textsTo(sent, 6033)).toEqual([`${rb.hh.h.deps.translator.t('kk', 'referral:family.fromWorker', { id })}\n\nЗдравствуйте! Когда Вам удобно встретиться?`]);

    family.buttons = lastShown(sent, 6033)!.data.map((data) => ({ data, text: data, messageId: 1 }));
    await family.press(`rr|${id}`);
    expect(family.lastText).toBe(rb.hh.h.deps.translator.t('kk', 'referral:family.replyPrompt'));
    const reply = await family.say('Ертең таңертең');
    expect(family.lastText).toBe(rb.hh.h.deps.translator.t('kk', 'referral:family.replySent'));
    expect(textsTo(reply, WORKER_USER['w-ast-1'])).toEqual([`✉️ Семья по направлению ${id} пишет:\n\nЕртең таңертең`]);
    expect(lastShown(reply, WORKER_USER['w-ast-1'])!.data).toEqual([`w|${id}|wr`]);
    expect(rb.hh.logLines.join('\n')).not.toContain('Ертең');
  });
});
