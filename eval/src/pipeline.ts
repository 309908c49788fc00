import type pg from 'pg';
import { pino } from 'pino';
import { createAnalytics } from '../../analytics/src/analytics.ts';
import type { Layout } from '../../core/src/layout.ts';
import type { OccupancyOptions } from '../../core/src/occupancy.ts';
import type { MallSim } from '../../simulators/src/mall-sim.ts';
import { createVirtualClock } from '../../testkit/src/duration.ts';
import { startTestBroker } from '../../testkit/src/test-broker.ts';
import { createVirtualGateway, type VirtualGateway } from '../../testkit/src/virtual-gateway.ts';

// Runs the simulator's readings through the real path, faster than real time: one gateway per
// floor (the real gateway code on a virtual clock) → Aedes → analytics → the database. Each
// simulated chunk is published and acknowledged before the next one, then the gateways send a
// heartbeat so analytics' event clock follows the simulation.

const MAX_BATCHES_AHEAD = 40;

export interface PipelineRun {
  readings: number;
}

export async function runThroughPipeline(options: {
  sim: MallSim;
  layout: Layout;
  pool: pg.Pool;
  siteSecret: string;
  toMs: number;
  occupancy: OccupancyOptions;
  chunkMs?: number;
  onProgress?: (simMs: number) => void;
}): Promise<PipelineRun> {
  const { sim, layout } = options;
  const chunkMs = options.chunkMs ?? 60_000;
  const logger = pino({ level: 'silent' });
  const broker = await startTestBroker({ logger });
  const fatal: unknown[] = [];
  const analytics = await createAnalytics({
    pool: options.pool,
    layouts: [layout],
    mqtt: { url: broker.url, ...(await broker.addObserver()), clientId: 'eval-analytics' },
    occupancy: options.occupancy,
    liveIntervalMs: 100,
    logger,
    onFatal: (err) => fatal.push(err),
  });
  const clock = createVirtualClock(sim.nowMs());
  const gateways = new Map<string, VirtualGateway>();
  try {
    for (const floor of layout.floors) {
      gateways.set(
        floor.id,
        await createVirtualGateway({
          url: broker.url,
          login: await broker.addGateway(layout.id, `eval-${floor.id}`),
          siteSecret: options.siteSecret,
          clock,
          batchMaxReadings: 500,
          logger,
        }),
      );
    }
    const gatewayOf = new Map(layout.sensors.map((s) => [s.id, gateways.get(s.floor)!.gateway]));
    let readings = 0;
    const heartbeat = () => Promise.all([...gateways.values()].map((g) => g.gateway.heartbeat()));
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
      const published = () =>
        [...gateways.values()].reduce((n, g) => n + g.gateway.stats().batchesPublished, 0);
      while (published() - (analytics.stats().batches + analytics.stats().duplicates) > MAX_BATCHES_AHEAD) {
        if (fatal.length > 0) throw fatal[0];
        await new Promise((r) => setTimeout(r, 5));
      }
      if (fatal.length > 0) throw fatal[0];
      options.onProgress?.(next);
      t = next;
    }
    // Let every open visit close: event time moves past the idle gap with no more readings.
    clock.set(options.toMs + options.occupancy.visitIdleMs + options.occupancy.allowedLatenessMs + 60_000);
    await heartbeat();
    const target = clock.now();
    const deadline = Date.now() + 600_000;
    while ((analytics.eventTimeMs(layout.id) ?? 0) < target) {
      if (fatal.length > 0) throw fatal[0];
      if (Date.now() > deadline)
        throw new Error('analytics did not catch up with the simulation in 10 minutes');
      await new Promise((r) => setTimeout(r, 20));
    }
    const ticks = analytics.stats().ticks;
    while (analytics.stats().ticks < ticks + 2) await new Promise((r) => setTimeout(r, 20));
    return { readings };
  } finally {
    for (const g of gateways.values()) await g.close();
    await analytics.close();
    await broker.close();
  }
}
