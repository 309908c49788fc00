import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { describeIssues } from '../../../core/src/decode.ts';
import type { BleReading } from '../../../core/src/messages.ts';
import { normalizeMac, redactMacs } from '../../../core/src/privacy.ts';
import type { RawBleInput, RawWifiInput } from '../gateway.ts';
import type { RecentRecords } from './recent-records.ts';

// Cisco Meraki Scanning API v3 (https://developer.cisco.com/meraki/scanning-api/3-0): the body
// Meraki POSTs to a receiver, and the sightings it holds. Pure: text in, readings and counts out.
//
// Shape (one POST per network, observations grouped by client):
//   { version: "3.0", secret, type: "WiFi" | "Bluetooth",
//     data: { networkId, observations: [ {
//       clientMac,
//       locations: [ { time, rssiRecords: [ { apMac, rssi } ], x, y, lat, lng, variance, ... } ],
//       latestRecord: { time, nearestApMac, nearestApRssi },
//       (WiFi) ipv4, ipv6, ssid, os, manufacturer, userId
//       (Bluetooth) name, bleBeacons: [ { bleType, rawData } ] } ] } }
// Facts checked against the documentation and real posts (a v3 capture published in a PHP
// receiver on GitHub, and the PlaceOS Meraki driver's types):
// - `type` is "WiFi" or "Bluetooth" in real posts; the documentation's table says "WiFi or BLE",
//   so "BLE" is accepted too.
// - RSSI in v3 is dBm, negative (documented example -32..-54, captured -58..-93). v1 sent
//   "dBm + 95" and v2 a positive number (e.g. 47); a positive v3 value is out of range here.
// - `nearestApRssi` is documented as a string and sent as a number: both are accepted.
// - `time` is ISO 8601 text ("2021-11-23T14:01:49Z"). Epoch seconds are accepted too (some
//   example receivers send them).
// - `locations` is empty when the network has no floor plan; `latestRecord` then carries the only
//   reading. Both are used; the (sensor, client, time) de-duplication removes the overlap.
// - Bluetooth beacons come as `bleBeacons: [{ bleType, rawData }]`, `rawData` being the raw
//   advertisement (AD structures) in hex; v3 does not decode them, so `decodeBeacon` may.
// - `clientMac` is the raw MAC ("Location API sends the raw client MAC address"): it goes to the
//   sink only, which pseudonymizes it.

const MAX_TEXT = 128;
/** Epoch ms bounds of core's EpochMs: a reading outside them would be refused downstream. */
const MIN_EPOCH_MS = 946_684_800_000;
const MAX_EPOCH_MS = 4_102_444_800_000;
const MIN_RSSI_DBM = -127;
const MAX_RSSI_DBM = 20;

const Text = z.string().max(MAX_TEXT);
/** ISO 8601 text as documented; a number is taken as epoch seconds (or ms when that large). */
const RecordTime = z.union([Text, z.number()]);
/** dBm; documented as a string for `nearestApRssi`, sent as a number. */
const Rssi = z.union([z.number(), Text.regex(/^\s*-?\d+(\.\d+)?\s*$/, 'must be a number').transform(Number)]);

export const MerakiRssiRecord = z.looseObject({ apMac: Text, rssi: Rssi });

/** One estimated position; only `time` and the per-AP `rssiRecords` are used here. */
export const MerakiLocation = z.looseObject({
  time: RecordTime,
  rssiRecords: z.array(MerakiRssiRecord).nullish(),
});

/** The last AP that heard the client, sent when there is no recent location. */
export const MerakiLatestRecord = z.looseObject({
  time: RecordTime,
  nearestApMac: Text,
  nearestApRssi: Rssi,
});

export const MerakiBleBeacon = z.looseObject({
  bleType: Text.nullish(),
  /** The advertisement's AD structures, hex (at most 31 bytes legacy, 255 extended). */
  rawData: z
    .string()
    .max(510)
    .regex(/^[0-9a-fA-F]*$/, 'must be hex')
    .nullish(),
});

