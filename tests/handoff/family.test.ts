/**
 * The family's side of the handoff in-process: place-in-line updates only on
 * meaningful changes, urgent cases jumping the line (and danger cues), out of
 * hours (leave a message, call back with a phone only if given), Cancel, End
 * with one-tap feedback, the operator's name hidden unless configured, what
 * stays internal in a topic, and /forget. Memory store.
 */
import { describe, expect, it } from 'vitest';
import type { ApiCall } from '../../src/bot/in-process-api.js';
import {
  answered,
  copies,
  GROUP,
  HandoffHarness,
  MINUTE,
  MONDAY_09_00,
  OPERATOR,
  OTHER,
  reaching,
  sentTo,
  SUNDAY_03_00,
  SUPERVISOR,
  FakeClock,
} from '../helpers/handoff-harness.js';

describe('place in line', () => {
  it('a family hears its new place only when it reaches the front or moves up by three or more', async () => {
    const hh = new HandoffHarness();
    const families = [601, 602, 603, 604, 605].map((id) => hh.family(id));
    const cases = [];
    for (const f of families) {
      cases.push(await hh.open(f));
      hh.clock.advance(MINUTE);
    }
    expect(families.map((f) => f.lastText.match(/место в очереди: (\d+)/)?.[1])).toEqual(['1', '2', '3', '4', '5']);

    const placeUpdates = (calls: ApiCall[]) =>
      Object.fromEntries(families.map((f) => [f.chatId, sentTo(calls, f.chatId).filter((t) => t.startsWith('Ваше место в очереди теперь'))] as const).filter(([, v]) => v.length));

    // 1st taken: the 2nd reaches the front; the others moved up by one only.
    expect(placeUpdates(await hh.operator(OPERATOR).press(cases[0]!, 'take'))).toEqual({ 602: ['Ваше место в очереди теперь: 1.'] });
    // 2nd taken: the 3rd reaches the front; 4th and 5th moved by two since they were told.
    expect(placeUpdates(await hh.operator(OTHER).press(cases[1]!, 'take'))).toEqual({ 603: ['Ваше место в очереди теперь: 1.'] });
    // 3rd leaves the line: the 4th reaches the front, the 5th has moved 5 → 2.
    expect(placeUpdates(await families[2]!.pressData('hx'))).toEqual({ 604: ['Ваше место в очереди теперь: 1.'], 605: ['Ваше место в очереди теперь: 2.'] });
    expect((await hh.get(cases[4]!.id)).toldPlace).toBe(2);
  });

  it('an urgent case jumping ahead moves the others back without a message', async () => {
    const hh = new HandoffHarness();
    const a = hh.family(611);
    const b = hh.family(612);
    await hh.open(a);
    hh.clock.advance(MINUTE);
    await hh.open(b);
    hh.clock.advance(MINUTE);
    hh.telegram.take();
    await hh.service.open(613, 'ru', { urgent: true });
    expect(reaching(hh.telegram.take(), 611)).toEqual([]);
    expect(await hh.store.placeInLine((await hh.store.openCaseOf(611))!.id)).toBe(2);
  });
});

