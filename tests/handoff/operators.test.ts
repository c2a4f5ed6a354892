/**
 * The operators' side in-process: every card button (Take, Transfer, Close with
 * each outcome, Note, card refresh), every role check, and /queue, /mine,
 * /stats, /grant, /revoke. Memory store; the Bot API is the recording fake.
 */
import { describe, expect, it } from 'vitest';
import { chatRef } from '../../src/log.js';
import { OPERATOR_OUTCOMES } from '../../src/handoff/types.js';
import {
  ADMIN,
  answered,
  copies,
  GROUP,
  HandoffHarness,
  LOG_SALT,
  MINUTE,
  OPERATOR,
  OTHER,
  reaching,
  sentTo,
  STRANGER,
  SUPERVISOR,
} from '../helpers/handoff-harness.js';

const NOT_ALLOWED = 'Not allowed: only operators on duty can do this.';

/** The card as last posted or edited, with its buttons' actions. */
function lastCard(hh: HandoffHarness, cardMessageId: number): { text: string; actions: string[] } {
  const call = [...hh.telegram.calls]
    .reverse()
    .find(
      (c) =>
        Number(c.payload.chat_id) === GROUP &&
        ((c.method === 'editMessageText' && c.payload.message_id === cardMessageId) ||
          (c.method === 'sendMessage' && (c.result as { message_id?: number } | undefined)?.message_id === cardMessageId)),
    )!;
  const rows = (call.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] }).inline_keyboard;
  return { text: String(call.payload.text), actions: rows.flat().map((b) => b.callback_data.split('|')[2]!) };
}

