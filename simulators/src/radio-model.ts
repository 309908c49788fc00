// The radio model (see the header of mall-sim.ts): log-distance path loss with fixed per-sensor
// and per-phone offsets, wall attenuation between zones, Gaussian noise, frame loss, sensitivity
// and saturation. The sensor tables list, per phone zone, the sensors that can hear a phone there,
// so a frame only visits a handful of sensors.

import type { Layout } from '../../core/src/index.ts';
import type { ZoneTables } from './mall-zones.ts';
import type { Rng } from './rng.ts';
import { normal } from './rng.ts';
import type { Person } from './sim-person.ts';
import type { RawBleSighting, RawWifiSighting } from './sim-readings.ts';

/** Radio model: rssi = txDbmAt1m - 10·exponent·log10(max(d, 1 m)) + offsets + walls + N(0, noiseSigmaDb). */
export interface PathLossOptions {
  /** Received power at 1 m, dBm. */
  txDbmAt1m: number;
  /** Log-distance path-loss exponent (2 = free space; indoors 2.5-3.5). */
  exponent: number;
  noiseSigmaDb: number;
  /** Fixed per-sensor gain offset, drawn once from N(0, sensorOffsetSigmaDb). */
  sensorOffsetSigmaDb: number;
  /** Fixed per-phone transmit-power offset, drawn once from N(0, phoneOffsetSigmaDb). */
  phoneOffsetSigmaDb: number;
  /** Share of frames a sensor misses, 0-1. */
  lossRate: number;
  /** Sensitivity: weaker frames are not heard. */
  minRssiDbm: number;
  /** Sensors farther than this never hear the phone. */
  maxRangeM: number;
  /** Added when the sensor is in another zone than the phone (a wall or shop front), dB (<= 0). */
  wallDb: number;
  /** Added on top when neither zone is a corridor or atrium (two walls, or a facade), dB (<= 0). */
  extraWallDb: number;
}

export const DEFAULT_PATH_LOSS: Readonly<PathLossOptions> = Object.freeze({
  txDbmAt1m: -40,
  exponent: 2.8,
  noiseSigmaDb: 4,
  sensorOffsetSigmaDb: 2,
  phoneOffsetSigmaDb: 3,
  lossRate: 0.1,
  minRssiDbm: -92,
  maxRangeM: 35,
  wallDb: -6,
  extraWallDb: -3,
});

/** Receivers saturate: nothing reads stronger than this however close the phone. */
const MAX_RSSI_DBM = -20;
/** BLE: iBeacon frames' calibrated power at 1 m; tags and the app advertise every 2-5 s. */
export const BLE_TX_AT_1M_DBM = -59;
export const BLE_INTERVAL_MIN_MS = 2_000;
export const BLE_INTERVAL_MAX_MS = 5_000;
const BLE_NOISE_SIGMA_DB = 5;
/** Scanners miss more advertisements than sniffers miss probes (they hop over three channels). */
const BLE_LOSS_RATE = 0.2;
const BLE_MIN_RSSI_DBM = -100;
const BLE_MAX_RANGE_M = 30;

/** Sensors hearing phone zone z: entries wifiStart[z] .. wifiStart[z + 1] - 1 (likewise ble*). */
export interface SensorTables {
  wifiStart: Int32Array;
  wifiIds: string[];
  wifiX: Float64Array;
  wifiY: Float64Array;
  wifiBase: Float64Array;
  bleStart: Int32Array;
  bleIds: string[];
  bleX: Float64Array;
  bleY: Float64Array;
  bleBase: Float64Array;
  /** Squared ranges, m². */
  maxRange2: number;
  bleMaxRange2: number;
  /** 10·n·log10(d) = (10·n/2)·log10(d²): no square root per sensor. */
  halfSlope: number;
}

/**
 * Per phone zone, the sensors that can hear it (same floor, within range of the zone's box), each
 * with its base level for that zone: tx + fixed gain + walls. `sensorRng` draws the fixed gains.
 */