describe('urgent cases', () => {
  it('jump the line and are announced to the operators on duty with mentions', async () => {
    const hh = new HandoffHarness();
    await hh.open(hh.family(620));
    hh.clock.advance(MINUTE);
    hh.telegram.take();
    const opened = await hh.service.open(621, 'kk', { urgent: true });
    const calls = hh.telegram.take();
    expect(opened.opened && opened.place).toBe(1);
    expect((await hh.store.waiting()).map((r) => r.chatId)).toEqual([621, 620]);

    const topic = calls.find((c) => c.method === 'createForumTopic')!;
    expect(topic.payload.name).toMatch(/URGENT/);
    const announcement = calls.find((c) => c.method === 'sendMessage' && String(c.payload.text).startsWith('🔴 Urgent case'))!;
    expect(announcement.payload).toMatchObject({ chat_id: GROUP, parse_mode: 'HTML' });
    expect(String(announcement.payload.text)).toContain(`#${opened.record.id}`);
    expect(String(announcement.payload.text)).toContain(`tg://user?id=${OPERATOR}`);
    expect(String(announcement.payload.text)).toContain(`tg://user?id=${OTHER}`);
  });

  it('a granted operator is mentioned too', async () => {
    const hh = new HandoffHarness();
    await hh.store.grantRole('operator', 7003);
    hh.telegram.take();
    await hh.service.open(622, 'ru', { urgent: true });
    const text = sentTo(hh.telegram.take(), GROUP).find((t) => t.startsWith('🔴 Urgent'))!;
    expect(text).toContain('tg://user?id=7003');
  });

  it('a danger cue in a message while waiting: the family gets the numbers, the case turns urgent and jumps the line, supervisors are alerted in its topic', async () => {
    const hh = new HandoffHarness();
    const calm = await hh.open(hh.family(625));
    hh.clock.advance(MINUTE);
    const f = hh.family(626);
    const rec = await hh.open(f);
    expect(await hh.store.placeInLine(rec.id)).toBe(2);

    const calls = await f.say('муж опять бьет детей');
    expect(sentTo(calls, 626)[0]).toMatch(/112/);
    expect(copies(calls, GROUP)).toHaveLength(1);
    expect((await hh.get(rec.id)).urgent).toBe(true);
    expect((await hh.store.waiting()).map((r) => r.id)).toEqual([rec.id, calm.id]);
    // Not announced as a new waiting case: an alert in the case's own topic, for the supervisors (nobody holds it yet).
    expect(sentTo(calls, GROUP).some((t) => t.startsWith('🔴 Urgent case'))).toBe(false);
    const alert = calls.find((c) => c.method === 'sendMessage' && String(c.payload.text).startsWith(`🆘 Case #${rec.id}`))!;
    expect(alert.payload).toMatchObject({ chat_id: GROUP, message_thread_id: (await hh.get(rec.id)).topicId, parse_mode: 'HTML' });
    expect(String(alert.payload.text)).toContain(`tg://user?id=${SUPERVISOR}`);
    expect(String(alert.payload.text)).toContain('violence');
    expect(calls.find((c) => c.method === 'editForumTopic')!.payload.name).toMatch(/URGENT/);
    expect((await hh.store.auditTrail(rec.id)).some((e) => e.type === 'danger_words' && e.detail === 'violence')).toBe(true);
  });

  it('a danger cue in a case an operator holds alerts that operator in the topic, and nobody else', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(628);
    const rec = await hh.open(f);
    await hh.operator(OPERATOR).press(rec, 'take');
    const calls = await f.say('хочу умереть');
    expect(sentTo(calls, 628)[0]).toContain('150'); // self-harm: the trust line leads
    const alert = sentTo(calls, GROUP).find((t) => t.startsWith(`🆘 Case #${rec.id}`))!;
    expect(alert).toContain(`tg://user?id=${OPERATOR}`);
    expect(alert).not.toContain(`tg://user?id=${SUPERVISOR}`);
    expect(sentTo(calls, GROUP).some((t) => t.startsWith('🔴 Urgent case'))).toBe(false);
    expect(copies(calls, GROUP)).toHaveLength(1); // the message itself still reaches the operator
  });

  it('"talk to a person now" in danger: the family is in the line at once, told it is urgent, and asked about the summary after', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(627);
    await f.say('/start');
    await f.say('меня избивает муж');
    const calls = await f.press('ut'); // "talk to a person now" on the danger screen
    const rec = (await hh.store.openCaseOf(627))!;
    expect(rec.urgent).toBe(true);
    expect(rec.summary).toBeUndefined();
    const texts = sentTo(calls, 627);
    expect(texts[0]).toMatch(/срочное/);
    expect(texts.at(-1)).toBe(hh.h.deps.translator.t('ru', 'handoff.family.shareAfterUrgent'));
    await f.pressData('hs|1');
    expect((await hh.get(rec.id)).summary).toBeDefined();
    expect(f.lastText).toBe(hh.h.deps.translator.t('ru', 'handoff.family.summaryShared'));
  });
});

