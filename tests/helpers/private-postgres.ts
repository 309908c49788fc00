import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

// A PostgreSQL 15 server of the test's own, on a free port, that the test may stop and start
// (never the shared server on 5432: other test files use it). initdb refuses to run as root, so
// every server command runs as the `postgres` user through runuser.

const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';
const RUNUSER = '/usr/sbin/runuser';
const OS_USER = 'postgres';

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:port/{database}` */
  url: string;
  port: number;
  /** `fast` ends sessions with 57P01; `immediate` is a crash (recovery on the next start). */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops the server (if running) and removes its directory. Safe to call more than once. */
  destroy(): Promise<void>;
}

/** Why a private server cannot run here, or undefined when it can. */
export function privatePostgresUnavailable(): string | undefined {
  for (const file of [RUNUSER, `${PG_BIN}/initdb`, `${PG_BIN}/pg_ctl`]) {
    if (!existsSync(file)) return `${file} not found (needs PostgreSQL 15 server binaries and util-linux)`;
  }
  if (process.getuid?.() !== 0) return 'runuser needs root to switch to the postgres user';
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('could not find a free port');
  return address.port;
}

const asPostgres = (bin: string, args: string[]) =>
  run(RUNUSER, ['-u', OS_USER, '--', `${PG_BIN}/${bin}`, ...args], { timeout: 60_000 });

/** initdb + start on a free port, then creates `database`. */
export async function startPrivatePostgres(database: string): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'mallflow-pg-'));
  const passwd = await run('id', ['-u', OS_USER]);
  const group = await run('id', ['-g', OS_USER]);
  chownSync(dir, Number(passwd.stdout.trim()), Number(group.stdout.trim()));
  const dataDir = join(dir, 'data');
  const port = await freePort();
  let running = false;
  const start = async () => {
    // -l: without a log file the server keeps pg_ctl's stdout open and execFile never returns.
    await asPostgres('pg_ctl', [
      '-D',
      dataDir,
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-w',
      'start',
    ]);
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate') => {
    await asPostgres('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);
    running = false;
  };
  const destroy = async () => {
    if (running) await stop('immediate').catch(() => undefined); // already gone: nothing to stop
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await start();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
  } catch (err) {
    await destroy();
    throw err;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/${database}`, port, stop, start, destroy };
}
