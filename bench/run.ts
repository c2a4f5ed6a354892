/**
 * `npm run bench`: per-update cost by step and Redis bytes per family, for the
 * Qamqor bot and the same questionnaire written with @grammyjs/conversations,
 * measured in one run and printed as ratios (DESIGN.md: no timed assertions in
 * tests). Needs Redis: REDIS_URL, or a throwaway redis-server on loopback.
 *
 *   BENCH_SLOTS=100  families in flight per implementation (× 3 generations)
 *   BENCH_SCALE=off  skip the scale part (e.g. to profile the in-process part alone)
 *
 * Then the scale part (bench/scale.ts): 1, 2 and 4 bot processes in webhook mode.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Bot, Context } from 'grammy';
import type { Update } from 'grammy/types';
import { hotPathChatKeys } from '../src/store/hot-path.js';
import { connectRedis, type RedisClient as Redis } from '../src/store/redis.js';
import { startTestRedis } from '../tests/helpers/redis-server.js';
import { createConversationsBot } from './conversations.js';
import { FakeTelegram } from './fake-telegram.js';
import { pressUpdate, startUpdate } from './family.js';
import { measurePhases, PHASES, type PhaseMeans } from './phases.js';
import { BENCH_SALT, captureQuestionnaire, createQamqor } from './qamqor.js';
import { CommandCounter } from './round-trips.js';
import { createBareBot, measureFloor, type Floor } from './floor.js';
import { scaleBench } from './scale.js';
import { COMPILED } from './runnable.js';
import { mulberry32, schedule } from './schedule.js';

const ANSWERS = 30;
/** Families answering at the same time; each runs GENERATIONS families in turn (~200 samples per step by default). */
const SLOTS = positiveInt(process.env.BENCH_SLOTS, 100);
const GENERATIONS = 3;
const FAMILIES = SLOTS * GENERATIONS;
const WARMUP_FAMILIES = 10;
/** Updates per family: /start, consent, then one per answer. */
const UPDATES = ANSWERS + 2;
const REPORT_STEPS = [1, 15, 30];
/** The instrumented pass: fewer families, and step 29 (the last question screen) beside step 30 (the summary). */
const PHASE_SLOTS = 60;
const PHASE_STEPS = [1, 15, 29, 30];

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
  /** Redis commands sent per recorded update (counted on the client, bench/round-trips.ts). */
  commands: number[];
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
      bot: createQamqor(telegram, redis, `${prefix}q:`).bot as unknown as Bot<Context>,
      chatBase: 1_000_000,
      keys: (id) => {
        const k = hotPathChatKeys(`${prefix}q:`, BENCH_SALT, String(id));
        return [k.dialog, k.session, k.updates];
      },
      stateKey: (id) => hotPathChatKeys(`${prefix}q:`, BENCH_SALT, String(id)).dialog,
      times: emptyTimes(),
      commands: [],
    };
    const convs: Impl = {
      name: 'conversations',
      bot: createConversationsBot(telegram, redis, `${prefix}c:`, questionnaire) as unknown as Bot<Context>,
      chatBase: 2_000_000,
      keys: (id) => [`${prefix}c:${id}`],
      stateKey: (id) => `${prefix}c:${id}`,
      times: emptyTimes(),
      commands: [],
    };
    const impls = [qamqor, convs];

    // Warm-up: JIT and connection pools settle before anything is recorded.
    for (let f = 0; f < WARMUP_FAMILIES; f++) {
      for (let u = 0; u < UPDATES; u++) for (const impl of impls) await step(impl, telegram, impl.chatBase + 900_000 + f, u, false);
    }

    // Every round mixes all steps in equal share (see schedule.ts); each update goes to both bots, in random order.
    // Beside each recorded update, one sample of the two-round-trip floor (bench/floor.ts), so drift falls on both alike.
    const rng = mulberry32(42);
    const counter = CommandCounter.of(redis);
    const floor: Floor = { rawPair: [], evalPair: [], bareBot: [] };
    // The bare bot sends a mid-questionnaire screen (press 15's), the size of what Qamqor sends.
    const bare = createBareBot(telegram, redis, `${prefix}floor:`, questionnaire.questions[15]!, 4_000_000);
    for (let f = 0; f < 100; f++) await bare.bot.handleUpdate(bare.press(f)); // warm-up, as for the two bots
    for (const { family, u, record } of schedule(SLOTS, GENERATIONS, UPDATES, rng)) {
      const order = rng() < 0.5 ? impls : [...impls].reverse();
      for (const impl of order) await step(impl, telegram, impl.chatBase + family, u, record, counter);
      if (record && u >= 2) await measureFloor(redis, `${prefix}floor:`, floor, bare);
    }
    counter.stop();

    // Both bots must have shown the same last screen to every family, or the comparison is void.
    for (let f = 0; f < FAMILIES; f++) {
      const a = telegram.lastKeyboard.get(qamqor.chatBase + f)?.text;
      const b = telegram.lastKeyboard.get(convs.chatBase + f)?.text;
      if (a === undefined || a !== b || a !== questionnaire.after.text) throw new Error(`family ${f}: the two bots ended on different screens`);
    }

    const bytes = new Map<string, Bytes>();
    for (const impl of impls) bytes.set(impl.name, await measureBytes(redis, impl));
    const phases = await measurePhases(telegram, redis, `${prefix}p:`, PHASE_SLOTS, GENERATIONS, 3_000_000, ANSWERS, PHASE_STEPS);
    const elapsed = (performance.now() - started) / 1000;
    print(impls, bytes, elapsed, telegram);
    printRoundTrips(impls, floor);
    printPhases(phases);
  } finally {
    await deleteKeys(redis, `${prefix}*`);
    redis.destroy();
    await server.stop();
  }
}

