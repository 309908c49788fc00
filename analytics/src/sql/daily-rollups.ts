import { createHash } from 'node:crypto';
import type pg from 'pg';

// Daily rollups (migration 0009): devices per zone and readings per sensor, per mall and local
// calendar day in the mall's time zone, kept after the raw sightings are dropped.
//
// TimescaleDB: continuous aggregates. One buckets in one fixed time zone (`time_bucket('1 day',
// t, zone)`), so there is one pair per time zone the malls are in, made here when a mall in a new
// zone appears (`daily_rollup_zones`), and the `occupancy_daily` / `sightings_daily` views show
// each mall the pair of its own zone (`mall_time_zones`). A pair is built on the hourly aggregates
// (24 rows a day per zone or sensor to add up, and those outlive raw retention), except where
// the zone's midnight is not a whole UTC hour (India, Nepal, Newfoundland, ...): an hourly bucket
// would straddle midnight and land whole in one day, so there it is built on occupancy_minute and
// the raw sightings (refreshed, like the hourly ones, never below the retention cut-off).
// They are real-time aggregates: the current day shows what has been stored so far.
//
// Plain PostgreSQL: tables filled here, a statement per mall and day, for the days from a little
// before the last run up to today (today partial, redone on the next run), from occupancy_minute
// and the raw sightings (a day whose raw rows retention already cut into is not redone).

const HOUR_MS = 3_600_000;
/** Late rows within this margin before the last run are still rolled up (plain PostgreSQL). */
const LATENESS_MS = 2 * HOUR_MS;
const TASK = 'daily-rollups';
/** Serializes creating a zone's aggregates between workers sharing a database. */
const ZONES_LOCK_KEY = 0x6d616c6c; // 'mall'

export interface DailyRollupOptions {
  timescale: boolean;
  timeZoneByMall: ReadonlyMap<string, string>;
  nowMs: number;
  /** Raw sightings before this are dropped by this run's retention (after the rollups). */
  retentionCutMs: number;
}

export interface DailyRollupResult {
  /** Time zones whose continuous aggregates were created in this run (TimescaleDB). */
  zonesCreated: number;
  /** Mall-days written (plain PostgreSQL). */
  days: number;
}

export class UnknownTimeZoneError extends Error {
  readonly code = 'UNKNOWN_TIME_ZONE';
}

async function recordMallTimeZones(
  pool: pg.Pool,
  timeZoneByMall: ReadonlyMap<string, string>,
): Promise<void> {
  const malls = [...timeZoneByMall.keys()];
  const zones = [...timeZoneByMall.values()];
  const known = await pool.query<{ name: string }>(
    'SELECT name FROM pg_timezone_names WHERE name = ANY ($1::text[])',
    [zones],
  );
  const names = new Set(known.rows.map((r) => r.name));
  const unknown = malls.filter((m) => !names.has(timeZoneByMall.get(m) as string));
  if (unknown.length > 0) {
    throw new UnknownTimeZoneError(
      unknown
        .map((m) => `mall "${m}": time zone "${timeZoneByMall.get(m)}" is not one the database knows`)
        .join('; '),
    );
  }
  await pool.query(
    `INSERT INTO mall_time_zones (mall_id, time_zone)
     SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (mall_id) DO UPDATE SET time_zone = EXCLUDED.time_zone, updated_at = now()
       WHERE mall_time_zones.time_zone <> EXCLUDED.time_zone`,
    [malls, zones],
  );
}

export async function refreshDailyRollups(
  pool: pg.Pool,
  options: DailyRollupOptions,
): Promise<DailyRollupResult> {
  if (options.timeZoneByMall.size === 0) return { zonesCreated: 0, days: 0 };
  await recordMallTimeZones(pool, options.timeZoneByMall);
  if (options.timescale) {
    const zonesCreated = await ensureZoneAggregates(
      pool,
      new Set(options.timeZoneByMall.values()),
      options.nowMs,
    );
    await refreshZoneAggregates(pool, options);
    return { zonesCreated, days: 0 };
  }
  return { zonesCreated: 0, days: await fillDailyTables(pool, options) };
}

