/**
 * One timer for the time limit of many commands (src/store/deadlines.ts), on a fake
 * clock: an answer in time passes through, a late one is rejected once the limit has
 * passed (not before, at most one tick after), and the timer stops when nothing waits.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines, RedisTimeoutError } from '../../src/store/deadlines.js';

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('Deadlines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const deadlines = () => new Deadlines(1000, 'test', 100, () => Date.now());

  it('passes an answer that comes in time, and its error', async () => {
    const d = deadlines();
    const ok = d.race(later(900, 'reply'));
    const failed = d.race(Promise.reject(new Error('WRONGTYPE')));
    await expect(failed).rejects.toThrow('WRONGTYPE');
    await vi.advanceTimersByTimeAsync(900);
    await expect(ok).resolves.toBe('reply');
    expect(d.size).toBe(0);
  });

  it('rejects a command unanswered after the limit, within one tick, and ignores its late answer', async () => {
    const d = deadlines();
    const slow = d.race(later(5000, 'too late'));
    const outcome = slow.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(d.size).toBe(1);
    await vi.advanceTimersByTimeAsync(101);
    const error = await outcome;
    expect(error).toBeInstanceOf(RedisTimeoutError);
    expect(String(error)).toContain('within 1000 ms');
    await vi.advanceTimersByTimeAsync(5000);
    expect(await outcome).toBe(error);
  });

  it('rejects only the late ones, in order, and stops its timer when nothing is pending', async () => {
    const d = deadlines();
    const first = d.race(new Promise<never>(() => {})).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    const second = d.race(new Promise<never>(() => {})).catch((e: unknown) => e);
    const quick = d.race(later(200, 'quick'));
    await vi.advanceTimersByTimeAsync(600);
    expect(await first).toBeInstanceOf(RedisTimeoutError);
    expect(await quick).toBe('quick');
    expect(d.size).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(await second).toBeInstanceOf(RedisTimeoutError);
    expect(d.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
