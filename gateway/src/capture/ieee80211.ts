import { createHash } from 'node:crypto';

// 802.11 probe requests (IEEE 802.11-2020 §9.3.3.9): frame control type 0 (management) subtype 4.
// Management header: frame control (2), duration (2), addr1 (6), addr2 = transmitter (6), addr3
// (6), sequence control (2; number = value >> 4), plus a 4-byte HT Control field when the Order
// bit (0x80 of the flags byte) is set. The body is a list of elements: id (1), length (1), value.
// Pure and allocation-free except the fingerprint string (cached).
//
// IE fingerprint: the first 16 hex digits of SHA-256 over the elements that stay the same between
// the probes of one phone, in their order. Which parts vary, and why they are left out:
// - SSID (0) content: a phone asks for a wildcard, then for each remembered network by name.
// - DS Parameter Set (3): the channel the probe is sent on; changes as the phone scans.
// - Extended Capabilities (127): reported "highly variable between probes of one device" by the
//   probe-footprint study quoted at networkengineering.stackexchange.com/q/77081 (which also
//   drops DS parameters and the SSID); Android and iOS set bits per scan type.
// - Supported Operating Classes (59): its first octet is the current operating class (channel).
// - SSID List (84), Interworking (107; may carry a HESSID), Mesh ID (114), Multi-band (158; may
//   carry a MAC address), Multi-Link (extension 107; carries the MLD MAC address): per-network
//   or per-address content.
// - Vendor Specific (221): only OUI and vendor type. The WPS element inside carries a UUID-E that
//   stays fixed per device and can reveal its real MAC (Vanhoef et al., "Why MAC Address
//   Randomization is not Enough", AsiaCCS 2016), P2P elements carry device addresses: hashing
//   their content would make the fingerprint a device identifier, not a model-and-settings hint.
// For those elements the id still counts (presence and order are stable: hostapd's client
// taxonomy, src/ap/taxonomy.c, keeps the id of every element and the content of only a few).
// Every other element counts with its length and content (rates, HT/VHT/HE capabilities, ...).
// One phone still yields a fingerprint per band (2.4 vs 5 GHz rates and capabilities differ).

export const FRAME_PROBE_REQUEST = 0;
export const FRAME_OTHER = 1;
/** Too short for its header, or an element running past the end of the frame. */
export const FRAME_TRUNCATED = 2;
/** Not protocol version 0. */
export const FRAME_CORRUPT = 3;

export interface ProbeRequestInfo {
  /** Where addr2 (the transmitter) starts in the frame's buffer. */
  transmitterOffset: number;
  /** Sequence number, 0..4095. */
  sequence: number;
  /** Elements start and end (exclusive) in the frame's buffer. */
  elementsStart: number;
  elementsEnd: number;
}

export function createProbeRequestInfo(): ProbeRequestInfo {
  return { transmitterOffset: 0, sequence: 0, elementsStart: 0, elementsEnd: 0 };
}

const MGMT_HEADER_BYTES = 24;
const HT_CONTROL_BYTES = 4;
const EID_SSID = 0;
const EID_DS_PARAMETER_SET = 3;
const EID_SUPPORTED_OPERATING_CLASSES = 59;
const EID_SSID_LIST = 84;
const EID_INTERWORKING = 107;
const EID_MESH_ID = 114;
const EID_EXTENDED_CAPABILITIES = 127;
const EID_MULTI_BAND = 158;
const EID_VENDOR_SPECIFIC = 221;
const EID_EXTENSION = 255;
const EXT_MULTI_LINK = 107;

/**
 * Classifies the 802.11 frame at `data[offset .. offset + length)` (FCS already removed); for a
 * probe request, fills `out` and checks that its elements fit the frame.
 */
