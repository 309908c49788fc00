import type pg from 'pg';
import { refreshDailyPaths } from './refresh-daily-paths.ts';

// Fills kpi_daily (migration 0006): per mall and local calendar day, the history API's visitor
// KPIs, counted from visits, zone_stays and device_first_seen with the same definitions as
// dashboard/src/sql/history-kpis.ts (kept apart: components do not import each other; the
// history tests compare the two on the same rows):
// - a visit counts on the day its start falls in (the mall's time zone);
// - staff devices (staff_devices, flagged just before by maintenance) are left out;
// - a visitor visit is one the engine did not class as a passer-by's (visits.passer_by);
// - the visitors' interval: low leaves out visitors with an orphan visitor visit, high adds the
//   doubtful links of the visitor visits;
// - visitors = distinct devices with a visitor visit that day; passers-by = distinct devices with
//   visits that day, none of them a visitor visit; new = visitors first seen that day;
// - dwell sums and buckets are over visitor visits;
// - by local hour of the day (0-23): visitors arriving (distinct devices with a visitor visit
//   starting in the hour) and device-minutes in the mall (occupancy_minute), for the peak hours
//   (dashboard/src/sql/history-peak-hours.ts counts the same live).
// One statement per mall and day, so the embedded database (one shared connection) is never
// held for longer than a day's worth of rows.

/** The local days (YYYY-MM-DD) that ended in (fromMs, toMs]. */
const DAYS_SQL = `SELECT to_char(d::date, 'YYYY-MM-DD') AS day
  FROM generate_series((to_timestamp($1::double precision / 1000) AT TIME ZONE $3)::date::timestamp,
                       ((to_timestamp($2::double precision / 1000) AT TIME ZONE $3)::date - 1)::timestamp,
                       interval '1 day') AS d`;

/** $1 mall, $2 day (local date), $3 time zone. */
const REFRESH_SQL = `WITH bounds AS (
    SELECT $2::date::timestamp AT TIME ZONE $3 AS day_start, ($2::date + 1)::timestamp AT TIME ZONE $3 AS day_end
  ),
  v AS (
    SELECT v.device, v.started_at, v.dwell_ms, NOT v.passer_by AS inside, v.orphan, v.doubtful_links
    FROM visits v, bounds b
    WHERE v.mall_id = $1 AND v.started_at >= b.day_start AND v.started_at < b.day_end
      AND v.device NOT IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1)
  ),
  per_device AS (
    SELECT device, bool_or(inside) AS visitor, bool_or(inside AND orphan) AS orphan,
           coalesce(sum(doubtful_links) FILTER (WHERE inside), 0) AS doubtful
    FROM v GROUP BY device
  ),
  devices AS (
    SELECT count(*) FILTER (WHERE p.visitor) AS visitors,
           count(*) FILTER (WHERE p.visitor AND NOT p.orphan) AS visitors_low,
           count(*) FILTER (WHERE p.visitor) + coalesce(sum(p.doubtful) FILTER (WHERE p.visitor), 0) AS visitors_high,
           count(*) FILTER (WHERE NOT p.visitor) AS passers_by,
           count(*) FILTER (WHERE p.visitor AND f.first_visit_at >= b.day_start
                                            AND f.first_visit_at < b.day_end) AS new_visitors
    FROM per_device p CROSS JOIN bounds b
    LEFT JOIN device_first_seen f ON p.visitor AND f.mall_id = $1 AND f.device = p.device
  ),
  dwell AS (
    SELECT count(*) AS visitor_visits, coalesce(sum(dwell_ms), 0) AS visitor_dwell_ms,
           count(*) FILTER (WHERE dwell_ms < 300000) AS d0,
           count(*) FILTER (WHERE dwell_ms >= 300000 AND dwell_ms < 1200000) AS d1,
           count(*) FILTER (WHERE dwell_ms >= 1200000 AND dwell_ms < 3600000) AS d2,
           count(*) FILTER (WHERE dwell_ms >= 3600000 AND dwell_ms < 21600000) AS d3,
           count(*) FILTER (WHERE dwell_ms >= 21600000) AS d4
    FROM v WHERE inside
  ),
  hours AS (SELECT generate_series(0, 23) AS h),
  arrivals AS (
    SELECT extract(hour FROM started_at AT TIME ZONE $3)::int AS h, count(DISTINCT device) AS n
    FROM v WHERE inside GROUP BY 1
  ),
  occupied AS (
    SELECT extract(hour FROM o.bucket AT TIME ZONE $3)::int AS h, sum(o.devices) AS n
    FROM occupancy_minute o, bounds b
    WHERE o.mall_id = $1 AND o.bucket >= b.day_start AND o.bucket < b.day_end
    GROUP BY 1
  ),
  by_hour AS (
    SELECT array_agg(coalesce(a.n, 0)::integer ORDER BY hours.h) AS visitors,
           array_agg(coalesce(o.n, 0)::bigint ORDER BY hours.h) AS device_minutes
    FROM hours LEFT JOIN arrivals a USING (h) LEFT JOIN occupied o USING (h)
  )
  INSERT INTO kpi_daily (mall_id, day, time_zone, visitors, visitors_low, visitors_high, passers_by, new_visitors,
                         visitor_visits, visitor_dwell_ms, dwell_under_5m, dwell_5m_20m, dwell_20m_1h, dwell_1h_6h,
                         dwell_6h_plus, hourly_visitors, hourly_device_minutes, refreshed_at)
  SELECT $1, $2::date, $3, d.visitors, d.visitors_low, d.visitors_high, d.passers_by, d.new_visitors,
         w.visitor_visits, w.visitor_dwell_ms,
         w.d0, w.d1, w.d2, w.d3, w.d4, h.visitors, h.device_minutes, now()
  FROM devices d CROSS JOIN dwell w CROSS JOIN by_hour h
  ON CONFLICT (mall_id, day) DO UPDATE SET
    time_zone = EXCLUDED.time_zone, visitors = EXCLUDED.visitors, visitors_low = EXCLUDED.visitors_low,
    visitors_high = EXCLUDED.visitors_high, passers_by = EXCLUDED.passers_by,
    new_visitors = EXCLUDED.new_visitors, visitor_visits = EXCLUDED.visitor_visits,
    visitor_dwell_ms = EXCLUDED.visitor_dwell_ms, dwell_under_5m = EXCLUDED.dwell_under_5m,
    dwell_5m_20m = EXCLUDED.dwell_5m_20m, dwell_20m_1h = EXCLUDED.dwell_20m_1h,
    dwell_1h_6h = EXCLUDED.dwell_1h_6h, dwell_6h_plus = EXCLUDED.dwell_6h_plus,
    hourly_visitors = EXCLUDED.hourly_visitors, hourly_device_minutes = EXCLUDED.hourly_device_minutes,
    refreshed_at = now()`;

