// A pcapng interface as its Interface Description Block describes it, and its timestamp units
// turned into epoch milliseconds: `if_tsresol` (10^-n or 2^-n s, default µs) and `if_tsoffset`
// (seconds added). Exact: 64-bit timestamps are split so no double rounds before the division.

const TWO_POW_32 = 4_294_967_296;

export interface PcapngInterface {
  linktype: number;
  snaplen: number;
  name: string | undefined;
  /** Timestamp units per millisecond when they divide exactly (1e-3 .. 1e-9 s); else 0. */
  unitsPerMs: number;
  /** Resolution as (numerator ms, denominator) for the BigInt path: ms = units * num / den. */
  bigNum: bigint;
  bigDen: bigint;
  offsetMs: number;
}

/** (high·2³² + low) / unitsPerMs, floored, exact while unitsPerMs ≤ 2²⁰ (hiR·2³² stays below 2⁵³). */
function unitsToMs(high: number, low: number, unitsPerMs: number): number {
  if (unitsPerMs === 1) return high * TWO_POW_32 + low;
  const hiQ = Math.floor(high / unitsPerMs);
  const hiR = high - hiQ * unitsPerMs;
  return hiQ * TWO_POW_32 + Math.floor((hiR * TWO_POW_32 + low) / unitsPerMs);
}

export function createInterface(linktype: number, snaplen: number): PcapngInterface {
  return {
    linktype,
    snaplen,
    name: undefined,
    unitsPerMs: 1000,
    bigNum: 1n,
    bigDen: 1000n,
    offsetMs: 0,
  };
}

/** Applies `if_tsresol` (option 9): bit 7 clear = 10^-v s, set = 2^-(v & 0x7f) s. */
export function setResolution(itf: PcapngInterface, v: number): void {
  const exp = v & 0x7f;
  if ((v & 0x80) === 0 && exp >= 3 && exp <= 9) {
    itf.unitsPerMs = 10 ** (exp - 3);
    return;
  }
  // Seconds-, centi- or finer-than-ns decimal units, and every power-of-2 unit: exact BigInt math.
  itf.unitsPerMs = 0;
  const den = (v & 0x80) === 0 ? 10n ** BigInt(exp) : 1n << BigInt(exp);
  itf.bigNum = 1000n;
  itf.bigDen = den;
}

export function timestampMs(itf: PcapngInterface, high: number, low: number): number {
  const ms =
    itf.unitsPerMs > 0
      ? unitsToMs(high, low, itf.unitsPerMs)
      : Number((((BigInt(high) << 32n) | BigInt(low)) * itf.bigNum) / itf.bigDen);
  return ms + itf.offsetMs;
}

/** Applies `if_tsoffset` (option 14): signed 64-bit seconds, given as high (signed) and low words. */
export function setOffsetSeconds(itf: PcapngInterface, highSigned: number, low: number): void {
  itf.offsetMs = (highSigned * TWO_POW_32 + low) * 1000;
}
