/**
 * The real bot (bot.handleUpdate, in-process Telegram) driven along paths
 * generated from the screening machine (tests/paths/plan.ts): every shortest
 * path — to every abstract state, every question, every status of every rule —
 * and 30 seeded random walks, in kk, ru and en, each step checked against the
 * machine and the screen that state should show (tests/paths/driver.ts). Then
 * Back from every question and screen that has it, and, last, every locale key
 * the bot looked up on the way exists in all three languages.
 *
 * All generated paths go through the bot; none is checked on the machine only.
 * A path that is a prefix of another is not replayed on its own: the longer one
 * passes through its states with the same checks.
 */
import { describe, expect, it } from 'vitest';
import type { ScreeningEvent } from '../../flows/screening/machine.js';
import { createDeps } from '../../src/app.js';
import { LANGS, type Lang } from '../../src/engine/types.js';
import { createLogger } from '../../src/log.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { astanaLine, catalogue, withParams } from '../helpers/catalogue.js';
import { PathDriver } from './driver.js';
import { eventsOf, isQuestion, stateName, TODAY, type Model, type Path, type Snap } from './model.js';
import { allPaths, makePlan, paramsFile, randomWalk } from './plan.js';

const SETUPS = [
  { name: 'shipped catalogue', harness: new BotHarness({ today: () => TODAY }), plan: makePlan(catalogue) },
  {
    name: 'catalogue with a poverty line',
    harness: new BotHarness({
      deps: createDeps({ prefix: 'test:', dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'test-salt', today: () => TODAY, paramsFile: paramsFile(astanaLine) }),
    }),
    plan: makePlan(withParams(astanaLine)),
  },
];

let nextChat = 7_000_000;
const langOf = (i: number): Lang => LANGS[i % LANGS.length]!;
const describePath = (model: Model, p: ScreeningEvent[]) => `${model.key(model.replay(p).at(-1)!)} (${p.length} steps)`;

/** The questions answered so far, most recent last, worked out from the path (not from the machine's history). */
function answeredStack(model: Model, snaps: Snap[], events: ScreeningEvent[]): string[] {
  const stack: string[] = [];
  events.forEach((e, i) => {
    const before = snaps[i]!;
    if (e.type === 'RESTART') stack.length = 0;
    const records = e.type === 'ANSWER' || e.type === 'SKIP' || (e.type === 'CONFIRM' && model.defs.get(before.context.current ?? '')?.type === 'list');
    if (isQuestion(before) && records) {
      const fact = before.context.current!;
      stack.splice(0, stack.length, ...stack.filter((f) => f !== fact), fact);
    }
    if (e.type === 'BACK' && (before.matches({ main: { screening: 'asking' } }) || before.matches({ main: { screening: 'askingPrevious' } }) || before.matches({ main: { screening: 'summary' } }))) stack.pop();
  });
  return stack;
}

