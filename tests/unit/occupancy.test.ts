import { describe, expect, it } from 'vitest';
import {
  addSighting,
  advanceClock,
  BURST_WINDOW_MS,
  closeMinutes,
  countOccupancy,
  createOccupancyState,
  dropSuperseded,
  FIRST_BURST_PRESENCE_MS,
  MINUTE_MS,
  type MinuteRow,
  type OccupancyOptions,
  type OccupancyState,
} from '../../core/src/occupancy.ts';
import { drainClosed } from '../../core/src/sessions.ts';
import { DEFAULT_ZONE_ESTIMATOR } from '../../core/src/zone-estimator.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { createRng } from '../../simulators/src/rng.ts';

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const OPTS: OccupancyOptions = { presenceMs: 120_000, allowedLatenessMs: 5_000, visitIdleMs: 600_000 };
/** Event time after which every burst is complete and decided. */
const DECIDED_MS = BURST_WINDOW_MS + DEFAULT_ZONE_ESTIMATOR.lagMs + 1;
type S = [device: string, zone: string, rssi: number, tMs: number];

function run(sightings: S[]) {
  const state = createOccupancyState(OPTS);
  for (const [d, z, r, t] of sightings) addSighting(state, d, z, r, T0 + t);
  return state;
}

/** Completes every burst (the watermark moves past the newest one's window) and counts at the newest sighting. */
function settled(state: OccupancyState): Record<string, number> {
  const newest = state.newestMs;
  advanceClock(state, newest + OPTS.allowedLatenessMs + BURST_WINDOW_MS + 1);
  closeMinutes(state, []);
  return Object.fromEntries(countOccupancy(state, newest, OPTS.presenceMs));
}

describe('zone per device, without a layout (strongest zone per burst, then the zone track)', () => {
  it.each<[string, S[], Record<string, number>]>([
    ['one device, one sensor', [['a', 'z1', -60, 0]], { z1: 1 }],
    [
      'strongest of a burst wins, whatever the order',
      [
        ['a', 'z1', -70, 0],
        ['a', 'z2', -55, 200],
        ['a', 'z3', -80, 400],
      ],
      { z2: 1 },
    ],
    [
      'two devices counted separately',
      [
        ['a', 'z1', -60, 0],
        ['b', 'z1', -60, 100],
        ['c', 'z2', -60, 200],
      ],
      { z1: 2, z2: 1 },
    ],
  ])('%s', (_name, sightings, expected) => {
    expect(settled(run(sightings))).toEqual(expected);
  });

  it('a reading that arrives behind the watermark cannot move the device', () => {
    const state = run([
      ['a', 'z1', -60, 0],
      ['a', 'z1', -60, 30_000],
    ]);
    advanceClock(state, T0 + 40_000);
    closeMinutes(state, []); // the watermark is at 0:35
    addSighting(state, 'a', 'z2', -40, T0 + 10_000); // from the past, strong, elsewhere
    expect(state.late).toBe(1);
    expect(settled(state)).toEqual({ z1: 1 });
  });

  const settledIn = (bursts: [zone: string, rssi: number][]) => {
    const sightings: S[] = [];
    bursts.forEach(([zone, rssi], i) => {
      // Every burst is heard in z1 and in the zone given, the stronger one placing it.
      sightings.push(['a', 'z1', -70, i * 30_000], ['a', zone, rssi, i * 30_000 + 100]);
    });
    return settled(run(sightings));
  };

  it('hysteresis: after minutes in z1, one burst stronger in z2 does not move the device', () => {
    expect(settledIn([...Array<[string, number]>(8).fill(['z1', -70]), ['z2', -64]])).toEqual({ z1: 1 });
  });

  it('a move sticks once the bursts after it agree', () => {
    expect(
      settledIn([...Array<[string, number]>(8).fill(['z1', -70]), ...Array(3).fill(['z2', -55])]),
    ).toEqual({
      z2: 1,
    });
  });

  it('a device counts for a while after its burst, and not once its presence time has passed', () => {
    const state = run([['a', 'z1', -60, 0]]);
    advanceClock(state, T0 + 10 * MINUTE_MS);
    closeMinutes(state, []);
    expect(Object.fromEntries(countOccupancy(state, T0 + FIRST_BURST_PRESENCE_MS, OPTS.presenceMs))).toEqual({
      z1: 1,
    });
    expect(countOccupancy(state, T0 + FIRST_BURST_PRESENCE_MS + 1, OPTS.presenceMs).size).toBe(0);
  });

  it('the live counts carry the mean confidence of the zone estimates of the devices counted', () => {
    // a: heard by one zone only (certain). b: equally loud in two zones on its first burst (a
    // toss-up, 1/2; ties go to the lower zone index, z1). c: much louder in z2 than in z1.
    const state = run([
      ['a', 'z1', -60, 0],
      ['b', 'z1', -60, 100],
      ['b', 'z2', -60, 150],
      ['c', 'z2', -50, 200],
      ['c', 'z1', -80, 250],
    ]);
    settled(state);
    const confidence = new Map<string, number>();
    const counts = countOccupancy(state, state.newestMs, OPTS.presenceMs, confidence);
    expect(Object.fromEntries(counts)).toEqual({ z1: 2, z2: 1 });
    expect(confidence.get('z1')).toBeCloseTo((1 + 0.5) / 2, 6);
    // 30 dB apart at rssiWeightPerDb: 1 / (1 + e^(−0.15 · 30)).
    const weight = DEFAULT_ZONE_ESTIMATOR.rssiWeightPerDb;
    expect(confidence.get('z2')).toBeCloseTo(1 / (1 + Math.exp(-weight * 30)), 6);
  });

  it('presence follows the device’s rhythm: a phone probing every 20 s is gone 40 s after its last burst', () => {
    const sightings: S[] = [];
    for (let i = 0; i < 10; i++) sightings.push(['a', 'z1', -60, i * 20_000]);
    const state = run(sightings);
    advanceClock(state, T0 + 10 * MINUTE_MS);
    closeMinutes(state, []);
    const last = T0 + 9 * 20_000;
    expect(countOccupancy(state, last + 25_000, OPTS.presenceMs).get('z1')).toBe(1);
    expect(countOccupancy(state, last + 40_000, OPTS.presenceMs).size).toBe(0);
  });
});