describe('what reaches the family', () => {
  it('only the holder\'s messages in the case topic reach the family; before a claim, from others, in General or from bots, everything stays internal', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(630);
    const rec = await hh.open(f);
    const topic = rec.topicId!;

    expect(reaching(await hh.operator(OPERATOR).write(topic, 'before the claim'), 630)).toEqual([]);
    await hh.operator(OPERATOR).press(rec, 'take');
    expect(reaching(await hh.operator(OTHER).write(topic, 'a colleague comments'), 630)).toEqual([]);
    expect(reaching(await hh.operator(OPERATOR).write(undefined, 'in General'), 630)).toEqual([]);
    const fromBot = await hh.deliver({
      message: { message_id: 9, date: 0, chat: { id: GROUP, type: 'supergroup', title: 'Ops', is_forum: true }, from: { id: 555, is_bot: true, first_name: 'OtherBot' }, text: 'x', message_thread_id: topic, is_topic_message: true },
    } as never);
    expect(reaching(fromBot, 630)).toEqual([]);

    const relayed = await hh.operator(OPERATOR).write(topic, 'Здравствуйте, я оператор');
    expect(copies(relayed, 630).map((c) => c.payload)).toEqual([{ chat_id: 630, from_chat_id: GROUP, message_id: expect.any(Number) }]);
    // Photos, voice and stickers go the same way: copied, never forwarded with a name.
    const photo = await hh.operator(OPERATOR).write(topic, '', { text: undefined, photo: [{ file_id: 'p', file_unique_id: 'p', width: 1, height: 1 }] });
    expect(copies(photo, 630)).toHaveLength(1);
    expect(relayed.concat(photo).some((c) => c.method === 'forwardMessage')).toBe(false);
  });

  it('the family\'s messages before a claim wait in the topic for whoever takes the case', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(631);
    const rec = await hh.open(f);
    const calls = await f.say('Здравствуйте, нужна помощь с пособием');
    expect(copies(calls, GROUP).map((c) => c.payload)).toEqual([{ chat_id: GROUP, from_chat_id: 631, message_id: expect.any(Number), message_thread_id: rec.topicId }]);
    expect(await hh.store.unsentRelays()).toEqual([]);
  });

  it('the operator\'s name is not shown unless configured', async () => {
    const hidden = new HandoffHarness();
    const a = await hidden.open(hidden.family(632));
    const taken = await hidden.operator(OPERATOR, 'Aigerim').press(a, 'take');
    expect(sentTo(taken, 632)).toEqual(['Оператор на связи. Можете писать здесь.']);
    expect(taken.some((c) => c.method === 'getChatMember')).toBe(false);

    const shown = new HandoffHarness({ showOperatorName: true });
    const b = await shown.open(shown.family(633));
    const named = await shown.operator(OPERATOR, 'Aigerim').press(b, 'take');
    expect(sentTo(named, 633)).toEqual(['Aigerim на связи. Можете писать здесь.']);
  });

  it('/start while a case is open says "just write here" instead of restarting', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(634);
    await hh.open(f);
    const calls = await f.say('/start');
    expect(sentTo(calls, 634)).toEqual(['Вы уже на связи с операторами: просто пишите здесь.']);
    expect(f.buttons.map((b) => b.data)).toEqual(['hx']);
  });

  it('asking again while a case is open does not open a second one', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(635);
    const rec = await hh.open(f);
    const again = await f.pressData('hs|1');
    expect(again.some((c) => c.method === 'createForumTopic')).toBe(false);
    expect((await hh.store.openCaseOf(635))!.id).toBe(rec.id);
    expect(f.lastText).toMatch(/уже на связи/);
  });
});

