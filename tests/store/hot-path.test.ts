/**
 * The hot path on a real Redis (src/store/hot-path.ts): an update is two round
 * trips, begin and commit; the commit is fenced by the lock's token; the TTLs
 * are set; a chat's updates are applied in update_id order across processes and
 * an older one is dropped; keys of the release before are read as a fallback.
 * Round trips are counted through node-redis's diagnostics channel
 * (bench/round-trips.ts), on a client of the test's own.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/runtime/app-metrics.js';
import { MemoryInbox } from '../../src/runtime/inbox.js';
import { hotPathScripts } from '../../src/store/hot-path-scripts.js';
import { hotPathChatKeys, RedisHotPath } from '../../src/store/hot-path.js';
import { untimed, type RedisClient as Redis } from '../../src/store/redis.js';
import { updateDedupStats } from '../../src/store/update-dedup.js';
import { CommandCounter } from '../../bench/round-trips.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { currentFact, factsOf, startScreening } from '../helpers/family-dialog.js';
import { slowBotApi, typedAnswersApart } from '../helpers/order-probe.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

const prefix = uniquePrefix('hotpath');
const SALT = 'test-salt';
const DAY = 24 * 60 * 60;
let redis: Redis;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  for (const c of clients) c.destroy();
  redis.destroy();
});

/** A bot process on its own connection, so its commands can be counted apart from the test's. */
async function botProcess(log: Record<string, unknown>[] = []): Promise<{ h: BotHarness; client: Redis }> {
  const client = await connectTestRedis();
  clients.push(client);
  const deps = createDeps({
    redis: client,
    prefix,
    dialogTtlDays: 30,
    log: createLogger('info', { write: (line: string) => void log.push(JSON.parse(line) as Record<string, unknown>) }),
    logSalt: SALT,
    today: () => '2026-11-21',
  });
  return { h: new BotHarness({ deps }), client };
}

const keysOf = (chatId: number) => hotPathChatKeys(prefix, SALT, String(chatId));
const BEGIN = hotPathScripts.hotPathBegin.SHA1.slice(0, 8);
const COMMIT = hotPathScripts.hotPathCommit.SHA1.slice(0, 8);
const ACTED = hotPathScripts.hotPathActed.SHA1.slice(0, 8);
let chatSeq = 71_000;

describe('an ordinary update', () => {
  it('is two round trips, begin then commit, and the acted mark beside its first Bot API request (a typed answer, a button press, /help)', async () => {
    const { h, client } = await botProcess();
    const f = h.family(++chatSeq);
    await startScreening(f); // the scripts are loaded into Redis here (EVALSHA → NOSCRIPT → EVAL once)
    const counter = CommandCounter.of(client);
    try {
      const perUpdate: { label: string; commands: [string, number][] }[] = [];
      const measure = async (label: string, act: () => Promise<unknown>) => {
        counter.reset();
        await act();
        perUpdate.push({ label, commands: [...counter.byCommand] });
      };
      await measure('button', () => f.press('a:no'));
      expect(await currentFact(h, f.chat.id)).toBe('household_members');
      await measure('typed', () => f.say('3'));
      await measure('command', () => f.say('/help'));
      // begin and commit on the update's path; acted goes out beside the first Bot API request, not waited for.
      const expected = [['EVALSHA ' + BEGIN, 1], ['EVALSHA ' + ACTED, 1], ['EVALSHA ' + COMMIT, 1]];
      expect(perUpdate).toEqual([
        { label: 'button', commands: expected },
        { label: 'typed', commands: expected },
        { label: 'command', commands: expected },
      ]);
    } finally {
      counter.stop();
    }
    expect((await factsOf(h, f.chat.id)).household_members).toBe(3);
  });

  it('leaves the session and the dialog with their TTLs, the update remembered a day, and no lock', async () => {
    const { h } = await botProcess();
    const f = h.family(++chatSeq);
    await startScreening(f);
    await f.press('a:no');
    const k = keysOf(f.chat.id);
    const [session, dialog, updates, lock] = await Promise.all([redis.ttl(k.session), redis.ttl(k.dialog), redis.ttl(k.updates), redis.exists(k.lock)]);
    expect(dialog).toBeGreaterThan(30 * DAY - 60);
    expect(dialog).toBeLessThanOrEqual(30 * DAY);
    expect(session).toBeGreaterThan(210 * DAY - 60);
    expect(updates).toBeGreaterThan(DAY - 60);
    expect(updates).toBeLessThanOrEqual(DAY);
    expect(lock).toBe(0);
    expect(await redis.hGet(k.updates, 'st')).toBe('done');
    // Named by a pseudonym: no key holds the chat id.
    expect(Object.values(k).some((key) => key.includes(String(f.chat.id)))).toBe(false);
  });
});