describe('zone per device with the layout: radio map and adjacency', () => {
  const layout = loadShippedLayout('small-store');

  /** Readings from the path-loss model at (x, y) in `zone` (no noise): what the sensors would hear. */
  function readingsAt(
    zone: string,
    x: number,
    y: number,
  ): [sensorId: string, zoneId: string, rssi: number][] {
    const circulation = (id: string) => ['corridor', 'atrium'].includes(layout.zoneById.get(id)!.kind);
    return layout.sensors.map((s) => {
      const walls = s.zone === zone ? 0 : -6 + (circulation(s.zone) || circulation(zone) ? 0 : -3);
      const rssi = Math.round(-40 - 30 * Math.log10(Math.max(1, Math.hypot(s.x - x, s.y - y))) + walls);
      return [s.id, s.zone, rssi];
    });
  }

  function placeAt(points: [zone: string, x: number, y: number][]): OccupancyState {
    const state = createOccupancyState(OPTS, layout);
    points.forEach(([zone, x, y], i) => {
      for (const [sensorId, zoneId, rssi] of readingsAt(zone, x, y)) {
        addSighting(state, 'a', zoneId, rssi, T0 + i * 30_000, false, sensorId);
      }
    });
    return state;
  }

  it('a phone at a store front that reads stronger on the aisle sensor is placed in the store', () => {
    const [aisle, fashion] = [
      readingsAt('g-fashion', 12, 12.2).find(([s]) => s === 'g-aisle-ap1')![2],
      readingsAt('g-fashion', 12, 12.2).find(([s]) => s === 'g-fashion-ap1')![2],
    ];
    expect(aisle).toBeGreaterThan(fashion); // the strongest sensor alone would say aisle
    expect(settled(placeAt([['g-fashion', 12, 12.2]]))).toEqual({ 'g-fashion': 1 });
  });

  it('a walk from fashion to beauty passes through the aisle even when no burst was heard there', () => {
    const state = placeAt([
      ['g-fashion', 12, 16],
      ['g-fashion', 12, 16],
      ['g-beauty', 24, 16],
      ['g-beauty', 24, 16],
    ]);
    advanceClock(state, T0 + 60 * MINUTE_MS); // silent in a store: its visit may go on for 45 min

    closeMinutes(state, []);
    // First heard in g-fashion, it walked in unheard through the entrance and the aisle before.
    const heard = drainClosed(state.sessions).stays.filter((s) => s.endMs > T0);
    expect(heard.map((s) => s.zoneId)).toEqual(['g-fashion', 'g-aisle', 'g-beauty']);
    expect(heard[1]!.bursts).toBe(0); // inferred, not heard
    expect(heard[0]!.endMs).toBe(heard[1]!.startMs);
  });
});

