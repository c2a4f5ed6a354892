/**
 * The live actors a process keeps between a chat's updates (src/runtime/warm-actors.ts):
 * used only while the stored dialog is exactly the one they stand for. Two hosts on one
 * store play two processes: what one did is what the other continues from.
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { loadCatalogue } from '../../src/catalogue/load.js';
import { DialogHost } from '../../src/runtime/dialog-host.js';
import { WarmActors } from '../../src/runtime/warm-actors.js';
import { MemoryDialogStore } from '../../src/store/dialog-store.js';
import { createScreeningMachine, type ScreeningEvent, type ScreeningMachine } from '../../flows/screening/machine.js';

const catalogue = loadCatalogue();
const today = () => '2026-11-21';
const twoProcesses = () => {
  const store = new MemoryDialogStore({ ttlSeconds: 3600 });
  return { store, a: new DialogHost(store, catalogue, today), b: new DialogHost(store, catalogue, today) };
};

describe('warm actors between a chat’s updates', () => {
  it('a chat moved to another process and back continues from what is stored, not from the warm actor', async () => {
    const { a, b } = twoProcesses();
    await a.send('7', { type: 'CONSENT' });
    const first = (await a.send('7', { type: 'SKIP' })).snapshot.context; // a keeps its actor at this answer
    await b.send('7', { type: 'SKIP' }); // the next update reached b
    const back = await a.send('7', { type: 'SKIP' });
    expect(Object.keys(back.snapshot.context.facts)).toHaveLength(Object.keys(first.facts).length + 2);
    expect(back.snapshot.context.step).toBe(first.step + 2);
  });

  it('the same answers through one process or alternating between two give the same dialog', async () => {
    const events: ScreeningEvent[] = [{ type: 'CONSENT' }, ...Array.from({ length: 12 }, (): ScreeningEvent => ({ type: 'SKIP' })), { type: 'BACK' }, { type: 'SKIP' }];
    const one = twoProcesses();
    const two = twoProcesses();
    const seen = { one: [] as unknown[], two: [] as unknown[] };
    for (const [i, event] of events.entries()) {
      seen.one.push((await one.a.send('9', event)).snapshot.context);
      seen.two.push((await (i % 3 === 0 ? two.b : two.a).send('9', event)).snapshot.context);
    }
    expect(seen.two).toEqual(seen.one);
    expect(await two.store.load('9').then((r) => r?.snapshot)).toEqual(await one.store.load('9').then((r) => r?.snapshot));
  });

  it('a dialog forgotten or expired is not brought back by a warm actor', async () => {
    const { store, a } = twoProcesses();
    await a.send('5', { type: 'CONSENT' });
    await a.send('5', { type: 'SKIP' });
    await store.delete('5'); // expired, or /forget through another process
    const again = await a.current('5');
    expect(again.fresh).toBe(true);
    expect(again.snapshot.context.facts).toEqual({});
  });

  it('keeps at most `capacity` chats and drops those unused for `idleMs`', () => {
    let now = 0;
    const warm = new WarmActors<ScreeningMachine>(3, 1000, () => now);
    const machine = createScreeningMachine(catalogue);
    const actor = () => createActor(machine, { input: { date: today() } }).start();
    for (const chat of ['1', '2', '3', '4']) warm.keep(chat, actor(), `json-${chat}`);
    expect(warm.size).toBe(3);
    expect(warm.take('1', 'json-1')).toBeUndefined(); // the oldest went first
    expect(warm.take('2', 'json-other')).toBeUndefined(); // another dialog is stored now
    const four = warm.take('4', 'json-4');
    expect(four).toBeDefined();
    warm.keep('4', four!, 'json-4');
    now = 1500;
    expect(warm.take('4', 'json-4')).toBeUndefined(); // idle too long
    warm.keep('5', actor(), 'json-5');
    expect(warm.size).toBe(1); // '3' was idle too long as well
  });
});
