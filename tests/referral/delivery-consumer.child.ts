/**
 * A referral notice consumer in its own process, for the crash test: it takes the notices,
 * says "taken <event id>" when the first reaches the notifier, and hangs there until killed.
 * Argv: redis url, store prefix.
 */
import { ReferralDelivery } from '../../src/referral/delivery.js';
import { RedisReferralStore } from '../../src/referral/redis-store.js';
import { connectRedis } from '../../src/store/redis.js';

const [url, prefix] = process.argv.slice(2) as [string, string];
const redis = await connectRedis(url);
const hang = (what: string) => {
  process.stdout.write(`taken ${what}\n`);
  return new Promise<void>(() => {});
};
const delivery = new ReferralDelivery({
  store: new RedisReferralStore(redis, { prefix }),
  consumer: 'proc-a',
  notifier: { toWorker: (_user, r, notice) => hang(`${r.id}:${notice}`), toFamily: (_chat, r, notice) => hang(`${r.id}:${notice}`) },
});
await delivery.poll();
