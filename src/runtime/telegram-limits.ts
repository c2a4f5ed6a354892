/**
 * Telegram's limits, as the bot applies them: pace outgoing calls (about one
 * message a second per chat, 20 a minute per group, 30 a second in all) and
 * retry after 429 and network blips. One module, so that main.ts and the test
 * that checks the pace use the very same limits.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import type { Api, Transformer } from 'grammy';
import { runtimeMetrics } from './metrics.js';
import { PACE, telegramPace, type PaceLimits } from './telegram-pace.js';

export { PACE };

export const RETRY = { maxRetryAttempts: 5, maxDelaySeconds: 60 };

export function useTelegramLimits(api: Api, pace: PaceLimits = PACE): void {
  api.config.use(telegramPace(pace));
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