describe.each(SETUPS)('bot along generated paths ($name)', ({ harness, plan }) => {
  const { model } = plan;
  const driver = new PathDriver(harness, model);
  const paths = allPaths(plan);

  describe(`every shortest path (${paths.length} after dropping prefixes)`, () => {
    paths.forEach((events, i) => {
      it(`${langOf(i)}: ${describePath(model, events)}`, async () => {
        await driver.run(nextChat++, langOf(i), events);
      });
    });
  });

  describe('Back from every question returns to the previous one, and answering again continues', () => {
    [...plan.questions].forEach(([fact, path], i) => {
      it(`${langOf(i)}: from ${fact}`, async () => {
        const events = eventsOf(path);
        const last = events.at(-1)!;
        const n = events.length;
        const { snaps } = await driver.run(nextChat++, langOf(i), [...events, { type: 'BACK' }, last]);
        expect(snaps[n]!.matches({ main: { screening: 'asking' } }) && snaps[n]!.context.current).toBe(fact);
        const stack = answeredStack(model, snaps.slice(0, n + 1), events);
        const back = snaps[n + 1]!;
        if (last.type === 'CONSENT') {
          expect(stack).toEqual([]);
          expect(back.matches({ main: 'intro' })).toBe(true);
        } else {
          expect(back.matches({ main: { screening: 'askingPrevious' } })).toBe(true);
          expect(back.context.current).toBe(stack.at(-1));
          expect(back.context.facts[stack.at(-1)!]).toBeUndefined(); // its answer is taken back
        }
        const again = snaps[n + 2]!;
        expect(model.key(again)).toBe(model.key(snaps[n]!));
        expect(again.context.facts).toEqual(snaps[n]!.context.facts);
      });
    });

    // Back from the other screens that have it: a question reached by Back, a question edited from the summary, the summary, the result.
    const others = plan.structural.filter((p) => ['main.screening.askingPrevious', 'main.screening.editing', 'main.screening.summary', 'main.result'].includes(stateName(p.state)));
    others.forEach((path: Path, i) => {
      it(`${langOf(i)}: from ${model.key(path.state)}`, async () => {
        const events = eventsOf(path);
        const n = events.length;
        const end = model.replay(events).at(-1)!;
        const continueWith: ScreeningEvent[] = end.matches({ main: 'result' }) ? [{ type: 'CONFIRM' }] : [];
        const { snaps } = await driver.run(nextChat++, langOf(i), [...events, { type: 'BACK' }, ...continueWith]);
        const stack = answeredStack(model, snaps.slice(0, n + 1), events);
        const back = snaps[n + 1]!;
        if (end.matches({ main: { screening: 'editing' } }) || end.matches({ main: 'result' })) {
          expect(back.matches({ main: { screening: 'summary' } })).toBe(true);
          expect(back.context.facts).toEqual(end.context.facts); // nothing changed
        } else if (stack.length) {
          expect(back.matches({ main: { screening: 'askingPrevious' } })).toBe(true);
          expect(back.context.current).toBe(stack.at(-1));
        } else {
          expect(back.matches({ main: 'intro' })).toBe(true);
        }
        if (continueWith.length) expect(snaps[n + 2]!.matches({ main: 'result' })).toBe(true);
      });
    });
  });
});

describe('30 seeded random walks through the bot, in kk, ru and en', () => {
  for (let i = 0; i < 30; i++) {
    const setup = SETUPS[i % 2]!;
    const events = randomWalk(setup.plan.model, 1000 + i, 80);
    it(`walk ${i + 1} (${setup.name}, ${langOf(i)}): ${describePath(setup.plan.model, events)}`, async () => {
      await new PathDriver(setup.harness, setup.plan.model).run(nextChat++, langOf(i), events);
    });
  }
});

describe('locale keys', () => {
  it('every key the bot looked up exists, non-empty, in kk, ru and en, and no message shows a raw key', () => {
    const problems: string[] = [];
    const keys = new Set<string>();
    for (const { harness } of SETUPS) {
      const tr = harness.deps.translator;
      for (const key of [...tr.usedKeys]) {
        keys.add(key);
        for (const lang of LANGS) {
          const text = tr.t(lang, key, { n: 1, total: 1, days: 1, min: 0, max: 1, version: 'v', date: 'd', doc: 'doc', ref: 'ref', value: '1', region: 'r' });
          if (!tr.has(lang, key) || !text.trim() || text === key || text === key.split(':').pop()) problems.push(`${lang} ${key}`);
        }
      }
    }
    expect(problems).toEqual([]);
    // Things the families read: message texts, button labels, callback answers (toasts).
    const shown = SETUPS.flatMap(({ harness }) =>
      harness.telegram.calls.flatMap((c) => {
        const rows = (c.payload.reply_markup as { inline_keyboard?: { text: string }[][] } | undefined)?.inline_keyboard ?? [];
        return [c.payload.text, ...rows.flat().map((b) => b.text)].filter((x): x is string => typeof x === 'string');
      }),
    );
    expect(shown.length).toBeGreaterThan(1000);
    // A missing key would show as itself ("facts:foo.question") or as its path ("foo.question").
    const raw = [...keys].flatMap((k) => [k, k.split(':').pop()!]).filter((k) => /[.:_]/.test(k));
    const escape = (k: string) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const anyKey = new RegExp(`(?:^|[^\\w.:])(${raw.sort((a, b) => b.length - a.length).map(escape).join('|')})(?![\\w.])`);
    const leaks = [...new Set(shown)].flatMap((text) => {
      const m = anyKey.exec(text);
      return m ? [`${m[1]} in «${text.slice(0, 80)}»`] : [];
    });
    expect(leaks).toEqual([]);
    expect(keys.size).toBeGreaterThan(200);
  });
});
