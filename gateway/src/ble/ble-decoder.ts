import { ID_PATTERN } from '../../../core/src/ids.ts';
import type { ScaleReading } from '../../../core/src/messages.ts';
import { normalizeMac } from '../../../core/src/privacy.ts';
import type { RawBleInput } from '../gateway.ts';
import { type Beacon, decodeAdvertisement } from './decode-advertisement.ts';
import {
  bodyCompositionFrame,
  parseBodyCompositionMeasurement,
  parseWeightMeasurement,
  WEIGHT_MEASUREMENT_UUID16,
  weightMeasurementFrame,
} from './gatt-weight.ts';
import type { ScaleFrame } from './scale-frame.ts';
import { createScaleStabilizer, type ScaleWeighIn } from './scale-stabilizer.ts';
import {
  type BadLineReason,
  parseScanLine,
  type ScanAdvertisement,
  type ScanNotification,
} from './scan-line.ts';

// Scanner lines in, gateway inputs out, with everything skipped counted by reason. Pure: no I/O,
// no clock (the caller passes the time a line was read, used when the line carries none).
//
// - An advertisement becomes one BLE sighting (RawBleInput, with `beacon` when it carries an
//   iBeacon or Eddystone frame we can read), unless it comes from a scale.
// - Scale advertisements and GATT notifications go through the stabiliser and come out as one
//   ScaleReading per weigh-in. A scale is never a sighting: frames from a MAC that has sent scale
//   data, or that is listed in `scaleSensorIds`, produce no BLE reading, so no scale address (not
//   even its pseudonym) is published.
// - Time moves with the lines: pending weigh-ins expire against the latest time heard.

export interface BleDecoderOptions {
  /** Sensor id of this scanner feed: sightings without their own `sensor`, and unmapped scales. */
  sensorId: string;
  /** Scale MAC (normalized `aa:bb:cc:dd:ee:ff`) or device key → the sensor id its readings carry. */
  scaleSensorIds?: ReadonlyMap<string, string>;
  /** Minutes to add to a scale's clock to get UTC (−480 for a clock kept in UTC+8). Default 0. */
  scaleClockOffsetMin?: number;
  /** A scale clock further than this from the heard time is not believed. Default 10 min. */
  scaleClockMaxSkewMs?: number;
  /** How long a weigh-in waits for its impedance or companion measurement. Default 10 s. */
  scaleHoldMs?: number;
}

export interface BleDecoderOutput {
  ble: RawBleInput[];
  scale: ScaleReading[];
}

export interface BleDecoder {
  /** Decodes one line read at `nowMs`; results accumulate until `take()`. */
  pushLine(line: string, nowMs: number): void;
  /** Publishes weigh-ins whose scale has been quiet for the hold time `idleMs` after the last line. */
  expireIdle(idleMs: number): void;
  /** Publishes every pending weigh-in (end of input). */
  flush(): void;
  /** The readings decoded since the last call. */
  take(): BleDecoderOutput;
  stats(): Record<string, number>;
}

export const DEFAULT_SCALE_HOLD_MS = 10_000;
export const DEFAULT_SCALE_CLOCK_MAX_SKEW_MS = 10 * 60_000;

const BAD_LINE_COUNTER: Record<BadLineReason, string> = {
  'bad-json': 'badJson',
  'bad-format': 'badFormat',
  'bad-hex': 'badHex',
  'missing-mac': 'missingMac',
  'bad-mac': 'badMac',
  'bad-rssi': 'badRssi',
  'bad-ts': 'badTs',
  'bad-sensor': 'badSensor',
  'unknown-char': 'unknownChar',
};

const BEACON_COUNTER: Record<Beacon['kind'], string> = {
  ibeacon: 'ibeacons',
  'eddystone-uid': 'eddystoneUids',
  'eddystone-url': 'eddystoneUrls',
  'eddystone-tlm': 'eddystoneTlms',
};

/** Counter per skipped frame reason (parsers' reason strings → stats keys). */
const SKIPPED_COUNTER: Record<string, string> = {
  'ibeacon-malformed': 'ibeaconMalformed',
  'ibeacon-truncated': 'ibeaconTruncated',
  'eddystone-truncated': 'eddystoneTruncated',
  'eddystone-malformed': 'eddystoneMalformed',
  'eddystone-etlm': 'eddystoneEncryptedTlm',
  'eddystone-eid': 'eddystoneEid',
  'eddystone-unknown-frame': 'eddystoneUnknownFrame',
  'scale-truncated': 'scaleTruncated',
  'scale-malformed': 'scaleMalformed',
};

/** A sensor id in the options is not an id: a configuration error, reported at start-up. */
export class InvalidSensorIdError extends Error {
  readonly code = 'INVALID_SENSOR_ID';
}

