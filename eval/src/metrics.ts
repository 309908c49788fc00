import type { Layout } from '../../core/src/layout.ts';
import { estimateVisitors } from '../../core/src/sessions.ts';
import {
  type GroundTruth,
  truthOccupancyPerMinute,
  truthPersonsPerDay,
  truthTransitions,
} from '../../simulators/src/ground-truth.ts';

// Scoring analytics against the simulator's ground truth. Pure: the shell reads the estimates
// from the database and hands them in. Each metric's definition is in METRIC_DEFINITIONS, which
// the report prints beside the figures.

const MINUTE_MS = 60_000;

export interface EstimatedStay {
  device: string;
  zoneId: string;
  startMs: number;
  endMs: number;
  /** Mean confidence of the stay's zone decisions (null: no burst heard in it; undefined: not read). */
  confidence?: number | null;
}

export interface EstimatedVisit {
  /** The visit's device: the first of the MAC rotations analytics linked into it. */
  device: string;
  startMs: number;
  endMs: number;
  day: string;
  /** Analytics classed the visit as a passer-by's (too little time inside the mall). */
  passerBy: boolean;
  /** Began with a randomized MAC inside the mall that was linked to no earlier one. */
  orphan?: boolean;
  /** Links into this visit that had a close rival. */
  doubtfulLinks?: number;
}

export interface Estimates {
  stays: EstimatedStay[];
  visits: EstimatedVisit[];
  /** Devices per zone per minute bucket start (ms). */
  occupancy: Map<string, Map<number, number>>;
}

export interface Metric {
  key: string;
  name: string;
  value: number;
  /** The bar from the presence-analytics issue, if it sets one. */
  target?: { op: '>=' | '<='; value: number; absolute?: boolean };
  /** The estimate's own uncertainty, on the same scale as `value` (unique visitors). */
  interval?: { low: number; high: number };
  unit: '%' | 'r';
  detail: string;
}

export const METRIC_DEFINITIONS: Record<string, string> = {
  zoneMinute:
    "Share of person-minutes inside the mall (sampled at each minute boundary) where the stay analytics wrote for that person's phone at that instant is in the true zone. A minute with no estimated stay counts as wrong.",
  occupancyNmae:
    "Normalized MAE of per-zone per-minute occupancy: Σ|estimated − true| / Σ true over every zone and scored minute; true = persons present at the minute's end.",
  dwellError:
    "Median relative error |estimated − true| / true of dwell per store visit (true store intervals of 1 min or more, over by the window's end); the estimated dwell is the stay of that person's phone in that store overlapping it most; no such stay counts as 100 %.",
  flowCorrelation:
    'Pearson correlation between the true and the estimated zone-to-zone transition counts, over every pair that appears in either.',
  uniqueVisitors:
    'Relative error of unique visitors per day: distinct visit devices (analytics links a randomized MAC\'s rotations into one visit) of visits not classed as passers-by, against distinct true shoppers and staff that day. The interval runs from "every orphan visit (a randomized MAC first heard inside, linked to nothing) was a missed rotation" to "every doubtful link joined two people".',
  confidenceCalibration:
    "Expected calibration error of the stays' confidence: the person-minutes of the zone-minute accuracy that found a stay with a confidence, binned by it; Σ over bins of (minutes in bin / minutes) × |share in the true zone − mean confidence|. 0 when a confidence of 0.8 is right 80 % of the time. Stays with no burst heard (walked through unheard) have no confidence and are counted apart.",
  visitorsVsPassersBy:
    'Relative error of the passer-by count: visits analytics classed as passers-by (less than its minimum time inside the mall), against true passers-by.',
};

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Stays by device, sorted by start, for lookups by instant. */
function indexStays(stays: readonly EstimatedStay[]): Map<string, EstimatedStay[]> {
  const byDevice = new Map<string, EstimatedStay[]>();
  for (const s of stays) {
    const list = byDevice.get(s.device);
    if (list) list.push(s);
    else byDevice.set(s.device, [s]);
  }
  for (const list of byDevice.values()) list.sort((a, b) => a.startMs - b.startMs);
  return byDevice;
}

