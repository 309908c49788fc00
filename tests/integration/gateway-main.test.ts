import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { recordBroker, startTestBroker, type TestBroker } from 'mallflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticCapture, writePcap } from '../helpers/capture-writer.ts';
import { AIRLOCATE_IBEACON, MI1_STABLE } from '../unit/gateway-ble-vectors.ts';

// `mallflow gateway` as its own process on real inputs: a capture file and BLE scanner lines on
// standard input. Each run ends by itself when its input ends, having published everything, and
// its log (at debug level) holds no raw MAC.

const ROOT = resolve(import.meta.dirname, '../..');

function runGateway(env: Record<string, string>, stdin?: string) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/mallflow.js'), 'gateway'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'debug', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stdin.end(stdin ?? '');
  return new Promise<{ code: number | null; output: string }>((r) =>
    child.on('exit', (code) => r({ code, output })),
  );
}

const bareHex = (mac: string) => mac.replace(/[:-]/g, '').toLowerCase();

describe('mallflow gateway on real inputs', () => {
  let broker: TestBroker;
  let dir: string;
  beforeAll(async () => {
    broker = await startTestBroker();
    dir = mkdtempSync(join(tmpdir(), 'mallflow-gw-main-'));
  });
  afterAll(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const baseEnv = async (gatewayId: string) => {
    const login = await broker.addGateway('small-store', gatewayId);
    return {
      MQTT_URL: broker.url,
      MALL_ID: 'small-store',
      GATEWAY_ID: gatewayId,
      GATEWAY_PASSWORD: login.password,
      SITE_SECRET: 'gateway-main-test-secret',
      QUEUE_DIR: join(dir, 'outbox'),
    };
  };

  it('reads a capture file, publishes every probe, and exits when the file ends', async () => {
    const capture = makeSyntheticCapture(250, 3);
    const file = join(dir, 'cap.pcap');
    writeFileSync(file, writePcap(capture.packets));
    const recorder = await recordBroker(broker.url, await broker.addObserver());
    const { code, output } = await runGateway({
      ...(await baseEnv('gw-cap')),
      SOURCE: 'capture',
      SENSOR_ID: 'g-entrance-ap1',
      CAPTURE_INPUT: file,
    });
    expect(code, output).toBe(0);
    const readings = recorder.messages
      .filter((m) => m.topic.endsWith('/gw-cap/wifi'))
      .flatMap((m) => (m.payload as { readings: { sensorId: string; ieFingerprint?: string }[] }).readings);
    expect(readings).toHaveLength(capture.expected.length);
    expect(
      readings.every((r) => r.sensorId === 'g-entrance-ap1' && /^[0-9a-f]{16}$/.test(r.ieFingerprint ?? '')),
    ).toBe(true);
    expect(output).toMatch(/"ended":"input ended"/);
    for (const mac of new Set(capture.expected.map((p) => p.mac))) {
      expect(output.toLowerCase()).not.toContain(mac);
      expect(output.toLowerCase()).not.toContain(bareHex(mac));
    }
    await recorder.close();
  });

  it('reads scanner lines on standard input: beacons as sightings, a weigh-in as a scale reading', async () => {
    const recorder = await recordBroker(broker.url, await broker.addObserver());
    const now = Date.now();
    const lines = [
      JSON.stringify({ mac: '5C:F3:70:65:43:21', rssi: -61, ts: now, adv: AIRLOCATE_IBEACON }),
      JSON.stringify({ mac: 'c8:47:8c:c0:95:89', rssi: -50, ts: now + 100, adv: MI1_STABLE }),
      'this line is not a scanner report',
    ];
    const { code, output } = await runGateway(
      { ...(await baseEnv('gw-ble')), SOURCE: 'ble', SENSOR_ID: 'g-fashion-ap1', BLE_INPUT: '-' },
      `${lines.join('\n')}\n`,
    );
    expect(code, output).toBe(0);
    const ble = recorder.messages.filter((m) => m.topic.endsWith('/gw-ble/ble'));
    const scale = recorder.messages.filter((m) => m.topic.endsWith('/gw-ble/scale'));
    expect(ble.flatMap((m) => (m.payload as { readings: { beacon?: { kind: string } }[] }).readings)).toEqual(
      [
        expect.objectContaining({
          sensorId: 'g-fashion-ap1',
          rssiDbm: -61,
          beacon: expect.objectContaining({ kind: 'ibeacon' }),
        }),
      ],
    );
    expect(scale.flatMap((m) => (m.payload as { readings: unknown[] }).readings)).toEqual([
      expect.objectContaining({ sensorId: 'g-fashion-ap1', weightKg: expect.any(Number) }),
    ]);
    for (const mac of ['5c:f3:70:65:43:21', 'c8:47:8c:c0:95:89']) {
      expect(output.toLowerCase()).not.toContain(mac);
      expect(output.toLowerCase()).not.toContain(bareHex(mac));
    }
    await recorder.close();
  });

  it('names the key a chosen source is missing, and exits 2', async () => {
    const { code, output } = await runGateway({ ...(await baseEnv('gw-bad')), SOURCE: 'meraki' });
    expect(code).toBe(2);
    expect(output).toContain('MERAKI_VALIDATOR (--meraki-validator): is required with SOURCE=meraki');
    expect(output).toContain('MERAKI_AP_MAP_FILE (--meraki-ap-map-file): is required with SOURCE=meraki');
  });
});
