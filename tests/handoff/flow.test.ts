import { describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { WorkingHours } from '../../src/handoff/hours.js';
import { MemoryHandoffStore } from '../../src/handoff/memory-store.js';
import { createLogger } from '../../src/log.js';
import { BotHarness } from '../helpers/bot-harness.js';

const GROUP = -1001234567890;
const OPERATOR = 7001;
const OTHER = 7002;

function handoffHarness() {
  const deps = createDeps({
    prefix: 'test:',
    dialogTtlDays: 30,
    log: createLogger('silent'),
    logSalt: 'test-salt',
    today: () => '2026-11-21',
    handoff: {
      config: {
        groupId: GROUP,
        operatorIds: [OPERATOR, OTHER],
        supervisorIds: [],
        hours: WorkingHours.parse('always'),
        firstResponseMinutes: 15,
        nextResponseMinutes: 30,
        showOperatorName: false,
        staffLang: 'en',
      },
      minutesPerCase: 10,
      adminIds: [],
      store: new MemoryHandoffStore(),
    },
  });
  return new BotHarness({ deps });
}

describe('hotline handoff (flow)', () => {
  it('a family asks for a person, shares the summary, an operator takes the case and they talk both ways', async () => {
    const h = handoffHarness();
    const f = h.family(501);
    await f.say('/start');
    await f.press('cs');
    await f.press('tk');
    expect(f.lastText).toMatch(/сводку/);
    const opened = await f.press(/^hs\|1$/);
    expect(opened.map((c) => c.method)).toEqual(expect.arrayContaining(['createForumTopic', 'sendMessage']));
    const card = opened.find((c) => c.method === 'sendMessage' && c.payload.chat_id === GROUP)!;
    expect(String(card.payload.text)).toMatch(/Case #/);
    expect(f.lastText).toMatch(/место в очереди: 1/);

    const written = await f.say('Здравствуйте, нужна помощь');
    const copied = written.find((c) => c.method === 'copyMessage')!;
    expect(copied.payload).toMatchObject({ chat_id: GROUP, from_chat_id: 501 });

    const caseId = /#([A-Z0-9]+)/.exec(String(card.payload.text))![1];
    const take = await h.handle({
      callback_query: { id: 'q1', from: { id: OPERATOR, is_bot: false, first_name: 'Op' }, chat_instance: 'g', data: `h|${caseId}|take`, message: { message_id: 2, date: 0, chat: { id: GROUP, type: 'supergroup', title: 'Ops', is_forum: true }, text: '' } },
    });
    expect(take.find((c) => c.method === 'answerCallbackQuery')!.payload.text).toMatch(/You have the case/);
    expect(take.some((c) => c.method === 'sendMessage' && c.payload.chat_id === 501)).toBe(true);

    const lost = await h.handle({
      callback_query: { id: 'q2', from: { id: OTHER, is_bot: false, first_name: 'Op2' }, chat_instance: 'g', data: `h|${caseId}|take`, message: { message_id: 2, date: 0, chat: { id: GROUP, type: 'supergroup', title: 'Ops', is_forum: true }, text: '' } },
    });
    expect(lost.find((c) => c.method === 'answerCallbackQuery')!.payload.text).toMatch(/already has this case/);

    const topic = Number(card.payload.message_thread_id);
    const reply = await h.handle({
      message: { message_id: 77, date: 0, chat: { id: GROUP, type: 'supergroup', title: 'Ops', is_forum: true }, from: { id: OPERATOR, is_bot: false, first_name: 'Op' }, text: 'Добрый день', message_thread_id: topic, is_topic_message: true },
    });
    expect(reply.find((c) => c.method === 'copyMessage')!.payload).toMatchObject({ chat_id: 501, from_chat_id: GROUP, message_id: 77 });

    const internal = await h.handle({
      message: { message_id: 78, date: 0, chat: { id: GROUP, type: 'supergroup', title: 'Ops', is_forum: true }, from: { id: OTHER, is_bot: false, first_name: 'Op2' }, text: 'internal', message_thread_id: topic, is_topic_message: true },
    });
    expect(internal.some((c) => c.method === 'copyMessage')).toBe(false);
  });
});
