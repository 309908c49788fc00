import type pg from 'pg';
import type { ScaleReading } from '../../../core/src/messages.ts';

export async function insertScaleReadings(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  gatewayId: string,
  readings: readonly ScaleReading[],
): Promise<void> {
  await client.query({
    name: 'insert-scale-readings',
    text: `INSERT INTO scale_readings (time, mall_id, gateway_id, sensor_id, member_id, weight_kg, impedance_ohm, body_fat_pct)
           SELECT to_timestamp(t / 1000), $1, $2, s, m, w, i, f
           FROM unnest($3::double precision[], $4::text[], $5::text[], $6::real[], $7::real[], $8::real[]) AS u(t, s, m, w, i, f)`,
    values: [
      mallId,
      gatewayId,
      readings.map((r) => r.measuredAt),
      readings.map((r) => r.sensorId),
      readings.map((r) => r.memberId ?? null),
      readings.map((r) => r.weightKg),
      readings.map((r) => r.impedanceOhm ?? null),
      readings.map((r) => r.bodyFatPct ?? null),
    ],
  });
}
