import {
  M_PER_IN,
  MAX_IMPEDANCE_OHM,
  massKg,
  readDateTime,
  roundTo,
  type ScaleFrame,
  type ScaleParseFailure,
  u16le,
} from './scale-frame.ts';

// The Bluetooth SIG scale characteristics (Weight Scale Service 1.0 / Body Composition Service
// 1.0; field formats in the GATT Specification Supplement). Little-endian; a flags field says which
// optional fields follow, in a fixed order. Mass is 0.005 kg (SI) or 0.01 lb (imperial) per unit,
// height 0.001 m or 0.1 in. 0xFFFF in the mandatory field means "measurement unsuccessful".
//
// Weight Measurement 0x2A9D: flags uint8 (bit 0 imperial, 1 time stamp, 2 user id, 3 BMI and
//   height), weight, [date time 7], [user id uint8, 0xFF = unknown], [BMI 0.1 kg/m², height].
// Body Composition Measurement 0x2A9C: flags uint16 (bit 0 imperial, 1 time stamp, 2 user id,
//   3 basal metabolism, 4 muscle %, 5 muscle mass, 6 fat-free mass, 7 soft lean mass, 8 body water
//   mass, 9 impedance, 10 weight, 11 height, 12 multiple packet), body fat 0.1 %, then the present
//   fields in that order: [date time], [user id], [basal metabolism kJ], [muscle 0.1 %], [masses],
//   [impedance 0.1 Ω], [weight], [height]. A measurement longer than one notification is sent as
//   two packets with bit 12 set in both; each packet's flags describe the fields it carries.
//
// The flags fully determine the layout, so a frame whose length differs from what its flags
// announce, or with reserved flag bits set (fields this parser cannot place), is rejected.

export const WEIGHT_MEASUREMENT_UUID16 = 0x2a9d;
export const BODY_COMPOSITION_MEASUREMENT_UUID16 = 0x2a9c;

const UNSUCCESSFUL = 0xffff;

export interface WeightMeasurement {
  imperial: boolean;
  /** Absent when the scale reported "measurement unsuccessful". */
  weightKg?: number;
  clockMs?: number;
  /** Scale user index; 255 = unknown user. */
  userId?: number;
  bmi?: number;
  heightM?: number;
}

export interface BodyCompositionMeasurement {
  imperial: boolean;
  /** Absent when the scale reported "measurement unsuccessful" (0xFFFF). */
  bodyFatPct?: number;
  clockMs?: number;
  userId?: number;
  basalMetabolismKj?: number;
  musclePct?: number;
  muscleMassKg?: number;
  fatFreeMassKg?: number;
  softLeanMassKg?: number;
  bodyWaterMassKg?: number;
  impedanceOhm?: number;
  weightKg?: number;
  heightM?: number;
  multiPacket: boolean;
}

export type GattParse<T> = { ok: true; value: T } | { ok: false; reason: ScaleParseFailure };

/** Weight Measurement (0x2A9D) characteristic value; never throws. */
export function parseWeightMeasurement(value: Uint8Array): GattParse<WeightMeasurement> {
  if (value.length < 1) return { ok: false, reason: 'scale-truncated' };
  const flags = value[0] ?? 0;
  if ((flags & 0xf0) !== 0) return { ok: false, reason: 'scale-malformed' };
  const imperial = (flags & 0x01) !== 0;
  const expected = 3 + (flags & 0x02 ? 7 : 0) + (flags & 0x04 ? 1 : 0) + (flags & 0x08 ? 4 : 0);
  const failure = checkLength(value.length, expected);
  if (failure) return { ok: false, reason: failure };
  const out: WeightMeasurement = { imperial };
  const rawWeight = u16le(value, 1);
  if (rawWeight !== UNSUCCESSFUL) out.weightKg = massKg(rawWeight, imperial);
  let i = 3;
  if (flags & 0x02) {
    const clockMs = readDateTime(value, i);
    if (clockMs !== undefined) out.clockMs = clockMs;
    i += 7;
  }
  if (flags & 0x04) out.userId = value[i++] ?? 0;
  if (flags & 0x08) {
    out.bmi = roundTo(u16le(value, i) * 0.1, 1);
    out.heightM = heightM(u16le(value, i + 2), imperial);
  }
  return { ok: true, value: out };
}

