import type pg from 'pg';
import { DEFAULT_STAFF_RULE, type StaffRule } from '../../core/src/staff-rule.ts';
import { type DailyRollupResult, refreshDailyRollups } from './sql/daily-rollups.ts';
import { floorToTransitionHour, rebuildZoneTransitions } from './sql/rebuild-zone-transitions.ts';
import { refreshDailyKpis } from './sql/refresh-daily-kpis.ts';
import { refreshStaffDevices } from './sql/refresh-staff-devices.ts';

// Storage maintenance, run by the analytics worker on a timer because the embedded TimescaleDB
// has no background workers (and a plain PostgreSQL has no policies at all). One run:
//   0. statistics: where no autovacuum runs (the embedded database never has one), ANALYZE the
//      tables the analytic queries read; without statistics the planner nested-loops a day's
//      KPIs over tens of thousands of devices (79 s instead of 0.7 s on 30 Joy City days);
//   1. rollups: refresh the hourly continuous aggregates (TimescaleDB) or upsert the hourly
//      sightings table from the raw rows (plain PostgreSQL), from a little before where the last
//      run stopped up to the last whole hour, never below the retention cut-off; then the daily
//      rollups per mall and local day (`sql/daily-rollups.ts`); staff devices are flagged from the
//      visits (`sql/refresh-staff-devices.ts`) before the daily KPIs, which leave them out, are
//      rolled up (again from the first visit of a newly flagged device); then the hourly zone
//      transitions of the hours whose visits are all written (`sql/rebuild-zone-transitions.ts`);
//   2. compression (TimescaleDB): compress raw sighting chunks older than `compressAfterDays`,
//      chunk by chunk (compressing from inside a query that scans the hypertable is a trap);
//   3. retention: drop raw sighting chunks (or delete rows) older than `rawRetentionDays`, and the
//      batch ledger's rows and the dead letters of that age. The rollups of that time were refreshed in step 1 and are kept.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Late rows within this margin before the last run's end are still rolled up. */
const ROLLUP_LATENESS_MS = 2 * HOUR_MS;
const ROLLUP_TASK = 'rollups';

export interface MaintenanceOptions {
  timescale: boolean;
  /** ANALYZE the analytic tables each run: the database runs no autovacuum (`autovacuumRuns`). */
  analyze?: boolean;
  rawRetentionDays: number;
  compressAfterDays: number;
  /** Malls whose daily KPIs are rolled up (`kpi_daily`): their time zone. */
  kpiMalls?: {
    timeZoneByMall: ReadonlyMap<string, string>;
    /** Their store zones: the days' paths are rolled up with the KPIs (path_daily). */
    storeZonesByMall?: ReadonlyMap<string, readonly string[]>;
  };
  /** The staff rule devices of the `kpiMalls` are flagged by; default DEFAULT_STAFF_RULE. */
  staffRule?: StaffRule | undefined;
  /** Malls whose daily rollups (occupancy_daily, sightings_daily) are kept: their time zone. */
  dailyRollupMalls?: ReadonlyMap<string, string>;
}

/** Days re-rolled each run: visits close after the idle gap, a day's last ones after midnight. */
const KPI_MARGIN_MS = 2 * DAY_MS;
/** How far back the first run rolls days up. */
const KPI_FIRST_RUN_MS = 35 * DAY_MS;
const KPI_TASK = 'daily-kpis';
/**
 * The visits starting in an hour are taken as all written a day later: zone_transitions holds the
 * hours up to then (the history flows count the later ones live). A visit lasting longer than
 * that (none but a left-behind phone's) reaches the table only through `mallflow recompute`.
 */
export const TRANSITIONS_FINAL_AFTER_MS = DAY_MS;
/** Per mall: zone_transitions is complete before done_until (the history flows read it there). */
export const transitionsTask = (mallId: string) => `zone-transitions:${mallId}`;

/** The tables the history API and the rollups query by plan-sensitive joins and ranges. */
export const ANALYZED_TABLES = [
  'visits',
  'zone_stays',
  'device_first_seen',
  'occupancy_minute',
  'kpi_daily',
  'staff_devices',
  'zone_transitions',
];

/** Whether the database runs autovacuum (and so keeps its own statistics). */
export async function autovacuumRuns(pool: pg.Pool): Promise<boolean> {
  const r = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher'",
  );
  return (r.rows[0]?.n ?? 0) > 0;
}

/** Whether the schema was migrated with TimescaleDB (hypertables, continuous aggregates). */
export async function schemaUsesTimescale(pool: pg.Pool): Promise<boolean> {
  const r = await pool.query<{ timescale: boolean }>(
    'SELECT timescale FROM schema_migrations ORDER BY version DESC LIMIT 1',
  );
  return r.rows[0]?.timescale === true;
}