export const MerakiObservation = z.looseObject({
  clientMac: Text,
  locations: z.array(MerakiLocation).nullish(),
  latestRecord: MerakiLatestRecord.nullish(),
  bleBeacons: z.array(MerakiBleBeacon).nullish(),
});
export type MerakiObservation = z.infer<typeof MerakiObservation>;

const MerakiVersion = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(z.string().regex(/^3(\.\d+)*$/, 'must be 3.x: this receiver speaks Scanning API v3'));
const MerakiType = z.enum(['WiFi', 'Bluetooth', 'BLE']);

/**
 * The envelope a receiver checks before it looks at observations: each observation is then
 * validated on its own, so one odd client does not cost the whole post.
 */
export const MerakiV3Envelope = z.object({
  version: MerakiVersion,
  secret: z.string(),
  type: MerakiType,
  data: z.looseObject({
    networkId: z.string().min(1),
    observations: z.array(z.unknown()),
  }),
});
export type MerakiV3Envelope = z.infer<typeof MerakiV3Envelope>;

/** The whole documented v3 body (for reference and tests; the receiver parses in two steps). */
export const MerakiV3Body = MerakiV3Envelope.extend({
  data: z.looseObject({
    networkId: z.string().min(1),
    observations: z.array(MerakiObservation),
  }),
});
export type MerakiV3Body = z.infer<typeof MerakiV3Body>;

export type MerakiPostResult =
  | { kind: 'ok'; post: MerakiV3Envelope }
  | { kind: 'badSecret' }
  | { kind: 'invalid'; reason: string };

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares the post's secret with the configured one in constant time (hashes of equal length). */
export function secretMatches(given: unknown, expected: string): boolean {
  const same = timingSafeEqual(digest(typeof given === 'string' ? given : ''), digest(expected));
  return same && typeof given === 'string';
}

/**
 * Reads a POST body: not JSON or not an object → invalid; a missing or wrong secret → badSecret
 * (checked before anything else is looked at); a wrong envelope → invalid with the zod issues.
 * Reasons never carry body text, and pass through `redactMacs` besides.
 */
export function readMerakiPost(bodyText: string, secret: string): MerakiPostResult {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    // JSON.parse's message quotes the body: say only what is wrong.
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { kind: 'invalid', reason: 'body must be a JSON object' };
  if (!secretMatches((body as { secret?: unknown }).secret, secret)) return { kind: 'badSecret' };
  const parsed = MerakiV3Envelope.safeParse(body);
  if (!parsed.success) return { kind: 'invalid', reason: redactMacs(describeIssues(parsed.error)) };
  return { kind: 'ok', post: parsed.data };
}

export interface MerakiCounts {
  observations: number;
  /** RSSI records looked at: one per `rssiRecords` entry, plus one per `latestRecord`. */
  records: number;
  wifiReadings: number;
  bleReadings: number;
  /** Observations that are not objects of the v3 shape. */
  badObservations: number;
  /** Observations whose `clientMac` is not a MAC. */
  badClientMacs: number;
  /** Records from an AP that is not in the AP map (never published: an AP MAC is no sensor id). */
  unknownAp: number;
  badTime: number;
  badRssi: number;
  /** Records already handed on by an earlier post. */
  duplicates: number;
  /** Records older than the de-duplication window. */
  stale: number;
}

export function createMerakiCounts(): MerakiCounts {
  return {
    observations: 0,
    records: 0,
    wifiReadings: 0,
    bleReadings: 0,
    badObservations: 0,
    badClientMacs: 0,
    unknownAp: 0,
    badTime: 0,
    badRssi: 0,
    duplicates: 0,
    stale: 0,
  };
}

export interface MerakiSightingOptions {
  /** Normalized AP MAC (`aa:bb:cc:dd:ee:ff`) → sensor id. */
  apSensors: ReadonlyMap<string, string>;
  /** What earlier posts already handed on; updated in place. */
  recent: RecentRecords;
  nowMs: number;
  /** Turns a `bleBeacons[].rawData` advertisement into a beacon frame, when one is recognised. */
  decodeBeacon?: (rawDataHex: string) => BleReading['beacon'] | undefined;
}

export interface MerakiSightings {
  wifi: RawWifiInput[];
  ble: RawBleInput[];
}