describe('closeMinutes', () => {
  it('writes a minute live once the watermark passes its end, zeros included, and again when final', () => {
    const state = run([['a', 'z1', -60, 10_000]]);
    expect(closeMinutes(state, ['z1', 'z2'])).toEqual([]);
    addSighting(state, 'b', 'z2', -60, T0 + MINUTE_MS + 4_000);
    expect(closeMinutes(state, ['z1', 'z2'])).toEqual([]);
    addSighting(state, 'b', 'z2', -60, T0 + MINUTE_MS + 5_000);
    // a's burst at 0:10 counts for its first-burst presence, not until the minute's end.
    expect(closeMinutes(state, ['z1', 'z2'])).toEqual([
      { bucketMs: T0, zoneId: 'z1', devices: 0, final: false },
      { bucketMs: T0, zoneId: 'z2', devices: 0, final: false },
    ]);
    advanceClock(state, T0 + MINUTE_MS + OPTS.visitIdleMs + DECIDED_MS + OPTS.allowedLatenessMs + 1_000);
    // b, first heard at 1:04, was there about half a probe interval (20 s, its rhythm unknown)
    // before: at 1:00 already.
    expect(closeMinutes(state, ['z1', 'z2']).filter((r) => r.final && r.bucketMs === T0)).toEqual([
      { bucketMs: T0, zoneId: 'z1', devices: 0, final: true },
      { bucketMs: T0, zoneId: 'z2', devices: 1, final: true },
    ]);
  });

  it('the final count is the stays covering the minute end: a device heard every 30 s counts throughout', () => {
    const sightings: S[] = [];
    for (let t = 0; t <= 5 * MINUTE_MS; t += 30_000) sightings.push(['a', 'z1', -60, t + 7_000]);
    const state = run(sightings);
    advanceClock(state, T0 + 30 * MINUTE_MS);
    const rows = closeMinutes(state, ['z1']).filter((r) => r.final);
    // Heard 0:07 to 5:07, then (fallen silent where it was heard before) the zone model's median
    // remaining store stay, ln 2 × 5 min = 3:28: present at the ends of minutes 0 to 7, not 8.
    expect(rows.map((r) => [(r.bucketMs - T0) / MINUTE_MS, r.devices]).slice(0, 10)).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 1],
      [6, 1],
      [7, 1],
      [8, 0],
      [9, 0],
    ]);
  });
});

