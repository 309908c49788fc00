import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

// Versioned migrations: `NNNN_name.sql` always, `NNNN_name.timescale.sql` only where TimescaleDB is
// available. Each version applies in one transaction and is recorded with its checksum; an applied
// migration whose file changed afterwards is an error, not a silent re-run.

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const LOCK_KEY = 4_242_001; // pg_advisory_lock key: one migrator at a time per database

export class MigrationError extends Error {
  readonly code = 'MIGRATION_FAILED';
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
  timescaleSql: string | undefined;
  checksum: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir);
  return files
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f) && !f.endsWith('.timescale.sql'))
    .sort()
    .map((file) => {
      const sql = readFileSync(`${dir}${file}`, 'utf8');
      const tsFile = file.replace(/\.sql$/, '.timescale.sql');
      const timescaleSql = files.includes(tsFile) ? readFileSync(`${dir}${tsFile}`, 'utf8') : undefined;
      return {
        version: Number.parseInt(file.slice(0, 4), 10),
        name: file.slice(5, -4),
        sql,
        timescaleSql,
        checksum: createHash('sha256')
          .update(sql)
          .update(timescaleSql ?? '')
          .digest('hex')
          .slice(0, 16),
      };
    });
}

export interface MigrateResult {
  timescale: boolean;
  applied: string[];
  current: number;
}

export async function detectTimescale(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ available: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available`,
  );
  return r.rows[0]?.available === true;
}

export async function migrate(pool: pg.Pool): Promise<MigrateResult> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    const timescale = await detectTimescale(client);
    if (timescale) await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      timescale boolean NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Map(
      (
        await client.query<{ version: number; checksum: string; name: string }>(
          'SELECT * FROM schema_migrations',
        )
      ).rows.map((r) => [r.version, r]),
    );
    const applied: string[] = [];
    let current = 0;
    for (const m of listMigrations()) {
      const previous = done.get(m.version);
      if (previous) {
        if (previous.checksum !== m.checksum) {
          throw new MigrationError(
            `migration ${m.version} (${m.name}) changed after it was applied (checksum ${previous.checksum} → ${m.checksum}); add a new migration instead`,
          );
        }
        current = m.version;
        continue;
      }
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        if (timescale && m.timescaleSql) await client.query(m.timescaleSql);
        await client.query(
          'INSERT INTO schema_migrations (version, name, checksum, timescale) VALUES ($1, $2, $3, $4)',
          [m.version, m.name, m.checksum, timescale],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      applied.push(`${String(m.version).padStart(4, '0')}_${m.name}`);
      current = m.version;
    }
    return { timescale, applied, current };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined); // connection may be gone
    client.release();
  }
}

/** The schema's version and the newest migration's, when the database is behind (undefined: current). */
export async function schemaBehind(pool: pg.Pool): Promise<{ current: number; latest: number } | undefined> {
  const latest = listMigrations().at(-1)?.version ?? 0;
  const current = await pool
    .query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations')
    .then((r) => r.rows[0]?.v ?? 0)
    // No schema_migrations table: nothing was ever migrated.
    .catch(() => 0);
  return current < latest ? { current, latest } : undefined;
}
