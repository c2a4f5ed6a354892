import { describe, expect, it } from 'vitest';
import { KeyedSequencer } from '../../src/runtime/sequencer.js';

/** A promise the test settles by hand: "this Telegram call is still hanging". */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedSequencer: chats in parallel, one order per chat', () => {
  it('runs one key in push order, one at a time', async () => {
    const seq = new KeyedSequencer();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    for (let i = 0; i < 20; i++) {
      seq.push('chat:1', async () => {
        running++;
        most = Math.max(most, running);
        await Promise.resolve();
        await new Promise((r) => setImmediate(r));
        log.push(`a${i}`);
        running--;
      });
    }
    await seq.idle();
    expect(log).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
    expect(most).toBe(1);
    expect(seq.activeKeys).toBe(0);
  });

  it('another key goes on while one key is blocked', async () => {
    const seq = new KeyedSequencer();
    const slow = gate();
    const done: string[] = [];
    seq.push('chat:slow', async () => {
      await slow.promise;
      done.push('slow 1');
    });
    seq.push('chat:slow', async () => void done.push('slow 2'));
    const other = gate();
    seq.push('chat:other', async () => {
      done.push('other');
      other.open();
    });
    await other.promise;
    // The other family was answered while the slow one still waits, and the slow chat's second update waits behind its first.
    expect(done).toEqual(['other']);
    slow.open();
    await seq.idle();
    expect(done).toEqual(['other', 'slow 1', 'slow 2']);
  });

  it('runs at most maxRunning keys at once, and the rest in turn', async () => {
    const seq = new KeyedSequencer({ maxRunning: 3 });
    const gates = Array.from({ length: 6 }, gate);
    let running = 0;
    let most = 0;
    gates.forEach((g, i) =>
      seq.push(`chat:${i}`, async () => {
        running++;
        most = Math.max(most, running);
        await g.promise;
        running--;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(running).toBe(3);
    for (const g of gates) g.open();
    await seq.idle();
    expect(most).toBe(3);
    expect(seq.size).toBe(0);
  });

  it('a failing task is reported and its queue goes on', async () => {
    const errors: unknown[] = [];
    const seq = new KeyedSequencer({ onError: (e) => errors.push(e) });
    const done: number[] = [];
    seq.push('k', async () => {
      throw new Error('boom');
    });
    seq.push('k', async () => void done.push(2));
    await seq.idle();
    expect(done).toEqual([2]);
    expect(errors).toHaveLength(1);
  });
});