function stayAt(stays: readonly EstimatedStay[] | undefined, atMs: number): EstimatedStay | undefined {
  if (!stays) return undefined;
  for (const s of stays) if (s.startMs <= atMs && atMs < s.endMs) return s;
  return undefined;
}

/**
 * Scores `estimates` against `truth` over [fromMs, toMs). `pseudonymOf` maps a raw MAC to what
 * analytics saw (the site's keyed pseudonym).
 */
export function scoreEstimates(
  layout: Layout,
  truth: GroundTruth,
  estimates: Estimates,
  fromMs: number,
  toMs: number,
  pseudonymOf: (mac: string) => string,
): Metric[] {
  // Only what overlaps the scored window: the warm-up before it was never sent to analytics.
  truth = {
    ...truth,
    intervals: truth.intervals.filter((iv) => iv.endMs > fromMs && iv.startMs < toMs),
    visits: truth.visits.filter((v) => v.endMs > fromMs && v.startMs < toMs),
  };
  const outside = new Set(layout.zones.filter((z) => z.kind === 'outside').map((z) => z.id));
  const stores = new Set(layout.zones.filter((z) => z.kind === 'store').map((z) => z.id));
  const staysByDevice = indexStays(estimates.stays);
  const macsOf = new Map<string, { pseudonym: string; fromMs: number; toMs: number }[]>();
  for (const m of truth.macs) {
    const list = macsOf.get(m.person) ?? [];
    list.push({ pseudonym: pseudonymOf(m.mac), fromMs: m.fromMs, toMs: m.toMs });
    macsOf.set(m.person, list);
  }
  const deviceAt = (person: string, atMs: number) =>
    macsOf.get(person)?.find((m) => m.fromMs <= atMs && atMs < m.toMs)?.pseudonym;
  const devicesOf = (person: string) => new Set((macsOf.get(person) ?? []).map((m) => m.pseudonym));

  // Zone-minute accuracy, and the confidence of each stay found.
  let hits = 0;
  let total = 0;
  const calibration = createCalibration();
  for (const iv of truth.intervals) {
    if (outside.has(iv.zoneId)) continue;
    const first = Math.max(fromMs, Math.ceil(iv.startMs / MINUTE_MS) * MINUTE_MS);
    for (let t = first; t < Math.min(iv.endMs, toMs); t += MINUTE_MS) {
      total++;
      const device = deviceAt(iv.person, t);
      const stay = device ? stayAt(staysByDevice.get(device), t) : undefined;
      if (stay?.zoneId === iv.zoneId) hits++;
      if (stay !== undefined) addCalibration(calibration, stay.confidence, stay.zoneId === iv.zoneId);
    }
  }

  // Occupancy NMAE.
  const zoneIds = layout.zones.map((z) => z.id);
  const trueOcc = truthOccupancyPerMinute(truth, zoneIds, fromMs, toMs);
  let absErr = 0;
  let trueSum = 0;
  const totalsTrue: number[] = [];
  const totalsEst: number[] = [];
  for (const zoneId of zoneIds) {
    const counts = trueOcc.get(zoneId) ?? [];
    counts.forEach((trueCount, i) => {
      const est = estimates.occupancy.get(zoneId)?.get(fromMs + i * MINUTE_MS) ?? 0;
      absErr += Math.abs(est - trueCount);
      trueSum += trueCount;
      totalsTrue[i] = (totalsTrue[i] ?? 0) + trueCount;
      totalsEst[i] = (totalsEst[i] ?? 0) + est;
    });
  }

  // Dwell per store visit.
  const dwellErrors: number[] = [];
  for (const iv of truth.intervals) {
    // A store visit still going on when the truth was taken (`open`) has no known dwell yet.
    if (
      !stores.has(iv.zoneId) ||
      iv.endMs - iv.startMs < MINUTE_MS ||
      iv.startMs < fromMs ||
      iv.endMs > toMs ||
      iv.open === true
    )
      continue;
    const trueDwell = iv.endMs - iv.startMs;
    let best: EstimatedStay | undefined;
    let bestOverlap = 0;
    for (const device of devicesOf(iv.person)) {
      for (const s of staysByDevice.get(device) ?? []) {
        if (s.zoneId !== iv.zoneId) continue;
        const overlap = Math.min(s.endMs, iv.endMs) - Math.max(s.startMs, iv.startMs);
        if (overlap > bestOverlap) {
          bestOverlap = overlap;
          best = s;
        }
      }
    }
    dwellErrors.push(best ? Math.abs(best.endMs - best.startMs - trueDwell) / trueDwell : 1);
  }

  // Flow matrix correlation.
  const trueFlows = truthTransitions(truth);
  const estFlows = new Map<string, number>();
  for (const list of staysByDevice.values()) {
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!;
      const b = list[i]!;
      if (a.endMs === b.startMs && a.zoneId !== b.zoneId && b.startMs >= fromMs && b.startMs < toMs) {
        const key = `${a.zoneId}>${b.zoneId}`;
        estFlows.set(key, (estFlows.get(key) ?? 0) + 1);
      }
    }
  }
  const keys = [...new Set([...trueFlows.keys(), ...estFlows.keys()])];
  const flowR = pearson(
    keys.map((k) => trueFlows.get(k) ?? 0),
    keys.map((k) => estFlows.get(k) ?? 0),
  );

  // Unique visitors and passers-by per day.
  const truePersons = new Map<string, number>();
  for (const kind of ['shopper', 'staff'] as const) {
    for (const [day, n] of truthPersonsPerDay(truth, kind))
      truePersons.set(day, (truePersons.get(day) ?? 0) + n);
  }
  const truePassers = [...truthPersonsPerDay(truth, 'passer-by').values()].reduce((a, b) => a + b, 0);
  const visitsByDay = new Map<string, EstimatedVisit[]>();
  let estPassers = 0;
  for (const v of estimates.visits) {
    if (v.passerBy) estPassers++;
    const list = visitsByDay.get(v.day) ?? [];
    list.push(v);
    visitsByDay.set(v.day, list);
  }
  const trueVisitors = [...truePersons.values()].reduce((a, b) => a + b, 0);
  let estVisitors = 0;
  let estLow = 0;
  let estHigh = 0;
  for (const list of visitsByDay.values()) {
    const e = estimateVisitors(
      list.map((v) => ({
        device: v.device,
        passerBy: v.passerBy,
        orphan: v.orphan ?? false,
        doubtfulLinks: v.doubtfulLinks ?? 0,
      })),
    );
    estVisitors += e.visitors;
    estLow += e.low;
    estHigh += e.high;
  }

  const rel = (est: number, truthValue: number) =>
    truthValue === 0 ? Number.NaN : (est - truthValue) / truthValue;
  return [
    {
      key: 'zoneMinute',
      name: 'Zone-minute accuracy',
      value: total === 0 ? Number.NaN : hits / total,
      target: { op: '>=', value: 0.93 },
      unit: '%',
      detail: `${hits} of ${total} person-minutes`,
    },
    {
      key: 'occupancyNmae',
      name: 'Occupancy normalized MAE',
      value: trueSum === 0 ? Number.NaN : absErr / trueSum,
      target: { op: '<=', value: 0.1 },
      unit: '%',
      detail: `Σ|error| ${absErr} over Σ true ${trueSum}`,
    },
    {
      key: 'dwellError',
      name: 'Dwell per store visit, median error',
      value: median(dwellErrors),
      target: { op: '<=', value: 0.1 },
      unit: '%',
      detail: `${dwellErrors.length} store visits, ${dwellErrors.filter((e) => e === 1).length} not found`,
    },
    {
      key: 'flowCorrelation',
      name: 'Flow matrix correlation',
      value: flowR,
      target: { op: '>=', value: 0.95 },
      unit: 'r',
      detail: `${keys.length} zone pairs; ${[...trueFlows.values()].reduce((a, b) => a + b, 0)} true and ${[...estFlows.values()].reduce((a, b) => a + b, 0)} estimated transitions`,
    },
    {
      key: 'uniqueVisitors',
      name: 'Unique visitors per day, error',
      value: rel(estVisitors, trueVisitors),
      target: { op: '<=', value: 0.1, absolute: true },
      interval: { low: rel(estLow, trueVisitors), high: rel(estHigh, trueVisitors) },
      unit: '%',
      detail: `${estVisitors} visitors (interval ${estLow}–${estHigh}) against ${trueVisitors} persons`,
    },
    calibrationMetric(calibration),
    {
      key: 'visitorsVsPassersBy',
      name: 'Passers-by, error',
      value: rel(estPassers, truePassers),
      unit: '%',
      detail: `${estPassers} passer-by visits against ${truePassers} passers-by`,
    },
  ];
}

