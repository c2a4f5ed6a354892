/**
 * Where a Qamqor update's time goes, by step: begin (the first Redis round trip:
 * claim, chat lock, session and dialog read), the machine (restore + send +
 * snapshot; the session and dialog come from the update's cache), rendering,
 * Bot API calls (grammY client + the fake), commit (the second round trip) and
 * the rest (grammY routing, middleware). A separate pass on a separate bot, so
 * the timers do not touch the main table.
 */
import { performance } from 'node:perf_hooks';
import type { Transformer } from 'grammy';
import type { Redis } from '../src/store/redis.js';
import type { UpdateClaim } from '../src/store/update-dedup.js';
import type { FakeTelegram } from './fake-telegram.js';
import { pressUpdate, startUpdate } from './family.js';
import { createQamqor } from './qamqor.js';
import { mulberry32, schedule } from './schedule.js';

export const PHASES = ['begin', 'machine', 'render', 'bot api', 'commit', 'other'] as const;
export type Phase = (typeof PHASES)[number];

/** means[step][phase] in ms (fastest 90% of updates), step = answer number. */
export type PhaseMeans = Map<number, Record<Phase, number>>;

export async function measurePhases(telegram: FakeTelegram, redis: Redis, prefix: string, slots: number, generations: number, chatBase: number, answers: number, steps: number[]): Promise<PhaseMeans> {
  const { bot, deps } = createQamqor(telegram, redis, prefix);
  let acc: Record<Phase | 'host', number> = blank();
  const add = (phase: Phase | 'host', ms: number) => void (acc[phase] += ms);
  const timed = <A extends unknown[], R>(phase: Phase | 'host', fn: (...args: A) => R | Promise<R>) =>
    async (...args: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await fn(...args);
      } finally {
        add(phase, performance.now() - t0);
      }
    };

  // begin runs before the handlers, commit after them (src/store/hot-path.ts).
  const updates = deps.updates;
  const once = updates.once.bind(updates);
  updates.once = <T>(updateId: number, key: string, fn: (claim: UpdateClaim) => Promise<T>) => {
    const t0 = performance.now();
    let t1 = 0;
    return once(updateId, key, async (claim) => {
      add('begin', performance.now() - t0);
      try {
        return await fn(claim);
      } finally {
        t1 = performance.now();
      }
    }).finally(() => add('commit', performance.now() - t1));
  };
  const host = deps.host;
  host.send = timed('host', host.send.bind(host));
  host.current = timed('host', host.current.bind(host));
  host.exists = timed('host', host.exists.bind(host));
  const renderer = deps.renderer;
  const render = renderer.render.bind(renderer);
  renderer.render = (...args) => {
    const t0 = performance.now();
    try {
      return render(...args);
    } finally {
      add('render', performance.now() - t0);
    }
  };
  const apiTimer: Transformer = async (prev, method, payload, signal) => {
    const t0 = performance.now();
    try {
      return await prev(method, payload, signal);
    } finally {
      add('bot api', performance.now() - t0);
    }
  };
  bot.api.config.use(apiTimer); // every ctx.api copies bot.api's transformers

  const samples = new Map<number, { total: number; phases: Record<Phase, number> }[]>(steps.map((s) => [s, []]));
  for (const { family, u, record } of schedule(slots, generations, answers + 2, mulberry32(7))) {
    const chatId = chatBase + family;
    const update = u === 0 ? startUpdate(chatId) : pressUpdate(telegram, chatId);
    acc = blank();
    const t0 = performance.now();
    await bot.handleUpdate(update);
    const total = performance.now() - t0;
    const list = samples.get(u - 1);
    if (!list || !record) continue;
    const known = acc.begin + acc.host + acc.render + acc['bot api'] + acc.commit;
    list.push({ total, phases: { ...acc, machine: acc.host, other: total - known } });
  }
  // Means add up to the total, medians do not; the slowest tenth (GC pauses, a busy neighbour) is left out so one stall does not colour a phase.
  const means: PhaseMeans = new Map();
  for (const [step, list] of samples) {
    const kept = [...list].sort((a, b) => a.total - b.total).slice(0, Math.max(1, Math.floor(list.length * 0.9)));
    const mean = blankPhases();
    for (const { phases } of kept) for (const p of PHASES) mean[p] += phases[p] / kept.length;
    means.set(step, mean);
  }
  return means;
}

function blankPhases(): Record<Phase, number> {
  return Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
}

function blank(): Record<Phase | 'host', number> {
  return { ...blankPhases(), host: 0 };
}