/** The buttons of the last reply-markup edit (the Transfer and Close menus). */
function lastMenu(hh: HandoffHarness): { text: string; data: string }[] {
  const call = [...hh.telegram.calls].reverse().find((c) => c.method === 'editMessageReplyMarkup')!;
  return (call.payload.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard.flat().map((b) => ({ text: b.text, data: b.callback_data }));
}

describe('card buttons', () => {
  it('Take: the case is claimed, the card changes to Transfer/Close/Note, the family is told; a second Take loses', async () => {
    const hh = new HandoffHarness();
    const family = hh.family(501);
    const rec = await hh.open(family);
    expect(lastCard(hh, rec.cardMessageId!).actions).toEqual(['take', 'cl', 'note']);

    const take = await hh.operator(OPERATOR).press(rec, 'take');
    expect(answered(take)).toMatch(/You have the case/);
    expect((await hh.get(rec.id)).status).toBe('claimed');
    expect((await hh.get(rec.id)).operatorId).toBe(OPERATOR);
    expect(lastCard(hh, rec.cardMessageId!)).toMatchObject({ actions: ['tr', 'cl', 'note'] });
    expect(lastCard(hh, rec.cardMessageId!).text).toMatch(/in conversation \(operator 7001\)/);
    expect(take.find((c) => c.method === 'editForumTopic')!.payload.name).toMatch(/^💬 #/);
    expect(sentTo(take, 501)).toEqual([expect.stringMatching(/^Оператор /)]);

    const second = await hh.operator(OTHER).press(rec, 'take');
    expect(answered(second)).toBe('Operator 7001 already has this case.');
    expect((await hh.get(rec.id)).operatorId).toBe(OPERATOR);
    expect(reaching(second, 501)).toEqual([]);
  });

  it('Transfer → another operator: the menu lists the other operators; afterwards only the new holder reaches the family', async () => {
    const hh = new HandoffHarness();
    const family = hh.family(502);
    const rec = await hh.open(family);
    await hh.operator(OPERATOR).press(rec, 'take');

    const menu = await hh.operator(OPERATOR).press(rec, 'tr');
    expect(menu.some((c) => c.method === 'editMessageReplyMarkup')).toBe(true);
    expect(lastMenu(hh).map((b) => b.data)).toEqual([`h|${rec.id}|tr:line`, `h|${rec.id}|tr:${OTHER}`, `h|${rec.id}|card`]);

    const done = await hh.operator(OPERATOR).press(rec, `tr:${OTHER}`);
    expect(answered(done)).toBe('Transferred.');
    const after = await hh.get(rec.id);
    expect(after).toMatchObject({ status: 'claimed', operatorId: OTHER });
    expect(lastCard(hh, rec.cardMessageId!).text).toMatch(/operator 7002/);
    expect(await hh.store.casesOf(OTHER)).toHaveLength(1);
    expect(await hh.store.casesOf(OPERATOR)).toHaveLength(0);
    expect((await hh.store.auditTrail(rec.id)).some((e) => e.type === 'transferred' && e.by === String(OPERATOR) && e.detail === String(OTHER))).toBe(true);

    expect(copies(await hh.operator(OPERATOR).write(after.topicId, 'from the old holder'), 502)).toEqual([]);
    expect(copies(await hh.operator(OTHER).write(after.topicId, 'from the new holder'), 502)).toHaveLength(1);
  });

  it('Transfer → back to the line: the case waits again in its old place, the family is told', async () => {
    const hh = new HandoffHarness();
    const first = await hh.open(hh.family(503));
    hh.clock.advance(MINUTE);
    const second = await hh.open(hh.family(504));
    await hh.operator(OPERATOR).press(first, 'take');
    expect((await hh.store.waiting()).map((r) => r.id)).toEqual([second.id]);

    const back = await hh.operator(OPERATOR).press(first, 'tr:line');
    expect(answered(back)).toBe('Transferred.');
    expect(await hh.get(first.id)).toMatchObject({ status: 'waiting' });
    expect((await hh.get(first.id)).operatorId).toBeUndefined();
    expect((await hh.store.waiting()).map((r) => r.id)).toEqual([first.id, second.id]);
    expect(sentTo(back, 503)).toEqual([expect.stringMatching(/очеред/)]);
    expect(lastCard(hh, first.cardMessageId!).actions).toEqual(['take', 'cl', 'note']);
    // Nobody holds it now, so nothing written in the topic reaches the family.
    expect(copies(await hh.operator(OPERATOR).write(first.topicId, 'still there?'), 503)).toEqual([]);
    // And another operator can take it.
    expect(answered(await hh.operator(OTHER).press(first, 'take'))).toMatch(/You have the case/);
  });

  it('Transfer to someone who is not an operator is refused', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(505));
    await hh.operator(OPERATOR).press(rec, 'take');
    const forged = await hh.operator(OPERATOR).press(rec, `tr:${STRANGER}`);
    expect(answered(forged)).toBe('Not possible now.');
    expect((await hh.get(rec.id)).operatorId).toBe(OPERATOR);
  });

  it('Transfer of a case nobody holds says "take it first"', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(506));
    expect(answered(await hh.operator(OPERATOR).press(rec, 'tr'))).toBe('Take the case first.');
  });

  it.each(OPERATOR_OUTCOMES)('Close → %s: the outcome is on the card, the family is told and asked for feedback', async (outcome) => {
    const hh = new HandoffHarness();
    const family = hh.family(510);
    const rec = await hh.open(family);
    await hh.operator(OPERATOR).press(rec, 'take');

    await hh.operator(OPERATOR).press(rec, 'cl');
    expect(lastMenu(hh).map((b) => b.data)).toEqual([...OPERATOR_OUTCOMES.map((o) => `h|${rec.id}|cl:${o}`), `h|${rec.id}|card`]);

    const closed = await hh.operator(OPERATOR).press(rec, `cl:${outcome}`);
    expect(answered(closed)).toBe('Closed.');
    const after = await hh.get(rec.id);
    expect(after).toMatchObject({ status: 'closed', outcome });
    expect(after.closedAt).toBe(hh.clock.at);
    const card = lastCard(hh, rec.cardMessageId!);
    expect(card.actions).toEqual(['note']);
    expect(card.text).toContain(`Outcome: ${outcome.replaceAll('_', ' ')}`);
    const toFamily = closed.find((c) => c.method === 'sendMessage' && c.payload.chat_id === 510)!;
    expect(String(toFamily.payload.text)).toMatch(/Разговор с оператором завершён/);
    expect(JSON.stringify(toFamily.payload.reply_markup)).toContain(`hf|${rec.id}|1`);
    expect(await hh.store.openCaseOf(510)).toBeUndefined();
    expect(await hh.store.casesOf(OPERATOR)).toEqual([]);
    // Closed is closed: the holder's later messages do not reach the family.
    expect(copies(await hh.operator(OPERATOR).write(rec.topicId, 'one more thing'), 510)).toEqual([]);
  });

  it('Close of a waiting case (e.g. a duplicate) works for any operator; an unknown outcome is refused', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(511));
    expect(answered(await hh.operator(OTHER).press(rec, 'cl:made_up'))).toBe('Not possible now.');
    expect((await hh.get(rec.id)).status).toBe('waiting');
    expect(answered(await hh.operator(OTHER).press(rec, 'cl:out_of_scope'))).toBe('Closed.');
    expect(await hh.store.waiting()).toEqual([]);
  });

  it('the menus\' Cancel (card) restores the card with its buttons', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(512));
    await hh.operator(OPERATOR).press(rec, 'take');
    await hh.operator(OPERATOR).press(rec, 'cl');
    const refreshed = await hh.operator(OPERATOR).press(rec, 'card');
    const edit = refreshed.find((c) => c.method === 'editMessageText')!;
    expect(edit.payload).toMatchObject({ chat_id: GROUP, message_id: rec.cardMessageId });
    expect(String(edit.payload.text)).toMatch(/^Case #/);
    expect(lastCard(hh, rec.cardMessageId!).actions).toEqual(['tr', 'cl', 'note']);
    expect((await hh.get(rec.id)).status).toBe('claimed');
  });

  it('card refresh shows the wait on the fake clock', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(513));
    hh.clock.advance(7 * MINUTE);
    await hh.operator(OPERATOR).press(rec, 'card');
    expect(lastCard(hh, rec.cardMessageId!).text).toContain('Waited: 7 min');
  });

  it('Note: the reply to the prompt is saved in the audit trail and never reaches the family, even from the holder', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(514));
    await hh.operator(OPERATOR).press(rec, 'take');

    const pressed = await hh.operator(OPERATOR).press(rec, 'note');
    const prompt = pressed.find((c) => c.method === 'sendMessage')!;
    expect(prompt.payload).toMatchObject({ chat_id: GROUP, message_thread_id: rec.topicId });
    expect(String(prompt.payload.text)).toMatch(/^📝 Private note for #/);
    expect(prompt.payload.reply_markup).toMatchObject({ force_reply: true, selective: true });

    const saved = await hh.operator(OPERATOR).replyToNotePrompt(prompt, 'Mother sounds exhausted; check housing aid');
    expect(sentTo(saved, GROUP)).toEqual(['Note saved.']);
    expect(reaching(saved, 514)).toEqual([]);
    const trail = await hh.store.auditTrail(rec.id);
    expect(trail.find((e) => e.type === 'note')).toMatchObject({ by: String(OPERATOR), detail: 'Mother sounds exhausted; check housing aid' });
    expect(await hh.store.unsentRelays()).toEqual([]);
  });

  it('Note on a closed case is still possible (the card keeps only Note)', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(515));
    await hh.operator(OPERATOR).press(rec, 'cl:no_answer');
    const pressed = await hh.operator(OTHER).press(rec, 'note');
    const prompt = pressed.find((c) => c.method === 'sendMessage')!;
    await hh.operator(OTHER).replyToNotePrompt(prompt, 'tried twice');
    expect((await hh.store.auditTrail(rec.id)).some((e) => e.type === 'note' && e.detail === 'tried twice')).toBe(true);
  });

  it('a button for a case that does not exist says so', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(516));
    const ghost = { ...rec, id: 'ZZZZZZ' };
    expect(answered(await hh.operator(OPERATOR).press(ghost, 'take'))).toBe('This case no longer exists.');
  });
});

