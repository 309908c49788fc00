import { describe, expect, it } from 'vitest';
import type { BleReading } from '../../core/src/messages.ts';
import {
  createMerakiCounts,
  MerakiV3Body,
  type MerakiV3Envelope,
  parseRecordTime,
  readMerakiPost,
  secretMatches,
  toMerakiSightings,
} from '../../gateway/src/meraki/meraki-v3.ts';
import { createRecentRecords } from '../../gateway/src/meraki/recent-records.ts';
import {
  AP,
  AP_SENSORS,
  bluetoothPost,
  DOC_CLIENT_MAC,
  DOC_NOW_MS,
  documentedWifiPost,
  IBEACON_RAW_DATA,
  latestOnlyWifiPost,
  SECRET,
} from '../helpers/meraki-v3-posts.ts';

const MAC_SHAPE = /[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}/i;

function read(body: unknown): MerakiV3Envelope {
  const result = readMerakiPost(JSON.stringify(body), SECRET);
  if (result.kind !== 'ok') throw new Error(`expected a valid post, got ${JSON.stringify(result)}`);
  return result.post;
}

function sightingsOf(body: unknown, nowMs = DOC_NOW_MS, recent = createRecentRecords()) {
  const counts = createMerakiCounts();
  const out = toMerakiSightings(read(body), { apSensors: AP_SENSORS, recent, nowMs }, counts);
  return { ...out, counts };
}

describe('readMerakiPost', () => {
  it('accepts the documented v3 WiFi post, and the full body schema agrees', () => {
    const body = documentedWifiPost();
    expect(readMerakiPost(JSON.stringify(body), SECRET).kind).toBe('ok');
    expect(MerakiV3Body.safeParse(body).success).toBe(true);
    expect(MerakiV3Body.safeParse(bluetoothPost([])).success).toBe(true);
  });

  it.each([
    ['a wrong secret', { ...documentedWifiPost(), secret: 'guess' }],
    ['no secret', { ...documentedWifiPost(), secret: undefined }],
    ['a secret that is not text', { ...documentedWifiPost(), secret: 12 }],
    ['a wrong secret in an otherwise invalid body', { version: '2.0', secret: 'x' }],
  ])('answers badSecret for %s', (_what, body) => {
    expect(readMerakiPost(JSON.stringify(body), SECRET)).toEqual({ kind: 'badSecret' });
  });

  it.each([
    ['not JSON', '{"version":"3.0",', /^body is not JSON$/],
    ['an array', '[1,2]', /must be a JSON object/],
    ['v2', JSON.stringify({ ...documentedWifiPost(), version: '2.0' }), /^version: must be 3\.x/],
    ['the v2 type', JSON.stringify({ ...documentedWifiPost(), type: 'DevicesSeen' }), /^type: /],
    [
      'observations that are not a list',
      JSON.stringify({ ...documentedWifiPost(), data: { networkId: 'N_1', observations: {} } }),
      /^data\.observations: /,
    ],
  ])('refuses %s with a reason that says what is wrong', (_what, text, reason) => {
    const result = readMerakiPost(text, SECRET);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.reason).toMatch(reason);
  });

  it('never puts body text in a reason (JSON.parse would quote it)', () => {
    const result = readMerakiPost(`{"secret":"${SECRET}", ${DOC_CLIENT_MAC}`, SECRET);
    expect(result).toEqual({ kind: 'invalid', reason: 'body is not JSON' });
  });

  it('accepts version 3.x and the documentation\'s "BLE" type', () => {
    expect(read({ ...documentedWifiPost(), version: '3.1' }).version).toBe('3.1');
    expect(read({ ...bluetoothPost([]), type: 'BLE' }).type).toBe('BLE');
  });
});

describe('secretMatches', () => {
  it('is true only for the same text', () => {
    expect(secretMatches('supersecret', 'supersecret')).toBe(true);
    expect(secretMatches('supersecreT', 'supersecret')).toBe(false);
    expect(secretMatches('supersecret-longer', 'supersecret')).toBe(false);
    expect(secretMatches('', 'supersecret')).toBe(false);
    expect(secretMatches(undefined, '')).toBe(false);
  });
});