describe('order and batch boundaries do not change the output', () => {
  const layout = loadShippedLayout('small-store');
  const rng = createRng(42);
  const rnd = () => rng.next();
  const sensors = layout.sensors.filter((s) => s.kind !== 'scale');
  // 30 phones (a third with randomized MACs that rotate), each probing at its own rhythm for
  // 40 minutes and walking between random zones, heard by a few sensors per burst; every fourth
  // falls silent for 12 to 20 minutes (a silence the engine may bridge).
  const sightings: { device: string; zone: string; sensor: string; rssi: number; t: number; rnd: boolean }[] =
    [];
  for (let p = 0; p < 30; p++) {
    const rhythmMs = 20_000 + Math.floor(rnd() * 40_000);
    const randomized = p % 3 === 0;
    const silentMs = p % 4 === 1 ? [10 * MINUTE_MS, (22 + (p % 8)) * MINUTE_MS] : [0, 0];
    let zone = sensors[Math.floor(rnd() * sensors.length)]!.zone;
    let mac = 0;
    for (let t = Math.floor(rnd() * 60_000); t < 40 * MINUTE_MS; t += rhythmMs) {
      if (t >= silentMs[0]! && t < silentMs[1]!) continue;
      if (rnd() < 0.15) zone = sensors[Math.floor(rnd() * sensors.length)]!.zone;
      if (randomized && rnd() < 0.1) mac++;
      for (const s of sensors) {
        if (rnd() < 0.3) continue;
        const rssi = (s.zone === zone ? -55 : -75) - Math.floor(rnd() * 8);
        sightings.push({ device: `d${p}-${mac}`, zone: s.zone, sensor: s.id, rssi, t, rnd: randomized });
      }
    }
  }
  sightings.sort((a, b) => a.t - b.t);
  const zoneIds = layout.zones.map((z) => z.id);

  function output(order: typeof sightings, closeEvery: number) {
    const state = createOccupancyState(OPTS, layout);
    const rows: MinuteRow[] = [];
    const close = () => {
      const batch = closeMinutes(state, zoneIds);
      // One row per minute and zone per call: a multi-row upsert cannot touch a row twice.
      expect(new Set(batch.map((r) => `${r.bucketMs} ${r.zoneId}`)).size).toBe(batch.length);
      rows.push(...batch);
    };
    order.forEach((s, i) => {
      addSighting(state, s.device, s.zone, s.rssi, T0 + s.t, s.rnd, s.sensor);
      if (i % closeEvery === 0) close();
    });
    close();
    advanceClock(state, T0 + 3 * 60 * MINUTE_MS); // past every final count
    close();
    const closed = drainClosed(state.sessions);
    const byStart = <T extends { device: string; startMs: number }>(xs: T[]) =>
      [...xs].sort((a, b) => a.startMs - b.startMs || (a.device < b.device ? -1 : 1));
    // What the table holds after the upserts: the last row written per minute and zone.
    const table = [...new Map(rows.map((r) => [`${r.bucketMs} ${r.zoneId}`, r])).values()];
    table.sort((a, b) => a.bucketMs - b.bucketMs || (a.zoneId < b.zoneId ? -1 : 1));
    return { table, stays: byStart(closed.stays), visits: byStart(closed.visits) };
  }

  const whole = output(sightings, Number.MAX_SAFE_INTEGER);

  it('the reference run placed, linked and counted something', () => {
    expect(whole.table.every((r) => r.final)).toBe(true);
    expect(whole.table.some((r) => r.devices > 0)).toBe(true);
    expect(whole.stays.length).toBeGreaterThan(30);
    expect(whole.visits.some((v) => v.devices > 1)).toBe(true); // some rotations were linked
    // Some silence was bridged: a phone that fell silent (universal MAC) kept one visit across it.
    const silent = ['d1-0', 'd5-0', 'd13-0', 'd17-0', 'd25-0', 'd29-0'];
    const across = (d: string) => whole.visits.filter((v) => v.device === d);
    expect(silent.some((d) => across(d).length === 1 && across(d)[0]!.endMs > T0 + 30 * MINUTE_MS)).toBe(
      true,
    );
  });

  it('gives the same minutes, stays and visits whatever the batch boundaries', () => {
    for (const every of [1, 7, 31, 500]) expect(output(sightings, every)).toEqual(whole);
  });

  it('gives the rows of one call, once superseded rows are dropped, when a catch-up is cut into slices', () => {
    const state = createOccupancyState(OPTS, layout);
    for (const s of sightings) addSighting(state, s.device, s.zone, s.rssi, T0 + s.t, s.rnd, s.sensor);
    const endMs = T0 + 3 * 60 * MINUTE_MS;
    advanceClock(state, endMs);
    const rows: MinuteRow[] = [];
    let calls = 0;
    for (let untilMs = T0; untilMs < endMs; untilMs += 7_000, calls++) {
      rows.push(...closeMinutes(state, zoneIds, untilMs));
    }
    rows.push(...closeMinutes(state, zoneIds));
    expect(calls).toBeGreaterThan(1000);
    dropSuperseded(rows);
    expect(new Set(rows.map((r) => `${r.bucketMs} ${r.zoneId}`)).size).toBe(rows.length);
    const table = [...rows].sort((a, b) => a.bucketMs - b.bucketMs || (a.zoneId < b.zoneId ? -1 : 1));
    expect(table).toEqual(whole.table);
    const closed = drainClosed(state.sessions);
    const byStart = <T extends { device: string; startMs: number }>(xs: T[]) =>
      [...xs].sort((a, b) => a.startMs - b.startMs || (a.device < b.device ? -1 : 1));
    expect(byStart(closed.stays)).toEqual(whole.stays);
    expect(byStart(closed.visits)).toEqual(whole.visits);
  });

  it('gives the same output when readings arrive out of order within the allowed lateness', () => {
    const shuffled = [...sightings];
    // Swap readings within 3 s of each other: out of order, well within the 5 s lateness.
    for (let i = 0; i + 1 < shuffled.length; i += 2) {
      if (shuffled[i + 1]!.t - shuffled[i]!.t <= 3_000)
        [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1]!, shuffled[i]!];
    }
    expect(output(shuffled, 3)).toEqual(whole);
  });
});