describe('role checks', () => {
  const ACTIONS = ['take', 'tr', `tr:${OTHER}`, 'tr:line', 'cl', 'cl:informed', 'note', 'card'];

  /** The "not allowed" log lines: a hashed user id, never the raw one. */
  function refusals(hh: HandoffHarness, userId: number) {
    const lines = hh.logLines.filter((l) => l.includes('not allowed'));
    for (const line of lines) expect(line).not.toContain(String(userId));
    return hh.logs.filter((l) => l.msg === 'not allowed' && l.user === chatRef(userId, LOG_SALT));
  }

  it.each(ACTIONS)('a non-operator pressing %s is refused, nothing changes, and the attempt is logged without the raw id', async (action) => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(520));
    if (action !== 'take') await hh.operator(OPERATOR).press(rec, 'take');
    const before = await hh.get(rec.id);

    const calls = await hh.operator(STRANGER, 'Stranger').press(rec, action);
    expect(calls.find((c) => c.method === 'answerCallbackQuery')!.payload).toMatchObject({ text: NOT_ALLOWED, show_alert: true });
    expect(calls.map((c) => c.method)).toEqual(['answerCallbackQuery']);
    expect(await hh.get(rec.id)).toEqual(before);
    expect(refusals(hh, STRANGER)).toEqual([expect.objectContaining({ what: expect.stringContaining('button') })]);
  });

  it.each(['/queue', '/mine', '/stats', '/grant operator 4242424', '/revoke operator 7002'])('a non-operator sending %s is told "not allowed" and it is logged', async (command) => {
    const hh = new HandoffHarness();
    const calls = await hh.operator(STRANGER, 'Stranger').command(command);
    expect(sentTo(calls, GROUP)).toEqual([NOT_ALLOWED]);
    expect(refusals(hh, STRANGER)).toHaveLength(1);
    expect(await hh.store.granted('operator')).toEqual([]);
  });

  it('a non-operator replying to a note prompt: refused, nothing saved', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(521));
    const prompt = (await hh.operator(OPERATOR).press(rec, 'note')).find((c) => c.method === 'sendMessage')!;
    const calls = await hh.operator(STRANGER).replyToNotePrompt(prompt, 'sneaky');
    expect(sentTo(calls, GROUP)).toEqual([NOT_ALLOWED]);
    expect((await hh.store.auditTrail(rec.id)).some((e) => e.type === 'note')).toBe(false);
    expect(refusals(hh, STRANGER)).toHaveLength(1);
  });

  it('an operator cannot close or transfer another operator\'s case; a supervisor can', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(522));
    await hh.operator(OPERATOR).press(rec, 'take');

    for (const action of ['cl', 'cl:informed', 'tr', `tr:${OTHER}`, 'tr:line']) {
      expect(answered(await hh.operator(OTHER).press(rec, action)), action).toBe(NOT_ALLOWED);
    }
    expect(await hh.get(rec.id)).toMatchObject({ status: 'claimed', operatorId: OPERATOR });
    expect(refusals(hh, OTHER)).toHaveLength(5);

    expect(answered(await hh.operator(SUPERVISOR).press(rec, `tr:${OTHER}`))).toBe('Transferred.');
    expect((await hh.get(rec.id)).operatorId).toBe(OTHER);
    expect(answered(await hh.operator(SUPERVISOR).press(rec, 'cl:referred'))).toBe('Closed.');
  });

  it('only an admin can /grant or /revoke; a granted operator can then take cases, a revoked one cannot', async () => {
    const hh = new HandoffHarness();
    const NEWCOMER = 7003;
    const rec = await hh.open(hh.family(523));

    expect(sentTo(await hh.operator(OPERATOR).command(`/grant operator ${NEWCOMER}`), GROUP)).toEqual([NOT_ALLOWED]);
    expect(sentTo(await hh.operator(SUPERVISOR).command(`/grant operator ${NEWCOMER}`), GROUP)).toEqual([NOT_ALLOWED]);
    expect(answered(await hh.operator(NEWCOMER).press(rec, 'take'))).toBe(NOT_ALLOWED);

    expect(sentTo(await hh.operator(ADMIN).command('/grant operator'), GROUP)).toEqual(['Usage: /grant operator|supervisor <telegram user id>']);
    expect(sentTo(await hh.operator(ADMIN).command(`/grant operator ${NEWCOMER}`), GROUP)).toEqual([`operator ${NEWCOMER} granted.`]);
    expect(await hh.store.granted('operator')).toEqual([NEWCOMER]);
    expect(answered(await hh.operator(NEWCOMER).press(rec, 'take'))).toMatch(/You have the case/);
    // A granted operator is offered as a transfer target too.
    await hh.operator(NEWCOMER).press(rec, 'tr');
    expect(lastMenu(hh).map((b) => b.data)).toContain(`h|${rec.id}|tr:${OPERATOR}`);

    expect(sentTo(await hh.operator(OPERATOR).command(`/revoke operator ${NEWCOMER}`), GROUP)).toEqual([NOT_ALLOWED]);
    // The case the newcomer held goes back to the line, with a word in its topic.
    expect(sentTo(await hh.operator(ADMIN).command(`/revoke operator ${NEWCOMER}`), GROUP)).toEqual([
      `↩️ Case #${rec.id} is back in the line: the operator who held it no longer has the role.`,
      `operator ${NEWCOMER} revoked.\nCases back in the line: 1.`,
    ]);
    expect(await hh.get(rec.id)).toMatchObject({ status: 'waiting' });
    expect(sentTo(await hh.operator(NEWCOMER).command('/queue'), GROUP)).toEqual([NOT_ALLOWED]);
  });

  it('/grant supervisor makes a supervisor who may act on other operators\' cases', async () => {
    const hh = new HandoffHarness();
    const LEAD = 7004;
    const rec = await hh.open(hh.family(524));
    await hh.operator(OPERATOR).press(rec, 'take');
    await hh.operator(ADMIN).command(`/grant supervisor ${LEAD}`);
    expect(answered(await hh.operator(LEAD).press(rec, 'tr:line'))).toBe('Transferred.');
  });

  it('commands outside the operators\' group do nothing for operators there', async () => {
    const hh = new HandoffHarness();
    await hh.open(hh.family(525));
    const calls = await hh.deliver({
      message: { message_id: 1, date: 0, chat: { id: -100999, type: 'supergroup', title: 'Elsewhere' }, from: { id: OPERATOR, is_bot: false, first_name: 'Op' }, text: '/queue', entities: [{ type: 'bot_command', offset: 0, length: 6 }] },
    } as never);
    expect(sentTo(calls, -100999).join()).not.toMatch(/Waiting line/);
  });
});