// --- TimescaleDB -------------------------------------------------------------------------------

interface ZoneRow {
  time_zone: string;
  occupancy_view: string;
  sightings_view: string;
  from_hourly: boolean;
  refreshed_until: Date | null;
}

/** A view name for a zone: readable, and distinct for zones that read alike (Etc/GMT+5, Etc/GMT-5). */
function viewName(prefix: string, timeZone: string): string {
  const slug = timeZone
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 36);
  return `${prefix}_${slug}_${createHash('sha256').update(timeZone).digest('hex').slice(0, 6)}`;
}

/** Whether the zone's midnights fall on whole UTC hours (checked in January and July of `nowMs`'s year). */
async function midnightOnWholeHours(
  client: pg.ClientBase,
  timeZone: string,
  nowMs: number,
): Promise<boolean> {
  const r = await client.query<{ whole: boolean }>(
    `SELECT bool_and(mod(extract(epoch FROM (t AT TIME ZONE $1) - (t AT TIME ZONE 'UTC'))::bigint, 3600) = 0) AS whole
     FROM (SELECT date_trunc('year', $2::timestamptz) + d * interval '1 day' AS t FROM unnest(ARRAY[14, 195]) AS d) AS probes`,
    [timeZone, new Date(nowMs)],
  );
  return r.rows[0]?.whole === true;
}

/** A SQL string literal (time zone names come from layouts: quoted, never trusted). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function createZoneAggregates(client: pg.ClientBase, timeZone: string, nowMs: number): Promise<void> {
  const fromHourly = await midnightOnWholeHours(client, timeZone, nowMs);
  const occupancyView = viewName('occupancy_daily', timeZone);
  const sightingsView = viewName('sightings_daily', timeZone);
  const bucket = (column: string) => `time_bucket('1 day', ${column}, ${literal(timeZone)})`;
  const options = 'WITH (timescaledb.continuous, timescaledb.materialized_only = false)';
  await client.query(
    fromHourly
      ? `CREATE MATERIALIZED VIEW ${quoteIdent(occupancyView)} ${options} AS
           SELECT ${bucket('bucket')} AS day_start, mall_id, zone_id,
                  round(sum(avg_devices * minutes))::bigint AS device_minutes, max(max_devices) AS peak_devices,
                  sum(minutes)::integer AS minutes
           FROM occupancy_hourly GROUP BY 1, 2, 3 WITH NO DATA`
      : `CREATE MATERIALIZED VIEW ${quoteIdent(occupancyView)} ${options} AS
           SELECT ${bucket('bucket')} AS day_start, mall_id, zone_id,
                  sum(devices)::bigint AS device_minutes, max(devices) AS peak_devices, count(*)::integer AS minutes
           FROM occupancy_minute GROUP BY 1, 2, 3 WITH NO DATA`,
  );
  await client.query(
    fromHourly
      ? `CREATE MATERIALIZED VIEW ${quoteIdent(sightingsView)} ${options} AS
           SELECT ${bucket('bucket')} AS day_start, mall_id, sensor_id, kind, sum(readings)::bigint AS readings
           FROM sightings_hourly GROUP BY 1, 2, 3, 4 WITH NO DATA`
      : `CREATE MATERIALIZED VIEW ${quoteIdent(sightingsView)} ${options} AS
           SELECT ${bucket('time')} AS day_start, mall_id, sensor_id, kind, count(*) AS readings
           FROM sightings GROUP BY 1, 2, 3, 4 WITH NO DATA`,
  );
  await client.query(
    `INSERT INTO daily_rollup_zones (time_zone, occupancy_view, sightings_view, from_hourly) VALUES ($1, $2, $3, $4)`,
    [timeZone, occupancyView, sightingsView, fromHourly],
  );
}

/** Points `occupancy_daily` and `sightings_daily` at every zone's aggregates, each for its own malls. */
async function replaceUnionViews(client: pg.ClientBase, zones: readonly ZoneRow[]): Promise<void> {
  const branches = (view: (z: ZoneRow) => string, columns: string) =>
    zones
      .map(
        (z) =>
          `SELECT d.mall_id, (d.day_start AT TIME ZONE m.time_zone)::date AS day, d.day_start, m.time_zone, ${columns}
           FROM ${quoteIdent(view(z))} d
           JOIN mall_time_zones m ON m.mall_id = d.mall_id AND m.time_zone = ${literal(z.time_zone)}`,
      )
      .join('\n UNION ALL\n');
  await client.query(
    `CREATE OR REPLACE VIEW occupancy_daily AS ${branches((z) => z.occupancy_view, 'd.zone_id, d.device_minutes, d.peak_devices, d.minutes')}`,
  );
  await client.query(
    `CREATE OR REPLACE VIEW sightings_daily AS ${branches((z) => z.sightings_view, 'd.sensor_id, d.kind, d.readings')}`,
  );
}

