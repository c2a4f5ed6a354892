/**
 * What the family's answers live through, on the Redis stores the real bot
 * uses: leaving and coming back (a new process), expiry, /forget, /help,
 * /restart, and a change of the screening flow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENING_FLOW, SCREENING_FLOW_VERSION } from '../../flows/screening/machine.js';
import { hotPathChatKeys } from '../../src/store/hot-path.js';
import type { RedisClient as Redis } from '../../src/store/redis.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { answerUntil, currentFact, dialogOf, factsOf, NO_CHILDREN, sentTexts, startScreening, text } from '../helpers/family-dialog.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

let redis: Redis;
const prefix = uniquePrefix('persist');
const DAY_MS = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

/** A new BotHarness is a new process: nothing shared with the last one but Redis. */
const process = () => new BotHarness({ redis, prefix });
/** The chat's keys in Redis (named by a pseudonym of the chat id, src/store/hot-path.ts). */
const keysFor = (chatId: number) => hotPathChatKeys(prefix, 'test-salt', String(chatId));

async function keysOf(chatId: number): Promise<string[]> {
  const found: string[] = [];
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) found.push(...keys.filter((k) => k.startsWith(keysFor(chatId).updates.replace(/updates$/, ''))));
  return found.sort();
}

describe('save and resume', () => {
  it('a family that left mid-way is welcomed back by another process and continues at the same question', async () => {
    const first = process();
    const f1 = first.family(501, 'kk');
    await startScreening(f1);
    await answerUntil(f1, NO_CHILDREN, (fact) => fact === 'housing');
    const question = f1.lastText;

    const second = process();
    const f2 = second.family(501, 'kk');
    const calls = await f2.say('/start');
    expect(sentTexts(calls)).toEqual([text(second, 'kk', 'start.welcomeBack')]);
    expect(f2.buttons.map((b) => b.text)).toEqual([text(second, 'kk', 'buttons.continue'), text(second, 'kk', 'buttons.restart')]);
    await f2.press(text(second, 'kk', 'buttons.continue'));
    expect(f2.lastText).toBe(question);
    expect(await currentFact(second, 501)).toBe('housing');
    await f2.press('a:rent');
    expect((await factsOf(second, 501)).housing).toBe('rent');
  });

  it('"start again" from the welcome back clears the answers', async () => {
    const before = process().family(502);
    await startScreening(before);
    await before.press('a:no');
    const f = process().family(502);
    await f.say('/start');
    await f.press(text(f.harness, 'ru', 'buttons.restart'));
    expect(f.lastText).toContain(text(f.harness, 'ru', 'intro.greeting'));
    expect(await factsOf(f.harness, 502)).toEqual({});
  });

  it('the language chosen in one process is used by the next', async () => {
    const f1 = process().family(503, 'ru');
    await f1.say('/start');
    await f1.press('English');
    const f2 = process().family(503, 'ru');
    await f2.say('/help');
    expect(f2.lastText).toContain(text(f2.harness, 'en', 'help.text'));
  });

  it('sessions and dialogs in Redis expire on their own', async () => {
    const f = process().family(504);
    await startScreening(f);
    const session = await redis.pTTL(keysFor(504).session);
    const dialog = await redis.pTTL(keysFor(504).dialog);
    expect(dialog).toBeGreaterThan(29 * DAY_MS);
    expect(dialog).toBeLessThanOrEqual(30 * DAY_MS);
    // The session outlives the answers, so an expired dialog can be explained.
    expect(session).toBeGreaterThan(dialog);
  });
});

describe('expiry', () => {
  it('when the answers are gone but the session remembers them, /start says they were deleted after N days, once', async () => {
    const f = process().family(511, 'kk');
    await startScreening(f);
    await f.press('a:no');
    await redis.del(keysFor(511).dialog); // what the TTL does after 30 days

    const later = process().family(511, 'kk');
    const texts = sentTexts(await later.say('/start'));
    expect(texts[0]).toBe(text(later.harness, 'kk', 'notices.expired', { days: 30 }));
    expect(texts[1]).toContain(text(later.harness, 'kk', 'intro.greeting'));
    expect(await factsOf(later.harness, 511)).toEqual({});

    const again = sentTexts(await later.say('/start'));
    expect(again.join('\n')).not.toContain(text(later.harness, 'kk', 'notices.expired', { days: 30 }));
  });

  it('the family is told even if the first thing after expiry is not /start, and only once', async () => {
    const f = process().family(512);
    await startScreening(f);
    await f.press('a:no');
    await redis.del(keysFor(512).dialog);
    const later = process().family(512);
    const expired = text(later.harness, 'ru', 'notices.expired', { days: 30 });
    await later.send({ sticker: { file_id: 's', file_unique_id: 's', type: 'regular', width: 1, height: 1, is_animated: false, is_video: false } });
    await later.say('/start');
    expect(later.texts.filter((t) => t === expired)).toHaveLength(1);
    expect(later.lastText).toContain(text(later.harness, 'ru', 'intro.greeting'));
  });

  it('a new family is not told about expiry', async () => {
    const f = process().family(513);
    const texts = sentTexts(await f.say('/start'));
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain(text(f.harness, 'ru', 'intro.greeting'));
  });
});

