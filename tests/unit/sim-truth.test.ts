import { describe, expect, it } from 'vitest';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { createMallSim, defaultStaff } from '../../simulators/src/mall-sim.ts';

const JOY_CITY = loadShippedLayout('joy-city');
const SMALL_STORE = loadShippedLayout('small-store');
/** Saturday 2025-06-07, 10:00 in Shanghai (joy-city's time zone): opening time. */
const START_MS = Date.UTC(2025, 5, 7, 2, 0, 0);
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** Noon the same Saturday in UTC, the small store's time zone. */
const SMALL_NOON_MS = Date.UTC(2025, 5, 7, 12, 0, 0);

function totalOf(occupancy: Map<string, number>): number {
  let total = 0;
  for (const count of occupancy.values()) total += count;
  return total;
}

const outsideZones = new Set(JOY_CITY.zones.filter((z) => z.kind === 'outside').map((z) => z.id));

describe('mall simulation live truth', () => {
  it('keeps truthOccupancy, presentByKind, shoppersInside and truth() consistent, minute by minute', () => {
    const sim = createMallSim({ layout: JOY_CITY, seed: 1, startMs: START_MS });
    expect(sim.shoppersInside()).toBe(0);
    expect(sim.presentByKind()).toEqual({ shopper: 0, 'passer-by': 0, staff: 40 }); // at work since before opening
    for (let m = 1; m <= 30; m++) {
      sim.step(START_MS + m * MINUTE_MS);
      const occupancy = sim.truthOccupancy();
      const present = sim.presentByKind();
      expect(totalOf(occupancy)).toBe(present.shopper + present['passer-by'] + present.staff);
      for (const count of occupancy.values()) expect(count).toBeGreaterThanOrEqual(0);
      if (m % 10 === 0) {
        const truth = sim.truth();
        const open = truth.intervals.filter((iv) => iv.open === true);
        expect(open).toHaveLength(totalOf(occupancy));
        const kindOf = new Map(truth.visits.map((v) => [v.person, v.kind]));
        const inside = open.filter(
          (iv) => kindOf.get(iv.person) === 'shopper' && !outsideZones.has(iv.zoneId),
        );
        expect(sim.shoppersInside()).toBe(inside.length);
        for (const [zoneId, count] of occupancy) {
          expect(open.filter((iv) => iv.zoneId === zoneId)).toHaveLength(count);
        }
      }
    }
    expect(sim.nowMs()).toBe(START_MS + 30 * MINUTE_MS);
  });

  it('fills joy-city by lunchtime, spread over many zones and every floor', () => {
    const sim = createMallSim({ layout: JOY_CITY, seed: 2, startMs: START_MS });
    sim.step(START_MS + 2 * HOUR_MS);
    const occupancy = sim.truthOccupancy();
    expect(new Set(occupancy.keys())).toEqual(new Set(JOY_CITY.zones.map((z) => z.id)));
    expect(sim.shoppersInside()).toBeGreaterThan(100);
    const occupied = [...occupancy].filter(([, count]) => count > 0);
    expect(occupied.length).toBeGreaterThan(30);
    const floors = new Set(occupied.map(([id]) => JOY_CITY.zoneById.get(id)!.floor));
    expect(floors.size).toBe(JOY_CITY.floors.length);
  });

  it('empties of shoppers by closing, and of staff shortly after', () => {
    const sim = createMallSim({ layout: JOY_CITY, seed: 3, startMs: START_MS });
    sim.step(START_MS + 6 * HOUR_MS); // 16:00
    expect(sim.shoppersInside()).toBeGreaterThan(150);
    sim.step(START_MS + 12 * HOUR_MS); // 22:00
    expect(sim.shoppersInside()).toBe(0);
    expect(sim.presentByKind().staff).toBe(40);
    sim.step(START_MS + 12.5 * HOUR_MS); // 22:30
    expect(sim.presentByKind()).toMatchObject({ shopper: 0, staff: 0 });
    // Only the street is alive at night (staff come back from 09:15, shoppers at ten).
    const night = sim.stepAll(START_MS + 23 * HOUR_MS);
    expect(night.wifi.length).toBeGreaterThan(0);
    expect(night.wifi.every((s) => s.sensorId.startsWith('l1-'))).toBe(true);
    expect(
      sim.truth().visits.filter((v) => v.startMs > START_MS + 12.5 * HOUR_MS && v.kind !== 'passer-by'),
    ).toEqual([]);
  });

  it('runs the small store, and is silent without arrivals or staff', () => {
    expect(defaultStaff(SMALL_STORE)).toBe(1);
    const sim = createMallSim({ layout: SMALL_STORE, seed: 4, startMs: SMALL_NOON_MS, arrivalsPerHour: 120 });
    const sightings = sim.step(SMALL_NOON_MS + 30 * MINUTE_MS);
    expect(sim.shoppersInside()).toBeGreaterThan(0);
    expect(totalOf(sim.truthOccupancy())).toBe(sim.shoppersInside() + 1); // and the member of staff
    expect(sightings.length).toBeGreaterThan(0);
    // No outside zone: no passers-by.
    expect(sim.truth().visits.every((v) => v.kind !== 'passer-by')).toBe(true);

    const quiet = createMallSim({
      layout: SMALL_STORE,
      seed: 4,
      startMs: SMALL_NOON_MS,
      arrivalsPerHour: 0,
      staff: 0,
    });
    expect(quiet.stepAll(SMALL_NOON_MS + 30 * MINUTE_MS)).toEqual({ wifi: [], ble: [], scale: [] });
    expect(quiet.shoppersInside()).toBe(0);
    expect(quiet.truth()).toEqual({
      startMs: SMALL_NOON_MS,
      endMs: SMALL_NOON_MS + 30 * MINUTE_MS,
      intervals: [],
      macs: [],
      visits: [],
    });
  });

  it('stays open round the clock with alwaysOpen', () => {
    const night = Date.UTC(2025, 5, 7, 18, 0); // 02:00 in Shanghai
    const sim = createMallSim({ layout: JOY_CITY, seed: 6, startMs: night, alwaysOpen: true });
    expect(sim.presentByKind().staff).toBe(40);
    sim.step(night + HOUR_MS);
    expect(sim.shoppersInside()).toBeGreaterThan(100);
    const closed = createMallSim({ layout: JOY_CITY, seed: 6, startMs: night });
    closed.step(night + HOUR_MS);
    expect(closed.shoppersInside()).toBe(0);
    expect(closed.presentByKind().staff).toBe(0);
  });

  it('starts with initialShoppers already in the shops', () => {
    const sim = createMallSim({
      layout: JOY_CITY,
      seed: 7,
      startMs: START_MS + 4 * HOUR_MS,
      initialShoppers: 500,
    });
    expect(sim.shoppersInside()).toBe(500);
    const stores = new Set(JOY_CITY.zones.filter((z) => z.kind === 'store').map((z) => z.id));
    const occupancy = sim.truthOccupancy();
    let inStores = 0;
    for (const [zoneId, count] of occupancy) if (stores.has(zoneId)) inStores += count;
    expect(inStores).toBe(500 + 40);
    sim.step(START_MS + 5 * HOUR_MS);
    expect(sim.shoppersInside()).toBeGreaterThan(100);
  });

  it('lets a share of phones go silent for 10-40 minutes', () => {
    // One member of staff in the small store all afternoon, nobody else: their probe bursts' gaps.
    const maxGapMs = (silentPhoneShare: number): number => {
      const sim = createMallSim({
        layout: SMALL_STORE,
        seed: 9,
        startMs: SMALL_NOON_MS,
        arrivalsPerHour: 0,
        silentPhoneShare,
      });
      const times = [...new Set(sim.step(SMALL_NOON_MS + 4 * HOUR_MS).map((s) => s.heardAt))];
      expect(times.length).toBeGreaterThan(50);
      return Math.max(...times.map((t, i) => (i === 0 ? 0 : t - times[i - 1]!)));
    };
    expect(maxGapMs(0)).toBeLessThan(2 * MINUTE_MS);
    const silent = maxGapMs(1);
    expect(silent).toBeGreaterThanOrEqual(10 * MINUTE_MS);
    expect(silent).toBeLessThan(42 * MINUTE_MS);
  });

  it('ignores a step backwards in time', () => {
    const sim = createMallSim({
      layout: SMALL_STORE,
      seed: 5,
      startMs: SMALL_NOON_MS,
      arrivalsPerHour: 600,
    });
    sim.step(SMALL_NOON_MS + 10 * MINUTE_MS);
    const inside = sim.shoppersInside();
    expect(sim.step(SMALL_NOON_MS + 5 * MINUTE_MS)).toEqual([]);
    expect(sim.nowMs()).toBe(SMALL_NOON_MS + 10 * MINUTE_MS);
    expect(sim.shoppersInside()).toBe(inside);
  });

  it('rejects bad options with a coded error naming each problem', () => {
    expect(() =>
      createMallSim({ layout: SMALL_STORE, seed: -1, startMs: START_MS, randomizedMacShare: 2 }),
    ).toThrowError(/seed: .*randomizedMacShare: /);
    expect(() =>
      createMallSim({
        layout: { ...SMALL_STORE, timezone: 'Mars/Olympus_Mons' },
        seed: 1,
        startMs: START_MS,
        staff: 1.5,
        passersByPerHour: -1,
        returningShare: 1.1,
        bleShare: -0.1,
        silentPhoneShare: 2,
        initialShoppers: -3,
      }),
    ).toThrowError(
      /passersByPerHour: .*staff: .*initialShoppers: .*returningShare: .*bleShare: .*silentPhoneShare: .*layout\.timezone: /,
    );
    let thrown: unknown;
    try {
      createMallSim({ layout: SMALL_STORE, seed: 1.5, startMs: START_MS });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'INVALID_SIM_OPTIONS' });
  });
});
