import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { answersPing, freeLoopbackPort, REDIS_NEEDED_MESSAGE, stopChild } from './redis-server.js';

const run = promisify(execFile);

/**
 * A real Sentinel set-up for integration tests: a master, one replica and one
 * sentinel (quorum 1) on free loopback ports, no persistence. The sentinel
 * calls the master down after 1 s, so a killed master is replaced in a few
 * seconds (`killMaster`, `waitForNewMaster`).
 */
export interface TestRedisSentinel {
  /** The master's name the sentinel monitors (REDIS_SENTINEL_MASTER). */
  master: string;
  /** One redis://host:port per sentinel (REDIS_SENTINEL_URLS). */
  urls: string[];
  /** The port of the master the sentinel names now. */
  masterPort(): Promise<number>;
  /** SIGKILL for the current master: no goodbye to its clients or the sentinel. */
  killMaster(): Promise<number>;
  /** Polls the sentinel until it names a master other than `oldPort`; its port. */
  waitForNewMaster(oldPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

const MASTER_NAME = 'mymaster';
const READY_TIMEOUT_MS = 15_000;

export async function startTestSentinel(): Promise<TestRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'qamqor-sentinel-'));
  const [masterPort, replicaPort, sentinelPort] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
  const servers = new Map<number, ChildProcess>();
  const killAll = (): void => [...servers.values()].forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killAll);
  const stop = async (): Promise<void> => {
    process.off('exit', killAll);
    await Promise.all([...servers.values()].map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  };
  const sentinel = (...args: string[]) => run('redis-cli', ['-p', String(sentinelPort), 'sentinel', ...args], { timeout: 2_000 }).then((r) => r.stdout.trim());
  const masterPortNow = async () => Number((await sentinel('get-master-addr-by-name', MASTER_NAME)).split('\n')[1]);
  try {
    await run('redis-cli', ['--version']);
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    servers.set(masterPort, await spawnServer(['--port', String(masterPort), ...common]));
    servers.set(replicaPort, await spawnServer(['--port', String(replicaPort), '--replicaof', '127.0.0.1', String(masterPort), ...common]));
    for (const port of [masterPort, replicaPort]) await waitFor(() => answersPing(`redis://127.0.0.1:${port}`), `redis-server ${port} did not answer PING`);
    await waitFor(async () => (await info(replicaPort)).includes('master_link_status:up'), 'the replica did not sync with the master');
    // The sentinel rewrites its config file (what it learnt), so it is its own file in the temp dir.
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        '',
      ].join('\n'),
    );
    servers.set(sentinelPort, await spawnServer([conf, '--sentinel']));
    // A failover needs a replica the sentinel knows of and sees healthy (it learns of it from the master's INFO).
    await waitFor(async () => /^flags\nslave$/m.test(await sentinel('replicas', MASTER_NAME).catch(() => '')), 'the sentinel did not see the replica');
  } catch (error) {
    await stop();
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? `${REDIS_NEEDED_MESSAGE} (the sentinel tests also need redis-cli)` : `Redis Sentinel did not start: ${(error as Error).message}`);
  }
  return {
    master: MASTER_NAME,
    urls: [`redis://127.0.0.1:${sentinelPort}`],
    masterPort: masterPortNow,
    killMaster: async () => {
      const port = await masterPortNow();
      const child = servers.get(port);
      if (!child) throw new Error(`no server of this set-up on port ${port}`);
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
      return port;
    },
    waitForNewMaster: async (oldPort, timeoutMs = READY_TIMEOUT_MS) => {
      let port = oldPort;
      await waitFor(async () => (port = await masterPortNow().catch(() => oldPort)) !== oldPort, 'the sentinel did not promote the replica', timeoutMs, 50);
      return port;
    },
    stop,
  };
}

function spawnServer(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => resolve(child));
  });
}

const info = (port: number) => run('redis-cli', ['-p', String(port), 'info', 'replication'], { timeout: 2_000 }).then((r) => r.stdout, () => '');

async function waitFor(check: () => Promise<boolean>, failure: string, timeoutMs = READY_TIMEOUT_MS, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(failure);
}
