import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Aedes } from 'aedes';
import { recordBroker, startTestSystem } from 'mallflow/testkit';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeMac, pseudonymize } from '../../core/src/privacy.ts';
import { createBleSource } from '../../gateway/src/ble/ble-source.ts';
import { createCaptureSource } from '../../gateway/src/capture/capture-source.ts';
import { createEspresenseSource } from '../../gateway/src/espresense/espresense-source.ts';
import { createGateway } from '../../gateway/src/gateway.ts';
import { createMerakiReceiver } from '../../gateway/src/meraki/meraki-receiver.ts';
import { makeSyntheticCapture, writePcap } from '../helpers/capture-writer.ts';
import { type Backend, backends, createTestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  AIRLOCATE_IBEACON,
  BLUECHARM_UID,
  MI1_STABLE,
  MIBCS_SETTLED_NO_IMPEDANCE,
} from '../unit/gateway-ble-vectors.ts';

// Privacy end to end: every input kind the gateway speaks (a pcap capture, BLE scanner lines,
// Meraki Scanning API posts, ESPresense messages), good and bad, goes through one gateway with a
// disk outbox into analytics and the database, with every logger at trace level. Then everything
// the system published, logged, queued on disk, answered over HTTP and stored is searched for
// each raw MAC it was given, in every notation (colons, dashes, dots, bare, either case, and
// byte-reversed as BLE stacks print them). None may appear; their pseudonyms must.

const SECRET = 'privacy-test-site-secret';
const SENSORS = ['g-entrance-ap1', 'g-aisle-ap1', 'g-aisle-ap2', 'g-fashion-ap1'];
const MERAKI_CLIENT = '3c:22:fb:7a:01:02';
const MERAKI_AP = '88:15:44:aa:bb:01';
const ESP_MAC = 'f0:99:b6:12:34:56';
const BLE_PHONE = '5c:f3:70:65:43:21';
const BLE_TAG = 'c2:00:11:22:33:44';
const MI_SCALE = 'c8:47:8c:c0:95:89'; // inside the Mi scale adverts' manufacturer data, too

function macPatterns(mac: string): RegExp[] {
  const bytes = (normalizeMac(mac) ?? mac).split(':');
  const sep = '[:.\\-]?';
  return [bytes, [...bytes].reverse()].map((b) => new RegExp(b.join(sep), 'i'));
}

function findMacs(text: string, macs: readonly string[]): string[] {
  return macs.filter((mac) => macPatterns(mac).some((p) => p.test(text)));
}

