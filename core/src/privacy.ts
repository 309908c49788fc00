import { createHmac } from 'node:crypto';

const MAC_PATTERN =
  /^([0-9a-f]{2})([:-]?)([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;

/** `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff`-free forms → `aa:bb:cc:dd:ee:ff`; undefined if not a MAC. */
export function normalizeMac(mac: string): string | undefined {
  const m = MAC_PATTERN.exec(mac.trim());
  if (!m) return undefined;
  return [m[1], m[3], m[4], m[5], m[6], m[7]].join(':').toLowerCase();
}

/**
 * True for a locally administered address (bit 1 of the first octet): what phones use when they
 * randomize their MAC. Such a pseudonym identifies one rotation period, not one person.
 */
export function isRandomizedMac(normalizedMac: string): boolean {
  return (Number.parseInt(normalizedMac.slice(0, 2), 16) & 0x02) !== 0;
}

/**
 * The keyed pseudonym of a MAC: the first 128 bits of HMAC-SHA-256(siteSecret, normalized MAC), hex.
 * Without the site secret it cannot be reversed by enumerating the 2^48 MAC space.
 */
export function pseudonymize(normalizedMac: string, siteSecret: string): string {
  // Hex of the first 16 bytes, not a slice of the whole digest's hex: a slice would keep the
  // 64-character string alive behind it, and reading it goes through the slice.
  return createHmac('sha256', siteSecret).update(normalizedMac).digest().toString('hex', 0, 16);
}

const MAC_ANYWHERE = /\b[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}\b/gi;

/** Replaces anything shaped like a MAC in free text (dead letters, logs) with a marker. */
export function redactMacs(text: string): string {
  return text.replace(MAC_ANYWHERE, '[mac-redacted]');
}
