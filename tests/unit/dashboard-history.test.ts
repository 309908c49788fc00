import { describe, expect, it } from 'vitest';
import {
  addDays,
  dayBounds,
  daysInRange,
  listDays,
  localDateTime,
  zonedMidnightMs,
  zonedTimeToUtc,
} from '../../core/src/local-days.ts';
import { attachmentDisposition, chooseFormat, formatCsv } from '../../dashboard/src/history/csv.ts';
import { missingRuns } from '../../dashboard/src/history/daily-counts.ts';
import { compareKpis, dwellDistribution, toKpis } from '../../dashboard/src/history/kpis.ts';
import { checkRange, FlowsQuery, KpisQuery } from '../../dashboard/src/history/query-schemas.ts';
import type { KpiCounts } from '../../dashboard/src/sql/history-kpis.ts';

// The history API's pure parts: local days and DST, CSV (RFC 4180), content negotiation, KPI
// arithmetic and parameter rules.

const HOUR = 3_600_000;

describe('local days', () => {
  it('starts a day at local midnight', () => {
    expect(new Date(zonedMidnightMs('2026-11-18', 'Asia/Shanghai')).toISOString()).toBe(
      '2026-11-17T16:00:00.000Z',
    );
    expect(new Date(zonedMidnightMs('2026-11-18', 'UTC')).toISOString()).toBe('2026-11-18T00:00:00.000Z');
    expect(new Date(zonedMidnightMs('2026-11-18', 'Asia/Kolkata')).toISOString()).toBe(
      '2026-11-17T18:30:00.000Z',
    );
    expect(new Date(zonedMidnightMs('2026-07-01', 'America/New_York')).toISOString()).toBe(
      '2026-07-01T04:00:00.000Z',
    );
  });

  it('gives DST days 23 and 25 hours (Europe/Berlin, 2026)', () => {
    const hours = (date: string) => {
      const [d] = dayBounds(date, date, 'Europe/Berlin');
      return (d!.endMs - d!.startMs) / HOUR;
    };
    expect(hours('2026-03-29')).toBe(23);
    expect(hours('2026-10-25')).toBe(25);
    expect(hours('2026-10-26')).toBe(24);
  });

  it('starts a day whose midnight is skipped at its first instant (America/Santiago, 2026-09-06)', () => {
    // Clocks jump from 24:00 -04 to 01:00 -03: the day starts at 01:00 local, 04:00 UTC.
    expect(new Date(zonedMidnightMs('2026-09-06', 'America/Santiago')).toISOString()).toBe(
      '2026-09-06T04:00:00.000Z',
    );
    expect(localDateTime(zonedMidnightMs('2026-09-06', 'America/Santiago'), 'America/Santiago')).toEqual({
      date: '2026-09-06',
      time: '01:00',
    });
  });

  it('counts and lists calendar days', () => {
    expect(addDays('2026-02-27', 2)).toBe('2026-03-01');
    expect(addDays('2028-02-27', 2)).toBe('2028-02-29');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(daysInRange('2026-11-01', '2026-11-30')).toBe(30);
    expect(daysInRange('2026-11-02', '2026-11-01')).toBe(0);
    expect(listDays('2026-12-30', '2027-01-02')).toEqual([
      '2026-12-30',
      '2026-12-31',
      '2027-01-01',
      '2027-01-02',
    ]);
    const bounds = dayBounds('2026-10-24', '2026-10-26', 'Europe/Berlin');
    expect(bounds.map((b) => b.date)).toEqual(['2026-10-24', '2026-10-25', '2026-10-26']);
    expect(bounds[0]!.endMs).toBe(bounds[1]!.startMs);
    expect(bounds[1]!.endMs).toBe(bounds[2]!.startMs);
  });
});

