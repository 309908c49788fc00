import type pg from 'pg';

// Visit frequency: how many visitor visits each device (staff left out) made in a range, in the
// buckets 1, 2, 3-4 and 5 or more, with how many of each bucket's devices were first seen in the
// range (device_first_seen: new) and before it (returning).

/** $1 mall, $2 from, $3 to. */
const FREQUENCY_SQL = `WITH per_device AS (
    SELECT device, count(*) AS visits FROM visits v
    WHERE mall_id = $1 AND started_at >= $2 AND started_at < $3 AND NOT passer_by
      AND v.device NOT IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1)
    GROUP BY device
  ),
  firsts AS (
    SELECT device FROM device_first_seen WHERE mall_id = $1 AND first_visit_at >= $2 AND first_visit_at < $3
  )
  SELECT CASE WHEN p.visits >= 5 THEN 3 WHEN p.visits >= 3 THEN 2 ELSE p.visits - 1 END AS bucket,
         count(*) AS devices, count(f.device) AS new_devices, sum(p.visits) AS visits
  FROM per_device p LEFT JOIN firsts f USING (device)
  GROUP BY 1 ORDER BY 1`;

export const FREQUENCY_BUCKETS = [
  { bucket: '1', minVisits: 1, maxVisits: 1 },
  { bucket: '2', minVisits: 2, maxVisits: 2 },
  { bucket: '3-4', minVisits: 3, maxVisits: 4 },
  { bucket: '5+', minVisits: 5, maxVisits: null },
] as const;

export interface FrequencyCounts {
  /** Devices, new devices and their visits per bucket, in FREQUENCY_BUCKETS order. */
  devices: number[];
  newDevices: number[];
  visits: number[];
}

export async function readVisitFrequency(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
): Promise<FrequencyCounts> {
  // Unnamed: planned with the range each time, not as a generic plan (see history-kpis.ts).
  const result = await pool.query<{ bucket: number; devices: string; new_devices: string; visits: string }>({
    text: FREQUENCY_SQL,
    values: [mallId, new Date(fromMs), new Date(toMs)],
  });
  const counts: FrequencyCounts = { devices: [0, 0, 0, 0], newDevices: [0, 0, 0, 0], visits: [0, 0, 0, 0] };
  for (const r of result.rows) {
    const i = Number(r.bucket);
    counts.devices[i] = Number(r.devices);
    counts.newDevices[i] = Number(r.new_devices);
    counts.visits[i] = Number(r.visits);
  }
  return counts;
}
