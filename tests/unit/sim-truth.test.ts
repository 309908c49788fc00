import { describe, expect, it } from 'vitest';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { createMallSim, defaultArrivalsPerHour } from '../../simulators/src/mall-sim.ts';

const JOY_CITY = loadShippedLayout('joy-city');
const SMALL_STORE = loadShippedLayout('small-store');
const START_MS = Date.UTC(2025, 5, 7, 2, 0, 0);
const MINUTE_MS = 60_000;

function totalOf(occupancy: Map<string, number>): number {
  let total = 0;
  for (const count of occupancy.values()) total += count;
  return total;
}

describe('mall simulation ground truth', () => {
  it('keeps truthOccupancy consistent with shoppersInside, minute by minute', () => {
    const sim = createMallSim({ layout: JOY_CITY, seed: 1, startMs: START_MS });
    expect(sim.shoppersInside()).toBe(0);
    for (let m = 1; m <= 30; m++) {
      sim.step(START_MS + m * MINUTE_MS);
      const occupancy = sim.truthOccupancy();
      expect(totalOf(occupancy)).toBe(sim.shoppersInside());
      for (const count of occupancy.values()) expect(count).toBeGreaterThanOrEqual(0);
    }
    expect(sim.nowMs()).toBe(START_MS + 30 * MINUTE_MS);
  });

  it('fills joy-city within 30 minutes, spread over many zones and every floor', () => {
    const sim = createMallSim({ layout: JOY_CITY, seed: 2, startMs: START_MS });
    sim.step(START_MS + 30 * MINUTE_MS);
    const occupancy = sim.truthOccupancy();
    expect(new Set(occupancy.keys())).toEqual(new Set(JOY_CITY.zones.map((z) => z.id)));
    expect(sim.shoppersInside()).toBeGreaterThan(50);
    const occupied = [...occupancy].filter(([, count]) => count > 0);
    expect(occupied.length).toBeGreaterThan(20);
    const floors = new Set(occupied.map(([id]) => JOY_CITY.zoneById.get(id)!.floor));
    expect(floors.size).toBe(JOY_CITY.floors.length);
  });

  it('lets shoppers leave: the population levels off near arrivals x mean visit time', () => {
    const sim = createMallSim({ layout: JOY_CITY, seed: 3, startMs: START_MS });
    sim.step(START_MS + 4 * 60 * MINUTE_MS);
    const rate = defaultArrivalsPerHour(JOY_CITY);
    // Visits average well under two hours, so four hours in far fewer than all arrivals remain.
    expect(sim.shoppersInside()).toBeGreaterThan(rate * 0.5);
    expect(sim.shoppersInside()).toBeLessThan(rate * 1.5);
  });

  it('runs the small store and empties it once arrivals stop', () => {
    const sim = createMallSim({ layout: SMALL_STORE, seed: 4, startMs: START_MS, arrivalsPerHour: 120 });
    const sightings = sim.step(START_MS + 30 * MINUTE_MS);
    expect(sim.shoppersInside()).toBeGreaterThan(0);
    expect(totalOf(sim.truthOccupancy())).toBe(sim.shoppersInside());
    expect(sightings.length).toBeGreaterThan(0);

    const quiet = createMallSim({ layout: SMALL_STORE, seed: 4, startMs: START_MS, arrivalsPerHour: 0 });
    expect(quiet.step(START_MS + 30 * MINUTE_MS)).toEqual([]);
    expect(quiet.shoppersInside()).toBe(0);
  });

  it('ignores a step backwards in time', () => {
    const sim = createMallSim({ layout: SMALL_STORE, seed: 5, startMs: START_MS, arrivalsPerHour: 600 });
    sim.step(START_MS + 10 * MINUTE_MS);
    const inside = sim.shoppersInside();
    expect(sim.step(START_MS + 5 * MINUTE_MS)).toEqual([]);
    expect(sim.nowMs()).toBe(START_MS + 10 * MINUTE_MS);
    expect(sim.shoppersInside()).toBe(inside);
  });

  it('rejects bad options with a coded error naming each problem', () => {
    expect(() =>
      createMallSim({ layout: SMALL_STORE, seed: -1, startMs: START_MS, randomizedMacShare: 2 }),
    ).toThrowError(/seed: .*randomizedMacShare: /);
    let thrown: unknown;
    try {
      createMallSim({ layout: SMALL_STORE, seed: 1.5, startMs: START_MS });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'INVALID_SIM_OPTIONS' });
  });
});
