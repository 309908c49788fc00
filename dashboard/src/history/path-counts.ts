import type pg from 'pg';
import { dayBounds } from '../../../core/src/local-days.ts';
import type { KpiScope } from '../sql/history-kpis.ts';
import {
  type PathCounts,
  type Paths,
  rankPaths,
  readPathCountsLive,
  readPathRollup,
} from '../sql/history-paths.ts';
import { missingRuns } from './daily-counts.ts';

// A range's top paths: the days the analytics worker rolled up (path_daily) summed, the others
// counted live, one query per run of consecutive missing days, as the daily KPIs are.

export async function readPaths(
  pool: pg.Pool,
  scope: KpiScope,
  pathZoneIds: readonly string[],
  from: string,
  to: string,
  limit: number,
): Promise<Paths & { rolledUpDays: number }> {
  const days = dayBounds(from, to, scope.timeZone);
  const rolled = await readPathRollup(pool, scope.mallId, from, to, scope.timeZone);
  const parts: PathCounts[] = [rolled];
  for (const run of missingRuns(days, (d) => !rolled.days.has(d.date))) {
    const startMs = run[0]!.startMs;
    const endMs = run[run.length - 1]!.endMs;
    parts.push(await readPathCountsLive(pool, scope.mallId, pathZoneIds, startMs, endMs));
  }
  return { ...rankPaths(parts, limit), rolledUpDays: rolled.days.size };
}
