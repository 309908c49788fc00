import {
  MAX_IMPEDANCE_OHM,
  massKg,
  readDateTime,
  type ScaleFrame,
  type ScaleFrameParse,
  u16le,
} from './scale-frame.ts';

// Xiaomi scales broadcast each reading as Service Data (no connection needed). Layouts as read by
// openScale (BluetoothMiScale.java, BluetoothMiScale2.java), custom-components/ble_monitor
// (ble_parser/miscale.py) and Theengs Decoder (XMTZC04HM, XMTZC05HM):
//
// 0x181D, Mi Smart Scale 1/2 (XMTZC01HM/XMTZC04HM), 10 octets:
//   [0] control: bit 0 lb, bit 4 jin (catty), bit 5 stabilised, bit 7 load removed
//   [1..2] weight uint16 LE: kg ÷ 200, lb ÷ 100, jin ÷ 100
//   [3..9] date time (year LE, month, day, hour, minute, second) of the scale's clock
//
// 0x181B, Mi Body Composition Scale 1/2 (XMTZC02HM/XMTZC05HM), 13 octets: the Body Composition
// Measurement layout without its body-fat field, with Xiaomi's meanings for reserved flag bits:
//   [0] control: bit 0 lb (the standard's "imperial" bit)
//   [1] control: bit 1 impedance measured, bit 5 stabilised, bit 6 jin, bit 7 load removed
//   [2..8] date time, [9..10] impedance Ω uint16 LE, [11..12] weight uint16 LE (same divisors)
//
// A jin is exactly 0.5 kg, so weight ÷ 100 in jin is weight ÷ 200 in kg: the kg and jin readings
// use the same divisor once converted. The scale sends the stabilised weight first and sets the
// impedance bit a few seconds later (when barefoot); the stabiliser decides what to publish.

export const MI_SCALE_UUID16 = 0x181d;
export const MI_BODY_COMPOSITION_UUID16 = 0x181b;

const MI_SCALE_LENGTH = 10;
const MI_BODY_COMPOSITION_LENGTH = 13;

/** Mi Smart Scale service data (UUID 0x181D, after the UUID); never throws. */
export function parseMiScale(data: Uint8Array): ScaleFrameParse {
  if (data.length < MI_SCALE_LENGTH) return { ok: false, reason: 'scale-truncated' };
  if (data.length > MI_SCALE_LENGTH) return { ok: false, reason: 'scale-malformed' };
  const control = data[0] ?? 0;
  const frame: ScaleFrame = {
    protocol: 'mi-181d',
    stabilized: (control & 0x20) !== 0,
    loadRemoved: (control & 0x80) !== 0,
    weightKg: massKg(u16le(data, 1), (control & 0x01) !== 0),
  };
  const clockMs = readDateTime(data, 3);
  if (clockMs !== undefined) frame.clockMs = clockMs;
  return { ok: true, frame };
}

/** Mi Body Composition Scale service data (UUID 0x181B, after the UUID); never throws. */
export function parseMiBodyComposition(data: Uint8Array): ScaleFrameParse {
  if (data.length < MI_BODY_COMPOSITION_LENGTH) return { ok: false, reason: 'scale-truncated' };
  if (data.length > MI_BODY_COMPOSITION_LENGTH) return { ok: false, reason: 'scale-malformed' };
  const control0 = data[0] ?? 0;
  const control1 = data[1] ?? 0;
  const impedanceMeasured = (control1 & 0x02) !== 0;
  const frame: ScaleFrame = {
    protocol: 'mi-181b',
    stabilized: (control1 & 0x20) !== 0,
    loadRemoved: (control1 & 0x80) !== 0,
    weightKg: massKg(u16le(data, 11), (control0 & 0x01) !== 0),
    impedancePending: !impedanceMeasured,
  };
  const impedanceOhm = u16le(data, 9);
  // A measured impedance of 0 or beyond a body's range is a failed measurement (shoes, wet feet).
  if (impedanceMeasured && impedanceOhm > 0 && impedanceOhm < MAX_IMPEDANCE_OHM)
    frame.impedanceOhm = impedanceOhm;
  const clockMs = readDateTime(data, 2);
  if (clockMs !== undefined) frame.clockMs = clockMs;
  return { ok: true, frame };
}
