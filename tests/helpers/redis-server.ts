import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';

/**
 * A Redis for integration tests: the one named by REDIS_URL, or a throwaway
 * redis-server on a free loopback port. Never the machine's default 6379, so
 * tests neither depend on nor touch a developer's data.
 */
export interface TestRedisServer {
  url: string;
  stop(): Promise<void>;
}

export const REDIS_NEEDED_MESSAGE =
  'Integration tests need Redis: set REDIS_URL or install redis-server (apt-get install redis-server)';

const START_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 3;

export async function startTestRedis(env: NodeJS.ProcessEnv = process.env): Promise<TestRedisServer> {
  const externalUrl = env.REDIS_URL?.trim();
  if (externalUrl) {
    if (!(await answersPing(externalUrl))) {
      // The URL itself is not printed: it may carry a password.
      throw new Error(`${REDIS_NEEDED_MESSAGE}. REDIS_URL is set but did not answer PING.`);
    }
    return { url: externalUrl, stop: async () => {} };
  }

  // A free port can be taken between probing and binding; retry a few times.
  let lastFailure: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await spawnRedisServer(await freeLoopbackPort());
    } catch (error) {
      if (error instanceof RedisServerMissingError) throw new Error(REDIS_NEEDED_MESSAGE);
      lastFailure = error;
    }
  }
  throw new Error(`${REDIS_NEEDED_MESSAGE}. redis-server did not start: ${String(lastFailure)}`);
}

class RedisServerMissingError extends Error {}

async function spawnRedisServer(port: number): Promise<TestRedisServer> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Keep draining output (a full pipe would stall the server) and keep its tail for failure messages.
  let outputTail = '';
  const keepTail = (chunk: Buffer): void => {
    outputTail = (outputTail + chunk.toString()).slice(-1_000);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  let gone = false;
  const exited = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      gone = true;
      resolve(error.code === 'ENOENT' ? new RedisServerMissingError() : error);
    });
    child.once('exit', (code, signal) => {
      gone = true;
      resolve(new Error(`redis-server exited (code ${code}, signal ${signal}): ${outputTail.trim()}`));
    });
  });
  // If Vitest dies without teardown, do not leave an orphan server behind.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const url = `redis://127.0.0.1:${port}`;
  const ready = await Promise.race([waitForPing(url, () => gone), exited]);
  if (ready !== true) {
    process.off('exit', killOnExit);
    child.kill('SIGKILL');
    throw ready instanceof Error ? ready : new Error(`redis-server on port ${port} did not answer PING`);
  }

  return {
    url,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopChild(child);
    },
  };
}

async function waitForPing(url: string, hasExited: () => boolean): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && !hasExited()) {
    if (await answersPing(url)) return true;
    await sleep(25);
  }
  return false;
}

/** One connection attempt, no reconnects, so a dead address fails fast. */
export async function answersPing(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 2_000 } });
  client.on('error', () => {}); // Failures are the answer here, not noise.
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('Could not read the probed port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone (also used for cluster and sentinel nodes). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const stopped = await Promise.race([gone.then(() => true), sleep(5_000).then(() => false)]);
  if (!stopped) {
    child.kill('SIGKILL');
    await gone;
  }
}
