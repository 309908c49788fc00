import type { Layout } from '../core/src/layout.ts';
import type { WifiReading } from '../core/src/messages.ts';
import { isRandomizedMac, pseudonymize } from '../core/src/privacy.ts';
import { createMallSim } from '../simulators/src/mall-sim.ts';

/**
 * What a mall's gateways send: the seeded simulator's WiFi readings (probe bursts heard by the
 * sensors near the phone, RSSI from distance and walls, shoppers dwelling in stores and walking
 * the layout graph, 30 % randomized MACs), pseudonymized as a gateway does, one gateway per floor,
 * each floor's readings in the order they were heard. `shoppers` are inside at the start (a busy
 * Saturday afternoon); the simulation runs until `count` readings are heard.
 */
export function makeMallReadings(
  layout: Layout,
  count: number,
  shoppers = 5_000,
): { byGateway: Map<string, WifiReading[]>; lastHeardAtMs: number; devices: number; eventMinutes: number } {
  // Saturday 2026-11-21, 15:00 in Shanghai.
  const startMs = Date.UTC(2026, 10, 21, 7, 0);
  const sim = createMallSim({ layout, seed: 42, startMs, initialShoppers: shoppers });
  const floorOf = new Map(layout.sensors.map((s) => [s.id, s.floor]));
  const identity = new Map<string, { device: string; randomized: boolean }>();
  const byGateway = new Map<string, WifiReading[]>(layout.floors.map((f) => [`gw-${f.id}`, []]));
  let taken = 0;
  let lastHeardAtMs = startMs;
  for (let untilMs = startMs + 10_000; taken < count; untilMs += 10_000) {
    for (const r of sim.stepAll(untilMs).wifi) {
      if (taken === count) break;
      let id = identity.get(r.mac);
      if (!id) {
        id = { device: pseudonymize(r.mac, 'bench-secret-0001'), randomized: isRandomizedMac(r.mac) };
        identity.set(r.mac, id);
      }
      byGateway.get(`gw-${floorOf.get(r.sensorId)}`)?.push({
        sensorId: r.sensorId,
        heardAt: r.heardAt,
        rssiDbm: r.rssiDbm,
        device: id.device,
        randomized: id.randomized,
        frameSeq: r.frameSeq,
      });
      if (r.heardAt > lastHeardAtMs) lastHeardAtMs = r.heardAt;
      taken++;
    }
  }
  return {
    byGateway,
    lastHeardAtMs,
    devices: identity.size,
    eventMinutes: (lastHeardAtMs - startMs) / 60_000,
  };
}
