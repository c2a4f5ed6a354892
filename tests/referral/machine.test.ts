import { createActor } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { referralMachine, statusOf, type ReferralInput, type ReferralMachineEvent } from '../../flows/referral/machine.js';
import { applyEvent, restore } from '../../src/referral/lifecycle.js';
import { REFERRAL_STATUSES, type Route } from '../../src/referral/types.js';
import { referral } from './fixtures.js';

const toW1: ReferralInput = { route: { to: 'worker', workerId: 'w1' }, region: 'astana', profile: 'assessment' };
const routeTo = (workerId: string): Route => ({ to: 'worker', workerId });
const nobody: Route = { to: 'none' };

function run(events: ReferralMachineEvent[], input = toW1) {
  const actor = createActor(referralMachine, { input }).start();
  const statuses = [statusOf(actor.getSnapshot().value)];
  for (const e of events) {
    actor.send(e);
    statuses.push(statusOf(actor.getSnapshot().value));
  }
  const snapshot = actor.getSnapshot();
  actor.stop();
  return { statuses, context: snapshot.context, snapshot };
}

describe('referral lifecycle machine', () => {
  it('requested → accepted → in-progress → completed, keeping the visit date and the outcome', () => {
    const { statuses, context } = run([
      { type: 'ACCEPT' },
      { type: 'CONTACTED' },
      { type: 'VISIT_PLANNED', date: '2026-12-10' },
      { type: 'COMPLETE', outcome: 'services_assigned' },
    ]);
    expect(statuses).toEqual(['requested', 'accepted', 'in-progress', 'in-progress', 'completed']);
    expect(context).toMatchObject({ workerId: 'w1', visitDate: '2026-12-10', outcome: 'services_assigned' });
  });

  it('a family who could not be reached ends as failed', () => {
    expect(run([{ type: 'ACCEPT' }, { type: 'COMPLETE', outcome: 'could_not_reach' }]).statuses).toEqual(['requested', 'accepted', 'failed']);
  });

  it('a decline with a new route goes back to requested with the new holder and remembers who declined', () => {
    const { statuses, context } = run([{ type: 'DECLINE', reason: 'no_capacity', by: 'w1', route: routeTo('w2') }]);
    expect(statuses).toEqual(['requested', 'requested']);
    expect(context).toMatchObject({ workerId: 'w2', declineReason: 'no_capacity', declinedBy: ['w1'] });
  });

  it('a decline nobody else can take parks it as declined; a supervisor reassigns it', () => {
    const { statuses, context } = run([
      { type: 'DECLINE', reason: 'not_my_profile', by: 'w1', route: nobody },
      { type: 'ACCEPT' },
      { type: 'REASSIGN', workerId: 'w3' },
    ]);
    expect(statuses).toEqual(['requested', 'declined', 'declined', 'requested']);
    expect(context.workerId).toBe('w3');
  });

  it('a redirect changes the territory and profile, to a supervisor when nobody fits there', () => {
    const { statuses, context } = run([
      { type: 'ACCEPT' },
      { type: 'REDIRECT', by: 'w1', region: 'almaty_region', profile: 'disability', route: { to: 'supervisor', workerId: 's9' } },
    ]);
    expect(statuses).toEqual(['requested', 'accepted', 'requested']);
    expect(context).toMatchObject({ region: 'almaty_region', profile: 'disability', workerId: null, supervisorId: 's9', district: null });
    expect(run([{ type: 'REDIRECT', by: 'w1', region: 'x', profile: 'violence', route: nobody }]).statuses.at(-1)).toBe('redirected');
  });

  it('a re-route after a directory reload takes any open status back to requested, to a worker or a supervisor; to nobody it is not taken', () => {
    const toSupervisor = run([{ type: 'ACCEPT' }, { type: 'CONTACTED' }, { type: 'REROUTE', route: { to: 'supervisor', workerId: 's9' } }]);
    expect(toSupervisor.statuses.at(-1)).toBe('requested');
    expect(toSupervisor.context).toMatchObject({ workerId: null, supervisorId: 's9', reminders: 0 });
    expect(run([{ type: 'REMIND' }, { type: 'REROUTE', route: routeTo('w2') }]).context).toMatchObject({ workerId: 'w2', reminders: 0 });
    expect(run([]).snapshot.can({ type: 'REROUTE', route: nobody })).toBe(false);
  });

  it('reminders and escalation count while requested and are not allowed once accepted', () => {
    const { context } = run([{ type: 'REMIND' }, { type: 'ESCALATE', supervisorId: 's1' }]);
    expect(context).toMatchObject({ reminders: 2, supervisorId: 's1', workerId: 'w1' });
    const accepted = run([{ type: 'ACCEPT' }]).snapshot;
    expect(accepted.can({ type: 'REMIND' })).toBe(false);
  });

  it('any unfinished status can be cancelled; finished ones accept nothing', () => {
    for (const before of [[], [{ type: 'ACCEPT' }], [{ type: 'ACCEPT' }, { type: 'CONTACTED' }], [{ type: 'DECLINE', reason: 'other', by: 'w1', route: nobody }]] as ReferralMachineEvent[][]) {
      expect(run([...before, { type: 'CANCEL' }]).statuses.at(-1)).toBe('cancelled');
    }
    const done = run([{ type: 'ACCEPT' }, { type: 'COMPLETE', outcome: 'need_determined' }]).snapshot;
    for (const e of [{ type: 'CANCEL' }, { type: 'ACCEPT' }, { type: 'REASSIGN', workerId: 'w2' }, { type: 'CONTACTED' }] as ReferralMachineEvent[]) {
      expect(done.can(e)).toBe(false);
    }
  });

  it('refuses what makes no sense: completing before accepting, a visit before accepting, reassigning to the holder', () => {
    const fresh = run([]).snapshot;
    expect(fresh.can({ type: 'COMPLETE', outcome: 'need_determined' })).toBe(false);
    expect(fresh.can({ type: 'VISIT_PLANNED', date: '2026-12-10' })).toBe(false);
    expect(fresh.can({ type: 'REASSIGN', workerId: 'w1' })).toBe(false);
    expect(fresh.can({ type: 'REASSIGN', workerId: 'w2' })).toBe(true);
    const inProgress = run([{ type: 'ACCEPT' }, { type: 'CONTACTED' }]).snapshot;
    expect(inProgress.can({ type: 'DECLINE', reason: 'other', by: 'w1', route: nobody })).toBe(false);
  });

  it('every status is a state of the machine, and a persisted snapshot restores where it was', () => {
    const states = Object.keys(referralMachine.config.states ?? {});
    expect([...states].sort()).toEqual([...REFERRAL_STATUSES].sort());
    const actor = createActor(referralMachine, { input: toW1 }).start();
    actor.send({ type: 'ACCEPT' });
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    const restored = createActor(referralMachine, { snapshot: persisted, input: toW1 }).start();
    restored.send({ type: 'CONTACTED' });
    expect(restored.getSnapshot().value).toBe('in-progress');
  });
});

