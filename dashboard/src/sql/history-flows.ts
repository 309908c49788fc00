import type pg from 'pg';

// Zone-to-zone flows: transitions between consecutive zone stays of one device within one visit,
// for the visits starting in a range. A stay belongs to the visit of the same mall and device
// that it started within; moves within one zone (two stays in a row in the same zone) are not flows.
// Staff devices' visits are left out.
// Hours the analytics maintenance has counted into zone_transitions (before its per-mall
// watermark in maintenance_state) are read from there; the rest of the range (the last day,
// today) is counted from visits and zone stays by the same definition. Both count a visit in the
// hour its start falls in, so the split changes nothing (tests/integration/zone-transitions.test.ts).

/** $1 mall, $2 from, $3 to: the stays are read by time and joined to visits by device. */
const LIVE_SQL = `WITH r AS (
    SELECT device, started_at, ended_at FROM visits v
    WHERE mall_id = $1 AND started_at >= $2 AND started_at < $3
      AND v.device NOT IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1)
  ),
  moves AS (
    SELECT lag(s.zone_id) OVER (PARTITION BY r.device, r.started_at ORDER BY s.started_at) AS from_zone,
           s.zone_id AS to_zone
    FROM r
    JOIN zone_stays s ON s.device = r.device AND s.started_at >= r.started_at AND s.started_at <= r.ended_at
    WHERE s.mall_id = $1 AND s.started_at >= $2 AND s.started_at <= (SELECT max(ended_at) FROM r)
  )
  SELECT from_zone, to_zone, count(*) AS transitions
  FROM moves WHERE from_zone IS NOT NULL AND from_zone <> to_zone
  GROUP BY 1, 2`;

/** $1 mall, $2 from, $3 to (on the hour grid: local midnights are). */
const STORED_SQL = `SELECT from_zone, to_zone, sum(transitions) AS transitions FROM zone_transitions
  WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3 AND NOT staff
  GROUP BY 1, 2`;

const WATERMARK_SQL = 'SELECT done_until FROM maintenance_state WHERE task = $1';

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

type PairRow = { from_zone: string; to_zone: string; transitions: string };

/** Every pair of the visits starting in [fromMs, toMs), counted from visits and zone stays. */
export async function readFlowPairsLive(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
): Promise<FlowRow[]> {
  // Unnamed: planned with the range each time, not as a generic plan (see history-kpis.ts).
  const result = await pool.query<PairRow>({
    text: LIVE_SQL,
    values: [mallId, new Date(fromMs), new Date(toMs)],
  });
  return result.rows.map(toFlowRow);
}

/** Every pair of the stored hours in [fromMs, toMs) (zone_transitions, staff left out). */
export async function readFlowPairsStored(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
): Promise<FlowRow[]> {
  const result = await pool.query<PairRow>({
    text: STORED_SQL,
    values: [mallId, new Date(fromMs), new Date(toMs)],
  });
  return result.rows.map(toFlowRow);
}

/** Where the mall's zone_transitions stop being complete; undefined: none are. */
export async function readTransitionsWatermark(pool: pg.Pool, mallId: string): Promise<number | undefined> {
  const result = await pool.query<{ done_until: Date }>({
    name: 'history_transitions_watermark',
    text: WATERMARK_SQL,
    values: [`zone-transitions:${mallId}`],
  });
  return result.rows[0]?.done_until.getTime();
}

function toFlowRow(r: PairRow): FlowRow {
  return { fromZoneId: r.from_zone, toZoneId: r.to_zone, transitions: Number(r.transitions) };
}

/** Sums the pairs of several parts, busiest first (ties by zone ids), the first `limit`. Pure. */
export function rankFlows(parts: readonly (readonly FlowRow[])[], limit: number): Flows {
  const byPair = new Map<string, FlowRow>();
  for (const part of parts) {
    for (const f of part) {
      const key = `${f.fromZoneId}\u0000${f.toZoneId}`;
      const seen = byPair.get(key);
      if (seen) seen.transitions += f.transitions;
      else byPair.set(key, { ...f });
    }
  }
  const all = [...byPair.values()].sort(
    (a, b) =>
      b.transitions - a.transitions ||
      compareText(a.fromZoneId, b.fromZoneId) ||
      compareText(a.toZoneId, b.toZoneId),
  );
  return {
    rows: all.slice(0, limit),
    totalTransitions: all.reduce((sum, f) => sum + f.transitions, 0),
    totalPairs: all.length,
  };
}

// Ties in byte order of the zone ids (lowercase ASCII ids: as the database ordered them).
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The flows of the visits starting in [fromMs, toMs): stored hours from the table, the rest live. */
export async function readFlows(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
  limit: number,
): Promise<Flows> {
  const watermarkMs = (await readTransitionsWatermark(pool, mallId)) ?? fromMs;
  const splitMs = Math.min(Math.max(watermarkMs, fromMs), toMs);
  const parts: FlowRow[][] = [];
  if (splitMs > fromMs) parts.push(await readFlowPairsStored(pool, mallId, fromMs, splitMs));
  if (toMs > splitMs) parts.push(await readFlowPairsLive(pool, mallId, splitMs, toMs));
  return rankFlows(parts, limit);
}
