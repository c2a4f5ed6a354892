import type { TestProject } from 'vitest/node';
import { startTestRedis } from '../helpers/redis-server.js';

/** Starts (or finds) one Redis for the whole run and hands its URL to tests via inject('redisUrl'). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestRedis();
  project.provide('redisUrl', server.url);
  return () => server.stop();
}
