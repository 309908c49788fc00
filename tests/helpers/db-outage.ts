import type { TestSystem } from 'mallflow/testkit';
import { pino } from 'pino';
import { expect } from 'vitest';
import { MAX_IN_HAND_MESSAGES } from '../../analytics/src/ingest.ts';
import { floorToMinute, MINUTE_MS, type OccupancyOptions } from '../../core/src/occupancy.ts';
import { createGateway, type Gateway } from '../../gateway/src/gateway.ts';
import { waitFor } from './wait-for.ts';

// A database outage under live traffic, the same on every backend: real gateways publish a fixed
// crowd of phones (each heard every TICK_MS by the sensor of its zone) through the test system's
// broker; the database goes away for `outageMs` of wall time while the traffic keeps flowing,
// then comes back. What must hold afterwards is in `expectNothingLost`.

const TICK_MS = 250;
/** 20 per sensor of the small-store layout, split over two gateways: 560 readings/s, ~100 KB/s. */
const PHONES = 140;
const WARMUP_MS = 3_000;
const OUTAGE_START_SECOND = 10;
/** Traffic after the restart, so live occupancy has readings from after the outage to show. */
const AFTER_RESTART_MS = 3_000;

/**
 * Short presence, so a minute closed while the database was away (before its readings were
 * applied) reads empty instead of being carried by the devices seen before the outage.
 */
export const OUTAGE_OCCUPANCY: OccupancyOptions = {
  presenceMs: 15_000,
  allowedLatenessMs: 2_000,
  visitIdleMs: 600_000,
};

export interface OutageRun {
  readingsPushed: number;
  readingsPublished: number;
  batchesPublished: number;
  /** Event time (the gateways' clock) of the first reading. */
  firstHeardAtMs: number;
  /** Wall times of the outage. */
  stoppedAtMs: number;
  restartedAtMs: number;
  /** Event time minus wall time. */
  offsetMs: number;
  /** Wall ms from the restart until every reading pushed before it was stored. */
  drainMs: number;
  /** Expected devices per zone at every minute end: the crowd never moves. */
  expectedByZone: Map<string, number>;
  heapUsedMb: { beforeOutage: number; endOfOutage: number };
  /**
   * Most batches waiting in the gateways' outboxes (not yet acknowledged by the broker): the
   * broker stops acknowledging once the stuck worker's socket buffers are full.
   */
  gatewayQueuedBatchesMax: number;
}

const macOf = (i: number) => `3c:22:fb:00:01:${i.toString(16).padStart(2, '0')}`;

async function count(system: TestSystem, sql: string): Promise<number> {
  const r = await system.pool.query<{ n: string }>(sql);
  return Number(r.rows[0]?.n ?? 0);
}

export const storedSightings = (system: TestSystem) => count(system, 'SELECT count(*) AS n FROM sightings');

const heapMb = () => Math.round(process.memoryUsage().heapUsed / 1e5) / 10;

