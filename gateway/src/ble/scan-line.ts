import { ID_PATTERN } from '../../../core/src/ids.ts';
import { normalizeMac } from '../../../core/src/privacy.ts';
import { AD_TYPE } from './ad-structures.ts';
import { BODY_COMPOSITION_MEASUREMENT_UUID16, WEIGHT_MEASUREMENT_UUID16 } from './gatt-weight.ts';
import { parseHex } from './hex-bytes.ts';

// One scanner output line → a scan report. Accepted line formats (one report per line):
//
// JSON (a line starting with "{"):
//   {"mac":"AA:BB:CC:DD:EE:FF","rssi":-67,"ts":1763460000000,"adv":"0201061aff4c000215..."}
//     `adv` is the raw advertising payload (AD structures) in hex, scan response appended if any.
//   {"mac":"AA:BB:CC:DD:EE:FF","ts":"2025-11-18T10:00:00Z","char":"2a9d","value":"0e1437..."}
//     a GATT characteristic notification: Weight Measurement 2a9d or Body Composition 2a9c.
//   Theengs / OpenMQTTGateway BLE messages: `id` for the address, `rssi`, `manufacturerdata` (hex,
//     company id first), `servicedata` + `servicedatauuid` ("0xfeaa"); other keys are ignored. An
//     `id` that is not a MAC (an ESPresense-style device id) is kept as a device key.
//   Optional everywhere: `ts`, `sensor` (the scanner's sensor id when one feed carries several).
//   A line with an address and RSSI but no data is a plain sighting.
// Text:
//   [ts] <mac> <rssi> [advhex [scanresponsehex]]   whitespace-separated (btlemon-style)
//   +BLESCAN:<mac>,<rssi>,<advhex>,<scanresponsehex>,<addrtype>   (ESP32 AT firmware)
//
// `ts` is epoch milliseconds, epoch seconds (any number below 1e11, fractions allowed) or ISO 8601
// text (no zone = UTC); without one the line gets the caller's `nowMs`. Times outside 2000–2100,
// RSSI outside −127..20 dBm, bad hex, a missing or malformed address are rejected by reason.

export type BadLineReason =
  | 'bad-json'
  | 'bad-format'
  | 'bad-hex'
  | 'missing-mac'
  | 'bad-mac'
  | 'bad-rssi'
  | 'bad-ts'
  | 'bad-sensor'
  | 'unknown-char';

interface ScanSender {
  /** Normalized MAC (`aa:bb:cc:dd:ee:ff`), or else `deviceKey`. */
  mac?: string;
  deviceKey?: string;
  /** The line's own `sensor`, when it named one. */
  sensorId?: string;
  heardAtMs: number;
}

export interface ScanAdvertisement extends ScanSender {
  kind: 'adv';
  rssiDbm: number;
  /** AD structures; empty for a plain sighting. */
  payload: Uint8Array;
}

export interface ScanNotification extends ScanSender {
  kind: 'char';
  charUuid16: typeof WEIGHT_MEASUREMENT_UUID16 | typeof BODY_COMPOSITION_MEASUREMENT_UUID16;
  value: Uint8Array;
}

export type ScanLine =
  | ScanAdvertisement
  | ScanNotification
  | { kind: 'blank' }
  | { kind: 'bad'; reason: BadLineReason };

const MIN_EPOCH_MS = 946_684_800_000;
const MAX_EPOCH_MS = 4_102_444_800_000;
/** Below this a number is epoch seconds (1e11 ms is 1973; 1e11 s is the year 5138). */
const SECONDS_BELOW = 1e11;
const MAX_DEVICE_KEY_CHARS = 128;
const EMPTY = new Uint8Array(0);
const AT_PREFIX = '+BLESCAN:';
const DECIMAL = /^[+-]?\d+(\.\d+)?$/;
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const BLUETOOTH_BASE_UUID = /^0000([0-9a-f]{4})-0000-1000-8000-00805f9b34fb$/i;
const UUID16 = /^(?:0x)?([0-9a-f]{4})$/i;

