import type { Logger } from 'pino';
import { normalizeMac } from '../../core/src/privacy.ts';
import { createBleSource } from './ble/ble-source.ts';
import { decodeAdvertisement } from './ble/decode-advertisement.ts';
import { parseHex } from './ble/hex-bytes.ts';
import { createCaptureSource } from './capture/capture-source.ts';
import type { GatewayConfig } from './config.ts';
import { createEspresenseSource } from './espresense/espresense-source.ts';
import { createMerakiReceiver, readApMapFile } from './meraki/meraki-receiver.ts';
import { parseSensorPairs } from './sensor-pairs.ts';
import type { ReadingSource } from './source.ts';

/** Builds a source from the gateway's config (the config was checked for what the source needs). */
export type SourceFactory = (config: GatewayConfig, log: Logger) => ReadingSource;

const required = (value: string | undefined, key: string): string => {
  if (value === undefined) throw new Error(`${key} is required for this SOURCE`);
  return value;
};

/** Scale map keys are MACs in any notation; the decoder looks them up normalized. */
function scaleSensors(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [mac, sensorId] of parseSensorPairs(text, 'scale MAC').sensors) {
    out.set(normalizeMac(mac) ?? mac.toLowerCase(), sensorId);
  }
  return out;
}

/** Meraki v3 sends a Bluetooth client's raw advertisement; decode its beacon frame, if any. */
function beaconOfAdvertisement(rawDataHex: string) {
  const bytes = parseHex(rawDataHex);
  if (!bytes) return undefined;
  const decoded = decodeAdvertisement(bytes);
  return decoded.ok ? decoded.beacon : undefined;
}

/** The real inputs; the CLI adds the simulator (the gateway never imports the simulator). */
export const REAL_SOURCES = {
  capture: (c, log) =>
    createCaptureSource({
      input: c.CAPTURE_INPUT,
      sensorId: required(c.SENSOR_ID, 'SENSOR_ID'),
      sensorByInterface: Object.fromEntries(
        parseSensorPairs(c.CAPTURE_INTERFACE_SENSORS ?? '', 'interface').sensors,
      ),
      logger: log,
    }),
  ble: (c, log) =>
    createBleSource({
      input: c.BLE_INPUT,
      sensorId: required(c.SENSOR_ID, 'SENSOR_ID'),
      scaleSensorIds: scaleSensors(c.BLE_SCALE_SENSORS),
      scaleClockOffsetMin: c.BLE_SCALE_CLOCK_OFFSET_MIN,
      scaleHoldMs: c.BLE_SCALE_HOLD_MS,
      logger: log,
    }),
  meraki: (c, log) =>
    createMerakiReceiver({
      host: c.MERAKI_HOST,
      port: c.MERAKI_PORT,
      path: c.MERAKI_PATH,
      validator: required(c.MERAKI_VALIDATOR, 'MERAKI_VALIDATOR'),
      secret: required(c.MERAKI_SECRET, 'MERAKI_SECRET'),
      apSensors: readApMapFile(required(c.MERAKI_AP_MAP_FILE, 'MERAKI_AP_MAP_FILE')),
      decodeBeacon: beaconOfAdvertisement,
      logger: log,
    }),
  espresense: (c, log) =>
    createEspresenseSource({
      url: required(c.ESPRESENSE_URL, 'ESPRESENSE_URL'),
      ...(c.ESPRESENSE_USERNAME !== undefined ? { username: c.ESPRESENSE_USERNAME } : {}),
      ...(c.ESPRESENSE_PASSWORD !== undefined ? { password: c.ESPRESENSE_PASSWORD } : {}),
      topicPrefix: c.ESPRESENSE_TOPIC_PREFIX,
      rooms: parseSensorPairs(c.ESPRESENSE_ROOMS, 'room').sensors,
      logger: log,
    }),
} satisfies Partial<Record<GatewayConfig['SOURCE'], SourceFactory>>;
