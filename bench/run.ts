/**
 * `npm run bench`: per-update cost by step and Redis bytes per family, for the
 * Qamqor bot and the same questionnaire written with @grammyjs/conversations,
 * measured in one run and printed as ratios (DESIGN.md: no timed assertions in
 * tests). Needs Redis: REDIS_URL, or a throwaway redis-server on loopback.
 *
 *   BENCH_FAMILIES=200  measured families per implementation
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Bot, Context } from 'grammy';
import type { Update } from 'grammy/types';
import { connectRedis, type Redis } from '../src/store/redis.js';
import { startTestRedis } from '../tests/helpers/redis-server.js';
import { createConversationsBot } from './conversations.js';
import { FakeTelegram } from './fake-telegram.js';
import { pressUpdate, startUpdate } from './family.js';
import { captureQuestionnaire, createQamqorBot } from './qamqor.js';

const ANSWERS = 30;
const FAMILIES = positiveInt(process.env.BENCH_FAMILIES, 200);
const WARMUP_FAMILIES = 20;
/** Updates per family: /start, consent, then one per answer. */
const UPDATES = ANSWERS + 2;
const REPORT_STEPS = [1, 15, 30];

interface Impl {
  name: string;
  bot: Bot<Context>;
  chatBase: number;
  /** Redis keys one family owns after its answers. */
  keys: (chatId: number) => string[];
  /** The key holding the dialog's state (the 4 KB target applies to it). */
  stateKey: (chatId: number) => string;
  /** times[answer] = per-update wall time in ms, answer 1..ANSWERS. */
  times: number[][];
}

async function main(): Promise<void> {
  const server = await startTestRedis();
  const redis = await connectRedis(server.url);
  const prefix = `bench:${process.pid}:`;
  try {
    const started = performance.now();
    const telegram = new FakeTelegram();
    const questionnaire = await captureQuestionnaire(ANSWERS);
    const qamqor: Impl = {
      name: 'qamqor',
      bot: createQamqorBot(telegram, redis, `${prefix}q:`) as unknown as Bot<Context>,
      chatBase: 1_000_000,
      keys: (id) => [`${prefix}q:dialog:${id}`, `${prefix}q:session:${id}`],
      stateKey: (id) => `${prefix}q:dialog:${id}`,
      times: emptyTimes(),
    };
    const convs: Impl = {
      name: 'conversations',
      bot: createConversationsBot(telegram, redis, `${prefix}c:`, questionnaire) as unknown as Bot<Context>,
      chatBase: 2_000_000,
      keys: (id) => [`${prefix}c:${id}`],
      stateKey: (id) => `${prefix}c:${id}`,
      times: emptyTimes(),
    };
    const impls = [qamqor, convs];

    // Warm-up: JIT and connection pools settle before anything is recorded.
    for (let f = 0; f < WARMUP_FAMILIES; f++) {
      for (let u = 0; u < UPDATES; u++) for (const impl of impls) await step(impl, telegram, impl.chatBase + 900_000 + f, u, false);
    }

    // Families start in staggered cohorts, so every round mixes early and late steps (time drifts —
    // Redis growing, GC — fall on all steps alike) and no family is touched twice in a row.
    const start = (f: number) => f % UPDATES;
    const rounds = UPDATES + (UPDATES - 1);
    const rng = mulberry32(42);
    for (let r = 0; r < rounds; r++) {
      const active: { f: number; u: number }[] = [];
      for (let f = 0; f < FAMILIES; f++) {
        const u = r - start(f);
        if (u >= 0 && u < UPDATES) active.push({ f, u });
      }
      shuffle(active, rng);
      for (const { f, u } of active) {
        const order = rng() < 0.5 ? impls : [...impls].reverse();
        for (const impl of order) await step(impl, telegram, impl.chatBase + f, u, true);
      }
    }

    // Both bots must have shown the same last screen to every family, or the comparison is void.
    for (let f = 0; f < FAMILIES; f++) {
      const a = telegram.lastKeyboard.get(qamqor.chatBase + f)?.text;
      const b = telegram.lastKeyboard.get(convs.chatBase + f)?.text;
      if (a === undefined || a !== b || a !== questionnaire.after.text) throw new Error(`family ${f}: the two bots ended on different screens`);
    }

    const bytes = new Map<string, Bytes>();
    for (const impl of impls) bytes.set(impl.name, await measureBytes(redis, impl));
    const elapsed = (performance.now() - started) / 1000;
    print(impls, bytes, elapsed, telegram);
  } finally {
    await deleteKeys(redis, `${prefix}*`);
    redis.destroy();
    await server.stop();
  }
}

