import { describe, expect, it } from 'vitest';
import {
  addSighting,
  advanceClock,
  closeMinutes,
  countOccupancy,
  createOccupancyState,
  MINUTE_MS,
  type OccupancyState,
} from '../../core/src/occupancy.ts';

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const OPTS = { presenceMs: 120_000, allowedLatenessMs: 5_000, visitIdleMs: 600_000 };
type S = [device: string, zone: string, rssi: number, tMs: number];

function run(sightings: S[]) {
  const state = createOccupancyState(OPTS);
  for (const [d, z, r, t] of sightings) addSighting(state, d, z, r, T0 + t);
  return state;
}

/** Applies everything queued (the watermark moves past the newest sighting) and counts. */
function settled(state: OccupancyState): Record<string, number> {
  const newest = state.newestMs;
  advanceClock(state, newest + OPTS.allowedLatenessMs + 1);
  closeMinutes(state, []);
  return Object.fromEntries(countOccupancy(state, newest, OPTS.presenceMs));
}

describe('zone by strongest sensor of the latest burst', () => {
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
      'a later burst moves the device even if weaker',
      [
        ['a', 'z1', -50, 0],
        ['a', 'z2', -75, 30_000],
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
    [
      'a late reading from an older burst does not move the device',
      [
        ['a', 'z1', -60, 30_000],
        ['a', 'z2', -40, 10_000],
      ],
      { z1: 1 },
    ],
  ])('%s', (_name, sightings, expected) => {
    expect(settled(run(sightings))).toEqual(expected);
  });

  it('a device silent longer than the presence window is not counted', () => {
    const state = run([
      ['a', 'z1', -60, 0],
      ['b', 'z1', -60, 200_000],
    ]);
    expect(settled(state)).toEqual({ z1: 1 });
  });
});

describe('closeMinutes', () => {
  it('closes a minute only once the watermark passes its end plus lateness, with zeros for quiet zones', () => {
    const state = run([['a', 'z1', -60, 10_000]]);
    expect(closeMinutes(state, ['z1', 'z2'])).toEqual([]);
    addSighting(state, 'b', 'z2', -60, T0 + MINUTE_MS + 4_000);
    expect(closeMinutes(state, ['z1', 'z2'])).toEqual([]);
    addSighting(state, 'b', 'z2', -60, T0 + MINUTE_MS + 5_000);
    expect(closeMinutes(state, ['z1', 'z2'])).toEqual([
      { bucketMs: T0, zoneId: 'z1', devices: 1 },
      { bucketMs: T0, zoneId: 'z2', devices: 0 },
    ]);
  });

  it('closes each minute of a gap, and devices fall away after the presence window', () => {
    const state = run([
      ['a', 'z1', -60, 0],
      ['b', 'z1', -60, 5 * MINUTE_MS + 5_000],
    ]);
    const rows = closeMinutes(state, ['z1']);
    expect(rows.map((r) => [(r.bucketMs - T0) / MINUTE_MS, r.devices])).toEqual([
      [0, 1],
      [1, 1],
      [2, 0],
      [3, 0],
      [4, 0],
    ]);
  });

  const ZONES = ['z0', 'z1', 'z2', 'z3', 'z4'];
  const sightings: S[] = [];
  for (let i = 0; i < 400; i++) sightings.push([`d${i % 37}`, `z${(i * 7) % 5}`, -50 - (i % 30), i * 1_500]);

  function rowsOf(order: S[], closeEvery: number) {
    const state = createOccupancyState(OPTS);
    const rows = [];
    order.forEach(([d, z, r, t], i) => {
      addSighting(state, d, z, r, T0 + t);
      if (i % closeEvery === 0) rows.push(...closeMinutes(state, ZONES));
    });
    rows.push(...closeMinutes(state, ZONES));
    return rows;
  }

  it('gives the same rows whatever the batch boundaries', () => {
    const whole = rowsOf(sightings, Number.MAX_SAFE_INTEGER);
    expect(whole.length).toBeGreaterThan(0);
    for (const every of [1, 2, 7, 31, 100]) expect(rowsOf(sightings, every)).toEqual(whole);
  });

  it('gives the same rows when readings arrive out of order within the allowed lateness', () => {
    const shuffled = [...sightings];
    // Swap neighbours within 3 s of each other: out of order, but well within the 5 s lateness.
    for (let i = 0; i + 1 < shuffled.length; i += 2)
      [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1]!, shuffled[i]!];
    expect(rowsOf(shuffled, 3)).toEqual(rowsOf(sightings, Number.MAX_SAFE_INTEGER));
  });
});

describe('quiet stretches', () => {
  const YEAR_MS = 365 * 24 * 60 * MINUTE_MS;
  it('writes the minutes until an hour after everyone left, then skips to the next sighting', () => {
    const state = createOccupancyState(OPTS);
    addSighting(state, 'a', 'z1', -60, T0 + 10_000);
    addSighting(state, 'b', 'z1', -60, T0 + YEAR_MS + 30_000);
    advanceClock(state, T0 + YEAR_MS + 3 * MINUTE_MS);
    const rows = closeMinutes(state, ['z1']);
    // a is present through 10:02:10; the minutes until an hour after that are written (zeros
    // included: 10:00 to 11:01), the empty year is not, and the minutes around b's sighting are.
    const before = rows.filter((r) => r.bucketMs < T0 + YEAR_MS);
    expect(before.length).toBe(62);
    expect(before.slice(0, 3).map((r) => r.devices)).toEqual([1, 1, 0]);
    expect(before.slice(2).every((r) => r.devices === 0)).toBe(true);
    expect(rows.filter((r) => r.bucketMs >= T0 + YEAR_MS).map((r) => r.devices)).toEqual([1, 1]);
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
    for (const state of [whole, split]) advanceClock(state, T0 + YEAR_MS + 90_000 + 3 * MINUTE_MS);
    wholeRows.push(...closeMinutes(whole, ['z1']));
    splitRows.push(...closeMinutes(split, ['z1']));
    expect(splitRows).toEqual(wholeRows);
    expect(wholeRows.length).toBeLessThan(200);
  });
});
