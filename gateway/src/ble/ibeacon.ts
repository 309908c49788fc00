import type { BleReading } from '../../../core/src/messages.ts';
import { toHex } from './hex-bytes.ts';

// iBeacon (Apple, Proximity Beacon Specification R1, Table 2-1): Manufacturer Specific Data with
// company 0x004C (sent little-endian: 4C 00), beacon type 0x02, length 0x15, then the proximity
// UUID (16), major (2), minor (2), all big-endian, and the measured power at 1 m (int8, dBm).
// Octets after those 21 are ignored: some vendors append a battery byte.

export type IBeacon = Extract<NonNullable<BleReading['beacon']>, { kind: 'ibeacon' }>;

export type IBeaconParse =
  | { ok: true; beacon: IBeacon }
  | { ok: false; reason: 'not-ibeacon' | 'ibeacon-malformed' | 'ibeacon-truncated' };

const APPLE_COMPANY_ID = 0x004c;
const IBEACON_TYPE = 0x02;
const IBEACON_LENGTH = 0x15;
/** Company id (2) + type (1) + length (1) + 21. */
const IBEACON_DATA_LENGTH = 25;

/** Reads an iBeacon from a Manufacturer Specific Data value (company id first); never throws. */
export function parseIBeacon(data: Uint8Array): IBeaconParse {
  if (data.length < 3) return { ok: false, reason: 'not-ibeacon' };
  const company = (data[0] ?? 0) | ((data[1] ?? 0) << 8);
  if (company !== APPLE_COMPANY_ID || data[2] !== IBEACON_TYPE) return { ok: false, reason: 'not-ibeacon' };
  if (data.length < 4) return { ok: false, reason: 'ibeacon-truncated' };
  if (data[3] !== IBEACON_LENGTH) return { ok: false, reason: 'ibeacon-malformed' };
  if (data.length < IBEACON_DATA_LENGTH) return { ok: false, reason: 'ibeacon-truncated' };
  const power = ((data[24] ?? 0) << 24) >> 24;
  // The schema's range (−127..20 dBm): a larger value is not a calibrated power but a broken frame.
  if (power < -127 || power > 20) return { ok: false, reason: 'ibeacon-malformed' };
  const hex = toHex(data, 4, 20);
  return {
    ok: true,
    beacon: {
      kind: 'ibeacon',
      uuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      major: ((data[20] ?? 0) << 8) | (data[21] ?? 0),
      minor: ((data[22] ?? 0) << 8) | (data[23] ?? 0),
      txPowerDbm: power,
    },
  };
}