describe('parseRecordTime', () => {
  it.each([
    ['2019-11-28T14:27:21Z', Date.UTC(2019, 10, 28, 14, 27, 21)],
    ['2021-11-23T14:01:49.250Z', Date.UTC(2021, 10, 23, 14, 1, 49, 250)],
    [1574951241, 1574951241000],
    [1574951241123, 1574951241123],
    ['yesterday', undefined],
    ['1970-01-01T00:00:00Z', undefined],
    [Number.NaN, undefined],
  ])('%j → %j', (input, expected) => {
    expect(parseRecordTime(input)).toBe(expected);
  });
});

describe('toMerakiSightings, WiFi', () => {
  it('turns the documented post into one reading per mapped AP record, RSSI kept in dBm', () => {
    const { wifi, ble, counts } = sightingsOf(documentedWifiPost());
    expect(ble).toEqual([]);
    const t1 = Date.parse('2019-11-28T14:27:21Z');
    const t2 = Date.parse('2019-11-28T14:27:35Z');
    const t3 = Date.parse('2019-11-28T14:27:46Z');
    const t4 = Date.parse('2019-11-28T14:27:50Z');
    const mac = DOC_CLIENT_MAC;
    expect(wifi).toEqual([
      { sensorId: 'mr-entrance', heardAt: t1, rssiDbm: -32, mac },
      { sensorId: 'mr-atrium', heardAt: t1, rssiDbm: -54, mac },
      { sensorId: 'mr-food-court', heardAt: t1, rssiDbm: -51, mac },
      { sensorId: 'mr-food-court', heardAt: t2, rssiDbm: -52, mac },
      { sensorId: 'mr-entrance', heardAt: t2, rssiDbm: -32, mac },
      { sensorId: 'mr-atrium', heardAt: t2, rssiDbm: -51, mac },
      { sensorId: 'mr-entrance', heardAt: t3, rssiDbm: -34, mac },
      { sensorId: 'mr-atrium', heardAt: t3, rssiDbm: -51, mac },
      { sensorId: 'mr-food-court', heardAt: t3, rssiDbm: -51, mac },
      // latestRecord: nearestApRssi sent as the string "-47"
      { sensorId: 'mr-entrance', heardAt: t4, rssiDbm: -47, mac },
    ]);
    expect(counts).toMatchObject({ observations: 1, records: 11, wifiReadings: 10, unknownAp: 1 });
  });

  it('hands the MAC on normalized, whatever form Meraki used', () => {
    const { wifi } = sightingsOf(documentedWifiPost({ clientMac: '11-22-33-44-55-66' }));
    expect(new Set(wifi.map((r) => r.mac))).toEqual(new Set([DOC_CLIENT_MAC]));
    const upper = sightingsOf(documentedWifiPost({ clientMac: 'DA:A1:19:0A:0B:0C' }));
    expect(upper.wifi[0]?.mac).toBe('da:a1:19:0a:0b:0c');
  });

  it('does not hand on a record twice when the next post repeats it, and counts the repeats', () => {
    const recent = createRecentRecords();
    const first = sightingsOf(documentedWifiPost(), DOC_NOW_MS, recent);
    expect(first.wifi).toHaveLength(10);
    const again = sightingsOf(documentedWifiPost(), DOC_NOW_MS + 60_000, recent);
    expect(again.wifi).toEqual([]);
    expect(again.counts.duplicates).toBe(10);

    // The next minute's post: the old history again plus one new location.
    const next = documentedWifiPost();
    const client = next.data.observations[0];
    if (!client) throw new Error('fixture changed');
    client.locations.push({
      ...client.locations[0],
      time: '2019-11-28T14:28:40Z',
      rssiRecords: [{ apMac: AP.atrium, rssi: -60 }],
    } as (typeof client.locations)[number]);
    const third = sightingsOf(next, DOC_NOW_MS + 120_000, recent);
    expect(third.wifi).toEqual([
      {
        sensorId: 'mr-atrium',
        heardAt: Date.parse('2019-11-28T14:28:40Z'),
        rssiDbm: -60,
        mac: DOC_CLIENT_MAC,
      },
    ]);
  });

  it('skips records older than the de-duplication window as stale', () => {
    const { wifi, counts } = sightingsOf(documentedWifiPost(), DOC_NOW_MS + 11 * 60_000);
    expect(wifi).toEqual([]);
    expect(counts.stale).toBe(10);
  });

  it('counts what it skips: unmapped APs, bad times, out-of-range RSSI, bad client MACs, bad observations', () => {
    const post = latestOnlyWifiPost([
      { mac: '3c:22:fb:00:00:01', ap: AP.entrance, time: '2019-11-28T14:27:00Z', rssi: -60 },
      { mac: '3c:22:fb:00:00:02', ap: AP.office, time: '2019-11-28T14:27:00Z', rssi: -60 },
      { mac: '3c:22:fb:00:00:03', ap: AP.entrance, time: 'not a time', rssi: -60 },
      // v2 sent a positive number (e.g. 47); in v3 that cannot be dBm
      { mac: '3c:22:fb:00:00:04', ap: AP.entrance, time: '2019-11-28T14:27:00Z', rssi: 47 },
      { mac: '3c:22:fb:00:00:05', ap: AP.entrance, time: '2019-11-28T14:27:00Z', rssi: -128 },
      { mac: 'not-a-mac', ap: AP.entrance, time: '2019-11-28T14:27:00Z', rssi: -60 },
    ]);
    (post.data.observations as unknown[]).push({ latestRecord: null }, 'junk');
    const { wifi, counts } = sightingsOf(post);
    expect(wifi).toEqual([
      {
        sensorId: 'mr-entrance',
        heardAt: Date.parse('2019-11-28T14:27:00Z'),
        rssiDbm: -60,
        mac: '3c:22:fb:00:00:01',
      },
    ]);
    expect(counts).toMatchObject({
      observations: 8,
      records: 5,
      wifiReadings: 1,
      unknownAp: 1,
      badTime: 1,
      badRssi: 2,
      badClientMacs: 1,
      badObservations: 2,
    });
  });

  it('rounds fractional RSSI', () => {
    const post = latestOnlyWifiPost([
      { mac: '3c:22:fb:00:00:01', ap: AP.entrance, time: '2019-11-28T14:27:00Z', rssi: -60.6 },
    ]);
    expect(sightingsOf(post).wifi[0]?.rssiDbm).toBe(-61);
  });
});

