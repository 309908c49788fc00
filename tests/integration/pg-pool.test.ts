import { type AddressInfo, createServer, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, isRetryablePgError } from '../../infra/src/pg-pool.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The errors a real database raises, and whether the worker waits them out (retry with backoff)
// or stops (anything else is a bug or a broken schema, which retrying cannot fix).

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the database to raise an error');
}

describe.each(backends())('pg errors on %s', (backend: Backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(backend);
    await db.pool.query('CREATE TABLE pool_t (id int PRIMARY KEY, v int NOT NULL)');
    await db.pool.query('INSERT INTO pool_t VALUES (1, 0), (2, 0)');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('a refused connection is retryable', async () => {
    const pool = createPool({ url: 'postgres://postgres@127.0.0.1:1/none', max: 1, applicationName: 'test' });
    const err = await errorOf(pool.query('SELECT 1'));
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isRetryablePgError(err)).toBe(true);
    await pool.end();
  });

  it('errors of the query itself are not retryable', async () => {
    const cases: [string, string][] = [
      ['SELECT * FROM no_such_table', '42P01'],
      ['INSERT INTO pool_t VALUES (1, 0)', '23505'],
      ["SELECT 'x'::int", '22P02'],
      ['SELEKT 1', '42601'],
    ];
    // One checked-out client: pool.query drops a client on any error, and the embedded server can
    // refuse the immediate reconnect while it still holds the old connection.
    const client = await db.pool.connect();
    try {
      for (const [sql, code] of cases) {
        const err = await errorOf(client.query(sql));
        expect((err as { code?: string }).code, `${sql}: ${(err as Error).message}`).toBe(code);
        expect(isRetryablePgError(err), sql).toBe(false);
      }
    } finally {
      client.release();
    }
  });

  it('a server that accepts but never answers: both pool timeouts are retryable', async () => {
    const sockets: Socket[] = [];
    const blackHole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', () => resolve()));
    const { port } = blackHole.address() as AddressInfo;
    const pool = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${port}/none`,
      max: 1,
      connectionTimeoutMillis: 200,
    });
    try {
      // The first request is the one connecting; the second waits for it and times out first.
      const [connecting, waiting] = await Promise.all([
        errorOf(pool.query('SELECT 1')),
        errorOf(pool.query('SELECT 1')),
      ]);
      expect((connecting as Error).message).toMatch(/Connection terminated due to connection timeout/);
      expect((waiting as Error).message).toMatch(/timeout exceeded when trying to connect/);
      expect(isRetryablePgError(connecting)).toBe(true);
      expect(isRetryablePgError(waiting)).toBe(true);
    } finally {
      await pool.end();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    }
  });

  it('a new connection can reuse statement names a previous connection prepared', async () => {
    // The embedded server shares one session between its connections (see createPool), and takes
    // one connection at a time: drop the file's own first.
    (await db.pool.connect()).release(true);
    const query = { name: 'pool-test-named', text: 'SELECT v FROM pool_t WHERE id = $1', values: [1] };
    for (const round of [1, 2]) {
      const pool = createPool({ url: db.url, max: 1, applicationName: `test-${round}` });
      await waitFor(() => pool.query('SELECT 1').then(Boolean, () => false), {
        what: 'the server to take a new connection',
      });
      expect((await pool.query(query)).rows).toEqual([{ v: 0 }]);
      await pool.end();
    }
  });

  it.skipIf(backend === 'embedded')(
    'a terminated session (57P01), a deadlock (40P01) and a serialization failure (40001) are retryable (server only: it needs two sessions, the embedded database serves one at a time)',
    async () => {
      const a = new pg.Client({ connectionString: db.url });
      const b = new pg.Client({ connectionString: db.url });
      await a.connect();
      await b.connect();
      try {
        // 40001: a REPEATABLE READ transaction updates a row another one changed since it began.
        await a.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        await a.query('SELECT v FROM pool_t WHERE id = 1');
        await b.query('UPDATE pool_t SET v = v + 1 WHERE id = 1');
        const serialization = await errorOf(a.query('UPDATE pool_t SET v = v + 1 WHERE id = 1'));
        expect((serialization as { code?: string }).code).toBe('40001');
        expect(isRetryablePgError(serialization)).toBe(true);
        await a.query('ROLLBACK');

        // 40P01: each holds the row the other wants.
        await a.query('BEGIN');
        await b.query('BEGIN');
        await a.query('UPDATE pool_t SET v = v + 1 WHERE id = 1');
        await b.query('UPDATE pool_t SET v = v + 1 WHERE id = 2');
        const outcomes = await Promise.allSettled([
          a.query('UPDATE pool_t SET v = v + 1 WHERE id = 2'),
          b.query('UPDATE pool_t SET v = v + 1 WHERE id = 1'),
        ]);
        const deadlock = outcomes.find((o) => o.status === 'rejected')?.reason;
        expect((deadlock as { code?: string }).code).toBe('40P01');
        expect(isRetryablePgError(deadlock)).toBe(true);
        await a.query('ROLLBACK');
        await b.query('ROLLBACK');

        // 57P01 on the session, then "Connection terminated" for the next query.
        // `on`, not `once`: the closing socket emits a second error ("Connection terminated
        // unexpectedly") after the 57P01, and an 'error' nobody listens to crashes the test run.
        const terminated = new Promise<unknown>((resolve) => a.on('error', resolve));
        const pid = (await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
        await b.query('SELECT pg_terminate_backend($1)', [pid]);
        const adminShutdown = await terminated;
        expect((adminShutdown as { code?: string }).code).toBe('57P01');
        expect(isRetryablePgError(adminShutdown)).toBe(true);
        const after = await errorOf(a.query('SELECT 1'));
        expect(isRetryablePgError(after)).toBe(true);
      } finally {
        await a.end().catch(() => undefined); // already terminated above
        await b.end();
      }
    },
  );
});