const bad = (reason: BadLineReason) => ({ kind: 'bad', reason }) as const;

/** Parses one line (without its newline); never throws. */
export function parseScanLine(line: string, nowMs: number): ScanLine {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return { kind: 'blank' };
  return text.startsWith('{') ? parseJsonLine(text, nowMs) : parseTextLine(text, nowMs);
}

function parseJsonLine(text: string, nowMs: number): ScanLine {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    // SyntaxError from JSON.parse: the line is not JSON (cut, corrupted); counted by the caller.
    return bad('bad-json');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return bad('bad-json');
  const o = obj as Record<string, unknown>;

  const sender: ScanSender = { heardAtMs: 0 };
  const addressFailure = readAddress(o, sender);
  if (addressFailure) return bad(addressFailure);
  const heardAtMs = parseTs(o.ts, nowMs);
  if (heardAtMs === undefined) return bad('bad-ts');
  sender.heardAtMs = heardAtMs;
  if (o.sensor !== undefined && o.sensor !== null) {
    if (typeof o.sensor !== 'string' || !ID_PATTERN.test(o.sensor)) return bad('bad-sensor');
    sender.sensorId = o.sensor;
  }

  if (o.char !== undefined) {
    const uuid = typeof o.char === 'string' ? parseUuid16(o.char) : undefined;
    if (uuid !== WEIGHT_MEASUREMENT_UUID16 && uuid !== BODY_COMPOSITION_MEASUREMENT_UUID16) {
      return bad('unknown-char');
    }
    const value = typeof o.value === 'string' ? parseHex(o.value) : undefined;
    if (!value) return bad('bad-hex');
    return { ...sender, kind: 'char', charUuid16: uuid, value };
  }

  const rssiDbm = parseRssi(o.rssi);
  if (rssiDbm === undefined) return bad('bad-rssi');
  let payload: Uint8Array | undefined = EMPTY;
  if (o.adv !== undefined) payload = typeof o.adv === 'string' ? parseHex(o.adv) : undefined;
  else if (o.manufacturerdata !== undefined || o.servicedata !== undefined) payload = theengsPayload(o);
  if (!payload) return bad('bad-hex');
  return { ...sender, kind: 'adv', rssiDbm, payload };
}

function readAddress(o: Record<string, unknown>, sender: ScanSender): BadLineReason | undefined {
  if (o.mac !== undefined) {
    const mac = typeof o.mac === 'string' ? normalizeMac(o.mac) : undefined;
    if (!mac) return 'bad-mac';
    sender.mac = mac;
    return undefined;
  }
  if (o.id === undefined) return 'missing-mac';
  if (typeof o.id !== 'string') return 'bad-mac';
  const mac = normalizeMac(o.id);
  if (mac) sender.mac = mac;
  else if (isDeviceKey(o.id)) sender.deviceKey = o.id;
  else return 'bad-mac';
  return undefined;
}

/** A printable identifier of reasonable length (no control characters, not blank). */
function isDeviceKey(id: string): boolean {
  if (id.length === 0 || id.length > MAX_DEVICE_KEY_CHARS || id.trim() !== id) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** Theengs-style fields → the AD structures they were cut from. */
function theengsPayload(o: Record<string, unknown>): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  if (o.manufacturerdata !== undefined) {
    const data = typeof o.manufacturerdata === 'string' ? parseHex(o.manufacturerdata) : undefined;
    if (!data || data.length > 254) return undefined;
    parts.push(Uint8Array.of(data.length + 1, AD_TYPE.MANUFACTURER_DATA), data);
  }
  if (o.servicedata !== undefined) {
    const data = typeof o.servicedata === 'string' ? parseHex(o.servicedata) : undefined;
    if (!data || data.length > 252) return undefined;
    // Only a 16-bit (or Bluetooth-base 128-bit) UUID maps to the service data we read.
    const uuid = typeof o.servicedatauuid === 'string' ? parseUuid16(o.servicedatauuid) : undefined;
    if (uuid !== undefined) {
      parts.push(Uint8Array.of(data.length + 3, AD_TYPE.SERVICE_DATA_16, uuid & 0xff, uuid >> 8), data);
    }
  }
  return concat(parts);
}