export async function runDbOutage(
  system: TestSystem,
  options: {
    outageMs: number;
    drainBoundMs: number;
    stopDb(): Promise<void>;
    startDb(): Promise<void>;
  },
): Promise<OutageRun> {
  const { layout } = system;
  const sensors = layout.sensors;
  // The gateways' clock runs `offsetMs` ahead of the wall so that the outage starts at second
  // OUTAGE_START_SECOND of a minute in event time: that minute ends while the database is away.
  let offsetMs = 0;
  const clock = { now: () => Date.now() + offsetMs };
  const gateways: Gateway[] = [];
  for (const gatewayId of ['gw-a', 'gw-b']) {
    const login = await system.broker.addGateway(layout.id, gatewayId);
    gateways.push(
      await createGateway({
        mqttUrl: system.broker.url,
        mallId: layout.id,
        gatewayId,
        username: login.username,
        password: login.password,
        siteSecret: system.siteSecret,
        maxBatchReadings: 100,
        flushIntervalMs: 1_000,
        heartbeatIntervalMs: 2_000,
        reconnectPeriodMs: 500,
        clock,
        logger: pino({ level: 'silent' }),
      }),
    );
  }
  const expectedByZone = new Map<string, number>(layout.zones.map((z) => [z.id, 0]));
  const phones = Array.from({ length: PHONES }, (_, i) => {
    const sensor = sensors[i % sensors.length]!;
    expectedByZone.set(sensor.zone, (expectedByZone.get(sensor.zone) ?? 0) + 1);
    return { mac: macOf(i), sensorId: sensor.id, gateway: gateways[i % gateways.length]! };
  });
  let pushed = 0;
  let lastHeardAtMs = 0;
  let gatewayQueuedBatchesMax = 0;
  const push = () => {
    // Distinct times per tick: (device, time, sensor) identifies a reading in the checks below.
    const heardAt = Math.max(clock.now(), lastHeardAtMs + 1);
    lastHeardAtMs = heardAt;
    for (const p of phones) p.gateway.pushWifi([{ sensorId: p.sensorId, heardAt, rssiDbm: -55, mac: p.mac }]);
    pushed += phones.length;
    let queued = 0;
    for (const g of gateways) queued += g.stats().outbox.queuedBatches;
    if (queued > gatewayQueuedBatchesMax) gatewayQueuedBatchesMax = queued;
  };
  try {
    const outageStartWallMs = Date.now() + WARMUP_MS;
    offsetMs =
      (((OUTAGE_START_SECOND * 1000 - (outageStartWallMs % MINUTE_MS)) % MINUTE_MS) + MINUTE_MS) % MINUTE_MS;
    const firstHeardAtMs = clock.now();
    push();
    const traffic = setInterval(push, TICK_MS);
    try {
      await new Promise((r) => setTimeout(r, WARMUP_MS));
      await waitFor(async () => (await storedSightings(system)) > 0, { what: 'traffic to be stored' });
      const beforeOutage = heapMb();
      const stoppedAtMs = Date.now();
      await options.stopDb();
      await new Promise((r) => setTimeout(r, options.outageMs - (Date.now() - stoppedAtMs)));
      const endOfOutage = heapMb();
      await options.startDb();
      const restartedAtMs = Date.now();
      const pushedAtRestart = pushed;
      await waitFor(async () => (await storedSightings(system)) >= pushedAtRestart, {
        timeoutMs: options.drainBoundMs,
        intervalMs: 100,
        what: `the ${pushedAtRestart} readings pushed before the restart to be stored`,
        describe: async () => ({ stored: await storedSightings(system), stats: system.analytics.stats() }),
      });
      const drainMs = Date.now() - restartedAtMs;
      const left = AFTER_RESTART_MS - (Date.now() - restartedAtMs);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
      clearInterval(traffic);
      for (const g of gateways) await g.flush();
      const stats = gateways.map((g) => g.stats());
      return {
        readingsPushed: pushed,
        readingsPublished: stats.reduce((n, s) => n + s.readingsPublished, 0),
        batchesPublished: stats.reduce((n, s) => n + s.batchesPublished, 0),
        firstHeardAtMs,
        offsetMs,
        stoppedAtMs,
        restartedAtMs,
        drainMs,
        expectedByZone,
        heapUsedMb: { beforeOutage, endOfOutage },
        gatewayQueuedBatchesMax,
      };
    } finally {
      clearInterval(traffic);
    }
  } finally {
    for (const g of gateways) await g.close();
  }
}

/** One line for the test output: the measured figures of a run. */
export function describeRun(name: string, system: TestSystem, run: OutageRun, drainBoundMs: number): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return (
    `${name}: ${run.readingsPublished} readings in ${run.batchesPublished} batches; database down ` +
    `${s(run.restartedAtMs - run.stoppedAtMs)} s; backlog drained ${s(run.drainMs)} s after it came back ` +
    `(bound ${s(drainBoundMs)} s); up to ${run.gatewayQueuedBatchesMax} batches waited in the gateways; ` +
    `heap ${run.heapUsedMb.beforeOutage} → ${run.heapUsedMb.endOfOutage} MB; ` +
    `analytics ${JSON.stringify(system.analytics.stats())}`
  );
}

/**
 * Every published reading stored exactly once, one ledger row per batch, no dead letters, the
 * worker healthy, the minutes of the outage counted from the backlog (not closed empty while the
 * database was away), and live occupancy written from readings heard after the restart.
 */
