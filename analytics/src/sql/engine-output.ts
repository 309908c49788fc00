import type pg from 'pg';
import type { MinuteRow } from '../../../core/src/occupancy.ts';
import type { Visit, ZoneStay } from '../../../core/src/sessions.ts';
import { upsertOccupancyMinutes } from './upsert-occupancy.ts';
import { upsertVisits, upsertZoneStays } from './upsert-sessions.ts';

/** What the engine closed: minute rows, zone stays and visits (idempotent upserts: safe to write again). */
export async function writeEngineOutput(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  rows: readonly MinuteRow[],
  closed: { stays: readonly ZoneStay[]; visits: readonly Visit[] },
): Promise<void> {
  await upsertOccupancyMinutes(client, mallId, rows);
  await upsertZoneStays(client, mallId, closed.stays);
  await upsertVisits(client, mallId, closed.visits);
}
