import { createClient, type RedisClientType } from 'redis';

/** The connected node-redis client every store takes. One type so stores stay swappable. */
export type Redis = RedisClientType;

export interface ConnectRedisOptions {
  /**
   * Called for connection errors. node-redis emits 'error' on every failed
   * reconnect attempt, and an EventEmitter with no 'error' listener crashes the
   * process — so there is always a listener, and the caller decides how to log.
   */
  onError?: (error: Error) => void;
}

/** Default reporter: the message only, never the URL (it may carry a password). */
function reportToStderr(error: Error): void {
  console.error(`redis: ${error.message}`);
}

export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const onError = options.onError ?? reportToStderr;
  const client: Redis = createClient({ url });
  client.on('error', (error: unknown) => {
    onError(error instanceof Error ? error : new Error(String(error)));
  });
  await client.connect();
  return client;
}
