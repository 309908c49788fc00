import { describe, expect, it } from 'vitest';
import { BleReading, ScaleReading } from '../../core/src/messages.ts';
import { walkAdStructures } from '../../gateway/src/ble/ad-structures.ts';
import { createBleDecoder } from '../../gateway/src/ble/ble-decoder.ts';
import { decodeAdvertisement } from '../../gateway/src/ble/decode-advertisement.ts';
import { parseEddystone } from '../../gateway/src/ble/eddystone.ts';
import {
  bodyCompositionFrame,
  parseBodyCompositionMeasurement,
  parseWeightMeasurement,
  weightMeasurementFrame,
} from '../../gateway/src/ble/gatt-weight.ts';
import { toHex } from '../../gateway/src/ble/hex-bytes.ts';
import { parseIBeacon } from '../../gateway/src/ble/ibeacon.ts';
import { parseScanLine } from '../../gateway/src/ble/scan-line.ts';
import { parseMiBodyComposition, parseMiScale } from '../../gateway/src/ble/xiaomi-scale.ts';
import { createRng } from '../helpers/capture-writer.ts';
import * as V from './gateway-ble-vectors.ts';

// 100,000 random and mutated buffers through every BLE parser: none may throw, and whatever they
// accept must still satisfy the wire schemas (a parser that "succeeds" on garbage with an
// out-of-range value would get a whole batch dead-lettered downstream).

const ITERATIONS = 100_000;
const SEED = 0x5eedb1e;
const NOW = 1_763_460_000_000;

const random = createRng(SEED); // seeded, so a failure reproduces
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));

const PAYLOADS = [
  V.AIRLOCATE_IBEACON,
  V.BLE_MONITOR_IBEACON,
  V.IPHONE_NEARBY,
  V.BLUECHARM_IBEACON,
  V.BLUECHARM_URL,
  V.BLUECHARM_UID,
  V.BLUECHARM_TLM,
  V.ALTBEACON_UID,
  V.RUUVI_URL,
  V.BLE_MONITOR_TLM,
  V.BLE_MONITOR_TLM_UNSUPPORTED,
  V.MI1_REMOVED,
  V.MI1_STABLE,
  V.MI1_LIVE,
  V.MI2_UNSETTLED,
  V.MI2_IMPEDANCE,
  V.MIBCS_UNSETTLED,
  V.MIBCS_SETTLED,
  V.MIBCS_SETTLED_NO_IMPEDANCE,
  V.MIBCS_REMOVED,
].map(V.bytes);
/** Values as the frame parsers see them (after the AD header / UUID). */
const FRAMES = [
  V.bytes('4c000215e2c56db5dffb48d2b060d0f5a71096e000640000c5'),
  V.bytes(V.ADVLIB_URL_FRAME),
  V.bytes('00e700010203040506070809010203040506'),
  V.bytes('20000c6f1e000002006d41db9ab6'),
  V.bytes('229e43e507040b101301'),
  V.bytes('0226b2070103131a15e601604a'),
  V.bytes('0e8642e9070b120a0000011601d606'),
  V.bytes('0206ea00e9070b120a0000fc12604a'),
  V.bytes('fe0fea00e9070b120a000002f41ac201401f983ab03610278813604ad606'),
  V.bytes('0016ea00fc128642'),
];
const SEEDS = [...PAYLOADS, ...FRAMES];

const EXTREMES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

function mutate(source: Uint8Array): Uint8Array {
  const b = Uint8Array.from(source);
  switch (int(8)) {
    case 0: {
      const flips = 1 + int(4);
      for (let i = 0; i < flips && b.length > 0; i++) {
        const at = int(b.length);
        b[at] = (b[at] ?? 0) ^ (1 << int(8));
      }
      return b;
    }
    case 1:
      return b.subarray(0, int(b.length + 1));
    case 2:
      return Uint8Array.of(...b, ...randomBytes(1 + int(40)));
    case 3:
      if (b.length > 0) b[int(b.length)] = pick(EXTREMES);
      return b;
    case 4:
      // Length and flags fields sit in the first octets of every format.
      for (let i = 0; i < Math.min(3, b.length); i++) if (random() < 0.5) b[i] = pick(EXTREMES);
      return b;
    case 5: {
      const from = int(b.length + 1);
      return Uint8Array.of(...b.subarray(0, from), ...b.subarray(from + 1 + int(8)));
    }
    case 6: {
      const from = int(b.length + 1);
      const piece = b.subarray(from, from + 1 + int(12));
      return Uint8Array.of(...b.subarray(0, from), ...piece, ...piece, ...b.subarray(from));
    }
    default:
      return randomBytes(int(2) === 0 ? int(32) : int(300));
  }
}

function nextBuffer(): Uint8Array {
  const r = random();
  if (r < 0.15) return randomBytes(int(64));
  if (r < 0.2) return new Uint8Array(0);
  let b = mutate(pick(SEEDS));
  if (random() < 0.3) b = mutate(b);
  return b;
}

const TEXT_PIECES = [
  '{',
  '}',
  '"',
  ':',
  ',',
  ' ',
  '\t',
  '-',
  '.',
  'e',
  'E',
  '0',
  '9',
  'f',
  'x',
  '\\',
  '\u0000',
  '☃',
  '\ud800',
];
const MACS = ['AA:BB:CC:DD:EE:01', 'AA:BB:CC:DD:EE:02', 'F1:46:E3:55:15:C8', 'C8:47:8C:C0:95:89'];
const VALID_LINES = [
  `{"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"ts":${NOW},"adv":"${V.AIRLOCATE_IBEACON}"}`,
  `{"mac":"F1:46:E3:55:15:C8","rssi":-80,"ts":"2025-11-18T10:00:00Z","adv":"${V.MIBCS_SETTLED}"}`,
  '{"mac":"00:1a:2b:3c:4d:5e","char":"2a9d","value":"0e8642e9070b120a0000011601d606"}',
  '{"id":"DE:AD:BE:EF:4B:49","rssi":-41,"servicedata":"20000c6f1e000002006d41db9ab6","servicedatauuid":"0xfeaa"}',
  `1589219964 4E:AF:83:1E:D6:2F -54 ${V.BLUECHARM_UID}`,
  `+BLESCAN:78:51:69:0a:fe:a0,-81,${V.RUUVI_URL},,1`,
];

