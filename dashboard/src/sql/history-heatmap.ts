import type pg from 'pg';

// A day's occupancy per zone from occupancy_minute, as column indexes from the start of the day
// (elapsed time, so a day with a DST change simply has 23 or 25 hours of columns). Rows come back
// as arrays (no per-row objects or Date parsing): a Joy City day is ~85 zones x 1,440 minutes.

export type HeatmapResolution = 'minute' | 'hour';

const MINUTE_SQL = `SELECT zone_id, (extract(epoch FROM bucket - $2::timestamptz) / 60)::int AS i, devices
  FROM occupancy_minute
  WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3`;

const HOUR_SQL = `SELECT zone_id, floor(extract(epoch FROM bucket - $2::timestamptz) / 3600)::int AS i,
    round(avg(devices), 1)::float8 AS mean, max(devices) AS peak
  FROM occupancy_minute
  WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3
  GROUP BY 1, 2`;

export interface HeatmapCells {
  /** Per zone id: the value of each column, null where no minute was recorded. */
  devices: Map<string, (number | null)[]>;
  /** Hour resolution only: the busiest minute of each hour. */
  peakDevices: Map<string, (number | null)[]> | undefined;
}

function row(map: Map<string, (number | null)[]>, zoneId: string, columns: number): (number | null)[] {
  let cells = map.get(zoneId);
  if (!cells) {
    cells = new Array<number | null>(columns).fill(null);
    map.set(zoneId, cells);
  }
  return cells;
}

/** Cells of [fromMs, toMs) in `columns` columns of one minute or one hour. */
export async function readHeatmap(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
  resolution: HeatmapResolution,
  columns: number,
): Promise<HeatmapCells> {
  const values = [mallId, new Date(fromMs), new Date(toMs)];
  const devices = new Map<string, (number | null)[]>();
  if (resolution === 'minute') {
    const result = await pool.query<[string, number, number]>({
      name: 'history_heatmap_minute',
      text: MINUTE_SQL,
      values,
      rowMode: 'array',
    });
    for (const [zoneId, i, n] of result.rows) row(devices, zoneId, columns)[i] = n;
    return { devices, peakDevices: undefined };
  }
  const peakDevices = new Map<string, (number | null)[]>();
  const result = await pool.query<[string, number, number, number]>({
    name: 'history_heatmap_hour',
    text: HOUR_SQL,
    values,
    rowMode: 'array',
  });
  for (const [zoneId, i, mean, peak] of result.rows) {
    row(devices, zoneId, columns)[i] = mean;
    row(peakDevices, zoneId, columns)[i] = peak;
  }
  return { devices, peakDevices };
}
