/**
 * Telegram failing under the handoff, in-process with injected Bot API errors
 * (InProcessTelegram.failNext): a deleted case topic is recreated with its
 * card; a family that blocked the bot is marked unreachable in the topic; 429
 * answers are retried after retry_after (with @grammyjs/auto-retry, as in
 * production); topic creation is one at a time and paced by the pacer (telegram-pace.ts); a
 * relay that fails stays in the outbox and is sent once later; the same
 * update twice is relayed once. Memory store (the Redis twin: durability.test.ts).
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { runtimeMetrics } from '../../src/runtime/metrics.js';
import { PACE, useTelegramLimits } from '../../src/runtime/telegram-limits.js';
import { describe, expect, it } from 'vitest';
import { answered, copies, GROUP, GROUP_CHAT, HandoffHarness, OPERATOR, reaching, sentTo } from '../helpers/handoff-harness.js';

describe('a deleted case topic', () => {
  it('is recreated with the card re-posted, and the family\'s message is delivered there', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(701);
    const rec = await hh.open(f);
    hh.telegram.failNext('copyMessage', 400, 'Bad Request: message thread not found');

    const calls = await f.say('вы меня слышите?');
    const fresh = await hh.get(rec.id);
    expect(fresh.topicId).not.toBe(rec.topicId);
    expect(calls.map((c) => c.method)).toEqual(['copyMessage', 'createForumTopic', 'sendMessage', 'copyMessage']);
    const card = calls[2]!;
    expect(card.payload).toMatchObject({ chat_id: GROUP, message_thread_id: fresh.topicId });
    expect(String(card.payload.text)).toMatch(/^Case #/);
    expect(fresh.cardMessageId).toBe((card.result as { message_id: number }).message_id);
    expect(calls[3]!.payload).toMatchObject({ chat_id: GROUP, from_chat_id: 701, message_thread_id: fresh.topicId });
    expect(await hh.store.unsentRelays()).toEqual([]);
    expect(hh.logs.some((l) => l.msg === 'case topic was gone; recreating it')).toBe(true);

    // The old topic is no longer the case's; the new one works both ways.
    expect(await hh.store.caseOfTopic(rec.topicId!)).toBeUndefined();
    expect((await hh.store.caseOfTopic(fresh.topicId!))?.id).toBe(rec.id);
    await hh.operator(OPERATOR).press(fresh, 'take');
    expect(copies(await hh.operator(OPERATOR).write(rec.topicId, 'in the old topic'), 701)).toEqual([]);
    expect(copies(await hh.operator(OPERATOR).write(fresh.topicId, 'in the new topic'), 701)).toHaveLength(1);
  });

  it.each(['Bad Request: TOPIC_DELETED', 'Bad Request: TOPIC_ID_INVALID', 'Bad Request: TOPIC_CLOSED'])('%s heals the same way', async (description) => {
    const hh = new HandoffHarness();
    const f = hh.family(702);
    const rec = await hh.open(f);
    hh.telegram.failNext('copyMessage', 400, description);
    const calls = await f.say('алло');
    expect(calls.filter((c) => c.method === 'createForumTopic')).toHaveLength(1);
    expect(copies(calls, GROUP).at(-1)!.payload.message_thread_id).toBe((await hh.get(rec.id)).topicId);
  });
});

describe('a family that blocked the bot', () => {
  it('is marked unreachable in the topic when an operator\'s message cannot reach them; they come back by writing', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(710);
    const rec = await hh.open(f);
    await hh.operator(OPERATOR).press(rec, 'take');

    hh.telegram.failNext('copyMessage', 403, 'Forbidden: bot was blocked by the user');
    const calls = await hh.operator(OPERATOR).write(rec.topicId, 'Здравствуйте!');
    expect((await hh.get(rec.id)).status).toBe('family_unreachable');
    expect(calls.find((c) => c.method === 'sendMessage' && c.payload.message_thread_id === rec.topicId)!.payload.text).toBe(
      '🚫 The family blocked the bot or left Telegram: messages cannot reach them.',
    );
    expect(String(calls.find((c) => c.method === 'editMessageText')!.payload.text)).toContain('family unreachable');
    expect(calls.find((c) => c.method === 'editForumTopic')!.payload.name).toMatch(/^🚫/);
    expect(await hh.store.unsentRelays()).toEqual([]);
    expect((await hh.store.auditTrail(rec.id)).map((e) => e.type)).toContain('family_unreachable');
    // The case stays with its operator; nothing more is tried while they are away.
    expect(await hh.store.casesOf(OPERATOR)).toHaveLength(1);
    expect(reaching(await hh.operator(OPERATOR).write(rec.topicId, 'ещё раз'), 710)).toEqual([]);

    const back = await f.say('я снова здесь');
    expect(copies(back, GROUP)).toHaveLength(1);
    expect(await hh.get(rec.id)).toMatchObject({ status: 'claimed', operatorId: OPERATOR });
    expect(copies(await hh.operator(OPERATOR).write(rec.topicId, 'рада слышать'), 710)).toHaveLength(1);
  });

  it('is marked unreachable when even "an operator joined" cannot be delivered', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(711));
    hh.telegram.failNext('sendMessage', 403, 'Forbidden: user is deactivated');
    const take = await hh.operator(OPERATOR).press(rec, 'take');
    expect(answered(take)).toMatch(/You have the case/);
    expect((await hh.get(rec.id)).status).toBe('family_unreachable');
    expect(sentTo(take, GROUP)).toContain('🚫 The family blocked the bot or left Telegram: messages cannot reach them.');
  });
});

describe('429 Too Many Requests', () => {
  /**
   * grammY composes transformers so that the one installed last runs first
   * (outermost). The harness installs the recording fake in its constructor;
   * autoRetry installed after it therefore wraps it and sees the 429 the fake
   * answers, exactly like production, where autoRetry wraps the HTTP client.
   */
  function withAutoRetry(): HandoffHarness {
    const hh = new HandoffHarness();
    hh.h.bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 60 }));
    return hh;
  }

  it('a message to the family is sent again after retry_after', async () => {
    const hh = withAutoRetry();
    const rec = await hh.open(hh.family(720));
    hh.telegram.failNext('sendMessage', 429, 'Too Many Requests: retry after 1', { retry_after: 1 });
    const started = Date.now();
    const take = await hh.operator(OPERATOR).press(rec, 'take');
    const toFamily = take.filter((c) => c.method === 'sendMessage' && c.payload.chat_id === 720);
    expect(toFamily).toHaveLength(2);
    expect(toFamily[0]!.result).toBeUndefined();
    expect(toFamily[1]!.payload).toEqual(toFamily[0]!.payload);
    expect(toFamily[1]!.result).toBeDefined();
    expect((await hh.get(rec.id)).status).toBe('claimed');
  });

  it('a relayed message is copied again after retry_after and leaves the outbox', async () => {
    const hh = withAutoRetry();
    const f = hh.family(721);
    await hh.open(f);
    hh.telegram.failNext('copyMessage', 429, 'Too Many Requests: retry after 1', { retry_after: 1 });
    const calls = await f.say('сообщение');
    expect(copies(calls, GROUP)).toHaveLength(2);
    expect(copies(calls, GROUP)[1]!.result).toBeDefined();
    expect(await hh.store.unsentRelays()).toEqual([]);
    expect(sentTo(calls, 721)).toEqual([]);
  });

  it('topic creation is retried too', async () => {
    const hh = withAutoRetry();
    hh.telegram.failNext('createForumTopic', 429, 'Too Many Requests: retry after 1', { retry_after: 1 });
    const rec = await hh.open(hh.family(722));
    expect(hh.telegram.calls.filter((c) => c.method === 'createForumTopic')).toHaveLength(2);
    expect(rec.topicId).toBeDefined();
  });
});

