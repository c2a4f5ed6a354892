/** REDIS_URL, REDIS_CLUSTER_URLS or REDIS_SENTINEL_URLS: the setting is checked at start, and the bot connects to each (Sentinel: tests/sentinel). */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { connectConfigured, isCluster } from '../../src/store/redis.js';
import { configProblems, TOKEN } from '../helpers/config.js';
import { startTestCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';

describe('the Redis settings', () => {
  it('take a comma-separated list of cluster nodes', () => {
    const config = readConfig({ BOT_TOKEN: TOKEN, REDIS_CLUSTER_URLS: ' redis://10.0.0.1:6379, redis://10.0.0.2:6379 ', REDIS_PASSWORD: 'secret' });
    expect(config.REDIS_CLUSTER_URLS).toEqual(['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379']);
    expect(config.REDIS_PASSWORD).toBe('secret');
  });

  it('refuse a list that is not URLs, and one Redis and a cluster at once', () => {
    expect(configProblems({ REDIS_CLUSTER_URLS: '10.0.0.1:6379,10.0.0.2:6379' })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_URLS: expected redis:\/\/host:port URLs/)]);
    expect(configProblems({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_URLS: 'redis://b:6379' })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_URLS: cannot be set together with REDIS_URL/)]);
  });

  it('take a comma-separated list of sentinels with the name of their master', () => {
    const config = readConfig({ BOT_TOKEN: TOKEN, REDIS_SENTINEL_URLS: 'redis://10.0.0.1:26379 ,redis://10.0.0.2:26379', REDIS_SENTINEL_MASTER: 'mymaster', REDIS_PASSWORD: 'secret' });
    expect(config.REDIS_SENTINEL_URLS).toEqual(['redis://10.0.0.1:26379', 'redis://10.0.0.2:26379']);
    expect(config.REDIS_SENTINEL_MASTER).toBe('mymaster');
  });

  it('refuse sentinels without the master name, a master name alone, and sentinels that are not URLs', () => {
    expect(configProblems({ REDIS_SENTINEL_URLS: 'redis://s:26379' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_MASTER: is required with REDIS_SENTINEL_URLS/)]);
    expect(configProblems({ REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_MASTER: is used only with REDIS_SENTINEL_URLS/)]);
    expect(configProblems({ REDIS_SENTINEL_URLS: 's1:26379', REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_URLS: expected redis:\/\/host:port URLs of sentinels/)]);
    expect(configProblems({ REDIS_SENTINEL_URLS: 'redis://s:26379', REDIS_SENTINEL_MASTER: 'my master' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_MASTER: expected the master name/)]);
  });

  it('refuse more than one of one Redis, a cluster and Sentinel, in one line that names them', () => {
    const sentinel = { REDIS_SENTINEL_URLS: 'redis://s:26379', REDIS_SENTINEL_MASTER: 'mymaster' };
    expect(configProblems({ REDIS_URL: 'redis://a:6379', ...sentinel })).toEqual(['REDIS_SENTINEL_URLS: cannot be set together with REDIS_URL: one Redis, one cluster or one Sentinel-watched master']);
    expect(configProblems({ REDIS_CLUSTER_URLS: 'redis://b:6379', ...sentinel })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_URLS: cannot be set together with REDIS_CLUSTER_URLS:/)]);
    expect(configProblems({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_URLS: 'redis://b:6379', ...sentinel })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_URLS: cannot be set together with REDIS_URL and REDIS_CLUSTER_URLS:/)]);
  });

  it('in production, a cluster or Sentinel is as good as one Redis', () => {
    const production = { NODE_ENV: 'production', LOG_SALT: 'a-real-salt-123' };
    expect(configProblems(production)).toEqual([expect.stringMatching(/^REDIS_URL: is required in production/)]);
    expect(configProblems({ ...production, REDIS_CLUSTER_URLS: 'redis://b:6379' })).toEqual([]);
    expect(configProblems({ ...production, REDIS_SENTINEL_URLS: 'redis://s:26379', REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual([]);
  });
});

describe('connecting', () => {
  let cluster: TestRedisCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('to a cluster through its nodes, and to one Redis, with the scripts on both; a closed cluster says "end" like a client', async () => {
    const viaCluster = await connectConfigured({ REDIS_CLUSTER_URLS: cluster.urls.slice(0, 1) });
    const single = await connectConfigured({ REDIS_URL: inject('redisUrl') });
    expect(viaCluster && isCluster(viaCluster)).toBe(true);
    expect(single && isCluster(single)).toBe(false);
    for (const redis of [viaCluster!, single!]) {
      // A registered script, by name; on the cluster it goes to the node of its key, whichever the root URL named.
      expect(await redis.handoffAnnounce(['test:connect:{x}:announced'], ['1000', '60000'])).toBe(1);
      await redis.del('test:connect:{x}:announced');
    }
    const ended = new Promise<void>((resolve) => viaCluster!.once('end', () => resolve()));
    await viaCluster!.close();
    await ended;
    single!.destroy();
  });

  it('to nothing when neither is set (the memory twins, development only)', async () => {
    expect(await connectConfigured({})).toBeUndefined();
  });
});
