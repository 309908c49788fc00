import { addSighting, closeMinutes, createOccupancyState } from '../core/src/occupancy.ts';
import { isRandomizedMac } from '../core/src/privacy.ts';
import { loadShippedLayout } from '../simulators/src/load-layout.ts';
import { createMallSim, type RawWifiSighting } from '../simulators/src/mall-sim.ts';
import { fmt, makeReadings } from './fixtures.ts';

// The pure occupancy engine on one core: sightings in, minutes closed. Two inputs:
//   fixture    the synthetic readings (every reading its own probe burst, heard by one sensor of
//              a layout the engine does not know): the per-burst cost at its worst.
//   simulated  30 minutes of the joy-city simulator's WiFi readings with the layout (radio map,
//              zone graph, bursts of a dozen readings, randomized MACs): what a mall sends.
// Baseline in the same process: a loop that only reads the same sightings and touches a Map per
// device, the floor any per-device engine pays.

const OPTIONS = { presenceMs: 180_000, allowedLatenessMs: 5_000, visitIdleMs: 600_000 };

export function benchOccupancyEngine(count: number): {
  sightingsPerSec: number;
  baselinePerSec: number;
  ratio: number;
  simulatedPerSec: number;
} {
  const sensors = Array.from({ length: 100 }, (_, i) => `s-${i}`);
  const zoneOf = new Map(sensors.map((s, i) => [s, `z-${i % 60}`]));
  const zones = [...new Set(zoneOf.values())];
  const readings = makeReadings(count, sensors, 20_000);

  const baselineStart = performance.now();
  const seen = new Map<string, number>();
  for (const r of readings) seen.set(r.device, r.heardAt);
  const baselineSec = (performance.now() - baselineStart) / 1000;

  const state = createOccupancyState(OPTIONS);
  const started = performance.now();
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    // Not randomized: the fixture's flag is per reading, not per device (see `simulated` for linking).
    addSighting(state, r.device, zoneOf.get(r.sensorId)!, r.rssiDbm, r.heardAt);
    if (i % 500 === 499) closeMinutes(state, zones);
  }
  closeMinutes(state, zones);
  const seconds = (performance.now() - started) / 1000;
  return {
    sightingsPerSec: count / seconds,
    baselinePerSec: count / baselineSec,
    ratio: baselineSec / seconds,
    simulatedPerSec: benchSimulated(),
  };
}

let simulated: RawWifiSighting[] | undefined;
const layout = loadShippedLayout('joy-city');

/** Sightings per second on 30 simulated minutes of joy-city (generated once, not timed). */
function benchSimulated(): number {
  const startMs = Date.UTC(2026, 10, 18, 3, 0, 0);
  if (simulated === undefined) {
    const sim = createMallSim({ layout, seed: 42, startMs: startMs - 3_600_000 });
    sim.stepAll(startMs);
    simulated = sim.stepAll(startMs + 30 * 60_000).wifi;
  }
  const zoneOf = new Map(layout.sensors.map((s) => [s.id, s.zone]));
  const zoneIds = layout.zones.map((z) => z.id);
  const randomized = new Map<string, boolean>();
  for (const r of simulated) if (!randomized.has(r.mac)) randomized.set(r.mac, isRandomizedMac(r.mac));
  const state = createOccupancyState(OPTIONS, layout);
  const started = performance.now();
  for (let i = 0; i < simulated.length; i++) {
    const r = simulated[i]!;
    addSighting(
      state,
      r.mac,
      zoneOf.get(r.sensorId)!,
      r.rssiDbm,
      r.heardAt,
      randomized.get(r.mac),
      r.sensorId,
    );
    if (i % 500 === 499) closeMinutes(state, zoneIds);
  }
  closeMinutes(state, zoneIds);
  return simulated.length / ((performance.now() - started) / 1000);
}

export function printOccupancyEngine(r: ReturnType<typeof benchOccupancyEngine>): void {
  console.log(
    `occupancy engine  ${fmt(r.sightingsPerSec)} sightings/s  (baseline Map loop ${fmt(r.baselinePerSec)}/s, ratio=${r.ratio.toFixed(2)})`,
  );
  console.log(
    `occupancy engine  ${fmt(r.simulatedPerSec)} sightings/s on simulated joy-city WiFi (radio map)`,
  );
}