describe('/queue, /mine, /stats', () => {
  it('/queue lists urgent cases first, then the oldest', async () => {
    const hh = new HandoffHarness();
    const oldest = await hh.open(hh.family(530));
    hh.clock.advance(MINUTE);
    const middle = await hh.open(hh.family(531));
    hh.clock.advance(MINUTE);
    const urgentLate = await hh.service.open(532, 'kk', { urgent: true });
    hh.clock.advance(MINUTE);
    const newest = await hh.open(hh.family(533));
    hh.clock.advance(MINUTE);
    const urgentLater = await hh.service.open(534, 'ru', { urgent: true });
    hh.clock.advance(10 * MINUTE);

    const reply = sentTo(await hh.operator(OPERATOR).command('/queue'), GROUP)[0]!;
    const lines = reply.split('\n');
    expect(lines[0]).toBe('Waiting line: 5');
    const order = lines.slice(1).map((l) => /#(\w+)/.exec(l)![1]);
    expect(order).toEqual([urgentLate.record.id, urgentLater.record.id, oldest.id, middle.id, newest.id]);
    expect(lines[1]).toMatch(/🔴 · kk · 12 min$/);
    expect(lines[3]).toMatch(/· ru · 14 min$/);
  });

  it('/queue is answered in the topic it was asked in', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(535));
    const reply = (await hh.operator(OPERATOR).command('/queue', rec.topicId)).find((c) => c.method === 'sendMessage')!;
    expect(reply.payload.message_thread_id).toBe(rec.topicId);
  });

  it('/mine lists the operator\'s own open cases only', async () => {
    const hh = new HandoffHarness();
    const a = await hh.open(hh.family(540));
    const b = await hh.open(hh.family(541));
    const c = await hh.open(hh.family(542));
    await hh.operator(OPERATOR).press(a, 'take');
    await hh.operator(OPERATOR).press(b, 'take');
    await hh.operator(OTHER).press(c, 'take');
    await hh.operator(OPERATOR).press(b, 'cl:informed');

    const mine = sentTo(await hh.operator(OPERATOR).command('/mine'), GROUP)[0]!;
    expect(mine.split('\n')).toEqual(['Your open cases: 1', `#${a.id} · ru · in conversation`]);
    expect(sentTo(await hh.operator(SUPERVISOR).command('/mine'), GROUP)).toEqual(['Your open cases: 0']);
  });

  it('/stats counts today\'s cases and the median first response', async () => {
    const hh = new HandoffHarness();
    const a = await hh.open(hh.family(550));
    const b = await hh.open(hh.family(551));
    await hh.open(hh.family(552));
    await hh.operator(OPERATOR).press(a, 'take');
    hh.clock.advance(4 * MINUTE);
    await hh.operator(OPERATOR).write(a.topicId, 'Hello, I am here');
    await hh.operator(OTHER).press(b, 'take');
    hh.clock.advance(2 * MINUTE);
    await hh.operator(OTHER).write(b.topicId, 'Hello');
    await hh.operator(OPERATOR).press(a, 'cl:informed');

    const stats = sentTo(await hh.operator(OPERATOR).command('/stats'), GROUP)[0];
    expect(stats).toBe('Today: 3 new, 2 taken, 1 closed, 1 waiting now; median first response 6 min.');
  });
});
