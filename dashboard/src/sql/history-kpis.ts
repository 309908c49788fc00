import type pg from 'pg';

// Visitor KPIs from the base tables (visits, zone_stays, device_first_seen) and from the daily
// rollup (kpi_daily). Definitions, shared with analytics/src/sql/refresh-daily-kpis.ts (which
// fills kpi_daily with the same counts) and named in the API responses:
// - a visit counts in the bucket its start falls in (buckets cut in the mall's time zone);
// - a visitor visit is one the analytics engine did not class as a passer-by's (visits.passer_by:
//   the visitor rule of core/src/visitor-rule.ts, with the settings in engine_settings);
// - staff devices (staff_devices, core/src/staff-rule.ts) are left out of everything (NOT IN: a
//   hashed subplan; as NOT EXISTS, an empty or unanalyzed staff_devices was planned as a nested
//   loop anti join, 2.9 s instead of 1.2 s for a month's visit frequency on the bench server);
// - visitors = distinct devices with a visitor visit in the bucket; passers-by = distinct devices
//   with visits in the bucket, none of them a visitor visit;
// - new visitors = visitors whose first visit (device_first_seen) falls in the bucket;
// - the visitor count's interval (rotating MACs): low = visitors without an orphan visitor visit
//   (one that began as a rotation the engine could not link: most likely someone counted already),
//   high = visitors + the doubtful links of their visitor visits (each maybe two people);
// - dwell figures are over visitor visits.

/** Raw counts of one bucket: what the KPIs are computed from (and what kpi_daily stores). */
export interface KpiCounts {
  visitors: number;
  /** The interval of `visitors` left by rotating MACs (see the header). */
  visitorsLow: number;
  visitorsHigh: number;
  passersBy: number;
  newVisitors: number;
  visitorVisits: number;
  visitorDwellMs: number;
  /** Visitor visits by dwell: < 5 min, 5-20 min, 20-60 min, 1-6 h, 6 h and more. */
  dwellBuckets: [number, number, number, number, number];
}

export interface KpiBucketCounts extends KpiCounts {
  startMs: number;
  endMs: number;
  /** The bucket's start on the mall's wall clock, 'YYYY-MM-DDTHH:MI'. */
  localStart: string;
}

export type KpiBucket = 'hour' | 'day' | 'period';

/** $1 mall, $2 from, $3 to (timestamptz, by visit start), $4 time zone. */
const VISITS_IN_RANGE = `visit AS (
    SELECT v.device, v.dwell_ms, v.started_at, NOT v.passer_by AS inside, v.orphan, v.doubtful_links FROM visits v
    WHERE v.mall_id = $1 AND v.started_at >= $2 AND v.started_at < $3
      AND v.device NOT IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1)
  )`;

// Each bucket is [bucket_start, bucket_end). Hours count from local midnight in elapsed time, so
// a day with a DST change has 23 or 25 of them, each a real hour.
const BUCKETS: Record<KpiBucket, string> = {
  period: `SELECT r.*, $2::timestamptz AS bucket_start, $3::timestamptz AS bucket_end FROM visit r`,
  day: `SELECT r.*, l.day::timestamp AT TIME ZONE $4 AS bucket_start, (l.day + 1)::timestamp AT TIME ZONE $4 AS bucket_end
    FROM visit r, LATERAL (SELECT (r.started_at AT TIME ZONE $4)::date AS day) l`,
  hour: `SELECT r.*, h.bucket_start, h.bucket_start + interval '1 hour' AS bucket_end
    FROM visit r, LATERAL (SELECT (r.started_at AT TIME ZONE $4)::date::timestamp AT TIME ZONE $4 AS day_start) d,
         LATERAL (SELECT d.day_start + floor(extract(epoch FROM r.started_at - d.day_start) / 3600)
                         * interval '1 hour' AS bucket_start) h`,
};

function kpiSql(bucket: KpiBucket): string {
  return `WITH ${VISITS_IN_RANGE},
  v AS (${BUCKETS[bucket]}),
  -- Devices first seen in the range, read by time (a hash join, not a probe per device).
  firsts AS (
    SELECT device, first_visit_at FROM device_first_seen
    WHERE mall_id = $1 AND first_visit_at >= $2 AND first_visit_at < $3
  ),
  per_device AS (
    SELECT bucket_start, bucket_end, device, bool_or(inside) AS visitor, bool_or(inside AND orphan) AS orphan,
           coalesce(sum(doubtful_links) FILTER (WHERE inside), 0) AS doubtful
    FROM v GROUP BY 1, 2, 3
  ),
  devices AS (
    SELECT p.bucket_start, p.bucket_end,
           count(*) FILTER (WHERE p.visitor) AS visitors,
           count(*) FILTER (WHERE p.visitor AND NOT p.orphan) AS visitors_low,
           count(*) FILTER (WHERE p.visitor) + coalesce(sum(p.doubtful) FILTER (WHERE p.visitor), 0) AS visitors_high,
           count(*) FILTER (WHERE NOT p.visitor) AS passers_by,
           count(*) FILTER (WHERE p.visitor AND f.first_visit_at >= p.bucket_start
                                            AND f.first_visit_at < p.bucket_end) AS new_visitors
    FROM per_device p
    LEFT JOIN firsts f ON f.device = p.device
    GROUP BY 1, 2
  ),
  dwell AS (
    SELECT bucket_start, count(*) AS visitor_visits, sum(dwell_ms) AS visitor_dwell_ms,
           count(*) FILTER (WHERE dwell_ms < 300000) AS d0,
           count(*) FILTER (WHERE dwell_ms >= 300000 AND dwell_ms < 1200000) AS d1,
           count(*) FILTER (WHERE dwell_ms >= 1200000 AND dwell_ms < 3600000) AS d2,
           count(*) FILTER (WHERE dwell_ms >= 3600000 AND dwell_ms < 21600000) AS d3,
           count(*) FILTER (WHERE dwell_ms >= 21600000) AS d4
    FROM v WHERE inside GROUP BY 1
  )
  SELECT extract(epoch FROM d.bucket_start) * 1000 AS start_ms, extract(epoch FROM d.bucket_end) * 1000 AS end_ms,
         to_char(d.bucket_start AT TIME ZONE $4, 'YYYY-MM-DD"T"HH24:MI') AS local_start,
         d.visitors, d.visitors_low, d.visitors_high, d.passers_by, d.new_visitors,
         coalesce(w.visitor_visits, 0) AS visitor_visits, coalesce(w.visitor_dwell_ms, 0) AS visitor_dwell_ms,
         coalesce(w.d0, 0) AS d0, coalesce(w.d1, 0) AS d1, coalesce(w.d2, 0) AS d2,
         coalesce(w.d3, 0) AS d3, coalesce(w.d4, 0) AS d4
  FROM devices d LEFT JOIN dwell w USING (bucket_start)
  ORDER BY d.bucket_start`;
}

