import type { Logger } from 'pino';
import { isRetryablePgError } from '../../infra/src/pg-pool.ts';

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;

/**
 * Runs `fn` until it succeeds, backing off on retryable database errors (connection lost,
 * serialization failure, deadlock, server starting). Any other error is thrown: the caller is in a
 * state it does not understand and the process should exit. `isStopping` ends the wait on shutdown.
 */
export async function withRetry<T>(
  what: string,
  fn: () => Promise<T>,
  log: Logger,
  isStopping: () => boolean,
): Promise<T> {
  let delayMs = FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryablePgError(err) || isStopping()) throw err;
      if (attempt === 1 || attempt % 10 === 0)
        log.warn({ err, what, attempt, delayMs }, 'database unavailable, retrying');
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(MAX_DELAY_MS, delayMs * 2);
    }
  }
}