export async function expectNothingLost(system: TestSystem, run: OutageRun): Promise<void> {
  system.assertHealthy();
  expect(run.readingsPublished).toBe(run.readingsPushed);
  await waitFor(async () => (await storedSightings(system)) >= run.readingsPushed, {
    what: 'every published reading stored',
    describe: () => storedSightings(system),
  });
  const sightings = await system.pool.query<{ n: string; distinct: string }>(
    'SELECT count(*) AS n, count(DISTINCT (device, time, sensor_id)) AS distinct FROM sightings',
  );
  expect(Number(sightings.rows[0]?.n)).toBe(run.readingsPublished);
  expect(Number(sightings.rows[0]?.distinct)).toBe(run.readingsPublished);
  expect(await count(system, 'SELECT count(*) AS n FROM ingested_batches')).toBe(run.batchesPublished);
  expect(await count(system, 'SELECT coalesce(sum(readings), 0) AS n FROM ingested_batches')).toBe(
    run.readingsPublished,
  );
  expect(await system.read.deadLetters()).toEqual([]);

  // Every minute from the first reading to the last one before the restart, in every zone.
  const firstMinuteMs = floorToMinute(run.firstHeardAtMs);
  const lastMinuteMs = floorToMinute(run.restartedAtMs + run.offsetMs) - MINUTE_MS;
  // The check covers a minute that ended while the database was away.
  const lastMinuteEndWallMs = lastMinuteMs + MINUTE_MS - run.offsetMs;
  expect(lastMinuteEndWallMs).toBeGreaterThan(run.stoppedAtMs + 10_000);
  expect(lastMinuteEndWallMs).toBeLessThan(run.restartedAtMs - 10_000);
  const minutes = (lastMinuteMs - firstMinuteMs) / MINUTE_MS + 1;
  const zones = run.expectedByZone.size;
  await waitFor(
    async () =>
      (await count(
        system,
        `SELECT count(*) AS n FROM occupancy_minute
         WHERE bucket BETWEEN to_timestamp(${firstMinuteMs / 1000}) AND to_timestamp(${lastMinuteMs / 1000})`,
      )) ===
      minutes * zones,
    { what: `${minutes} minutes × ${zones} zones of occupancy written` },
  );
  const rows = await system.pool.query<{ bucket: Date; zone_id: string; devices: number }>(
    `SELECT bucket, zone_id, devices FROM occupancy_minute
     WHERE bucket BETWEEN to_timestamp($1::double precision / 1000) AND to_timestamp($2::double precision / 1000)
     ORDER BY bucket, zone_id`,
    [firstMinuteMs, lastMinuteMs],
  );
  // Every phone counted in every minute, the outage's included (counted from the backlog, not
  // closed empty while the database was away). Which zone holds them is the engine's estimate:
  // phones first heard inside a store, probing every 100 ms, are placed at the entrance they must
  // have come through and stay there in the live count until their walk is heard (see issue 4), so
  // the check is the mall total per minute, not the zone split.
  const phones = [...run.expectedByZone.values()].reduce((a, b) => a + b, 0);
  const totals = new Map<string, number>();
  for (const r of rows.rows) {
    const bucket = r.bucket.toISOString();
    totals.set(bucket, (totals.get(bucket) ?? 0) + r.devices);
  }
  expect(totals.size).toBe(minutes);
  expect(Object.fromEntries(totals)).toEqual(Object.fromEntries([...totals.keys()].map((b) => [b, phones])));
  expect(system.analytics.stats()).toMatchObject({ lateReadings: 0 });
  expect(system.analytics.stats().messagesInHandMax).toBeLessThanOrEqual(MAX_IN_HAND_MESSAGES);

  await waitFor(
    async () =>
      (await count(
        system,
        `SELECT count(*) AS n FROM occupancy_live WHERE as_of >= to_timestamp(${(run.restartedAtMs + run.offsetMs) / 1000})`,
      )) === zones,
    { what: 'live occupancy as of a time after the restart' },
  );
  const live = [...(await system.read.occupancy()).values()].reduce((a, b) => a + b, 0);
  expect(live).toBe(phones);
  system.assertHealthy();
}
