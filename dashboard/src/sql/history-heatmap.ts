import type pg from 'pg';

// A day's occupancy per zone from occupancy_minute, as column indexes from the start of the day
// (elapsed time, so a day with a DST change simply has 23 or 25 hours of columns). One row per
// zone with its columns and values as arrays: a Joy City day is ~85 zones x 720-1,440 minutes,
// and as 61,000 rows it took ~290 ms over the embedded database's socket (~70 ms as 85 rows).

export type HeatmapResolution = 'minute' | 'hour';

const MINUTE_SQL = `SELECT zone_id, array_agg(floor(extract(epoch FROM bucket - $2::timestamptz) / 60)::int) AS i,
    array_agg(devices) AS devices
  FROM occupancy_minute
  WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3
  GROUP BY zone_id`;

const HOUR_SQL = `SELECT zone_id, array_agg(i) AS i, array_agg(mean) AS mean, array_agg(peak) AS peak
  FROM (
    SELECT zone_id, floor(extract(epoch FROM bucket - $2::timestamptz) / 3600)::int AS i,
           round(avg(devices), 1)::float8 AS mean, max(devices) AS peak
    FROM occupancy_minute
    WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3
    GROUP BY 1, 2
  ) hours
  GROUP BY zone_id`;

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
    const result = await pool.query<[string, number[], number[]]>({
      name: 'history_heatmap_minute',
      text: MINUTE_SQL,
      values,
      rowMode: 'array',
    });
    for (const [zoneId, columnsOf, counts] of result.rows) {
      const cells = row(devices, zoneId, columns);
      for (let k = 0; k < columnsOf.length; k++) {
        const column = columnsOf[k]!;
        if (column >= 0 && column < columns) cells[column] = counts[k]!;
      }
    }
    return { devices, peakDevices: undefined };
  }
  const peakDevices = new Map<string, (number | null)[]>();
  const result = await pool.query<[string, number[], number[], number[]]>({
    name: 'history_heatmap_hour',
    text: HOUR_SQL,
    values,
    rowMode: 'array',
  });
  for (const [zoneId, columnsOf, means, peaks] of result.rows) {
    const cells = row(devices, zoneId, columns);
    const peakCells = row(peakDevices, zoneId, columns);
    for (let k = 0; k < columnsOf.length; k++) {
      const column = columnsOf[k]!;
      if (column < 0 || column >= columns) continue;
      cells[column] = means[k]!;
      peakCells[column] = peaks[k]!;
    }
  }
  return { devices, peakDevices };
}
