/**
 * The stored form of a screening snapshot (flows/screening/pack.ts): the
 * history as positions among the answers' keys. Packing then unpacking gives the
 * snapshot back exactly, over whole random walks of the real machine; a snapshot
 * stored before the packed form unpacks unchanged; and a long dialog is smaller.
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createScreeningMachine } from '../../flows/screening/machine.js';
import { packSnapshot, unpackSnapshot } from '../../flows/screening/pack.js';
import { catalogue } from '../helpers/catalogue.js';
import { mulberry32 } from '../../bench/schedule.js';

const machine = createScreeningMachine(catalogue);

/** Snapshots along a walk: consent, then answers, ticks, "don't know" and Back at random. */
function* walk(seed: number) {
  const random = mulberry32(seed);
  const actor = createActor(machine, { input: { date: '2026-11-21' } });
  actor.start();
  actor.send({ type: 'CONSENT' });
  for (let i = 0; i < 60 && actor.getSnapshot().context.current; i++) {
    const ctx = actor.getSnapshot().context;
    const r = random();
    if (r < 0.1) actor.send({ type: 'BACK' });
    else if (r < 0.35) actor.send({ type: 'SKIP' });
    else if (ctx.together?.length) actor.send({ type: 'ANSWER', value: (ctx.together ?? []).filter(() => random() < 0.3) });
    else actor.send({ type: 'ANSWER', value: ctx.current === 'household_members' ? 4 : ctx.current === 'children' ? 2 : 'no' });
    yield actor.getPersistedSnapshot();
  }
  actor.stop();
}

describe('the stored form of a screening snapshot', () => {
  it('unpacks to exactly the snapshot packed, at every step of 40 random walks', () => {
    let steps = 0;
    for (let seed = 1; seed <= 40; seed++) {
      for (const snapshot of walk(seed)) {
        const stored = JSON.parse(JSON.stringify(packSnapshot(snapshot)));
        expect(unpackSnapshot(stored)).toEqual(JSON.parse(JSON.stringify(snapshot)));
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(400);
  });

  it('a snapshot stored before the packed form (history of fact ids) unpacks unchanged; other shapes pass through', () => {
    const old = { status: 'active', context: { facts: { in_danger_now: 'no', children: 2 }, history: ['in_danger_now', 'children'] } };
    expect(unpackSnapshot(old)).toEqual(old);
    expect(unpackSnapshot(null)).toBeNull();
    expect(packSnapshot({ value: 'x' })).toEqual({ value: 'x' });
  });

  it('a long dialog is stored in fewer bytes', () => {
    // Every topic ticked, then "no" to every question (as the bench's families answer).
    const actor = createActor(machine, { input: { date: '2026-11-21' } });
    actor.start();
    actor.send({ type: 'CONSENT' });
    for (let i = 0; i < 60 && actor.getSnapshot().context.current; i++) {
      const ctx = actor.getSnapshot().context;
      const def = catalogue.facts.find((f) => f.id === ctx.current)!;
      if (ctx.together?.length) actor.send({ type: 'ANSWER', value: [] });
      else if (def.of === 'topic') actor.send({ type: 'ANSWER', value: catalogue.topics.map((t) => t.id).filter((t) => t !== 'not_sure') });
      else if (def.type === 'yesno') actor.send({ type: 'ANSWER', value: 'no' });
      else actor.send({ type: 'SKIP' });
    }
    const last = actor.getPersistedSnapshot();
    const lengthOf = (s: unknown) => (s as { context: { history: unknown[] } }).context.history.length;
    const plain = JSON.stringify(last).length;
    const packed = JSON.stringify(packSnapshot(last)).length;
    expect(lengthOf(last)).toBeGreaterThan(10);
    expect(packed).toBeLessThan(plain * 0.8);
  });
});
