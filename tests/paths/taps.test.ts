/**
 * How many taps a family needs to reach the result (issue: "a few short
 * questions"), through the real bot in kk, ru and en, for families written as
 * people describe themselves, and across every generated path to a result; and
 * the "about N questions" estimate, which must not grow by more than 2 once
 * the topics are ticked.
 */
import { describe, expect, it } from 'vitest';
import type { ScreeningEvent } from '../../flows/screening/machine.js';
import { nextQuestions } from '../../src/engine/evaluate.js';
import { screensOf } from '../../src/engine/together.js';
import type { Lang } from '../../src/engine/types.js';
import { BotHarness, type FamilyDriver } from '../helpers/bot-harness.js';
import { catalogue } from '../helpers/catalogue.js';
import { dialogOf } from '../helpers/family-dialog.js';
import { eventsOf, isQuestion, TODAY } from './model.js';
import { allPaths, makePlan, randomWalk } from './plan.js';

interface Family {
  name: string;
  topics: string[];
  answers: Record<string, string | number>;
  /** The most taps allowed (the issue's target where it is met; see the note where it is not). */
  most: number;
}

const FAMILIES: Family[] = [
  { name: 'nothing to report', topics: [], answers: { in_danger_now: 'no', household_members: 2, children: 0 }, most: 8 },
  {
    // The issue's target, 15 taps, met: the disability group is asked before the questions it settles (a child with a
    // disability), "a child under 3" only for the children topic's question about one, the yes/no status questions
    // of the ticked topics on one "which of these apply?" screen (pension age without a pension, Lists 1–2, a baby,
    // a serious illness: one tick and Done), and, with no poverty line in force, nothing asked for the targeted
    // social assistance, which no answer could make indicated (able-bodied members, the sole carer). 21 taps before.
    name: '3 children with a baby, violence at home, disability group II, no income, renting',
    topics: ['violence', 'health', 'money'],
    answers: { in_danger_now: 'no', household_members: 5, children: 3, children_under_3: 1, able_bodied_members: 1, sole_able_bodied_is_carer: 'yes', child_with_disability: 'no', member_disability_group: '2', member_socially_significant_disease: 'no', domestic_violence: 'yes', expecting_or_child_under_1_5: 'yes', monthly_income_kzt: 0, housing: 'rent', member_pension_age_no_pension: 'no', member_hazardous_work_lists: 'no' },
    most: 15,
  },
  { name: '"don\'t know" to everything', topics: ['not_sure'], answers: {}, most: 10 },
];

/** Answers the way a family would, pressing buttons (or typing a number), and counts every tap until the result. */
async function tapsToResult(f: FamilyDriver, family: Family): Promise<number> {
  let taps = 0;
  const tap = async (data: string) => {
    taps++;
    await f.press(data);
  };
  await f.say('/start');
  await tap('cs');
  for (let i = 0; i < 80; i++) {
    const s = await dialogOf(f.harness, f.chatId);
    if (s.matches({ main: 'result' })) return taps;
    if (s.matches('danger')) await tap('rs'); // "continue the questions" after a disclosure
    else if (s.matches({ main: { screening: 'summary' } })) await tap('ok');
    else if (s.context.current === 'topics') {
      for (const topic of family.topics) await tap(`t:${topic}`);
      await tap('ok');
    } else if (s.context.together?.length) {
      // "Which of these apply?": tick the "yes" answers, then Done; "don't know" for all when the family knows none.
      const known = s.context.together.filter((id) => family.answers[id] !== undefined);
      if (!known.length) await tap('sk');
      else {
        for (const id of s.context.together.filter((x) => family.answers[x] === 'yes')) await tap(`t:${id}`);
        await tap('ok');
      }
    } else {
      const value = family.answers[s.context.current!];
      if (value === undefined) await tap(s.context.current === 'already_receiving' ? 'ok' : 'sk');
      else if (f.buttons.some((b) => b.data.endsWith(`|a:${value}`))) await tap(`a:${value}`);
      else (taps++, await f.say(String(value)));
    }
  }
  throw new Error(`${family.name}: no result after ${taps} taps`);
}

describe('taps to the result, through the bot', () => {
  const h = new BotHarness({ today: () => TODAY });
  let chat = 8_100_000;
  const table: string[] = [];
  for (const family of FAMILIES) {
    it.each(['kk', 'ru', 'en'] as Lang[])(`${family.name} (%s): at most ${family.most}`, async (lang) => {
      const f = h.family(chat++, lang === 'en' ? 'ru' : lang);
      if (lang === 'en') {
        await f.say('/start');
        await f.press('lg:en');
      }
      const taps = await tapsToResult(f, family);
      table.push(`${String(taps).padStart(3)} taps  ${lang}  ${family.name}`);
      expect(taps).toBeLessThanOrEqual(family.most);
    });
  }
  it('prints the table', () => console.log(table.join('\n')));
});

describe('across the generated paths', () => {
  const plan = makePlan(catalogue);
  const { model } = plan;
  const taps = (events: ScreeningEvent[]) => events.reduce((n, e) => n + (e.type === 'ANSWER' && Array.isArray(e.value) ? e.value.length + 1 : 1), 0);

  it('the median path to a result takes at most 12 taps; the distribution is printed', () => {
    const counts = [...plan.results.values()].flatMap((m) => [...m.values()]).map((p) => taps(eventsOf(p))).sort((a, b) => a - b);
    const median = counts[Math.floor(counts.length / 2)]!;
    const histogram = new Map<number, number>();
    for (const c of counts) histogram.set(c, (histogram.get(c) ?? 0) + 1);
    console.log(`taps to a result over ${counts.length} generated paths: median ${median}; ${[...histogram].map(([n, k]) => `${n}×${k}`).join(' ')}`);
    expect(median).toBeLessThanOrEqual(12);
  });

  it('after the topics screen, the "about N questions" estimate never grows by more than 2', () => {
    const paths = [...allPaths(plan).map((p) => p.events), ...Array.from({ length: 40 }, (_, i) => randomWalk(model, 5000 + i, 80))];
    const jumps: string[] = [];
    for (const events of paths) {
      let last: number | undefined;
      for (const s of model.replay(events)) {
        if (!isQuestion(s) || !Array.isArray(s.context.facts.topics) || s.matches({ main: { screening: 'editing' } })) {
          if (!isQuestion(s)) last = undefined;
          continue;
        }
        const c = s.context;
        const shown = new Set(c.together?.length ? c.together : [c.current]);
        const total = c.history.length + 1 + screensOf(nextQuestions(c.facts, catalogue, c.date).filter((f) => !shown.has(f)), catalogue).length;
        if (last !== undefined && total > last + 2) jumps.push(`${last} → ${total} at ${c.current}`);
        last = total;
      }
    }
    expect(jumps).toEqual([]);
  });
});