describe('CSV', () => {
  it('writes RFC 4180: header, CRLF after every record, quotes only where needed', () => {
    expect(
      formatCsv(
        ['zone', 'name', 'devices', 'share'],
        [
          ['cafe', 'Cafe "Roma", ground floor', 12, 0.25],
          ['hall', 'Hall\nEast', 0, null],
          ['shoes', 'Shoes', -3, undefined],
        ],
      ),
    ).toBe(
      'zone,name,devices,share\r\n' +
        'cafe,"Cafe ""Roma"", ground floor",12,0.25\r\n' +
        'hall,"Hall\nEast",0,\r\n' +
        'shoes,Shoes,-3,\r\n',
    );
  });

  it('defuses text cells a spreadsheet would run as formulas, not negative numbers', () => {
    expect(formatCsv(['a', 'b', 'c'], [['=HYPERLINK("x")', '+1', -5]])).toBe(
      'a,b,c\r\n"\'=HYPERLINK(""x"")",\'+1,-5\r\n',
    );
    expect(formatCsv(['a'], [['@SUM(A1)'], ['-2']])).toBe("a\r\n'@SUM(A1)\r\n'-2\r\n");
  });

  it('names the download safely', () => {
    expect(attachmentDisposition('joy-city-kpis-day-2026-11-01-2026-11-30.csv')).toBe(
      'attachment; filename="joy-city-kpis-day-2026-11-01-2026-11-30.csv"',
    );
    expect(attachmentDisposition('a "b"/c.csv')).toBe('attachment; filename="a_b_c.csv"');
  });

  it('answers CSV for ?format=csv or an Accept header preferring text/csv, JSON otherwise', () => {
    expect(chooseFormat('csv', 'application/json')).toBe('csv');
    expect(chooseFormat('json', 'text/csv')).toBe('json');
    expect(chooseFormat(undefined, undefined)).toBe('json');
    expect(chooseFormat(undefined, '*/*')).toBe('json');
    expect(chooseFormat(undefined, 'text/csv')).toBe('csv');
    expect(chooseFormat(undefined, 'text/csv, */*;q=0.1')).toBe('csv');
    expect(chooseFormat(undefined, 'text/csv;q=0.5, application/json')).toBe('json');
    expect(chooseFormat(undefined, 'application/json;q=0.4, text/*')).toBe('csv');
    expect(chooseFormat(undefined, 'text/csv;q=0')).toBe('json');
    expect(chooseFormat(undefined, 'text/html,application/xhtml+xml,*/*;q=0.8')).toBe('json');
  });
});

const counts = (c: Partial<KpiCounts>): KpiCounts => ({
  visitors: 0,
  passersBy: 0,
  newVisitors: 0,
  visitorVisits: 0,
  visitorDwellMs: 0,
  dwellBuckets: [0, 0, 0, 0, 0],
  ...c,
  // Without rotating MACs in the counts, the interval is the count itself.
  visitorsLow: c.visitorsLow ?? c.visitors ?? 0,
  visitorsHigh: c.visitorsHigh ?? c.visitors ?? 0,
});

