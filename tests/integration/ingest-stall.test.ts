import { randomBytes } from 'node:crypto';
import { type LinkProxy, startLinkProxy, startTestBroker, type TestBroker } from 'mallflow/testkit';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Analytics, createAnalytics } from '../../analytics/src/analytics.ts';
import { MAX_IN_HAND_MESSAGES } from '../../analytics/src/ingest.ts';
import { createGateway, type Gateway } from '../../gateway/src/gateway.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A stalled database (batches wait on a table lock, or for the only connection) under live
// traffic, with a short MQTT keepalive. The worker's bounded queue fills and it stops reading, so
// mqtt.js cannot read the broker's PINGRESP queued behind; the worker must neither drop its broker
// connection for that (a reconnect brings redelivery and reordering), nor, when the connection does
// drop, count the redelivered copy of a held batch twice. And the event clock must not run on while the worker is stuck: no
// reading may arrive behind the watermark.

const layout = loadShippedLayout('small-store');
const STALL_MS = 6_000;
const KEEPALIVE_SEC = 1; // mqtt.js gives up on a connection after 1.5 keepalives without a PINGRESP
const TICK_MS = 100;
const PHONES = 4;
const macOf = (i: number) => `3c:22:fb:00:02:${i.toString(16).padStart(2, '0')}`;

describe.each(backends())('a stalled database on %s', (backend: Backend) => {
  let db: TestDb;
  let broker: TestBroker;
  let proxy: LinkProxy;
  let analytics: Analytics | undefined;
  let gateway: Gateway | undefined;
  let fatal: unknown[] = [];

  beforeAll(async () => {
    db = await createTestDb(backend);
    broker = await startTestBroker();
  });
  afterEach(async () => {
    await gateway?.close();
    await analytics?.close();
    await proxy?.close();
    gateway = undefined;
    analytics = undefined;
  });
  afterAll(async () => {
    await broker?.close();
    await db?.close();
  });

  /** Holds back every batch for `ms`: a table lock on the server, the only connection when embedded. */
  async function stall(ms: number, during?: () => Promise<void>): Promise<void> {
    let release: () => Promise<void>;
    if (db.poolMax > 1) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      await client.query('BEGIN');
      await client.query('LOCK TABLE ingested_batches IN ACCESS EXCLUSIVE MODE');
      release = async () => {
        await client.query('COMMIT');
        await client.end();
      };
    } else {
      const client = await db.pool.connect();
      release = async () => client.release();
    }
    const startedMs = Date.now();
    await during?.();
    await new Promise((r) => setTimeout(r, ms - (Date.now() - startedMs)));
    await release();
  }

  /** The worker (through a link proxy the test can cut) and one gateway publishing a fixed crowd. */
  async function start(gatewayId: string) {
    fatal = [];
    proxy = await startLinkProxy(broker.url);
    analytics = await createAnalytics({
      pool: db.pool,
      layouts: [layout],
      mqtt: {
        url: proxy.url,
        ...(await broker.addObserver()),
        clientId: `stall-analytics-${randomBytes(3).toString('hex')}`,
        keepaliveSec: KEEPALIVE_SEC,
      },
      occupancy: { presenceMs: 5_000, allowedLatenessMs: 1_000, visitIdleMs: 600_000 },
      liveIntervalMs: 50,
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      onFatal: (err) => fatal.push(err),
    });
    const login = await broker.addGateway(layout.id, gatewayId);
    const g = await createGateway({
      mqttUrl: broker.url,
      mallId: layout.id,
      gatewayId,
      username: login.username,
      password: login.password,
      siteSecret: 'stall-site-secret-0001',
      maxBatchReadings: 8,
      flushIntervalMs: 200,
      heartbeatIntervalMs: 0,
      logger: pino({ level: 'silent' }),
    });
    gateway = g;
    let pushed = 0;
    const traffic = setInterval(() => {
      const heardAt = Date.now();
      for (let i = 0; i < PHONES; i++) {
        const sensor = layout.sensors[i % layout.sensors.length]!;
        g.pushWifi([{ sensorId: sensor.id, heardAt, rssiDbm: -55, mac: macOf(i) }]);
      }
      pushed += PHONES;
    }, TICK_MS);
    return {
      gateway: g,
      /** Stops the traffic and resolves once every reading is stored; returns how many. */
      async finish() {
        clearInterval(traffic);
        await g.flush();
        const published = g.stats().readingsPublished;
        expect(published).toBe(pushed);
        const stored = async () =>
          Number(
            (
              await db.pool.query<{ n: string }>(
                'SELECT count(*) AS n FROM sightings WHERE gateway_id = $1',
                [gatewayId],
              )
            ).rows[0]?.n,
          );
        await waitFor(async () => (await stored()) === published, {
          what: `${published} sightings stored`,
          describe: stored,
        });
        const batches = await db.pool.query<{ n: string }>(
          'SELECT count(*) AS n FROM ingested_batches WHERE gateway_id = $1',
          [gatewayId],
        );
        expect(Number(batches.rows[0]?.n)).toBe(g.stats().batchesPublished);
        expect(fatal).toEqual([]);
        return published;
      },
    };
  }

  it('a message stuck for 6 keepalives: the worker keeps its broker connection, nothing late', async () => {
    const run = await start('gw-stall');
    await new Promise((r) => setTimeout(r, 1_000));
    const connectionsBefore = broker.running!.stats().connections;
    await stall(STALL_MS);
    await new Promise((r) => setTimeout(r, 1_000));
    const published = await run.finish();
    expect(broker.running!.stats().connections).toBe(connectionsBefore);
    expect(analytics!.stats()).toMatchObject({
      readings: published,
      duplicates: 0,
      lateReadings: 0,
      deadLetters: 0,
    });
    // Held while the database stalled: more than one, never more than the bound.
    expect(analytics!.stats().messagesInHandMax).toBeGreaterThan(1);
    expect(analytics!.stats().messagesInHandMax).toBeLessThanOrEqual(MAX_IN_HAND_MESSAGES);
  });

  it('the broker connection lost while messages are held: the redelivered copies are counted once', async () => {
    const run = await start('gw-stall-cut');
    await new Promise((r) => setTimeout(r, 1_000));
    const connectionsBefore = broker.running!.stats().connections;
    await stall(STALL_MS, async () => {
      await new Promise((r) => setTimeout(r, 1_000)); // a batch is stuck by now
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 500));
      await proxy.restore();
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const published = await run.finish();
    expect(broker.running!.stats().connections).toBeGreaterThan(connectionsBefore);
    const stats = analytics!.stats();
    expect(stats.messagesInHandMax).toBeLessThanOrEqual(MAX_IN_HAND_MESSAGES);
    expect(stats.duplicates).toBeGreaterThanOrEqual(1); // the redelivered copy of the stuck batch
    expect(stats.readings).toBe(published);
    expect(stats.deadLetters).toBe(0);
  });
});
