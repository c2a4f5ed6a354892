import { createActor } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { handoffMachine, statusOf, type HandoffEvent } from '../../flows/handoff/machine.js';

/** Runs events from a fresh case and returns the status after each. */
function statuses(onDuty: boolean, events: HandoffEvent[]): string[] {
  const actor = createActor(handoffMachine, { input: { onDuty } }).start();
  const out = [statusOf(actor.getSnapshot().value)];
  for (const e of events) {
    actor.send(e);
    out.push(statusOf(actor.getSnapshot().value));
  }
  return out;
}

describe('handoff lifecycle machine', () => {
  it('opens in the line on duty and out of hours otherwise; the line opening moves it in', () => {
    expect(statuses(true, [])).toEqual(['waiting']);
    expect(statuses(false, [{ type: 'OPENING' }])).toEqual(['out_of_hours', 'waiting']);
  });

  it('waiting → claimed → transferred → back to the line → claimed → closed', () => {
    expect(
      statuses(true, [
        { type: 'CLAIM', operatorId: 1 },
        { type: 'TRANSFER', operatorId: 2 },
        { type: 'RELEASE' },
        { type: 'CLAIM', operatorId: 3 },
        { type: 'CLOSE', outcome: 'informed' },
      ]),
    ).toEqual(['waiting', 'claimed', 'claimed', 'waiting', 'claimed', 'closed']);
  });

  it('refuses what makes no sense: a transfer to the holder, a family ending a conversation nobody holds, anything after closing', () => {
    const actor = createActor(handoffMachine, { input: { onDuty: true } }).start();
    actor.send({ type: 'FAMILY_END' });
    expect(actor.getSnapshot().value).toBe('waiting');
    actor.send({ type: 'CLAIM', operatorId: 1 });
    const before = actor.getSnapshot();
    actor.send({ type: 'TRANSFER', operatorId: 1 });
    expect(actor.getSnapshot()).toBe(before);
    actor.send({ type: 'FAMILY_END' });
    expect(actor.getSnapshot().context.outcome).toBe('ended_by_family');
    expect(actor.getSnapshot().status).toBe('done'); // a closed case takes no more events
  });

  it('a family who blocked the bot comes back to the operator who held the case, or to the line', () => {
    expect(statuses(true, [{ type: 'CLAIM', operatorId: 1 }, { type: 'FAMILY_BLOCKED' }, { type: 'FAMILY_RETURNED' }])).toEqual(['waiting', 'claimed', 'family_unreachable', 'claimed']);
    expect(statuses(true, [{ type: 'FAMILY_BLOCKED' }, { type: 'FAMILY_RETURNED' }])).toEqual(['waiting', 'family_unreachable', 'waiting']);
  });

  it('every state is reachable', () => {
    const events: HandoffEvent[] = [
      { type: 'CLAIM', operatorId: 1 },
      { type: 'TRANSFER', operatorId: 2 },
      { type: 'RELEASE' },
      { type: 'CLOSE', outcome: 'referred' },
      { type: 'OPENING' },
      { type: 'FAMILY_CANCEL' },
      { type: 'FAMILY_END' },
      { type: 'FAMILY_BLOCKED' },
      { type: 'FAMILY_RETURNED' },
      { type: 'FORGET' },
    ];
    const reached = new Set<string>();
    for (const onDuty of [true, false]) {
      for (const path of getShortestPaths(handoffMachine, { events, input: { onDuty }, serializeState: (state) => String(state.value) })) reached.add(String(path.state.value));
    }
    expect([...reached].sort()).toEqual(['claimed', 'closed', 'family_unreachable', 'out_of_hours', 'waiting']);
  });
});
