/**
 * Durability on a real Redis: a crash or restart loses no case and no message,
 * and timers survive restarts. "A restart" is a second harness (new bot, new
 * HandoffService, new Redis connection, fresh recording fake) on the same key
 * prefix, with the first one never used again (or used as a second process).
 */
import { runtimeMetrics } from '../../src/runtime/metrics.js';
import { afterAll, describe, expect, it } from 'vitest';
import { isCluster, type Redis } from '../../src/store/redis.js';
import {
  copies,
  FakeClock,
  GROUP,
  GROUP_CHAT,
  HandoffHarness,
  MINUTE,
  MONDAY_09_00,
  MONDAY_10_00,
  OPERATOR,
  sentTo,
  SUNDAY_03_00,
  SUPERVISOR,
  type HandoffHarnessOptions,
} from '../helpers/handoff-harness.js';
import { deleteKeysWithPrefix, redisTargets, uniquePrefix, type RedisTarget } from '../helpers/redis-client.js';

const base = uniquePrefix('test:handoff-durability');
const targets = redisTargets();
const connections: Redis[] = [];
let n = 0;

afterAll(async () => {
  // Every connection of a kind sees the same keys: clean through the first of each, close all.
  const firsts = new Map<boolean, Redis>();
  for (const c of connections) if (!firsts.has(isCluster(c))) firsts.set(isCluster(c), c);
  for (const c of firsts.values()) await deleteKeysWithPrefix(c, base);
  for (const c of connections) c.destroy();
});

/** A bot process on its own Redis connection; processes made with the same `prefix` share the line. */
async function processVia(connect: RedisTarget['connect'], prefix: string, opts: Omit<HandoffHarnessOptions, 'redis' | 'prefix'> = {}): Promise<HandoffHarness> {
  const redis = await connect();
  connections.push(redis);
  return new HandoffHarness({ ...opts, redis, prefix });
}

const freshPrefix = () => `${base}${++n}:`;