async function ensureZoneAggregates(
  pool: pg.Pool,
  timeZones: ReadonlySet<string>,
  nowMs: number,
): Promise<number> {
  const registered = await pool.query<ZoneRow>('SELECT time_zone FROM daily_rollup_zones');
  const have = new Set(registered.rows.map((r) => r.time_zone));
  if ([...timeZones].every((z) => have.has(z))) return 0;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [ZONES_LOCK_KEY]);
    const current = await client.query<ZoneRow>('SELECT time_zone FROM daily_rollup_zones');
    const existing = new Set(current.rows.map((r) => r.time_zone));
    let created = 0;
    for (const zone of [...timeZones].sort()) {
      if (existing.has(zone)) continue;
      await createZoneAggregates(client, zone, nowMs);
      created++;
    }
    if (created > 0) {
      const all = await client.query<ZoneRow>('SELECT * FROM daily_rollup_zones ORDER BY time_zone');
      await replaceUnionViews(client, all.rows);
    }
    await client.query('COMMIT');
    client.release();
    return created;
  } catch (err) {
    client.release(true); // the session goes, and its transaction (and lock) with it
    throw err;
  }
}

async function refreshZoneAggregates(pool: pg.Pool, options: DailyRollupOptions): Promise<void> {
  const zones = await pool.query<ZoneRow>('SELECT * FROM daily_rollup_zones ORDER BY time_zone');
  const to = new Date(Math.floor(options.nowMs / HOUR_MS) * HOUR_MS);
  const refresh = (view: string, from: Date | null) =>
    pool.query('CALL refresh_continuous_aggregate($1::regclass, $2::timestamptz, $3::timestamptz)', [
      quoteIdent(view),
      from,
      to,
    ]);
  for (const z of zones.rows) {
    // Built on aggregates that are kept (hourly) or on occupancy_minute (kept): the whole range.
    await refresh(z.occupancy_view, null);
    // On the raw sightings: never below the retention cut-off, where refreshing would empty a day;
    // the first time, before this run's retention, the oldest day is rolled up whole.
    const whole = z.from_hourly || z.refreshed_until === null;
    await refresh(z.sightings_view, whole ? null : new Date(options.retentionCutMs));
    await pool.query('UPDATE daily_rollup_zones SET refreshed_until = $2 WHERE time_zone = $1', [
      z.time_zone,
      to,
    ]);
  }
}

// --- plain PostgreSQL --------------------------------------------------------------------------

/** The local dates (YYYY-MM-DD) from the one containing $1 to the one containing $2, in zone $3. */
const DAYS_SQL = `SELECT to_char(d::date, 'YYYY-MM-DD') AS day,
    d::date::timestamp AT TIME ZONE $3 AS day_start
  FROM generate_series((to_timestamp($1::double precision / 1000) AT TIME ZONE $3)::date::timestamp,
                       (to_timestamp($2::double precision / 1000) AT TIME ZONE $3)::date::timestamp,
                       interval '1 day') AS d`;

