/**
 * The concurrency probe's set-up (../shared/probes/concurrency.ts, issue 12): two bot processes
 * whose Bot API calls take 100 ms, and one family's typed answers 7, 4, 2 reaching them `gap` ms
 * apart in alternation. In update_id order that is 7 people and 4 children ("2" then meets the
 * topics screen); out of order, "2" would be the children.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BotHarness } from './bot-harness.js';
import { factsOf, startScreening } from './family-dialog.js';

/** Makes every Bot API call of these processes take 100 ms, as in the probe. */
export function slowBotApi(...processes: BotHarness[]): void {
  for (const h of processes) {
    h.bot.api.config.use(async (prev, method, payload, signal) => {
      await sleep(100);
      return prev(method, payload, signal);
    });
  }
}

/** The family `chatId` answers 7 on A, 4 on B and 2 on A, `gap` ms apart; returns what was stored. */
export async function typedAnswersApart(A: BotHarness, B: BotHarness, chatId: number, gap: number): Promise<{ household: unknown; children: unknown }> {
  const fa = A.family(chatId);
  const fb = B.family(chatId);
  await startScreening(fa);
  await fa.press('a:no');
  const p1 = fa.say('7');
  await sleep(gap);
  const p2 = fb.say('4');
  await sleep(gap);
  const p3 = fa.say('2');
  await Promise.all([p1, p2, p3]);
  const facts = await factsOf(A, chatId);
  return { household: facts.household_members, children: facts.children };
}