describe('topic creation is throttled', () => {
  it('topics are created one at a time: each card is posted before the next topic is created', async () => {
    const hh = new HandoffHarness();
    const families = [730, 731, 732, 733].map((id) => hh.family(id));
    await Promise.all(families.map((f) => f.pressData('hs|1')));
    const groupCalls = hh.telegram.calls.filter((c) => c.payload.chat_id === GROUP && ['createForumTopic', 'sendMessage'].includes(c.method)).map((c) => c.method);
    expect(groupCalls).toEqual(families.flatMap(() => ['createForumTopic', 'sendMessage']));
    const topics = await Promise.all(families.map(async (f) => (await hh.store.openCaseOf(f.chatId))!.topicId));
    expect(new Set(topics).size).toBe(4);
  });

  it('a failed topic creation does not hold up the next one', async () => {
    const hh = new HandoffHarness();
    hh.telegram.failNext('createForumTopic', 400, 'Bad Request: not enough rights to create a topic');
    const first = hh.family(734);
    await first.pressData('hs|1');
    const second = await hh.open(hh.family(735));
    expect(second.topicId).toBeDefined();
  });

  it('with the production limits, a call tried again after retry_after is counted in /metrics, once', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(722));
    useTelegramLimits(hh.h.bot.api, { ...PACE, groupGapMs: 1, privateGapMs: 0 });
    const before = await runtimeMetrics.telegramRetries.value({ method: 'sendMessage' });
    hh.telegram.failNext('sendMessage', 429, 'Too Many Requests: retry after 1', { retry_after: 1 });
    await hh.operator(OPERATOR).press(rec, 'take');
    expect(await runtimeMetrics.telegramRetries.value({ method: 'sendMessage' })).toBe(before + 1);
    expect((await hh.get(rec.id)).status).toBe('claimed');
  });

  it('the production pace is Telegram’s published limits', () => {
    expect(PACE).toEqual({ perSecond: 30, privateGapMs: 100, groupGapMs: 1000, groupPerMinute: 20 });
  });

  it('with the production pacer (its timing scaled down), calls to the group never run two at a time', async () => {
    const hh = new HandoffHarness();
    let inFlight = 0;
    let most = 0;
    // Inside the pacer: counts group calls running at once, each held for a moment.
    hh.h.bot.api.config.use(async (prev, method, payload, signal) => {
      const group = Number((payload as { chat_id?: unknown }).chat_id) < 0;
      if (group) most = Math.max(most, ++inFlight);
      try {
        if (group) await new Promise((r) => setTimeout(r, 5));
        return await prev(method, payload, signal);
      } finally {
        if (group) inFlight--;
      }
    });
    const fast = { ...PACE, groupGapMs: 1, privateGapMs: 0 };
    useTelegramLimits(hh.h.bot.api, fast);
    // Three families open cases (topics and cards) while the bot also posts to the group directly.
    await Promise.all([...[740, 741, 742].map((id) => hh.family(id).pressData('hs|1')), ...[1, 2, 3].map((n) => hh.h.bot.api.sendMessage(GROUP, `notice ${n}`))]);
    expect(hh.telegram.calls.filter((c) => c.method === 'createForumTopic')).toHaveLength(3);
    expect(most).toBe(1);
  });
});

