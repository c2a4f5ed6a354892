/**
 * The path tests for one catalogue (tests/paths/shipped.test.ts, tests/paths/poverty-line.test.ts).
 *
 * Paths are generated from the screening machine (tests/paths/plan.ts, xstate/graph):
 * the shortest path to every abstract state, to every question, to each status
 * of every rule, and seeded random walks. On the machine alone they prove that
 * every state node is reachable, every question the catalogue can ask is asked,
 * and every status each rule can take is reached. Then the real bot
 * (bot.handleUpdate, in-process Telegram) is driven along every one of them, in
 * kk, ru and en, each step checked against the machine and the screen that state
 * should show (tests/paths/driver.ts); Back is pressed from every question and
 * every other screen that has it; and, last, every locale key the bot looked up
 * on the way must exist in all three languages.
 *
 * All generated paths go through the bot; none is checked on the machine only.
 * A path that is a prefix of another is not replayed on its own: the longer one
 * passes through its states with the same checks.
 */
import { describe, expect, it } from 'vitest';
import type { ScreeningEvent } from '../../flows/screening/machine.js';
import { LANGS, type Catalogue, type Lang } from '../../src/engine/types.js';
import type { BotHarness } from '../helpers/bot-harness.js';
import { PathDriver } from './driver.js';
import { entryOf, factsOf } from '../../flows/screening/history.js';
import { eventsOf, isQuestion, onScreen, resumeTarget, stateName, type Model, type Path, type Snap } from './model.js';
import { allPaths, askableFacts, expectedStatuses, hasPovertyLine, makePlan, randomWalk, stateNodes } from './plan.js';

let nextChat = 7_000_000;
const langOf = (i: number): Lang => LANGS[i % LANGS.length]!;

/**
 * The screens answered so far, most recent last, worked out from the path (not from the machine's history):
 * a fact id, or the ids of the questions answered together joined with "+".
 */
function answeredStack(model: Model, snaps: Snap[], events: ScreeningEvent[]): string[] {
  const stack: string[] = [];
  events.forEach((e, i) => {
    const before = snaps[i]!;
    if (e.type === 'RESTART') stack.length = 0;
    const multi = model.defs.get(before.context.current ?? '')?.type === 'list' || Boolean(before.context.together?.length);
    const records = e.type === 'ANSWER' || e.type === 'SKIP' || (e.type === 'CONFIRM' && multi);
    if (isQuestion(before) && records) {
      const ids = onScreen(before);
      const left = stack.map((entry) => factsOf(entry).filter((f) => !ids.includes(f))).filter((fs) => fs.length).map(entryOf);
      stack.splice(0, stack.length, ...left, entryOf(ids));
    }
    if (e.type === 'BACK' && (before.matches({ main: { screening: 'asking' } }) || before.matches({ main: { screening: 'askingPrevious' } }) || before.matches({ main: { screening: 'summary' } }))) stack.pop();
  });
  return stack;
}

export interface SuiteOptions {
  catalogue: Catalogue;
  /** A bot whose catalogue is `catalogue`. */
  harness: BotHarness;
  /** Seeds of the random walks; walk i is in LANGS[i % 3]. */
  walks: number[];
}

