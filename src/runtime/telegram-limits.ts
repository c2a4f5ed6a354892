/**
 * Telegram's limits, as the bot applies them: pace outgoing calls (about one
 * message a second per chat, 20 a minute per group, 30 a second in all) and
 * retry after 429 and network blips. One module, so that main.ts and the test
 * that checks the throttler use the very same options.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { apiThrottler } from '@grammyjs/transformer-throttler';
import type { Api, Transformer } from 'grammy';
import { runtimeMetrics } from './metrics.js';

/**
 * Bottleneck options (and only those: Bottleneck ignores names it does not
 * know, so a typo silently removes a limit; tests/handoff/failures.test.ts checks them).
 * Private chats get short bursts: a screen is often two calls (remove the old keyboard, send the next).
 */
export const THROTTLE = {
  global: { reservoir: 30, reservoirRefreshAmount: 30, reservoirRefreshInterval: 1000 },
  group: { maxConcurrent: 1, minTime: 1000, reservoir: 20, reservoirRefreshAmount: 20, reservoirRefreshInterval: 60_000 },
  out: { maxConcurrent: 1, minTime: 100 },
};

export const RETRY = { maxRetryAttempts: 5, maxDelaySeconds: 60 };

export function useTelegramLimits(api: Api, throttle = THROTTLE): void {
  api.config.use(apiThrottler(throttle));
  api.config.use(countRetries);
  api.config.use(autoRetry(RETRY));
  api.config.use(countFailures);
}

/** Innermost of the three, so it sees every attempt auto-retry makes: each one after the first is a retry. */
const countRetries: Transformer = (() => {
  const attempts = new WeakMap<object, number>();
  return async (prev, method, payload, signal) => {
    const key = payload as object;
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (n > 1) runtimeMetrics.telegramRetries.inc({ method });
    return prev(method, payload, signal);
  };
})();

/** Outermost, so it counts what failed after the retries: a rejected call or an answer with ok: false. */
export const countFailures: Transformer = async (prev, method, payload, signal) => {
  try {
    const answer = await prev(method, payload, signal);
    if (!answer.ok) runtimeMetrics.telegramFailures.inc({ method });
    return answer;
  } catch (error) {
    runtimeMetrics.telegramFailures.inc({ method });
    throw error;
  }
};