describe('quiet stretches', () => {
  const YEAR_MS = 365 * 24 * 60 * MINUTE_MS;
  it('writes the minutes until an hour after everyone left, then skips to the next sighting', () => {
    const state = createOccupancyState(OPTS);
    addSighting(state, 'a', 'z1', -60, T0 + 50_000);
    addSighting(state, 'b', 'z1', -60, T0 + YEAR_MS + 30_000);
    advanceClock(state, T0 + YEAR_MS + 3 * MINUTE_MS);
    const rows = closeMinutes(state, ['z1']);
    // a is present from 10:00:50, for its first-burst presence (live) or half a probe rhythm
    // (final): at 10:01 only. The minutes until an hour after its last sighting plus the
    // presence cap are written, the empty year is not, and the minutes around b's sighting are.
    const before = rows.filter((r) => r.bucketMs < T0 + YEAR_MS);
    expect(before.length).toBe(62);
    expect(before.every((r) => r.final)).toBe(true);
    expect(before.slice(0, 3).map((r) => r.devices)).toEqual([1, 0, 0]);
    expect(before.slice(1).every((r) => r.devices === 0)).toBe(true);
    expect(rows.filter((r) => r.bucketMs >= T0 + YEAR_MS).map((r) => r.devices)).toEqual([1, 0]);
  });

  it('gives the same rows however the year is split into calls', () => {
    const whole = createOccupancyState(OPTS);
    const split = createOccupancyState(OPTS);
    const times = [10_000, 50_000, 4 * 60 * MINUTE_MS, YEAR_MS + 30_000, YEAR_MS + 90_000];
    const wholeRows = [];
    const splitRows = [];
    for (const t of times) {
      addSighting(whole, 'a', 'z1', -60, T0 + t);
      addSighting(split, 'a', 'z1', -60, T0 + t);
      splitRows.push(...closeMinutes(split, ['z1'])); // each call closes what the newest sighting allows
    }
    wholeRows.push(...closeMinutes(whole, ['z1']));
    for (const state of [whole, split]) advanceClock(state, T0 + YEAR_MS + 90_000 + 30 * MINUTE_MS);
    wholeRows.push(...closeMinutes(whole, ['z1']));
    splitRows.push(...closeMinutes(split, ['z1']));
    expect(splitRows).toEqual(wholeRows);
    expect(wholeRows.length).toBeLessThan(400);
  });
});

describe('a phone probing every few seconds', () => {
  it('counts at every minute end, though its newest burst is still being heard then', () => {
    const state = createOccupancyState(OPTS);
    const rows = [];
    for (let t = 20_000; t < 200_000; t += 100) {
      addSighting(state, 'a', 'z1', -55, T0 + t);
      if (t % 1000 === 0) rows.push(...closeMinutes(state, ['z1']));
    }
    const minutes = rows.filter((r) => r.bucketMs >= T0);
    expect(minutes.map((r) => r.devices)).toEqual([1, 1, 1]);
  });
});