describe('/forget, /help, /restart', () => {
  it('/forget erases the session and the dialog and confirms in the family\'s language', async () => {
    const f = process().family(521, 'kk');
    await f.say('/start school_7');
    await f.press('cs');
    await f.press('a:no');
    expect(await keysOf(521)).toEqual([keysFor(521).dialog, keysFor(521).session, keysFor(521).updates]);
    const texts = sentTexts(await f.say('/forget'));
    expect(texts).toEqual([text(f.harness, 'kk', 'forget.done')]);
    expect(await keysOf(521)).toEqual([]);

    // Coming back after /forget is a fresh start: no "welcome back", no "expired".
    const again = process().family(521, 'kk');
    const after = sentTexts(await again.say('/start'));
    expect(after).toHaveLength(1);
    expect(after[0]).toContain(text(again.harness, 'kk', 'intro.greeting'));
  });

  it('/forget after choosing English confirms in English', async () => {
    const f = process().family(522, 'ru');
    await f.say('/start');
    await f.press('English');
    expect(sentTexts(await f.say('/forget'))).toEqual([text(f.harness, 'en', 'forget.done')]);
    expect(await keysOf(522)).toEqual([]);
  });

  it('/help lists the commands and the hotlines; "continue" returns to the question', async () => {
    const f = process().family(523);
    await startScreening(f);
    await f.press('a:no');
    const fact = await currentFact(f.harness, 523);
    await f.say('/help');
    expect(f.lastText).toContain(text(f.harness, 'ru', 'help.text'));
    expect(f.lastText).toContain('111');
    await f.press('go');
    expect(f.lastText).toContain(text(f.harness, 'ru', `facts:${fact}.question`));
  });

  it('/restart starts the questions again with no answers', async () => {
    const f = process().family(524);
    await startScreening(f);
    await answerUntil(f, NO_CHILDREN, (fact) => fact === 'housing');
    await f.say('/restart');
    expect(f.lastText).toContain(text(f.harness, 'ru', 'intro.greeting'));
    expect(await factsOf(f.harness, 524)).toEqual({});
    await f.press('cs');
    expect(await currentFact(f.harness, 524)).toBe('in_danger_now');
  });
});

describe('a change of the screening flow', () => {
  async function oldDialog(chatId: number, facts: Record<string, unknown>, extraSession: Record<string, unknown> = {}) {
    const record = { flow: SCREENING_FLOW, flowVersion: 0, updatedAt: Date.now(), snapshot: { status: 'active', value: { main: { screening: 'asking' } }, context: { date: '2026-11-01', facts, step: 7 } } };
    await redis.set(`${prefix}dialog:${chatId}`, JSON.stringify(record));
    await redis.set(`${prefix}session:${chatId}`, JSON.stringify({ lang: 'ru', hadDialog: true, consentAt: 1, ...extraSession }));
  }
  const OLD_FACTS = { in_danger_now: 'no', household_members: 3, children: 0, retired_question: 'yes', housing: 'palace' };

  it.each([
    ['/start', (f: ReturnType<BotHarness['family']>) => f.say('/start')],
    ['a typed answer', (f: ReturnType<BotHarness['family']>) => f.say('привет')],
    ['a button from an old message', (f: ReturnType<BotHarness['family']>) => f.pressData('7|a:rent')],
  ])('on the next update (%s) the family is told some answers must be given again, the rest are kept', async (_label, next) => {
    const chatId = 531 + Math.floor(Math.random() * 1000);
    await oldDialog(chatId, OLD_FACTS);
    const h = process();
    const f = h.family(chatId);
    const texts = sentTexts(await next(f));
    expect(texts[0]).toBe(text(h, 'ru', 'notices.migratedSome', { n: 2 }));
    const dialog = await dialogOf(h, chatId);
    expect(dialog.context.facts).toEqual({ in_danger_now: 'no', household_members: 3, children: 0 });
    expect(dialog.context.date).toBe('2026-11-01');
    expect(f.texts.join('\n')).not.toContain(text(h, 'ru', 'notices.expired', { days: 30 }));

    // The screening continues from the first answer still missing; kept answers are not asked again.
    if (f.buttons.some((b) => b.data.endsWith('|go'))) await f.press('go'); // /start welcomes back first
    const asked = await answerUntil(f, {});
    // The topics screen is new in this flow version: it comes first, then what is still missing.
    expect(asked.slice(0, 2)).toEqual(['topics', 'housing']);
    expect(asked).not.toContain('household_members');
    expect(asked).not.toContain('in_danger_now');

    // Told once only.
    const later = sentTexts(await f.say('/help'));
    expect(later.join('\n')).not.toContain(text(h, 'ru', 'notices.migratedSome', { n: 2 }));
    const stored = JSON.parse((await redis.get(keysFor(chatId).dialog))!) as { flowVersion: number };
    expect(stored.flowVersion).toBe(SCREENING_FLOW_VERSION);
  });

  it('when every answer carries over, the family is told that too', async () => {
    await oldDialog(541, { in_danger_now: 'no', household_members: 2 });
    const h = process();
    const texts = sentTexts(await h.family(541).say('/start'));
    expect(texts[0]).toBe(text(h, 'ru', 'notices.migratedAll'));
    expect(await factsOf(h, 541)).toEqual({ in_danger_now: 'no', household_members: 2 });
  });

  it('danger words right after a change still bring the numbers first', async () => {
    await oldDialog(542, OLD_FACTS);
    const h = process();
    const texts = sentTexts(await h.family(542).say('муж бьёт'));
    expect(texts[0]).toContain('112');
    expect(texts.join('\n')).toContain(text(h, 'ru', 'notices.migratedSome', { n: 2 }));
  });
});
