import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes, type Client } from 'aedes';
import { recordBroker, startTestBroker } from 'mallflow/testkit';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { BleBatch, ScaleReading, WifiBatch } from '../../core/src/messages.ts';
import {
  createEspresenseSource,
  type EspresenseSourceOptions,
} from '../../gateway/src/espresense/espresense-source.ts';
import { createGateway, type RawBleInput, type RawWifiInput } from '../../gateway/src/gateway.ts';
import {
  createMerakiReceiver,
  type MerakiReceiverOptions,
  readApMapFile,
} from '../../gateway/src/meraki/meraki-receiver.ts';
import { createPseudonymizer } from '../../gateway/src/pseudonym-cache.ts';
import type { ReadingSink } from '../../gateway/src/source.ts';
import {
  AP,
  AP_SENSORS,
  bluetoothPost,
  DOC_NOW_MS,
  documentedWifiPost,
  IBEACON_RAW_DATA,
  latestOnlyWifiPost,
  SECRET,
  VALIDATOR,
} from '../helpers/meraki-v3-posts.ts';
import { waitFor } from '../helpers/wait-for.ts';

const silent = pino({ level: 'silent' });

interface CollectingSink extends ReadingSink {
  wifi: RawWifiInput[];
  ble: RawBleInput[];
  scale: ScaleReading[];
  /** Makes `whenWritable()` wait until `release()` is called. */
  hold(): void;
  release(): void;
}

function collectingSink(): CollectingSink {
  let held: { promise: Promise<void>; resolve: () => void } | undefined;
  const sink: CollectingSink = {
    wifi: [],
    ble: [],
    scale: [],
    pushWifi: (r) => void sink.wifi.push(...r),
    pushBle: (r) => void sink.ble.push(...r),
    pushScale: (r) => void sink.scale.push(...r),
    whenWritable: () => held?.promise ?? Promise.resolve(),
    hold() {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      held = { promise, resolve };
    },
    release() {
      held?.resolve();
      held = undefined;
    },
  };
  return sink;
}

async function startReceiver(sink: ReadingSink, overrides: Partial<MerakiReceiverOptions> = {}) {
  const receiver = createMerakiReceiver({
    port: 0,
    validator: VALIDATOR,
    secret: SECRET,
    apSensors: AP_SENSORS,
    clock: { now: () => DOC_NOW_MS },
    logger: silent,
    ...overrides,
  });
  await receiver.start(sink);
  onTestFinished(() => receiver.stop());
  return receiver;
}

