import { describe, expect, it } from 'vitest';
import { type Estimates, scoreEstimates } from '../../eval/src/metrics.ts';
import type { GroundTruth } from '../../simulators/src/ground-truth.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';

// The scoring functions on a hand-made truth: perfect estimates score perfectly, and a known
// mistake costs what it should.

const layout = loadShippedLayout('small-store');
const T0 = Date.UTC(2026, 10, 18, 3, 0, 0);
const MIN = 60_000;
const ids = (p: string) => `dev-${p}`;

const truth: GroundTruth = {
  startMs: T0,
  endMs: T0 + 60 * MIN,
  intervals: [
    { person: 'p1', zoneId: 'g-entrance', startMs: T0, endMs: T0 + 2 * MIN },
    { person: 'p1', zoneId: 'g-aisle', startMs: T0 + 2 * MIN, endMs: T0 + 4 * MIN },
    { person: 'p1', zoneId: 'g-fashion', startMs: T0 + 4 * MIN, endMs: T0 + 24 * MIN },
    { person: 'p1', zoneId: 'g-aisle', startMs: T0 + 24 * MIN, endMs: T0 + 26 * MIN },
    { person: 'p2', zoneId: 'g-entrance', startMs: T0 + 10 * MIN, endMs: T0 + 12 * MIN },
    { person: 'p2', zoneId: 'g-aisle', startMs: T0 + 12 * MIN, endMs: T0 + 14 * MIN },
    { person: 'p2', zoneId: 'g-kids', startMs: T0 + 14 * MIN, endMs: T0 + 44 * MIN },
  ],
  macs: [
    { person: 'p1', mac: 'p1', fromMs: T0, toMs: T0 + 60 * MIN },
    { person: 'p2', mac: 'p2', fromMs: T0, toMs: T0 + 60 * MIN },
  ],
  visits: [
    { person: 'p1', kind: 'shopper', startMs: T0, endMs: T0 + 26 * MIN, day: '2026-11-18' },
    { person: 'p2', kind: 'shopper', startMs: T0 + 10 * MIN, endMs: T0 + 44 * MIN, day: '2026-11-18' },
  ],
};

function perfectEstimates(): Estimates {
  const stays = truth.intervals.map((iv) => ({
    device: ids(iv.person),
    zoneId: iv.zoneId,
    startMs: iv.startMs,
    endMs: iv.endMs,
  }));
  const occupancy = new Map<string, Map<number, number>>();
  for (let t = T0; t < T0 + 60 * MIN; t += MIN) {
    const end = t + MIN;
    for (const iv of truth.intervals) {
      if (iv.startMs <= end && end < iv.endMs) {
        const m = occupancy.get(iv.zoneId) ?? new Map<number, number>();
        m.set(t, (m.get(t) ?? 0) + 1);
        occupancy.set(iv.zoneId, m);
      }
    }
  }
  return {
    stays,
    visits: truth.visits.map((v) => ({
      device: ids(v.person),
      startMs: v.startMs,
      endMs: v.endMs,
      day: v.day,
      passerBy: false,
    })),
    occupancy,
  };
}

const score = (e: Estimates) =>
  Object.fromEntries(scoreEstimates(layout, truth, e, T0, T0 + 60 * MIN, ids).map((m) => [m.key, m.value]));