export interface MaintenanceResult {
  rolledUpFromMs: number;
  rolledUpToMs: number;
  compressedChunks: number;
  droppedChunks: number;
  deletedRows: number;
  kpiDays: number;
  /** Devices flagged as staff for the first time this run. */
  newStaffDevices?: number;
  /** Hours of zone transitions rebuilt, over all malls. */
  transitionHours?: number;
  dailyRollups?: DailyRollupResult;
  /** The analytic tables' statistics were refreshed (see MaintenanceOptions.analyze). */
  analyzed?: boolean;
  /** Batch ledger rows older than the raw retention, deleted. */
  ledgerRowsDeleted?: number;
  /** Dead letters older than the raw retention, deleted. */
  deadLettersDeleted?: number;
}

async function rollUp(pool: pg.Pool, timescale: boolean, fromMs: number, toMs: number): Promise<void> {
  const from = new Date(fromMs);
  const to = new Date(toMs);
  if (timescale) {
    // The window only bounds the work: TimescaleDB re-materializes just what changed inside it.
    for (const view of ['sightings_hourly', 'occupancy_hourly']) {
      await pool.query('CALL refresh_continuous_aggregate($1::regclass, $2::timestamptz, $3::timestamptz)', [
        view,
        from,
        to,
      ]);
    }
    return;
  }
  await pool.query(
    `INSERT INTO sightings_hourly (bucket, mall_id, sensor_id, kind, readings)
     SELECT date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01 00:00:00+00'), mall_id, sensor_id, kind, count(*)
     FROM sightings WHERE time >= $1 AND time < $2
     GROUP BY 1, 2, 3, 4
     ON CONFLICT (mall_id, sensor_id, kind, bucket) DO UPDATE SET readings = EXCLUDED.readings`,
    [from, to],
  );
}

async function compressOldChunks(pool: pg.Pool, beforeMs: number): Promise<number> {
  const chunks = await pool.query<{ chunk: string }>(
    `SELECT format('%I.%I', chunk_schema, chunk_name) AS chunk
     FROM timescaledb_information.chunks
     WHERE hypertable_name = 'sightings' AND NOT is_compressed AND range_end <= $1
     ORDER BY range_start`,
    [new Date(beforeMs)],
  );
  for (const { chunk } of chunks.rows) {
    await pool.query('SELECT compress_chunk($1::regclass, if_not_compressed => true)', [chunk]);
  }
  return chunks.rows.length;
}

