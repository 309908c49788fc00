import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Layout } from '../../../core/src/layout.ts';
import { dayBounds, localDateTime, zonedMidnightMs } from '../../../core/src/local-days.ts';
import { MallNotFoundError } from '../errors.ts';
import { attachmentDisposition, type CsvCell, chooseFormat, formatCsv } from '../history/csv.ts';
import { readDailyCounts } from '../history/daily-counts.ts';
import { historyDefinitions } from '../history/definitions.ts';
import { compareKpis, dwellDistribution, KPI_NAMES, type Kpis, toKpis } from '../history/kpis.ts';
import { parse, requireRange } from '../history/query-parse.ts';
import {
  CompareQuery,
  DwellQuery,
  FlowsQuery,
  HeatmapQuery,
  KpisQuery,
  MAX_HOURLY_RANGE_DAYS,
  MAX_RANGE_DAYS,
  TopStoresQuery,
} from '../history/query-schemas.ts';
import { readRecordedRules } from '../sql/engine-settings.ts';
import { readFlows } from '../sql/history-flows.ts';
import { readHeatmap } from '../sql/history-heatmap.ts';
import { type KpiScope, readKpiCounts, ZERO_COUNTS } from '../sql/history-kpis.ts';
import { readStaffCount } from '../sql/history-staff.ts';
import { readTopStores } from '../sql/history-top-stores.ts';
import type { MallEntry } from './api.ts';
import { registerAggregateRoutes } from './history-aggregates.ts';

// The history API (issue 5), under /api/malls/:mall/history/:
//   heatmap?date=&resolution=minute|hour          devices per zone per minute (or hour) of a local day
//   kpis?from=&to=&by=day|hour                    visitors, passers-by, capture rate, dwell, new/returning,
//                                                 staff devices apart
//   dwell?from=&to=                               visitor visits by dwell bucket
//   flows?from=&to=&limit=                        zone-to-zone transitions, busiest first
//   top-stores?from=&to=&by=visits|dwell&limit=   stores by stays or by median dwell
//   compare?from=&to=&vsFrom=&vsTo=               two periods' KPIs with absolute and % change
//   paths, frequency, peak-hours                  see history-aggregates.ts
// Dates are local calendar days (YYYY-MM-DD), ranges include both ends. Each answers JSON with
// the definitions of its figures, or CSV (RFC 4180, header row, as a download) for ?format=csv or
// an Accept header preferring text/csv. Bad parameters: 400 naming them; unknown mall: 404.

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export interface HistoryDeps {
  pool: pg.Pool;
  malls: ReadonlyMap<string, MallEntry>;
}

export type Request = FastifyRequest<{ Params: { mall: string }; Querystring: Record<string, unknown> }>;

export interface Csv {
  name: string;
  header: readonly string[];
  rows: Iterable<readonly CsvCell[]>;
}

function zonesOfKind(layout: Layout, kind: string): string[] {
  return layout.zones.filter((z) => z.kind === kind).map((z) => z.id);
}