async function step(impl: Impl, telegram: FakeTelegram, chatId: number, u: number, record: boolean, counter?: CommandCounter): Promise<void> {
  const update: Update = u === 0 ? startUpdate(chatId) : pressUpdate(telegram, chatId);
  counter?.reset();
  const t0 = performance.now();
  await impl.bot.handleUpdate(update);
  const ms = performance.now() - t0;
  if (record && u >= 2) {
    impl.times[u - 1]!.push(ms);
    if (counter) impl.commands.push(counter.total);
  }
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
      // The raw size of what is stored: string values as they are, a hash (the chat's updates record) as its fields and values.
      raw += (await redis.type(key)) === 'hash' ? Object.entries(await redis.hGetAll(key)).reduce((n, [f, v]) => n + f.length + v.length, 0) : await redis.strLen(key);
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
  console.log(`\nQamqor vs @grammyjs/conversations — ${ANSWERS}-question screening, ${FAMILIES} families × ${ANSWERS} answers each (${SLOTS} at a time), one run`);
  console.log(`${q.times[1]!.length} timed updates per step and implementation`);
  console.log(`node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, Redis on loopback; ${elapsed.toFixed(1)} s; Bot API faked in-process (${[...telegram.counts.values()].reduce((a, b) => a + b, 0)} calls)`);
  console.log(`${COMPILED ? 'compiled to JavaScript, plain node (bench/compile.ts), as the Dockerfile runs Qamqor' : 'from source, through tsx (esbuild keepNames wrappers on every function of ours)'}\n`);

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
  const steps = [1, 5, 10, 15, 20, 25, 29, 30];
  table([['step', ...steps.map(String)], ...impls.map((impl) => [impl.name, ...steps.map((s) => fmt(p(impl, s, 50)))])]);

  const flat = p(q, 30, 50) / p(q, 1, 50);
  const flatQuestions = p(q, 29, 50) / p(q, 1, 50);
  console.log('\nTargets (Qamqor):');
  console.log(`  per-update cost flat, step30/step1 p50 ≤ 1.1: ${flat.toFixed(2)} → ${flat <= 1.1 ? 'holds' : 'MISSED'}`);
  const step1 = p(q, 1, 50) / p(c, 1, 50);
  const step30 = p(c, 30, 50) / p(q, 30, 50);
  console.log(`  Qamqor ≤ conversations at step 1: ${step1.toFixed(2)}× → ${step1 <= 1 ? 'holds' : 'MISSED'}; ≥ 3× cheaper at step 30: ${step30.toFixed(2)}× → ${step30 >= 3 ? 'holds' : 'MISSED'}`);
  const pooled = (impl: Impl, from: number, to: number) => percentile(impl.times.slice(from, to + 1).flat(), 50);
  const trend = pooled(q, 25, 29) / pooled(q, 1, 5);
  console.log(`    step29/step1 ${flatQuestions.toFixed(2)}; pooled p50 steps 25–29 ÷ 1–5 ${trend.toFixed(2)} (conversations ${(pooled(c, 25, 29) / pooled(c, 1, 5)).toFixed(2)})`);
  console.log(`  Redis ≤ 2560 B per active family: ${Math.round(bq.memory)} B (MEMORY USAGE of ${bq.keys} keys) → ${bq.memory <= 2560 ? 'holds' : 'MISSED'}`);
  console.log(`  snapshot ≤ 4096 B per family: dialog JSON ${Math.round(bq.state)} B (max ${bq.stateMax}) → ${bq.stateMax <= 4096 ? 'holds' : 'MISSED'}`);
}