/** $1 mall, $2 day (local date), $3 time zone. */
const OCCUPANCY_DAY_SQL = `INSERT INTO occupancy_daily
    (mall_id, day, day_start, time_zone, zone_id, device_minutes, peak_devices, minutes)
  SELECT $1, $2::date, $2::date::timestamp AT TIME ZONE $3, $3, zone_id, sum(devices), max(devices), count(*)
  FROM occupancy_minute
  WHERE mall_id = $1 AND bucket >= $2::date::timestamp AT TIME ZONE $3
    AND bucket < ($2::date + 1)::timestamp AT TIME ZONE $3
  GROUP BY zone_id
  ON CONFLICT (mall_id, zone_id, day) DO UPDATE SET day_start = EXCLUDED.day_start,
    time_zone = EXCLUDED.time_zone, device_minutes = EXCLUDED.device_minutes,
    peak_devices = EXCLUDED.peak_devices, minutes = EXCLUDED.minutes`;

const SIGHTINGS_DAY_SQL = `INSERT INTO sightings_daily (mall_id, day, day_start, time_zone, sensor_id, kind, readings)
  SELECT $1, $2::date, $2::date::timestamp AT TIME ZONE $3, $3, sensor_id, kind, count(*)
  FROM sightings
  WHERE mall_id = $1 AND time >= $2::date::timestamp AT TIME ZONE $3
    AND time < ($2::date + 1)::timestamp AT TIME ZONE $3
  GROUP BY sensor_id, kind
  ON CONFLICT (mall_id, sensor_id, kind, day) DO UPDATE SET day_start = EXCLUDED.day_start,
    time_zone = EXCLUDED.time_zone, readings = EXCLUDED.readings`;

async function fillDailyTables(pool: pg.Pool, options: DailyRollupOptions): Promise<number> {
  const state = await pool.query<{ done_until: Date }>(
    'SELECT done_until FROM maintenance_state WHERE task = $1',
    [TASK],
  );
  const doneMs = state.rows[0]?.done_until.getTime();
  let fromMs: number;
  if (doneMs === undefined) {
    // The first run rolls up everything there is, before this run's retention deletes anything.
    const oldest = await pool.query<{ t: Date | null }>(
      'SELECT least((SELECT min(bucket) FROM occupancy_minute), (SELECT min(time) FROM sightings)) AS t',
    );
    fromMs = oldest.rows[0]?.t?.getTime() ?? options.nowMs;
  } else fromMs = doneMs - LATENESS_MS;
  let days = 0;
  for (const [mallId, timeZone] of options.timeZoneByMall) {
    const list = await pool.query<{ day: string; day_start: Date }>({
      name: 'daily_rollup_days',
      text: DAYS_SQL,
      values: [fromMs, options.nowMs, timeZone],
    });
    for (const { day, day_start } of list.rows) {
      // Unnamed: planned for this day's range each time (see refresh-daily-kpis.ts).
      await pool.query({ text: OCCUPANCY_DAY_SQL, values: [mallId, day, timeZone] });
      if (doneMs === undefined || day_start.getTime() >= options.retentionCutMs)
        await pool.query({ text: SIGHTINGS_DAY_SQL, values: [mallId, day, timeZone] });
      days++;
    }
  }
  await pool.query(
    `INSERT INTO maintenance_state (task, done_until, ran_at) VALUES ($1, $2, now())
     ON CONFLICT (task) DO UPDATE SET done_until = EXCLUDED.done_until, ran_at = now()`,
    [TASK, new Date(options.nowMs)],
  );
  return days;
}

/**
 * Makes the next run roll the days from `fromMs` on up again (plain PostgreSQL; TimescaleDB's
 * aggregates see changed rows themselves): after `mallflow recompute` replaced their minutes.
 */
export async function rewindDailyRollups(client: pg.ClientBase | pg.Pool, fromMs: number): Promise<void> {
  await client.query('UPDATE maintenance_state SET done_until = least(done_until, $2) WHERE task = $1', [
    TASK,
    new Date(fromMs),
  ]);
}