export function buildSensorTables(
  layout: Layout,
  zoneTables: ZoneTables,
  radio: PathLossOptions,
  sensorRng: Rng,
): SensorTables {
  const { zones, n, zoneIndex, zx0, zy0, zw, zh, isCirculation } = zoneTables;
  const maxRange2 = radio.maxRangeM * radio.maxRangeM;
  const bleMaxRange2 = BLE_MAX_RANGE_M * BLE_MAX_RANGE_M;
  const wifiStart = new Int32Array(n + 1);
  const bleStart = new Int32Array(n + 1);
  const wifiIds: string[] = [];
  const wifiXs: number[] = [];
  const wifiYs: number[] = [];
  const wifiBases: number[] = [];
  const bleIds: string[] = [];
  const bleXs: number[] = [];
  const bleYs: number[] = [];
  const bleBases: number[] = [];
  const sensorGain = layout.sensors.map(() => normal(sensorRng, 0, radio.sensorOffsetSigmaDb)); // every sensor: stable offsets
  const wallDb = (phoneZone: number, sensorZone: number | undefined): number => {
    if (sensorZone === phoneZone) return 0;
    const circulation = sensorZone !== undefined && isCirculation[sensorZone] === 1;
    return radio.wallDb + (circulation || isCirculation[phoneZone] === 1 ? 0 : radio.extraWallDb);
  };
  for (let z = 0; z < n; z++) {
    wifiStart[z] = wifiIds.length;
    bleStart[z] = bleIds.length;
    const floor = zones[z]!.floor;
    layout.sensors.forEach((sensor, s) => {
      if (sensor.floor !== floor) return; // floors are isolated (see the header)
      const dx = Math.max(zx0[z]! - sensor.x, 0, sensor.x - (zx0[z]! + zw[z]!));
      const dy = Math.max(zy0[z]! - sensor.y, 0, sensor.y - (zy0[z]! + zh[z]!));
      const d2 = dx * dx + dy * dy;
      const walls = wallDb(z, zoneIndex.get(sensor.zone));
      if ((sensor.kind === 'wifi' || sensor.kind === 'wifi+ble') && d2 <= maxRange2) {
        wifiIds.push(sensor.id);
        wifiXs.push(sensor.x);
        wifiYs.push(sensor.y);
        wifiBases.push(radio.txDbmAt1m + sensorGain[s]! + walls);
      }
      if ((sensor.kind === 'ble' || sensor.kind === 'wifi+ble') && d2 <= bleMaxRange2) {
        bleIds.push(sensor.id);
        bleXs.push(sensor.x);
        bleYs.push(sensor.y);
        bleBases.push(BLE_TX_AT_1M_DBM + sensorGain[s]! + walls);
      }
    });
  }
  wifiStart[n] = wifiIds.length;
  bleStart[n] = bleIds.length;
  const wifiX = Float64Array.from(wifiXs);
  const wifiY = Float64Array.from(wifiYs);
  const wifiBase = Float64Array.from(wifiBases);
  const bleX = Float64Array.from(bleXs);
  const bleY = Float64Array.from(bleYs);
  const bleBase = Float64Array.from(bleBases);
  return {
    wifiStart,
    wifiIds,
    wifiX,
    wifiY,
    wifiBase,
    bleStart,
    bleIds,
    bleX,
    bleY,
    bleBase,
    maxRange2,
    bleMaxRange2,
    halfSlope: 5 * radio.exponent,
  };
}

/** One probe frame from p's phone at (px, py): a sighting for each WiFi sensor that hears it. */
export function hearProbeFrame(
  sensors: SensorTables,
  radio: PathLossOptions,
  p: Person,
  px: number,
  py: number,
  atMs: number,
  out: RawWifiSighting[],
): void {
  const rng = p.rng;
  const { wifiStart, wifiX, wifiY, wifiBase, wifiIds, maxRange2, halfSlope } = sensors;
  const end = wifiStart[p.zone + 1]!;
  for (let i = wifiStart[p.zone]!; i < end; i++) {
    const dx = wifiX[i]! - px;
    const dy = wifiY[i]! - py;
    const d2 = dx * dx + dy * dy;
    if (d2 > maxRange2) continue;
    if (rng.next() < radio.lossRate) continue;
    const rssi = Math.round(
      wifiBase[i]! +
        p.txOffsetDb -
        (d2 > 1 ? halfSlope * Math.log10(d2) : 0) +
        normal(rng, 0, radio.noiseSigmaDb),
    );
    if (rssi < radio.minRssiDbm) continue;
    out.push({
      sensorId: wifiIds[i]!,
      heardAt: atMs,
      rssiDbm: rssi < MAX_RSSI_DBM ? rssi : MAX_RSSI_DBM,
      mac: p.mac,
      frameSeq: p.frameSeq,
    });
  }
}

/** One BLE advertisement from p's tag or app at p's position: a sighting for each BLE sensor that hears it. */
export function hearAdvertisement(
  sensors: SensorTables,
  p: Person,
  atMs: number,
  out: RawBleSighting[],
): void {
  const rng = p.rng;
  const { bleStart, bleX, bleY, bleBase, bleIds, bleMaxRange2, halfSlope } = sensors;
  const end = bleStart[p.zone + 1]!;
  for (let i = bleStart[p.zone]!; i < end; i++) {
    const dx = bleX[i]! - p.x;
    const dy = bleY[i]! - p.y;
    const d2 = dx * dx + dy * dy;
    if (d2 > bleMaxRange2) continue;
    if (rng.next() < BLE_LOSS_RATE) continue;
    const rssi = Math.round(
      bleBase[i]! +
        p.bleOffsetDb -
        (d2 > 1 ? halfSlope * Math.log10(d2) : 0) +
        normal(rng, 0, BLE_NOISE_SIGMA_DB),
    );
    if (rssi < BLE_MIN_RSSI_DBM) continue;
    out.push({
      sensorId: bleIds[i]!,
      heardAt: atMs,
      rssiDbm: rssi < MAX_RSSI_DBM ? rssi : MAX_RSSI_DBM,
      mac: p.bleMac,
      beacon: p.beacon!,
    });
  }
}
