import { startTestSystem, type TestSystem } from 'mallflow/testkit';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudonymize } from '../../core/src/privacy.ts';
import { gatewayTopic } from '../../core/src/topics.ts';
import { createGateway } from '../../gateway/src/gateway.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Gateway batches → real Aedes → analytics → real database, on each backend.

const layout = loadShippedLayout('small-store');
const SENSORS = layout.sensors.map((s) => s.id);
const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const DEV = pseudonymize('00:1a:2b:3c:4d:5e', 'test-site-secret-0001');

describe.each(backends())('pipeline on %s', (backend: Backend) => {
  let db: TestDb;
  let system: TestSystem;
  let gw: mqtt.MqttClient;

  const count = async (sql: string, values: unknown[] = []) =>
    Number((await db.pool.query<{ n: string }>(sql, values)).rows[0]?.n);

  beforeAll(async () => {
    db = await createTestDb(backend);
    system = await startTestSystem({ layout, pool: db.pool });
    gw = await mqtt.connectAsync(system.broker.url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...(await system.broker.addGateway(layout.id, 'gw-a')),
    });
  });

  afterAll(async () => {
    await gw?.endAsync();
    await system?.close();
    await db?.close();
  });

  const publish = (seq: number, readings: unknown[], kind: 'wifi' | 'ble' = 'wifi') =>
    gw.publishAsync(
      gatewayTopic(layout.id, 'gw-a', kind),
      JSON.stringify({ v: 1, gw: 'gw-a', seq, sentAt: T0 + seq, readings }),
      { qos: 1 },
    );
  const reading = (i: number) => ({
    sensorId: SENSORS[i % SENSORS.length],
    heardAt: T0 + i * 1000,
    rssiDbm: -50 - (i % 30),
    device: DEV,
    randomized: false,
  });

  it('stores a published batch as rows, with its batch in the ledger', async () => {
    await publish(1, [reading(0), reading(1), reading(2)]);
    await waitFor(() => count('SELECT count(*) AS n FROM sightings').then((n) => n === 3), {
      what: '3 sightings',
    });
    const rows = await db.pool.query(
      'SELECT sensor_id, device, rssi_dbm, kind, time FROM sightings ORDER BY time',
    );
    expect(
      rows.rows.map((r) => [r.sensor_id, r.device, r.rssi_dbm, r.kind, (r.time as Date).getTime()]),
    ).toEqual([0, 1, 2].map((i) => [SENSORS[i], DEV, -50 - i, 'wifi', T0 + i * 1000]));
    expect(
      await count(`SELECT count(*) AS n FROM ingested_batches WHERE gateway_id = 'gw-a' AND seq = 1`),
    ).toBe(1);
  });

  it('does not count a redelivered batch (same gateway, same seq) twice', async () => {
    const before = system.analytics.stats().duplicates;
    await publish(2, [reading(3), reading(4)]);
    await publish(2, [reading(3), reading(4)]);
    await publish(3, [reading(5)]);
    await waitFor(() => count('SELECT count(*) AS n FROM ingested_batches').then((n) => n === 3), {
      what: '3 batches',
    });
    await waitFor(() => system.analytics.stats().duplicates === before + 1, {
      what: 'one duplicate counted',
    });
    expect(await count('SELECT count(*) AS n FROM sightings')).toBe(6);
  });

  it('dead-letters malformed payloads with their reason, counts them, and keeps going', async () => {
    const before = system.analytics.stats().deadLetters;
    const topic = gatewayTopic(layout.id, 'gw-a', 'wifi');
    await gw.publishAsync(topic, '{"v":1,"gw":"gw-a",', { qos: 1 });
    await publish(10, [{ ...reading(0), rssiDbm: 'strong' }]);
    await publish(11, [{ ...reading(0), device: 'aa:bb:cc:dd:ee:ff' }]);
    await gw.publishAsync(
      topic,
      JSON.stringify({ v: 1, gw: 'gw-b', seq: 12, sentAt: T0, readings: [reading(0)] }),
      {
        qos: 1,
      },
    );
    await publish(13, [reading(6)]);
    await waitFor(() => count('SELECT count(*) AS n FROM dead_letters').then((n) => n === 4), {
      what: '4 dead letters',
    });
    const letters = await db.pool.query(
      'SELECT topic, gateway_id, reason, payload FROM dead_letters ORDER BY id',
    );
    expect(letters.rows.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^invalid JSON/),
      expect.stringMatching(/^schema: readings\.0\.rssiDbm/),
      expect.stringMatching(/^schema: readings\.0\.device/),
      expect.stringMatching(/gw "gw-b" does not match the topic's gateway "gw-a"/),
    ]);
    expect(letters.rows.every((r) => r.topic === topic && r.gateway_id === 'gw-a')).toBe(true);
    expect(letters.rows[0].payload).toBe('{"v":1,"gw":"gw-a",');
    // A raw MAC that reached us by mistake is not stored, even in a dead letter.
    expect(letters.rows[2].payload).toContain('[mac-redacted]');
    expect(letters.rows[2].payload).not.toMatch(/aa:bb:cc:dd:ee:ff/);
    expect(system.analytics.stats().deadLetters).toBe(before + 4);
    // The good batch after the bad ones still lands.
    await waitFor(() => count('SELECT count(*) AS n FROM sightings').then((n) => n === 7), {
      what: 'good batch stored',
    });
  });

  it('dead-letters a batch for a mall it has no layout for', async () => {
    const other = await mqtt.connectAsync(system.broker.url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...(await system.broker.addGateway('unknown-mall', 'gw-x')),
    });
    await other.publishAsync(
      gatewayTopic('unknown-mall', 'gw-x', 'wifi'),
      JSON.stringify({ v: 1, gw: 'gw-x', seq: 1, sentAt: T0, readings: [reading(0)] }),
      { qos: 1 },
    );
    await other.endAsync();
    await waitFor(
      () =>
        count(`SELECT count(*) AS n FROM dead_letters WHERE reason LIKE 'unknown mall%'`).then(
          (n) => n === 1,
        ),
      { what: 'unknown-mall dead letter' },
    );
  });

  it('through the gateway: readings stored under pseudonyms, no raw MAC anywhere in the database', async () => {
    const login = await system.broker.addGateway(layout.id, 'gw-b');
    const before = await count('SELECT count(*) AS n FROM sightings');
    const gateway = await createGateway({
      mqttUrl: system.broker.url,
      ...login,
      siteSecret: 'test-site-secret-0001',
      maxBatchReadings: 4,
      flushIntervalMs: 50,
      logger: pino({ level: 'silent' }),
    });
    const macs = ['00:1a:2b:3c:4d:5e', 'DA:A1:19:00:00:01', '3c-22-fb-00-00-02'];
    gateway.pushWifi(
      Array.from({ length: 10 }, (_, i) => ({
        sensorId: SENSORS[i % SENSORS.length]!,
        heardAt: T0 + 60_000 + i * 500,
        rssiDbm: -60,
        mac: macs[i % 3]!,
        frameSeq: i,
        ieFingerprint: '0123456789abcdef',
      })),
    );
    gateway.pushScale([
      { sensorId: SENSORS[0]!, measuredAt: T0, weightKg: 70.25, impedanceOhm: 512, bodyFatPct: 21.5 },
    ]);
    gateway.pushWifi([{ sensorId: SENSORS[0]!, heardAt: T0, rssiDbm: -60, mac: 'not-a-mac' }]);
    await gateway.close();
    expect(gateway.stats()).toMatchObject({
      readingsIn: 12,
      invalidMacs: 1,
      readingsPublished: 11,
      batchesPublished: 4,
    });
    await waitFor(
      () =>
        count(
          'SELECT count(*) AS n FROM scale_readings WHERE body_fat_pct = 21.5 AND impedance_ohm = 512',
        ).then((n) => n === 1),
      { what: 'the weigh-in stored with the body fat the scale reported' },
    );
    const details = await db.pool.query(
      `SELECT frame_seq, ie_fingerprint FROM sightings WHERE time >= $1 ORDER BY frame_seq`,
      [new Date(T0 + 60_000)],
    );
    expect(details.rows.map((r) => r.frame_seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(details.rows.every((r) => r.ie_fingerprint === '0123456789abcdef')).toBe(true);
    await waitFor(() => count('SELECT count(*) AS n FROM sightings').then((n) => n === before + 10), {
      what: '10 more sightings',
    });
    const devices = await db.pool.query(
      'SELECT device, bool_or(randomized) AS r FROM sightings WHERE time >= $1 GROUP BY device ORDER BY device',
      [new Date(T0 + 60_000)],
    );
    expect(devices.rows).toHaveLength(3);
    expect(devices.rows.filter((r) => r.r)).toHaveLength(1); // DA:… is locally administered
    expect(devices.rows.map((r) => r.device)).toContain(DEV);
    const dump = await db.pool.query(
      `SELECT string_agg(t::text, ' ') AS all FROM (
         SELECT s::text AS t FROM sightings s UNION ALL SELECT d::text FROM dead_letters d UNION ALL SELECT b::text FROM ingested_batches b) x`,
    );
    for (const mac of macs) {
      const hex = mac.toLowerCase().replace(/[:-]/g, '');
      expect(dump.rows[0].all.toLowerCase().replace(/[:-]/g, '')).not.toContain(hex);
    }
  });
});
