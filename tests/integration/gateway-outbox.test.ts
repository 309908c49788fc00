import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LinkProxy,
  recordBroker,
  startLinkProxy,
  startTestSystem,
  type TestSystem,
} from 'mallflow/testkit';
import type mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createGateway,
  type Gateway,
  GatewayAuthError,
  type GatewayOptions,
} from '../../gateway/src/gateway.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Store-and-forward: the broker becomes unreachable mid-stream (the link refuses and resets, as
// when a store's uplink or the broker goes down) and the gateway restarts with batches unsent.
// Nothing may be lost and nothing counted twice.

const layout = loadShippedLayout('small-store');
const SENSORS = layout.sensors.map((s) => s.id);
const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const macOf = (i: number) =>
  `3c:22:fb:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

describe.each(backends())('gateway outbox on %s', (backend: Backend) => {
  let db: TestDb;
  let system: TestSystem;
  let proxy: LinkProxy;
  const dirs: string[] = [];
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    db = await createTestDb(backend);
    system = await startTestSystem({ layout, pool: db.pool });
  });
  afterEach(async () => {
    for (const g of gateways.splice(0)) await g.close();
    await proxy?.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  afterAll(async () => {
    await system?.close();
    await db?.close();
  });

  const storedBetween = async (from: number, to: number) =>
    Number(
      (
        await db.pool.query<{ n: string }>(
          'SELECT count(*) AS n FROM sightings WHERE time >= $1 AND time < $2',
          [new Date(T0 + from * 100), new Date(T0 + to * 100)],
        )
      ).rows[0]?.n,
    );
  const readings = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      return {
        sensorId: SENSORS[i % SENSORS.length] as string,
        heardAt: T0 + i * 100,
        rssiDbm: -60,
        mac: macOf(i),
      };
    });

  async function startGateway(gatewayId: string, extra: Partial<GatewayOptions> = {}) {
    const login = await system.broker.addGateway(layout.id, gatewayId).catch(() => undefined);
    let client: mqtt.MqttClient | undefined;
    let reconnects = 0;
    const gateway = await createGateway({
      mqttUrl: proxy.url,
      mallId: layout.id,
      gatewayId,
      username: gatewayId,
      password: login?.password ?? passwords.get(gatewayId) ?? '',
      siteSecret: 'test-site-secret-0001',
      maxBatchReadings: 10,
      flushIntervalMs: 20,
      heartbeatIntervalMs: 0,
      reconnectPeriodMs: 100,
      logger: pino({ level: 'silent' }),
      onClient: (c) => {
        client = c;
        c.on('reconnect', () => reconnects++);
      },
      ...extra,
    });
    if (login) passwords.set(gatewayId, login.password);
    gateways.push(gateway);
    return { gateway, client: () => client, reconnects: () => reconnects };
  }
  const passwords = new Map<string, string>();

  it('an outage mid-stream: batches queue while the broker is unreachable, then all arrive once', async () => {
    proxy = await startLinkProxy(system.broker.url);
    const outboxDir = mkdtempSync(join(tmpdir(), 'mallflow-outbox-'));
    dirs.push(outboxDir);
    const { gateway, reconnects } = await startGateway('gw-outage', { outboxDir });

    gateway.pushWifi(readings(0, 100));
    await proxy.cut(); // with batches still in flight
    await waitFor(() => !gateway.stats().connected, { what: 'the gateway to notice the outage' });
    gateway.pushWifi(readings(100, 300));
    const attempts = reconnects();
    await waitFor(() => reconnects() >= attempts + 3, { what: 'three failed reconnects' });
    await waitFor(() => gateway.stats().outbox.queuedBatches >= 20, {
      what: 'the readings heard offline to queue in the outbox',
      describe: () => gateway.stats().outbox,
    });
    expect(readdirSync(outboxDir).some((f) => f.endsWith('.log'))).toBe(true);

    await proxy.restore();
    await gateway.flush();
    const s = gateway.stats();
    expect(s.readingsPublished).toBe(300);
    expect(s.outbox).toMatchObject({ unackedReadings: 0, droppedBatches: 0, queuedBatches: 0 });
    await waitFor(() => storedBetween(0, 300).then((n) => n === 300), {
      what: '300 sightings stored',
      describe: () => storedBetween(0, 300),
    });
    await system.settle(200);
    expect(await storedBetween(0, 300)).toBe(300);
  });

  it('a restart with batches unsent: the next run sends them first, in order, with their original seq', async () => {
    proxy = await startLinkProxy(system.broker.url);
    const outboxDir = mkdtempSync(join(tmpdir(), 'mallflow-outbox-'));
    dirs.push(outboxDir);
    const observer = await system.broker.addObserver();
    const recorder = await recordBroker(
      system.broker.url,
      observer,
      `mallflow/v1/${layout.id}/gw/gw-restart/wifi`,
    );

    const first = await startGateway('gw-restart', { outboxDir, closeTimeoutMs: 200 });
    await proxy.cut();
    await waitFor(() => !first.gateway.stats().connected, { what: 'the gateway to notice the outage' });
    first.gateway.pushWifi(readings(1000, 1100));
    await gateways.splice(0)[0]?.close();
    const left = first.gateway.stats();
    expect(left.outbox.unackedReadings).toBe(100);
    const firstSeqs = Array.from({ length: 10 }, (_, k) => left.lastSeq - 9 + k);
    // What waits on disk is pseudonymous like everything else the gateway sends.
    for (const file of readdirSync(outboxDir)) {
      const text = readFileSync(join(outboxDir, file), 'utf8').toLowerCase();
      expect(text).not.toMatch(/3c[:-]?22[:-]?fb/);
    }

    await proxy.restore();
    const second = await startGateway('gw-restart', { outboxDir });
    expect(second.gateway.stats().outbox.replayedBatches).toBe(10);
    second.gateway.pushWifi(readings(1100, 1120));
    await second.gateway.flush();
    await recorder.waitFor(() => recorder.messages.length >= 12, { what: '12 batches' });
    const seqs = recorder.messages.map((m) => (m.payload as { seq: number }).seq);
    expect(seqs.slice(0, 10)).toEqual(firstSeqs);
    expect(Math.min(...seqs.slice(10))).toBeGreaterThan(left.lastSeq);
    await waitFor(() => storedBetween(1000, 1120).then((n) => n === 120), {
      what: '120 sightings stored',
      describe: () => storedBetween(1000, 1120),
    });
    await recorder.close();
  });

  it('starts offline when the broker is unreachable, and refuses to start on wrong credentials', async () => {
    proxy = await startLinkProxy(system.broker.url);
    await proxy.cut();
    const { gateway } = await startGateway('gw-offline-start');
    expect(gateway.stats().connected).toBe(false);
    gateway.pushWifi(readings(7000, 7010));
    await waitFor(() => gateway.stats().outbox.queuedBatches === 1, {
      what: 'the batch queued while offline',
    });
    await proxy.restore();
    await gateway.flush();
    expect(gateway.stats()).toMatchObject({ connected: true, readingsPublished: 10 });
    await expect(
      createGateway({
        mqttUrl: system.broker.url,
        mallId: layout.id,
        gatewayId: 'gw-offline-start',
        username: 'gw-offline-start',
        password: 'not-the-password',
        siteSecret: 'test-site-secret-0001',
        maxBatchReadings: 10,
        flushIntervalMs: 20,
        heartbeatIntervalMs: 0,
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toBeInstanceOf(GatewayAuthError);
  });

  it('over its size bound the outbox drops the oldest batches, counts them, and delivers the rest', async () => {
    proxy = await startLinkProxy(system.broker.url);
    const { gateway } = await startGateway('gw-bound', { outboxMaxBytes: 256 * 1024 });
    await proxy.cut();
    await waitFor(() => !gateway.stats().connected, { what: 'the gateway to notice the outage' });
    // ~1.9 KB per 10-reading batch: 4,000 readings are about three times the bound.
    for (let i = 2000; i < 6000; i += 100) gateway.pushWifi(readings(i, i + 100));
    await waitFor(
      () => gateway.stats().outbox.queuedBatches + gateway.stats().outbox.droppedBatches === 400,
      {
        what: 'all 400 batches stored or dropped',
        describe: () => gateway.stats().outbox,
      },
    );
    await proxy.restore();
    await gateway.flush();
    const s = gateway.stats();
    expect(s.outbox.droppedBatches).toBeGreaterThan(0);
    expect(s.outbox.droppedReadings).toBe(s.outbox.droppedBatches * 10);
    expect(s.readingsPublished + s.outbox.droppedReadings).toBe(4000);
    await waitFor(() => storedBetween(2000, 6000).then((n) => n === s.readingsPublished), {
      what: 'every delivered reading stored',
      describe: () => storedBetween(2000, 6000),
    });
    // The oldest went: everything after the first delivered reading arrived.
    const kept = 4000 - s.outbox.droppedReadings;
    expect(await storedBetween(6000 - kept, 6000)).toBe(kept);
  });
});