/** Upper bounds of the confidence bins (the last includes 1). */
const CONFIDENCE_BINS = [0.5, 0.7, 0.9, 0.99, 1];

interface Calibration {
  n: number[];
  confidence: number[];
  right: number[];
  /** Stays found with no confidence (no burst heard in them), and how many of those were right. */
  unheard: number;
  unheardRight: number;
}

function createCalibration(): Calibration {
  const zeros = () => CONFIDENCE_BINS.map(() => 0);
  return { n: zeros(), confidence: zeros(), right: zeros(), unheard: 0, unheardRight: 0 };
}

function addCalibration(c: Calibration, confidence: number | null | undefined, right: boolean): void {
  if (confidence === undefined) return;
  if (confidence === null) {
    c.unheard++;
    if (right) c.unheardRight++;
    return;
  }
  let b = 0;
  while (b < CONFIDENCE_BINS.length - 1 && confidence >= CONFIDENCE_BINS[b]!) b++;
  c.n[b]!++;
  c.confidence[b]! += confidence;
  if (right) c.right[b]!++;
}

function calibrationMetric(c: Calibration): Metric {
  const total = c.n.reduce((a, b) => a + b, 0);
  let ece = 0;
  const bins: string[] = [];
  let lower = 0;
  CONFIDENCE_BINS.forEach((upper, b) => {
    const n = c.n[b]!;
    if (n > 0) {
      const meanConfidence = c.confidence[b]! / n;
      const accuracy = c.right[b]! / n;
      ece += (n / total) * Math.abs(accuracy - meanConfidence);
      bins.push(
        `${lower}–${upper}: ${(meanConfidence * 100).toFixed(1)} % → ${(accuracy * 100).toFixed(1)} % right (${n})`,
      );
    }
    lower = upper;
  });
  const unheard =
    c.unheard > 0
      ? `; no confidence: ${((c.unheardRight / c.unheard) * 100).toFixed(1)} % right (${c.unheard})`
      : '';
  return {
    key: 'confidenceCalibration',
    name: 'Stay confidence, calibration error',
    value: total === 0 ? Number.NaN : ece,
    unit: '%',
    detail: `${total} person-minutes; confidence → right: ${bins.join(', ')}${unheard}`,
  };
}

export function meetsTarget(m: Metric): boolean | undefined {
  if (!m.target || Number.isNaN(m.value)) return undefined;
  const v = m.target.absolute ? Math.abs(m.value) : m.value;
  return m.target.op === '>=' ? v >= m.target.value : v <= m.target.value;
}

/** Total occupancy per scored minute, true and estimated, for the plot. */
export function totalsPerMinute(
  layout: Layout,
  truth: GroundTruth,
  estimates: Estimates,
  fromMs: number,
  toMs: number,
): { minuteMs: number; truth: number; estimated: number }[] {
  const zoneIds = layout.zones.map((z) => z.id);
  const trueOcc = truthOccupancyPerMinute(truth, zoneIds, fromMs, toMs);
  const out: { minuteMs: number; truth: number; estimated: number }[] = [];
  for (let i = 0, t = fromMs; t < toMs; i++, t += MINUTE_MS) {
    let tr = 0;
    let est = 0;
    for (const z of zoneIds) {
      tr += trueOcc.get(z)?.[i] ?? 0;
      est += estimates.occupancy.get(z)?.get(t) ?? 0;
    }
    out.push({ minuteMs: t, truth: tr, estimated: est });
  }
  return out;
}
