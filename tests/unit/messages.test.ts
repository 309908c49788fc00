import { describe, expect, it } from 'vitest';
import { decodeGatewayMessage } from '../../core/src/decode.ts';
import { BleBatch, ScaleBatch, WifiBatch } from '../../core/src/messages.ts';
import { gatewayTopic, parseGatewayTopic } from '../../core/src/topics.ts';

const T = Date.UTC(2026, 10, 21, 10, 0, 0);
const DEV = '65483338ba669acf4e21376484390738';
const wifi = { sensorId: 's-1', heardAt: T, rssiDbm: -61, device: DEV, randomized: false, frameSeq: 12 };
const batch = (readings: unknown[]) => ({ v: 1, gw: 'gw-1', seq: 7, sentAt: T + 100, readings });

describe('batch schemas', () => {
  it('accept a well-formed WiFi, BLE and scale batch', () => {
    expect(WifiBatch.safeParse(batch([wifi])).success).toBe(true);
    const ble = {
      sensorId: 's-1',
      heardAt: T,
      rssiDbm: -70,
      device: DEV,
      randomized: true,
      beacon: {
        kind: 'ibeacon',
        uuid: 'f7826da6-4fa2-4e98-8024-bc5b71e0893e',
        major: 1,
        minor: 2,
        txPowerDbm: -59,
      },
    };
    expect(BleBatch.safeParse(batch([ble])).success).toBe(true);
    const scale = { sensorId: 'scale-1', measuredAt: T, weightKg: 71.3, impedanceOhm: 480, memberId: 'm-42' };
    expect(ScaleBatch.safeParse(batch([scale])).success).toBe(true);
  });

  it.each([
    ['a raw MAC instead of a pseudonym', { ...wifi, device: 'aa:bb:cc:dd:ee:ff' }, 'readings.0.device'],
    ['seconds instead of milliseconds', { ...wifi, heardAt: Math.floor(T / 1000) }, 'readings.0.heardAt'],
    ['an RSSI that is not a number', { ...wifi, rssiDbm: '-61' }, 'readings.0.rssiDbm'],
    ['an RSSI out of range', { ...wifi, rssiDbm: -300 }, 'readings.0.rssiDbm'],
    ['a sensor id with a slash', { ...wifi, sensorId: 'a/b' }, 'readings.0.sensorId'],
    ['a missing randomized flag', { ...wifi, randomized: undefined }, 'readings.0.randomized'],
  ])('reject %s, naming the field', (_name, reading, path) => {
    const r = WifiBatch.safeParse(batch([reading]));
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('rejects an empty batch, a wrong version and a negative seq', () => {
    expect(WifiBatch.safeParse(batch([])).success).toBe(false);
    expect(WifiBatch.safeParse({ ...batch([wifi]), v: 2 }).success).toBe(false);
    expect(WifiBatch.safeParse({ ...batch([wifi]), seq: -1 }).success).toBe(false);
  });
});

describe('topics', () => {
  it('round-trips a gateway topic', () => {
    const t = gatewayTopic('joy-city', 'gw-l1', 'wifi');
    expect(t).toBe('mallflow/v1/joy-city/gw/gw-l1/wifi');
    expect(parseGatewayTopic(t)).toEqual({ mallId: 'joy-city', gatewayId: 'gw-l1', kind: 'wifi' });
  });
  it.each([
    'mallflow/v2/joy/gw/g/wifi',
    'mallflow/v1/joy/gw/g/photos',
    'mallflow/v1/joy/gw/g',
    'mallflow/v1/joy/xx/g/wifi',
    'mallflow/v1/JOY/gw/g/wifi',
    'other/v1/joy/gw/g/wifi',
  ])('rejects %s', (t) => {
    expect(parseGatewayTopic(t)).toBeUndefined();
  });
});

describe('decodeGatewayMessage', () => {
  const topic = 'mallflow/v1/joy/gw/gw-1/wifi';
  it('decodes a batch', () => {
    const d = decodeGatewayMessage(topic, JSON.stringify(batch([wifi])));
    expect(d.ok).toBe(true);
  });
  it.each([
    ['not JSON', '{"v":1,', /^invalid JSON/],
    [
      'a schema violation',
      JSON.stringify(batch([{ ...wifi, rssiDbm: 'x' }])),
      /^schema: readings\.0\.rssiDbm/,
    ],
    ['a gw that differs from the topic', JSON.stringify({ ...batch([wifi]), gw: 'gw-2' }), /does not match/],
  ])('gives a reason for %s', (_n, payload, reason) => {
    const d = decodeGatewayMessage(topic, payload);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(reason);
  });
  it('names the topic problem', () => {
    const d = decodeGatewayMessage('mallflow/v1/joy/gw/gw-1/photo', '{}');
    expect(d.ok === false && d.reason).toMatch(/topic is not/);
  });
});
