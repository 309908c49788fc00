import { addSighting, closeMinutes, createOccupancyState } from '../core/src/occupancy.ts';
import { fmt, makeReadings } from './fixtures.ts';

// The pure occupancy engine on one core: sightings in, minutes closed. Baseline in the same
// process: a loop that only reads the same sightings and touches a Map per device, the floor any
// per-device engine pays.

export function benchOccupancyEngine(count: number): {
  sightingsPerSec: number;
  baselinePerSec: number;
  ratio: number;
} {
  const sensors = Array.from({ length: 100 }, (_, i) => `s-${i}`);
  const zoneOf = new Map(sensors.map((s, i) => [s, `z-${i % 60}`]));
  const zones = [...new Set(zoneOf.values())];
  const readings = makeReadings(count, sensors, 20_000);
  const options = { presenceMs: 180_000, allowedLatenessMs: 5_000, visitIdleMs: 600_000 };

  const baselineStart = performance.now();
  const seen = new Map<string, number>();
  for (const r of readings) seen.set(r.device, r.heardAt);
  const baselineSec = (performance.now() - baselineStart) / 1000;

  const state = createOccupancyState(options);
  const started = performance.now();
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    addSighting(state, r.device, zoneOf.get(r.sensorId)!, r.rssiDbm, r.heardAt);
    if (i % 500 === 499) closeMinutes(state, zones);
  }
  closeMinutes(state, zones);
  const seconds = (performance.now() - started) / 1000;
  return {
    sightingsPerSec: count / seconds,
    baselinePerSec: count / baselineSec,
    ratio: baselineSec / seconds,
  };
}

export function printOccupancyEngine(r: ReturnType<typeof benchOccupancyEngine>): void {
  console.log(
    `occupancy engine  ${fmt(r.sightingsPerSec)} sightings/s  (baseline Map loop ${fmt(r.baselinePerSec)}/s, ratio=${r.ratio.toFixed(2)})`,
  );
}
