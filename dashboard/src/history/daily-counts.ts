import type pg from 'pg';
import { dayBounds } from '../../../core/src/local-days.ts';
import {
  type KpiCounts,
  type KpiScope,
  readDailyRollup,
  readKpiCounts,
  ZERO_COUNTS,
} from '../sql/history-kpis.ts';

// A range's counts day by day: from the daily rollup where the analytics worker wrote the day
// (in this time zone), counted live from the base tables for the other days (today, days the
// rollup has not reached yet), one query per run of consecutive missing days.

export type DaySource = 'rollup' | 'live';

export interface DayCounts {
  date: string;
  startMs: number;
  endMs: number;
  counts: KpiCounts;
  source: DaySource;
}

/** Splits items into runs of consecutive indexes where `missing` holds. Pure. */
export function missingRuns<T>(items: readonly T[], missing: (item: T) => boolean): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  for (const item of items) {
    if (missing(item)) run.push(item);
    else if (run.length > 0) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

export async function readDailyCounts(
  pool: pg.Pool,
  scope: KpiScope,
  from: string,
  to: string,
): Promise<DayCounts[]> {
  const days = dayBounds(from, to, scope.timeZone);
  const rolled = await readDailyRollup(pool, scope.mallId, from, to, scope.timeZone);
  const live = new Map<string, KpiCounts>();
  for (const run of missingRuns(days, (d) => !rolled.has(d.date))) {
    const first = run[0]!;
    const last = run[run.length - 1]!;
    for (const row of await readKpiCounts(pool, scope, first.startMs, last.endMs, 'day')) {
      live.set(row.localStart.slice(0, 10), row);
    }
  }
  return days.map((d) => {
    const fromRollup = rolled.get(d.date);
    return fromRollup
      ? { ...d, counts: fromRollup, source: 'rollup' }
      : { ...d, counts: live.get(d.date) ?? ZERO_COUNTS, source: 'live' };
  });
}
