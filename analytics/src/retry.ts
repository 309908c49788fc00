import type { Logger } from 'pino';
import { isRetryablePgError } from '../../infra/src/pg-pool.ts';

const FIRST_DELAY_MS = 250;
/**
 * Longest wait between attempts: also the longest the worker can take to notice that the database
 * is back (the outage test's drain time includes it).
 */
const MAX_DELAY_MS = 4_000;
/** While the database stays away, one warning per this many failed attempts (~1 a minute at the cap). */
const LOG_EVERY_ATTEMPTS = 15;

export interface RetryOptions {
  /** What is being retried, for the log. */
  what: string;
  log: Logger;
  /** True once the worker is shutting down: the next retryable error is thrown instead. */
  isStopping: () => boolean;
  /** Called for each retryable failure (a counter). */
  onRetry?: () => void;
}

/**
 * Runs `fn` until it succeeds, backing off (250 ms doubling to MAX_DELAY_MS) on retryable database
 * errors (connection lost or refused, serialization failure, deadlock, server starting or shutting
 * down). Any other error is thrown: the caller is in a state it does not understand and the
 * process should exit. `fn` must be safe to run again after a failure (a transaction that rolled
 * back, or idempotent upserts).
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { log, what } = options;
  let delayMs = FIRST_DELAY_MS;
  let firstFailureMs: number | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fn();
      if (firstFailureMs !== undefined)
        log.info(
          { what, attempts: attempt, downMs: Date.now() - firstFailureMs },
          'database available again',
        );
      return result;
    } catch (err) {
      if (!isRetryablePgError(err) || options.isStopping()) throw err;
      options.onRetry?.();
      firstFailureMs ??= Date.now();
      if (attempt === 1 || attempt % LOG_EVERY_ATTEMPTS === 0)
        log.warn({ err, what, attempt, delayMs }, 'database unavailable, retrying');
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(MAX_DELAY_MS, delayMs * 2);
    }
  }
}
