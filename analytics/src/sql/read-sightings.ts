import type pg from 'pg';
import { addSighting, type OccupancyState } from '../../../core/src/occupancy.ts';

/** Stored WiFi sightings of one mall, in columns, oldest first. */
export interface SightingColumns {
  heardAtMs: number[];
  sensorId: string[];
  device: string[];
  rssiDbm: number[];
  randomized: boolean[];
}

// Unnamed: planned for each window's bounds (a generic plan of a time range scan can pick the
// wrong index on a hypertable).
const WIFI_SQL = `SELECT (extract(epoch FROM time) * 1000)::float8 AS t, sensor_id, device, rssi_dbm, randomized
  FROM sightings
  WHERE mall_id = $1 AND kind = 'wifi' AND time >= to_timestamp($2::float8 / 1000) AND time < to_timestamp($3::float8 / 1000)
  ORDER BY time, device, sensor_id, rssi_dbm`;

/** WiFi sightings of `mallId` heard in [fromMs, toMs), in time order. */
export async function readWifiSightings(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
): Promise<SightingColumns> {
  const result = await client.query<{
    t: number;
    sensor_id: string;
    device: string;
    rssi_dbm: number;
    randomized: boolean;
  }>({ text: WIFI_SQL, values: [mallId, fromMs, toMs] });
  const out: SightingColumns = { heardAtMs: [], sensorId: [], device: [], rssiDbm: [], randomized: [] };
  for (const r of result.rows) {
    out.heardAtMs.push(Math.round(r.t));
    out.sensorId.push(r.sensor_id);
    out.device.push(r.device);
    out.rssiDbm.push(r.rssi_dbm);
    out.randomized.push(r.randomized);
  }
  return out;
}

/** The newest WiFi sighting of `mallId` heard at or after `fromMs` (ms), if any. */
export async function newestWifiSightingMs(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  fromMs: number,
): Promise<number | undefined> {
  const result = await client.query<{ t: number | null }>({
    text: `SELECT (extract(epoch FROM max(time)) * 1000)::float8 AS t FROM sightings
           WHERE mall_id = $1 AND kind = 'wifi' AND time >= to_timestamp($2::float8 / 1000)`,
    values: [mallId, fromMs],
  });
  const t = result.rows[0]?.t;
  return t === null || t === undefined ? undefined : Math.round(t);
}

/**
 * Hands stored sightings to the engine as the live worker does (a sensor the layout does not place
 * is skipped, as live); returns how many it took.
 */
export function addStoredSightings(
  state: OccupancyState,
  s: SightingColumns,
  sensorZone: ReadonlyMap<string, string>,
): number {
  let added = 0;
  for (let i = 0; i < s.heardAtMs.length; i++) {
    const zoneId = sensorZone.get(s.sensorId[i]!);
    if (zoneId === undefined) continue;
    addSighting(
      state,
      s.device[i]!,
      zoneId,
      s.rssiDbm[i]!,
      s.heardAtMs[i]!,
      s.randomized[i]!,
      s.sensorId[i]!,
    );
    added++;
  }
  return added;
}
