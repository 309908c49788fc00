import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestSystem, type TestSystem } from 'mallflow/testkit';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../analytics/src/migrate.ts';
import { createGateway } from '../../gateway/src/gateway.ts';
import { type EmbeddedDb, startEmbeddedDb } from '../../infra/src/embedded-db.ts';
import { createPool } from '../../infra/src/pg-pool.ts';
import { describeRun, expectNothingLost, OUTAGE_OCCUPANCY, runDbOutage } from '../helpers/db-outage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Issue 5: a 60-second database outage loses nothing, on the embedded PGlite + TimescaleDB served
// by pglite-socket: it is closed for OUTAGE_MS while gateways keep publishing (mid-transaction,
// as the traffic allows), then reopened on the same data dir and port.

const OUTAGE_MS = 60_000;
/** From the reopen until every reading published before it is stored. */
const DRAIN_BOUND_MS = 20_000;
/** A worker told to stop while the database is away stops within this, instead of waiting for it. */
const CLOSE_BOUND_MS = 3_000;

describe('an embedded database outage', () => {
  let dir: string | undefined;
  let db: EmbeddedDb | undefined;
  let system: TestSystem | undefined;
  afterEach(async () => {
    await system?.close();
    await system?.pool.end();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    system = undefined;
    db = undefined;
  });

  /** A fresh migrated embedded database and a test system on it. */
  async function open() {
    dir = mkdtempSync(join(tmpdir(), 'mallflow-outage-'));
    const dataDir = join(dir, 'db');
    db = await startEmbeddedDb({ dataDir });
    const port = db.port;
    const pool = createPool({ url: db.url, max: 1, applicationName: 'db-outage-embedded' });
    await migrate(pool);
    system = await startTestSystem({
      layout: 'small-store',
      pool,
      occupancy: OUTAGE_OCCUPANCY,
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    });
    return {
      system,
      async stopDb() {
        const open = db;
        db = undefined;
        await open?.close();
      },
      async startDb() {
        db = await startEmbeddedDb({ dataDir, port });
      },
    };
  }

  it(`closed for ${OUTAGE_MS / 1000} s under traffic and reopened: nothing lost, nothing twice, the backlog drains`, {
    timeout: OUTAGE_MS + 60_000,
  }, async () => {
    const { system, stopDb, startDb } = await open();
    const run = await runDbOutage(system, {
      outageMs: OUTAGE_MS,
      drainBoundMs: DRAIN_BOUND_MS,
      stopDb,
      startDb,
    });
    console.info(describeRun('db-outage-embedded', system, run, DRAIN_BOUND_MS));
    await expectNothingLost(system, run);
    expect(run.drainMs).toBeLessThanOrEqual(DRAIN_BOUND_MS);
  });

  it('a worker stopped while the database is away stops promptly, without a fatal error', async () => {
    const { system: s, stopDb } = await open();
    const login = await s.broker.addGateway(s.layout.id, 'gw-close');
    const gateway = await createGateway({
      mqttUrl: s.broker.url,
      mallId: s.layout.id,
      gatewayId: 'gw-close',
      username: login.username,
      password: login.password,
      siteSecret: s.siteSecret,
      maxBatchReadings: 10,
      flushIntervalMs: 60_000,
      heartbeatIntervalMs: 0,
      logger: pino({ level: 'silent' }),
    });
    try {
      await stopDb();
      const retriesBefore = s.analytics.stats().dbRetries;
      gateway.pushWifi([
        { sensorId: s.layout.sensors[0]!.id, heardAt: Date.now(), rssiDbm: -55, mac: '3c:22:fb:00:04:01' },
      ]);
      await gateway.flush();
      await waitFor(() => s.analytics.stats().dbRetries > retriesBefore + 1, {
        what: 'the batch to be stuck waiting for the database',
      });
      const startedMs = Date.now();
      await s.analytics.close();
      const closeMs = Date.now() - startedMs;
      console.info(`db-outage-embedded: stopped in ${closeMs} ms with the database away`);
      expect(closeMs).toBeLessThan(CLOSE_BOUND_MS);
      s.assertHealthy();
      expect(s.analytics.stats().batches).toBe(0); // not stored and not acknowledged: the broker keeps it
    } finally {
      await gateway.close();
    }
  });
});
