/**
 * `npx tsx bench/handoff-claims.ts`: the handoff line on one Redis, in one run.
 *
 *   1. Claims per second: two connections (two operators, as two processes
 *      would) race to claim every one of N waiting cases at once.
 *   2. Enqueue-to-visible latency, p50/p99: one connection creates a case
 *      (the family's side), a second one finds it in the line and reads its
 *      record (what the operators' card needs). Sequential samples, with a line
 *      already holding LINE_DEPTH cases.
 *
 * This is the store's share only. The full enqueue-to-card latency (Telegram's
 * sendMessage into the operators' forum topic included) is measured later,
 * end to end, by the lead. Prints numbers; asserts nothing (DESIGN.md).
 * Needs Redis: REDIS_URL, or a throwaway redis-server on loopback.
 *
 *   BENCH_CASES=5000      cases raced for in (1)
 *   BENCH_SAMPLES=2000    latency samples in (2)
 */
import { performance } from 'node:perf_hooks';
import { RedisHandoffStore } from '../src/handoff/redis-store.js';
import type { CasePatch } from '../src/handoff/store.js';
import type { CaseRecord } from '../src/handoff/types.js';
import { connectRedis, type RedisClient as Redis } from '../src/store/redis.js';
import { startTestRedis } from '../tests/helpers/redis-server.js';

const CASES = positiveInt(process.env.BENCH_CASES, 5_000);
const SAMPLES = positiveInt(process.env.BENCH_SAMPLES, 2_000);
const LINE_DEPTH = 1_000;
const WARMUP = 200;
const OPERATORS = [101, 202];

let nextCase = 0;
function waitingCase(urgent = false): CaseRecord {
  const n = ++nextCase;
  const now = Date.now();
  return {
    id: `B${n.toString(36).toUpperCase().padStart(6, '0')}`,
    chatId: 900_000_000 + n,
    lang: 'ru',
    region: 'astana',
    urgent,
    status: 'waiting',
    version: 1,
    // A snapshot about the size the handoff machine persists.
    snapshot: { status: 'active', value: 'waiting', context: { caseId: n, lang: 'ru', reminders: 0, notes: 'x'.repeat(400) } },
    summary: { rulesVersion: '2026-11', grounds: [{ id: 'low_income', status: 'indicated' }], benefits: [{ id: 'asp', status: 'needs_info' }], urgent },
    consentAt: now,
    createdAt: now,
    enqueuedAt: now,
  };
}

const claimPatch = (operatorId: number): CasePatch => ({ status: 'claimed', snapshot: { status: 'active', value: 'claimed', operatorId }, fields: { operatorId, enqueuedAt: undefined } });

async function claimsPerSecond(family: RedisHandoffStore, operators: RedisHandoffStore[]): Promise<{ claims: number; ms: number; wins: number[] }> {
  const cases = Array.from({ length: CASES }, () => waitingCase());
  await Promise.all(cases.map((rec) => family.create(rec, { type: 'created', by: 'family', at: rec.createdAt })));
  const started = performance.now();
  const results = await Promise.all(
    operators.map((store, o) => {
      const op = OPERATORS[o]!;
      // Opposite ends of the line, so the two pipelines collide in the middle.
      const order = o === 0 ? cases : [...cases].reverse();
      return Promise.all(order.map((rec) => store.claim(rec.id, op, 1, claimPatch(op), { type: 'claimed', by: String(op), at: Date.now() })));
    }),
  );
  const ms = performance.now() - started;
  const wins = results.map((r) => r.filter((c) => c.won).length);
  return { claims: CASES * operators.length, ms, wins };
}

async function enqueueToVisible(family: RedisHandoffStore, operator: RedisHandoffStore, cleanup: RedisHandoffStore): Promise<number[]> {
  const filler = Array.from({ length: LINE_DEPTH }, () => waitingCase());
  await Promise.all(filler.map((rec) => family.create(rec, { type: 'created', by: 'family', at: rec.createdAt })));
  const latencies: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const rec = waitingCase(i % 10 === 0);
    const started = performance.now();
    await family.create(rec, { type: 'created', by: 'family', at: rec.createdAt });
    // The operators' process: where is it in line, and what goes on its card.
    let place: number | undefined;
    while ((place = await operator.placeInLine(rec.id)) === undefined);
    const card = await operator.get(rec.id);
    const elapsed = performance.now() - started;
    if (card === undefined || place < 1) throw new Error('the case vanished');
    if (i >= WARMUP) latencies.push(elapsed);
    // Keep the line at its depth (not timed).
    await cleanup.claim(rec.id, 1, 1, claimPatch(1), { type: 'claimed', by: '1', at: Date.now() });
  }
  return latencies;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const server = await startTestRedis();
  const prefix = `bench:handoff:${process.pid}:`;
  const connections: Redis[] = [];
  try {
    for (let i = 0; i < 4; i++) connections.push(await connectRedis(server.url));
    const [familySide, opA, opB, admin] = connections as [Redis, Redis, Redis, Redis];
    const store = (redis: Redis) => new RedisHandoffStore(redis, { prefix });
    const info = await admin.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';

    const claims = await claimsPerSecond(store(familySide), [store(opA), store(opB)]);
    const latencies = (await enqueueToVisible(store(familySide), store(opA), store(opB))).sort((a, b) => a - b);

    console.log(`handoff line on Redis ${version}, Node ${process.version}`);
    console.log(
      `claims: ${claims.claims} claims on ${CASES} cases by 2 connections in ${claims.ms.toFixed(0)} ms = ` +
        `${Math.round((claims.claims / claims.ms) * 1000)} claims/s (${Math.round((CASES / claims.ms) * 1000)} cases taken/s; wins ${claims.wins.join(' / ')})`,
    );
    console.log(
      `enqueue → visible to another connection (create; placeInLine; get), line depth ${LINE_DEPTH}, ${SAMPLES} samples: ` +
        `p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms`,
    );
    console.log('(store share only; enqueue-to-card with Telegram is measured end to end separately)');
  } finally {
    const [admin] = connections;
    if (admin) {
      for await (const keys of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length) await admin.del(keys);
    }
    for (const redis of connections) redis.destroy();
    await server.stop();
  }
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got ${raw}`);
  return n;
}

await main();
