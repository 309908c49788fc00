// Hex text ↔ bytes for scanner lines. Strict: an even number of hex digits and nothing else, so a
// cut or corrupted line is rejected rather than half-decoded.

const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}

/** `"0201061aff4c00"` → bytes; undefined for an odd length or any non-hex character. */
export function parseHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(text.charCodeAt(2 * i));
    const lo = nibble(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function nibble(code: number): number {
  return code < 128 ? (NIBBLE[code] ?? -1) : -1;
}

/** Bytes → lowercase hex, no separators. */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += (bytes[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}
