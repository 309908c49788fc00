import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimSource, type SimSource } from '../../cli/src/sim-source.ts';
import { type Stack, startStack } from '../../cli/src/stack.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The whole path: simulated shoppers → gateways (one per floor) → Aedes → analytics → database →
// dashboard → a Socket.IO client, checked against the database and the simulator's ground truth.

interface OccupancyFrame {
  mallId: string;
  asOf: string;
  total: number;
  zones: { zoneId: string; devices: number; capacity: number }[];
}

const layout = loadShippedLayout('joy-city');

describe.each(backends())('simulator to browser socket on %s', (backend: Backend) => {
  let db: TestDb;
  let stack: Stack;
  let source: SimSource;
  let client: Socket;
  let liveFromMs = 0;
  const frames: OccupancyFrame[] = [];
  const fatal: unknown[] = [];

  beforeAll(async () => {
    db = await createTestDb(backend);
    stack = await startStack({
      pool: db.pool,
      layout,
      siteSecret: 'e2e-site-secret-0001',
      brokerPort: 0,
      dashboardPort: 0,
      occupancy: { presenceMs: 180_000, allowedLatenessMs: 2_000, visitIdleMs: 600_000 },
      liveIntervalMs: 200,
      dashboardTickMs: 200,
      flushIntervalMs: 100,
      loggerFor: () => pino({ level: 'silent' }),
      onFatal: (e) => fatal.push(e),
    });
    // 30 simulated minutes of warm-up, then 20× real time: a few simulated minutes in seconds.
    source = createSimSource({
      layout,
      seed: 7,
      speed: 20,
      warmupMs: 30 * 60_000,
      route: (sensorId) => stack.gatewayOfSensor(sensorId),
    });
    liveFromMs = source.sim.nowMs();
    source.start(stack.gateways.values().next().value!);
    client = io(stack.dashboard.url, { transports: ['websocket'], reconnection: false });
    client.on('occupancy', (frame: OccupancyFrame) => frames.push(frame));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connect_error', reject);
    });
    const ack = await client.emitWithAck('subscribe', { mallId: layout.id });
    expect(ack).toMatchObject({ ok: true });
  });

  afterAll(async () => {
    source?.stop();
    client?.close();
    await stack?.close();
    await db?.close();
    expect(fatal).toEqual([]);
  });

  it('pushes live occupancy over Socket.IO that matches the database and the simulated mall', async () => {
    // Shoppers were already inside at start; let two simulated minutes of probes flow in.
    await waitFor(() => frames.some((f) => f.total > 0), {
      timeoutMs: 30_000,
      what: 'a non-zero occupancy frame',
    });
    await waitFor(() => source.sim.nowMs() - liveFromMs >= 2 * 60_000, {
      timeoutMs: 30_000,
      what: 'two simulated minutes to pass',
    });
    source.stop();
    for (const g of stack.gateways.values()) await g.flush();
    expect(await stack.drained(10_000)).toBe(true);

    // Nothing changes any more: the next frame the client gets must equal the live table.
    const live = async () =>
      (
        await db.pool.query<{ zone_id: string; devices: number }>(
          'SELECT zone_id, devices FROM occupancy_live',
        )
      ).rows;
    const settledRows = await waitFor(
      async () => {
        const a = await live();
        await new Promise((r) => setTimeout(r, 500));
        const b = await live();
        return JSON.stringify(a.sort((x, y) => x.zone_id.localeCompare(y.zone_id))) ===
          JSON.stringify(b.sort((x, y) => x.zone_id.localeCompare(y.zone_id)))
          ? b
          : undefined;
      },
      { timeoutMs: 15_000, what: 'occupancy_live to settle' },
    );
    const seen = frames.length;
    const frame = await waitFor(() => frames[seen + 1], { timeoutMs: 5_000, what: 'a frame after settling' });
    const fromDb = Object.fromEntries(settledRows.map((r) => [r.zone_id, r.devices]));
    const fromSocket = Object.fromEntries(frame.zones.map((z) => [z.zoneId, z.devices]));
    expect(fromSocket).toEqual(fromDb);
    expect(frame.zones).toHaveLength(layout.zones.length);
    // People in the mall: the street in front of the entrances ('outside' zones) does not count.
    const inside = (zoneId: string) => layout.zoneById.get(zoneId)?.kind !== 'outside';
    expect(frame.total).toBe(settledRows.filter((r) => inside(r.zone_id)).reduce((n, r) => n + r.devices, 0));

    // Against ground truth: the analytics count is in the simulated mall's neighbourhood (each
    // phone is one device; randomized MACs that rotated can only add), and most zones that hold
    // shoppers are seen as occupied.
    const truth = source.sim.truthOccupancy();
    const truthTotal = [...truth.entries()].filter(([z]) => inside(z)).reduce((a, [, n]) => a + n, 0);
    expect(truthTotal).toBeGreaterThan(20);
    expect(frame.total).toBeGreaterThan(truthTotal * 0.5);
    expect(frame.total).toBeLessThan(truthTotal * 2);
    const busyTruth = [...truth.entries()].filter(([, n]) => n >= 3).map(([z]) => z);
    const seenBusy = busyTruth.filter((z) => (fromSocket[z] ?? 0) > 0);
    expect(seenBusy.length).toBeGreaterThanOrEqual(Math.ceil(busyTruth.length * 0.6));

    // Closed minutes were written for every zone.
    const minutes = await db.pool.query<{ buckets: string; zones: string }>(
      'SELECT count(DISTINCT bucket) AS buckets, count(DISTINCT zone_id) AS zones FROM occupancy_minute',
    );
    expect(Number(minutes.rows[0]?.buckets)).toBeGreaterThanOrEqual(1);
    expect(Number(minutes.rows[0]?.zones)).toBe(layout.zones.length);
  });
});
