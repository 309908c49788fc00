import type pg from 'pg';
import { dayBounds } from '../../../core/src/local-days.ts';
import type { KpiScope } from '../sql/history-kpis.ts';
import {
  type ByDayHour,
  readHourlyOccupancy,
  readHourlyRollup,
  readHourlyVisitors,
} from '../sql/history-peak-hours.ts';
import { missingRuns } from './daily-counts.ts';

// A range's visitors and occupancy per local day and hour of the day: from the daily rollup where
// the analytics worker wrote the day with its hours, counted live for the other days (one query
// pair per run of consecutive missing days), as the daily KPIs are (daily-counts.ts).

export async function readHourlyCounts(
  pool: pg.Pool,
  scope: KpiScope,
  from: string,
  to: string,
): Promise<{ visitors: ByDayHour; occupancy: ByDayHour; rolledUpDays: number }> {
  const days = dayBounds(from, to, scope.timeZone);
  const { visitors, occupancy } = await readHourlyRollup(pool, scope.mallId, from, to, scope.timeZone);
  const rolledUpDays = visitors.size;
  for (const run of missingRuns(days, (d) => !visitors.has(d.date))) {
    const startMs = run[0]!.startMs;
    const endMs = run[run.length - 1]!.endMs;
    const live = await readHourlyVisitors(pool, scope.mallId, startMs, endMs, scope.timeZone);
    const liveOccupancy = await readHourlyOccupancy(pool, scope.mallId, startMs, endMs, scope.timeZone);
    for (const d of run) {
      visitors.set(d.date, live.get(d.date) ?? new Map());
      occupancy.set(d.date, liveOccupancy.get(d.date) ?? new Map());
    }
  }
  return { visitors, occupancy, rolledUpDays };
}
