import { describe, expect, it } from 'vitest';
import { decodeAdvertisement } from '../../gateway/src/ble/decode-advertisement.ts';
import {
  bodyCompositionFrame,
  parseBodyCompositionMeasurement,
  parseWeightMeasurement,
  weightMeasurementFrame,
} from '../../gateway/src/ble/gatt-weight.ts';
import type { ScaleFrame } from '../../gateway/src/ble/scale-frame.ts';
import {
  createScaleStabilizer,
  type ScaleStabilizer,
  type ScaleWeighIn,
} from '../../gateway/src/ble/scale-stabilizer.ts';
import { parseMiBodyComposition } from '../../gateway/src/ble/xiaomi-scale.ts';
import * as V from './gateway-ble-vectors.ts';

const T0 = Date.UTC(2025, 10, 18, 10, 0, 0);
const HOLD_MS = 10_000;
const SCALE = 'f1:46:e3:55:15:c8';

function adFrame(hex: string): ScaleFrame {
  const ad = decodeAdvertisement(V.bytes(hex));
  if (!ad.ok || !ad.scale) throw new Error('not a scale frame');
  return ad.scale;
}

/**
 * A Mi Body Composition frame like the issue-1094 captures (same clock bytes), with the control
 * byte, weight and impedance chosen: the captures give one frame per state, a weigh-in has dozens.
 */
function mibcs(control1: number, weightKg: number, impedanceOhm = 0, clockSecond = 0x15): ScaleFrame {
  const raw = Math.round(weightKg * 200);
  const data = Uint8Array.of(0x02, control1, 0xb2, 0x07, 0x01, 0x03, 0x13, 0x1a, clockSecond);
  const r = parseMiBodyComposition(
    Uint8Array.of(...data, impedanceOhm & 0xff, impedanceOhm >> 8, raw & 0xff, raw >> 8),
  );
  if (!r.ok) throw new Error('bad test frame');
  return r.frame;
}

const UNSETTLED = 0x04;
const SETTLED = 0x24;
const SETTLED_IMPEDANCE = 0x26;
const REMOVED = 0xa4;
const REMOVED_IMPEDANCE = 0xa6;

function stabilizer(overrides: Partial<Parameters<typeof createScaleStabilizer>[0]> = {}): ScaleStabilizer {
  return createScaleStabilizer({ holdMs: HOLD_MS, clockOffsetMs: 0, maxClockSkewMs: 600_000, ...overrides });
}

/** Feeds frames 250 ms apart (a Mi scale advertises a few times a second), expiring as time passes. */
function run(s: ScaleStabilizer, frames: ScaleFrame[], startMs = T0, key = SCALE): ScaleWeighIn[] {
  const out: ScaleWeighIn[] = [];
  frames.forEach((f, i) => {
    s.push(key, f, startMs + i * 250, out);
    s.expire(startMs + i * 250, out);
  });
  return out;
}

const times = (n: number, f: ScaleFrame) => new Array<ScaleFrame>(n).fill(f);

