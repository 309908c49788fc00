import { SILENCE_BRIDGE_MS } from '../../core/src/occupancy.ts';
import type { MallSim } from '../../simulators/src/mall-sim.ts';
import { createVirtualClock } from '../../testkit/src/duration.ts';
import type { TestSystem } from '../../testkit/src/test-system.ts';
import { createVirtualGateway, type VirtualGateway } from '../../testkit/src/virtual-gateway.ts';

// Runs the simulator's readings through the real path, faster than real time: one gateway per
// floor (the real gateway code on a virtual clock) → the system's Aedes → analytics → its
// database. Each simulated chunk is published and acknowledged before the next one, then the
// gateways send a heartbeat so analytics' event clock follows the simulation.

const MAX_BATCHES_AHEAD = 40;
/** Beyond the idle gap or silence bridge: the zone decisions' lag (a minute by default) and the last minute's own length. */
const FINAL_MARGIN_MS = 5 * 60_000;

export interface PipelineRun {
  readings: number;
}

export async function runThroughPipeline(options: {
  sim: MallSim;
  system: TestSystem;
  toMs: number;
  chunkMs?: number;
  onProgress?: (simMs: number) => void;
}): Promise<PipelineRun> {
  const { sim, system } = options;
  const { layout, analytics } = system;
  const chunkMs = options.chunkMs ?? 60_000;
  const clock = createVirtualClock(sim.nowMs());
  const gateways = new Map<string, VirtualGateway>();
  try {
    for (const floor of layout.floors) {
      gateways.set(
        floor.id,
        await createVirtualGateway({
          url: system.broker.url,
          login: await system.broker.addGateway(layout.id, `eval-${floor.id}`),
          siteSecret: system.siteSecret,
          clock,
          batchMaxReadings: 500,
          logger: system.logger,
        }),
      );
    }
    const gatewayOf = new Map(layout.sensors.map((s) => [s.id, gateways.get(s.floor)!.gateway]));
    const published = () =>
      [...gateways.values()].reduce((n, g) => n + g.gateway.stats().batchesPublished, 0);
    const heartbeat = () => Promise.all([...gateways.values()].map((g) => g.gateway.heartbeat()));
    let readings = 0;
    for (let t = sim.nowMs(); t < options.toMs; ) {
      const next = Math.min(options.toMs, t + chunkMs);
      const out = sim.stepAll(next);
      for (const s of out.wifi) gatewayOf.get(s.sensorId)?.pushWifi([s]);
      for (const s of out.ble) gatewayOf.get(s.sensorId)?.pushBle([s]);
      for (const s of out.scale) gatewayOf.get(s.sensorId)?.pushScale([s]);
      readings += out.wifi.length + out.ble.length + out.scale.length;
      clock.set(next);
      await heartbeat();
      // Flow control: keep analytics within a few dozen batches of the gateways, so the broker's
      // queue for it stays small however fast the simulation runs.
      while (published() - (analytics.stats().batches + analytics.stats().duplicates) > MAX_BATCHES_AHEAD) {
        system.assertHealthy();
        await new Promise((r) => setTimeout(r, 5));
      }
      options.onProgress?.(next);
      t = next;
    }
    // Let every open visit close and every minute get its final count: event time moves past the
    // idle gap (or the silence bridge, if longer), plus a few minutes for the zone decisions'
    // lag, with no more readings.
    const { visitIdleMs, allowedLatenessMs, silenceBridgeMs = SILENCE_BRIDGE_MS } = system.occupancy;
    clock.set(options.toMs + Math.max(visitIdleMs, silenceBridgeMs) + allowedLatenessMs + FINAL_MARGIN_MS);
    await heartbeat();
    await system.settle(clock.now(), { timeout: '10m' });
    return { readings };
  } finally {
    for (const g of gateways.values()) await g.close();
  }
}
