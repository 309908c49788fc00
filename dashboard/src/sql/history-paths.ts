import type pg from 'pg';

// Path sequences: the stores a visit went through, in order, for the visitor visits (not staff)
// starting in a range. Stays outside the path zones (corridors, atria, escalators, lifts,
// entrances, the street) are dropped and a store repeated after them counts once, so
// cafe, hall, cafe is the path "cafe". Stays belong to visits as in the flows (history-flows.ts).

/** $1 mall, $2 from, $3 to, $4 path zone ids, $5 limit. */
const PATHS_SQL = `WITH r AS (
    SELECT device, started_at, ended_at FROM visits v
    WHERE mall_id = $1 AND started_at >= $2 AND started_at < $3 AND NOT passer_by
      AND NOT EXISTS (SELECT 1 FROM staff_devices sd WHERE sd.mall_id = $1 AND sd.device = v.device)
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
  ),
  counted AS (SELECT path, count(*) AS visits FROM paths GROUP BY path),
  ranked AS (
    SELECT path, visits, sum(visits) OVER () AS total, count(*) OVER () AS distinct_paths,
           array_length(path, 1) AS stops, array_to_string(path, '>') AS label
    FROM counted
    ORDER BY visits DESC, stops, label
    LIMIT $5
  )
  -- One row even without any path: the visit count.
  SELECT ranked.path, ranked.visits, ranked.total, ranked.distinct_paths, (SELECT count(*) FROM r) AS all_visits
  FROM (SELECT 1) AS one LEFT JOIN ranked ON true
  ORDER BY ranked.visits DESC, ranked.stops, ranked.label`;

export interface PathRow {
  zoneIds: string[];
  visits: number;
}

export interface Paths {
  /** The most common paths first (ties: shorter, then by zone ids), at most `limit`. */
  rows: PathRow[];
  /** Visitor visits (staff left out) with at least one store, and their distinct paths. */
  visitsWithPath: number;
  distinctPaths: number;
  /** Visitor visits (staff left out) in the range, with a path or not. */
  visitorVisits: number;
}

export async function readPaths(
  pool: pg.Pool,
  mallId: string,
  pathZoneIds: readonly string[],
  fromMs: number,
  toMs: number,
  limit: number,
): Promise<Paths> {
  // Unnamed: planned with the range each time, not as a generic plan (see history-kpis.ts).
  const result = await pool.query<{
    path: string[] | null;
    visits: string | null;
    total: string | null;
    distinct_paths: string | null;
    all_visits: string;
  }>({
    text: PATHS_SQL,
    values: [mallId, new Date(fromMs), new Date(toMs), pathZoneIds, limit],
  });
  const first = result.rows[0];
  return {
    rows: result.rows.flatMap((r) => (r.path ? [{ zoneIds: r.path, visits: Number(r.visits) }] : [])),
    visitsWithPath: Number(first?.total ?? 0),
    distinctPaths: Number(first?.distinct_paths ?? 0),
    visitorVisits: Number(first?.all_visits ?? 0),
  };
}