/** Throws InvalidSensorIdError on a sensor id that does not match ID_PATTERN. */
export function createBleDecoder(options: BleDecoderOptions): BleDecoder {
  if (!ID_PATTERN.test(options.sensorId))
    throw new InvalidSensorIdError(`invalid sensor id: ${options.sensorId}`);
  const scaleSensorIds = new Map<string, string>();
  for (const [key, sensorId] of options.scaleSensorIds ?? []) {
    // Sensor ids are checked; the key is not echoed since it is a MAC.
    if (!ID_PATTERN.test(sensorId)) throw new InvalidSensorIdError(`invalid scale sensor id: ${sensorId}`);
    scaleSensorIds.set(normalizeMac(key) ?? key.trim().toLowerCase(), sensorId);
  }
  const stabilizer = createScaleStabilizer({
    holdMs: options.scaleHoldMs ?? DEFAULT_SCALE_HOLD_MS,
    clockOffsetMs: (options.scaleClockOffsetMin ?? 0) * 60_000,
    maxClockSkewMs: options.scaleClockMaxSkewMs ?? DEFAULT_SCALE_CLOCK_MAX_SKEW_MS,
  });
  const counters: Record<string, number> = {
    lines: 0,
    blankLines: 0,
    ...Object.fromEntries(Object.values(BAD_LINE_COUNTER).map((k) => [k, 0])),
    adTruncated: 0,
    ...Object.fromEntries(Object.values(SKIPPED_COUNTER).map((k) => [k, 0])),
    sightings: 0,
    ibeacons: 0,
    eddystoneUids: 0,
    eddystoneUrls: 0,
    eddystoneTlms: 0,
    scaleSightingsSuppressed: 0,
    scaleNotifications: 0,
    scaleUnsuccessful: 0,
  };
  let ble: RawBleInput[] = [];
  let scale: ScaleReading[] = [];
  const weighIns: ScaleWeighIn[] = [];
  let latestMs = 0;

  function count(key: string): void {
    counters[key] = (counters[key] ?? 0) + 1;
  }

  function emitWeighIns(): void {
    for (const w of weighIns) {
      const reading: ScaleReading = {
        sensorId: scaleSensorIds.get(w.scaleKey) ?? options.sensorId,
        measuredAt: w.measuredAtMs,
        weightKg: w.weightKg,
      };
      if (w.impedanceOhm !== undefined) reading.impedanceOhm = w.impedanceOhm;
      if (w.bodyFatPct !== undefined) reading.bodyFatPct = w.bodyFatPct;
      scale.push(reading);
    }
    weighIns.length = 0;
  }

  /** A notification's scale frame, or the counter its rejection goes to. */
  function notificationFrame(line: ScanNotification): ScaleFrame | string {
    if (line.charUuid16 === WEIGHT_MEASUREMENT_UUID16) {
      const r = parseWeightMeasurement(line.value);
      if (!r.ok) return SKIPPED_COUNTER[r.reason] ?? 'scaleMalformed';
      return r.value.weightKg === undefined ? 'scaleUnsuccessful' : weightMeasurementFrame(r.value);
    }
    const r = parseBodyCompositionMeasurement(line.value);
    if (!r.ok) return SKIPPED_COUNTER[r.reason] ?? 'scaleMalformed';
    const nothing = r.value.bodyFatPct === undefined && r.value.weightKg === undefined;
    return nothing ? 'scaleUnsuccessful' : bodyCompositionFrame(r.value);
  }

  function onAdvertisement(line: ScanAdvertisement, key: string): void {
    const ad = decodeAdvertisement(line.payload);
    if (!ad.ok) {
      count('adTruncated');
      return;
    }
    for (const reason of ad.skipped) count(SKIPPED_COUNTER[reason] ?? reason);
    if (ad.scale) {
      stabilizer.push(key, ad.scale, line.heardAtMs, weighIns);
      return;
    }
    if (ad.fromScale || scaleSensorIds.has(key) || stabilizer.knows(key)) {
      count('scaleSightingsSuppressed');
      return;
    }
    const input: RawBleInput = {
      sensorId: line.sensorId ?? options.sensorId,
      heardAt: line.heardAtMs,
      rssiDbm: line.rssiDbm,
    };
    if (line.mac !== undefined) input.mac = line.mac;
    else input.deviceKey = line.deviceKey;
    if (ad.beacon) {
      input.beacon = ad.beacon;
      count(BEACON_COUNTER[ad.beacon.kind]);
    }
    ble.push(input);
    count('sightings');
  }

  return {
    pushLine(text, nowMs) {
      count('lines');
      const line = parseScanLine(text, nowMs);
      if (line.kind === 'blank' || line.kind === 'bad') {
        count(line.kind === 'blank' ? 'blankLines' : BAD_LINE_COUNTER[line.reason]);
        return;
      }
      if (line.heardAtMs > latestMs) latestMs = line.heardAtMs;
      // parseScanLine gives every report a MAC or a device key; keys are case-insensitive, as in
      // the gateway's pseudonymizer.
      const key = line.mac ?? line.deviceKey?.toLowerCase() ?? '';
      if (line.kind === 'adv') {
        onAdvertisement(line, key);
      } else {
        count('scaleNotifications');
        const frame = notificationFrame(line);
        if (typeof frame === 'string') count(frame);
        else stabilizer.push(key, frame, line.heardAtMs, weighIns);
      }
      if (stabilizer.pendingCount() > 0) stabilizer.expire(latestMs, weighIns);
      if (weighIns.length > 0) emitWeighIns();
    },
    expireIdle(idleMs) {
      stabilizer.expire(latestMs + idleMs, weighIns);
      emitWeighIns();
    },
    flush() {
      stabilizer.flush(weighIns);
      emitWeighIns();
    },
    take() {
      const out = { ble, scale };
      ble = [];
      scale = [];
      return out;
    },
    stats: () => ({ ...counters, ...stabilizer.stats() }),
  };
}
