import type pg from 'pg';
import type { LiveRow } from '../occupancy-frame.ts';

// The dashboard's reads. Each is one short statement: the embedded database serves one
// connection, shared with the writers, so nothing here holds it longer than a query.

const LIVE_SQL = 'SELECT zone_id, devices, confidence, as_of FROM occupancy_live WHERE mall_id = $1';

export async function readLiveOccupancy(pool: pg.Pool, mallId: string): Promise<LiveRow[]> {
  const result = await pool.query<{
    zone_id: string;
    devices: number;
    confidence: number | null;
    as_of: Date;
  }>({
    name: 'dashboard_occupancy_live',
    text: LIVE_SQL,
    values: [mallId],
  });
  return result.rows.map((r) => ({
    zoneId: r.zone_id,
    devices: r.devices,
    confidence: r.confidence,
    asOfMs: r.as_of.getTime(),
  }));
}

export interface MinuteRow {
  /** Start of the minute, ISO 8601. */
  bucket: string;
  zoneId: string;
  devices: number;
}

const MINUTES_SQL = `SELECT bucket, zone_id, devices FROM occupancy_minute
  WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3 AND ($4::text IS NULL OR zone_id = $4)
  ORDER BY bucket, zone_id`;

/** Minutes with `fromMs <= bucket < toMs`, optionally of one zone, oldest first. */
export async function readMinuteOccupancy(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
  zoneId: string | undefined,
): Promise<MinuteRow[]> {
  const result = await pool.query<{ bucket: Date; zone_id: string; devices: number }>({
    name: 'dashboard_occupancy_minutes',
    text: MINUTES_SQL,
    values: [mallId, new Date(fromMs), new Date(toMs), zoneId ?? null],
  });
  return result.rows.map((r) => ({ bucket: r.bucket.toISOString(), zoneId: r.zone_id, devices: r.devices }));
}

export async function pingDb(pool: pg.Pool): Promise<void> {
  await pool.query('SELECT 1');
}
