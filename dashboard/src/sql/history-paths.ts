import type pg from 'pg';

// Path sequences: the stores a visit went through, in order, for the visitor visits (not staff)
// starting in a range. Stays outside the path zones (corridors, atria, escalators, lifts,
// entrances, the street) are dropped and a store repeated after them counts once, so
// cafe, hall, cafe is the path "cafe". Stays belong to visits as in the flows (history-flows.ts).
// Days the analytics worker rolled up (path_daily, marked by kpi_daily.visits_with_path, filled by
// analytics/src/sql/refresh-daily-paths.ts with this definition) are read from there.

/** $1 mall, $2 from, $3 to, $4 path zone ids. */
const LIVE_SQL = `WITH r AS (
    SELECT device, started_at, ended_at FROM visits v
    WHERE mall_id = $1 AND started_at >= $2 AND started_at < $3 AND NOT passer_by
      AND v.device NOT IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1)
  ),
  stops AS (
    SELECT r.device, r.started_at AS visit_start, s.started_at, s.zone_id,
           lag(s.zone_id) OVER (PARTITION BY r.device, r.started_at ORDER BY s.started_at) AS previous
    FROM r
    JOIN zone_stays s ON s.device = r.device AND s.started_at >= r.started_at AND s.started_at <= r.ended_at
    WHERE s.mall_id = $1 AND s.started_at >= $2 AND s.started_at <= (SELECT max(ended_at) FROM r)
      AND s.zone_id = ANY ($4::text[])
  ),
  paths AS (
    SELECT array_agg(zone_id ORDER BY started_at) AS path
    FROM stops WHERE previous IS DISTINCT FROM zone_id
    GROUP BY device, visit_start
  )
  SELECT path, count(*) AS visits, (SELECT count(*) FROM r) AS all_visits FROM paths GROUP BY path
  UNION ALL SELECT NULL, 0, (SELECT count(*) FROM r)`;

/** $1 mall, $2 from date, $3 to date, $4 time zone: the rolled-up days. */
const ROLLED_DAYS_SQL = `SELECT to_char(day, 'YYYY-MM-DD') AS day, visitor_visits FROM kpi_daily
  WHERE mall_id = $1 AND day >= $2::date AND day <= $3::date AND time_zone = $4 AND visits_with_path IS NOT NULL`;

// Ranked in the database: a month of rolled-up days holds ~10^5 distinct paths on the bench's
// Joy City, too many to ship to the dashboard for a top 10. Labels join zone ids with '>' (ids
// never hold one, core/src/ids.ts), as path_daily stores them; ties go by byte order (COLLATE "C").
/** $1 mall, $2 rolled-up days, $3 live path labels, $4 their visits, $5 limit. */
const RANK_SQL = `WITH parts AS (
    SELECT path AS label, visits FROM path_daily
    WHERE mall_id = $1 AND day = ANY ($2::date[])
    UNION ALL
    SELECT label, visits FROM unnest($3::text[], $4::int[]) AS u(label, visits)
  ),
  summed AS (SELECT label, sum(visits) AS visits FROM parts GROUP BY label)
  SELECT label, visits, count(*) OVER () AS distinct_paths, sum(visits) OVER () AS total,
         array_length(string_to_array(label, '>'), 1) AS stops
  FROM summed
  ORDER BY visits DESC, stops, label COLLATE "C"
  LIMIT $5`;

export interface PathRow {
  zoneIds: string[];
  visits: number;
}

export interface PathCounts {
  /** Every path, unordered. */
  paths: PathRow[];
  /** Visitor visits (staff left out), with a path or not. */
  visitorVisits: number;
}

export interface Paths {
  /** The most common paths first (ties: fewer stops, then by zone ids), at most `limit`. */
  rows: PathRow[];
  /** Visitor visits (staff left out) with at least one store, and their distinct paths. */
  visitsWithPath: number;
  distinctPaths: number;
  /** Visitor visits (staff left out) in the range, with a path or not. */
  visitorVisits: number;
}

/** Every path of the visitor visits starting in [fromMs, toMs), counted from visits and stays. */
export async function readPathCountsLive(
  pool: pg.Pool,
  mallId: string,
  pathZoneIds: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<PathCounts> {
  // Unnamed: planned with the range each time, not as a generic plan (see history-kpis.ts).
  const result = await pool.query<{ path: string[] | null; visits: string; all_visits: string }>({
    text: LIVE_SQL,
    values: [mallId, new Date(fromMs), new Date(toMs), pathZoneIds],
  });
  return {
    paths: result.rows.flatMap((r) => (r.path ? [{ zoneIds: r.path, visits: Number(r.visits) }] : [])),
    visitorVisits: Number(result.rows[0]?.all_visits ?? 0),
  };
}

/** The rolled-up days among `from`..`to` (cut in `timeZone`) and their visitor visits. */
export async function readRolledPathDays(
  pool: pg.Pool,
  mallId: string,
  from: string,
  to: string,
  timeZone: string,
): Promise<{ days: string[]; visitorVisits: number }> {
  const result = await pool.query<{ day: string; visitor_visits: number }>({
    name: 'history_path_days',
    text: ROLLED_DAYS_SQL,
    values: [mallId, from, to, timeZone],
  });
  return {
    days: result.rows.map((r) => r.day),
    visitorVisits: result.rows.reduce((sum, r) => sum + r.visitor_visits, 0),
  };
}

/** The rolled-up days' paths and `live` ones summed and ranked (see Paths), the first `limit`. */
export async function rankPaths(
  pool: pg.Pool,
  mallId: string,
  rolledDays: readonly string[],
  live: readonly PathRow[],
  visitorVisits: number,
  limit: number,
): Promise<Paths> {
  // Unnamed: planned with the days each time (see history-kpis.ts).
  const result = await pool.query<{ label: string; visits: string; distinct_paths: string; total: string }>({
    text: RANK_SQL,
    values: [mallId, rolledDays, live.map((p) => p.zoneIds.join('>')), live.map((p) => p.visits), limit],
  });
  const first = result.rows[0];
  return {
    rows: result.rows.map((r) => ({ zoneIds: r.label.split('>'), visits: Number(r.visits) })),
    visitsWithPath: Number(first?.total ?? 0),
    distinctPaths: Number(first?.distinct_paths ?? 0),
    visitorVisits,
  };
}