describe('the commit sends only what the acted mark did not write', () => {
  type Scripted = { hotPathCommit: (keys: string[], args: string[]) => Promise<unknown>; hotPathActed: (keys: string[], args: string[]) => Promise<unknown> };
  /** The commit's session and dialog (op, JSON) as sent, for updates run through `fn`. */
  async function commitsOf(fn: (client: Scripted) => Promise<void>): Promise<string[][]> {
    const client = untimed(redis) as unknown as Scripted; // what the hot path sends its scripts through
    const commit = client.hotPathCommit;
    const sent: string[][] = [];
    client.hotPathCommit = (keys, args) => (sent.push([args[3]!, args[4]!, args[6]!, args[7]!]), commit.call(client, keys, args));
    try {
      await fn(client);
    } finally {
      client.hotPathCommit = commit;
    }
    return sent;
  }

  it('the same JSON again is not sent; a change after the reply left is, and a delete always is', async () => {
    const hot = new RedisHotPath(redis, { prefix, keySalt: SALT, sessionTtlSeconds: 600, dialogTtlSeconds: 600 });
    const chat = String(++chatSeq);
    const sessions = hot.sessions<{ n: number }>();
    const sent = await commitsOf(async () => {
      await hot.once(1, `chat:${chat}`, async (claim) => {
        await sessions.write(chat, { n: 1 });
        await claim.commit(); // the reply leaves: the acted mark writes {n: 1}
        await sessions.write(chat, { n: 1 }); // grammY writes the session back, unchanged
      });
      await hot.once(2, `chat:${chat}`, async (claim) => {
        await sessions.write(chat, { n: 2 });
        await claim.commit();
        await sessions.write(chat, { n: 3 }); // changed after the reply left
      });
      await hot.once(3, `chat:${chat}`, async (claim) => {
        await sessions.delete(chat);
        await claim.commit();
      });
    });
    expect(sent).toEqual([
      ['-', '', '-', ''],
      ['s', '{"n":3}', '-', ''],
      ['d', '', '-', ''],
    ]);
    expect(await sessions.read(chat)).toBeUndefined();
  });

  it('when the acted mark failed, the commit sends everything', async () => {
    const hot = new RedisHotPath(redis, { prefix, keySalt: SALT, sessionTtlSeconds: 600, dialogTtlSeconds: 600, onLeaseProblem: () => {} });
    const chat = String(++chatSeq);
    const sessions = hot.sessions<{ n: number }>();
    const sent = await commitsOf(async (client) => {
      const acted = client.hotPathActed;
      client.hotPathActed = () => Promise.reject(new Error('connection reset'));
      try {
        await hot.once(1, `chat:${chat}`, async (claim) => {
          await sessions.write(chat, { n: 7 });
          await claim.commit();
        });
      } finally {
        client.hotPathActed = acted;
      }
    });
    expect(sent).toEqual([['s', '{"n":7}', '-', '']]);
    expect(await sessions.read(chat)).toEqual({ n: 7 });
  });
});

describe('the acted mark of a button press', () => {
  it('carries the press: answering the callback query does not count as acting, the next screen does', async () => {
    const { h, client } = await botProcess();
    const f = h.family(++chatSeq);
    await startScreening(f);
    const scripted = untimed(client) as unknown as { hotPathActed: (keys: string[], args: string[]) => Promise<unknown> };
    const acted = scripted.hotPathActed;
    const dialogs: string[] = [];
    scripted.hotPathActed = (keys, args) => (dialogs.push(args[5]!), acted.call(scripted, keys, args));
    try {
      await f.press('a:no');
    } finally {
      scripted.hotPathActed = acted;
    }
    expect(dialogs).toHaveLength(1);
    // What a redelivery after a crash would find: the answer the family was shown the next question for.
    expect((JSON.parse(dialogs[0]!) as { snapshot: { context: { facts: Record<string, unknown> } } }).snapshot.context.facts).toMatchObject({ in_danger_now: 'no' });
  });
});