function printRoundTrips(impls: Impl[], floor: Floor): void {
  const [q, c] = impls as [Impl, Impl];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const range = (xs: number[]) => `${Math.min(...xs)}–${Math.max(...xs)}`;
  console.log('\nRedis round trips per update (commands the client sent, every recorded update):');
  table([
    ['', 'mean', 'min–max'],
    ...[q, c].map((impl) => [impl.name, mean(impl.commands).toFixed(2), range(impl.commands)]),
  ]);
  const pooled = percentile(q.times.slice(1).flat(), 50);
  const raw = percentile(floor.rawPair, 50);
  const evals = percentile(floor.evalPair, 50);
  console.log(`\nTwo-round-trip floor on the same Redis, ${floor.rawPair.length} samples taken beside the recorded updates (p50 / p99 ms):`);
  console.log(`  GET×2 pipelined, then SET×2 pipelined          ${fmt(raw)} / ${fmt(percentile(floor.rawPair, 99))}`);
  console.log(`  two EVALSHA of trivial scripts, one after another ${fmt(evals)} / ${fmt(percentile(floor.evalPair, 99))}`);
  console.log(`  Qamqor p50 per update ÷ floor (GET/SET pair): step 1 ${ratio(percentile(q.times[1]!, 50), raw)}, step 30 ${ratio(percentile(q.times[30]!, 50), raw)}, all steps ${ratio(pooled, raw)}`);
  console.log(`  Qamqor p50 per update ÷ floor (EVALSHA pair): step 1 ${ratio(percentile(q.times[1]!, 50), evals)}, all steps ${ratio(pooled, evals)}`);
  const bare = percentile(floor.bareBot, 50);
  console.log(`  the stack's floor, a bare grammY bot: the GET/SET pair + the same three Bot API calls, nothing else ${fmt(bare)} / ${fmt(percentile(floor.bareBot, 99))}`);
  console.log(`    its own p50 ÷ the GET/SET pair ${ratio(bare, raw)}; Qamqor p50 ÷ it: step 1 ${ratio(percentile(q.times[1]!, 50), bare)}, all steps ${ratio(pooled, bare)}; conversations at step 1 ÷ it ${ratio(percentile(c.times[1]!, 50), bare)}`);
}

function printPhases(phases: PhaseMeans): void {
  const steps = [...phases.keys()];
  console.log(`\nQamqor, where an update's time goes (mean ms of the fastest 90%, separate instrumented pass, ${PHASE_SLOTS * GENERATIONS} families):`);
  const total = (s: number) => PHASES.reduce((sum, ph) => sum + phases.get(s)![ph], 0);
  table([
    ['phase', ...steps.map((s) => `step ${s}`)],
    ...PHASES.map((ph) => [ph, ...steps.map((s) => fmt(phases.get(s)![ph]))]),
    ['total', ...steps.map((s) => fmt(total(s)))],
  ]);
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
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_SLOTS must be a positive integer, got ${raw}`);
  return n;
}

await main();
// Many webhook processes, measured from a separate load process (bench/scale.ts): its own Redis, after the rest.
if (process.env.BENCH_SCALE !== 'off') await scaleBench();
