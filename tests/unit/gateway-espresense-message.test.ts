import { describe, expect, it } from 'vitest';
import {
  beaconFromId,
  type EspresenseTopic,
  parseEspresenseTopic,
  parseRoomMap,
  toEspresenseSighting,
} from '../../gateway/src/espresense/espresense-message.ts';

// Payloads as ESPresense writes them: the fields and their forms follow BleFingerprint::fill in
// ESPresense/ESPresense lib/BleFingerprint/BleFingerprint.cpp (`mac` as 12 hex digits from SMacf,
// `raw`/`distance`/`speed` with two decimals, `idType` from BleFingerprint.h); the ids follow the
// same file's fingerprinting (`iBeacon:%s-%u-%u`, `apple:%02x%02x:%u`, `irk:<hex>`, `tile:<mac>`).
// Topics follow https://espresense.com/configuration/mqtt/ (`espresense/devices/<id>/<room>`,
// room slugified).

const NOW = Date.UTC(2026, 10, 21, 10, 0, 0);
const IBEACON_ID = 'iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-1-2';

function message(fields: Record<string, unknown>): string {
  return JSON.stringify({
    'rssi@1m': -65,
    rssi: -72,
    raw: 4.47,
    distance: 3.98,
    speed: 0.02,
    mac: '5a1b2c3d4e5f',
    interval: 1012,
    ...fields,
  });
}

const at = (id: string, room = 'living_room'): EspresenseTopic => ({ id, room });

describe('parseEspresenseTopic', () => {
  it.each([
    [
      'espresense/devices/apple:1005:9-26/living_room',
      'espresense',
      { id: 'apple:1005:9-26', room: 'living_room' },
    ],
    [`espresense/devices/${IBEACON_ID}/kitchen`, 'espresense', { id: IBEACON_ID, room: 'kitchen' }],
    [
      'mall/espresense/devices/d4ca6e0a1b2c/l1-east',
      'mall/espresense',
      { id: 'd4ca6e0a1b2c', room: 'l1-east' },
    ],
    ['espresense/rooms/kitchen/telemetry', 'espresense', undefined],
    ['espresense/devices/apple:1005:9-26', 'espresense', undefined],
    ['espresense/devices/a/b/c', 'espresense', undefined],
    ['espresense/devices//kitchen', 'espresense', undefined],
    ['espresense/devices/a/', 'espresense', undefined],
    ['other/devices/a/kitchen', 'espresense', undefined],
  ])('%s (prefix %s) → %j', (topic, prefix, expected) => {
    expect(parseEspresenseTopic(topic, prefix)).toEqual(expected);
  });
});

describe('toEspresenseSighting: which identifier a sighting carries', () => {
  it('an iBeacon: the id as device key, and its beacon frame with the power at 1 m', () => {
    const result = toEspresenseSighting(
      at(IBEACON_ID),
      message({ id: IBEACON_ID, idType: 180, 'rssi@1m': -59 }),
      { nowMs: NOW },
    );
    expect(result).toEqual({
      ok: true,
      reading: {
        sensorId: 'living_room',
        heardAt: NOW,
        rssiDbm: -72,
        deviceKey: IBEACON_ID,
        beacon: {
          kind: 'ibeacon',
          uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0',
          major: 1,
          minor: 2,
          txPowerDbm: -59,
        },
      },
    });
  });

  it('a device-class id (many phones share apple:1005:9-26): the MAC of the payload', () => {
    const result = toEspresenseSighting(
      at('apple:1005:9-26'),
      message({ id: 'apple:1005:9-26', idType: 150 }),
      {
        nowMs: NOW,
      },
    );
    expect(result).toEqual({
      ok: true,
      reading: { sensorId: 'living_room', heardAt: NOW, rssiDbm: -72, mac: '5a:1b:2c:3d:4e:5f' },
    });
  });

  it('a device-class id without a MAC in the payload: the id as device key', () => {
    const payload = JSON.stringify({ id: 'apple:1005:9-26', idType: 150, rssi: -80 });
    const result = toEspresenseSighting(at('apple:1005:9-26'), payload, { nowMs: NOW });
    expect(result.ok && result.reading).toEqual({
      sensorId: 'living_room',
      heardAt: NOW,
      rssiDbm: -80,
      deviceKey: 'apple:1005:9-26',
    });
  });

  it.each([
    ['a public MAC id', 'd4ca6e0a1b2c', 55, 'd4:ca:6e:0a:1b:2c'],
    ['a known MAC', 'known:d4ca6e0a1b2c', 210, 'd4:ca:6e:0a:1b:2c'],
    ['a Tile tag', 'tile:c0ffee0a1b2c', 135, 'c0:ff:ee:0a:1b:2c'],
  ])('%s: the MAC inside the id', (_what, id, idType, mac) => {
    const result = toEspresenseSighting(at(id), message({ id, idType }), { nowMs: NOW });
    expect(result.ok && result.reading).toEqual({ sensorId: 'living_room', heardAt: NOW, rssiDbm: -72, mac });
  });

  it.each([
    ['a resolved private address', 'irk:0123456789abcdef0123456789abcdef', 200],
    ['a user alias', 'phone-of-the-manager', 250],
    ['an Eddystone UID', 'eddy:0102030405060607080910-aabbccddeeff', 170],
    ['an iBeacon without idType', IBEACON_ID, undefined],
  ])('%s names one device across MAC changes: the id as device key', (_what, id, idType) => {
    const result = toEspresenseSighting(at(id), message({ id, idType }), { nowMs: NOW });
    expect(result.ok && result.reading.deviceKey).toBe(id);
    expect(result.ok && result.reading.mac).toBeUndefined();
  });

  it('uses the topic id when the payload has none', () => {
    const payload = JSON.stringify({ rssi: -70 });
    const result = toEspresenseSighting(at('d4ca6e0a1b2c'), payload, { nowMs: NOW });
    expect(result.ok && result.reading.mac).toBe('d4:ca:6e:0a:1b:2c');
  });
});

