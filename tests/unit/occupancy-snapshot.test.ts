import { describe, expect, it } from 'vitest';
import {
  addSighting,
  advanceClock,
  closeMinutes,
  countOccupancy,
  createOccupancyState,
  type MinuteRow,
  type OccupancyOptions,
  type OccupancyState,
} from '../../core/src/occupancy.ts';
import {
  decodeSnapshot,
  encodeSnapshot,
  type OccupancySnapshot,
  restoreOccupancy,
  SnapshotFormatError,
  SnapshotMismatchError,
  snapshotOccupancy,
} from '../../core/src/occupancy-snapshot.ts';
import { isRandomizedMac } from '../../core/src/privacy.ts';
import { drainClosed, type Visit, type ZoneStay } from '../../core/src/sessions.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { createMallSim } from '../../simulators/src/mall-sim.ts';

// Live state survives restarts: a snapshot taken anywhere, written out as text and restored into a
// fresh state, continues exactly as the uninterrupted engine: the same minute rows, zone stays and
// visits. Input: 20 busy simulated minutes of Joy City (radio map, randomized MACs, open visits).

const OPTIONS: OccupancyOptions = { presenceMs: 180_000, allowedLatenessMs: 5_000, visitIdleMs: 600_000 };
const layout = loadShippedLayout('joy-city');
const zoneIds = layout.zones.map((z) => z.id);
const sensorZone = new Map(layout.sensors.map((s) => [s.id, s.zone]));
const startMs = Date.UTC(2026, 10, 18, 3, 0, 0);
const sim = createMallSim({ layout, seed: 42, startMs: startMs - 3_600_000 });
sim.stepAll(startMs);
const readings = sim.stepAll(startMs + 20 * 60_000).wifi;

interface Output {
  rows: MinuteRow[];
  stays: ZoneStay[];
  visits: Visit[];
}

function feed(state: OccupancyState, from: number, to: number, out: Output): void {
  for (let i = from; i < to; i++) {
    const r = readings[i]!;
    addSighting(
      state,
      r.mac,
      sensorZone.get(r.sensorId)!,
      r.rssiDbm,
      r.heardAt,
      isRandomizedMac(r.mac),
      r.sensorId,
    );
    if (i % 500 === 499) collect(state, out);
  }
}

function collect(state: OccupancyState, out: Output): void {
  out.rows.push(...closeMinutes(state, zoneIds));
  const closed = drainClosed(state.sessions);
  out.stays.push(...closed.stays);
  out.visits.push(...closed.visits);
}

function finish(state: OccupancyState, out: Output): Output {
  collect(state, out);
  advanceClock(state, startMs + 3 * 3_600_000); // past every visit's end and every final count
  collect(state, out);
  return out;
}

/** Through a snapshot at each split point: taken, encoded, decoded, restored, continued. */
function runWithRestarts(splits: readonly number[]): Output {
  const out: Output = { rows: [], stays: [], visits: [] };
  let state = createOccupancyState(OPTIONS, layout);
  let from = 0;
  for (const split of splits) {
    feed(state, from, split, out);
    collect(state, out); // what a worker writes before it checkpoints
    state = restoreOccupancy(decodeSnapshot(encodeSnapshot(snapshotOccupancy(state))), OPTIONS, layout);
    from = split;
  }
  feed(state, from, readings.length, out);
  return finish(state, out);
}

