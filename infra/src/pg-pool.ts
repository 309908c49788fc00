import pg from 'pg';

/** Connection errors pg reports when the server went away: retry these, crash on the rest. */
const RETRYABLE_CODES = new Set([
  '40001',
  '40P01',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
]);
const RETRYABLE_MESSAGES = [
  'Connection terminated',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'Client has encountered a connection error',
];

export function isRetryablePgError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code && (RETRYABLE_CODES.has(e.code) || e.code.startsWith('ECONN') || e.code === 'EPIPE'))
    return true;
  const message = e?.message ?? '';
  return RETRYABLE_MESSAGES.some((m) => message.includes(m));
}

export interface PoolOptions {
  url: string;
  /** The embedded server accepts one connection at a time: use 1 there. */
  max: number;
  applicationName: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its server emits 'error' on the pool; without a listener that crashes
  // the process. The next query reconnects, and its caller sees and classifies any error.
  pool.on('error', () => {});
  return pool;
}