describe.each(backends())('no raw MAC leaves the gateway, on %s', (backend: Backend) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('publishes, logs, queues, answers and stores only pseudonyms', async () => {
    const logText: string[] = [];
    const logStream = new PassThrough();
    logStream.on('data', (c: Buffer) => logText.push(c.toString()));
    const logger = pino({ level: 'trace' }, logStream);

    const db = await createTestDb(backend);
    cleanups.push(() => db.close());
    const system = await startTestSystem({ layout: 'small-store', pool: db.pool, logger });
    cleanups.push(() => system.close());
    const recorder = await recordBroker(system.broker.url, await system.broker.addObserver());
    cleanups.push(() => recorder.close());
    const dir = mkdtempSync(join(tmpdir(), 'mallflow-privacy-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    const login = await system.broker.addGateway('small-store', 'gw-privacy');
    const gateway = await createGateway({
      mqttUrl: system.broker.url,
      ...login,
      siteSecret: SECRET,
      outboxDir: join(dir, 'outbox'),
      maxBatchReadings: 40,
      flushIntervalMs: 50,
      heartbeatIntervalMs: 0,
      logger,
    });
    cleanups.push(() => gateway.close());

    // 1. A capture file: probes from 12 phones among other frames, a bad FCS, a cut last record.
    const capture = makeSyntheticCapture(300, 11);
    const pcapPath = join(dir, 'capture.pcap');
    writeFileSync(pcapPath, writePcap(capture.packets, { cutLastBytes: 9 }));
    const captureSource = createCaptureSource({ input: pcapPath, sensorId: SENSORS[0] as string, logger });
    await captureSource.start(gateway);
    await captureSource.done;
    expect(captureSource.stats().probes).toBeGreaterThan(100);

    // 2. BLE scanner lines: a phone, an Eddystone tag, an iBeacon, a Mi scale weigh-in, and bad lines
    //    that carry MACs (bad RSSI, bad hex, broken JSON).
    const now = Date.now();
    const lines = [
      JSON.stringify({ mac: BLE_PHONE, rssi: -61, ts: now, adv: AIRLOCATE_IBEACON }),
      `${now} ${BLE_TAG.toUpperCase()} -70 ${BLUECHARM_UID}`,
      JSON.stringify({ mac: MI_SCALE, rssi: -55, ts: now, adv: MI1_STABLE }),
      JSON.stringify({ mac: MI_SCALE, rssi: -55, ts: now + 500, adv: MIBCS_SETTLED_NO_IMPEDANCE }),
      JSON.stringify({ mac: BLE_PHONE, rssi: 999, adv: AIRLOCATE_IBEACON }),
      `${BLE_TAG} -70 zz-not-hex`,
      `{"mac":"${BLE_PHONE}","rssi":`,
    ];
    const bleSource = createBleSource({
      input: Readable.from([`${lines.join('\n')}\n`]),
      sensorId: SENSORS[1] as string,
      scaleHoldMs: 0,
      logger,
    });
    await bleSource.start(gateway);
    await bleSource.done;
    await bleSource.stop();
    expect(bleSource.stats().sightings).toBeGreaterThanOrEqual(2);

    // 3. Meraki Scanning API v3: a WiFi post, a post with a wrong secret and an invalid one, both
    //    carrying the client MAC.
    const meraki = createMerakiReceiver({
      port: 0,
      validator: 'validator-0001',
      secret: 'meraki-secret',
      apSensors: new Map([[MERAKI_AP, SENSORS[2] as string]]),
      logger,
    });
    await meraki.start(gateway);
    cleanups.push(() => meraki.stop());
    const post = (body: unknown) =>
      fetch(meraki.url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const observation = {
      clientMac: MERAKI_CLIENT,
      locations: [],
      latestRecord: { time: new Date(now).toISOString(), nearestApMac: MERAKI_AP, nearestApRssi: -58 },
    };
    const wifiPost = {
      version: '3.0',
      secret: 'meraki-secret',
      type: 'WiFi',
      data: { networkId: 'N_1', observations: [observation] },
    };
    const answers: string[] = [];
    const badTime = { ...observation, latestRecord: { time: 'yesterday', nearestApMac: MERAKI_CLIENT } };
    for (const body of [
      wifiPost,
      { ...wifiPost, secret: 'wrong' },
      { ...wifiPost, type: 'Zigbee' },
      { ...wifiPost, data: { networkId: 'N_1', observations: [badTime] } },
    ]) {
      const res = await post(body);
      answers.push(`${res.status} ${await res.text()}`);
    }
    expect(answers.map((a) => a.slice(0, 3))).toEqual(['202', '403', '400', '202']);
    expect(meraki.stats().badObservations).toBe(1);

    // 4. ESPresense: a plain broker, as an ESPresense install has, with a good and a bad message.
    const aedes = await Aedes.createBroker();
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve()))));
    const espUrl = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const esp = createEspresenseSource({
      url: espUrl,
      rooms: new Map([['hall', SENSORS[3] as string]]),
      logger,
    });
    await esp.start(gateway);
    cleanups.push(() => esp.stop());
    const publisher = await mqtt.connectAsync(espUrl, { protocolVersion: 4 });
    const bare = ESP_MAC.replace(/:/g, '');
    await publisher.publishAsync(
      `espresense/devices/${bare}/hall`,
      JSON.stringify({ id: bare, mac: bare, rssi: -66, 'rssi@1m': -59, distance: 2.1 }),
      { qos: 1 },
    );
    await publisher.publishAsync(`espresense/devices/${bare}/hall`, `{"id":"${bare}","rssi":nan}`, {
      qos: 1,
    });
    await publisher.endAsync();
    await waitFor(() => (esp.stats().readings ?? 0) >= 1, { what: 'the ESPresense reading' });
    await esp.stop();

    await gateway.flush();
    const published = gateway.stats().readingsPublished;
    await waitFor(
      async () =>
        Number(
          (
            await db.pool.query('SELECT count(*) AS n FROM ingested_batches WHERE gateway_id = $1', [
              'gw-privacy',
            ])
          ).rows[0].n,
        ) === gateway.stats().batchesPublished,
      { what: 'analytics to take every batch' },
    );
    await gateway.close();

    // Everything the system holds, as text.
    const mqttText = recorder.messages.map((m) => `${m.topic} ${m.raw.toString('utf8')}`).join('\n');
    const outboxText = readdirSync(join(dir, 'outbox'))
      .map((f) => readFileSync(join(dir, 'outbox', f), 'utf8'))
      .join('\n');
    const tables = await db.pool.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const dbText: string[] = [];
    for (const { t } of tables.rows) {
      const rows = await db.pool.query(`SELECT x::text AS row FROM "${t}" x`);
      dbText.push(...rows.rows.map((r) => `${t} ${r.row}`));
    }
    const macs = [
      ...new Set([
        ...capture.expected.map((p) => p.mac),
        MERAKI_CLIENT,
        MERAKI_AP,
        ESP_MAC,
        BLE_PHONE,
        BLE_TAG,
        MI_SCALE,
      ]),
    ];
    const places = {
      mqtt: mqttText,
      logs: logText.join(''),
      outbox: outboxText,
      http: answers.join('\n'),
      database: dbText.join('\n'),
    };
    for (const [place, text] of Object.entries(places)) {
      expect(findMacs(text, macs), `raw MACs found in ${place}`).toEqual([]);
    }

    // Not vacuous: readings from every input arrived, under the pseudonyms of those MACs.
    expect(published).toBeGreaterThan(100);
    for (const mac of [capture.expected[0]?.mac as string, MERAKI_CLIENT, ESP_MAC, BLE_PHONE, BLE_TAG]) {
      const device = pseudonymize(normalizeMac(mac) as string, SECRET);
      expect(mqttText, `pseudonym of ${mac} published`).toContain(device);
      expect(places.database, `pseudonym of ${mac} stored`).toContain(device);
    }
    expect(mqttText).toMatch(/"weightKg":/);
    expect(places.logs.length).toBeGreaterThan(1000);
    expect(outboxText.length).toBeGreaterThan(1000);
  });
});