export function parseProbeRequest(
  data: Uint8Array,
  offset: number,
  length: number,
  out: ProbeRequestInfo,
): number {
  if (length < 2) return FRAME_TRUNCATED;
  const fc0 = data[offset]!;
  if ((fc0 & 0x03) !== 0) return FRAME_CORRUPT;
  // Type bits 2-3 = 0 (management), subtype bits 4-7 = 4.
  if ((fc0 & 0xfc) !== 0x40) return FRAME_OTHER;
  const headerBytes = MGMT_HEADER_BYTES + (data[offset + 1]! & 0x80 ? HT_CONTROL_BYTES : 0);
  if (length < headerBytes) return FRAME_TRUNCATED;
  out.transmitterOffset = offset + 10;
  out.sequence = (data[offset + 22]! | (data[offset + 23]! << 8)) >> 4;
  const end = offset + length;
  let p = offset + headerBytes;
  out.elementsStart = p;
  while (p < end) {
    if (p + 2 > end) return FRAME_TRUNCATED;
    p += 2 + data[p + 1]!;
    if (p > end) return FRAME_TRUNCATED;
  }
  out.elementsEnd = end;
  return FRAME_PROBE_REQUEST;
}

const FINGERPRINT_CACHE_MAX = 4096;

export interface IeFingerprinter {
  /** Fingerprint of the elements in `data[start .. end)` (already checked to fit), or undefined if none. */
  fingerprint(data: Uint8Array, start: number, end: number): string | undefined;
}

/**
 * A fingerprinter with its own cache: phones send the same elements probe after probe, so the
 * SHA-256 is computed once per distinct canonical element list (the cache is cleared when it holds
 * `cacheEntries`; 0 = hash every time). `npm run bench` prints both rates.
 */
export function createIeFingerprinter(cacheEntries = FINGERPRINT_CACHE_MAX): IeFingerprinter {
  let scratch = Buffer.alloc(512);
  const cache = new Map<string, string>();
  return {
    fingerprint(data, start, end) {
      if (start >= end) return undefined;
      if (scratch.length < end - start) scratch = Buffer.alloc(2 * (end - start));
      const n = canonicalElements(data, start, end, scratch);
      if (cacheEntries === 0) return hash(scratch, n);
      const key = scratch.toString('latin1', 0, n);
      let fp = cache.get(key);
      if (fp === undefined) {
        fp = hash(scratch, n);
        if (cache.size >= cacheEntries) cache.clear();
        cache.set(key, fp);
      }
      return fp;
    },
  };
}

function hash(bytes: Buffer, n: number): string {
  return createHash('sha256').update(bytes.subarray(0, n)).digest('hex').slice(0, 16);
}

/** Writes the stable part of each element into `out` (never longer than the input); returns its length. */
export function canonicalElements(data: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let n = 0;
  let p = start;
  while (p + 2 <= end) {
    const id = data[p]!;
    const len = data[p + 1]!;
    const v = p + 2;
    p = v + len;
    if (p > end) break;
    out[n++] = id;
    switch (id) {
      case EID_SSID:
      case EID_DS_PARAMETER_SET:
      case EID_EXTENDED_CAPABILITIES:
      case EID_SSID_LIST:
      case EID_INTERWORKING:
      case EID_MESH_ID:
      case EID_MULTI_BAND:
        continue;
      case EID_VENDOR_SPECIFIC:
        if (len >= 4) {
          out[n++] = data[v]!;
          out[n++] = data[v + 1]!;
          out[n++] = data[v + 2]!;
          out[n++] = data[v + 3]!;
        }
        continue;
      case EID_SUPPORTED_OPERATING_CLASSES:
        if (len >= 1) n = copyValue(data, v + 1, p, out, n);
        continue;
      case EID_EXTENSION:
        if (len >= 1) {
          out[n++] = data[v]!;
          if (data[v] !== EXT_MULTI_LINK) n = copyValue(data, v + 1, p, out, n);
        }
        continue;
      default:
        n = copyValue(data, v, p, out, n);
    }
  }
  return n;
}

/** Appends length and bytes of `data[from .. to)` to `out` at `n`. */
function copyValue(data: Uint8Array, from: number, to: number, out: Uint8Array, n: number): number {
  out[n++] = to - from;
  for (let i = from; i < to; i++) out[n++] = data[i]!;
  return n;
}