function post(url: string, body: unknown, contentType = 'application/json') {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('Meraki receiver over real HTTP', () => {
  it('answers the validator GET as text', async () => {
    const receiver = await startReceiver(collectingSink());
    const res = await fetch(receiver.url());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(VALIDATOR);
    expect((await fetch(receiver.url().replace('/meraki', '/other'))).status).toBe(404);
    expect(receiver.stats().validatorRequests).toBe(1);
  });

  it('refuses a wrong secret with 403 and a malformed post with 400, pushing nothing', async () => {
    const sink = collectingSink();
    const receiver = await startReceiver(sink);
    expect((await post(receiver.url(), documentedWifiPost({ secret: 'guessed' }))).status).toBe(403);

    const notJson = await post(receiver.url(), '{"version":"3.0",');
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toBe('body is not JSON');
    const v2 = await post(receiver.url(), { ...documentedWifiPost(), version: '2.0' });
    expect(v2.status).toBe(400);
    expect(await v2.text()).toMatch(/^version: must be 3\.x/);

    expect(sink.wifi).toEqual([]);
    expect(receiver.stats()).toMatchObject({ posts: 3, badSecret: 1, invalid: 2, accepted: 0 });
  });

  it('turns a WiFi post into sightings once, however often Meraki repeats it', async () => {
    const sink = collectingSink();
    const receiver = await startReceiver(sink);
    const res = await post(receiver.url(), documentedWifiPost());
    expect(res.status).toBe(202);
    expect(sink.wifi).toHaveLength(10);
    expect(sink.wifi[0]).toEqual({
      sensorId: 'mr-entrance',
      heardAt: Date.parse('2019-11-28T14:27:21Z'),
      rssiDbm: -32,
      mac: '11:22:33:44:55:66',
    });
    expect((await post(receiver.url(), documentedWifiPost())).status).toBe(202);
    expect(sink.wifi).toHaveLength(10);
    expect(receiver.stats()).toMatchObject({ accepted: 2, wifiReadings: 10, duplicates: 10, unknownAp: 2 });
  });

  it('turns a Bluetooth post into BLE sightings, with a beacon frame when a decoder is given', async () => {
    const sink = collectingSink();
    const beacon = {
      kind: 'ibeacon' as const,
      uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0',
      major: 1,
      minor: 2,
      txPowerDbm: -59,
    };
    const receiver = await startReceiver(sink, {
      decodeBeacon: (hex) => (hex === IBEACON_RAW_DATA ? beacon : undefined),
    });
    const body = bluetoothPost([
      {
        mac: 'f2:00:00:00:00:01',
        ap: AP.atrium,
        time: '2019-11-28T14:27:40Z',
        rssi: -93,
        rawData: IBEACON_RAW_DATA,
      },
      { mac: 'f2:00:00:00:00:02', ap: AP.office, time: '2019-11-28T14:27:40Z', rssi: -70, rawData: '' },
    ]);
    expect((await post(receiver.url(), body)).status).toBe(202);
    expect(sink.ble).toEqual([
      {
        sensorId: 'mr-atrium',
        heardAt: Date.parse('2019-11-28T14:27:40Z'),
        rssiDbm: -93,
        mac: 'f2:00:00:00:00:01',
        beacon,
      },
    ]);
    expect(receiver.stats()).toMatchObject({ bleReadings: 1, unknownAp: 1 });
  });

  it('takes a post of several MB, and refuses one over the body limit with 413', async () => {
    const sink = collectingSink();
    const receiver = await startReceiver(sink);
    const clients = 6000;
    const big = documentedWifiPost();
    const template = big.data.observations[0];
    if (!template) throw new Error('fixture changed');
    big.data.observations = Array.from({ length: clients }, (_, i) => ({
      ...template,
      clientMac: `3c:22:fb:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
    }));
    const text = JSON.stringify(big);
    expect(text.length).toBeGreaterThan(5_000_000);
    expect((await post(receiver.url(), text)).status).toBe(202);
    expect(sink.wifi).toHaveLength(clients * 10);

    const small = await startReceiver(collectingSink(), { bodyLimitBytes: 10_000 });
    expect((await post(small.url(), text)).status).toBe(413);
    expect(small.stats().tooLarge).toBe(1);
  });

  it('answers 503 and pushes nothing while the gateway stays backed up', async () => {
    const sink = collectingSink();
    const receiver = await startReceiver(sink, { writableTimeoutMs: 50 });
    sink.hold();
    expect((await post(receiver.url(), documentedWifiPost())).status).toBe(503);
    expect(sink.wifi).toEqual([]);
    sink.release();
    expect((await post(receiver.url(), documentedWifiPost())).status).toBe(202);
    expect(sink.wifi).toHaveLength(10);
    expect(receiver.stats()).toMatchObject({ busy: 1, accepted: 1 });
  });
});

describe('readApMapFile', () => {
  it('reads a map file, and refuses a bad one naming every bad line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mallflow-ap-map-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const good = join(dir, 'aps.csv');
    await writeFile(good, 'apMac,sensorId\nAA:AA:AA:11:11:11,mr-entrance\n');
    expect([...readApMapFile(good)]).toEqual([['aa:aa:aa:11:11:11', 'mr-entrance']]);

    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'aa:aa:aa:11:11:11,mr-entrance\nnot-a-mac,mr-x\naa:aa:aa:11:11:11,mr-y\n');
    expect(() => readApMapFile(bad)).toThrow(
      /line 2: apMac is not a MAC[\s\S]*line 3: this AP is already mapped on line 1/,
    );
    expect(() => readApMapFile(join(dir, 'missing.csv'))).toThrow(/cannot read the AP map/);
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, '# no APs yet\n');
    expect(() => readApMapFile(empty)).toThrow(/maps no AP/);
  });
});

interface EspresenseBroker {
  url: string;
  aedes: Aedes;
  /** The broker-side client of a connected id. */
  client(id: string): Client | undefined;
}

/** A plain in-process Aedes, as an ESPresense install's broker would be (no mallflow ACL). */
async function startEspresenseBroker(): Promise<EspresenseBroker> {
  const aedes = await Aedes.createBroker();
  const clients = new Map<string, Client>();
  aedes.on('clientReady', (c) => clients.set(c.id, c));
  aedes.on('clientDisconnect', (c) => {
    if (clients.get(c.id) === c) clients.delete(c.id);
  });
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    aedes,
    client: (id) => clients.get(id),
  };
}

async function espresensePublisher(url: string) {
  const publisher = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  onTestFinished(() => publisher.endAsync());
  return (room: string, id: string, fields: Record<string, unknown>) =>
    publisher.publishAsync(
      `espresense/devices/${id}/${room}`,
      JSON.stringify({
        id,
        'rssi@1m': -59,
        rssi: -70,
        raw: 2.1,
        distance: 2.05,
        speed: 0.01,
        interval: 900,
        ...fields,
      }),
    );
}

async function startSource(sink: ReadingSink, url: string, overrides: Partial<EspresenseSourceOptions> = {}) {
  const source = createEspresenseSource({
    url,
    clientId: 'esp-bridge',
    rooms: new Map([['Food Court', 's-food-court']]),
    flushIntervalMs: 20,
    reconnectPeriodMs: 100,
    logger: silent,
    ...overrides,
  });
  await source.start(sink);
  onTestFinished(() => source.stop());
  return source;
}

const IBEACON_ID = 'iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-1-2';

describe('ESPresense source against a real Aedes', () => {
  it('turns device messages into BLE sightings and counts the bad ones', async () => {
    const broker = await startEspresenseBroker();
    const sink = collectingSink();
    const source = await startSource(sink, broker.url);
    const publish = await espresensePublisher(broker.url);
    await publish('living_room', 'apple:1005:9-26', { idType: 150, mac: '5a1b2c3d4e5f', rssi: -71.6 });
    await publish('Food Court', IBEACON_ID, { idType: 180, mac: 'c3f2a1b2c3d4' });
    await publish('Lobby Hall', 'apple:1005:9-26', { mac: '5a1b2c3d4e5f' });
    await publish('living_room', 'apple:1005:9-26', { rssi: -128 });
    await publish('living_room', 'x', { rssi: 'strong' });
    await waitFor(() => source.stats().messages === 5, { what: '5 messages', describe: source.stats });
    await waitFor(() => sink.ble.length === 2, { what: '2 sightings', describe: () => sink.ble });
    expect(sink.ble[0]).toMatchObject({ sensorId: 'living_room', rssiDbm: -72, mac: '5a:1b:2c:3d:4e:5f' });
    expect(sink.ble[1]).toMatchObject({
      sensorId: 's-food-court',
      deviceKey: IBEACON_ID,
      beacon: { kind: 'ibeacon', major: 1, minor: 2, txPowerDbm: -59 },
    });
    expect(source.stats()).toMatchObject({ readings: 2, unknownRoom: 1, badRssi: 1, badPayload: 1 });
  });

  it('survives the broker dropping its connection, and re-subscribes', async () => {
    const broker = await startEspresenseBroker();
    const sink = collectingSink();
    const source = await startSource(sink, broker.url);
    const publish = await espresensePublisher(broker.url);
    await publish('living_room', 'd4ca6e0a1b2c', {});
    await waitFor(() => sink.ble.length === 1, { what: 'the first sighting' });

    broker.client('esp-bridge')?.close();
    await waitFor(() => source.stats().connects === 2 && broker.client('esp-bridge'), {
      what: 'a reconnect',
      describe: source.stats,
    });
    // The subscription is back once a message published now arrives.
    await waitFor(
      async () => {
        await publish('living_room', 'd4ca6e0a1b2c', {});
        return sink.ble.length >= 2;
      },
      { what: 'a sighting after the reconnect', intervalMs: 50 },
    );
    expect(sink.ble[1]).toMatchObject({ sensorId: 'living_room', mac: 'd4:ca:6e:0a:1b:2c' });
  });

  it('hands over what it buffered when stopped, and nothing after', async () => {
    const broker = await startEspresenseBroker();
    const sink = collectingSink();
    const source = await startSource(sink, broker.url, { flushIntervalMs: 60_000 });
    const publish = await espresensePublisher(broker.url);
    for (let i = 0; i < 3; i++) await publish('living_room', `d4ca6e0a1b2${i}`, {});
    await waitFor(() => source.stats().messages === 3, { what: '3 messages' });
    expect(sink.ble).toEqual([]);
    await source.stop();
    expect(sink.ble).toHaveLength(3);
    expect(source.stats().connected).toBe(0);
    await waitFor(() => broker.client('esp-bridge') === undefined, { what: 'the bridge to disconnect' });
    await publish('living_room', 'd4ca6e0a1b29', {});
    expect(sink.ble).toHaveLength(3);
  });

  it('waits for a backed-up gateway, holding a bounded number of readings', async () => {
    const broker = await startEspresenseBroker();
    const sink = collectingSink();
    sink.hold();
    const source = await startSource(sink, broker.url, { maxBatchReadings: 2, maxBufferedReadings: 3 });
    const publish = await espresensePublisher(broker.url);
    for (let i = 0; i < 10; i++) await publish('living_room', `d4ca6e0a1b${10 + i}`, {});
    await waitFor(() => source.stats().messages === 10, { what: '10 messages' });
    expect(sink.ble).toHaveLength(2);
    expect(source.stats().dropped).toBe(5);
    sink.release();
    await waitFor(() => sink.ble.length === 5, {
      what: 'the held readings',
      describe: () => sink.ble.length,
    });
    expect(sink.ble.map((r) => r.mac)).toEqual([
      'd4:ca:6e:0a:1b:10',
      'd4:ca:6e:0a:1b:11',
      'd4:ca:6e:0a:1b:12',
      'd4:ca:6e:0a:1b:13',
      'd4:ca:6e:0a:1b:14',
    ]);
  });

  it('stops without waiting for a gateway that stays backed up', async () => {
    const broker = await startEspresenseBroker();
    const sink = collectingSink();
    sink.hold();
    const source = await startSource(sink, broker.url, { maxBatchReadings: 2 });
    const publish = await espresensePublisher(broker.url);
    for (let i = 0; i < 3; i++) await publish('living_room', `d4ca6e0a1b${20 + i}`, {});
    await waitFor(() => source.stats().messages === 3, { what: '3 messages' });
    await source.stop();
    expect(sink.ble).toHaveLength(3);
  });

  it('fails fast when the ESPresense broker cannot be reached', async () => {
    const source = createEspresenseSource({ url: 'mqtt://127.0.0.1:1', logger: silent });
    await expect(source.start(collectingSink())).rejects.toMatchObject({ code: 'ESPRESENSE_CONNECT_FAILED' });
  });
});

/** Every way a MAC can be written: colon, dash, bare, lower and upper case. */
function macForms(mac: string): string[] {
  const hex = mac.replace(/[^0-9a-f]/gi, '').toLowerCase();
  const pairs = hex.match(/../g) ?? [];
  const forms = [pairs.join(':'), pairs.join('-'), hex];
  return [...forms, ...forms.map((f) => f.toUpperCase())];
}

describe('end to end: receivers → a real mallflow gateway → the broker', () => {
  it('publishes pseudonyms and never a raw MAC in any form', async () => {
    const testBroker = await startTestBroker({ webSocket: false });
    onTestFinished(() => testBroker.close());
    const login = await testBroker.addGateway('joy-city', 'gw-edge-1');
    const recorder = await recordBroker(testBroker.url, await testBroker.addObserver());
    onTestFinished(() => recorder.close());
    const siteSecret = 'site-secret-for-the-e2e-test';
    const gateway = await createGateway({
      mqttUrl: testBroker.url,
      mallId: login.mallId,
      gatewayId: login.gatewayId,
      username: login.username,
      password: login.password,
      siteSecret,
      maxBatchReadings: 500,
      flushIntervalMs: 50,
      heartbeatIntervalMs: 0,
      logger: silent,
    });
    onTestFinished(() => gateway.close());

    const receiver = await startReceiver(gateway, { clock: Date });
    const espresenseBroker = await startEspresenseBroker();
    await startSource(gateway, espresenseBroker.url);
    const publish = await espresensePublisher(espresenseBroker.url);

    const heard = new Date(Date.now() - 20_000).toISOString();
    // The same phones written the ways Meraki and ESPresense write MACs.
    const wifiMacs = ['3C:22:FB:0A:0B:0C', 'da-a1-19-0a-0b-0d', '3c22fb0a0b0e'];
    const wifiPost = latestOnlyWifiPost(
      wifiMacs.map((mac, i) => ({ mac, ap: AP.entrance, time: heard, rssi: -60 - i })),
    );
    expect((await post(receiver.url(), wifiPost)).status).toBe(202);
    const blePost = bluetoothPost([
      { mac: 'F2:00:00:0A:0B:0F', ap: AP.atrium, time: heard, rssi: -80, rawData: IBEACON_RAW_DATA },
    ]);
    expect((await post(receiver.url(), blePost)).status).toBe(202);
    await publish('living_room', 'd4ca6e0a1b2c', { idType: 55, mac: 'd4ca6e0a1b2c' });
    await publish('living_room', 'apple:1005:9-26', { idType: 150, mac: '5a1b2c3d4e5f' });
    await publish('Food Court', IBEACON_ID, { idType: 180, mac: 'c3f2a1b2c3d4' });

    const readingsOf = <T>(kind: 'wifi' | 'ble') =>
      recorder.messages
        .filter((m) => m.topic === `mallflow/v1/joy-city/gw/gw-edge-1/${kind}`)
        .flatMap((m) => (m.payload as { readings: T[] }).readings);
    await waitFor(() => readingsOf('wifi').length === 3 && readingsOf('ble').length === 4, {
      what: '3 WiFi and 4 BLE readings',
      describe: () => recorder.messages.map((m) => m.topic),
    });

    const pseudonyms = createPseudonymizer(siteSecret);
    const wifi = readingsOf<WifiBatch['readings'][number]>('wifi');
    expect(wifi.map((r) => r.device)).toEqual(wifiMacs.map((m) => pseudonyms.identify(m)?.device));
    expect(wifi.map((r) => [r.sensorId, r.rssiDbm, r.randomized])).toEqual([
      ['mr-entrance', -60, false],
      ['mr-entrance', -61, true],
      ['mr-entrance', -62, false],
    ]);
    const ble = readingsOf<BleBatch['readings'][number]>('ble');
    expect(new Set(ble.map((r) => r.device))).toEqual(
      new Set([
        pseudonyms.identify('f2:00:00:0a:0b:0f')?.device,
        pseudonyms.identify('d4:ca:6e:0a:1b:2c')?.device,
        pseudonyms.identify('5a:1b:2c:3d:4e:5f')?.device,
        pseudonyms.identifyKey(IBEACON_ID)?.device,
      ]),
    );
    for (const r of [...wifi, ...ble]) expect(r.device).toMatch(/^[0-9a-f]{32}$/);

    const everyMac = [
      ...wifiMacs,
      'f2:00:00:0a:0b:0f',
      'd4ca6e0a1b2c',
      '5a1b2c3d4e5f',
      'c3f2a1b2c3d4',
      ...Object.values(AP),
    ];
    for (const m of recorder.messages) {
      const text = m.raw.toString('utf8');
      for (const mac of everyMac) for (const form of macForms(mac)) expect(text).not.toContain(form);
      expect(text).not.toMatch(/[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}/i);
      // Bare 12 hex digits anywhere but inside a pseudonym or a beacon's UUID.
      const withoutUuids = text.replace(/"uuid":"[0-9a-f-]{36}"/g, '');
      expect(withoutUuids).not.toMatch(/(?<![0-9a-f])[0-9a-f]{12}(?![0-9a-f])/i);
    }
  });
});