describe('out of hours', () => {
  const outOfHours = () => new HandoffHarness({ clock: new FakeClock(SUNDAY_03_00), hours: 'mon-fri 09:00-18:00' });

  it('the family is told the hours and offered: leave a message, call back, leave the line', async () => {
    const hh = outOfHours();
    const f = hh.family(640);
    const rec = await hh.open(f, false);
    expect(rec.status).toBe('out_of_hours');
    expect(f.lastText).toContain('Пн–Пт 09:00–18:00');
    expect(f.buttons.map((b) => b.data)).toEqual(['hm', 'hc', 'hx']);
    expect(rec.summary).toBeUndefined();
    expect(rec.consentAt).toBeUndefined();

    await f.pressData('hm');
    expect(f.lastText).toBe('Напишите, пожалуйста, сообщение здесь. Его получит первый оператор на смене.');
    const left = await f.say('Перезвоните мне в понедельник');
    expect(copies(left, GROUP)).toHaveLength(1);
    expect(copies(left, GROUP)[0]!.payload.message_thread_id).toBe(rec.topicId);
  });

  it('call back with a shared contact: the phone is on the card, never in the topic as a message', async () => {
    const hh = outOfHours();
    const f = hh.family(641);
    const rec = await hh.open(f, false);
    const asked = await f.pressData('hc');
    expect(JSON.stringify(asked.find((c) => c.method === 'sendMessage')!.payload.reply_markup)).toContain('"request_contact":true');

    const shared = await f.send({ contact: { phone_number: '+77001234567', first_name: 'Test', user_id: 641 } });
    expect(f.lastText).toBe('Спасибо. Оператор перезвонит Вам в рабочее время.');
    expect(copies(shared, GROUP)).toEqual([]);
    expect((await hh.get(rec.id)).callbackPhone).toBe('+77001234567');
    const card = shared.find((c) => c.method === 'editMessageText')!;
    expect(String(card.payload.text)).toContain('Call back: +77001234567');
    expect((await hh.store.auditTrail(rec.id)).map((e) => e.type)).toContain('callback_requested');
  });

  it('call back with a typed number works too', async () => {
    const hh = outOfHours();
    const f = hh.family(642);
    const rec = await hh.open(f, false);
    await f.pressData('hc');
    await f.say('+7 700 123 45 67');
    expect((await hh.get(rec.id)).callbackPhone).toBe('+7 700 123 45 67');
  });

  it('no phone given: nothing is stored, the family is told how to send one, and later messages go to the operators again', async () => {
    const hh = outOfHours();
    const f = hh.family(643);
    const rec = await hh.open(f, false);
    await f.pressData('hc');
    const refused = await f.say('не хочу давать номер');
    expect(f.lastText).toMatch(/не похоже на номер/);
    expect(copies(refused, GROUP)).toEqual([]);
    expect((await hh.get(rec.id)).callbackPhone).toBeUndefined();
    expect((await hh.store.auditTrail(rec.id)).map((e) => e.type)).not.toContain('callback_requested');
    expect(copies(await f.say('просто сообщение'), GROUP)).toHaveLength(1);
  });

  it('when the line opens, the case joins it and its SLA clock starts', async () => {
    const hh = outOfHours();
    const f = hh.family(644);
    const rec = await hh.open(f, false);
    expect(await hh.service.fireDueTimers()).toBe(0);
    hh.clock.at = MONDAY_09_00;
    hh.telegram.take();
    expect(await hh.service.fireDueTimers()).toBe(1);
    expect((await hh.get(rec.id)).status).toBe('waiting');
    expect(hh.telegram.take().find((c) => c.method === 'editMessageText')!.payload.text).toMatch(/waiting in line/);
    hh.clock.advance(15 * MINUTE);
    expect(await hh.service.fireDueTimers()).toBe(1);
    expect(sentTo(hh.telegram.take(), GROUP)).toEqual([expect.stringMatching(/no first reply/)]);
  });

  it('an operator may take an out-of-hours case straight away', async () => {
    const hh = outOfHours();
    const rec = await hh.open(hh.family(645), false);
    const take = await hh.operator(OPERATOR).press(rec, 'take');
    expect(answered(take)).toMatch(/You have the case/);
    expect(await hh.get(rec.id)).toMatchObject({ status: 'claimed', operatorId: OPERATOR });
    // The opening timer is spent: Monday morning changes nothing.
    hh.clock.at = MONDAY_09_00;
    await hh.service.fireDueTimers();
    expect((await hh.get(rec.id)).status).toBe('claimed');
  });
});

describe('the family leaves, ends, rates', () => {
  it('"Cancel" leaves the line: case closed, card updated, no feedback question', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(650);
    const rec = await hh.open(f);
    const calls = await f.pressData('hx');
    expect(f.lastText).toBe('Вы вышли из очереди. Попросить связать Вас со специалистом можно в любое время.');
    expect(await hh.get(rec.id)).toMatchObject({ status: 'closed', outcome: 'cancelled_by_family' });
    expect(await hh.store.waiting()).toEqual([]);
    expect(String(calls.find((c) => c.method === 'editMessageText')!.payload.text)).toContain('Outcome: cancelled by the family');
    expect(JSON.stringify(calls)).not.toContain('hf|');
    // What the family writes now goes to the screening, not the operators.
    expect(copies(await f.say('ещё вопрос'), GROUP)).toEqual([]);
  });

  it('the family ends the conversation, then one tap answers the feedback question; nobody else can rate it', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(651);
    const rec = await hh.open(f);
    await hh.operator(OPERATOR).press(rec, 'take');
    const ended = await f.pressData('he');
    expect(f.lastText).toBe('Вы завершили разговор. Попросить связать Вас со специалистом можно в любое время.\n\nРазговор Вам помог?');
    expect(f.buttons.map((b) => b.data)).toEqual([`hf|${rec.id}|1`, `hf|${rec.id}|0`]);
    expect(await hh.get(rec.id)).toMatchObject({ status: 'closed', outcome: 'ended_by_family' });
    expect(String(ended.find((c) => c.method === 'editMessageText')!.payload.text)).toContain('Outcome: ended by the family');
    // The family is not also told "the operator has ended the conversation".
    expect(f.texts.filter((t) => t.includes('Разговор с оператором завершён'))).toEqual([]);

    const stranger = hh.family(659);
    await stranger.pressData(`hf|${rec.id}|0`);
    const rated = await f.pressData(`hf|${rec.id}|1`);
    expect(answered(rated)).toBe('Спасибо за ответ.');
    expect(rated.find((c) => c.method === 'editMessageReplyMarkup')!.payload.reply_markup).toEqual({ inline_keyboard: [] });
    const feedback = (await hh.store.auditTrail(rec.id)).filter((e) => e.type === 'feedback');
    expect(feedback).toEqual([expect.objectContaining({ by: 'family', detail: 'helped' })]);
  });

  it('after the operator closes, the family gets the feedback question too', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(652);
    const rec = await hh.open(f);
    await hh.operator(OPERATOR).press(rec, 'take');
    const closed = await hh.operator(OPERATOR).press(rec, 'cl:informed');
    expect(sentTo(closed, 652)).toEqual(['Разговор с оператором завершён.\n\nРазговор Вам помог?']);
    await f.pressData(`hf|${rec.id}|0`);
    expect((await hh.store.auditTrail(rec.id)).filter((e) => e.type === 'feedback')).toEqual([expect.objectContaining({ detail: 'did_not_help' })]);
  });

  it('a family can rate only a closed case', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(653);
    const rec = await hh.open(f);
    await f.pressData(`hf|${rec.id}|1`);
    expect((await hh.store.auditTrail(rec.id)).filter((e) => e.type === 'feedback')).toEqual([]);
  });
});

