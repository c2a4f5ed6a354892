/**
 * What the paths generated from the screening machine prove on the machine
 * alone (tests/paths/bot.test.ts replays the same paths through the bot):
 * every state node is reachable, every question the catalogue can ask is
 * asked, every status each rule can take is reached, and every path replays.
 * Both with the shipped catalogue (no poverty line yet) and with a test line.
 */
import { describe, expect, it } from 'vitest';
import { catalogue, astanaLine, withParams } from '../helpers/catalogue.js';
import { eventsOf, isQuestion, resumeTarget, stateName } from './model.js';
import { askableFacts, expectedStatuses, makePlan, stateNodes } from './plan.js';

const CATALOGUES = [
  { name: 'shipped catalogue', catalogue },
  { name: 'catalogue with a poverty line', catalogue: withParams(astanaLine) },
];

describe.each(CATALOGUES)('screening machine paths ($name)', ({ catalogue: cat }) => {
  const plan = makePlan(cat);
  const { model } = plan;

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
      expect(keys).toContain(`danger from ${screen}`);
      expect(keys).toContain(`talk from ${screen}`);
      expect(keys).toContain(`talk from ${screen} urgent`);
    }
    // RESUME goes back to where the family was.
    for (const p of plan.structural.filter((p) => p.state.matches('danger') || p.state.matches('talk'))) {
      const snaps = model.replay([...eventsOf(p), { type: 'RESUME' }]);
      expect(stateName(snaps.at(-1)!)).toBe(resumeTarget(snaps.at(-2)!));
    }
  });

  it('asks every question the catalogue can ask, and nothing else', () => {
    const asked = [...plan.questions.keys()];
    expect(new Set(asked)).toEqual(new Set(askableFacts(cat)));
    for (const [fact, p] of plan.questions) {
      const end = model.replay(eventsOf(p)).at(-1)!;
      expect(isQuestion(end) && end.context.current).toBe(fact);
    }
    // Known gap, reported: these catalogue facts are read by no rule, so the dialog never asks them
    // (already_receiving only marks a benefit as received; child_special_educational_needs is unused).
    expect(cat.facts.map((f) => f.id).filter((id) => !plan.questions.has(id) && !['region', 'monthly_income_kzt'].includes(id))).toEqual([
      'child_special_educational_needs',
      'already_receiving',
    ]);
  });

  it('reaches each status every ground and benefit can take through the dialog', () => {
    const missing: string[] = [];
    for (const rule of [...cat.grounds, ...cat.benefits]) {
      const reached = [...plan.results.get(rule.id)!.keys()].sort();
      const expected = expectedStatuses(cat, rule.id).sort();
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