describe('referral machine: reachability and stored state', () => {
  it('every status is reachable from a new referral', () => {
    const paths = getShortestPaths(referralMachine, {
      input: toW1,
      events: [
        { type: 'ACCEPT' },
        { type: 'CONTACTED' },
        { type: 'COMPLETE', outcome: 'need_determined' },
        { type: 'COMPLETE', outcome: 'could_not_reach' },
        { type: 'DECLINE', reason: 'other', by: 'w1', route: nobody },
        { type: 'REDIRECT', by: 'w1', region: 'x', profile: 'violence', route: nobody },
        { type: 'CANCEL' },
      ],
    });
    const reached = new Set(paths.map((p) => statusOf(p.state.value)));
    expect([...reached].sort()).toEqual([...REFERRAL_STATUSES].sort());
  });
});

describe('referral lifecycle on stored records', () => {
  it('a record of another flow version is rebuilt from its own fields and goes on', () => {
    const old = referral({ status: 'accepted', snapshot: { flowVersion: 0, value: 'taken', context: { weird: true } } });
    expect(restore(old).value).toBe('accepted');
    const next = applyEvent(old, { type: 'VISIT_PLANNED', date: '2026-12-20' }, 1);
    expect(next).toMatchObject({ status: 'in-progress', visitDate: '2026-12-20', workerId: 'w-ast-1', updatedAt: 1 });
    expect(next?.snapshot).toMatchObject({ flowVersion: 1, value: 'in-progress' });
    expect(applyEvent(old, { type: 'ACCEPT' }, 1)).toBeUndefined();
  });
});
