/**
 * `npx tsx bench/scale.ts` (and the last part of `npm run bench`): many stateless
 * webhook processes on one Redis, measured from a separate load process.
 *
 * For N = 1, 2, 4 it starts N real bot processes (`node src/main.js` compiled, as the
 * Dockerfile runs it, under `npm run bench`; `node --import tsx src/main.ts` from source), webhook mode, each on its own loopback port and KEY_PREFIX per N) and one load
 * process (`scale-load.ts`) that is both their Bot API and their Telegram: families
 * in a closed loop, round robin over the ports, a share of updates posted twice to
 * two processes. It prints updates/s, latency from post to screen, who used the CPU,
 * and what was lost or handled twice; then Redis bytes per active family, waiting
 * case and open referral. Asserts nothing (DESIGN.md: no timed assertions).
 *
 *   SCALE_FAMILIES=200  families in flight     SCALE_MEASURE_S=10  measured window
 *   SCALE_PROCESSES=1,2,4                      SCALE_TELEGRAM_LIMITS=on  keep Telegram's pace
 *   SCALE_ROUNDS=3  every configuration measured this many times, interleaved (1,2,4 then 4,2,1 …):
 *                   on a shared machine one window moves by ±20%; ratios are taken within a round
 *   SCALE_BOT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"  node options for the bot processes
 *   SCALE_LOAD_NODE_ARGS=…  the same for the load process
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connectRedis } from '../src/store/redis.js';
import { PROJECT_ROOT } from '../tests/helpers/bot-process.js';
import { freeLoopbackPort, startTestRedis } from '../tests/helpers/redis-server.js';
import { machineCpuSeconds, processCpuSeconds, processName } from './proc-cpu.js';
import { startBot, type ScaleBot } from './scale-bots.js';
import { familyBytes, referralBytes, waitingCaseBytes } from './scale-bytes.js';
import type { LoadResult, LoadSettings } from './scale-load.js';
import { SCALE_TOKEN } from './scale-telegram.js';
import { COMPILED, LOADER_ARGS, modulePath, nodeArgs } from './runnable.js';

const CONFIGURATIONS = (process.env.SCALE_PROCESSES ?? '1,2,4').split(',').map(Number);
const FAMILIES = Number(process.env.SCALE_FAMILIES ?? 200);
const MEASURE_MS = Number(process.env.SCALE_MEASURE_S ?? 10) * 1000;
const ROUNDS = Math.max(1, Number(process.env.SCALE_ROUNDS ?? 3));
const ANSWERS = 20;
const HOOK_PATH = '/telegram/hook';
const SALT = 'bench-scale-salt';
/** K waiting cases and K open referrals for the bytes each adds. */
const BYTES_K = 200;
const LOAD_SCRIPT = fileURLToPath(new URL(modulePath('./scale-load.ts'), import.meta.url));
/** Telegram's pace lifted in the bot processes (see scale-unthrottled.ts), unless SCALE_TELEGRAM_LIMITS=on. */
const LIMITS = process.env.SCALE_TELEGRAM_LIMITS === 'on';
const PRELOADS = LIMITS ? [] : [fileURLToPath(new URL(modulePath('./scale-unthrottled.ts'), import.meta.url))];

interface Cpu {
  /** Seconds of CPU over the window. */
  bots: number[];
  redis: number | undefined;
  load: number | undefined;
  machineBusy: number | undefined;
  wall: number;
}

interface Row {
  processes: number;
  round: number;
  load: LoadResult;
  cpu: Cpu;
  prefix: string;
  /** Summed over the bots' /metrics: updates handled, copies dropped as seen (sent/done), dropped as older than one applied. */
  dedup: { handled: number; duplicate: number; outOfOrder: number };
}