describe('/forget', () => {
  it('with a waiting case: the case is closed with a note for the operators and the family\'s data is erased', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(660);
    const rec = await hh.open(f);
    hh.clock.advance(MINUTE);
    const other = hh.family(661);
    const otherCase = await hh.open(other);
    await f.say('сообщение до забвения');

    const calls = await f.say('/forget');
    expect(f.lastText).toBe('Всё, что Вы мне рассказали, удалено. Чтобы начать заново, отправьте /start.');
    const after = await hh.get(rec.id);
    expect(after).toMatchObject({ status: 'closed', outcome: 'forgotten' });
    expect(after.chatId).toBeUndefined();
    expect(after.summary).toBeUndefined();
    expect(after.consentAt).toBeUndefined();
    expect(await hh.store.openCaseOf(660)).toBeUndefined();
    expect(String(calls.find((c) => c.method === 'editMessageText')!.payload.text)).toContain('Outcome: the family erased their data');
    expect(sentTo(calls, GROUP).join('\n')).toMatch(/erased/);
    expect((await hh.store.auditTrail(rec.id)).some((e) => e.type === 'closed' && e.detail === 'forgotten')).toBe(true);
    // Nothing about the case is sent to the family (they asked to be forgotten), and the line moved on.
    expect(sentTo(calls, 660)).toEqual([f.lastText]);
    expect(await hh.store.placeInLine(otherCase.id)).toBe(1);
    expect(sentTo(calls, 661)).toEqual(['Ваше место в очереди теперь: 1.']);
  });

  it('with an out-of-hours case and a call-back phone: the phone is erased', async () => {
    const hh = new HandoffHarness({ clock: new FakeClock(SUNDAY_03_00), hours: 'mon-fri 09:00-18:00' });
    const f = hh.family(662);
    const rec = await hh.open(f, false);
    await f.pressData('hc');
    await f.say('+7 700 123 45 67');
    await f.say('/forget');
    const after = await hh.get(rec.id);
    expect(after.status).toBe('closed');
    expect(after.callbackPhone).toBeUndefined();
    expect(after.chatId).toBeUndefined();
  });

  it('during a conversation: the conversation stays open and keeps working; the rest is erased', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(663);
    const earlier = await hh.open(f);
    await f.pressData('hx');
    const rec = await hh.open(f);
    await hh.operator(OPERATOR).press(rec, 'take');

    await f.say('/forget');
    expect(f.texts.at(-2)).toMatch(/разговор с оператором ещё открыт/);
    expect(f.lastText).toMatch(/удалено/);
    expect((await hh.get(earlier.id)).chatId).toBeUndefined();
    const live = await hh.get(rec.id);
    expect(live).toMatchObject({ status: 'claimed', chatId: 663 });
    expect(live.summary).toBeUndefined();

    expect(copies(await f.say('вы ещё здесь?'), GROUP)).toHaveLength(1);
    expect(copies(await hh.operator(OPERATOR).write(rec.topicId, 'да, я здесь'), 663)).toHaveLength(1);
  });
});
