import type pg from 'pg';

// Peak hours of a range, per local day and hour of the day:
// - visitors: distinct devices (staff left out) with a visitor visit starting in the hour;
// - occupancy: devices in the mall (summed over its zones) at the hour's minute ends, averaged
//   over the hour's 60 minutes (occupancy_minute; a minute without a row counts as 0). Occupancy
//   is what the heatmap shows: it is not split by staff.
// Hours are cut in the mall's time zone (a day with a DST change has 23 or 25).

/** $1 mall, $2 from, $3 to, $4 time zone. */
const VISITORS_SQL = `SELECT to_char(started_at AT TIME ZONE $4, 'YYYY-MM-DD') AS day,
    extract(hour FROM started_at AT TIME ZONE $4)::int AS hour, count(DISTINCT device) AS n
  FROM visits v
  WHERE mall_id = $1 AND started_at >= $2 AND started_at < $3 AND NOT passer_by
    AND v.device NOT IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1)
  GROUP BY 1, 2`;

const OCCUPANCY_SQL = `SELECT to_char(bucket AT TIME ZONE $4, 'YYYY-MM-DD') AS day,
    extract(hour FROM bucket AT TIME ZONE $4)::int AS hour, sum(devices)::float8 / 60 AS n
  FROM occupancy_minute
  WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3
  GROUP BY 1, 2`;

/** Per local day (YYYY-MM-DD), per hour of the day (0-23): the figure. */
export type ByDayHour = Map<string, Map<number, number>>;

async function readByDayHour(
  pool: pg.Pool,
  sql: string,
  mallId: string,
  fromMs: number,
  toMs: number,
  timeZone: string,
): Promise<ByDayHour> {
  // Unnamed: planned with the range each time, not as a generic plan (see history-kpis.ts).
  const result = await pool.query<{ day: string; hour: number; n: string | number }>({
    text: sql,
    values: [mallId, new Date(fromMs), new Date(toMs), timeZone],
  });
  const byDay: ByDayHour = new Map();
  for (const r of result.rows) {
    let hours = byDay.get(r.day);
    if (!hours) {
      hours = new Map();
      byDay.set(r.day, hours);
    }
    // A DST day's repeated hour sums into its hour of the day.
    hours.set(r.hour, (hours.get(r.hour) ?? 0) + Number(r.n));
  }
  return byDay;
}

export function readHourlyVisitors(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
  timeZone: string,
) {
  return readByDayHour(pool, VISITORS_SQL, mallId, fromMs, toMs, timeZone);
}

export function readHourlyOccupancy(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
  timeZone: string,
) {
  return readByDayHour(pool, OCCUPANCY_SQL, mallId, fromMs, toMs, timeZone);
}

/** $1 mall, $2 from date, $3 to date, $4 time zone: the days rolled up with their hours. */
const ROLLUP_SQL = `SELECT to_char(day, 'YYYY-MM-DD') AS day, hourly_visitors, hourly_device_minutes
  FROM kpi_daily WHERE mall_id = $1 AND day >= $2::date AND day <= $3::date AND time_zone = $4
    AND hourly_visitors IS NOT NULL AND hourly_device_minutes IS NOT NULL`;

/** The days of kpi_daily (cut in `timeZone`) with their hours: visitors and occupancy per hour. */
export async function readHourlyRollup(
  pool: pg.Pool,
  mallId: string,
  fromDate: string,
  toDate: string,
  timeZone: string,
): Promise<{ visitors: ByDayHour; occupancy: ByDayHour }> {
  const result = await pool.query<{
    day: string;
    hourly_visitors: number[];
    hourly_device_minutes: string[];
  }>({
    name: 'history_kpi_daily_hours',
    text: ROLLUP_SQL,
    values: [mallId, fromDate, toDate, timeZone],
  });
  const visitors: ByDayHour = new Map();
  const occupancy: ByDayHour = new Map();
  for (const r of result.rows) {
    visitors.set(r.day, new Map(r.hourly_visitors.map((n, h) => [h, n] as const)));
    occupancy.set(r.day, new Map(r.hourly_device_minutes.map((n, h) => [h, Number(n) / 60] as const)));
  }
  return { visitors, occupancy };
}