export async function scaleBench(): Promise<void> {
  const server = await startTestRedis();
  const redis = await connectRedis(server.url);
  const base = `bench:scale:${process.pid}:`;
  const bots: ScaleBot[] = [];
  try {
    const started = Date.now();
    const info = await redis.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    // Only a Redis on this machine can be watched through /proc.
    const redisPid = processName(pid)?.startsWith('redis') ? pid : undefined;
    const rows: Row[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Every other round in reverse, so a slow drift of the machine falls on every configuration alike.
      const order = round % 2 === 1 ? CONFIGURATIONS : [...CONFIGURATIONS].reverse();
      for (const n of order) {
        const row = await configuration(n, server.url, `${base}r${round}n${n}:`, 10_000_000 * (rows.length + 1), redisPid, bots);
        rows.push({ ...row, round });
      }
    }
    const family = await familyBytes(redis, rows[0]!.prefix, SALT, rows[0]!.load.finishedChats.slice(0, 500));
    const waiting = await waitingCaseBytes(redis, `${base}bytes:`, BYTES_K);
    const referral = await referralBytes(redis, `${base}bytes:`, BYTES_K);
    print(rows, { redisVersion, redisPid, seconds: (Date.now() - started) / 1000 }, { family, waiting, referral });
  } finally {
    await Promise.all(bots.map((b) => b.stop()));
    for await (const keys of redis.scanIterator({ MATCH: `${base}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
    redis.destroy();
    await server.stop();
  }
}

/** One configuration: the load process, N bots on its Bot API, the run, then everything stopped. */
async function configuration(n: number, redisUrl: string, prefix: string, chatBase: number, redisPid: number | undefined, bots: ScaleBot[]): Promise<Omit<Row, 'round'>> {
  const secret = randomBytes(24).toString('hex');
  const settings: LoadSettings = {
    chatBase,
    families: FAMILIES,
    answers: ANSWERS,
    warmupMs: 5_000,
    measureMs: MEASURE_MS,
    redeliverShare: 0.1,
    redeliverDelayMs: 5,
    lostAfterMs: 30_000,
    hookPath: HOOK_PATH,
    secret,
  };
  const load = fork(LOAD_SCRIPT, [JSON.stringify(settings)], { cwd: PROJECT_ROOT, execArgv: [...nodeArgs('SCALE_LOAD_NODE_ARGS'), ...LOADER_ARGS], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const loadExited = new Promise<void>((resolve) => load.once('exit', () => resolve()));
  try {
    const { apiRoot } = await message<{ apiRoot: string }>(load, 'ready');
    const ports = await Promise.all(Array.from({ length: n }, () => freeLoopbackPort()));
    const started = await Promise.all(
      ports.map((port) =>
        startBot(
          {
            NODE_ENV: 'production',
            BOT_TOKEN: SCALE_TOKEN,
            TELEGRAM_API_ROOT: apiRoot,
            REDIS_URL: redisUrl,
            PORT: String(port),
            WEBHOOK_URL: `http://127.0.0.1:${port}${HOOK_PATH}`,
            WEBHOOK_SECRET: secret,
            LOG_LEVEL: 'silent',
            LOG_SALT: SALT,
            KEY_PREFIX: prefix,
          },
          PRELOADS,
        ),
      ),
    );
    bots.push(...started);
    const pids = started.map((b) => b.pid);
    const sample = () => ({ bots: pids.map((p) => processCpuSeconds(p) ?? NaN), redis: redisPid && processCpuSeconds(redisPid), load: processCpuSeconds(load.pid!), machine: machineCpuSeconds()?.busy, at: performance.now() });
    let first: ReturnType<typeof sample> | undefined;
    let last: ReturnType<typeof sample> | undefined;
    load.on('message', (m: { type: string; edge?: string }) => {
      if (m.type === 'window') m.edge === 'start' ? (first = sample()) : (last = sample());
    });
    load.send({ type: 'go', ports });
    const { result } = await message<{ result: LoadResult }>(load, 'result');
    const dedup = await dedupCounts(ports);
    const diff = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b - a);
    const cpu: Cpu =
      first && last
        ? { bots: last.bots.map((t, i) => t - first!.bots[i]!), redis: diff(first.redis || undefined, last.redis || undefined), load: diff(first.load, last.load), machineBusy: diff(first.machine, last.machine), wall: (last.at - first.at) / 1000 }
        : { bots: [], redis: undefined, load: undefined, machineBusy: undefined, wall: NaN };
    // SIGTERM: each bot finishes what it holds and exits 0 (src/main.ts).
    const exits = await Promise.all(started.map((b) => b.stop()));
    bots.splice(0, bots.length);
    if (exits.some((code) => code !== 0)) console.error(`bench/scale: a bot process did not stop cleanly (exit codes ${exits.join(', ')})`);
    return { processes: n, load: result, cpu, prefix, dedup };
  } finally {
    if (load.connected) load.send({ type: 'stop' });
    else load.kill('SIGTERM');
    await loadExited;
  }
}