describe('scoreEstimates', () => {
  it('scores perfect estimates perfectly', () => {
    const s = score(perfectEstimates());
    expect(s.zoneMinute).toBe(1);
    expect(s.occupancyNmae).toBe(0);
    expect(s.dwellError).toBe(0);
    expect(s.flowCorrelation).toBeCloseTo(1, 10);
    expect(s.uniqueVisitors).toBe(0);
  });

  it("measures how far the stays' confidence is from how often they are right", () => {
    const sure = perfectEstimates();
    for (const st of sure.stays) st.confidence = 1;
    expect(score(sure).confidenceCalibration).toBe(0);
    // Always right, but only 75 % sure: off by 0.25.
    const modest = perfectEstimates();
    for (const st of modest.stays) st.confidence = 0.75;
    expect(score(modest).confidenceCalibration).toBeCloseTo(0.25, 10);
    // p2's kids stay is wrong (fashion) and said so (0.2); the rest right at 0.95: bins 0-0.5
    // (30 minutes: 0 right at 0.2) and 0.9-0.99 (30 minutes: all right at 0.95).
    const mixed = perfectEstimates();
    for (const st of mixed.stays) st.confidence = 0.95;
    const kids = mixed.stays.find((st) => st.zoneId === 'g-kids')!;
    kids.zoneId = 'g-fashion';
    kids.confidence = 0.2;
    const personMinutes = 26 + 34;
    expect(score(mixed).confidenceCalibration).toBeCloseTo(
      (30 * 0.2 + (personMinutes - 30) * 0.05) / personMinutes,
      10,
    );
    // Stays read without their confidence: nothing to calibrate.
    expect(score(perfectEstimates()).confidenceCalibration).toBeNaN();
  });

  it('charges a misplaced stay, a wrong dwell and a split device what they cost', () => {
    const e = perfectEstimates();
    // p2's 30 kids minutes are estimated as 15: half of them in the wrong zone (fashion).
    const kids = e.stays.find((s) => s.device === 'dev-p2' && s.zoneId === 'g-kids')!;
    kids.endMs = kids.startMs + 15 * MIN;
    e.stays.push({ device: 'dev-p2', zoneId: 'g-fashion', startMs: kids.endMs, endMs: T0 + 44 * MIN });
    // A third device appears: p1's phone counted twice.
    e.visits.push({
      device: 'dev-ghost',
      startMs: T0,
      endMs: T0 + MIN,
      day: '2026-11-18',
      passerBy: false,
    });
    const s = score(e);
    const personMinutes = 26 + 34; // minute boundaries inside the mall
    expect(s.zoneMinute).toBeCloseTo((personMinutes - 15) / personMinutes, 10);
    // Store visits: p1 fashion 20 min exact (0), p2 kids 30 min estimated 15 (0.5): median 0.25.
    expect(s.dwellError).toBeCloseTo(0.25, 10);
    expect(s.uniqueVisitors).toBeCloseTo(0.5, 10);
  });

  it('leaves out a store visit still going on at the end of the truth: its dwell is not known yet', () => {
    const withOpen: GroundTruth = {
      ...truth,
      intervals: [
        ...truth.intervals,
        { person: 'p3', zoneId: 'g-entrance', startMs: T0 + 48 * MIN, endMs: T0 + 50 * MIN },
        { person: 'p3', zoneId: 'g-beauty', startMs: T0 + 50 * MIN, endMs: T0 + 60 * MIN, open: true },
      ],
      macs: [...truth.macs, { person: 'p3', mac: 'p3', fromMs: T0 + 48 * MIN, toMs: T0 + 60 * MIN }],
      visits: [
        ...truth.visits,
        { person: 'p3', kind: 'shopper', startMs: T0 + 48 * MIN, endMs: T0 + 60 * MIN, day: '2026-11-18' },
      ],
    };
    const e = perfectEstimates();
    e.stays.push({ device: 'dev-p3', zoneId: 'g-beauty', startMs: T0 + 50 * MIN, endMs: T0 + 75 * MIN });
    const dwell = scoreEstimates(layout, withOpen, e, T0, T0 + 60 * MIN, ids).find(
      (m) => m.key === 'dwellError',
    )!;
    expect(dwell.detail).toBe('2 store visits, 0 not found'); // p1's fashion and p2's kids, not p3's beauty
    expect(dwell.value).toBe(0);
  });

  it('counts a linked visit once, leaves passers-by out and reports the linker’s interval', () => {
    const e = perfectEstimates();
    e.visits.push(
      { device: 'dev-street', startMs: T0, endMs: T0 + MIN, day: '2026-11-18', passerBy: true },
      // An orphan (a rotation the linker may have missed) and a visit with one doubtful link.
      {
        device: 'dev-orphan',
        startMs: T0,
        endMs: T0 + MIN,
        day: '2026-11-18',
        passerBy: false,
        orphan: true,
      },
    );
    e.visits[0]!.doubtfulLinks = 1;
    const m = scoreEstimates(layout, truth, e, T0, T0 + 60 * MIN, ids).find(
      (x) => x.key === 'uniqueVisitors',
    )!;
    expect(m.value).toBeCloseTo(0.5, 10); // 3 visitors against 2 persons
    expect(m.interval).toEqual({ low: 0, high: 1 }); // 2 … 4
    expect(m.detail).toBe('3 visitors (interval 2–4) against 2 persons');
  });
});
