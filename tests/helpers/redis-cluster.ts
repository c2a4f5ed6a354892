import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { answersPing, freeLoopbackPort, REDIS_NEEDED_MESSAGE, stopChild } from './redis-server.js';

const run = promisify(execFile);

/**
 * A real Redis Cluster for integration tests: three masters on free loopback
 * ports, joined with `redis-cli --cluster create`, no replicas, no persistence.
 * REDIS_CLUSTER_URLS (comma-separated) names an existing cluster instead.
 */
export interface TestRedisCluster {
  /** One redis://host:port per master; any of them is enough to discover the rest. */
  urls: string[];
  stop(): Promise<void>;
}

const MASTERS = 3;
const READY_TIMEOUT_MS = 20_000;

export async function startTestCluster(env: NodeJS.ProcessEnv = process.env): Promise<TestRedisCluster> {
  const external = env.REDIS_CLUSTER_URLS?.split(',').map((u) => u.trim()).filter(Boolean);
  if (external?.length) return { urls: external, stop: async () => {} };

  const dir = mkdtempSync(join(tmpdir(), 'qamqor-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < MASTERS; i++) ports.push(await freeLoopbackPort());
  const children: ChildProcess[] = [];
  const killAll = (): void => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killAll);
  const stop = async (): Promise<void> => {
    process.off('exit', killAll);
    await Promise.all(children.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) children.push(await spawnNode(port, dir));
    for (const port of ports) if (!(await waitForPing(`redis://127.0.0.1:${port}`))) throw new Error(`cluster node ${port} did not answer PING`);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: READY_TIMEOUT_MS });
    await waitForClusterOk(ports);
  } catch (error) {
    await stop();
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? `${REDIS_NEEDED_MESSAGE} (the cluster tests also need redis-cli)` : `Redis Cluster did not start: ${(error as Error).message}`);
  }
  return { urls: ports.map((p) => `redis://127.0.0.1:${p}`), stop };
}

function spawnNode(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => resolve(child));
  });
}

async function waitForPing(url: string): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await answersPing(url)) return true;
    await sleep(25);
  }
  return false;
}

/** Every node agrees the cluster is up (all 16384 slots assigned and gossip settled). */
async function waitForClusterOk(ports: number[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const states = await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'cluster', 'info']).then((r) => r.stdout, () => '')));
    if (states.every((s) => s.includes('cluster_state:ok'))) return;
    await sleep(100);
  }
  throw new Error('cluster_state did not become ok');
}
