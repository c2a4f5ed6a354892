/**
 * The scale bench's bot processes: `node dist/src/main.js` as the Dockerfile runs it
 * (here the bench's compiled copy, bench/compile.ts; `node --import tsx src/main.ts`
 * when the bench runs from source, as tests/helpers/bot-process.ts does for the e2e tests), with
 * extra `--import` preloads, ready once /healthz answers 200. Stopped with SIGTERM,
 * which lets each finish what it holds (src/main.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { baseEnv, PROJECT_ROOT } from '../tests/helpers/bot-process.js';
import { LOADER_ARGS, modulePath, nodeArgs } from './runnable.js';

export interface ScaleBot {
  readonly pid: number;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startBot(env: Record<string, string>, preloads: string[], timeoutMs = 60_000): Promise<ScaleBot> {
  const args = [...nodeArgs('SCALE_BOT_NODE_ARGS'), ...LOADER_ARGS, ...preloads.flatMap((p) => ['--import', p]), modulePath('src/main.ts')];
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const bot: ScaleBot = {
    pid: child.pid!,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(graceMs).then(() => 'late' as const)]);
      if (code !== 'late') return code;
      child.kill('SIGKILL');
      return exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`a bot process exited while starting (${child.exitCode}): ${stderr.trim()}`);
    if (await healthy(env.PORT!)) return bot;
    if (Date.now() >= deadline) {
      await bot.stop(1000);
      throw new Error(`a bot process did not answer /healthz within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await sleep(100);
  }
}

async function healthy(port: string): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) })).status === 200;
  } catch {
    return false;
  }
}
