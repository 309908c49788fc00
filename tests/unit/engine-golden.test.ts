import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeReadings } from '../../bench/fixtures.ts';
import {
  addSighting,
  advanceClock,
  closeMinutes,
  createOccupancyState,
  type OccupancyOptions,
  type OccupancyState,
} from '../../core/src/occupancy.ts';
import { isRandomizedMac } from '../../core/src/privacy.ts';
import { drainClosed } from '../../core/src/sessions.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { createMallSim } from '../../simulators/src/mall-sim.ts';

// The engine's output, pinned (issue 4, speed and memory): a rework of how the engine keeps its
// state must not change one minute row, stay, visit or link. The digests were recorded on main
// before the columnar rework; a deliberate change of the engine's results records new ones.
// `withoutConfidence` hashes the same output with the stays' confidence left out: adding the
// confidence (issue 4) moved no row, stay, visit or link, so those digests are the ones recorded
// before it.

const OPTIONS: OccupancyOptions = { presenceMs: 180_000, allowedLatenessMs: 5_000, visitIdleMs: 600_000 };

const dropConfidence = (key: string, value: unknown) => (key === 'confidence' ? undefined : value);

/** sha256 of every minute row, stay and visit in the order the engine gave them, plus its counters. */
function digestRun(
  state: OccupancyState,
  feed: (tick: () => void) => void,
  zoneIds: string[],
  endMs: number,
) {
  const hash = createHash('sha256');
  const hashWithout = createHash('sha256');
  let visits = 0;
  let confident = 0;
  let misplaced = 0;
  const tick = () => {
    const rows = JSON.stringify(closeMinutes(state, zoneIds));
    hash.update(rows);
    hashWithout.update(rows);
    const closed = drainClosed(state.sessions);
    visits += closed.visits.length;
    for (const s of closed.stays) {
      // A stay has a confidence in (0, 1] exactly when a burst was heard in it.
      if (s.bursts > 0 && s.confidence !== null && s.confidence > 0 && s.confidence <= 1) confident++;
      else if (s.bursts > 0 || s.confidence !== null) misplaced++;
    }
    hash.update(JSON.stringify(closed));
    hashWithout.update(JSON.stringify(closed, dropConfidence));
  };
  feed(tick);
  tick();
  advanceClock(state, endMs);
  tick();
  const counters = JSON.stringify({
    late: state.late,
    links: state.linker.links,
    doubtful: state.linker.doubtfulLinks,
  });
  hash.update(counters);
  hashWithout.update(counters);
  return {
    digest: hash.digest('hex'),
    withoutConfidence: hashWithout.digest('hex'),
    visits,
    confident,
    misplaced,
  };
}

describe('engine output digest', () => {
  it('joy-city, simulator seed 42, 10:00-13:00 (30% randomized MACs, radio map)', () => {
    const layout = loadShippedLayout('joy-city');
    const zoneIds = layout.zones.map((z) => z.id);
    const sensorZone = new Map(layout.sensors.map((s) => [s.id, s.zone]));
    const startMs = Date.UTC(2026, 10, 18, 2, 0, 0);
    const sim = createMallSim({ layout, seed: 42, startMs: startMs - 3_600_000 });
    const readings = sim.stepAll(startMs + 3 * 3_600_000).wifi;
    const state = createOccupancyState(OPTIONS, layout);
    const digest = digestRun(
      state,
      (tick) => {
        for (let i = 0; i < readings.length; i++) {
          const r = readings[i]!;
          // Every 7th reading arrives 4 s late (within the allowed lateness), a few 24 s (behind it).
          const heardAt = r.heardAt - (i % 7 === 0 ? 4_000 : 0) - (i % 997 === 0 ? 20_000 : 0);
          addSighting(
            state,
            r.mac,
            sensorZone.get(r.sensorId)!,
            r.rssiDbm,
            heardAt,
            isRandomizedMac(r.mac),
            r.sensorId,
          );
          if (i % 500 === 499) tick();
        }
      },
      zoneIds,
      startMs + 6 * 3_600_000,
    );
    expect(readings.length).toBeGreaterThan(100_000);
    expect(digest.visits).toBeGreaterThan(1_000);
    expect(digest.confident).toBeGreaterThanOrEqual(digest.visits);
    expect(digest.misplaced).toBe(0);
    expect(digest.withoutConfidence).toBe('a2b7d437157ad88d331523414087f2669fb7888d623e9dc39b026b5f57d0fea3');
    expect(digest.digest).toBe('189f1e6dc605a5581da745141e1eed0cb6db8ab25cae62f5686b25b67ebc7fb7');
  });

  it('the worst-case fixture (every reading its own burst, no layout)', () => {
    const sensors = Array.from({ length: 100 }, (_, i) => `s-${i}`);
    const zoneOf = new Map(sensors.map((s, i) => [s, `z-${i % 60}`]));
    const zones = [...new Set(zoneOf.values())];
    const readings = makeReadings(120_000, sensors, 20_000);
    const state = createOccupancyState(OPTIONS);
    const digest = digestRun(
      state,
      (tick) => {
        for (let i = 0; i < readings.length; i++) {
          const r = readings[i]!;
          addSighting(state, r.device, zoneOf.get(r.sensorId)!, r.rssiDbm, r.heardAt, r.randomized);
          if (i % 500 === 499) tick();
        }
      },
      zones,
      Date.UTC(2026, 10, 22),
    );
    expect(digest.visits).toBeGreaterThan(1_000);
    expect(digest.confident).toBeGreaterThanOrEqual(digest.visits);
    expect(digest.misplaced).toBe(0);
    expect(digest.withoutConfidence).toBe('1d6f451ba7129a517183db4b53db5f6c643c9cf8b185d5ec533f2e3e171d8e84');
    expect(digest.digest).toBe('0fad85bc53bc1f00a24fe87f808664700ca7300f3d9871cbff7253bd9291c9c0');
  });
});