export interface RefreshDailyKpisResult {
  /** Mall-days written (zeros included for days without visits). */
  days: number;
}

/**
 * Recomputes kpi_daily for every mall in `timeZoneByMall` and every local day that ended in
 * (fromMs, toMs]: the day containing `fromMs` is redone whole, the day containing `toMs` only if
 * `toMs` is its end (a day is written once it is over). Visits are written when they close, so
 * pass `toMs` = now minus the visit idle gap (or more) and start `fromMs` a day or two back, so
 * late visits land in a later run. Returns the number of mall-days written. A mall with store
 * zones in `storeZonesByMall` has its days' paths rolled up as well (path_daily).
 */
export async function refreshDailyKpis(
  pool: pg.ClientBase | pg.Pool,
  fromMs: number,
  toMs: number,
  timeZoneByMall: ReadonlyMap<string, string>,
  /** The malls' store zones: with them each day's paths are rolled up too (path_daily). */
  storeZonesByMall?: ReadonlyMap<string, readonly string[]>,
): Promise<RefreshDailyKpisResult> {
  let days = 0;
  for (const [mallId, timeZone] of timeZoneByMall) {
    const list = await pool.query<{ day: string }>({
      name: 'refresh_kpi_daily_days',
      text: DAYS_SQL,
      values: [fromMs, toMs, timeZone],
    });
    for (const { day } of list.rows) {
      // Unnamed: planned for this day each time. As a named statement it would turn generic after
      // five days, and a generic plan of the history KPIs ran 100x slower on the embedded database.
      await pool.query({ text: REFRESH_SQL, values: [mallId, day, timeZone] });
      const stores = storeZonesByMall?.get(mallId);
      if (stores) await refreshDailyPaths(pool, mallId, day, timeZone, stores);
      days++;
    }
  }
  return { days };
}
