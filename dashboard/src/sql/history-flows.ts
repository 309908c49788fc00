import type pg from 'pg';

// Zone-to-zone flows: transitions between consecutive zone stays of one device within one visit,
// for the visits starting in a range. A stay belongs to the visit of the same mall and device
// that it started within; moves within one zone (two stays in a row in the same zone) are not flows.
// Staff devices' visits are left out. The stays are read by time (range start to the last visit end) and joined to visits by device.

/** $1 mall, $2 from, $3 to, $4 limit. */
const FLOWS_SQL = `WITH r AS (
    SELECT device, started_at, ended_at FROM visits v
    WHERE mall_id = $1 AND started_at >= $2 AND started_at < $3
      AND NOT EXISTS (SELECT 1 FROM staff_devices sd WHERE sd.mall_id = $1 AND sd.device = v.device)
  ),
  moves AS (
    SELECT lag(s.zone_id) OVER (PARTITION BY r.device, r.started_at ORDER BY s.started_at) AS from_zone,
           s.zone_id AS to_zone
    FROM r
    JOIN zone_stays s ON s.device = r.device AND s.started_at >= r.started_at AND s.started_at <= r.ended_at
    WHERE s.mall_id = $1 AND s.started_at >= $2 AND s.started_at <= (SELECT max(ended_at) FROM r)
  ),
  pairs AS (
    SELECT from_zone, to_zone, count(*) AS transitions
    FROM moves WHERE from_zone IS NOT NULL AND from_zone <> to_zone
    GROUP BY 1, 2
  )
  SELECT from_zone, to_zone, transitions, sum(transitions) OVER () AS total, count(*) OVER () AS pairs
  FROM pairs
  ORDER BY transitions DESC, from_zone, to_zone
  LIMIT $4`;

export interface FlowRow {
  fromZoneId: string;
  toZoneId: string;
  transitions: number;
}

export interface Flows {
  /** The busiest pairs first (ties by zone ids), at most `limit`. */
  rows: FlowRow[];
  /** Transitions over all pairs, and the number of distinct pairs, before the limit. */
  totalTransitions: number;
  totalPairs: number;
}

export async function readFlows(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
  limit: number,
): Promise<Flows> {
  // Unnamed: planned with the range each time, not as a generic plan (see history-kpis.ts).
  const result = await pool.query<{
    from_zone: string;
    to_zone: string;
    transitions: string;
    total: string;
    pairs: string;
  }>({
    text: FLOWS_SQL,
    values: [mallId, new Date(fromMs), new Date(toMs), limit],
  });
  const first = result.rows[0];
  return {
    rows: result.rows.map((r) => ({
      fromZoneId: r.from_zone,
      toZoneId: r.to_zone,
      transitions: Number(r.transitions),
    })),
    totalTransitions: first ? Number(first.total) : 0,
    totalPairs: first ? Number(first.pairs) : 0,
  };
}