function mutateText(line: string): string {
  switch (int(5)) {
    case 0:
      return line.slice(0, int(line.length + 1));
    case 1: {
      const at = int(line.length + 1);
      return line.slice(0, at) + pick(TEXT_PIECES) + line.slice(at + int(3));
    }
    case 2:
      return Array.from({ length: int(80) }, () => pick(TEXT_PIECES)).join('');
    case 3:
      return Array.from({ length: int(120) }, () => String.fromCharCode(int(0x3000))).join('');
    default:
      return line.replace(/\d/g, () => (random() < 0.2 ? pick(['9', '-', '1e400', '']) : String(int(10))));
  }
}

/** A scanner line carrying a fuzzed buffer, or mangled text. */
function nextLine(buffer: Uint8Array): string {
  const hex = toHex(buffer);
  const mac = pick(MACS);
  switch (int(6)) {
    case 0:
      return `{"mac":"${mac}","rssi":${int(160) - 140},"ts":${NOW + int(600_000)},"adv":"${hex}"}`;
    case 1:
      return `{"mac":"${mac}","ts":${NOW + int(600_000)},"char":"${pick(['2a9d', '2a9c'])}","value":"${hex}"}`;
    case 2:
      return `${mac} ${int(160) - 140} ${hex}`;
    case 3:
      return `{"id":"${mac}","rssi":-60,"servicedata":"${hex}","servicedatauuid":"${pick(['0x181b', '0x181d', '0xfeaa'])}"}`;
    default:
      return mutateText(pick(VALID_LINES));
  }
}

const DEVICE = '0'.repeat(32);

describe('BLE parsers under fuzzing', () => {
  it(`take ${ITERATIONS} random and mutated buffers without throwing and publish only schema-valid values`, () => {
    const decoder = createBleDecoder({ sensorId: 'fuzz-scanner' });
    const accepted = { walked: 0, beacons: 0, scaleFrames: 0, gatt: 0, lines: 0, sightings: 0, scale: 0 };

    for (let i = 0; i < ITERATIONS; i++) {
      const b = nextBuffer();

      const walk = walkAdStructures(b);
      if (walk.ok) {
        accepted.walked++;
        let octets = 0;
        for (const s of walk.structures) octets += s.data.length + 2;
        expect(octets).toBeLessThanOrEqual(b.length);
      }

      const ad = decodeAdvertisement(b);
      if (ad.ok && ad.beacon) expect(BleReading.shape.beacon.safeParse(ad.beacon).success).toBe(true);
      const ibeacon = parseIBeacon(b);
      const eddystone = parseEddystone(b);
      for (const r of [ibeacon, eddystone]) {
        if (!r.ok) continue;
        accepted.beacons++;
        const check = BleReading.shape.beacon.safeParse(r.beacon);
        expect(check.success, JSON.stringify(r.beacon)).toBe(true);
      }

      for (const r of [parseMiScale(b), parseMiBodyComposition(b)]) {
        if (!r.ok) continue;
        accepted.scaleFrames++;
        expect(Number.isFinite(r.frame.weightKg)).toBe(true);
      }
      const wm = parseWeightMeasurement(b);
      if (wm.ok) {
        accepted.gatt++;
        weightMeasurementFrame(wm.value);
      }
      const bcm = parseBodyCompositionMeasurement(b);
      if (bcm.ok) {
        accepted.gatt++;
        bodyCompositionFrame(bcm.value);
      }

      const line = nextLine(b);
      const parsed = parseScanLine(line, NOW);
      if (parsed.kind === 'adv' || parsed.kind === 'char') accepted.lines++;
      decoder.pushLine(line, NOW + i);

      if (i % 1000 === 999 || i === ITERATIONS - 1) {
        if (i === ITERATIONS - 1) decoder.flush();
        const { ble, scale } = decoder.take();
        accepted.sightings += ble.length;
        accepted.scale += scale.length;
        for (const r of ble) {
          const { mac: _mac, deviceKey: _key, ...rest } = r;
          const check = BleReading.safeParse({ ...rest, device: DEVICE, randomized: false });
          expect(check.success, JSON.stringify(r)).toBe(true);
          expect(r.mac !== undefined || r.deviceKey !== undefined).toBe(true);
        }
        for (const r of scale) expect(ScaleReading.safeParse(r).success, JSON.stringify(r)).toBe(true);
      }
    }

    // The fuzzing reached the success paths too, not only the rejections.
    expect(accepted.walked).toBeGreaterThan(10_000);
    expect(accepted.beacons).toBeGreaterThan(1_000);
    expect(accepted.scaleFrames).toBeGreaterThan(1_000);
    expect(accepted.gatt).toBeGreaterThan(1_000);
    expect(accepted.lines).toBeGreaterThan(20_000);
    expect(accepted.sightings).toBeGreaterThan(1_000);
    expect(accepted.scale).toBeGreaterThan(10);
    // No time budget here (speed is measured in benchmarks; a loaded CI machine took 18 s): an
    // input that made a parser hang would run into the test's timeout.
  }, 60_000);
});
