/**
 * The load process of `bench/scale.ts` (forked, IPC): plays Telegram for N bot
 * processes in webhook mode. It runs the fake Bot API (`scale-telegram.ts`),
 * and F families, each a closed loop: post an update to the next webhook port
 * (round robin: the load balancer), wait for the screen it brings, post the
 * next. A share of the updates is posted a second time to another process a few
 * ms later, as Telegram does when it retries; those must bring no second screen. A post
 * not answered 200 is posted again, as Telegram delivers such an update again.
 *
 * Messages: → {type:'ready', apiRoot}; ← {type:'go', ports}; → {type:'window', edge}
 * at the measured window's edges (the orchestrator samples CPU there);
 * → {type:'result', result}; ← {type:'stop'} once the bots are down.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Update } from 'grammy/types';
import { pressUpdate, startUpdate } from './family.js';
import { captureQuestionnaire } from './qamqor.js';
import { ReplyCounter, screenStep } from './scale-replies.js';
import { startFakeBotApi } from './scale-telegram.js';
import { mulberry32 } from './schedule.js';

export interface LoadSettings {
  /** First chat id; families take the ids after it. */
  chatBase: number;
  families: number;
  /** Answers after /start and consent. */
  answers: number;
  warmupMs: number;
  measureMs: number;
  /** Share of updates posted twice. */
  redeliverShare: number;
  redeliverDelayMs: number;
  /** An update with no screen after this long is lost. */
  lostAfterMs: number;
  hookPath: string;
  secret: string;
}

export interface LoadResult {
  /** Screens received within the measured window, per second. */
  updatesPerSecond: number;
  p50: number;
  p99: number;
  /** This process's CPU over the window, % of one core. */
  cpuPercent: number;
  /** Updates posted over the whole run (copies not counted), and copies posted. */
  posted: number;
  redelivered: number;
  lost: number;
  /** Updates whose screen came twice; callback queries answered twice. */
  twice: number;
  callbacksTwice: number;
  /** Screens that were not the one the questionnaire shows at that point. */
  wrongScreen: number;
  /** Messages that were no screen; webhook posts not answered 200. */
  otherMessages: number;
  postErrors: number;
  /** Why posts were not answered 200: the status, or the socket error's code (each was posted again, as Telegram does). */
  postFailures: Record<string, number>;
  /** Chats that went through the whole questionnaire (for Redis bytes per active family). */
  finishedChats: number[];
  windowSeconds: number;
}

/** A post not answered 200 is made again after this long, up to POST_ATTEMPTS in all (Telegram retries failed deliveries). */
const RETRY_POST_MS = 500;
const POST_ATTEMPTS = 3;

/** Families that finish their walk after the window (the rest stop there). */
const FINISHERS = 20;

type Msg = { type: 'go'; ports: number[] } | { type: 'stop' };

const settings = JSON.parse(process.argv[2] ?? '{}') as LoadSettings;
const send = (msg: unknown) => process.send!(msg);

const counter = new ReplyCounter();
// What the bot should show after each update (0 = /start), read off the bot in-process: screens must come in order.
const questionnaire = await captureQuestionnaire(settings.answers);
const expected = [questionnaire.intro, ...questionnaire.questions, questionnaire.after].map((k) => k.text);
let wrongScreen = 0;
const api = await startFakeBotApi((method, payload) => {
  const at = performance.now();
  counter.record(method, payload, at);
  if (method === 'sendMessage' && typeof payload.text === 'string') {
    const step = screenStep(payload.reply_markup);
    if (step !== undefined && step < expected.length && expected[step] !== payload.text) wrongScreen++;
  }
});
send({ type: 'ready', apiRoot: api.apiRoot });

process.on('message', (msg: Msg) => {
  if (msg.type === 'go') void run(msg.ports).then((result) => send({ type: 'result', result }));
  if (msg.type === 'stop') void api.stop().then(() => process.exit(0));
});