// Each scenario on a single Redis and on a three-master Redis Cluster: the whole bot, not only the store.
describe.each(targets)('on a $kind Redis', ({ connect }) => {
  const processOn = (prefix: string, opts: Omit<HandoffHarnessOptions, 'redis' | 'prefix'> = {}) => processVia(connect, prefix, opts);

  describe('a restart loses no case', () => {
    it('the line, the case, its topic and holder survive; the conversation goes on in the same topic', async () => {
      const prefix = freshPrefix();
      const before = await processOn(prefix);
      const f = before.family(801);
      const rec = await before.open(f);
      await before.open(before.family(802));
      await before.operator(OPERATOR).press(rec, 'take');

      const after = await processOn(prefix);
      expect(await after.get(rec.id)).toMatchObject({ status: 'claimed', operatorId: OPERATOR, topicId: rec.topicId, chatId: 801 });
      expect(sentTo(await after.operator(OPERATOR).command('/queue'), GROUP)[0]).toMatch(/^Waiting line: 1\n1\. #/);
      expect(sentTo(await after.operator(OPERATOR).command('/mine'), GROUP)[0]).toContain(`#${rec.id}`);

      const familyWrites = await after.family(801).say('после перезапуска');
      expect(copies(familyWrites, GROUP).map((c) => c.payload.message_thread_id)).toEqual([rec.topicId]);
      expect(familyWrites.some((c) => c.method === 'createForumTopic')).toBe(false);
      expect(copies(await after.operator(OPERATOR).write(rec.topicId, 'я на месте'), 801)).toHaveLength(1);
    });
  });

  describe('a crash between receiving and relaying loses no message', () => {
    it('family → operators: recorded, unsent at the crash, sent exactly once after the restart; redelivered updates are not relayed again', async () => {
      const prefix = freshPrefix();
      const crashed = await processOn(prefix);
      const f = crashed.family(810);
      const rec = await crashed.open(f);

      // The copy fails (as if the process died right after recording the relay).
      crashed.telegram.failNext('copyMessage', 502, 'Bad Gateway');
      const update = { message: { message_id: 4242, date: 0, chat: f.chat, from: f.user, text: 'вопрос про документы' } };
      const updateId = crashed.newUpdateId();
      const during = await crashed.deliver(update as never, updateId);
      expect(copies(during, GROUP).every((c) => c.result === undefined)).toBe(true);
      expect(sentTo(during, 810)).toEqual([]);

      const restarted = await processOn(prefix);
      expect(await restarted.store.unsentRelays()).toEqual([expect.objectContaining({ key: `f${updateId}`, caseId: rec.id, messageId: 4242 })]);
      expect(await restarted.service.resendUnsent()).toBe(1);
      expect(await restarted.service.resendUnsent()).toBe(0);
      expect(copies(restarted.telegram.calls, GROUP).map((c) => c.payload)).toEqual([{ chat_id: GROUP, from_chat_id: 810, message_id: 4242, message_thread_id: rec.topicId }]);

      // Telegram delivers the unacknowledged update again: it is not relayed twice.
      const redelivered = await restarted.deliver(update as never, updateId);
      expect(copies(redelivered, GROUP)).toEqual([]);

      // Any update delivered twice is relayed once.
      const next = { message: { message_id: 4243, date: 0, chat: f.chat, from: f.user, text: 'и ещё' } };
      const nextId = restarted.newUpdateId();
      expect(copies(await restarted.deliver(next as never, nextId), GROUP)).toHaveLength(1);
      expect(copies(await restarted.deliver(next as never, nextId), GROUP)).toEqual([]);
      expect(await restarted.store.unsentRelays()).toEqual([]);
    });

    it('operator → family: the reply is sent exactly once after the restart', async () => {
      const prefix = freshPrefix();
      const crashed = await processOn(prefix);
      const rec = await crashed.open(crashed.family(811));
      await crashed.operator(OPERATOR).press(rec, 'take');
      crashed.telegram.failNext('copyMessage', 500, 'Internal Server Error');
      const reply = { message: { message_id: 77, date: 0, chat: GROUP_CHAT, from: { id: OPERATOR, is_bot: false, first_name: 'Op' }, text: 'Здравствуйте', message_thread_id: rec.topicId, is_topic_message: true } };
      const replyId = crashed.newUpdateId();
      await crashed.deliver(reply as never, replyId);

      const restarted = await processOn(prefix);
      expect(await restarted.service.resendUnsent()).toBe(1);
      expect(await restarted.deliver(reply as never, replyId)).toEqual([]);
      await restarted.service.resendUnsent();
      expect(copies(restarted.telegram.calls, 811).map((c) => c.payload)).toEqual([{ chat_id: 811, from_chat_id: GROUP, message_id: 77 }]);
      expect((await restarted.get(rec.id)).firstResponseAt).toBeDefined();
    });
  });

  describe('timers survive restarts', () => {
    it('an SLA breach after a restart: a warning in the topic and a message to each supervisor, exactly once across processes', async () => {
      const prefix = freshPrefix();
      const start = MONDAY_10_00;
      const before = await processOn(prefix, { clock: new FakeClock(start) });
      const rec = await before.open(before.family(820));

      const clock = new FakeClock(start + 14 * MINUTE);
      const after = await processOn(prefix, { clock });
      const other = await processOn(prefix, { clock });
      expect(await after.service.fireDueTimers()).toBe(0);

      clock.at = start + 16 * MINUTE;
      const counted = await runtimeMetrics.slaBreaches.value({ kind: 'first_response' });
      const [fired, alsoFired] = await Promise.all([after.service.fireDueTimers(), other.service.fireDueTimers()]);
      expect(fired + alsoFired).toBe(1);
      expect(await runtimeMetrics.slaBreaches.value({ kind: 'first_response' })).toBe(counted + 1);
      const calls = [...after.telegram.calls, ...other.telegram.calls];
      const warning = `⏰ Case #${rec.id}: no first reply within the time promised.`;
      expect(calls.filter((c) => c.method === 'sendMessage' && c.payload.chat_id === GROUP).map((c) => c.payload)).toEqual([
        { chat_id: GROUP, text: warning, message_thread_id: rec.topicId },
      ]);
      expect(sentTo(calls, SUPERVISOR)).toEqual([warning]);

      clock.advance(60 * MINUTE);
      expect(await after.service.fireDueTimers()).toBe(0);
      expect(await other.service.fireDueTimers()).toBe(0);
      expect((await after.store.auditTrail(rec.id)).filter((e) => e.type === 'sla_breach')).toEqual([expect.objectContaining({ by: 'system', detail: 'first_response' })]);
    });

    it('the family waiting for a reply: next-response breach after a restart; an operator\'s reply in time cancels it', async () => {
      const prefix = freshPrefix();
      const clock = new FakeClock(MONDAY_10_00);
      const before = await processOn(prefix, { clock });
      const f = before.family(821);
      const rec = await before.open(f);
      await before.operator(OPERATOR).press(rec, 'take');
      await before.operator(OPERATOR).write(rec.topicId, 'Здравствуйте');
      clock.advance(5 * MINUTE);
      await f.say('у меня вопрос');
      // Answered in time: no breach later.
      clock.advance(10 * MINUTE);
      await before.operator(OPERATOR).write(rec.topicId, 'отвечаю');
      clock.advance(5 * MINUTE);
      await f.say('спасибо, а ещё?');

      clock.advance(31 * MINUTE);
      const after = await processOn(prefix, { clock });
      expect(await after.service.fireDueTimers()).toBe(1);
      const warning = `⏰ Case #${rec.id}: the family is waiting for a reply.`;
      expect(sentTo(after.telegram.calls, GROUP)).toEqual([warning]);
      expect(sentTo(after.telegram.calls, SUPERVISOR)).toEqual([warning]);
      expect(await after.service.fireDueTimers()).toBe(0);
    });

    it('an out-of-hours case joins the line when operators come on duty, even if the process restarted over the weekend', async () => {
      const prefix = freshPrefix();
      const hours = 'mon-fri 09:00-18:00';
      const before = await processOn(prefix, { clock: new FakeClock(SUNDAY_03_00), hours });
      const rec = await before.open(before.family(822), false);
      expect(rec.status).toBe('out_of_hours');

      const clock = new FakeClock(MONDAY_09_00 - MINUTE);
      const after = await processOn(prefix, { clock, hours });
      expect(await after.service.fireDueTimers()).toBe(0);
      clock.at = MONDAY_09_00;
      expect(await after.service.fireDueTimers()).toBe(1);
      expect((await after.get(rec.id)).status).toBe('waiting');
      expect((await after.store.waiting()).map((r) => r.id)).toEqual([rec.id]);

      // Its first-response clock started at 09:00.
      clock.at = MONDAY_09_00 + 15 * MINUTE;
      after.telegram.take();
      expect(await after.service.fireDueTimers()).toBe(1);
      expect(sentTo(after.telegram.take(), SUPERVISOR)).toEqual([`⏰ Case #${rec.id}: no first reply within the time promised.`]);
    });

    it('a closed case\'s timers never fire', async () => {
      const prefix = freshPrefix();
      const clock = new FakeClock(MONDAY_10_00);
      const before = await processOn(prefix, { clock });
      const f = before.family(823);
      await before.open(f);
      await f.pressData('hx');
      clock.advance(60 * MINUTE);
      const after = await processOn(prefix, { clock });
      await after.service.fireDueTimers();
      expect(sentTo(after.telegram.calls, SUPERVISOR)).toEqual([]);
    });
  });
});
