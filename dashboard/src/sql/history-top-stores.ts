import type pg from 'pg';

// Stores ranked by their zone stays starting in a range: by number of stays, or by median dwell
// (the middle stay: a few staff or all-day stays do not pull it the way they pull a mean, which is
// given beside it). Staff devices' stays (under their own or their visit's device) are left out.
// The mean confidence of the stays' zone estimates says how sure the store's figures are.

export type TopStoresBy = 'visits' | 'dwell';

/** $1 mall, $2 from, $3 to, $4 store zone ids, $5 limit. */
const SELECT = `SELECT zone_id, count(*) AS stays, count(DISTINCT device) AS devices,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY dwell_ms) AS median_dwell_ms, avg(dwell_ms)::float8 AS mean_dwell_ms,
    avg(confidence)::float8 AS mean_confidence, count(*) OVER () AS stores
  FROM zone_stays s
  WHERE mall_id = $1 AND zone_id = ANY ($4::text[]) AND started_at >= $2 AND started_at < $3
    AND coalesce(s.visit_device, s.device) NOT IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1)
  GROUP BY zone_id`;

const TOP_STORES_SQL: Record<TopStoresBy, string> = {
  visits: `${SELECT} ORDER BY stays DESC, zone_id LIMIT $5`,
  dwell: `${SELECT} ORDER BY median_dwell_ms DESC, zone_id LIMIT $5`,
};

export interface StoreRow {
  zoneId: string;
  stays: number;
  /** Distinct devices with a stay in the store. */
  devices: number;
  medianDwellMs: number;
  meanDwellMs: number;
  /** Mean confidence of its stays' zone estimates, 0..1 (null: none has one). */
  meanConfidence: number | null;
}

export interface TopStores {
  rows: StoreRow[];
  /** Stores with at least one stay in the range, before the limit. */
  storesWithStays: number;
}

export async function readTopStores(
  pool: pg.Pool,
  mallId: string,
  storeZoneIds: readonly string[],
  fromMs: number,
  toMs: number,
  by: TopStoresBy,
  limit: number,
): Promise<TopStores> {
  // Unnamed: planned with the range each time, not as a generic plan (see history-kpis.ts).
  const result = await pool.query<{
    zone_id: string;
    stays: string;
    devices: string;
    median_dwell_ms: number;
    mean_dwell_ms: number;
    mean_confidence: number | null;
    stores: string;
  }>({
    text: TOP_STORES_SQL[by],
    values: [mallId, new Date(fromMs), new Date(toMs), storeZoneIds, limit],
  });
  return {
    rows: result.rows.map((r) => ({
      zoneId: r.zone_id,
      stays: Number(r.stays),
      devices: Number(r.devices),
      medianDwellMs: Math.round(r.median_dwell_ms),
      meanDwellMs: Math.round(r.mean_dwell_ms),
      meanConfidence: r.mean_confidence === null ? null : Math.round(r.mean_confidence * 1000) / 1000,
    })),
    storesWithStays: Number(result.rows[0]?.stores ?? 0),
  };
}