describe('scale stabiliser: Mi Body Composition Scale (0x181B)', () => {
  it('publishes one weigh-in with its impedance from a full barefoot weigh-in', () => {
    const frames = [
      ...[12.5, 40.1, 71.8, 90.2, 94.3, 95.1, 95.3].map((w) => mibcs(UNSETTLED, w)),
      adFrame(V.MIBCS_UNSETTLED),
      ...times(12, adFrame(V.MIBCS_SETTLED_NO_IMPEDANCE)), // settled; impedance being measured
      ...times(10, adFrame(V.MIBCS_SETTLED)), // impedance 486 Ω
      ...times(40, adFrame(V.MIBCS_REMOVED)), // stepped off; the scale keeps repeating
    ];
    const s = stabilizer();
    const out = run(s, frames);
    // measuredAt: the scale's clock says 1970 (never synchronised), so the time the first settled
    // frame (index 8) was heard.
    expect(out).toEqual([{ scaleKey: SCALE, measuredAtMs: T0 + 8 * 250, weightKg: 95.2, impedanceOhm: 486 }]);
    expect(s.stats()).toMatchObject({
      scaleFrames: frames.length,
      scaleUnsettled: 8,
      scaleRemoved: 40,
      scaleDuplicates: 9,
      scaleWeighIns: 1,
      scaleWithoutImpedance: 0,
    });
    expect(s.pendingCount()).toBe(0);
  });

  it('publishes the weight alone when the person steps off before the impedance is measured', () => {
    const frames = [
      ...times(5, adFrame(V.MIBCS_UNSETTLED)),
      ...times(8, adFrame(V.MIBCS_SETTLED_NO_IMPEDANCE)),
      ...times(20, adFrame(V.MIBCS_REMOVED_NO_IMPEDANCE)),
    ];
    const s = stabilizer();
    const out = run(s, frames);
    expect(out).toEqual([{ scaleKey: SCALE, measuredAtMs: T0 + 5 * 250, weightKg: 95.2 }]);
    // Published at the first "removed" frame, not after the hold time.
    expect(s.stats()).toMatchObject({ scaleWeighIns: 1, scaleWithoutImpedance: 1 });
  });

  it('waits holdMs after the scale went quiet, then publishes the weight; a late impedance is a duplicate', () => {
    const s = stabilizer();
    const out = run(s, times(3, adFrame(V.MIBCS_SETTLED_NO_IMPEDANCE)));
    expect(out).toEqual([]);
    const lastHeard = T0 + 2 * 250;
    s.expire(lastHeard + HOLD_MS - 1, out);
    expect(out).toEqual([]);
    s.expire(lastHeard + HOLD_MS, out);
    expect(out).toEqual([{ scaleKey: SCALE, measuredAtMs: T0, weightKg: 95.2 }]);
    s.push(SCALE, adFrame(V.MIBCS_SETTLED), lastHeard + HOLD_MS + 500, out);
    expect(out).toHaveLength(1);
    expect(s.stats().scaleDuplicates).toBe(1);
  });

  it('does not publish twice when two scanners hear the weigh-in, one of them late', () => {
    const weighIn = [
      adFrame(V.MIBCS_UNSETTLED),
      ...times(4, adFrame(V.MIBCS_SETTLED_NO_IMPEDANCE)),
      ...times(4, adFrame(V.MIBCS_SETTLED)),
      ...times(6, adFrame(V.MIBCS_REMOVED)),
    ];
    const s = stabilizer();
    const out: ScaleWeighIn[] = [];
    // Scanner B forwards the same frames 3 frames (750 ms) late, interleaved with scanner A's.
    const lagged = [
      ...weighIn.map((f, i) => ({ f, at: T0 + i * 250 })),
      ...weighIn.map((f, i) => ({ f, at: T0 + (i + 3) * 250 + 1 })),
    ];
    lagged.sort((a, b) => a.at - b.at);
    for (const { f, at } of lagged) s.push(SCALE, f, at, out);
    s.flush(out);
    expect(out).toEqual([{ scaleKey: SCALE, measuredAtMs: T0 + 250, weightKg: 95.2, impedanceOhm: 486 }]);
  });

  it('publishes each of two people weighed in a row, and the same person weighed twice', () => {
    const person = (w: number, imp: number, second: number) => [
      ...times(3, mibcs(UNSETTLED, w - 0.6, 0, second)),
      ...times(3, mibcs(SETTLED, w, 0, second)),
      ...times(3, mibcs(SETTLED_IMPEDANCE, w, imp, second)),
      ...times(5, mibcs(REMOVED_IMPEDANCE, w, imp, second)),
    ];
    const s = stabilizer();
    const out = run(s, [
      ...person(95.2, 486, 0x15),
      ...person(60.05, 530, 0x30),
      ...person(60.05, 529, 0x3a),
    ]);
    expect(out.map((w) => [w.weightKg, w.impedanceOhm])).toEqual([
      [95.2, 486],
      [60.05, 530],
      [60.05, 529],
    ]);
  });

  it('ends a pending weigh-in when an unsettled weight far from it shows someone else stepped on', () => {
    const s = stabilizer();
    const out = run(s, [
      ...times(3, mibcs(SETTLED, 95.2)),
      ...times(3, mibcs(UNSETTLED, 55.3)), // the "removed" frames were not heard
      ...times(3, mibcs(SETTLED_IMPEDANCE, 60.05, 530, 0x30)),
    ]);
    expect(out.map((w) => [w.weightKg, w.impedanceOhm])).toEqual([
      [95.2, undefined],
      [60.05, 530],
    ]);
  });

  it('never publishes a weight outside 2..400 kg (small objects)', () => {
    const s = stabilizer();
    const out = run(s, [...times(4, mibcs(SETTLED_IMPEDANCE, 1.2, 0)), ...times(2, mibcs(REMOVED, 1.2))]);
    s.flush(out);
    expect(out).toEqual([]);
    expect(s.stats().scaleOutOfRange).toBe(4);
  });
});

describe('scale stabiliser: Mi Smart Scale (0x181D)', () => {
  const stableClock = Date.UTC(2021, 3, 11, 16, 19, 1); // in MI1_STABLE

  it('publishes a settled frame at once (no impedance to wait for), with the scale clock when plausible', () => {
    const s = stabilizer();
    const heard = stableClock + 2_500;
    const out = run(s, [adFrame(V.MI1_LIVE), ...times(10, adFrame(V.MI1_STABLE))], heard);
    expect(out).toEqual([{ scaleKey: SCALE, measuredAtMs: stableClock, weightKg: 86.55 }]);
    expect(s.stats()).toMatchObject({ scaleUnsettled: 1, scaleDuplicates: 9, scaleWeighIns: 1 });
  });

  it('applies the clock offset of a scale kept in local time (UTC+8 → −480 min)', () => {
    const s = stabilizer({ clockOffsetMs: -480 * 60_000 });
    const heardUtc = stableClock - 8 * 3_600_000 + 2_000;
    const out = run(s, [adFrame(V.MI1_STABLE)], heardUtc);
    expect(out[0]?.measuredAtMs).toBe(stableClock - 8 * 3_600_000);
  });

  it('uses the heard time when the clock is further off than maxClockSkewMs', () => {
    const s = stabilizer({ maxClockSkewMs: 60_000 });
    const out = run(s, [adFrame(V.MI1_STABLE)], stableClock + 61_000);
    expect(out[0]?.measuredAtMs).toBe(stableClock + 61_000);
  });

  it('ignores the stale "removed" frame a scale sends on waking (ble_monitor issue 366)', () => {
    const s = stabilizer();
    const out = run(s, [...times(5, adFrame(V.MI1_STALE)), ...times(5, adFrame(V.MI1_REMOVED))]);
    s.flush(out);
    expect(out).toEqual([]);
    expect(s.knows(SCALE)).toBe(true);
  });
});

