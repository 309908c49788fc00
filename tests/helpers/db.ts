import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { listMigrations, migrate } from '../../analytics/src/migrate.ts';
import { startEmbeddedDb } from '../../infra/src/embedded-db.ts';
import { createPool } from '../../infra/src/pg-pool.ts';

// Each test file gets its own database cloned from a migrated template, on both backends:
// the embedded PGlite+TimescaleDB (always) and the PostgreSQL server at TEST_DATABASE_URL (when set).

const ROOT = resolve(import.meta.dirname, '../../.tmp');
/** Changes whenever any migration is added or edited, so a stale template is never reused. */
const schemaHash = () =>
  createHash('sha256')
    .update(
      listMigrations()
        .map((m) => `${m.version}:${m.checksum}`)
        .join(','),
    )
    .digest('hex')
    .slice(0, 12);

export type Backend = 'embedded' | 'server';

export interface TestDb {
  backend: Backend;
  url: string;
  /** Pool size the backend allows: the embedded server takes one connection at a time. */
  poolMax: number;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function backends(): Backend[] {
  return process.env.TEST_DATABASE_URL ? ['embedded', 'server'] : ['embedded'];
}

function embeddedTemplateDir(): string {
  return resolve(ROOT, `templates/embedded-${schemaHash()}`);
}

function serverTemplateName(): string {
  return `mallflow_tpl_${schemaHash()}`;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Builds the migrated templates once per test run (vitest globalSetup). */
export async function prepareTemplates(): Promise<void> {
  const dir = embeddedTemplateDir();
  if (!existsSync(resolve(dir, 'global/pg_control'))) {
    rmSync(dir, { recursive: true, force: true });
    const tmp = `${dir}.build`;
    rmSync(tmp, { recursive: true, force: true });
    const db = await startEmbeddedDb({ dataDir: tmp });
    const pool = createPool({ url: db.url, max: 1, applicationName: 'test-template' });
    await migrate(pool);
    await pool.end();
    await db.close();
    cpSync(tmp, dir, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
  }
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    const name = serverTemplateName();
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_build`;
      await admin.query(`DROP DATABASE IF EXISTS ${building}`);
      await admin.query(`CREATE DATABASE ${building}`);
      const pool = createPool({
        url: withDatabase(serverUrl, building),
        max: 1,
        applicationName: 'test-template',
      });
      await migrate(pool);
      await pool.end();
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
    }
    await admin.end();
  }
}

/** A fresh migrated database for one test file; `close()` drops it. */
export async function createTestDb(backend: Backend): Promise<TestDb> {
  const id = `t_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  if (backend === 'embedded') {
    const dataDir = resolve(ROOT, 'run', id);
    mkdirSync(resolve(ROOT, 'run'), { recursive: true });
    cpSync(embeddedTemplateDir(), dataDir, { recursive: true });
    const db = await startEmbeddedDb({ dataDir });
    const pool = createPool({ url: db.url, max: 1, applicationName: 'test' });
    return {
      backend,
      url: db.url,
      poolMax: 1,
      pool,
      async close() {
        await pool.end();
        await db.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${id} TEMPLATE ${serverTemplateName()}`);
  await admin.end();
  const url = withDatabase(serverUrl, id);
  const pool = createPool({ url, max: 4, applicationName: 'test' });
  return {
    backend,
    url,
    poolMax: 4,
    pool,
    async close() {
      await pool.end();
      const a = new pg.Client({ connectionString: serverUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${id} WITH (FORCE)`);
      await a.end();
    },
  };
}