describe('toMerakiSightings, Bluetooth', () => {
  const post = bluetoothPost([
    {
      mac: 'f2:00:00:00:00:01',
      ap: AP.atrium,
      time: '2019-11-28T14:27:40Z',
      rssi: -93,
      rawData: IBEACON_RAW_DATA,
    },
    {
      mac: 'f2:00:00:00:00:02',
      ap: AP.foodCourt,
      time: '2019-11-28T14:27:41Z',
      rssi: -70,
      rawData: '0bff750001020304',
    },
  ]);

  it('gives BLE readings with the advertiser MAC, and no beacon frame without a decoder', () => {
    const { wifi, ble, counts } = sightingsOf(post);
    expect(wifi).toEqual([]);
    expect(ble).toEqual([
      {
        sensorId: 'mr-atrium',
        heardAt: Date.parse('2019-11-28T14:27:40Z'),
        rssiDbm: -93,
        mac: 'f2:00:00:00:00:01',
      },
      {
        sensorId: 'mr-food-court',
        heardAt: Date.parse('2019-11-28T14:27:41Z'),
        rssiDbm: -70,
        mac: 'f2:00:00:00:00:02',
      },
    ]);
    expect(counts.bleReadings).toBe(2);
  });

  it('puts the beacon frame a decoder finds in rawData on the reading', () => {
    const seen: string[] = [];
    const beacon: BleReading['beacon'] = {
      kind: 'ibeacon',
      uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0',
      major: 1,
      minor: 2,
      txPowerDbm: -59,
    };
    const decodeBeacon = (hex: string) => {
      seen.push(hex);
      return hex === IBEACON_RAW_DATA ? beacon : undefined;
    };
    const counts = createMerakiCounts();
    const { ble } = toMerakiSightings(
      read(post),
      { apSensors: AP_SENSORS, recent: createRecentRecords(), nowMs: DOC_NOW_MS, decodeBeacon },
      counts,
    );
    expect(seen).toEqual([IBEACON_RAW_DATA, '0bff750001020304']);
    expect(ble[0]?.beacon).toEqual(beacon);
    expect(ble[1]?.beacon).toBeUndefined();
  });
});

describe('privacy of the counts and reasons', () => {
  it('no reason for an invalid post carries a MAC', () => {
    const body = {
      ...documentedWifiPost(),
      type: 'Scans',
      data: { observations: [{ clientMac: DOC_CLIENT_MAC }] },
    };
    const result = readMerakiPost(JSON.stringify(body), SECRET);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.reason).not.toMatch(MAC_SHAPE);
  });
});