/** A record's time as epoch ms, or undefined when it is not a plausible time. */
export function parseRecordTime(time: string | number): number | undefined {
  const ms = typeof time === 'number' ? (Math.abs(time) < 1e11 ? time * 1000 : time) : Date.parse(time);
  if (!Number.isFinite(ms)) return undefined;
  const rounded = Math.round(ms);
  return rounded >= MIN_EPOCH_MS && rounded <= MAX_EPOCH_MS ? rounded : undefined;
}

function beaconOf(
  observation: MerakiObservation,
  decode: MerakiSightingOptions['decodeBeacon'],
): BleReading['beacon'] | undefined {
  if (!decode || !observation.bleBeacons) return undefined;
  for (const b of observation.bleBeacons) {
    if (!b.rawData) continue;
    const beacon = decode(b.rawData.toLowerCase());
    if (beacon) return beacon;
  }
  return undefined;
}

interface RecordTarget {
  options: MerakiSightingOptions;
  counts: MerakiCounts;
  isBle: boolean;
  /** The current observation's normalized client MAC and beacon frame. */
  mac: string;
  beacon: BleReading['beacon'] | undefined;
  wifi: RawWifiInput[];
  ble: RawBleInput[];
}

function addRecord(t: RecordTarget, apMac: string, time: string | number, rssi: number): void {
  const { counts, options } = t;
  counts.records++;
  const ap = normalizeMac(apMac);
  const sensorId = ap === undefined ? undefined : options.apSensors.get(ap);
  if (sensorId === undefined) {
    counts.unknownAp++;
    return;
  }
  const heardAt = parseRecordTime(time);
  if (heardAt === undefined) {
    counts.badTime++;
    return;
  }
  const rssiDbm = Math.round(rssi);
  if (!Number.isFinite(rssiDbm) || rssiDbm < MIN_RSSI_DBM || rssiDbm > MAX_RSSI_DBM) {
    counts.badRssi++;
    return;
  }
  const admission = options.recent.admit(t.mac, ap ?? '', heardAt, options.nowMs);
  if (admission === 'duplicate') {
    counts.duplicates++;
    return;
  }
  if (admission === 'stale') {
    counts.stale++;
    return;
  }
  if (t.isBle) {
    const reading: RawBleInput = { sensorId, heardAt, rssiDbm, mac: t.mac };
    if (t.beacon) reading.beacon = t.beacon;
    t.ble.push(reading);
    counts.bleReadings++;
  } else {
    t.wifi.push({ sensorId, heardAt, rssiDbm, mac: t.mac });
    counts.wifiReadings++;
  }
}

/**
 * Turns a checked post into readings: one per (client, AP, time) from `locations[].rssiRecords`
 * and `latestRecord`, for APs in the map, not seen in an earlier post. Counts every skip in
 * `counts` (mutated). The raw client MAC is kept for the sink, which pseudonymizes it.
 */
export function toMerakiSightings(
  post: MerakiV3Envelope,
  options: MerakiSightingOptions,
  counts: MerakiCounts,
): MerakiSightings {
  options.recent.prune(options.nowMs);
  // One context per post, updated per observation: no closure or object per record.
  const t: RecordTarget = {
    options,
    counts,
    isBle: post.type !== 'WiFi',
    mac: '',
    beacon: undefined,
    wifi: [],
    ble: [],
  };
  for (const raw of post.data.observations) {
    counts.observations++;
    const parsed = MerakiObservation.safeParse(raw);
    if (!parsed.success) {
      counts.badObservations++;
      continue;
    }
    const observation = parsed.data;
    const mac = normalizeMac(observation.clientMac);
    if (!mac) {
      counts.badClientMacs++;
      continue;
    }
    t.mac = mac;
    t.beacon = t.isBle ? beaconOf(observation, options.decodeBeacon) : undefined;
    for (const location of observation.locations ?? []) {
      for (const r of location.rssiRecords ?? []) addRecord(t, r.apMac, location.time, r.rssi);
    }
    const latest = observation.latestRecord;
    if (latest) addRecord(t, latest.nearestApMac, latest.time, latest.nearestApRssi);
  }
  return { wifi: t.wifi, ble: t.ble };
}
