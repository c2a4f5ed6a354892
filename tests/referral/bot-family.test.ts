/**
 * The family's side of referrals on a real Redis: from the result, who the
 * request goes to, how to be contacted (their own number only, or here in
 * Telegram), exactly what will be shared and their consent; refusing creates
 * nothing; /status at any time; /forget cancels and the worker is told without
 * the family's data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyPacket } from '../../src/bot/referral-family.js';
import { packetPreview } from '../../src/bot/referral-view.js';
import type { Redis } from '../../src/store/redis.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';
import { dialogOf } from '../helpers/family-dialog.js';
import { lastShown, ReferralBotHarness, textsTo, WORKER_USER } from './bot-referral-harness.js';

const base = uniquePrefix('test:referral-bot-family');
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

describe('a family asks for a social worker from the result', () => {
  it('shows who it goes to, asks how to be contacted, shows exactly the packet, and only "yes" creates it', async () => {
    const rb = harness();
    await rb.link('w-ast-1');
    await rb.link('w-ast-2');
    const f = await rb.familyAtResult(5001, 'ru', '/start r-astana'); // the region comes with the link
    expect(f.buttons.some((b) => b.data.endsWith('|rf'))).toBe(true);

    await f.press('rf');
    expect(f.lastText).toContain('Астана');
    expect(f.lastText).toContain('социальному работнику, который проводит оценку');
    expect(f.buttons.map((b) => b.data)).toEqual(expect.arrayContaining(['rq|c:p', 'rq|c:t', 'rq|st']));
    expect(f.buttons.slice(-2).map((b) => b.data.split('|')[1])).toEqual(['tk', 'dg']);

    await f.press('c:t');
    expect(f.lastText).toBe('Когда Вам удобнее, чтобы с Вами связались?');
    await f.press('t:morning');
    const preview = f.lastText;
    expect(preview).toContain('Вот что именно будет передано');
    expect(preview).toContain('• Ваш язык: русский');
    expect(preview).toContain('• Связь: сообщение Вам здесь, в Telegram, через бота');
    expect(preview).toContain('• Когда: утром (9–12)');
    expect(preview).toContain('Не передаются: Ваше имя');
    expect(preview).toContain('Эти данные хранятся 30 дней после закрытия запроса');
    expect(f.buttons.map((b) => b.data)).toEqual([expect.stringMatching(/^rq\|ok:[A-Za-z0-9_-]{10}$/), 'rq|no', expect.stringMatching(/\|tk$/), expect.stringMatching(/\|dg$/)]);
    expect(await rb.service.statusFor(5001)).toEqual([]); // nothing before consent

    await f.press(/^rq\|ok:/);
    expect(f.lastText).toMatch(/^📨 Ваш запрос R-[A-Z0-9]+ отправлен/);
    const [referral] = await rb.service.statusFor(5001);
    expect(referral).toMatchObject({ status: 'requested', region: 'astana', lang: 'ru', profile: 'assessment', source: 'family', workerId: 'w-ast-1' });
    // Exactly what was shown is what was stored.
    const snapshot = await dialogOf(rb.hh.h, 5001);
    const expected = familyPacket(rb.hh.h.deps.catalogue, snapshot, { at: 0, contact: { kind: 'telegram' }, contactTime: 'morning' }, 'ru');
    expect(referral!.packet).toEqual(expected);
    expect(preview).toContain(packetPreview(rb.hh.h.deps.translator.bind('ru'), referral!.packet!));

    const delivered = await rb.deliver();
    expect(textsTo(delivered, 5001)).toEqual([`📨 Ваш запрос ${referral!.id} поступил в социальную службу. Социальный работник скоро его рассмотрит.`]);
    const card = lastShown(delivered, WORKER_USER['w-ast-1'])!;
    expect(card.text).toContain(`Направление ${referral!.id}`);
    expect(card.data).toEqual([`w|${referral!.id}|ac`, `w|${referral!.id}|dc`, `w|${referral!.id}|rd`]);
    expect(rb.missingKeys()).toEqual([]);
  });

  it('refusing consent creates nothing and keeps nothing of the request', async () => {
    const rb = harness();
    const f = await rb.familyAtResult(5002, 'kk');
    await f.press('rf');
    await f.press('r:astana');
    await f.press('c:t');
    await f.press('t:any');
    await f.press('no');
    expect(f.lastText).toBe(rb.hh.h.deps.translator.t('kk', 'referral:family.refused'));
    expect(await rb.service.statusFor(5002)).toEqual([]);
    expect((await rb.hh.h.deps.sessions.read('5002'))?.referralDraft).toBeUndefined();
    expect(textsTo(await rb.deliver(), WORKER_USER['w-ast-1'])).toEqual([]);
  });

  it('takes only the family’s own phone number from Telegram’s contact button', async () => {
    const rb = harness();
    const f = await rb.familyAtResult(5003, 'ru');
    await f.press('rf');
    await f.press('r:astana');
    const ask = await f.press('c:p');
    const keyboard = ask.find((c) => c.method === 'sendMessage')!.payload.reply_markup as { keyboard: { request_contact?: boolean }[][] };
    expect(keyboard.keyboard[0]![0]!.request_contact).toBe(true);

    await f.send({ contact: { phone_number: '+77770000000', first_name: 'Someone', user_id: 999_999 } });
    expect(f.texts.at(-2)).toBe(rb.hh.h.deps.translator.t('ru', 'referral:family.notYourContact'));
    await f.send({ contact: { phone_number: '77011234567', first_name: 'Test', user_id: 5003 } });
    expect(f.lastText).toBe('Когда Вам удобнее, чтобы с Вами связались?');
    await f.press('t:evening');
    expect(f.lastText).toContain('• Связь: Ваш номер телефона +77011234567');
    expect(f.lastText).not.toContain('77770000000');
  });

  it('asks the region when it was not answered, in Kazakh, and routes there', async () => {
    const rb = harness();
    await rb.link('w-kar-1', 'kk');
    const f = rb.family(5004, 'kk');
    await f.say('/start');
    await f.press('cs');
    const { answerUntil } = await import('../helpers/family-dialog.js');
    await answerUntil(f, { in_danger_now: 'no', household_members: 2, children: 0 }); // region: "don't know"
    await f.press('ok');
    await f.press('rf');
    expect(f.lastText).toContain(rb.hh.h.deps.translator.t('kk', 'referral:family.chooseRegion'));
    await f.press('r:karaganda');
    await f.press('c:t');
    await f.press('t:afternoon');
    expect(f.lastText).toContain('• Қайда: Қарағанды облысы');
    await f.press(/^rq\|ok:/);
    const [referral] = await rb.service.statusFor(5004);
    expect(referral).toMatchObject({ region: 'karaganda', lang: 'kk', workerId: 'w-kar-1' });
    const delivered = await rb.deliver();
    expect(textsTo(delivered, 5004)[0]).toContain('сұрауыңыз әлеуметтік қызметке түсті');
    expect(lastShown(delivered, WORKER_USER['w-kar-1'])!.text).toContain('Қарағанды');
  });
});

describe('what is happening with my request', () => {
  it('/status answers at any time, in the family’s language', async () => {
    const rb = harness();
    const f = await rb.familyAtResult(5011, 'ru');
    await f.say('/status');
    expect(f.lastText).toBe(rb.hh.h.deps.translator.t('ru', 'referral:family.noRequest'));
    await f.press('rf');
    await f.press('r:astana');
    await f.press('c:t');
    await f.press('t:any');
    await f.press(/^rq\|ok:/);
    const [referral] = await rb.service.statusFor(5011);
    await f.say('/status');
    expect(f.lastText).toBe(`Ваш запрос ${referral!.id}: отправлен, ждёт, когда его возьмёт социальный работник.`);
  });
});

describe('/forget', () => {
  it('cancels the open request; the worker is told without the family’s data; the packet is erased', async () => {
    const rb = harness();
    await rb.link('w-ast-1');
    const f = await rb.familyAtResult(5021, 'ru');
    await f.press('rf');
    await f.press('r:astana');
    await f.press('c:p');
    await f.send({ contact: { phone_number: '+77011234567', first_name: 'Test', user_id: 5021 } });
    await f.press('t:any');
    await f.press(/^rq\|ok:/);
    const [referral] = await rb.service.statusFor(5021);
    await rb.deliver();

    const forget = await f.say('/forget');
    expect(textsTo(forget, 5021)).toEqual([rb.hh.h.deps.translator.t('ru', 'referral:family.forgotten'), rb.hh.h.deps.translator.t('ru', 'forget.done')]);
    const told = textsTo(await rb.deliver(), WORKER_USER['w-ast-1']);
    expect(told).toEqual([`🗑 Направление ${referral!.id}: семья отозвала согласие. Направление отменено, его данные удалены.`]);
    expect(told.join()).not.toContain('77011234567');
    const after = await rb.service.auditTrail(referral!.id);
    expect(after.map((e) => e.what)).toContain('erased');
    expect(await rb.service.statusFor(5021)).toEqual([]);
  });
});