export function pathSuite({ catalogue, harness, walks }: SuiteOptions): void {
  const plan = makePlan(catalogue);
  const { model } = plan;
  const driver = new PathDriver(harness, model);
  const paths = allPaths(plan);

  describe('on the machine', () => {
    it('every generated path replays on the machine and ends in the state it promised', () => {
      const all = [...plan.structural, ...plan.questions.values(), ...[...plan.results.values()].flatMap((m) => [...m.values()])];
      for (const p of all) {
        const end = model.replay(eventsOf(p)).at(-1)!;
        expect(model.key(end)).toBe(model.key(p.state));
      }
    });

    it('reaches every state node of the machine (history pseudo-states aside)', () => {
      const ends = plan.structural.map((p) => model.replay(eventsOf(p)).at(-1)!);
      const nodes = stateNodes(model);
      expect(nodes.map((n) => n.id).sort()).toEqual(
        ['danger', 'main', 'main.infoOnly', 'main.intro', 'main.refer', 'main.result', 'main.saved', 'main.screening', 'main.screening.asking', 'main.screening.askingPrevious', 'main.screening.editing', 'main.screening.summary', 'talk'].sort(),
      );
      const unreached = nodes.filter((n) => !ends.some((s) => s.matches(n.value as never))).map((n) => n.id);
      expect(unreached).toEqual([]);
    });

    it('reaches the danger and talk screens from every screen, and urgent talk from the danger screen', () => {
      const keys = new Set(plan.structural.map((p) => model.key(p.state)));
      const screens = [...new Set(plan.structural.map((p) => p.state).filter((s) => !s.matches('danger') && !s.matches('talk')).map(stateName))];
      expect(screens).toHaveLength(9);
      for (const screen of screens) {
        expect(keys).toContain(`danger from ${screen} via button`);
        expect(keys).toContain(`talk from ${screen}`);
        expect(keys).toContain(`talk from ${screen} urgent`);
      }
      // An answer that discloses violence brings the danger screen with its own message, from a question.
      expect([...keys].some((k) => k.startsWith('danger from main.screening.asking via disclosure'))).toBe(true);
      expect([...keys].some((k) => k.startsWith('danger from main.screening.asking via answer'))).toBe(true);
      // RESUME goes back to where the family was.
      for (const p of plan.structural.filter((p) => p.state.matches('danger') || p.state.matches('talk'))) {
        const snaps = model.replay([...eventsOf(p), { type: 'RESUME' }]);
        expect(stateName(snaps.at(-1)!)).toBe(resumeTarget(snaps.at(-2)!));
      }
    });

    it('asks every question the catalogue can ask, and nothing else', () => {
      const asked = [...plan.questions.keys()];
      expect(new Set(asked)).toEqual(new Set(askableFacts(catalogue)));
      for (const [fact, p] of plan.questions) {
        const end = model.replay(eventsOf(p)).at(-1)!;
        expect(isQuestion(end) && onScreen(end)).toContain(fact);
      }
      // child_special_educational_needs is read by no rule, so the dialog never asks it; without a poverty line
      // no answer can make the targeted social assistance indicated, so its questions are not asked either.
      const aspOnly = ['region', 'able_bodied_members', 'sole_able_bodied_is_carer', 'lives_alone', 'monthly_income_kzt', 'member_long_illness'];
      expect(catalogue.facts.map((f) => f.id).filter((id) => !plan.questions.has(id))).toEqual(
        catalogue.facts.map((f) => f.id).filter((id) => id === 'child_special_educational_needs' || (!hasPovertyLine(catalogue) && aspOnly.includes(id))),
      );
    });

    it('reaches each status every ground and benefit can take through the dialog', () => {
      const missing: string[] = [];
      for (const rule of [...catalogue.grounds, ...catalogue.benefits]) {
        const reached = [...plan.results.get(rule.id)!.keys()].sort();
        const expected = expectedStatuses(catalogue, rule.id).sort();
        if (JSON.stringify(reached) !== JSON.stringify(expected)) missing.push(`${rule.id}: reached ${reached.join(',')}, expected ${expected.join(',')}`);
        for (const [status, p] of plan.results.get(rule.id)!) {
          const end = model.replay(eventsOf(p)).at(-1)!;
          expect(end.matches({ main: 'result' })).toBe(true);
          expect(model.status(end, rule.id)).toBe(status);
        }
      }
      expect(missing).toEqual([]);
      expect([...plan.results.get('flags')!.keys()].sort()).toEqual(['calm', 'emergency', 'urgent']);
    });
  });

  describe('through the bot', () => {
    describe(`every shortest path (${paths.length} after dropping prefixes)`, () => {
      paths.forEach(({ events, name }, i) => {
        it(`${langOf(i)}: ${name} (${events.length} steps)`, async () => {
          await driver.run(nextChat++, langOf(i), events);
        });
      });
    });

    describe('Back from every question returns to the previous one, and answering again continues', () => {
      // Questions asked together share a screen, often reached by the same path: Back is pressed once from it.
      [...plan.questions].filter(([, p], i, all) => all.findIndex(([, q]) => q === p) === i).forEach(([fact, path], i) => {
        it(`${langOf(i)}: from ${fact}`, async () => {
          const events = eventsOf(path);
          const last = events.at(-1)!;
          const n = events.length;
          const { snaps } = await driver.run(nextChat++, langOf(i), [...events, { type: 'BACK' }, last]);
          expect(snaps[n]!.matches({ main: { screening: 'asking' } }) && onScreen(snaps[n]!)).toContain(fact);
          const stack = answeredStack(model, snaps.slice(0, n + 1), events);
          const back = snaps[n + 1]!;
          if (last.type === 'CONSENT') {
            expect(stack).toEqual([]);
            expect(back.matches({ main: 'intro' })).toBe(true);
          } else {
            expect(back.matches({ main: { screening: 'askingPrevious' } })).toBe(true);
            expect(onScreen(back)).toEqual(factsOf(stack.at(-1)!));
            for (const f of factsOf(stack.at(-1)!)) expect(back.context.facts[f]).toBeUndefined(); // its answers are taken back
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
            expect(onScreen(back)).toEqual(factsOf(stack.at(-1)!));
          } else {
            expect(back.matches({ main: 'intro' })).toBe(true);
          }
          if (continueWith.length) expect(snaps[n + 2]!.matches({ main: 'result' })).toBe(true);
        });
      });
    });

    // Danger first, from anywhere: a cue typed as free text brings the numbers in the first message;
    // text the bot cannot use ends with the safety net line (the floor under a missed cue).
    describe('free text on every screen', () => {
      const CUES: Record<Lang, string> = { ru: 'муж опять меня бьёт', kk: 'күйеуім мені ұрады', en: 'he beats me' };
      const seen = new Set<string>();
      const one = plan.structural.filter((p) => {
        const k = `${stateName(p.state)} ${p.state.matches('danger') ? p.state.context.danger?.via : ''}`;
        return !seen.has(k) && seen.add(k);
      });
      one.forEach((path, i) => {
        const lang = langOf(i);
        it(`${lang}: on ${model.key(path.state)}`, async () => {
          const events = eventsOf(path);
          const { f } = await driver.run(nextChat++, lang, events);
          const calls = await f.say(CUES[lang]);
          const first = calls.find((c) => c.method === 'sendMessage')!;
          for (const n of ['102', '111', '150', '112']) expect(String(first.payload.text), n).toContain(n);
          const stored = (await harness.deps.host.current(String(f.chatId))).snapshot;
          expect(stored.matches('danger')).toBe(true);

          const g = (await driver.run(nextChat++, lang, events)).f;
          const before = (await harness.deps.host.current(String(g.chatId))).snapshot;
          const texts = (await g.say('ммм абв')).filter((c) => c.method === 'sendMessage').map((c) => String(c.payload.text));
          expect(texts.at(-1)!.endsWith(harness.deps.renderer.netLine(harness.deps.translator.bind(lang)))).toBe(true);
          const after = (await harness.deps.host.current(String(g.chatId))).snapshot;
          expect(after.context.facts).toEqual(before.context.facts);
        });
      });
      it('covers every state node and every way to the danger screen', () => {
        const leaves = ['main.intro', 'main.infoOnly', 'main.screening.asking', 'main.screening.askingPrevious', 'main.screening.editing', 'main.screening.summary', 'main.result', 'main.refer', 'main.saved', 'danger', 'talk'];
        expect(new Set(one.map((p) => stateName(p.state)))).toEqual(new Set(leaves));
        expect(new Set(one.filter((p) => p.state.matches('danger')).map((p) => p.state.context.danger?.via))).toEqual(new Set(['button', 'answer', 'disclosure']));
      });
    });

    describe(`${walks.length} seeded random walks`, () => {
      walks.forEach((seed, i) => {
        const events = randomWalk(model, seed, 80);
        it(`walk ${seed} (${langOf(i)}, ${events.length} steps)`, async () => {
          await driver.run(nextChat++, langOf(i), events);
        });
      });
    });
  });

  describe('locale keys', () => {
    it('every key the bot looked up on all the paths above exists, non-empty, in kk, ru and en, and no message shows a raw key', () => {
      const problems: string[] = [];
      const keys = new Set<string>();
      const tr = harness.deps.translator;
      for (const key of [...tr.usedKeys]) {
        keys.add(key);
        for (const lang of LANGS) {
          const text = tr.t(lang, key, { n: 1, total: 1, days: 1, min: 0, max: 1, version: 'v', date: 'd', doc: 'doc', ref: 'ref', value: '1', region: 'r' });
          if (!tr.has(lang, key) || !text.trim() || text === key || text === key.split(':').pop()) problems.push(`${lang} ${key}`);
        }
      }
      expect(problems).toEqual([]);
      // Things the families read: message texts, button labels, callback answers (toasts).
      const shown = harness.telegram.calls.flatMap((c) => {
        const rows = (c.payload.reply_markup as { inline_keyboard?: { text: string }[][] } | undefined)?.inline_keyboard ?? [];
        return [c.payload.text, ...rows.flat().map((b) => b.text)].filter((x): x is string => typeof x === 'string');
      });
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
}