describe('KPIs', () => {
  it('derives capture rate, mean dwell and returning visitors', () => {
    expect(
      toKpis(
        counts({
          visitors: 5,
          visitorsLow: 4,
          visitorsHigh: 7,
          passersBy: 2,
          newVisitors: 2,
          visitorVisits: 6,
          visitorDwellMs: 38_340_000,
        }),
      ),
    ).toEqual({
      visitors: 5,
      visitorsLow: 4,
      visitorsHigh: 7,
      passersBy: 2,
      captureRate: 0.7143,
      avgDwellMs: 6_390_000,
      newVisitors: 2,
      returningVisitors: 3,
      visitorVisits: 6,
    });
    expect(toKpis(counts({}))).toMatchObject({ captureRate: null, avgDwellMs: null, returningVisitors: 0 });
    expect(toKpis(counts({ passersBy: 4 })).captureRate).toBe(0);
  });

  it('adds dwell buckets over days', () => {
    const d = dwellDistribution([
      counts({ dwellBuckets: [1, 0, 2, 2, 1] }),
      counts({ dwellBuckets: [0, 2, 1, 0, 0] }),
    ]);
    expect(d.visitorVisits).toBe(9);
    expect(d.buckets.map((b) => [b.bucket, b.visits, b.share])).toEqual([
      ['under_5m', 1, 0.1111],
      ['5m_20m', 2, 0.2222],
      ['20m_1h', 3, 0.3333],
      ['1h_6h', 2, 0.2222],
      ['6h_plus', 1, 0.1111],
    ]);
    expect(dwellDistribution([]).buckets.every((b) => b.share === null)).toBe(true);
  });

  it('compares two periods with absolute and % change', () => {
    const a = toKpis(counts({ visitors: 3, newVisitors: 1, visitorVisits: 3, visitorDwellMs: 2_100_000 }));
    const b = toKpis(
      counts({ visitors: 5, passersBy: 2, newVisitors: 2, visitorVisits: 6, visitorDwellMs: 38_340_000 }),
    );
    expect(compareKpis(a, b)).toEqual([
      { metric: 'visitors', period: 3, vsPeriod: 5, change: -2, changePct: -40 },
      { metric: 'visitorsLow', period: 3, vsPeriod: 5, change: -2, changePct: -40 },
      { metric: 'visitorsHigh', period: 3, vsPeriod: 5, change: -2, changePct: -40 },
      { metric: 'passersBy', period: 0, vsPeriod: 2, change: -2, changePct: -100 },
      { metric: 'captureRate', period: 1, vsPeriod: 0.7143, change: 0.2857, changePct: 40 },
      { metric: 'avgDwellMs', period: 700_000, vsPeriod: 6_390_000, change: -5_690_000, changePct: -89.05 },
      { metric: 'newVisitors', period: 1, vsPeriod: 2, change: -1, changePct: -50 },
      { metric: 'returningVisitors', period: 2, vsPeriod: 3, change: -1, changePct: -33.33 },
      { metric: 'visitorVisits', period: 3, vsPeriod: 6, change: -3, changePct: -50 },
    ]);
    const none = toKpis(counts({}));
    expect(compareKpis(a, none).find((m) => m.metric === 'visitors')).toEqual({
      metric: 'visitors',
      period: 3,
      vsPeriod: 0,
      change: 3,
      changePct: null,
    });
    expect(compareKpis(a, none).find((m) => m.metric === 'avgDwellMs')).toMatchObject({
      change: null,
      changePct: null,
    });
  });
});

describe('parameters', () => {
  it('names the parameter and the problem', () => {
    const issues = (schema: typeof KpisQuery | typeof FlowsQuery, q: unknown) => {
      const r = schema.safeParse(q);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues(KpisQuery, {})).toEqual(['from: is required', 'to: is required']);
    expect(issues(KpisQuery, { from: '2026-02-30', to: '2026-11-01', by: 'week' })).toEqual([
      'from: must be a date such as 2026-11-18',
      'by: must be "day" or "hour"',
    ]);
    expect(issues(FlowsQuery, { from: '2026-11-01', to: '2026-11-01', limit: '0' })).toEqual([
      'limit: must be a whole number from 1 to 500',
    ]);
    expect(issues(FlowsQuery, { from: '2026-11-01', to: '2026-11-01', limit: 'many' })).toEqual([
      'limit: must be a whole number from 1 to 500',
    ]);
    expect(FlowsQuery.parse({ from: '2026-11-01', to: '2026-11-01' }).limit).toBe(20);
  });

  it('accepts a range of up to 92 days', () => {
    expect(checkRange('2026-07-01', '2026-09-30', 92)).toBeUndefined();
    expect(checkRange('2026-07-01', '2026-10-01', 92)).toBe(
      'from, to: the range spans 93 days; at most 92 (2026-07-01 to 2026-09-30)',
    );
    expect(checkRange('2026-11-02', '2026-11-01', 92)).toBe('to: must not be before from (2026-11-02)');
    expect(checkRange('2026-11-02', '2026-11-01', 92, ['vsFrom', 'vsTo'])).toBe(
      'vsTo: must not be before vsFrom (2026-11-02)',
    );
  });

  it('splits missing days into runs of consecutive days', () => {
    expect(missingRuns([1, 2, 3, 4, 5, 6], (n) => n !== 3 && n !== 4)).toEqual([
      [1, 2],
      [5, 6],
    ]);
    expect(missingRuns([1, 2], () => false)).toEqual([]);
  });
});

describe('zonedTimeToUtc', () => {
  it('reads a wall-clock time with the offset in force then', () => {
    expect(zonedTimeToUtc('2026-11-18', '11:00', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 18, 3, 0));
    expect(zonedTimeToUtc('2026-07-01', '12:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 1, 10, 0));
    expect(zonedTimeToUtc('2026-12-01', '12:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 11, 1, 11, 0));
    expect(() => zonedTimeToUtc('not-a-date', '12:00', 'UTC')).toThrow(RangeError);
  });
});
