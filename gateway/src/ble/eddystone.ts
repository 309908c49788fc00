import type { BleReading } from '../../../core/src/messages.ts';
import { toHex } from './hex-bytes.ts';

// Eddystone (github.com/google/eddystone, protocol-specification.md): Service Data for the 16-bit
// UUID 0xFEAA; the first octet is the frame type. All multi-byte fields are big-endian.
//   UID 0x00: tx power at 0 m (int8), namespace (10), instance (6), 2 RFU octets (often omitted).
//   URL 0x10: tx power, scheme prefix (0..3), encoded URL (0..17 octets, expansion codes 0..13).
//   TLM 0x20: version 0x00 (plain): battery mV, temperature (signed 8.8 °C; 0x8000 = not
//             supported), advertising PDU count, time since boot in 0.1 s. Version 0x01 is the
//             encrypted eTLM: it cannot be read without the beacon's identity key, so it is counted
//             and skipped.
//   EID 0x30 and reserved types are counted and skipped.

type Beacon = NonNullable<BleReading['beacon']>;
export type EddystoneBeacon = Extract<Beacon, { kind: 'eddystone-uid' | 'eddystone-url' | 'eddystone-tlm' }>;

export type EddystoneParse =
  | { ok: true; beacon: EddystoneBeacon }
  | {
      ok: false;
      reason:
        | 'eddystone-truncated'
        | 'eddystone-malformed'
        | 'eddystone-etlm'
        | 'eddystone-eid'
        | 'eddystone-unknown-frame';
    };

export const EDDYSTONE_UUID16 = 0xfeaa;

const FRAME_UID = 0x00;
const FRAME_URL = 0x10;
const FRAME_TLM = 0x20;
const FRAME_EID = 0x30;

const URL_SCHEMES = ['http://www.', 'https://www.', 'http://', 'https://'] as const;
const URL_EXPANSIONS = [
  '.com/',
  '.org/',
  '.edu/',
  '.net/',
  '.info/',
  '.biz/',
  '.gov/',
  '.com',
  '.org',
  '.edu',
  '.net',
  '.info',
  '.biz',
  '.gov',
] as const;

/** Reads one Eddystone frame (the service data after the 0xFEAA UUID); never throws. */
export function parseEddystone(frame: Uint8Array): EddystoneParse {
  if (frame.length === 0) return { ok: false, reason: 'eddystone-truncated' };
  switch (frame[0]) {
    case FRAME_UID:
      return parseUid(frame);
    case FRAME_URL:
      return parseUrl(frame);
    case FRAME_TLM:
      return parseTlm(frame);
    case FRAME_EID:
      return { ok: false, reason: 'eddystone-eid' };
    default:
      return { ok: false, reason: 'eddystone-unknown-frame' };
  }
}

function parseUid(frame: Uint8Array): EddystoneParse {
  // 18 octets without the RFU pair (service data length 0x15), 20 with it (0x17).
  if (frame.length < 18) return { ok: false, reason: 'eddystone-truncated' };
  if (frame.length > 20) return { ok: false, reason: 'eddystone-malformed' };
  return {
    ok: true,
    beacon: { kind: 'eddystone-uid', namespace: toHex(frame, 2, 12), instance: toHex(frame, 12, 18) },
  };
}

function parseUrl(frame: Uint8Array): EddystoneParse {
  if (frame.length < 3) return { ok: false, reason: 'eddystone-truncated' };
  if (frame.length > 20) return { ok: false, reason: 'eddystone-malformed' };
  const txPowerDbm = int8(frame[1] ?? 0);
  const scheme = URL_SCHEMES[frame[2] ?? 255];
  if (scheme === undefined || txPowerDbm < -127 || txPowerDbm > 20) {
    return { ok: false, reason: 'eddystone-malformed' };
  }
  let url = scheme;
  for (let i = 3; i < frame.length; i++) {
    const code = frame[i] ?? 0;
    const expansion = URL_EXPANSIONS[code];
    if (expansion !== undefined) url += expansion;
    // 0x0e..0x20 and 0x7f..0xff are reserved: only printable US-ASCII is sent as itself.
    else if (code > 0x20 && code < 0x7f) url += String.fromCharCode(code);
    else return { ok: false, reason: 'eddystone-malformed' };
  }
  return { ok: true, beacon: { kind: 'eddystone-url', url, txPowerDbm } };
}

function parseTlm(frame: Uint8Array): EddystoneParse {
  if (frame.length < 2) return { ok: false, reason: 'eddystone-truncated' };
  if (frame[1] === 0x01) return { ok: false, reason: 'eddystone-etlm' };
  if (frame[1] !== 0x00) return { ok: false, reason: 'eddystone-malformed' };
  // The plain TLM frame has a fixed length of 14 octets.
  if (frame.length < 14) return { ok: false, reason: 'eddystone-truncated' };
  if (frame.length > 14) return { ok: false, reason: 'eddystone-malformed' };
  const batteryMv = u16be(frame, 2);
  const temperatureRaw = u16be(frame, 4);
  const beacon: EddystoneBeacon = {
    kind: 'eddystone-tlm',
    advCount: u32be(frame, 6),
    uptimeSec: u32be(frame, 10) / 10,
  };
  // A zero battery voltage means "not supported" (USB-powered beacons), like 0x8000 for temperature.
  if (batteryMv !== 0) beacon.batteryMv = batteryMv;
  if (temperatureRaw !== 0x8000) beacon.temperatureC = ((temperatureRaw << 16) >> 16) / 256;
  return { ok: true, beacon };
}

function int8(b: number): number {
  return (b << 24) >> 24;
}

function u16be(d: Uint8Array, i: number): number {
  return ((d[i] ?? 0) << 8) | (d[i + 1] ?? 0);
}

function u32be(d: Uint8Array, i: number): number {
  return (d[i] ?? 0) * 0x1000000 + (((d[i + 1] ?? 0) << 16) | ((d[i + 2] ?? 0) << 8) | (d[i + 3] ?? 0));
}