describe('relays: recorded before sent, sent at least once, deduplicated', () => {
  it('a relay that fails stays in the outbox, the family is not told of an error, and resendUnsent delivers it once', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(750);
    const rec = await hh.open(f);
    hh.telegram.failNext('copyMessage', 502, 'Bad Gateway');
    const calls = await f.say('важное сообщение');
    expect(sentTo(calls, 750)).toEqual([]);
    const unsent = await hh.store.unsentRelays();
    expect(unsent).toEqual([expect.objectContaining({ caseId: rec.id, direction: 'to_operators', fromChatId: 750 })]);

    hh.telegram.take();
    expect(await hh.service.resendUnsent()).toBe(1);
    expect(copies(hh.telegram.take(), GROUP).map((c) => c.payload)).toEqual([{ chat_id: GROUP, from_chat_id: 750, message_id: unsent[0]!.messageId, message_thread_id: rec.topicId }]);
    expect(await hh.service.resendUnsent()).toBe(0);
    expect(hh.telegram.take()).toEqual([]);
  });

  it('an operator\'s reply that fails is resent to the family once', async () => {
    const hh = new HandoffHarness();
    const rec = await hh.open(hh.family(751));
    await hh.operator(OPERATOR).press(rec, 'take');
    hh.telegram.failNext('copyMessage', 500, 'Internal Server Error');
    await hh.operator(OPERATOR).write(rec.topicId, 'ответ');
    expect(await hh.store.unsentRelays()).toHaveLength(1);
    hh.telegram.take();
    await hh.service.resendUnsent();
    await hh.service.resendUnsent();
    expect(copies(hh.telegram.take(), 751)).toHaveLength(1);
  });

  it('the same update delivered twice is relayed once, in both directions', async () => {
    const hh = new HandoffHarness();
    const f = hh.family(752);
    const rec = await hh.open(f);
    await hh.operator(OPERATOR).press(rec, 'take');

    const fromFamily = { message: { message_id: 31, date: 0, chat: f.chat, from: f.user, text: 'дважды' } };
    const id = hh.newUpdateId();
    expect(copies(await hh.deliver(fromFamily as never, id), GROUP)).toHaveLength(1);
    expect(copies(await hh.deliver(fromFamily as never, id), GROUP)).toEqual([]);

    const fromOperator = { message: { message_id: 32, date: 0, chat: GROUP_CHAT, from: { id: OPERATOR, is_bot: false, first_name: 'Op' }, text: 'twice', message_thread_id: rec.topicId, is_topic_message: true } };
    const opId = hh.newUpdateId();
    expect(copies(await hh.deliver(fromOperator as never, opId), 752)).toHaveLength(1);
    expect(copies(await hh.deliver(fromOperator as never, opId), 752)).toEqual([]);
  });
});