function scopeOf(layout: Layout): KpiScope {
  return { mallId: layout.id, timeZone: layout.timezone };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The local wall-clock label of an instant: 'YYYY-MM-DD HH:MM'. */
function localLabel(ms: number, timeZone: string): string {
  const { date, time } = localDateTime(ms, timeZone);
  return `${date} ${time}`;
}

function kpiCells(k: Kpis): CsvCell[] {
  return KPI_NAMES.map((name) => k[name]);
}

const KPI_CSV_COLUMNS = [
  'visitors',
  'visitors_low',
  'visitors_high',
  'passers_by',
  'capture_rate',
  'avg_dwell_ms',
  'new_visitors',
  'returning_visitors',
  'visitor_visits',
];

export type Answer = (layout: Layout, request: Request) => Promise<{ json: object; csv: Csv }>;

export function registerHistoryRoutes(app: FastifyInstance, deps: HistoryDeps): void {
  const { pool, malls } = deps;

  /**
   * Registers GET /api/malls/:mall/history/{path}; `answer` returns the JSON body and its CSV. Every
   * JSON body carries the definitions, with the mall's recorded visitor rule.
   */
  function route(path: string, answer: Answer) {
    app.get(`/api/malls/:mall/history/${path}`, async (request: Request, reply: FastifyReply) => {
      const mall = malls.get(request.params.mall);
      if (!mall) throw new MallNotFoundError(request.params.mall);
      const { json, csv } = await answer(mall.layout, request);
      // `format` passed the endpoint's schema inside answer(): 'json', 'csv' or absent.
      const format = chooseFormat(request.query.format as 'json' | 'csv' | undefined, request.headers.accept);
      reply.header('vary', 'Accept');
      if (format === 'json') {
        return { ...json, definitions: historyDefinitions(await readRecordedRules(pool, mall.layout.id)) };
      }
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', attachmentDisposition(csv.name))
        .send(formatCsv(csv.header, csv.rows));
    });
  }

  route('heatmap', async (layout, request) => {
    const q = parse(HeatmapQuery, request.query);
    const tz = layout.timezone;
    const [day] = dayBounds(q.date, q.date, tz);
    const { startMs, endMs } = day!;
    const stepMs = q.resolution === 'minute' ? MINUTE_MS : HOUR_MS;
    const columns = Math.round((endMs - startMs) / stepMs);
    const cells = await readHeatmap(pool, layout.id, startMs, endMs, q.resolution, columns);
    const empty = () => new Array<number | null>(columns).fill(null);
    const zones = layout.zones.map((zone) => ({
      zoneId: zone.id,
      name: zone.name,
      kind: zone.kind,
      floor: zone.floor,
      capacity: zone.capacity,
      devices: cells.devices.get(zone.id) ?? empty(),
      ...(cells.peakDevices ? { peakDevices: cells.peakDevices.get(zone.id) ?? empty() } : {}),
    }));
    const json = {
      mallId: layout.id,
      timeZone: tz,
      date: q.date,
      resolution: q.resolution,
      startAt: iso(startMs),
      endAt: iso(endMs),
      /** Column i covers [startAt + i x columnMinutes, + columnMinutes). */
      columnMinutes: stepMs / MINUTE_MS,
      columns,
      zones,
    };
    const hour = q.resolution === 'hour';
    function* rows(): Generator<CsvCell[]> {
      for (const z of zones) {
        for (let i = 0; i < columns; i++) {
          const devices = z.devices[i];
          if (devices === null || devices === undefined) continue;
          const at = startMs + i * stepMs;
          const row: CsvCell[] = [z.zoneId, z.name, z.kind, iso(at), localLabel(at, tz), devices];
          if (hour) row.push(z.peakDevices?.[i] ?? null);
          yield row;
        }
      }
    }
    return {
      json,
      csv: {
        name: `${layout.id}-heatmap-${q.date}${hour ? '-hourly' : ''}.csv`,
        header: [
          'zone_id',
          'zone_name',
          'zone_kind',
          'start_at',
          'local_time',
          'devices',
          ...(hour ? ['peak_devices'] : []),
        ],
        rows: rows(),
      },
    };
  });

  route('kpis', async (layout, request) => {
    const q = parse(KpisQuery, request.query);
    requireRange(q.from, q.to, q.by === 'hour' ? MAX_HOURLY_RANGE_DAYS : MAX_RANGE_DAYS);
    const scope = scopeOf(layout);
    const tz = layout.timezone;
    let rows: ({ period: string; startAt: string; endAt: string; source: 'rollup' | 'live' } & Kpis)[];
    if (q.by === 'day') {
      rows = (await readDailyCounts(pool, scope, q.from, q.to)).map((d) => ({
        period: d.date,
        startAt: iso(d.startMs),
        endAt: iso(d.endMs),
        ...toKpis(d.counts),
        source: d.source,
      }));
    } else {
      const days = dayBounds(q.from, q.to, tz);
      const startMs = days[0]!.startMs;
      const endMs = days[days.length - 1]!.endMs;
      const counted = new Map(
        (await readKpiCounts(pool, scope, startMs, endMs, 'hour')).map((r) => [r.startMs, r] as const),
      );
      rows = [];
      for (const day of days) {
        // Hours in elapsed time from local midnight: 23 or 25 on a day with a DST change.
        for (let at = day.startMs; at < day.endMs; at += HOUR_MS) {
          rows.push({
            period: localLabel(at, tz),
            startAt: iso(at),
            endAt: iso(Math.min(at + HOUR_MS, day.endMs)),
            ...toKpis(counted.get(at) ?? ZERO_COUNTS),
            source: 'live',
          });
        }
      }
    }
    const [first] = dayBounds(q.from, q.from, tz);
    const [last] = dayBounds(q.to, q.to, tz);
    const staff = await readStaffCount(pool, layout.id, first!.startMs, last!.endMs);
    return {
      json: {
        mallId: layout.id,
        timeZone: tz,
        from: q.from,
        to: q.to,
        by: q.by,
        staff,
        rows,
      },
      csv: {
        name: `${layout.id}-kpis-${q.by}-${q.from}-${q.to}.csv`,
        header: [q.by === 'day' ? 'date' : 'local_hour', 'start_at', 'end_at', ...KPI_CSV_COLUMNS, 'source'],
        rows: rows.map((r) => [r.period, r.startAt, r.endAt, ...kpiCells(r), r.source]),
      },
    };
  });

  route('dwell', async (layout, request) => {
    const q = parse(DwellQuery, request.query);
    requireRange(q.from, q.to, MAX_RANGE_DAYS);
    const days = await readDailyCounts(pool, scopeOf(layout), q.from, q.to);
    const { visitorVisits, buckets } = dwellDistribution(days.map((d) => d.counts));
    const json = {
      mallId: layout.id,
      timeZone: layout.timezone,
      from: q.from,
      to: q.to,
      visitorVisits,
      buckets,
      days: {
        rollup: days.filter((d) => d.source === 'rollup').length,
        live: days.filter((d) => d.source === 'live').length,
      },
    };
    return {
      json,
      csv: {
        name: `${layout.id}-dwell-${q.from}-${q.to}.csv`,
        header: ['bucket', 'label', 'min_ms', 'max_ms', 'visits', 'share'],
        rows: buckets.map((b) => [b.bucket, b.label, b.minMs, b.maxMs, b.visits, b.share]),
      },
    };
  });

  route('flows', async (layout, request) => {
    const q = parse(FlowsQuery, request.query);
    requireRange(q.from, q.to, MAX_RANGE_DAYS);
    const startMs = zonedMidnightMs(q.from, layout.timezone);
    const [last] = dayBounds(q.to, q.to, layout.timezone);
    const flows = await readFlows(pool, layout.id, startMs, last!.endMs, q.limit);
    const nameOf = (id: string) => layout.zoneById.get(id)?.name ?? null;
    const rows = flows.rows.map((f) => ({
      fromZoneId: f.fromZoneId,
      fromZoneName: nameOf(f.fromZoneId),
      toZoneId: f.toZoneId,
      toZoneName: nameOf(f.toZoneId),
      transitions: f.transitions,
      share:
        flows.totalTransitions === 0
          ? null
          : Math.round((f.transitions / flows.totalTransitions) * 10_000) / 10_000,
    }));
    return {
      json: {
        mallId: layout.id,
        timeZone: layout.timezone,
        from: q.from,
        to: q.to,
        totalTransitions: flows.totalTransitions,
        totalPairs: flows.totalPairs,
        rows,
      },
      csv: {
        name: `${layout.id}-flows-${q.from}-${q.to}.csv`,
        header: ['from_zone_id', 'from_zone_name', 'to_zone_id', 'to_zone_name', 'transitions', 'share'],
        rows: rows.map((r) => [
          r.fromZoneId,
          r.fromZoneName,
          r.toZoneId,
          r.toZoneName,
          r.transitions,
          r.share,
        ]),
      },
    };
  });

  route('top-stores', async (layout, request) => {
    const q = parse(TopStoresQuery, request.query);
    requireRange(q.from, q.to, MAX_RANGE_DAYS);
    const startMs = zonedMidnightMs(q.from, layout.timezone);
    const [last] = dayBounds(q.to, q.to, layout.timezone);
    const top = await readTopStores(
      pool,
      layout.id,
      zonesOfKind(layout, 'store'),
      startMs,
      last!.endMs,
      q.by,
      q.limit,
    );
    const rows = top.rows.map((s, i) => {
      const zone = layout.zoneById.get(s.zoneId);
      return {
        rank: i + 1,
        zoneId: s.zoneId,
        name: zone?.name ?? s.zoneId,
        category: zone?.category ?? null,
        floor: zone?.floor ?? null,
        stays: s.stays,
        devices: s.devices,
        medianDwellMs: s.medianDwellMs,
        meanDwellMs: s.meanDwellMs,
        meanConfidence: s.meanConfidence,
      };
    });
    return {
      json: {
        mallId: layout.id,
        timeZone: layout.timezone,
        from: q.from,
        to: q.to,
        by: q.by,
        storesWithStays: top.storesWithStays,
        rows,
      },
      csv: {
        name: `${layout.id}-top-stores-${q.by}-${q.from}-${q.to}.csv`,
        header: [
          'rank',
          'zone_id',
          'name',
          'category',
          'floor',
          'stays',
          'devices',
          'median_dwell_ms',
          'mean_dwell_ms',
          'mean_confidence',
        ],
        rows: rows.map((r) => [
          r.rank,
          r.zoneId,
          r.name,
          r.category,
          r.floor,
          r.stays,
          r.devices,
          r.medianDwellMs,
          r.meanDwellMs,
          r.meanConfidence,
        ]),
      },
    };
  });

  registerAggregateRoutes(route, pool);

  route('compare', async (layout, request) => {
    const q = parse(CompareQuery, request.query);
    requireRange(q.from, q.to, MAX_RANGE_DAYS);
    requireRange(q.vsFrom, q.vsTo, MAX_RANGE_DAYS, ['vsFrom', 'vsTo']);
    const scope = scopeOf(layout);
    const periodOf = async (from: string, to: string) => {
      const startMs = zonedMidnightMs(from, layout.timezone);
      const [last] = dayBounds(to, to, layout.timezone);
      const endMs = last!.endMs;
      const [counts] = await readKpiCounts(pool, scope, startMs, endMs, 'period');
      return { from, to, startAt: iso(startMs), endAt: iso(endMs), kpis: toKpis(counts ?? ZERO_COUNTS) };
    };
    const period = await periodOf(q.from, q.to);
    const vsPeriod = await periodOf(q.vsFrom, q.vsTo);
    const metrics = compareKpis(period.kpis, vsPeriod.kpis);
    return {
      json: {
        mallId: layout.id,
        timeZone: layout.timezone,
        period,
        vsPeriod,
        metrics,
      },
      csv: {
        name: `${layout.id}-compare-${q.from}-${q.to}-vs-${q.vsFrom}-${q.vsTo}.csv`,
        header: ['metric', 'period', 'vs_period', 'change', 'change_pct'],
        rows: metrics.map((m) => [m.metric, m.period, m.vsPeriod, m.change, m.changePct]),
      },
    };
  });
}
