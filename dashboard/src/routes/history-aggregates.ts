import type pg from 'pg';
import type { Layout } from '../../../core/src/layout.ts';
import { dayBounds, listDays } from '../../../core/src/local-days.ts';
import { storeZoneIds } from '../../../core/src/path-zones.ts';
import { readHourlyCounts } from '../history/hourly-counts.ts';
import { readPaths } from '../history/path-counts.ts';
import { peakHours } from '../history/peak-hours.ts';
import { parse, requireRange } from '../history/query-parse.ts';
import { FrequencyQuery, MAX_RANGE_DAYS, PathsQuery, PeakHoursQuery } from '../history/query-schemas.ts';
import { FREQUENCY_BUCKETS, readVisitFrequency } from '../sql/history-frequency.ts';
import type { Answer } from './history.ts';

// The history aggregates (issue 4), under /api/malls/:mall/history/, JSON with definitions or CSV:
//   paths?from=&to=&limit=      the most common store sequences of visitor visits, with counts and share
//   frequency?from=&to=         devices by visitor visits in the range: 1, 2, 3-4, 5+ (new among them)
//   peak-hours?from=&to=        per hour of the day: mean visitors and occupancy; each day's peak hour

const share = (n: number, total: number) => (total === 0 ? null : Math.round((n / total) * 10_000) / 10_000);

function rangeOf(layout: Layout, from: string, to: string) {
  const [first] = dayBounds(from, from, layout.timezone);
  const [last] = dayBounds(to, to, layout.timezone);
  return { startMs: first!.startMs, endMs: last!.endMs };
}

export function registerAggregateRoutes(route: (path: string, answer: Answer) => void, pool: pg.Pool): void {
  route('paths', async (layout, request) => {
    const q = parse(PathsQuery, request.query);
    requireRange(q.from, q.to, MAX_RANGE_DAYS);
    const scope = { mallId: layout.id, timeZone: layout.timezone };
    const paths = await readPaths(pool, scope, storeZoneIds(layout), q.from, q.to, q.limit);
    const nameOf = (id: string) => layout.zoneById.get(id)?.name ?? id;
    const rows = paths.rows.map((p, i) => ({
      rank: i + 1,
      zoneIds: p.zoneIds,
      names: p.zoneIds.map(nameOf),
      stops: p.zoneIds.length,
      visits: p.visits,
      share: share(p.visits, paths.visitsWithPath),
    }));
    return {
      json: {
        mallId: layout.id,
        timeZone: layout.timezone,
        from: q.from,
        to: q.to,
        visitorVisits: paths.visitorVisits,
        visitsWithPath: paths.visitsWithPath,
        distinctPaths: paths.distinctPaths,
        rolledUpDays: paths.rolledUpDays,
        rows,
      },
      csv: {
        name: `${layout.id}-paths-${q.from}-${q.to}.csv`,
        header: ['rank', 'path', 'path_names', 'stops', 'visits', 'share'],
        rows: rows.map((r) => [
          r.rank,
          r.zoneIds.join(' > '),
          r.names.join(' > '),
          r.stops,
          r.visits,
          r.share,
        ]),
      },
    };
  });

  route('frequency', async (layout, request) => {
    const q = parse(FrequencyQuery, request.query);
    requireRange(q.from, q.to, MAX_RANGE_DAYS);
    const { startMs, endMs } = rangeOf(layout, q.from, q.to);
    const counts = await readVisitFrequency(pool, layout.id, startMs, endMs);
    const devices = counts.devices.reduce((a, b) => a + b, 0);
    const buckets = FREQUENCY_BUCKETS.map((b, i) => ({
      ...b,
      devices: counts.devices[i]!,
      share: share(counts.devices[i]!, devices),
      newDevices: counts.newDevices[i]!,
      returningDevices: counts.devices[i]! - counts.newDevices[i]!,
      visits: counts.visits[i]!,
    }));
    return {
      json: { mallId: layout.id, timeZone: layout.timezone, from: q.from, to: q.to, devices, buckets },
      csv: {
        name: `${layout.id}-frequency-${q.from}-${q.to}.csv`,
        header: [
          'bucket',
          'min_visits',
          'max_visits',
          'devices',
          'share',
          'new_devices',
          'returning_devices',
          'visits',
        ],
        rows: buckets.map((b) => [
          b.bucket,
          b.minVisits,
          b.maxVisits,
          b.devices,
          b.share,
          b.newDevices,
          b.returningDevices,
          b.visits,
        ]),
      },
    };
  });

  route('peak-hours', async (layout, request) => {
    const q = parse(PeakHoursQuery, request.query);
    requireRange(q.from, q.to, MAX_RANGE_DAYS);
    const tz = layout.timezone;
    const counts = await readHourlyCounts(pool, { mallId: layout.id, timeZone: tz }, q.from, q.to);
    const dates = listDays(q.from, q.to);
    const { hours, days } = peakHours(dates, counts.visitors, counts.occupancy);
    return {
      json: {
        mallId: layout.id,
        timeZone: tz,
        from: q.from,
        to: q.to,
        days: dates.length,
        rolledUpDays: counts.rolledUpDays,
        hours,
        peaks: days,
      },
      csv: {
        name: `${layout.id}-peak-hours-${q.from}-${q.to}.csv`,
        header: ['hour', 'avg_visitors', 'avg_occupancy'],
        rows: hours.map((h) => [h.hour, h.avgVisitors, h.avgOccupancy]),
      },
    };
  });
}
