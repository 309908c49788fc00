import type { KpiCounts } from '../sql/history-kpis.ts';

// The history API's KPIs from raw counts, the dwell distribution and the comparison of two
// periods. Pure: counts in, figures out. Ratios are rounded to 4 decimals, milliseconds to whole ones.

export interface Kpis {
  visitors: number;
  /** The interval rotating MACs leave around `visitors` (see the definitions). */
  visitorsLow: number;
  visitorsHigh: number;
  passersBy: number;
  /** visitors / (visitors + passersBy); null when both are 0. */
  captureRate: number | null;
  /** Mean dwell of the visitor visits; null without any. */
  avgDwellMs: number | null;
  newVisitors: number;
  returningVisitors: number;
  visitorVisits: number;
}

export const KPI_NAMES = [
  'visitors',
  'visitorsLow',
  'visitorsHigh',
  'passersBy',
  'captureRate',
  'avgDwellMs',
  'newVisitors',
  'returningVisitors',
  'visitorVisits',
] as const satisfies readonly (keyof Kpis)[];

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

export function toKpis(c: KpiCounts): Kpis {
  const seen = c.visitors + c.passersBy;
  return {
    visitors: c.visitors,
    visitorsLow: c.visitorsLow,
    visitorsHigh: c.visitorsHigh,
    passersBy: c.passersBy,
    captureRate: seen === 0 ? null : round4(c.visitors / seen),
    avgDwellMs: c.visitorVisits === 0 ? null : Math.round(c.visitorDwellMs / c.visitorVisits),
    newVisitors: c.newVisitors,
    returningVisitors: c.visitors - c.newVisitors,
    visitorVisits: c.visitorVisits,
  };
}

export const DWELL_BUCKETS = [
  { bucket: 'under_5m', label: '< 5 min', minMs: 0, maxMs: 300_000 },
  { bucket: '5m_20m', label: '5–20 min', minMs: 300_000, maxMs: 1_200_000 },
  { bucket: '20m_1h', label: '20–60 min', minMs: 1_200_000, maxMs: 3_600_000 },
  { bucket: '1h_6h', label: '1–6 h', minMs: 3_600_000, maxMs: 21_600_000 },
  { bucket: '6h_plus', label: '6 h+', minMs: 21_600_000, maxMs: null },
] as const;

export interface DwellBucketRow {
  bucket: (typeof DWELL_BUCKETS)[number]['bucket'];
  label: string;
  /** Lower bound included, upper bound excluded (null: none). */
  minMs: number;
  maxMs: number | null;
  visits: number;
  /** Share of the visitor visits; null without any. */
  share: number | null;
}

/** Visitor visits by dwell bucket, summed over days (visit counts add up across days). */
export function dwellDistribution(days: Iterable<KpiCounts>): {
  visitorVisits: number;
  buckets: DwellBucketRow[];
} {
  const sums = [0, 0, 0, 0, 0];
  for (const c of days) for (let i = 0; i < sums.length; i++) sums[i]! += c.dwellBuckets[i] ?? 0;
  const total = sums.reduce((a, b) => a + b, 0);
  return {
    visitorVisits: total,
    buckets: DWELL_BUCKETS.map((b, i) => ({
      ...b,
      visits: sums[i]!,
      share: total === 0 ? null : round4(sums[i]! / total),
    })),
  };
}

export interface MetricChange {
  metric: (typeof KPI_NAMES)[number];
  period: number | null;
  vsPeriod: number | null;
  /** period - vsPeriod (for captureRate: in rate units, 0.05 = 5 points); null if either is null. */
  change: number | null;
  /** change / vsPeriod x 100, 2 decimals; null when vsPeriod is 0 or null. */
  changePct: number | null;
}

export function compareKpis(period: Kpis, vsPeriod: Kpis): MetricChange[] {
  return KPI_NAMES.map((metric) => {
    const a = period[metric];
    const b = vsPeriod[metric];
    const change = a === null || b === null ? null : metric === 'captureRate' ? round4(a - b) : a - b;
    const changePct =
      change === null || b === null || b === 0 ? null : Math.round((change / b) * 10_000) / 100;
    return { metric, period: a, vsPeriod: b, change, changePct };
  });
}