function parseTextLine(text: string, nowMs: number): ScanLine {
  let tokens: string[];
  if (text.startsWith(AT_PREFIX)) {
    // mac,rssi,adv,scanresponse,addrtype: the address type is not needed.
    tokens = text.slice(AT_PREFIX.length).split(',').slice(0, 4);
    while (tokens.length > 2 && tokens[tokens.length - 1] === '') tokens.pop();
  } else {
    tokens = text.split(/\s+/);
  }
  let heardAtMs = nowMs;
  let mac = normalizeMac(tokens[0] ?? '');
  let i = 1;
  if (!mac) {
    if (tokens.length < 2 || text.startsWith(AT_PREFIX)) return bad('bad-format');
    const ts = parseTs(tokens[0], nowMs);
    mac = normalizeMac(tokens[1] ?? '');
    if (!mac) return bad(ts === undefined ? 'bad-format' : 'bad-mac');
    if (ts === undefined) return bad('bad-ts');
    heardAtMs = ts;
    i = 2;
  }
  const rssiToken = tokens[i];
  if (rssiToken === undefined || !DECIMAL.test(rssiToken))
    return bad(rssiToken === undefined ? 'bad-format' : 'bad-rssi');
  const rssiDbm = parseRssi(Number(rssiToken));
  if (rssiDbm === undefined) return bad('bad-rssi');
  const rest = tokens.slice(i + 1);
  if (rest.length > 2) return bad('bad-format');
  const parts: Uint8Array[] = [];
  for (const hex of rest) {
    const bytes = parseHex(hex);
    if (!bytes) return bad('bad-hex');
    parts.push(bytes);
  }
  return { kind: 'adv', mac, heardAtMs, rssiDbm, payload: concat(parts) };
}

/** `ts` as epoch ms: ms, seconds (detected), numeric text or ISO 8601; missing → `nowMs`. */
export function parseTs(value: unknown, nowMs: number): number | undefined {
  if (value === undefined || value === null) return nowMs;
  let ms: number;
  if (typeof value === 'number') ms = fromEpochNumber(value);
  else if (typeof value !== 'string') return undefined;
  else if (DECIMAL.test(value)) ms = fromEpochNumber(Number(value));
  else {
    const m = ISO_TIME.exec(value);
    if (!m) return undefined;
    let zone = (m[3] ?? 'Z').toUpperCase();
    // Date.parse wants ±hh:mm; accept ±hh and ±hhmm too.
    if (zone.length === 3) zone += ':00';
    else if (zone.length === 5) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
    ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  }
  if (!Number.isFinite(ms) || ms < MIN_EPOCH_MS || ms > MAX_EPOCH_MS) return undefined;
  return ms;
}

function fromEpochNumber(n: number): number {
  if (!Number.isFinite(n) || n < 0) return Number.NaN;
  return Math.round(n < SECONDS_BELOW ? n * 1000 : n);
}

function parseRssi(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const rssi = Math.round(value);
  return rssi >= -127 && rssi <= 20 ? rssi : undefined;
}

/** `"2a9d"`, `"0x2A9D"` or `"00002a9d-0000-1000-8000-00805f9b34fb"` → 0x2a9d. */
function parseUuid16(text: string): number | undefined {
  const m = UUID16.exec(text) ?? BLUETOOTH_BASE_UUID.exec(text);
  return m?.[1] !== undefined ? Number.parseInt(m[1], 16) : undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0] ?? EMPTY;
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
