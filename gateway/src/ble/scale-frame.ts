// What every smart-scale parser produces: one frame as the scale sent it, in SI units, before the
// stabiliser decides whether it is a weigh-in worth publishing.

export type ScaleProtocol = 'mi-181d' | 'mi-181b' | 'gatt-2a9d' | 'gatt-2a9c';

export interface ScaleFrame {
  protocol: ScaleProtocol;
  /** The scale says the weight has settled (always true for GATT measurements, which are final). */
  stabilized: boolean;
  /** The scale says the load was taken off (it keeps repeating the last weigh-in with this flag). */
  loadRemoved: boolean;
  /** Absent in a Body Composition Measurement without its Weight field. */
  weightKg?: number;
  impedanceOhm?: number;
  bodyFatPct?: number;
  /** The scale's own clock read as if it were UTC, epoch ms; absent when not sent or not a valid date. */
  clockMs?: number;
  /** 0x181B: weight settled but the impedance is still being measured (its bit is not set yet). */
  impedancePending?: boolean;
  /** 0x2A9C: one of two packets of a measurement too long for one notification. */
  multiPacket?: boolean;
}

export type ScaleParseFailure = 'scale-truncated' | 'scale-malformed';

export type ScaleFrameParse = { ok: true; frame: ScaleFrame } | { ok: false; reason: ScaleParseFailure };

/** Pounds to kilograms (international avoirdupois pound, exact). */
export const KG_PER_LB = 0.45359237;
/** Inches to metres (exact). */
export const M_PER_IN = 0.0254;

/** Impedance a body can plausibly show; scales send 0 or a saturated value when the measurement fails. */
export const MAX_IMPEDANCE_OHM = 3000;

/** Mass field of the Weight Scale / Body Composition services: 0.005 kg or 0.01 lb per unit. */
export function massKg(raw: number, imperial: boolean): number {
  return roundTo(imperial ? raw * 0.01 * KG_PER_LB : raw * 0.005, 3);
}

export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export function u16le(d: Uint8Array, i: number): number {
  return (d[i] ?? 0) | ((d[i + 1] ?? 0) << 8);
}

/**
 * A 7-octet Date Time (GATT Specification Supplement, "Date Time": year uint16 LE, month, day,
 * hours, minutes, seconds) as epoch ms read as UTC; undefined for "unknown" zeros or an impossible
 * date (31 February, 25 o'clock).
 */
export function readDateTime(d: Uint8Array, i: number): number | undefined {
  const year = u16le(d, i);
  const month = d[i + 2] ?? 0;
  const day = d[i + 3] ?? 0;
  const hours = d[i + 4] ?? 0;
  const minutes = d[i + 5] ?? 0;
  const seconds = d[i + 6] ?? 0;
  if (year < 1582 || year > 9999 || month < 1 || month > 12 || day < 1) return undefined;
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hours, minutes, seconds);
  // Date.UTC rolls 31 February over into March: a different day back means it did not exist.
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}
