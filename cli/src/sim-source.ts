import type { Layout } from '../../core/src/layout.ts';
import type { ReadingSink, ReadingSource } from '../../gateway/src/source.ts';
import { createMallSim, type MallSim } from '../../simulators/src/mall-sim.ts';
import { runSimulation } from '../../simulators/src/run-live.ts';

// The simulator as a gateway reading source. Composition lives here in the CLI, so neither the
// gateway nor the simulator imports the other.

export interface SimSourceOptions {
  layout: Layout;
  seed: number;
  /** Simulated ms per wall ms. */
  speed: number;
  /** Simulated time run (silently) before going live, so the mall is not empty at start. */
  warmupMs: number;
  arrivalsPerHour?: number | undefined;
  /** Which sink gets a sensor's sightings (one gateway per floor); default: the one sink given to start. */
  route?: (sensorId: string) => ReadingSink | undefined;
  nowMs?: number;
}

export interface SimSource extends ReadingSource {
  sim: MallSim;
  start(sink: ReadingSink): void;
  stop(): void;
}

export function createSimSource(options: SimSourceOptions): SimSource {
  const startMs = (options.nowMs ?? Date.now()) - options.warmupMs;
  const sim = createMallSim({
    layout: options.layout,
    seed: options.seed,
    startMs,
    // A live demo runs whenever it is started, not only in the mall's opening hours.
    alwaysOpen: true,
    ...(options.arrivalsPerHour !== undefined ? { arrivalsPerHour: options.arrivalsPerHour } : {}),
  });
  if (options.warmupMs > 0) sim.step(startMs + options.warmupMs);
  let run: { stop(): void } | undefined;
  return {
    sim,
    start(sink) {
      run = runSimulation({
        sim,
        speed: options.speed,
        onSightings(sightings) {
          if (!options.route) {
            sink.pushWifi(sightings);
            return;
          }
          const bySink = new Map<ReadingSink, typeof sightings>();
          for (const s of sightings) {
            const target = options.route(s.sensorId) ?? sink;
            const list = bySink.get(target);
            if (list) list.push(s);
            else bySink.set(target, [s]);
          }
          for (const [target, list] of bySink) target.pushWifi(list);
        },
      });
    },
    stop() {
      run?.stop();
    },
  };
}
