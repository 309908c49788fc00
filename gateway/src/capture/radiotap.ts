// Radiotap header walk (https://www.radiotap.org/): version, length, then one or more 32-bit
// `present` bitmaps (bit 31 = another bitmap follows) and the fields they announce, each aligned
// to its natural size relative to the header start, in bit order. Bit 29 switches the following
// bitmaps back to the radiotap namespace, bit 30 to a vendor namespace: a 6-byte header (OUI,
// sub-namespace, skip length) whose data we skip whole; either restarts the bit numbering at 0
// in the next bitmap. An extended bitmap without a namespace switch continues the numbering (32,
// 33, ...). This follows the Linux iterator (net/wireless/radiotap.c).
//
// A field this table does not know stops the walk: its alignment and size are unknown, so no
// later field can be located. What was found before it is kept. Pure, allocation-free: the
// result goes into a caller-owned object.
//
// Antenna signal: a multi-chain receiver reports several dBm antenna-signal fields (field 5),
// one in the first bitmap and one per chain in extended bitmaps, each next to an antenna field.
// We take the FIRST: Linux mac80211 (ieee80211_add_rx_radiotap_header) writes the frame's
// combined signal there and the per-chain values after it, and the first is also what tshark's
// `radiotap.dbm_antsignal` lists first.

export const RADIOTAP_OK = 0;
/** The header claims more bytes than the frame has. */
export const RADIOTAP_TRUNCATED = 1;
/** Not radiotap version 0, a length below 8, or fields overrunning the stated length. */
export const RADIOTAP_CORRUPT = 2;

export const FLAG_FCS_AT_END = 0x10;
export const FLAG_BAD_FCS = 0x40;

export interface RadiotapInfo {
  status: number;
  /** `it_len`: where the 802.11 frame starts, from the header start. */
  headerLength: number;
  /** The Flags field (1), or 0 when absent. */
  flags: number;
  /** The first dBm antenna signal (field 5), or NaN. */
  signalDbm: number;
  /** How many dBm antenna-signal fields were found (one per chain on multi-chain receivers). */
  signalFields: number;
  /** The walk stopped at a field it does not know (later fields, if any, were not read). */
  stoppedAtUnknown: boolean;
}

export function createRadiotapInfo(): RadiotapInfo {
  return {
    status: RADIOTAP_OK,
    headerLength: 0,
    flags: 0,
    signalDbm: Number.NaN,
    signalFields: 0,
    stoppedAtUnknown: false,
  };
}

// [alignment, size] of radiotap-namespace fields 0..27, 0 = not defined (18 is the unofficial
// XChannel, 28 starts TLVs). Sources: radiotap.org "Defined fields", Linux rtap_namespace_sizes.
// biome-ignore format: one field per column pair reads better as a table
const FIELD_ALIGN = new Uint8Array([8, 1, 1, 2, 2, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 0, 1, 4, 2, 8, 2, 2, 2, 1, 2]);
// biome-ignore format: see FIELD_ALIGN
const FIELD_SIZE = new Uint8Array([8, 1, 1, 4, 2, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 0, 3, 8, 12, 12, 12, 12, 6, 1, 4]);
const FIELD_FLAGS = 1;
const FIELD_DBM_ANTSIGNAL = 5;
const BIT_RADIOTAP_NS = 29;
const BIT_VENDOR_NS = 30;
const BIT_EXT = 31;
/** Present bitmaps read at most; more is corruption (the Linux iterator has no limit, but a bound costs nothing). */
const MAX_BITMAPS = 32;

function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Walks the radiotap header at `data[offset .. offset + length)` into `out` (also returned). */
export function parseRadiotap(
  data: Uint8Array,
  offset: number,
  length: number,
  out: RadiotapInfo,
): RadiotapInfo {
  out.status = RADIOTAP_OK;
  out.headerLength = 0;
  out.flags = 0;
  out.signalDbm = Number.NaN;
  out.signalFields = 0;
  out.stoppedAtUnknown = false;
  if (length < 8) {
    out.status = RADIOTAP_TRUNCATED;
    return out;
  }
  const itLen = data[offset + 2]! | (data[offset + 3]! << 8);
  if (data[offset] !== 0 || itLen < 8) {
    out.status = RADIOTAP_CORRUPT;
    return out;
  }
  if (itLen > length) {
    out.status = RADIOTAP_TRUNCATED;
    return out;
  }
  out.headerLength = itLen;
  const end = offset + itLen;
  // Count the bitmaps first: the fields start after the last one.
  let words = 1;
  while (u32le(data, offset + 4 + 4 * (words - 1)) & 0x80000000) {
    words++;
    if (words > MAX_BITMAPS || offset + 4 + 4 * words > end) {
      out.status = RADIOTAP_CORRUPT;
      return out;
    }
  }
  let pos = offset + 4 + 4 * words;
  let inRadiotap = true;
  let base = 0;
  for (let w = 0; w < words; w++) {
    const bitmap = u32le(data, offset + 4 + 4 * w);
    let nextBase = base + 32;
    for (let bit = 0; bit < BIT_EXT; bit++) {
      if ((bitmap & (1 << bit)) === 0) continue;
      if (bit === BIT_RADIOTAP_NS) {
        inRadiotap = true;
        nextBase = 0;
        continue;
      }
      if (bit === BIT_VENDOR_NS) {
        pos += (pos - offset) & 1;
        if (pos + 6 > end) {
          out.status = RADIOTAP_CORRUPT;
          return out;
        }
        // OUI (3), sub-namespace (1), skip length (2): we know no vendor namespace, so skip its data.
        pos += 6 + (data[pos + 4]! | (data[pos + 5]! << 8));
        if (pos > end) {
          out.status = RADIOTAP_CORRUPT;
          return out;
        }
        inRadiotap = false;
        nextBase = 0;
        continue;
      }
      if (!inRadiotap) continue;
      const index = base + bit;
      const align = index < FIELD_ALIGN.length ? FIELD_ALIGN[index]! : 0;
      if (align === 0) {
        out.stoppedAtUnknown = true;
        return out;
      }
      const pad = (pos - offset) & (align - 1);
      if (pad !== 0) pos += align - pad;
      const size = FIELD_SIZE[index]!;
      if (pos + size > end) {
        out.status = RADIOTAP_CORRUPT;
        return out;
      }
      if (index === FIELD_FLAGS) out.flags = data[pos]!;
      else if (index === FIELD_DBM_ANTSIGNAL) {
        if (out.signalFields === 0) out.signalDbm = (data[pos]! << 24) >> 24;
        out.signalFields++;
      }
      pos += size;
    }
    base = nextBase;
  }
  return out;
}
