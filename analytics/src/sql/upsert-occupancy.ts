import type pg from 'pg';
import type { MinuteRow } from '../../../core/src/occupancy.ts';

/** Closed minutes; a minute written again (worker restart, recompute) replaces the old value. */
export async function upsertOccupancyMinutes(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  rows: readonly MinuteRow[],
) {
  if (rows.length === 0) return;
  await client.query({
    name: 'upsert-occupancy-minute',
    text: `INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices)
           SELECT to_timestamp(b / 1000), $1, z, d FROM unnest($2::double precision[], $3::text[], $4::int[]) AS u(b, z, d)
           ON CONFLICT (mall_id, zone_id, bucket) DO UPDATE SET devices = EXCLUDED.devices`,
    values: [mallId, rows.map((r) => r.bucketMs), rows.map((r) => r.zoneId), rows.map((r) => r.devices)],
  });
}

/**
 * The live snapshot the dashboard pushes: one row per zone of the mall, with the mean confidence
 * of its devices' zone estimates (null: nobody there, or not known).
 */
export async function upsertOccupancyLive(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  zoneIds: readonly string[],
  devices: readonly number[],
  confidence: readonly (number | null)[],
  asOfMs: number,
) {
  await client.query({
    name: 'upsert-occupancy-live',
    text: `INSERT INTO occupancy_live (mall_id, zone_id, devices, confidence, as_of)
           SELECT $1, z, d, c, to_timestamp($5::double precision / 1000)
           FROM unnest($2::text[], $3::int[], $4::real[]) AS u(z, d, c)
           ON CONFLICT (mall_id, zone_id) DO UPDATE
             SET devices = EXCLUDED.devices, confidence = EXCLUDED.confidence, as_of = EXCLUDED.as_of`,
    values: [mallId, zoneIds, devices, confidence, asOfMs],
  });
}
