/**
 * The real bot as a child process, as an operator runs it. Started as
 * `node --import tsx src/main.ts` (what `npm start` runs, without the tsx CLI
 * wrapper process, so a SIGKILL reaches the bot itself and leaves no orphan).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Only what a process needs to run: no BOT_TOKEN, REDIS_URL or NODE_ENV leaks in from the test runner. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT', 'LANG']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class BotProcess {
  private out = '';
  readonly exited: Promise<Exit>;

  private constructor(
    readonly child: ChildProcess,
    readonly env: Record<string, string>,
  ) {
    const keep = (chunk: Buffer) => {
      this.out = (this.out + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      });
    });
  }

  /** Starts the bot and waits until /healthz answers 200 (the bot has met Telegram and Redis and is polling). */
  static async start(env: Record<string, string>, timeoutMs = 20_000): Promise<BotProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: PROJECT_ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const bot = new BotProcess(child, env);
    const deadline = Date.now() + timeoutMs;
    let exit: Exit | undefined;
    void bot.exited.then((e) => (exit = e));
    for (;;) {
      if (exit) throw new Error(`the bot exited while starting (${JSON.stringify(exit)}): ${bot.output}`);
      if (await healthy(env.PORT!)) return bot;
      if (Date.now() >= deadline) {
        await bot.kill();
        throw new Error(`the bot did not answer /healthz within ${timeoutMs} ms: ${bot.output}`);
      }
      await sleep(50);
    }
  }

  /** Everything the bot printed (the last 20 000 characters). */
  get output(): string {
    return this.out;
  }

  /** Stops the process (SIGKILL by default: a crash, with no chance to tidy up) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

async function healthy(port: string): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (for starts that must fail), killing it if it outlives the timeout. */
export function run(command: string, args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      running.delete(child);
      reject(e);
    });
    // 'close', not 'exit': all output has been read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