describe('engine snapshot and restore', () => {
  const whole = runWithRestarts([]);

  it('the reference run is busy: open visits, linked rotations, tracks in flight', () => {
    expect(readings.length).toBeGreaterThan(50_000);
    expect(whole.visits.length).toBeGreaterThan(200);
    expect(whole.visits.some((v) => v.devices > 1)).toBe(true);
    const state = createOccupancyState(OPTIONS, layout);
    feed(state, 0, readings.length >> 1, { rows: [], stays: [], visits: [] });
    const snap = snapshotOccupancy(state);
    expect(snap.sessions.open.length).toBeGreaterThan(100);
    expect(snap.devices.some((d) => (d.track?.stepMs.length ?? 0) > 1)).toBe(true);
    expect(snap.pending.length).toBeGreaterThan(0);
    expect(snap.decisionQueue.length).toBeGreaterThan(0);
  });

  it('continues exactly as the uninterrupted engine, wherever it is restarted', () => {
    const n = readings.length;
    expect(runWithRestarts([Math.floor(n * 0.37)])).toEqual(whole);
    expect(runWithRestarts([1, 997, Math.floor(n / 5), Math.floor(n / 2) + 13, n - 2])).toEqual(whole);
  });

  it('restores a snapshot written before confidences were kept: the same output, open stays unsure', () => {
    const split = readings.length >> 1;
    const out: Output = { rows: [], stays: [], visits: [] };
    const state = createOccupancyState(OPTIONS, layout);
    feed(state, 0, split, out);
    collect(state, out);
    const old = snapshotOccupancy(state);
    const openStays = new Set(old.sessions.open.map(([, o]) => `${o.stayDevice}@${o.stayStartMs}`));
    for (const d of old.devices) delete d.zoneConfidence;
    for (const [, o] of old.sessions.open) delete o.stayConfidence;
    const restored = restoreOccupancy(decodeSnapshot(encodeSnapshot(old)), OPTIONS, layout);
    const live = new Map<string, number>();
    countOccupancy(restored, restored.appliedToMs, OPTIONS.presenceMs, live);
    expect(live.size).toBe(0); // no device's confidence known yet
    feed(restored, split, readings.length, out);
    const after = finish(restored, out);
    const unsure = (x: ZoneStay) => openStays.has(`${x.device}@${x.startMs}`);
    expect(after.stays.map((x) => ({ ...x, confidence: unsure(x) ? null : x.confidence }))).toEqual(
      whole.stays.map((x) => (unsure(x) ? { ...x, confidence: null } : x)),
    );
    expect(after.stays.filter(unsure).length).toBeGreaterThan(100);
    expect(after.stays.filter((x) => unsure(x) && x.confidence !== null)).toEqual([]);
    expect({ rows: after.rows, visits: after.visits }).toEqual({ rows: whole.rows, visits: whole.visits });
  });

  it('restores a snapshot that encodes to the same text (nothing lost, NaN and Infinity kept)', () => {
    const state = createOccupancyState(OPTIONS, layout);
    feed(state, 0, 30_000, { rows: [], stays: [], visits: [] });
    const text = encodeSnapshot(snapshotOccupancy(state));
    expect(text).toContain('"$nonFinite":"NaN"');
    const again = encodeSnapshot(snapshotOccupancy(restoreOccupancy(decodeSnapshot(text), OPTIONS, layout)));
    expect(again).toBe(text);
  });

  it('works without a layout, zones met on the way keep their indices', () => {
    const run = (split: number | undefined) => {
      let state = createOccupancyState(OPTIONS);
      const out: Output = { rows: [], stays: [], visits: [] };
      const times = [0, 20_000, 40_000, 70_000, 100_000, 130_000, 400_000];
      times.forEach((t, i) => {
        if (i === split) {
          collect(state, out);
          state = restoreOccupancy(decodeSnapshot(encodeSnapshot(snapshotOccupancy(state))), OPTIONS);
        }
        addSighting(state, 'p', i < 3 ? 'hall' : 'shop', -60, startMs + t);
        addSighting(state, 'q', i % 2 ? 'shop' : 'cafe', -65, startMs + t + 500);
      });
      collect(state, out);
      advanceClock(state, startMs + 2 * 3_600_000);
      collect(state, out);
      return out;
    };
    const whole = run(undefined);
    expect(whole.stays.length).toBeGreaterThan(2);
    for (const split of [1, 3, 5]) expect(run(split)).toEqual(whole);
  });

  it('refuses a snapshot of another layout, naming what changed', () => {
    const state = createOccupancyState(OPTIONS, layout);
    feed(state, 0, 1_000, { rows: [], stays: [], visits: [] });
    const snap = snapshotOccupancy(state);
    const other = loadShippedLayout('small-store');
    expect(() => restoreOccupancy(snap, OPTIONS, other)).toThrow(SnapshotMismatchError);
    expect(() => restoreOccupancy(snap, OPTIONS, other)).toThrow(/other zones .*the layout changed/);
  });

  it('refuses a snapshot an older engine wrote (format 1: devices as objects)', () => {
    const state = createOccupancyState(OPTIONS, layout);
    feed(state, 0, 1_000, { rows: [], stays: [], visits: [] });
    const old = { ...snapshotOccupancy(state), format: 1 } as unknown as OccupancySnapshot;
    expect(() => restoreOccupancy(old, OPTIONS, layout)).toThrow(SnapshotFormatError);
    expect(() => restoreOccupancy(old, OPTIONS, layout)).toThrow(/format 1, this engine reads format 2/);
  });
});
