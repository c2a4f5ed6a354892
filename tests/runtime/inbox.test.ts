/**
 * The update inbox on a real Redis: recorded before Telegram is told, handled
 * per chat in order and chats in parallel, taken over from a dead process,
 * handed on at a graceful stop, dead-lettered after repeated failures. On a
 * single Redis and on a three-master Redis Cluster.
 */
import type { Update } from 'grammy/types';
import { beforeAll, describe, expect, it } from 'vitest';
import { RedisStreamInbox } from '../../src/runtime/inbox.js';
import { sendTo, type Redis } from '../../src/store/redis.js';
import { redisConnections, uniquePrefix } from '../helpers/redis-client.js';

const root = uniquePrefix('test:inbox');
const targets = redisConnections(root);
let seq = 0;
const freshPrefix = () => `${root}${++seq}:`;

let nextUpdateId = 1;
const text = (chatId: number, t: string): Update =>
  ({ update_id: nextUpdateId++, message: { message_id: nextUpdateId, date: 0, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'A' }, text: t } }) as Update;
const textOf = (u: Update) => (u.message as { text: string }).text;

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
}

const fast = { heartbeatMs: 20, takeOverMs: 100, pollMs: 10 };

describe.each(targets)('RedisStreamInbox ($kind)', ({ redis: connection }) => {
  let redis: Redis;
  beforeAll(() => {
    redis = connection();
  });
  /** A raw stream command on the inbox key (routed to its node on a cluster). */
  const onInbox = (prefix: string, args: string[]) => sendTo(redis, `${prefix}inbox`, args);

  it('handles each chat in order, another chat while one is blocked, and leaves nothing behind', async () => {
    const prefix = freshPrefix();
    const inbox = new RedisStreamInbox(redis, { prefix, ...fast });
    const slow = gate();
    const seen: string[] = [];
    inbox.start(async (u) => {
      if (textOf(u) === 'a1') await slow.promise;
      seen.push(textOf(u));
    });
    await inbox.append([text(1, 'a1'), text(1, 'a2'), text(2, 'b1'), text(2, 'b2')]);
    await until(() => seen.length === 2, 'the other chat was handled');
    // Family 2 was answered in full while family 1's first update is still blocked, and family 1's second waits behind it.
    expect(seen).toEqual(['b1', 'b2']);
    // b2's acknowledgement may still be on its way; then only family 1's two are held.
    await until(() => inbox.inHand === 2, 'family 2 acknowledged');
    expect(seen).toEqual(['b1', 'b2']);
    slow.open();
    await until(() => seen.length === 4, 'all handled');
    expect(seen).toEqual(['b1', 'b2', 'a1', 'a2']);
    await until(async () => (await inbox.backlog()) === 0, 'acknowledged and deleted');
    await inbox.stop(1000);
    expect(((await onInbox(prefix, ['XPENDING', `${prefix}inbox`, 'handlers'])) as unknown[])[0]).toBe(0);
  });

  it('takes over what a dead process had read and not handled', async () => {
    const prefix = freshPrefix();
    const writer = new RedisStreamInbox(redis, { prefix, ...fast });
    await writer.append([text(3, 'x1'), text(3, 'x2'), text(4, 'y1')]);
    // A process reads them and is killed (kill -9) before handling: they stay pending under its name.
    await onInbox(prefix, ['XGROUP', 'CREATE', `${prefix}inbox`, 'handlers', '0']);
    await onInbox(prefix, ['XREADGROUP', 'GROUP', 'handlers', 'killed', 'COUNT', '10', 'STREAMS', `${prefix}inbox`, '>']);
    const seen: string[] = [];
    const second = new RedisStreamInbox(redis, { prefix, ...fast, consumer: 'lives' });
    second.start(async (u) => void seen.push(textOf(u)));
    await until(() => seen.length === 3, 'taken over');
    expect(seen.filter((t) => t.startsWith('x'))).toEqual(['x1', 'x2']);
    const pending = (await onInbox(prefix, ['XPENDING', `${prefix}inbox`, 'handlers'])) as unknown[];
    expect(pending[0]).toBe(0);
    await until(async () => (await second.backlog()) === 0, 'acknowledged');
    await second.stop(1000);
  });

  it('a live process keeps what it holds: heartbeats stop a take-over while its handler is slow', async () => {
    const prefix = freshPrefix();
    const slow = gate();
    const a = new RedisStreamInbox(redis, { prefix, ...fast, consumer: 'a' });
    let handledByA = 0;
    a.start(async () => {
      await slow.promise;
      handledByA++;
    });
    await a.append([text(5, 'z')]);
    await until(() => a.inHand === 1, 'a holds it');
    const b = new RedisStreamInbox(redis, { prefix, ...fast, consumer: 'b' });
    let handledByB = 0;
    b.start(async () => void handledByB++);
    // Many take-over periods pass while a's handler is still blocked.
    const pending = async () => (await onInbox(prefix, ['XPENDING', `${prefix}inbox`, 'handlers', '-', '+', '10'])) as [string, string, number, number][];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, fast.takeOverMs));
      expect((await pending()).map(([, consumer]) => consumer)).toEqual(['a']);
    }
    expect(handledByB).toBe(0);
    slow.open();
    await until(() => handledByA === 1, 'a finished');
    await a.stop(1000);
    await b.stop(1000);
    expect(handledByB).toBe(0);
  });

  it('a graceful stop hands updates not started to the next process at once, keeping a chat behind its stuck update', async () => {
    const prefix = freshPrefix();
    const slow = gate();
    // A take-over time far beyond this test: only the stop's hand-over can make the second process see them.
    const patient = { heartbeatMs: 20, takeOverMs: 60_000, pollMs: 10 };
    // One chat at a time, so chat 8 waits for a slot while chat 6's first update is stuck.
    const first = new RedisStreamInbox(redis, { prefix, ...patient, maxRunning: 1, consumer: 'stopping' });
    const started: string[] = [];
    first.start(async (u) => {
      started.push(textOf(u));
      await slow.promise;
    });
    await first.append([text(6, 'p1'), text(6, 'p2'), text(8, 'q1'), text(8, 'q2')]);
    await until(() => first.inHand === 4, 'held');
    const stopped = await first.stop(50);
    expect(stopped.unfinished).toBe(4);
    expect(started).toEqual(['p1']);
    const seen: string[] = [];
    const next = new RedisStreamInbox(redis, { prefix, ...patient, consumer: 'next' });
    next.start(async (u) => void seen.push(textOf(u)));
    await until(() => seen.length === 2, 'the unstarted ones were taken at once');
    expect(seen).toEqual(['q1', 'q2']);
    // p2 waits for p1's take-over (after takeOverMs), never ahead of it.
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(['q1', 'q2']);
    slow.open();
    await next.stop(1000);
  });

  it('an update whose handling keeps failing goes to the dead-letter stream and does not hold its chat', async () => {
    const prefix = freshPrefix();
    const dead: { deliveries: number }[] = [];
    const inbox = new RedisStreamInbox(redis, { prefix, ...fast, maxDeliveries: 3, onDeadLetter: (info) => dead.push(info), onHandlerError: () => undefined });
    let tries = 0;
    const seen: string[] = [];
    inbox.start(async (u) => {
      if (textOf(u) === 'poison') {
        tries++;
        throw new Error('always');
      }
      seen.push(textOf(u));
    });
    await inbox.append([text(7, 'poison'), text(7, 'after')]);
    await until(() => dead.length === 1, 'dead-lettered');
    expect(tries).toBe(3);
    expect(seen).toEqual(['after']);
    const deadEntries = (await sendTo(redis, `${prefix}inbox:dead`, ['XRANGE', `${prefix}inbox:dead`, '-', '+'])) as [string, string[]][];
    expect(deadEntries).toHaveLength(1);
    await until(async () => (await inbox.backlog()) === 0, 'nothing left');
    await inbox.stop(1000);
  });
});
