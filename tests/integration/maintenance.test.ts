import { startTestSystem } from 'mallflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYZED_TABLES, autovacuumRuns, runMaintenance } from '../../analytics/src/maintenance.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Storage maintenance on each backend: hourly rollups outlive the raw rows, raw rows past
// retention go, older raw chunks are compressed (TimescaleDB), and a second run changes nothing.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 23, 12, 30);
const OPTIONS = { rawRetentionDays: 30, compressAfterDays: 2 };

describe.each(backends())('maintenance on %s', (backend: Backend) => {
  let db: TestDb;
  const timescale = backend === 'embedded';
  const n = async (sql: string, values: unknown[] = []) =>
    Number((await db.pool.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);
  const insertSighting = (timeMs: number, sensor = 's1') =>
    db.pool.query(
      `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized)
       VALUES ($1, 'm', 'gw', $2, 'wifi', 'd', -60, false)`,
      [new Date(timeMs), sensor],
    );

  beforeAll(async () => {
    db = await createTestDb(backend);
    // One sighting per hour for the last 40 days, plus an hour of per-minute occupancy.
    await db.pool.query(
      `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized)
       SELECT t, 'm', 'gw', 's1', 'wifi', 'd', -60, false
       FROM generate_series($1::timestamptz, $2::timestamptz, interval '1 hour') AS t`,
      [new Date(NOW - 40 * DAY), new Date(NOW - HOUR)],
    );
    await db.pool.query(
      `INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices)
       SELECT t, 'm', 'z1', (extract(minute FROM t))::int FROM generate_series($1::timestamptz, $2::timestamptz, interval '1 minute') AS t`,
      [new Date(Date.UTC(2026, 10, 23, 9)), new Date(Date.UTC(2026, 10, 23, 9, 59))],
    );
  });
  afterAll(async () => {
    await db?.close();
  });

  it('rolls up, compresses and applies retention', async () => {
    const total = await n('SELECT count(*) AS n FROM sightings');
    expect(total).toBe(960);
    const result = await runMaintenance(db.pool, { timescale, ...OPTIONS }, NOW);

    const cut = NOW - 30 * DAY;
    // Retention: TimescaleDB drops whole one-day chunks, so up to a day before the cut may remain.
    expect(await n('SELECT count(*) AS n FROM sightings WHERE time < $1', [new Date(cut - DAY)])).toBe(0);
    if (!timescale)
      expect(await n('SELECT count(*) AS n FROM sightings WHERE time < $1', [new Date(cut)])).toBe(0);
    expect(await n('SELECT count(*) AS n FROM sightings WHERE time >= $1', [new Date(cut)])).toBe(720);
    if (timescale) expect(result.droppedChunks).toBeGreaterThanOrEqual(9);
    else expect(result.deletedRows).toBe(240);

    // The rollup kept every hour, including the ones whose raw rows are gone.
    expect(await n('SELECT sum(readings) AS n FROM sightings_hourly')).toBe(960);
    expect(
      await n(`SELECT count(*) AS n FROM sightings_hourly WHERE bucket < $1`, [new Date(cut - DAY)]),
    ).toBeGreaterThan(0);
    const hour = await db.pool.query(
      `SELECT avg_devices, max_devices, minutes FROM occupancy_hourly WHERE zone_id = 'z1' AND bucket = $1`,
      [new Date(Date.UTC(2026, 10, 23, 9))],
    );
    expect(hour.rows).toEqual([{ avg_devices: 29.5, max_devices: 59, minutes: expect.anything() }]);
    expect(Number(hour.rows[0].minutes)).toBe(60);

    if (timescale) {
      expect(result.compressedChunks).toBeGreaterThan(20);
      const uncompressedOld = await n(
        `SELECT count(*) AS n FROM timescaledb_information.chunks
         WHERE hypertable_name = 'sightings' AND NOT is_compressed AND range_end <= $1`,
        [new Date(NOW - 2 * DAY)],
      );
      expect(uncompressedOld).toBe(0);
    }
  });

  it('a second run changes nothing; late rows near the last run are rolled up next time', async () => {
    const again = await runMaintenance(db.pool, { timescale, ...OPTIONS }, NOW);
    expect(again).toMatchObject({ compressedChunks: 0, droppedChunks: 0, deletedRows: 0 });
    expect(await n('SELECT sum(readings) AS n FROM sightings_hourly')).toBe(960);

    await insertSighting(NOW - 2 * HOUR + 60_000, 's-late');
    if (timescale) await insertSighting(NOW - 5 * DAY, 's-late'); // into a compressed chunk
    await runMaintenance(db.pool, { timescale, ...OPTIONS }, NOW + HOUR);
    expect(await n(`SELECT sum(readings) AS n FROM sightings_hourly WHERE sensor_id = 's-late'`)).toBe(
      timescale ? 2 : 1,
    );
    expect(await n('SELECT sum(readings) AS n FROM sightings_hourly')).toBe(timescale ? 962 : 961);
  });

  it("rolls up the daily KPIs of the days that ended, in the mall's time zone", async () => {
    // A visit at 23:30 local time on 2026-11-20 (15:30 UTC) with a stay inside, and a street-only one.
    const at = Date.UTC(2026, 10, 20, 15, 30);
    for (const [device, zone] of [
      ['kpi-a', 'z-store'],
      ['kpi-b', 'z-street'],
    ] as const) {
      await db.pool.query(
        `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts, passer_by)
         VALUES ('m', $1, $2, $3, 1200000, 1, 5, $4)`,
        [device, new Date(at), new Date(at + 20 * 60_000), zone === 'z-street'],
      );
      await db.pool.query(
        `INSERT INTO zone_stays (mall_id, device, zone_id, started_at, ended_at, dwell_ms, bursts) VALUES ('m', $1, $2, $3, $4, 1200000, 5)`,
        [device, zone, new Date(at), new Date(at + 20 * 60_000)],
      );
    }
    const kpiMalls = { timeZoneByMall: new Map([['m', 'Asia/Shanghai']]) };
    const result = await runMaintenance(db.pool, { timescale, ...OPTIONS, kpiMalls }, NOW);
    expect(result.kpiDays).toBeGreaterThanOrEqual(1);
    const day = await db.pool.query(
      `SELECT visitors, passers_by, visitor_visits, dwell_20m_1h FROM kpi_daily WHERE mall_id = 'm' AND day = '2026-11-20'`,
    );
    expect(day.rows).toEqual([{ visitors: 1, passers_by: 1, visitor_visits: 1, dwell_20m_1h: 1 }]);
  });

  it('deletes batch ledger rows as old as the dropped raw rows, and keeps the rest', async () => {
    const claim = (seq: number, receivedMs: number) =>
      db.pool.query(
        `INSERT INTO ingested_batches (mall_id, gateway_id, seq, kind, readings, sent_at, received_at)
         VALUES ('m', 'gw-ledger', $1, 'wifi', 1, $2, $2)`,
        [seq, new Date(receivedMs)],
      );
    await claim(1, NOW - 31 * DAY);
    await claim(2, NOW - 29 * DAY);
    const result = await runMaintenance(db.pool, { timescale, ...OPTIONS }, NOW + 2 * HOUR);
    expect(result.ledgerRowsDeleted).toBe(1);
    const left = await db.pool.query(`SELECT seq FROM ingested_batches WHERE gateway_id = 'gw-ledger'`);
    expect(left.rows.map((r) => Number(r.seq))).toEqual([2]);
  });

  it('deletes dead letters as old as the dropped raw rows, and keeps the rest', async () => {
    const letter = (reason: string, receivedMs: number) =>
      db.pool.query(
        `INSERT INTO dead_letters (received_at, topic, mall_id, gateway_id, reason, payload)
         VALUES ($1, 'mall/m/gw/gw-dl/wifi', 'm', 'gw-dl', $2, '{}')`,
        [new Date(receivedMs), reason],
      );
    await letter('old', NOW - 31 * DAY);
    await letter('recent', NOW - 29 * DAY);
    const result = await runMaintenance(db.pool, { timescale, ...OPTIONS }, NOW + 2 * HOUR);
    expect(result.deadLettersDeleted).toBe(1);
    const left = await db.pool.query(`SELECT reason FROM dead_letters WHERE gateway_id = 'gw-dl'`);
    expect(left.rows).toEqual([{ reason: 'recent' }]);
  });

  it('keeps the statistics of the analytic tables where no autovacuum runs', async () => {
    if (backend === 'embedded') expect(await autovacuumRuns(db.pool)).toBe(false); // PGlite never has one
    const statsRows = () => n(`SELECT count(*) AS n FROM pg_stats WHERE tablename = 'occupancy_minute'`);
    const before = await statsRows();
    const result = await runMaintenance(db.pool, { timescale, analyze: true, ...OPTIONS }, NOW + 3 * HOUR);
    expect(result.analyzed).toBe(true);
    expect(await statsRows()).toBeGreaterThan(before);
    const analyzed = await db.pool.query<{ relname: string }>(
      'SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL AND relname = ANY($1)',
      [ANALYZED_TABLES],
    );
    expect(analyzed.rows.map((r) => r.relname).sort()).toEqual([...ANALYZED_TABLES].sort());
  });

  it('the analytics worker runs it on its own timer', async () => {
    const old = Date.now() - 45 * DAY;
    await insertSighting(old, 's-timer');
    // The same for the worker's own mall: its daily rollups cover the malls it has layouts for.
    await db.pool.query(
      `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized)
       VALUES ($1, 'small-store', 'gw', 's-timer', 'wifi', 'd', -60, false)`,
      [new Date(old)],
    );
    await db.pool.query('DELETE FROM maintenance_state');
    const system = await startTestSystem({
      layout: 'small-store',
      pool: db.pool,
      maintenance: { intervalMs: 100, ...OPTIONS },
    });
    try {
      await waitFor(
        () => n(`SELECT count(*) AS n FROM sightings WHERE sensor_id = 's-timer'`).then((c) => c === 0),
        {
          what: 'the 45-day-old sighting to be dropped by the worker',
        },
      );
      expect(await n(`SELECT sum(readings) AS n FROM sightings_hourly WHERE sensor_id = 's-timer'`)).toBe(2);
      expect(await n(`SELECT sum(readings) AS n FROM sightings_daily WHERE sensor_id = 's-timer'`)).toBe(1);
      const state = await db.pool.query('SELECT task FROM maintenance_state ORDER BY task');
      expect(state.rows.map((r) => r.task)).toEqual(
        timescale
          ? ['daily-kpis', 'rollups', 'staff-devices:small-store', 'zone-transitions:small-store']
          : [
              'daily-kpis',
              'daily-rollups',
              'rollups',
              'staff-devices:small-store',
              'zone-transitions:small-store',
            ],
      );
    } finally {
      await system.close();
    }
  });
});
