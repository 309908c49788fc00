import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrate } from '../../analytics/src/migrate.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';

describe.each(backends())('migrations on %s', (backend: Backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb(backend);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('are applied, recorded and idempotent', async () => {
    const again = await migrate(db.pool);
    expect(again.applied).toEqual([]);
    expect(again.current).toBe(listMigrations().at(-1)?.version);
    const rows = await db.pool.query('SELECT version, timescale FROM schema_migrations ORDER BY version');
    expect(rows.rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
    expect(rows.rows[0].timescale).toBe(backend === 'embedded');
  });

  it('makes hypertables only where TimescaleDB is present', async () => {
    const ext = await db.pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
    if (backend === 'embedded') {
      expect(ext.rowCount).toBe(1);
      const h = await db.pool.query(
        `SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1`,
      );
      expect(h.rows.map((r) => r.hypertable_name)).toEqual([
        'occupancy_minute',
        'scale_readings',
        'sightings',
        'visits',
        'zone_stays',
      ]);
    } else {
      expect(ext.rowCount).toBe(0);
    }
    const bucket = await db.pool.query(
      `SELECT date_bin('1 minute', timestamptz '2026-11-21 10:00:42+00', timestamptz '2000-01-01') AS b`,
    );
    expect((bucket.rows[0].b as Date).toISOString()).toBe('2026-11-21T10:00:00.000Z');
  });
});
