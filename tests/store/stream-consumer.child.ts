/**
 * A delivery consumer in its own process, for the crash test: it takes what is in the stream,
 * says "taken <event id>" for each, and then hangs in the handler until it is killed.
 * Argv: redis url, stream key, consumer name.
 */
import { connectRedis } from '../../src/store/redis.js';
import { RedisStreamDelivery } from '../../src/store/stream-delivery.js';

const [url, stream, consumer] = process.argv.slice(2) as [string, string, string];
const redis = await connectRedis(url);
const delivery = new RedisStreamDelivery<{ id: string }>(redis, { stream, group: 'notifiers' });
await delivery.poll({
  consumer,
  handler: async (event) => {
    process.stdout.write(`taken ${event.id}\n`);
    await new Promise(() => {}); // mid-delivery, forever
  },
});
