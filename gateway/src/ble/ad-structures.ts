// The advertising payload as AD structures (Bluetooth Core Specification v5.4, Vol 3, Part C, §11):
// a sequence of [length][AD type][value: length − 1 octets]. A zero length ends the significant
// part early (what follows is padding: legacy scanners print all 31 octets). A structure that runs
// past the end means the payload was cut or corrupted: the whole payload is rejected, because the
// octets after the cut cannot be told apart from garbage.

/** AD types this gateway reads (Assigned Numbers, §2.3 "Common Data Types"). */
export const AD_TYPE = {
  FLAGS: 0x01,
  SERVICE_DATA_16: 0x16,
  MANUFACTURER_DATA: 0xff,
} as const;

/** One AD structure; `data` is a view into the payload (no copy). */
export interface AdStructure {
  type: number;
  data: Uint8Array;
}

export type AdWalk = { ok: true; structures: AdStructure[] } | { ok: false; reason: 'ad-truncated' };

/** Splits an advertising (or scan response) payload into its AD structures; never throws. */
export function walkAdStructures(payload: Uint8Array): AdWalk {
  const structures: AdStructure[] = [];
  let i = 0;
  while (i < payload.length) {
    const length = payload[i] ?? 0;
    if (length === 0) break;
    const end = i + 1 + length;
    if (end > payload.length) return { ok: false, reason: 'ad-truncated' };
    structures.push({ type: payload[i + 1] ?? 0, data: payload.subarray(i + 2, end) });
    i = end;
  }
  return { ok: true, structures };
}

/**
 * The service data value after its 16-bit UUID (sent little-endian), when `s` is Service Data for
 * `uuid16`; undefined otherwise.
 */
export function serviceData16(s: AdStructure, uuid16: number): Uint8Array | undefined {
  if (s.type !== AD_TYPE.SERVICE_DATA_16 || s.data.length < 2) return undefined;
  const uuid = (s.data[0] ?? 0) | ((s.data[1] ?? 0) << 8);
  return uuid === uuid16 ? s.data.subarray(2) : undefined;
}