/** Body Composition Measurement (0x2A9C) characteristic value, one packet; never throws. */
export function parseBodyCompositionMeasurement(value: Uint8Array): GattParse<BodyCompositionMeasurement> {
  if (value.length < 2) return { ok: false, reason: 'scale-truncated' };
  const flags = u16le(value, 0);
  if ((flags & 0xe000) !== 0) return { ok: false, reason: 'scale-malformed' };
  const imperial = (flags & 0x0001) !== 0;
  let expected = 4 + (flags & 0x0002 ? 7 : 0) + (flags & 0x0004 ? 1 : 0);
  // Bits 3..11 each add one uint16 field.
  for (let bit = 3; bit <= 11; bit++) if (flags & (1 << bit)) expected += 2;
  const failure = checkLength(value.length, expected);
  if (failure) return { ok: false, reason: failure };
  const out: BodyCompositionMeasurement = { imperial, multiPacket: (flags & 0x1000) !== 0 };
  const rawFat = u16le(value, 2);
  if (rawFat !== UNSUCCESSFUL) out.bodyFatPct = roundTo(rawFat * 0.1, 1);
  let i = 4;
  if (flags & 0x0002) {
    const clockMs = readDateTime(value, i);
    if (clockMs !== undefined) out.clockMs = clockMs;
    i += 7;
  }
  if (flags & 0x0004) out.userId = value[i++] ?? 0;
  const next = () => {
    const v = u16le(value, i);
    i += 2;
    return v;
  };
  if (flags & 0x0008) out.basalMetabolismKj = next();
  if (flags & 0x0010) out.musclePct = roundTo(next() * 0.1, 1);
  if (flags & 0x0020) out.muscleMassKg = massKg(next(), imperial);
  if (flags & 0x0040) out.fatFreeMassKg = massKg(next(), imperial);
  if (flags & 0x0080) out.softLeanMassKg = massKg(next(), imperial);
  if (flags & 0x0100) out.bodyWaterMassKg = massKg(next(), imperial);
  if (flags & 0x0200) out.impedanceOhm = roundTo(next() * 0.1, 1);
  if (flags & 0x0400) out.weightKg = massKg(next(), imperial);
  if (flags & 0x0800) out.heightM = heightM(next(), imperial);
  return { ok: true, value: out };
}

/** The stabiliser's view of a Weight Measurement (GATT measurements are final: stabilised). */
export function weightMeasurementFrame(m: WeightMeasurement): ScaleFrame {
  const frame: ScaleFrame = { protocol: 'gatt-2a9d', stabilized: true, loadRemoved: false };
  if (m.weightKg !== undefined) frame.weightKg = m.weightKg;
  if (m.clockMs !== undefined) frame.clockMs = m.clockMs;
  return frame;
}

/** The stabiliser's view of one Body Composition Measurement packet. */
export function bodyCompositionFrame(m: BodyCompositionMeasurement): ScaleFrame {
  const frame: ScaleFrame = { protocol: 'gatt-2a9c', stabilized: true, loadRemoved: false };
  if (m.multiPacket) frame.multiPacket = true;
  if (m.weightKg !== undefined) frame.weightKg = m.weightKg;
  if (m.bodyFatPct !== undefined && m.bodyFatPct <= 100) frame.bodyFatPct = m.bodyFatPct;
  if (m.impedanceOhm !== undefined && m.impedanceOhm > 0 && m.impedanceOhm < MAX_IMPEDANCE_OHM) {
    frame.impedanceOhm = m.impedanceOhm;
  }
  if (m.clockMs !== undefined) frame.clockMs = m.clockMs;
  return frame;
}

function checkLength(actual: number, expected: number): ScaleParseFailure | undefined {
  if (actual < expected) return 'scale-truncated';
  if (actual > expected) return 'scale-malformed';
  return undefined;
}

function heightM(raw: number, imperial: boolean): number {
  return roundTo(imperial ? raw * 0.1 * M_PER_IN : raw * 0.001, 4);
}
