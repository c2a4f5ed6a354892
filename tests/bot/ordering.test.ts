/**
 * Per-chat ordering across processes: two bot processes share one Redis, and
 * the same chat's updates reach both at once. Every answer is recorded once,
 * in order; a press that arrives after its screen has moved on is recognised as old.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from '../../src/store/redis.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { dialogOf, popup, sentTexts, startScreening, text } from '../helpers/family-dialog.js';
import { connectTestRedis, deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-client.js';

let redis: Redis;
const prefix = uniquePrefix('order');

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  await redis.close();
});

const twoProcesses = () => [new BotHarness({ redis, prefix }), new BotHarness({ redis, prefix })] as const;

describe('one chat, two processes, updates at the same time', () => {
  it('two answers for consecutive questions: the first applies, the second applies after it or is recognised as old', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const chatId = 700 + round;
      const [a, b] = twoProcesses();
      const fa = a.family(chatId);
      const fb = b.family(chatId);
      await startScreening(fa);
      const step = (await dialogOf(a, chatId)).context.step;
      expect((await dialogOf(a, chatId)).context.current).toBe('in_danger_now');

      // The family taps "no" and then, quickly, "2" on the next question (household size).
      const [first, second] = await Promise.all([fa.pressData(`${step}|a:no`), fb.pressData(`${step + 1}|a:2`)]);

      const dialog = await dialogOf(a, chatId);
      const { facts, history } = dialog.context;
      expect(facts.in_danger_now).toBe('no');
      expect(new Set(history).size).toBe(history.length); // no answer recorded twice
      expect(popup(first)).toBe('');
      if (facts.household_members === 2) {
        outcomes.add('both applied in order');
        expect(history).toEqual(['in_danger_now', 'household_members']);
        expect(dialog.context.step).toBe(step + 2);
        expect(popup(second)).toBe('');
      } else {
        outcomes.add('second recognised as old');
        expect(facts.household_members).toBeUndefined();
        expect(history).toEqual(['in_danger_now']);
        expect(dialog.context.step).toBe(step + 1);
        expect(popup(second)).toBe(text(b, 'ru', 'errors.oldButton'));
      }
    }
    // Either outcome is right; report which ones this run saw.
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('the same press delivered to both processes is applied once', async () => {
    for (let round = 0; round < 8; round++) {
      const chatId = 720 + round;
      const [a, b] = twoProcesses();
      const fa = a.family(chatId);
      await startScreening(fa);
      await fa.press('a:no');
      const before = await dialogOf(a, chatId);
      const data = `${before.context.step}|a:3`;
      const results = await Promise.all([fa.pressData(data), b.family(chatId).pressData(data)]);
      const after = await dialogOf(a, chatId);
      expect(after.context.history).toEqual(['in_danger_now', 'household_members']);
      expect(after.context.step).toBe(before.context.step + 1);
      // The press that came second is from a screen already gone: it is told so, with the question now asked.
      const told = results.map((calls) => sentTexts(calls)[0] ?? '').filter((t) => t.startsWith(text(a, 'ru', 'errors.oldButton')));
      expect(told).toHaveLength(1);
      expect(results.map(popup)).toEqual(['', '']);
    }
  });

  it('two typed answers picked up by the two processes at once are both recorded, each for the question asked at that moment', async () => {
    const [a, b] = twoProcesses();
    const fa = a.family(740);
    const fb = b.family(740);
    await startScreening(fa);
    await fa.press('a:no');
    await Promise.all([fa.say('4'), fb.say('2')]);
    const { facts, history } = (await dialogOf(a, 740)).context;
    expect(history).toEqual(['in_danger_now', 'household_members', 'children']);
    expect([facts.household_members, facts.children].sort()).toEqual([2, 4]);
  });

  it('many chats at once, each alternating between the processes: every chat ends with exactly its own answers', async () => {
    const [a, b] = twoProcesses();
    const chats = [751, 752, 753, 754, 755, 756, 757, 758];
    await Promise.all(
      chats.map(async (id) => {
        const via = [a.family(id), b.family(id)];
        await via[0]!.say('/start');
        await via[1]!.pressData('0|cs');
        await via[0]!.say('нет');
        await via[1]!.say(String((id % 5) + 1));
        await via[0]!.say('0');
      }),
    );
    for (const id of chats) {
      const { facts, history } = (await dialogOf(a, id)).context;
      expect(history.slice(0, 3), `chat ${id}`).toEqual(['in_danger_now', 'household_members', 'children']);
      expect(facts, `chat ${id}`).toMatchObject({ in_danger_now: 'no', household_members: (id % 5) + 1, children: 0 });
    }
  });
});
