import pg from 'pg';

// Which database errors are worth waiting out (STYLE §6: retry these with backoff, crash on the
// rest). SQLSTATEs per https://www.postgresql.org/docs/15/errcodes-appendix.html; the messages are
// the ones node-postgres 8 and pg-pool 3 raise themselves, without a code.
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections: others will disconnect
  '57P01', // admin_shutdown (pg_ctl stop -m fast, a failover)
  '57P02', // crash_shutdown (another backend crashed, or pg_ctl stop -m immediate)
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '57P05', // idle_session_timeout
]);
/** Class 08, connection exception: 08000, 08001, 08003, 08004, 08006, 08P01, ... */
const RETRYABLE_SQLSTATE_CLASS = '08';
/** Socket errors (`err.code`): the server or the path to it is down or restarting. */
const RETRYABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // A stopped container's name vanishes from Docker's DNS until it is back.
  'ENOTFOUND',
]);
const RETRYABLE_MESSAGES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'Connection terminated', // "... unexpectedly", "... due to connection timeout"
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect', // pg-pool: no connection within connectionTimeoutMillis
  'timeout expired', // pg: connect timeout
];

/** True for errors that mean "the database is unavailable right now": retry with backoff. */
export function isRetryablePgError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
  // Node's happy-eyeballs connect fails with an AggregateError of one error per address.
  if (Array.isArray(e?.errors) && e.errors.some(isRetryablePgError)) return true;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (RETRYABLE_SQLSTATES.has(code) || RETRYABLE_SOCKET_CODES.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code) && code.startsWith(RETRYABLE_SQLSTATE_CLASS)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return RETRYABLE_MESSAGES.some((m) => message.includes(m));
}

export interface PoolOptions {
  url: string;
  /** The embedded server accepts one connection at a time: use 1 there. */
  max: number;
  applicationName: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const poolConfig: pg.PoolConfig & { onConnect(client: pg.PoolClient): Promise<void> } = {
    connectionString: options.url,
    max: options.max,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    // The embedded server (pglite-socket) serves every connection from one PGlite session, so the
    // named statements of a connection that is gone are still prepared there, and the next
    // connection's first use of the same name fails with 42P05 (duplicate_prepared_statement). A
    // new connection therefore starts by clearing them (on a real server it finds none), before
    // the pool hands it out (pg-pool's `onConnect`; a failure here fails the caller's connect,
    // which classifies it).
    onConnect: async (client) => {
      await client.query('DEALLOCATE ALL');
    },
  };
  const pool = new pg.Pool(poolConfig);
  // An idle client losing its server emits 'error' on the pool; without a listener that crashes
  // the process. The next query reconnects, and its caller sees and classifies any error.
  pool.on('error', () => {});
  return pool;
}