export async function runMaintenance(
  pool: pg.Pool,
  options: MaintenanceOptions,
  nowMs: number,
): Promise<MaintenanceResult> {
  const retentionCutMs = nowMs - options.rawRetentionDays * DAY_MS;
  if (options.analyze) await pool.query(`ANALYZE ${ANALYZED_TABLES.join(', ')}`);
  const state = await pool.query<{ done_until: Date }>(
    'SELECT done_until FROM maintenance_state WHERE task = $1',
    [ROLLUP_TASK],
  );
  const doneUntilMs = state.rows[0]?.done_until.getTime();
  const toMs = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  // The first run rolls up everything there is, so nothing is deleted before it was rolled up.
  // Later runs never reach below the cut-off: re-refreshing a dropped range would empty it.
  // TimescaleDB only recomputes the ranges late rows invalidated, so its window spans all
  // retained time; the plain upsert re-reads every row in its window, so it starts a margin
  // before where the last run stopped (rows later than that miss the plain rollup).
  let startMs: number;
  if (doneUntilMs === undefined) {
    const oldest = await pool.query<{ t: Date | null }>('SELECT min(time) AS t FROM sightings');
    startMs = oldest.rows[0]?.t?.getTime() ?? toMs;
  } else {
    startMs = options.timescale ? retentionCutMs : Math.max(doneUntilMs - ROLLUP_LATENESS_MS, retentionCutMs);
  }
  const fromMs = Math.floor(startMs / HOUR_MS) * HOUR_MS;
  if (fromMs < toMs) {
    await rollUp(pool, options.timescale, fromMs, toMs);
    await pool.query(
      `INSERT INTO maintenance_state (task, done_until, ran_at) VALUES ($1, $2, now())
       ON CONFLICT (task) DO UPDATE SET done_until = EXCLUDED.done_until, ran_at = now()`,
      [ROLLUP_TASK, new Date(toMs)],
    );
  }

  const dailyRollups =
    options.dailyRollupMalls &&
    (await refreshDailyRollups(pool, {
      timescale: options.timescale,
      timeZoneByMall: options.dailyRollupMalls,
      nowMs,
      retentionCutMs,
    }));

  const result: MaintenanceResult = {
    ...(options.analyze && { analyzed: true }),
    ...(dailyRollups && { dailyRollups }),
    rolledUpFromMs: fromMs,
    rolledUpToMs: toMs,
    compressedChunks: 0,
    droppedChunks: 0,
    deletedRows: 0,
    kpiDays: 0,
  };
  if (options.kpiMalls) {
    const kpiState = await pool.query<{ done_until: Date }>(
      'SELECT done_until FROM maintenance_state WHERE task = $1',
      [KPI_TASK],
    );
    const kpiDoneMs = kpiState.rows[0]?.done_until.getTime();
    const staff = await refreshStaffDevices(pool, {
      timeZoneByMall: options.kpiMalls.timeZoneByMall,
      rule: options.staffRule ?? DEFAULT_STAFF_RULE,
      nowMs,
      firstRunDays: KPI_FIRST_RUN_MS / DAY_MS,
    });
    result.newStaffDevices = staff.newStaffDevices;
    let kpiFromMs = kpiDoneMs === undefined ? nowMs - KPI_FIRST_RUN_MS : kpiDoneMs - KPI_MARGIN_MS;
    if (staff.earliestAffectedMs !== undefined) {
      kpiFromMs = Math.max(Math.min(kpiFromMs, staff.earliestAffectedMs), nowMs - KPI_FIRST_RUN_MS);
    }
    const { days } = await refreshDailyKpis(
      pool,
      kpiFromMs,
      nowMs,
      options.kpiMalls.timeZoneByMall,
      options.kpiMalls.storeZonesByMall,
    );
    result.kpiDays = days;
    await pool.query(
      `INSERT INTO maintenance_state (task, done_until, ran_at) VALUES ($1, $2, now())
       ON CONFLICT (task) DO UPDATE SET done_until = EXCLUDED.done_until, ran_at = now()`,
      [KPI_TASK, new Date(nowMs)],
    );
    result.transitionHours = 0;
    for (const [mallId, timeZone] of options.kpiMalls.timeZoneByMall) {
      const task = transitionsTask(mallId);
      const done = await pool.query<{ done_until: Date }>(
        'SELECT done_until FROM maintenance_state WHERE task = $1',
        [task],
      );
      let fromMs = done.rows[0]?.done_until.getTime() ?? nowMs - KPI_FIRST_RUN_MS;
      if (staff.earliestAffectedMs !== undefined) {
        fromMs = Math.max(Math.min(fromMs, staff.earliestAffectedMs), nowMs - KPI_FIRST_RUN_MS);
      }
      const untilMs = await floorToTransitionHour(pool, nowMs - TRANSITIONS_FINAL_AFTER_MS, timeZone);
      if (fromMs >= untilMs) continue;
      const rebuilt = await rebuildZoneTransitions(pool, mallId, timeZone, fromMs, untilMs);
      result.transitionHours += (rebuilt.toMs - rebuilt.fromMs) / HOUR_MS;
      await pool.query(
        `INSERT INTO maintenance_state (task, done_until, ran_at) VALUES ($1, $2, now())
         ON CONFLICT (task) DO UPDATE SET done_until = EXCLUDED.done_until, ran_at = now()`,
        [task, new Date(rebuilt.toMs)],
      );
    }
  }
  if (options.timescale) {
    result.compressedChunks = await compressOldChunks(pool, nowMs - options.compressAfterDays * DAY_MS);
    const dropped = await pool.query("SELECT drop_chunks('sightings', older_than => $1::timestamptz)", [
      new Date(retentionCutMs),
    ]);
    result.droppedChunks = dropped.rowCount ?? 0;
  } else {
    const deleted = await pool.query('DELETE FROM sightings WHERE time < $1', [new Date(retentionCutMs)]);
    result.deletedRows = deleted.rowCount ?? 0;
  }
  // The ledger only has to recognise redeliveries and replays: it goes with the raw rows.
  const ledger = await pool.query('DELETE FROM ingested_batches WHERE received_at < $1', [
    new Date(retentionCutMs),
  ]);
  result.ledgerRowsDeleted = ledger.rowCount ?? 0;
  // A dead letter is raw input too (redacted): kept as long as the raw rows, not for ever.
  const letters = await pool.query('DELETE FROM dead_letters WHERE received_at < $1', [
    new Date(retentionCutMs),
  ]);
  result.deadLettersDeleted = letters.rowCount ?? 0;
  return result;
}