describe('scale stabiliser: GATT Weight Scale / Body Composition', () => {
  const wm = (hex: string) => {
    const r = parseWeightMeasurement(V.bytes(hex));
    if (!r.ok) throw new Error('bad test frame');
    return weightMeasurementFrame(r.value);
  };
  const bcm = (hex: string) => {
    const r = parseBodyCompositionMeasurement(V.bytes(hex));
    if (!r.ok) throw new Error('bad test frame');
    return bodyCompositionFrame(r.value);
  };
  // 85.15 kg, 2025-11-18 10:00:00, user 1, BMI 27.8, 1.75 m
  const WEIGHT = '0e 8642 e9070b120a0000 01 1601 d606';

  it('merges a Weight Measurement with the Body Composition Measurement that follows it', () => {
    const s = stabilizer();
    const out: ScaleWeighIn[] = [];
    s.push(SCALE, wm(WEIGHT), T0 + 1_500, out);
    expect(out).toEqual([]);
    s.push(SCALE, bcm('0002 ea00 fc12'), T0 + 1_800, out); // 23.4 %, 486.0 Ω
    expect(out).toEqual([
      { scaleKey: SCALE, measuredAtMs: T0, weightKg: 85.15, impedanceOhm: 486, bodyFatPct: 23.4 },
    ]);
  });

  it('joins a two-packet Body Composition Measurement before publishing', () => {
    const s = stabilizer();
    const out: ScaleWeighIn[] = [];
    s.push(SCALE, wm(WEIGHT), T0 + 1_000, out);
    s.push(SCALE, bcm('0610 ea00 e9070b120a0000 01'), T0 + 1_100, out); // packet 1: time, user
    expect(out).toEqual([]);
    s.push(SCALE, bcm('0016 ea00 fc12 8642'), T0 + 1_200, out); // packet 2: impedance, weight
    expect(out).toEqual([
      { scaleKey: SCALE, measuredAtMs: T0, weightKg: 85.15, impedanceOhm: 486, bodyFatPct: 23.4 },
    ]);
  });

  it('publishes a lone Weight Measurement after the hold time, and drops a re-sent stored copy', () => {
    const s = stabilizer();
    const out: ScaleWeighIn[] = [];
    s.push(SCALE, wm(WEIGHT), T0 + 1_000, out);
    s.expire(T0 + 1_000 + HOLD_MS, out);
    expect(out).toEqual([{ scaleKey: SCALE, measuredAtMs: T0, weightKg: 85.15 }]);
    // The scale re-indicates its stored measurement on the next connection, an hour later.
    s.push(SCALE, wm(WEIGHT), T0 + 3_600_000, out);
    s.flush(out);
    expect(out).toHaveLength(1);
    expect(s.stats().scaleDuplicates).toBe(1);
  });

  it('without a scale clock, the same weight is a repeat within a minute and a new weigh-in after', () => {
    const s = stabilizer();
    const out: ScaleWeighIn[] = [];
    for (const at of [0, 20_000, 61_000 + HOLD_MS]) {
      s.push(SCALE, wm('00 8642'), T0 + at, out);
      s.expire(T0 + at + HOLD_MS, out);
    }
    expect(out.map((w) => w.measuredAtMs)).toEqual([T0, T0 + 61_000 + HOLD_MS]);
  });

  it('drops a Body Composition Measurement that never gets a weight', () => {
    const s = stabilizer();
    const out: ScaleWeighIn[] = [];
    s.push(SCALE, bcm('0002 ea00 fc12'), T0, out);
    s.flush(out);
    expect(out).toEqual([]);
    expect(s.stats().scaleNoWeight).toBe(1);
  });
});

describe('scale stabiliser: memory', () => {
  it('forgets the least recently heard scale beyond maxScales, publishing what it held', () => {
    const s = stabilizer({ maxScales: 2 });
    const out: ScaleWeighIn[] = [];
    s.push('scale-a', mibcs(SETTLED, 70), T0, out);
    s.push('scale-b', mibcs(SETTLED, 80), T0 + 1, out);
    s.push('scale-a', mibcs(SETTLED, 70), T0 + 2, out);
    s.push('scale-c', mibcs(SETTLED, 90), T0 + 3, out);
    expect(out.map((w) => [w.scaleKey, w.weightKg])).toEqual([['scale-b', 80]]);
    expect(s.knows('scale-b')).toBe(false);
    expect(s.stats().scaleForgotten).toBe(1);
  });
});
