import { randomBytes } from 'node:crypto';
import { startTestBroker, type TestBroker } from 'mallflow/testkit';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Analytics, createAnalytics } from '../../analytics/src/analytics.ts';
import { createGateway, type Gateway } from '../../gateway/src/gateway.ts';
import { createPool } from '../../infra/src/pg-pool.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { type CommitCuttingProxy, startCommitCuttingProxy } from '../helpers/commit-cutting-proxy.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The connection dies while the batch's COMMIT is on its way back: the batch is stored, but the
// worker cannot know. Its retry finds the batch already in the ledger. That must count as the
// worker's own commit (the readings are taken into occupancy), not as a redelivered duplicate
// (which would leave them stored but never counted live).

const layout = loadShippedLayout('small-store');
const READINGS = 12;
const T0 = Date.now() - 60_000;

describe.each(backends())('a COMMIT whose answer is lost on %s', (backend: Backend) => {
  let db: TestDb;
  let proxy: CommitCuttingProxy;
  let pool: pg.Pool;
  let broker: TestBroker;
  let analytics: Analytics | undefined;
  let gateway: Gateway | undefined;
  const fatal: unknown[] = [];

  beforeAll(async () => {
    db = await createTestDb(backend);
    proxy = await startCommitCuttingProxy(db.url);
    pool = createPool({ url: proxy.url, max: db.poolMax, applicationName: 'commit-lost' });
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await gateway?.close();
    await analytics?.close();
    await broker?.close();
    await pool?.end();
    await proxy?.close();
    await db?.close();
  });

  it('the retry takes the stored batch as its own: stored once, counted once, observed', async () => {
    analytics = await createAnalytics({
      pool,
      layouts: [layout],
      mqtt: {
        url: broker.url,
        ...(await broker.addObserver()),
        clientId: `commit-lost-${randomBytes(3).toString('hex')}`,
      },
      occupancy: { presenceMs: 180_000, allowedLatenessMs: 2_000, visitIdleMs: 600_000 },
      liveIntervalMs: 50,
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      onFatal: (err) => fatal.push(err),
    });
    const login = await broker.addGateway(layout.id, 'gw-commit');
    gateway = await createGateway({
      mqttUrl: broker.url,
      mallId: layout.id,
      gatewayId: 'gw-commit',
      username: login.username,
      password: login.password,
      siteSecret: 'commit-site-secret-0001',
      maxBatchReadings: READINGS,
      flushIntervalMs: 60_000,
      heartbeatIntervalMs: 0,
      logger: pino({ level: 'silent' }),
    });

    proxy.armOnce();
    const heardAtMs = T0 + 30_000;
    gateway.pushWifi(
      Array.from({ length: READINGS }, (_, i) => ({
        sensorId: layout.sensors[i % layout.sensors.length]!.id,
        heardAt: heardAtMs,
        rssiDbm: -55,
        mac: `3c:22:fb:00:03:${i.toString(16).padStart(2, '0')}`,
      })),
    );
    await gateway.flush();
    await waitFor(() => analytics!.stats().batches + analytics!.stats().duplicates >= 1, {
      what: 'the batch to be handled',
      describe: () => analytics!.stats(),
    });
    expect(proxy.cuts).toBe(1);
    expect(fatal).toEqual([]);
    const counts = await pool.query<{ sightings: string; batches: string }>(
      `SELECT (SELECT count(*) FROM sightings) AS sightings, (SELECT count(*) FROM ingested_batches) AS batches`,
    );
    expect(counts.rows[0]).toEqual({ sightings: String(READINGS), batches: '1' });
    expect(analytics.stats()).toMatchObject({
      batches: 1,
      readings: READINGS,
      duplicates: 0,
      ambiguousCommits: 1,
    });
    // Observed: the live snapshot counts the batch's devices once the quiet mall's clock moves on.
    const live = async () =>
      Number(
        (await pool.query<{ n: string }>('SELECT coalesce(sum(devices), 0) AS n FROM occupancy_live')).rows[0]
          ?.n,
      );
    await waitFor(async () => (await live()) === READINGS, {
      what: `${READINGS} devices in the live snapshot`,
      describe: live,
    });
  });
});
