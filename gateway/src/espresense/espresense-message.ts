import { z } from 'zod';
import { ID_PATTERN } from '../../../core/src/ids.ts';
import type { BleReading } from '../../../core/src/messages.ts';
import { normalizeMac } from '../../../core/src/privacy.ts';
import type { RawBleInput } from '../gateway.ts';
import { parseSensorPairs } from '../sensor-pairs.ts';

// ESPresense (https://espresense.com) room nodes publish one message per device they hear, on
// `espresense/devices/{id}/{room}`. Pure: topic and payload text in, a BLE sighting or the reason
// it is not one out.
//
// Payload, as written by ESPresense's BleFingerprint::fill (lib/BleFingerprint/BleFingerprint.cpp):
//   { "id": "iBeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0-1-2", "idType": 180, "name"?, "disc"?,
//     "rssi@1m": -59, "rssi": -72, "raw": 4.47, "distance": 3.98, "speed": 0.02,
//     "mac": "c3f2a1b2c3d4", "interval": 1012, "mV"?, "batt"?, "temp"?, "rh"? }
// - `rssi` is dBm (the median of the last three advertisements); `rssi@1m` the calibrated or
//   advertised power at 1 m (for an iBeacon, its measured power); `raw`/`distance` are metres,
//   `speed` m/s, `interval` ms between advertisements. No time: the message is heard "now".
// - `mac` is 12 lowercase hex digits without separators.
// - `id` is ESPresense's fingerprint; `idType` ranks how specific it is (ID_TYPE_* in
//   BleFingerprint.h): 55 a public MAC (the id is the MAC), 35 `name:`, 150 `apple:1005:9-26`
//   (an Apple model class), 170 `eddy:`, 175 `altBeacon:`, 180 `iBeacon:<uuid>-<major>-<minor>`,
//   200 `irk:` (a resolved private address), 210 `known:<mac>`, 250 a user alias.
//
// Which identifier a sighting carries (pseudonymized by the gateway either way):
// 1. an id shaped like a MAC, or a type prefix and a MAC (`known:`, `tile:`, `sonos:`, ... + the
//    12 hex digits of the address) → `mac` = that MAC, the same pseudonym other sources give it;
// 2. an id that names one device across MAC changes (idType ≥ 170, or an `iBeacon:`,
//    `altBeacon:`, `eddy:`, `irk:` or `known:` id) → `deviceKey` = the id: ESPresense resolved it
//    so that a rotating address still counts as one device;
// 3. else the payload's `mac` when it has one: ids below 170 describe a kind of device that
//    many phones share (`apple:1005:9-26`), and pseudonymizing it would merge them all;
// 4. else `deviceKey` = the id.
// An `iBeacon:` id also gives the reading's beacon frame (txPowerDbm from `rssi@1m`).

export interface EspresenseTopic {
  id: string;
  room: string;
}

export type EspresenseSkip = 'badTopic' | 'badJson' | 'badPayload' | 'badRssi' | 'unknownRoom' | 'noDevice';

export type EspresenseResult = { ok: true; reading: RawBleInput } | { ok: false; reason: EspresenseSkip };

export interface EspresenseOptions {
  /** ESPresense room → sensor id; a room not in it is used as the sensor id when it is a valid id. */
  rooms?: ReadonlyMap<string, string>;
  /** When the message was received, epoch ms. */
  nowMs: number;
}

/** The fields used; the others listed above are allowed and ignored. */
export const EspresensePayload = z.looseObject({
  id: z.string().max(256).optional(),
  idType: z.number().int().optional(),
  rssi: z.number(),
  'rssi@1m': z.number().optional(),
  mac: z.string().max(64).optional(),
});
export type EspresensePayload = z.infer<typeof EspresensePayload>;

const MIN_RSSI_DBM = -127;
const MAX_RSSI_DBM = 20;
/** ID_TYPE_EBEACON: from here on, an ESPresense id names one device. */
const FIRST_STABLE_ID_TYPE = 170;
const STABLE_ID_PREFIXES = ['ibeacon:', 'altbeacon:', 'eddy:', 'irk:', 'known:'];
const IBEACON_ID =
  /^ibeacon:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(\d{1,5})-(\d{1,5})$/i;

