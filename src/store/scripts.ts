/**
 * Every Lua script the stores run, registered with the Redis client when it is
 * created (createClient/createCluster `scripts`, src/store/redis.ts), so a store
 * calls `redis.<name>(keys, args)`. Each script's source is a `.lua` file next
 * to the store that runs it. Names carry the store's name: they share one
 * namespace with the Redis commands.
 *
 * Adding a store's scripts: export them from a `scripts.ts` beside the store
 * (luaScript from ./lua.ts) and spread them in here; the slot test
 * (tests/cluster/slots.test.ts) then runs every one of them against a cluster.
 */
import { handoffScripts } from '../handoff/scripts.js';
import { paramsScripts } from '../params/scripts.js';
import { referralScripts } from '../referral/scripts.js';
import { hotPathScripts } from './hot-path-scripts.js';

export const scripts = {
  ...handoffScripts,
  ...paramsScripts,
  ...referralScripts,
  ...hotPathScripts,
};

export type Scripts = typeof scripts;
