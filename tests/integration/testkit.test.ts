import {
  createVirtualMall,
  parseDuration,
  recordBroker,
  startTestBroker,
  startTestSystem,
  type TestSystem,
  tryLogin,
  useExternalBroker,
} from 'mallflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.ts';

const START = '2026-11-21T10:00:00+08:00';
const MAC_SHAPE = /[0-9a-f]{2}[:-][0-9a-f]{2}[:-][0-9a-f]{2}[:-][0-9a-f]{2}[:-][0-9a-f]{2}[:-][0-9a-f]{2}/i;

describe('parseDuration', () => {
  it.each([
    ['12m', 720_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['500ms', 500],
    ['2d', 172_800_000],
    [1500, 1500],
  ])('%s → %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });
  it.each(['', '12', 'soon', '5 minutes', '-3m'])('rejects %j with an example of what it takes', (input) => {
    expect(() => parseDuration(input)).toThrow(/expected e\.g\. "12m"/);
  });
});

describe('test broker, virtual devices and recorder (no database)', () => {
  it('makes gateway accounts, and refuses a wrong password', async () => {
    const broker = await startTestBroker();
    try {
      const login = await broker.addGateway('small-store', 'gw-1');
      expect(await tryLogin(broker.url, login)).toEqual({ accepted: true, returnCode: 0 });
      const refused = await tryLogin(broker.url, { ...login, password: 'wrong' });
      expect(refused.accepted).toBe(false);
      expect([4, 5]).toContain(refused.returnCode);
      expect(broker.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await broker.close();
    }
  });

  it('records pseudonymous batches of a phone over three virtual hours, and rotates randomized MACs', async () => {
    const system = await startTestBrokerMall();
    try {
      const { mall, recorder } = system;
      const phone = mall.phone({ id: 'p', zone: 'g-fashion', screen: 'on' });
      const rotating = mall.phone({ id: 'r', zone: 'g-kids', randomizedMac: true, rotateEvery: '15m' });
      await mall.advance('3h');
      const wifi = await recorder.waitFor((m) => m.topic.endsWith('/wifi'), { what: 'a wifi batch' });
      expect(wifi.topic).toMatch(/^mallflow\/v1\/small-store\/gw\/gw-g\/wifi$/);
      const readings = recorder.messages
        .filter((m) => m.topic.endsWith('/wifi'))
        .flatMap(
          (m) =>
            (m.payload as { readings: { device: string; heardAt: number; randomized: boolean }[] }).readings,
        );
      const mine = readings.filter((r) => r.device === phone.pseudonym);
      const span = Math.max(...mine.map((r) => r.heardAt)) - Math.min(...mine.map((r) => r.heardAt));
      expect(span).toBeGreaterThan(parseDuration('2h59m'));
      // A probe every ~20 s, each heard by the store's sensor and the aisle's two.
      expect(mine.length).toBeGreaterThan((3 * 3600 * 3) / 22);
      expect(rotating.pseudonyms.length).toBeGreaterThanOrEqual(11);
      const rotated = readings.filter((r) => rotating.pseudonyms.includes(r.device));
      expect(rotated.every((r) => r.randomized)).toBe(true);
      expect(new Set(rotated.map((r) => r.device)).size).toBe(rotating.pseudonyms.length);
      for (const m of recorder.messages) expect(m.raw.toString()).not.toMatch(MAC_SHAPE);
      expect(mall.clock.now()).toBe(Date.parse(START) + parseDuration('3h'));
    } finally {
      await system.close();
    }
  });

  it('says what it waited for and what arrived when waitFor times out', async () => {
    const system = await startTestBrokerMall();
    try {
      const { mall, recorder } = system;
      mall.phone({ zone: 'g-beauty' });
      await mall.advance('1m');
      await expect(
        recorder.waitFor((m) => m.topic.endsWith('/scale'), { timeout: 200, what: 'a scale batch' }),
      ).rejects.toThrow(
        /waiting for a scale batch; \d+ message\(s\) arrived, the last:\n.*\/wifi seq=\d+ readings=\d+/s,
      );
    } finally {
      await system.close();
    }
  });

  it('publishes BLE tags with their beacon frame; only scale sensors weigh', async () => {
    const system = await startTestBrokerMall();
    try {
      const { mall, recorder } = system;
      const beacon = {
        kind: 'ibeacon' as const,
        uuid: 'f7826da6-4fa2-4e98-8024-bc5b71e0893e',
        major: 7,
        minor: 42,
        txPowerDbm: -59,
      };
      mall.bleTag({ zone: 'g-kids', beacon, every: '5s' });
      await mall.advance('1m');
      const ble = await recorder.waitFor((m) => m.topic.endsWith('/ble'), { what: 'a ble batch' });
      const r = (ble.payload as { readings: { beacon: unknown; sensorId: string }[] }).readings;
      expect(r[0]!.beacon).toEqual(beacon);
      expect(r.some((x) => x.sensorId === 'g-kids-ap1')).toBe(true);
      expect(() => mall.scale('g-kids-ap1')).toThrow(/not a scale sensor/);
    } finally {
      await system.close();
    }
  });

  it('publishes a scale weigh-in at the virtual time, with the consenting member', async () => {
    const { loadShippedLayout } = await import('../../simulators/src/load-layout.ts');
    const broker = await startTestBroker();
    try {
      const layout = loadShippedLayout('joy-city');
      const mall = await createVirtualMall({
        layout,
        broker,
        siteSecret: 'kit-test-site-secret',
        start: START,
      });
      const recorder = await recordBroker(broker.url, await broker.addObserver());
      const sensor = layout.sensors.find((x) => x.kind === 'scale')!;
      await mall.advance('5m');
      mall.scale(sensor.id).weigh({ weightKg: 71.4, impedanceOhm: 480, memberId: 'm-0042' });
      await mall.advance('1s');
      const scale = await recorder.waitFor((m) => m.topic.endsWith('/scale'), { what: 'a scale batch' });
      expect(scale.topic).toBe(`mallflow/v1/joy-city/gw/gw-${sensor.floor}/scale`);
      expect((scale.payload as { readings: unknown[] }).readings).toEqual([
        {
          sensorId: sensor.id,
          measuredAt: Date.parse(START) + 5 * 60_000,
          weightKg: 71.4,
          impedanceOhm: 480,
          memberId: 'm-0042',
        },
      ]);
      await recorder.close();
      await mall.close();
    } finally {
      await broker.close();
    }
  });

  it("works against a broker it did not start, given that broker's accounts", async () => {
    const external = await startTestBroker(); // stands in for a running mallflow broker
    try {
      const login = await external.addGateway('small-store', 'gw-g');
      const observer = await external.addObserver();
      const broker = useExternalBroker({ url: external.url, gateways: [login], observer });
      const { loadShippedLayout } = await import('../../simulators/src/load-layout.ts');
      const mall = await createVirtualMall({
        layout: loadShippedLayout('small-store'),
        broker,
        siteSecret: 'external-site-secret',
        start: START,
      });
      const recorder = await recordBroker(broker.url, await broker.addObserver());
      mall.phone({ zone: 'g-checkout' });
      await mall.advance('2m');
      await recorder.waitFor((m) => m.topic === 'mallflow/v1/small-store/gw/gw-g/wifi', {
        what: 'a wifi batch',
      });
      await expect(broker.addGateway('small-store', 'gw-other')).rejects.toThrow(/no account given/);
      await recorder.close();
      await mall.close();
    } finally {
      await external.close();
    }
  });
});

/** A test broker, a virtual small store and a recorder, without analytics. */
async function startTestBrokerMall() {
  const { loadShippedLayout } = await import('../../simulators/src/load-layout.ts');
  const broker = await startTestBroker();
  const mall = await createVirtualMall({
    layout: loadShippedLayout('small-store'),
    broker,
    siteSecret: 'kit-test-site-secret',
    start: START,
  });
  const recorder = await recordBroker(broker.url, await broker.addObserver());
  return {
    mall,
    recorder,
    async close() {
      await recorder.close();
      await mall.close();
      await broker.close();
    },
  };
}

describe('faults, each one call, against the whole system', () => {
  let db: TestDb;
  let system: TestSystem;
  beforeAll(async () => {
    db = await createTestDb('embedded');
    system = await startTestSystem({ layout: 'small-store', pool: db.pool });
  });
  afterAll(async () => {
    await system?.close();
    await db?.close();
  });

  it('a duplicated batch is stored once; a reordered pair is stored whole', async () => {
    const mall = await system.mall({ start: START, seed: 2 });
    const gw = mall.gateways.get('g')!;
    const phone = mall.phone({ zone: 'g-fashion' });
    await mall.advance('1m');
    await system.settle(mall);
    const before = { batches: await system.read.batches(), sightings: await system.read.sightings() };
    const duplicatesBefore = system.analytics.stats().duplicates;
    await gw.duplicateLastBatch();
    gw.reorderNextBatch();
    await mall.advance('1m'); // first batch, held
    await mall.advance('1m'); // second batch, delivered before the first
    await system.settle(mall);
    expect(system.analytics.stats().duplicates).toBe(duplicatesBefore + 1);
    expect(await system.read.batches()).toBe(before.batches + 2);
    const sent = gw.sent.slice(-2);
    const expectedRows = sent.reduce(
      (n, b) => n + (JSON.parse(b.payload) as { readings: unknown[] }).readings.length,
      0,
    );
    expect(await system.read.sightings()).toBe(before.sightings + expectedRows);
    expect(await system.read.sightings({ device: phone.pseudonym })).toBe(before.sightings + expectedRows);
  });

  it('malformed and oversized payloads: one dead letter with its reason, one closed connection', async () => {
    const mall = await system.mall({ start: START, seed: 3 });
    const gw = mall.gateways.get('g')!;
    await gw.publishMalformed('wifi', '{"v":1,"gw":');
    expect(await gw.publishOversized(300 * 1024)).toEqual({ closed: true });
    await waitUntil(async () => (await system.read.deadLetters()).length === 1);
    const [letter] = await system.read.deadLetters();
    expect(letter!.reason).toMatch(/^invalid JSON/);
    expect(letter!.payload).toBe('{"v":1,"gw":');
  });

  it('a dropped connection: the broker publishes the will, the gateway comes back and goes on', async () => {
    const mall = await system.mall({ start: START, seed: 4 });
    const recorder = await system.record();
    const gw = mall.gateways.get('g')!;
    const phone = mall.phone({ zone: 'g-kids' });
    await mall.advance('1m');
    gw.dropConnection();
    const will = await recorder.waitFor(
      (m) => m.topic.endsWith('/status') && (m.payload as { state: string }).state === 'offline',
      {
        what: 'the offline will',
      },
    );
    // The will cannot know when the connection died, so it carries no time.
    expect(will.payload).toEqual({ v: 1, gw: gw.gatewayId, state: 'offline' });
    recorder.clear();
    await recorder.waitFor(
      (m) => m.topic.endsWith('/status') && (m.payload as { state: string }).state === 'online',
      {
        what: 'online again after the reconnect',
      },
    );
    await mall.advance('1m');
    await system.settle(mall);
    const readings = await system.read.sightings({ device: phone.pseudonym });
    expect(readings).toBe(
      gw.sent.reduce((n, b) => n + (JSON.parse(b.payload) as { readings: unknown[] }).readings.length, 0),
    );
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
