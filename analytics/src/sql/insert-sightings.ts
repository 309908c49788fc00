import type pg from 'pg';
import type { BleReading, WifiReading } from '../../../core/src/messages.ts';

/** Columnar arrays for one multi-row insert; the shell fills them without per-row objects. */
export interface SightingColumns {
  timeMs: number[];
  sensorId: string[];
  device: string[];
  rssiDbm: number[];
  randomized: boolean[];
  frameSeq: (number | null)[];
  ieFingerprint: (string | null)[];
}

export function toSightingColumns(readings: readonly (WifiReading | BleReading)[]): SightingColumns {
  const n = readings.length;
  const cols: SightingColumns = {
    timeMs: new Array(n),
    sensorId: new Array(n),
    device: new Array(n),
    rssiDbm: new Array(n),
    randomized: new Array(n),
    frameSeq: new Array(n),
    ieFingerprint: new Array(n),
  };
  for (let i = 0; i < n; i++) {
    const r = readings[i]!;
    cols.timeMs[i] = r.heardAt;
    cols.sensorId[i] = r.sensorId;
    cols.device[i] = r.device;
    cols.rssiDbm[i] = r.rssiDbm;
    cols.randomized[i] = r.randomized;
    cols.frameSeq[i] = 'frameSeq' in r ? (r.frameSeq ?? null) : null;
    cols.ieFingerprint[i] = 'ieFingerprint' in r ? (r.ieFingerprint ?? null) : null;
  }
  return cols;
}

export const INSERT_SIGHTINGS_SQL = `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized, frame_seq, ie_fingerprint)
  SELECT to_timestamp(t / 1000), $1, $2, s, $3, d, r, z, q, f
  FROM unnest($4::double precision[], $5::text[], $6::text[], $7::smallint[], $8::boolean[], $9::smallint[], $10::text[]) AS u(t, s, d, r, z, q, f)`;

export async function insertSightings(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  gatewayId: string,
  kind: 'wifi' | 'ble',
  cols: SightingColumns,
): Promise<void> {
  await client.query({
    name: 'insert-sightings',
    text: INSERT_SIGHTINGS_SQL,
    values: [
      mallId,
      gatewayId,
      kind,
      cols.timeMs,
      cols.sensorId,
      cols.device,
      cols.rssiDbm,
      cols.randomized,
      cols.frameSeq,
      cols.ieFingerprint,
    ],
  });
}