/** What the bots' own counters say (src/runtime/app-metrics.ts), summed over the processes. */
async function dedupCounts(ports: number[]): Promise<Row['dedup']> {
  const sum = { handled: 0, duplicate: 0, outOfOrder: 0 };
  for (const port of ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const total = (name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    sum.handled += total('qamqor_updates_handled_total');
    sum.duplicate += total('qamqor_updates_duplicate_total');
    sum.outOfOrder += total('qamqor_updates_out_of_order_total');
  }
  return sum;
}

function message<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string } & T) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => reject(new Error(`the load process exited (${code}) before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

interface Machine {
  redisVersion: string;
  redisPid: number | undefined;
  seconds: number;
}

interface RedisBytes {
  family: { bytes: number; families: number };
  waiting: number;
  referral: number;
}

function print(rows: Row[], machine: Machine, bytes: RedisBytes): void {
  const cpus = os.cpus();
  const cores = cpus.length;
  const label = (r: Row) => (ROUNDS > 1 ? `${r.processes} (round ${r.round})` : String(r.processes));
  // Ratios within a round: the round's one-process rate.
  const oneOf = (r: Row) => rows.find((x) => x.round === r.round && x.processes === 1) ?? rows[0]!;
  const ratioToOne = (r: Row) => r.load.updatesPerSecond / oneOf(r).load.updatesPerSecond;
  console.log(`\nMany stateless webhook processes on one Redis — ${FAMILIES} families in flight, /start + consent + ${ANSWERS} answers each, ${MEASURE_MS / 1000} s measured after 5 s warm-up, ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}`);
  console.log(`${cores} × ${cpus[0]?.model.trim() ?? 'cpu'}, node ${process.version}, Redis ${machine.redisVersion} on loopback; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${machine.seconds.toFixed(0)} s`);
  console.log(COMPILED ? 'Bots and load process compiled to JavaScript, run with plain node (bench/compile.ts)' : 'Bots and load process from source, through tsx');
  console.log('Load process: fake Bot API over HTTP + families posting round robin; 10% of updates posted again 5 ms later to another process');
  console.log(LIMITS ? "Telegram's pace kept (30 calls/s per process, 100 ms between calls to a chat)\n" : "Telegram's pace lifted in the bot processes (bench/scale-unthrottled.ts); the pacer still runs\n");
  const pct = (s: number | undefined, wall: number) => (s === undefined || !Number.isFinite(s) ? '–' : `${((s / wall) * 100).toFixed(0)}%`);
  table([
    ['processes', 'updates/s', 'p50 ms', 'p99 ms', 'load CPU', 'lost', 'twice', 'ratio to 1 process'],
    ...rows.map((r) => [
      label(r),
      r.load.updatesPerSecond.toFixed(0),
      r.load.p50.toFixed(1),
      r.load.p99.toFixed(1),
      `${r.load.cpuPercent.toFixed(0)}% (${(r.load.cpuPercent / cores).toFixed(0)}% of ${cores})`,
      String(r.load.lost),
      String(r.load.twice),
      `${ratioToOne(r).toFixed(2)}×`,
    ]),
  ]);

  console.log('\nCPU over the measured window, % of one core (from /proc):');
  table([
    ['processes', 'bots (each)', 'bots total', 'redis', 'load', 'everyone else', 'machine busy'],
    ...rows.map((r) => {
      const c = r.cpu;
      const ours = c.bots.reduce((a, b) => a + b, 0) + (c.redis ?? 0) + (c.load ?? 0);
      return [
        label(r),
        c.bots.map((b) => pct(b, c.wall)).join(' '),
        pct(c.bots.reduce((a, b) => a + b, 0), c.wall),
        pct(c.redis, c.wall),
        pct(c.load, c.wall),
        pct(c.machineBusy === undefined ? undefined : Math.max(0, c.machineBusy - ours), c.wall),
        `${pct(c.machineBusy, c.wall)} of ${cores * 100}%`,
      ];
    }),
  ]);

  console.log('\nPer run, load side: updates posted / posted twice / screens out of place / callbacks answered twice / other messages / posts not answered 200 (posted again 0.5 s later, as Telegram does)');
  console.log('             bots\' /metrics: handled / copies dropped as already seen / dropped as older than one applied');
  for (const r of rows) {
    const l = r.load;
    const d = r.dedup;
    const why = l.postErrors ? ` (${Object.entries(l.postFailures).map(([k, v]) => `${k}: ${v}`).join(', ')})` : '';
    console.log(`  ${label(r)}: ${l.posted} / ${l.redelivered} / ${l.wrongScreen} / ${l.callbacksTwice} / ${l.otherMessages} / ${l.postErrors}${why};  bots: ${d.handled} / ${d.duplicate} / ${d.outOfOrder}`);
  }

  // CPU per update, and what the machine allows at most: every core busy, each update costing what it cost with one process.
  const botSeconds = (r: Row) => r.cpu.bots.reduce((a, b) => a + b, 0);
  const restSeconds = (r: Row) => (r.cpu.load ?? 0) + (r.cpu.redis ?? 0);
  const othersShare = (r: Row) => Math.max(0, (r.cpu.machineBusy ?? 0) - botSeconds(r) - restSeconds(r)) / r.cpu.wall;
  const msPerUpdate = (r: Row, seconds: number) => (seconds * 1000) / (r.load.updatesPerSecond * r.cpu.wall);
  console.log('\nCPU per update, ms: bots / load process + Redis');
  console.log(`  ${rows.map((r) => `${label(r)}: ${msPerUpdate(r, botSeconds(r)).toFixed(2)} / ${msPerUpdate(r, restSeconds(r)).toFixed(2)}`).join(';  ')}`);
  const twos = rows.filter((r) => r.processes === 2);
  if (twos.length) {
    const ratios = twos.map(ratioToOne);
    const ratio = median(ratios);
    // The most two processes could do: all cores busy at the one-process CPU per update (bot + load + Redis);
    // and were the load process and Redis free, all cores to the bots at their CPU per update with two.
    const ceilings = twos.map((two) => {
      const first = oneOf(two);
      const one = first.load.updatesPerSecond;
      return {
        machine: (cores - othersShare(first)) / ((msPerUpdate(first, botSeconds(first)) + msPerUpdate(first, restSeconds(first))) / 1000) / one,
        botsOnly: (cores - othersShare(two)) / (msPerUpdate(two, botSeconds(two)) / 1000) / one,
      };
    });
    const each = (xs: number[]) => (xs.length > 1 ? ` (rounds: ${xs.map((x) => `${x.toFixed(2)}×`).join(', ')})` : '');
    console.log(`\nTargets:\n  2 processes ≥ 1.6× one: ${ratio.toFixed(2)}×${ROUNDS > 1 ? ', the median of the rounds' : ''} → ${ratio >= 1.6 ? 'holds' : 'MISSED'}${each(ratios)}`);
    const machineMost = ceilings.map((c) => c.machine);
    const botsMost = ceilings.map((c) => c.botsOnly);
    console.log(`    this machine allows at most ${median(machineMost).toFixed(2)}× (all ${cores} cores busy at one process's CPU per update, bot + load + Redis)${each(machineMost)}`);
    console.log(`    and at most ${median(botsMost).toFixed(2)}× were the load process and Redis free (all ${cores} cores to the bots, at their CPU per update measured with 2)${each(botsMost)}`);
  }
  const bad = rows.reduce((n, r) => n + r.load.lost + r.load.twice + r.load.callbacksTwice + r.load.wrongScreen, 0);
  const posted = rows.reduce((n, r) => n + r.load.posted, 0);
  console.log(`  zero lost or twice across all runs: ${bad === 0 ? 'holds' : 'MISSED'} (${posted} updates, ${rows.reduce((n, r) => n + r.load.redelivered, 0)} of them posted twice)`);
  const kb = bytes.family.bytes <= 2560;
  console.log(
    `\nRedis bytes: per active family ${Math.round(bytes.family.bytes)} B (target ≤ 2.5 KB → ${kb ? 'holds' : 'MISSED'}; ${bytes.family.families} families after ${ANSWERS} answers), per waiting case ${Math.round(bytes.waiting)} B, per open referral ${Math.round(bytes.referral)} B (${BYTES_K} each)`,
  );
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await scaleBench();