describe('the commit is fenced by the lock token', () => {
  it('a holder whose lease was taken over writes nothing and says so', async () => {
    const problems: Error[] = [];
    const hot = new RedisHotPath(redis, { prefix, keySalt: SALT, sessionTtlSeconds: 600, dialogTtlSeconds: 600, onLeaseProblem: (e) => problems.push(e) });
    const chat = String(++chatSeq);
    const k = hot.chatKeys(chat);
    const dialogs = hot.dialogs();
    const outcome = await hot.once(1, `chat:${chat}`, async (claim) => {
      await claim.commit();
      await dialogs.save(chat, { flow: 'f', flowVersion: 1, snapshot: {}, updatedAt: 1 });
      expect(await dialogs.load(chat)).toMatchObject({ flow: 'f' }); // served from the update's cache
      await redis.set(k.lock, 'another-process'); // our lease expired and someone else holds the chat now
    });
    expect(outcome).toMatchObject({ handled: true });
    expect(await redis.exists(k.dialog)).toBe(0);
    expect(await redis.get(k.lock)).toBe('another-process');
    expect(problems.map((e) => e.message)).toEqual([expect.stringContaining('lost before the commit')]);
  });

  it('an update that failed before acting writes nothing and is handled again when it comes back', async () => {
    const hot = new RedisHotPath(redis, { prefix, keySalt: SALT, sessionTtlSeconds: 600, dialogTtlSeconds: 600 });
    const chat = String(++chatSeq);
    const sessions = hot.sessions<{ n: number }>();
    await expect(
      hot.once(5, `chat:${chat}`, async () => {
        await sessions.write(chat, { n: 1 });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // A write counts as acting, as before: the update is done and its write kept.
    expect(await sessions.read(chat)).toEqual({ n: 1 });
    await expect(hot.once(6, `chat:${chat}`, () => Promise.reject(new Error('before acting')))).rejects.toThrow();
    const again = await hot.once(6, `chat:${chat}`, async () => 'ran');
    expect(again).toEqual({ handled: true, value: 'ran', rerun: false });
  });

  it('a process that died after its first Bot API request: the redelivery is dropped, and the answer it had shown is kept', async () => {
    const hot = new RedisHotPath(redis, { prefix, keySalt: SALT, sessionTtlSeconds: 600, dialogTtlSeconds: 600 });
    const chat = String(++chatSeq);
    const k = hot.chatKeys(chat);
    const sessions = hot.sessions<{ answers: number }>();
    await sessions.write(chat, { answers: 1 });
    const client = untimed(redis) as unknown as { hotPathCommit: (...a: unknown[]) => Promise<unknown> };
    const commit = client.hotPathCommit;
    const dies = async (updateId: number, fn: (claim: { commit(): Promise<void> }) => Promise<void>) => {
      client.hotPathCommit = async () => 1; // the process is gone: its commit never reaches Redis
      try {
        await hot.once(updateId, `chat:${chat}`, fn);
      } finally {
        client.hotPathCommit = commit;
      }
      await redis.del(k.lock); // what the lease's expiry does
    };

    await dies(9, async (claim) => {
      await sessions.write(chat, { answers: 2 });
      await claim.commit(); // its reply leaves: the acted mark, with the answer, goes first
    });
    expect(await hot.once(9, `chat:${chat}`, async () => 'again')).toEqual({ handled: false, seen: 'sent' });
    expect(await sessions.read(chat)).toEqual({ answers: 2 });

    // Died before acting: nothing of it was stored, and it is handled again from the state before it.
    await dies(10, async () => {
      await sessions.write(chat, { answers: 3 });
    });
    expect(await sessions.read(chat)).toEqual({ answers: 2 });
    const rerun = await hot.once(10, `chat:${chat}`, async () => sessions.read(chat));
    expect(rerun).toEqual({ handled: true, value: { answers: 2 }, rerun: true });
  });
});

describe('one order per chat', () => {
  it('an update older than one already applied is dropped, counted and logged, and sends nothing', async () => {
    const log: Record<string, unknown>[] = [];
    const { h } = await botProcess(log);
    const f = h.family(++chatSeq);
    await startScreening(f);
    await f.press('a:no');
    const later = h.newUpdateId() + 10;
    await f.deliver(f.textUpdate('3'), later);
    const before = updateDedupStats.outOfOrder;
    const metrics = createMetrics({ inbox: new MemoryInbox() });
    expect(await metrics.render()).toContain(`qamqor_updates_out_of_order_total ${before}\n`);
    expect(await f.deliver(f.textUpdate('5'), later - 5)).toEqual([]);
    expect(updateDedupStats.outOfOrder).toBe(before + 1);
    expect(await metrics.render()).toContain(`qamqor_updates_out_of_order_total ${before + 1}\n`);
    const facts = await factsOf(h, f.chat.id);
    expect(facts.household_members).toBe(3);
    expect(facts.children).toBeUndefined();
    expect(log.find((l) => l.msg === 'update older than one already applied for the chat dropped')).toMatchObject({ seen: 'stale', update: later - 5 });
  });

  it('updates waiting on two processes go in update_id order, whichever asked first', async () => {
    const other = await connectTestRedis();
    clients.push(other);
    const options = { prefix, keySalt: SALT, sessionTtlSeconds: 600, dialogTtlSeconds: 600 };
    const [a, b, c] = [new RedisHotPath(redis, options), new RedisHotPath(other, options), new RedisHotPath(other, options)];
    const chat = `chat:${++chatSeq}`;
    const ran: number[] = [];
    let release!: () => void;
    const holding = new Promise<void>((resolve) => (release = resolve));
    const first = a.once(10, chat, async () => {
      ran.push(10);
      await holding;
    });
    await sleep(20);
    const third = b.once(12, chat, async () => void ran.push(12)); // asks first
    await sleep(30);
    const second = c.once(11, chat, async () => void ran.push(11));
    await sleep(30);
    release();
    await Promise.all([first, second, third]);
    expect(ran).toEqual([10, 11, 12]);
  });

  it("the probe's set-up: two processes, Bot API calls 100 ms, one family's typed answers 20–100 ms apart: applied in order", async () => {
    const [A, B] = [await botProcess(), await botProcess()];
    slowBotApi(A.h, B.h);
    for (const gap of [20, 100, 60]) {
      expect({ gap, ...(await typedAnswersApart(A.h, B.h, ++chatSeq, gap)) }).toEqual({ gap, household: 7, children: 4 });
    }
  }, 30_000);
});

describe('keys of the release before', () => {
  it("a family's session and dialog under the old names are read, carried on under the new ones, and the old ones deleted", async () => {
    const { h } = await botProcess();
    const f = h.family(++chatSeq);
    await startScreening(f);
    await f.press('a:no');
    await f.say('3');
    const k = keysOf(f.chat.id);
    const old = { session: `${prefix}session:${f.chat.id}`, dialog: `${prefix}dialog:${f.chat.id}` };
    // As the release before left them (a single Redis: the rename across slots is fine there).
    await redis.rename(k.session, old.session);
    await redis.rename(k.dialog, old.dialog);
    const next = await currentFact(h, f.chat.id); // read outside an update: the fallback too
    expect(next).not.toBe('household_members');

    const { h: upgraded } = await botProcess();
    const g = upgraded.family(f.chat.id);
    await g.say('0');
    expect(await factsOf(upgraded, f.chat.id)).toMatchObject({ household_members: 3, children: 0 });
    expect(await redis.exists([old.session, old.dialog])).toBe(0);
    expect(await redis.exists([k.session, k.dialog])).toBe(2);
  });

  it('an update the release before marked done is dropped; one it left claimed by a dead process is handled', async () => {
    const hot = new RedisHotPath(redis, { prefix, keySalt: SALT, sessionTtlSeconds: 600, dialogTtlSeconds: 600 });
    const chat = String(++chatSeq);
    await redis.set(`${prefix}seen:500`, 'done', { EX: 60 });
    expect(await hot.once(500, `chat:${chat}`, async () => 'ran')).toEqual({ handled: false, seen: 'done' });
    await redis.set(`${prefix}seen:501`, 'run:dead', { EX: 60 });
    expect(await hot.once(501, `chat:${chat}`, async () => 'ran')).toEqual({ handled: true, value: 'ran', rerun: true });
  });

  it('is not read on a cluster (legacyKeys false): only the new keys are passed to the scripts', async () => {
    const hot = new RedisHotPath(redis, { prefix, keySalt: SALT, sessionTtlSeconds: 600, dialogTtlSeconds: 600, legacyKeys: false });
    const chat = String(++chatSeq);
    await redis.set(`${prefix}session:${chat}`, JSON.stringify({ old: true }));
    await redis.set(`${prefix}seen:600`, 'done', { EX: 60 });
    const sessions = hot.sessions<unknown>();
    const outcome = await hot.once(600, `chat:${chat}`, async () => sessions.read(chat));
    expect(outcome).toEqual({ handled: true, value: undefined, rerun: false });
  });
});