async function run(ports: number[]): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const rng = mulberry32(12);
  const updates = settings.answers + 2;
  let rr = 0;
  let nextChat = settings.chatBase;
  let posted = 0;
  let redelivered = 0;
  let lost = 0;
  let postErrors = 0;
  const postFailures: Record<string, number> = {};
  // Not answered 200: as Telegram does, the update is delivered again a little later (to the next process).
  const failed = (why: string, port: number, body: string, attempt: number) => {
    postErrors++;
    postFailures[why] = (postFailures[why] ?? 0) + 1;
    if (attempt < POST_ATTEMPTS) setTimeout(() => post(ports[(ports.indexOf(port) + 1) % ports.length]!, body, attempt + 1), RETRY_POST_MS);
  };
  const latencies: number[] = [];
  const finishedChats: number[] = [];
  const started = performance.now();
  const windowStart = started + settings.warmupMs;
  const windowEnd = windowStart + settings.measureMs;
  let inWindow = 0;

  const post = (port: number, body: string, attempt = 1): void => {
    const req = request(
      { agent, host: '127.0.0.1', port, path: settings.hookPath, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-telegram-bot-api-secret-token': settings.secret } },
      (res) => {
        if (res.statusCode !== 200) failed(String(res.statusCode), port, body, attempt);
        res.resume();
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => failed(e.code ?? e.message, port, body, attempt));
    req.end(body);
  };

  // After the window the first FINISHERS families walk on to the end, so Redis bytes are read off whole walks.
  const family = async (slot: number): Promise<void> => {
    while (performance.now() < windowEnd) {
      const chatId = nextChat++;
      let u = 0;
      for (; u < updates && (slot < FINISHERS || performance.now() < windowEnd); u++) {
        const update: Update = u === 0 ? startUpdate(chatId) : pressUpdate(api.telegram, chatId);
        const reply = counter.waitFor(chatId, u, settings.lostAfterMs);
        const body = JSON.stringify(update);
        const target = rr++ % ports.length;
        const t0 = performance.now();
        post(ports[target]!, body);
        posted++;
        if (rng() < settings.redeliverShare) {
          redelivered++;
          // Telegram's retry: the same update, to another process.
          setTimeout(() => post(ports[(target + 1) % ports.length]!, body), settings.redeliverDelayMs);
        }
        const at = await reply;
        if (at === undefined) {
          lost++;
          break;
        }
        if (at >= windowStart && at <= windowEnd) inWindow++;
        if (t0 >= windowStart && at <= windowEnd) latencies.push(at - t0);
      }
      if (u === updates) finishedChats.push(chatId);
    }
  };

  // Families start spread over the first second, so they do not move in lockstep.
  const loops: Promise<void>[] = [];
  for (let f = 0; f < settings.families; f++) {
    loops.push(new Promise<void>((resolve) => setTimeout(resolve, (f * 1000) / settings.families)).then(() => family(f)));
  }
  let cpuAtStart = process.cpuUsage();
  let cpu = { user: 0, system: 0 };
  const windowTimer = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
    send({ type: 'window', edge: 'start' });
  }, settings.warmupMs);
  const endTimer = setTimeout(() => {
    cpu = process.cpuUsage(cpuAtStart);
    send({ type: 'window', edge: 'end' });
  }, settings.warmupMs + settings.measureMs);
  await Promise.all(loops);
  clearTimeout(windowTimer);
  clearTimeout(endTimer);
  // Late second copies: give them time to bring a screen they must not bring.
  await new Promise((resolve) => setTimeout(resolve, settings.redeliverDelayMs + 1500));
  agent.destroy();

  const twice = counter.twice();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] ?? NaN;
  const windowSeconds = settings.measureMs / 1000;
  return {
    updatesPerSecond: inWindow / windowSeconds,
    p50: pct(0.5),
    p99: pct(0.99),
    cpuPercent: ((cpu.user + cpu.system) / 1000 / settings.measureMs) * 100,
    posted,
    redelivered,
    lost,
    twice: twice.screens,
    callbacksTwice: twice.callbacks,
    wrongScreen,
    otherMessages: counter.other,
    postErrors,
    postFailures,
    finishedChats,
    windowSeconds,
  };
}