const KPI_SQL: Record<KpiBucket, string> = {
  period: kpiSql('period'),
  day: kpiSql('day'),
  hour: kpiSql('hour'),
};

interface CountsRow {
  visitors: string;
  visitors_low: string;
  visitors_high: string;
  passers_by: string;
  new_visitors: string;
  visitor_visits: string;
  visitor_dwell_ms: string;
  d0: string;
  d1: string;
  d2: string;
  d3: string;
  d4: string;
}

function toCounts(r: CountsRow): KpiCounts {
  return {
    visitors: Number(r.visitors),
    visitorsLow: Number(r.visitors_low),
    visitorsHigh: Number(r.visitors_high),
    passersBy: Number(r.passers_by),
    newVisitors: Number(r.new_visitors),
    visitorVisits: Number(r.visitor_visits),
    visitorDwellMs: Number(r.visitor_dwell_ms),
    dwellBuckets: [Number(r.d0), Number(r.d1), Number(r.d2), Number(r.d3), Number(r.d4)],
  };
}

export const ZERO_COUNTS: KpiCounts = Object.freeze({
  visitors: 0,
  visitorsLow: 0,
  visitorsHigh: 0,
  passersBy: 0,
  newVisitors: 0,
  visitorVisits: 0,
  visitorDwellMs: 0,
  dwellBuckets: [0, 0, 0, 0, 0],
}) as KpiCounts;

export interface KpiScope {
  mallId: string;
  timeZone: string;
}

/**
 * Counts per bucket of the visits starting in [fromMs, toMs), from the base tables. Buckets
 * without any visit are absent; 'period' is one bucket [fromMs, toMs).
 */
export async function readKpiCounts(
  pool: pg.Pool,
  scope: KpiScope,
  fromMs: number,
  toMs: number,
  bucket: KpiBucket,
): Promise<KpiBucketCounts[]> {
  // Unnamed on purpose: a named (prepared) statement switches to a generic plan after five runs,
  // and without the parameter values that plan for one day's KPIs took 0.4 s on the bench server
  // and 107 s on the embedded database (no statistics) instead of 0.13 s and 0.3 s.
  const result = await pool.query<CountsRow & { start_ms: string; end_ms: string; local_start: string }>({
    text: KPI_SQL[bucket],
    values: [scope.mallId, new Date(fromMs), new Date(toMs), scope.timeZone],
  });
  return result.rows.map((r) => ({
    startMs: Number(r.start_ms),
    endMs: Number(r.end_ms),
    localStart: r.local_start,
    ...toCounts(r),
  }));
}

// Days rolled up before the interval existed (visitors_low NULL) are left to be counted live.
const DAILY_SQL = `SELECT to_char(day, 'YYYY-MM-DD') AS day, visitors, visitors_low, visitors_high, passers_by, new_visitors, visitor_visits,
    visitor_dwell_ms, dwell_under_5m AS d0, dwell_5m_20m AS d1, dwell_20m_1h AS d2, dwell_1h_6h AS d3,
    dwell_6h_plus AS d4
  FROM kpi_daily WHERE mall_id = $1 AND day >= $2::date AND day <= $3::date AND time_zone = $4
    AND visitors_low IS NOT NULL
  ORDER BY day`;

/** Rolled-up days (YYYY-MM-DD, local) from `fromDate` to `toDate` inclusive, cut in `timeZone`. */
export async function readDailyRollup(
  pool: pg.Pool,
  mallId: string,
  fromDate: string,
  toDate: string,
  timeZone: string,
): Promise<Map<string, KpiCounts>> {
  const result = await pool.query<CountsRow & { day: string }>({
    name: 'history_kpi_daily',
    text: DAILY_SQL,
    values: [mallId, fromDate, toDate, timeZone],
  });
  return new Map(result.rows.map((r) => [r.day, toCounts(r)]));
}
