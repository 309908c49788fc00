import { pathToFileURL } from 'node:url';
import { loadShippedLayout } from '../simulators/src/load-layout.ts';
import { createMallSim } from '../simulators/src/mall-sim.ts';
import { fmt } from './fixtures.ts';

// The simulator at scale on one core: joy-city with 20,000 shoppers already inside (plus the
// usual arrivals, passers-by and staff) on a weekday afternoon, stepped through 10 simulated
// minutes in 10 s steps, as a live run or the eval would. Target: 10× real time (issue 3).
// Readings count WiFi sightings, BLE sightings and scale readings alike.

const SHOPPERS = 20_000;
const SIMULATED_MS = 10 * 60_000;
const STEP_MS = 10_000;
const TARGET_SPEED = 10;
/** Wednesday 2025-06-11, 14:00 in Shanghai. */
const START_MS = Date.UTC(2025, 5, 11, 6, 0);

export function benchSimScale(): {
  shoppers: number;
  simSecondsPerWallSecond: number;
  sightingsPerSec: number;
} {
  const layout = loadShippedLayout('joy-city');
  const sim = createMallSim({ layout, seed: 42, startMs: START_MS, initialShoppers: SHOPPERS });
  const shoppers = sim.shoppersInside();
  let readings = 0;
  const started = performance.now();
  for (let t = START_MS + STEP_MS; t <= START_MS + SIMULATED_MS; t += STEP_MS) {
    const out = sim.stepAll(t);
    readings += out.wifi.length + out.ble.length + out.scale.length;
  }
  const wallSec = (performance.now() - started) / 1000;
  return {
    shoppers,
    simSecondsPerWallSecond: SIMULATED_MS / 1000 / wallSec,
    sightingsPerSec: readings / wallSec,
  };
}

export function printSimScale(r: ReturnType<typeof benchSimScale>): void {
  const speed = r.simSecondsPerWallSecond;
  console.log(
    `simulator ${fmt(r.shoppers)} shoppers: ${speed.toFixed(1)}x real time (ratio to the ${TARGET_SPEED}x target: ${(speed / TARGET_SPEED).toFixed(2)}), ${fmt(r.sightingsPerSec)} sightings/s`,
  );
}

// `npx tsx bench/sim-scale.ts` runs it on its own.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printSimScale(benchSimScale());
}
