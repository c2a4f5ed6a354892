/**
 * The update loop never stops, and logs carry no personal data.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import type { BotDeps } from '../../src/bot/context.js';
import { createLogger } from '../../src/log.js';
import { hotPathChatKeys } from '../../src/store/hot-path.js';
import type { Redis } from '../../src/store/redis.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { answerUntil, currentFact, dialogOf, factsOf, netLine, NO_CHILDREN, startScreening, text } from '../helpers/family-dialog.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

let redis: Redis;
const prefix = uniquePrefix('resilience');
beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.close();
});

function depsWith(overrides: { log?: BotDeps['log']; redis?: Redis } = {}): BotDeps {
  return createDeps({ redis: overrides.redis, prefix, dialogTtlDays: 30, log: overrides.log ?? createLogger('silent'), logSalt: 'salt-for-tests', today: () => '2026-11-21' });
}

/** Messages that reached the family (a failed call is recorded but never arrived). */
const delivered = (calls: { method: string; payload: Record<string, unknown>; result?: unknown }[]) =>
  calls.filter((c) => c.method === 'sendMessage' && c.result !== undefined).map((c) => String(c.payload.text));

describe('a failed update', () => {
  it('a Bot API call that fails: the family gets the kind internal-error message, and the next update works', async () => {
    const h = new BotHarness({ redis, prefix });
    const f = h.family(801, 'kk');
    await startScreening(f);
    h.telegram.failNext('sendMessage', 500, 'Internal Server Error');
    const calls = await f.press('a:no'); // handleUpdate does not throw
    expect(delivered(calls)).toEqual([`${text(h, 'kk', 'errors.internal')}\n\n${netLine(h, 'kk')}`]);
    // The answer was taken before the screen failed; it is kept.
    expect((await factsOf(h, 801)).in_danger_now).toBe('no');
    // The internal-error message offers a way back to the screen that failed.
    await f.press('go');
    const fact = await currentFact(h, 801);
    expect(f.lastText).toContain(text(h, 'kk', `facts:${fact}.question`));
    await f.press('a:3');
    expect((await factsOf(h, 801)).household_members).toBe(3);
  });

  it('the session is kept even when the update failed after it changed', async () => {
    const h = new BotHarness({ redis, prefix });
    const f = h.family(802);
    await f.say('/start');
    h.telegram.failNext('sendMessage', 400, 'Bad Request: message is too long');
    await f.press('cs');
    expect((await dialogOf(h, 802)).matches({ main: 'screening' })).toBe(true);
    expect((await h.deps.sessions.read('802'))?.consentAt).toEqual(expect.any(Number));
  });

  it('when even the kind message cannot be sent, nothing is thrown and the next update works', async () => {
    const h = new BotHarness();
    const f = h.family(803);
    await startScreening(f);
    h.telegram.failNext('sendMessage', 403, 'Forbidden: bot was blocked by the user');
    h.telegram.failNext('sendMessage', 403, 'Forbidden: bot was blocked by the user');
    const calls = await f.press('a:no');
    expect(delivered(calls)).toEqual([]);
    const next = await f.say('3');
    expect((await factsOf(h, 803)).household_members).toBe(3);
    expect(delivered(next).at(-1)).toContain(text(h, 'ru', `facts:${(await currentFact(h, 803))!}.question`));
  });

  it('a store that fails once: the kind message, and the next update works', async () => {
    const deps = depsWith();
    const send = deps.host.send.bind(deps.host);
    let failures = 1;
    deps.host.send = async (key, event) => {
      if (failures-- > 0) throw new Error('ECONNRESET');
      return send(key, event);
    };
    const h = new BotHarness({ deps });
    const f = h.family(804);
    await f.say('/start');
    const calls = await f.press('cs');
    expect(delivered(calls)).toEqual([`${text(h, 'ru', 'errors.internal')}\n\n${netLine(h, 'ru')}`]);
    await f.press('go');
    await f.press('cs');
    expect(await currentFact(h, 804)).toBe('in_danger_now');
  });

  it('a failure in a group chat is logged and nothing is said there', async () => {
    const h = new BotHarness();
    h.telegram.failNext('sendMessage', 403, 'Forbidden: bot is not a member');
    const group = { id: -100999, type: 'group' as const, title: 'G' };
    const calls = await h.handle({ message: { message_id: 1, date: 0, chat: group, from: { id: 805, is_bot: false, first_name: 'T' }, text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }] } });
    expect(calls.filter((c) => c.method === 'sendMessage')).toHaveLength(1);
  });
});

describe('logs', () => {
  it('carry no message text and no raw chat id, only a salted reference', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const deps = depsWith({ log: createLogger('trace', stream), redis });
    const h = new BotHarness({ deps });
    const chatId = 480_123_457;
    const f = h.family(chatId, 'kk');
    const secrets = ['Айгүл Серікқызы', '+7 701 555 12 34', '870412300555', 'мой муж бьёт меня каждый вечер', 'ул. Абая 15 кв 7'];

    await f.say('/start r-astana');
    await f.press('cs');
    await f.say(secrets[0]!);
    await f.say('150 000');
    await answerUntil(f, NO_CHILDREN, (fact) => fact === 'housing');
    await f.say(secrets[1]!);
    await f.say(secrets[2]!);
    await f.say(secrets[3]!); // a danger cue: logged as an event, without its words
    await f.press('ut');
    await f.press('rs');
    await f.send({ contact: { phone_number: secrets[1]!, first_name: secrets[0]! } });
    await h.handle({ edited_message: { message_id: 3, date: 0, edit_date: 1, chat: f.chat, from: f.user, text: secrets[4]! } });
    h.telegram.failNext('sendMessage', 400, `Bad Request: can't parse entities in text=${secrets[4]}`);
    await f.say('/help');
    await redis.set(hotPathChatKeys(prefix, 'salt-for-tests', String(chatId)).dialog, 'not json at all');
    await f.say('/start');
    await f.say('/forget');

    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(2);
    expect(log).toMatch(/family may be in danger/);
    expect(log).toMatch(/erased/);
    expect(log).toMatch(/update failed/);
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).not.toContain(String(chatId));
    expect(log).not.toContain('150 000');
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if ('chat' in entry) expect(entry.chat).toMatch(/^[0-9a-f]{12}$/);
    }
  });
});