async function step(impl: Impl, telegram: FakeTelegram, chatId: number, u: number, record: boolean): Promise<void> {
  const update: Update = u === 0 ? startUpdate(chatId) : pressUpdate(telegram, chatId);
  const t0 = performance.now();
  await impl.bot.handleUpdate(update);
  const ms = performance.now() - t0;
  if (record && u >= 2) impl.times[u - 1]!.push(ms);
}

interface Bytes {
  /** MEMORY USAGE summed over the family's keys. */
  memory: number;
  /** Raw stored JSON, all keys. */
  raw: number;
  /** Raw stored JSON of the dialog state alone. */
  state: number;
  stateMax: number;
  keys: number;
}

async function measureBytes(redis: Redis, impl: Impl): Promise<Bytes> {
  let memory = 0;
  let raw = 0;
  let state = 0;
  let stateMax = 0;
  for (let f = 0; f < FAMILIES; f++) {
    const id = impl.chatBase + f;
    for (const key of impl.keys(id)) {
      memory += Number(await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
      raw += await redis.strLen(key);
    }
    const s = await redis.strLen(impl.stateKey(id));
    state += s;
    stateMax = Math.max(stateMax, s);
  }
  return { memory: memory / FAMILIES, raw: raw / FAMILIES, state: state / FAMILIES, stateMax, keys: impl.keys(0).length };
}

function print(impls: Impl[], bytes: Map<string, Bytes>, elapsed: number, telegram: FakeTelegram): void {
  const [q, c] = impls as [Impl, Impl];
  const p = (impl: Impl, s: number, pct: number) => percentile(impl.times[s]!, pct);
  const cpu = os.cpus();
  console.log(`\nQamqor vs @grammyjs/conversations — ${ANSWERS}-question screening, ${FAMILIES} families × ${ANSWERS} answers each, one run`);
  console.log(`node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, Redis on loopback; ${elapsed.toFixed(1)} s; Bot API faked in-process (${[...telegram.counts.values()].reduce((a, b) => a + b, 0)} calls)\n`);

  const head = ['', ...REPORT_STEPS.map((s) => `step ${s} p50/p99 ms`), 'step30/step1 p50 (p99)', 'state B', 'Redis B/family'];
  const row = (impl: Impl): string[] => {
    const b = bytes.get(impl.name)!;
    return [
      impl.name,
      ...REPORT_STEPS.map((s) => `${fmt(p(impl, s, 50))} / ${fmt(p(impl, s, 99))}`),
      `${ratio(p(impl, 30, 50), p(impl, 1, 50))} (${ratio(p(impl, 30, 99), p(impl, 1, 99))})`,
      `${Math.round(b.state)}`,
      `${Math.round(b.memory)} (raw ${Math.round(b.raw)}, ${b.keys} key${b.keys > 1 ? 's' : ''})`,
    ];
  };
  const bq = bytes.get(q.name)!;
  const bc = bytes.get(c.name)!;
  const cmp = [
    'conversations ÷ qamqor',
    ...REPORT_STEPS.map((s) => `${ratio(p(c, s, 50), p(q, s, 50))} / ${ratio(p(c, s, 99), p(q, s, 99))}`),
    '',
    ratio(bc.state, bq.state),
    ratio(bc.memory, bq.memory),
  ];
  table([head, row(q), row(c), cmp]);

  // The per-step p50 curve shows whether the cost is flat or grows with the step.
  console.log('\np50 ms by step (every 5th):');
  const steps = [1, 5, 10, 15, 20, 25, 30];
  table([['step', ...steps.map(String)], ...impls.map((impl) => [impl.name, ...steps.map((s) => fmt(p(impl, s, 50)))])]);

  const flat = p(q, 30, 50) / p(q, 1, 50);
  console.log('\nTargets (Qamqor):');
  console.log(`  per-update cost flat, step30/step1 p50 ≤ 1.2: ${flat.toFixed(2)} → ${flat <= 1.2 ? 'holds' : 'MISSED'}`);
  console.log(`  snapshot ≤ 4096 B per family: dialog JSON ${Math.round(bq.state)} B (max ${bq.stateMax}) → ${bq.stateMax <= 4096 ? 'holds' : 'MISSED'}`);
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

function percentile(values: number[], pct: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((pct / 100) * sorted.length) - 1))]!;
}

const fmt = (ms: number) => ms.toFixed(2);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

function emptyTimes(): number[][] {
  return Array.from({ length: ANSWERS + 1 }, () => []);
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  for await (const keys of redis.scanIterator({ MATCH: pattern, COUNT: 500 })) if (keys.length) await redis.del(keys);
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_FAMILIES must be a positive integer, got ${raw}`);
  return n;
}

/** A seeded generator, so two runs shuffle alike. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<X>(items: X[], rng: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

await main();
