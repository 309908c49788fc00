import type pg from 'pg';
import { dayBounds } from '../../../core/src/local-days.ts';
import type { KpiScope } from '../sql/history-kpis.ts';
import {
  type PathRow,
  type Paths,
  rankPaths,
  readPathCountsLive,
  readRolledPathDays,
} from '../sql/history-paths.ts';
import { missingRuns } from './daily-counts.ts';

// A range's top paths: the days the analytics worker rolled up (path_daily) and the others
// counted live (one query per run of consecutive missing days), summed and ranked together.

export async function readPaths(
  pool: pg.Pool,
  scope: KpiScope,
  pathZoneIds: readonly string[],
  from: string,
  to: string,
  limit: number,
): Promise<Paths & { rolledUpDays: number }> {
  const days = dayBounds(from, to, scope.timeZone);
  const rolled = await readRolledPathDays(pool, scope.mallId, from, to, scope.timeZone);
  const rolledDays = new Set(rolled.days);
  const live: PathRow[] = [];
  let visitorVisits = rolled.visitorVisits;
  for (const run of missingRuns(days, (d) => !rolledDays.has(d.date))) {
    const startMs = run[0]!.startMs;
    const endMs = run[run.length - 1]!.endMs;
    const counted = await readPathCountsLive(pool, scope.mallId, pathZoneIds, startMs, endMs);
    live.push(...counted.paths);
    visitorVisits += counted.visitorVisits;
  }
  const ranked = await rankPaths(pool, scope.mallId, rolled.days, live, visitorVisits, limit);
  return { ...ranked, rolledUpDays: rolled.days.length };
}