/** `<prefix>/devices/{id}/{room}` → id and room; undefined for any other topic. */
export function parseEspresenseTopic(topic: string, prefix: string): EspresenseTopic | undefined {
  const head = `${prefix}/devices/`;
  if (!topic.startsWith(head)) return undefined;
  const slash = topic.indexOf('/', head.length);
  if (slash < 0 || topic.indexOf('/', slash + 1) >= 0) return undefined;
  const id = topic.slice(head.length, slash);
  const room = topic.slice(slash + 1);
  if (id.length === 0 || room.length === 0) return undefined;
  return { id, room };
}

/** `iBeacon:<uuid>-<major>-<minor>` → the beacon frame; undefined for other ids or a bad power. */
export function beaconFromId(id: string, rssiAt1mDbm: number | undefined): BleReading['beacon'] | undefined {
  const m = IBEACON_ID.exec(id);
  if (!m || rssiAt1mDbm === undefined) return undefined;
  const major = Number(m[2]);
  const minor = Number(m[3]);
  const txPowerDbm = Math.round(rssiAt1mDbm);
  if (major > 65535 || minor > 65535) return undefined;
  if (!(txPowerDbm >= MIN_RSSI_DBM && txPowerDbm <= MAX_RSSI_DBM)) return undefined;
  return { kind: 'ibeacon', uuid: (m[1] ?? '').toLowerCase(), major, minor, txPowerDbm };
}

function namesOneDevice(id: string, idType: number | undefined): boolean {
  if (idType !== undefined && idType >= FIRST_STABLE_ID_TYPE) return true;
  const lower = id.toLowerCase();
  return STABLE_ID_PREFIXES.some((p) => lower.startsWith(p));
}

function sensorOf(room: string, rooms: ReadonlyMap<string, string> | undefined): string | undefined {
  const mapped = rooms?.get(room);
  if (mapped !== undefined) return mapped;
  return ID_PATTERN.test(room) ? room : undefined;
}

/** One ESPresense message → one BLE sighting heard at `nowMs`, or why it is skipped. */
export function toEspresenseSighting(
  topic: EspresenseTopic,
  payloadText: string,
  options: EspresenseOptions,
): EspresenseResult {
  let json: unknown;
  try {
    json = JSON.parse(payloadText);
  } catch {
    // ESPresense writes NaN distances as bare `nan`, which is not JSON.
    return { ok: false, reason: 'badJson' };
  }
  const parsed = EspresensePayload.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'badPayload' };
  const payload = parsed.data;

  const rssiDbm = Math.round(payload.rssi);
  if (!(rssiDbm >= MIN_RSSI_DBM && rssiDbm <= MAX_RSSI_DBM)) return { ok: false, reason: 'badRssi' };
  const sensorId = sensorOf(topic.room, options.rooms);
  if (sensorId === undefined) return { ok: false, reason: 'unknownRoom' };

  const id = payload.id !== undefined && payload.id.length > 0 ? payload.id : topic.id;
  const reading: RawBleInput = { sensorId, heardAt: options.nowMs, rssiDbm };
  const idMac = normalizeMac(id) ?? normalizeMac(id.slice(id.lastIndexOf(':') + 1));
  const payloadMac = payload.mac === undefined ? undefined : normalizeMac(payload.mac);
  if (idMac) reading.mac = idMac;
  else if (namesOneDevice(id, payload.idType)) reading.deviceKey = id;
  else if (payloadMac) reading.mac = payloadMac;
  else if (id.length > 0) reading.deviceKey = id;
  else return { ok: false, reason: 'noDevice' };

  const beacon = beaconFromId(id, payload['rssi@1m']);
  if (beacon) reading.beacon = beacon;
  return { ok: true, reading };
}

/**
 * `living_room=s-living,kitchen=s-kitchen` (commas or new lines) → room → sensor id, with every
 * problem named; for a room-map config value.
 */
export function parseRoomMap(text: string): { rooms: Map<string, string>; problems: string[] } {
  const { sensors, problems } = parseSensorPairs(text, 'room');
  return { rooms: sensors, problems };
}
