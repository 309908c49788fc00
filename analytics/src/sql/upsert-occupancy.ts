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

/** The live snapshot the dashboard pushes: one row per zone of the mall. */
export async function upsertOccupancyLive(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  zoneIds: readonly string[],
  devices: readonly number[],
  asOfMs: number,
) {
  await client.query({
    name: 'upsert-occupancy-live',
    text: `INSERT INTO occupancy_live (mall_id, zone_id, devices, as_of)
           SELECT $1, z, d, to_timestamp($4::double precision / 1000) FROM unnest($2::text[], $3::int[]) AS u(z, d)
           ON CONFLICT (mall_id, zone_id) DO UPDATE SET devices = EXCLUDED.devices, as_of = EXCLUDED.as_of`,
    values: [mallId, zoneIds, devices, asOfMs],
  });
}