describe('toEspresenseSighting: sensor, RSSI and bad messages', () => {
  it('maps rooms to sensors, and uses a room that is a valid sensor id as it is', () => {
    const rooms = new Map([['Food Court', 's-food-court']]);
    const payload = message({ id: 'apple:1005:9-26' });
    const mapped = toEspresenseSighting(at('apple:1005:9-26', 'Food Court'), payload, { rooms, nowMs: NOW });
    expect(mapped.ok && mapped.reading.sensorId).toBe('s-food-court');
    const own = toEspresenseSighting(at('apple:1005:9-26', 'l2_west'), payload, { rooms, nowMs: NOW });
    expect(own.ok && own.reading.sensorId).toBe('l2_west');
    expect(toEspresenseSighting(at('apple:1005:9-26', 'Lobby'), payload, { rooms, nowMs: NOW })).toEqual({
      ok: false,
      reason: 'unknownRoom',
    });
  });

  it('rounds RSSI', () => {
    const result = toEspresenseSighting(at('x'), message({ id: 'apple:1005:9-26', rssi: -71.6 }), {
      nowMs: NOW,
    });
    expect(result.ok && result.reading.rssiDbm).toBe(-72);
  });

  it.each([
    ['NaN written as bare nan', '{"id":"apple:1005:9-26","rssi":-70,"distance":nan}', 'badJson'],
    ['not JSON', 'online', 'badJson'],
    ['no RSSI', JSON.stringify({ id: 'apple:1005:9-26' }), 'badPayload'],
    ['RSSI as text', JSON.stringify({ id: 'apple:1005:9-26', rssi: '-70' }), 'badPayload'],
    ['a JSON array', '[1]', 'badPayload'],
    ['ESPresense NO_RSSI (-128)', message({ id: 'apple:1005:9-26', rssi: -128 }), 'badRssi'],
    ['a positive RSSI far above any receiver', message({ id: 'apple:1005:9-26', rssi: 45 }), 'badRssi'],
  ])('skips %s as %s', (_what, payload, reason) => {
    expect(toEspresenseSighting(at('apple:1005:9-26'), payload, { nowMs: NOW })).toEqual({
      ok: false,
      reason,
    });
  });

  it('skips a message with no id anywhere and no MAC', () => {
    const result = toEspresenseSighting(at(''), JSON.stringify({ id: '', rssi: -70 }), { nowMs: NOW });
    expect(result).toEqual({ ok: false, reason: 'noDevice' });
  });
});

describe('beaconFromId', () => {
  it('reads uuid (lower-cased), major and minor, and needs a plausible power at 1 m', () => {
    expect(beaconFromId('iBeacon:E2C56DB5-DFFB-48D2-B060-D0F5A71096E0-65535-0', -59.4)).toEqual({
      kind: 'ibeacon',
      uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0',
      major: 65535,
      minor: 0,
      txPowerDbm: -59,
    });
    expect(beaconFromId(IBEACON_ID, undefined)).toBeUndefined();
    expect(beaconFromId(IBEACON_ID, -200)).toBeUndefined();
    expect(beaconFromId('iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-65536-1', -59)).toBeUndefined();
    expect(beaconFromId('altBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-1-2', -59)).toBeUndefined();
    expect(beaconFromId('apple:1005:9-26', -59)).toBeUndefined();
  });
});

describe('parseRoomMap', () => {
  it('reads room=sensor pairs separated by commas or new lines', () => {
    const { rooms, problems } = parseRoomMap('living_room=s-living, Food Court = s-food\nkitchen=s-kitchen');
    expect(problems).toEqual([]);
    expect([...rooms]).toEqual([
      ['living_room', 's-living'],
      ['Food Court', 's-food'],
      ['kitchen', 's-kitchen'],
    ]);
  });

  it('names each bad entry', () => {
    expect(parseRoomMap('hall,kitchen=Kitchen Sensor,a=s-1,a=s-2').problems).toEqual([
      'entry 1: expected room=sensorId',
      'entry 2: sensor id "Kitchen Sensor" is not a valid id (a-z, 0-9, "_", "-")',
      'entry 4: room "a" is mapped twice',
    ]);
  });
});
