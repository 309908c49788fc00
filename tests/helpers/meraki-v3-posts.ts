// Meraki Scanning API v3 posts for the tests, shaped like the vendor's own examples:
// - WiFi: the documented example of https://developer.cisco.com/meraki/scanning-api/3-0 (three
//   locations of one client, each with per-AP `rssiRecords` in negative dBm, `x`/`y` as strings,
//   `nearestApTags`, `floorPlanId`, and a `latestRecord` whose `nearestApRssi` is the string "-47").
// - WiFi without a floor plan and Bluetooth: the field layout of a real v3 capture quoted in a
//   public receiver on GitHub (`locations: []`, only `latestRecord`, `ipv4: null`; Bluetooth with
//   `startTime`, `endTime`, `reportingAps`, `name` and `bleBeacons: [{ rawData, bleType }]`).
// The MACs are documentation-style stand-ins (the capture's were real devices'), and the beacon
// advertisement is Apple's iBeacon layout rather than the capture's own bytes.

export const SECRET = 'supersecret';
export const VALIDATOR = 'a30ee592b51f2f382a1e9d2dd0baed8920e8d51a';

export const AP = {
  entrance: 'aa:aa:aa:11:11:11',
  atrium: 'aa:aa:aa:22:22:22',
  foodCourt: 'aa:aa:aa:33:33:33',
  /** Not in the AP map. */
  office: 'aa:aa:aa:44:44:44',
} as const;

export const AP_SENSORS: ReadonlyMap<string, string> = new Map([
  [AP.entrance, 'mr-entrance'],
  [AP.atrium, 'mr-atrium'],
  [AP.foodCourt, 'mr-food-court'],
]);

/** A moment just after the documented example's last location. */
export const DOC_NOW_MS = Date.parse('2019-11-28T14:28:30Z');

function location(time: string, records: [string, number][]) {
  return {
    x: '7.976651798199431',
    lng: 6.095774480792448,
    floorPlanName: '3rd Floor',
    rssiRecords: records.map(([apMac, rssi]) => ({ apMac, rssi })),
    variance: 1.6885258062410806,
    y: '10.576847081490314',
    nearestApTags: ['', 'API-TEST', 'Office', ''],
    floorPlanId: 'g_643451796760560979',
    time,
    lat: 60.05342983801672,
  };
}

export const DOC_CLIENT_MAC = '11:22:33:44:55:66';

/** The documented v3 WiFi post: one client, three locations, and its latest record. */
export function documentedWifiPost(options: { secret?: string; clientMac?: string } = {}) {
  return {
    version: '3.0',
    secret: options.secret ?? SECRET,
    type: 'WiFi',
    data: {
      networkId: 'L_000000000000000001',
      observations: [
        {
          locations: [
            location('2019-11-28T14:27:21Z', [
              [AP.entrance, -32],
              [AP.atrium, -54],
              [AP.foodCourt, -51],
            ]),
            location('2019-11-28T14:27:35Z', [
              [AP.foodCourt, -52],
              [AP.entrance, -32],
              [AP.atrium, -51],
            ]),
            location('2019-11-28T14:27:46Z', [
              [AP.entrance, -34],
              [AP.atrium, -51],
              [AP.office, -45],
              [AP.foodCourt, -51],
            ]),
          ],
          ipv4: '192.168.0.251',
          ssid: '.interwebs',
          os: 'iOS',
          clientMac: options.clientMac ?? DOC_CLIENT_MAC,
          latestRecord: { time: '2019-11-28T14:27:50Z', nearestApMac: AP.entrance, nearestApRssi: '-47' },
          ipv6: null,
          manufacturer: 'Apple',
        },
      ],
    },
  };
}

/** A WiFi post from a network without a floor plan: only `latestRecord`s. */
export function latestOnlyWifiPost(clients: { mac: string; ap: string; time: string; rssi: number }[]) {
  return {
    version: '3.0',
    secret: SECRET,
    type: 'WiFi',
    data: {
      networkId: 'L_674976994152158449',
      observations: clients.map((c) => ({
        locations: [],
        ipv4: null,
        ssid: null,
        os: null,
        clientMac: c.mac,
        latestRecord: { time: c.time, nearestApMac: c.ap, nearestApRssi: c.rssi },
        ipv6: null,
        manufacturer: 'Apple',
      })),
    },
  };
}

/** Apple's iBeacon advertisement: flags, then 0x004C / 0x02 0x15 / UUID / major 1 / minor 2 / -59 dBm. */
export const IBEACON_RAW_DATA = '0201061aff4c000215e2c56db5dffb48d2b060d0f5a71096e000010002c5';

/** A Bluetooth post as v3 sends it (type "Bluetooth"), with one tag per client. */
export function bluetoothPost(
  clients: { mac: string; ap: string; time: string; rssi: number; rawData: string }[],
) {
  return {
    version: '3.0',
    secret: SECRET,
    type: 'Bluetooth',
    data: {
      networkId: 'L_674976994152158449',
      startTime: '2019-11-28T14:27:00Z',
      reportingAps: [
        {
          serial: 'Q3AJ-T77E-0001',
          mac: AP.entrance,
          name: '',
          lng: 6.0957,
          tags: [],
          floorPlan: null,
          lat: 60.0534,
        },
      ],
      endTime: '2019-11-28T14:28:00Z',
      observations: clients.map((c) => ({
        locations: [],
        name: '',
        bleBeacons: [{ rawData: c.rawData, bleType: 'unknown' }],
        clientMac: c.mac,
        latestRecord: { time: c.time, nearestApMac: c.ap, nearestApRssi: c.rssi },
      })),
    },
  };
}
