import { describe, expect, it } from 'vitest';
import { serviceData16, walkAdStructures } from '../../gateway/src/ble/ad-structures.ts';
import { decodeAdvertisement } from '../../gateway/src/ble/decode-advertisement.ts';
import { EDDYSTONE_UUID16, parseEddystone } from '../../gateway/src/ble/eddystone.ts';
import {
  bodyCompositionFrame,
  parseBodyCompositionMeasurement,
  parseWeightMeasurement,
} from '../../gateway/src/ble/gatt-weight.ts';
import { parseIBeacon } from '../../gateway/src/ble/ibeacon.ts';
import { readDateTime } from '../../gateway/src/ble/scale-frame.ts';
import { parseMiBodyComposition, parseMiScale } from '../../gateway/src/ble/xiaomi-scale.ts';
import * as V from './gateway-ble-vectors.ts';

const { bytes } = V;

/** The first structure's value of `type` in a payload. */
function structure(hex: string, type: number): Uint8Array {
  const walk = walkAdStructures(bytes(hex));
  if (!walk.ok) throw new Error('test payload does not walk');
  const s = walk.structures.find((x) => x.type === type);
  if (!s) throw new Error(`no AD type ${type}`);
  return s.data;
}

function eddystoneFrame(hex: string): Uint8Array {
  const walk = walkAdStructures(bytes(hex));
  if (!walk.ok) throw new Error('test payload does not walk');
  for (const s of walk.structures) {
    const frame = serviceData16(s, EDDYSTONE_UUID16);
    if (frame) return frame;
  }
  throw new Error('no Eddystone service data');
}

describe('walkAdStructures', () => {
  it('splits a Blue Charm iBeacon payload into its structures and stops at the zero padding', () => {
    const walk = walkAdStructures(bytes(V.BLUECHARM_IBEACON));
    expect(walk.ok).toBe(true);
    if (!walk.ok) return;
    // AOSP ScanRecordTest lists the same four: 020106, 1AFF4C00..., 0916802069..., 1109426C...
    expect(walk.structures.map((s) => [s.type, s.data.length])).toEqual([
      [0x01, 1],
      [0xff, 25],
      [0x16, 8],
      [0x09, 16],
    ]);
    expect(Buffer.from(walk.structures[3]?.data ?? []).toString('latin1')).toBe('BlueCharm_169685');
  });

  it('takes an empty payload as no structures', () => {
    expect(walkAdStructures(new Uint8Array(0))).toEqual({ ok: true, structures: [] });
  });

  it('rejects a structure that runs past the end (a cut payload)', () => {
    const cut = bytes(V.AIRLOCATE_IBEACON).subarray(0, 20);
    expect(walkAdStructures(cut)).toEqual({ ok: false, reason: 'ad-truncated' });
    // A lone length byte announcing data that never comes.
    expect(walkAdStructures(Uint8Array.of(0x05))).toEqual({ ok: false, reason: 'ad-truncated' });
  });

  it('reads a 16-bit service UUID little-endian', () => {
    const data = structure(V.RUUVI_URL, 0x16);
    expect(serviceData16({ type: 0x16, data }, 0xfeaa)?.[0]).toBe(0x10);
    expect(serviceData16({ type: 0x16, data }, 0xaafe)).toBeUndefined();
    expect(serviceData16({ type: 0x16, data: Uint8Array.of(0xaa) }, 0xfeaa)).toBeUndefined();
  });
});

describe('parseIBeacon', () => {
  it('reads the AirLocate example: UUID lowercase and dashed, big-endian major/minor, int8 power', () => {
    expect(parseIBeacon(structure(V.AIRLOCATE_IBEACON, 0xff))).toEqual({
      ok: true,
      beacon: {
        kind: 'ibeacon',
        uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0',
        major: 0,
        minor: 0,
        txPowerDbm: -59,
      },
    });
  });

  it('reads major 100 (0x0064) from the ble_monitor vector', () => {
    const r = parseIBeacon(structure(V.BLE_MONITOR_IBEACON, 0xff));
    expect(r.ok && r.beacon.major).toBe(100);
    expect(r.ok && r.beacon.minor).toBe(0);
  });

  it('reads the Blue Charm beacon: 0x0EFE = 3838, 0x1355 = 4949', () => {
    expect(parseIBeacon(structure(V.BLUECHARM_IBEACON, 0xff))).toEqual({
      ok: true,
      beacon: {
        kind: 'ibeacon',
        // ASCII "BlueCharmBeacons"
        uuid: '426c7565-4368-6172-6d42-6561636f6e73',
        major: 3838,
        minor: 4949,
        txPowerDbm: -59,
      },
    });
  });

  it('is not an iBeacon for other Apple frames or other companies', () => {
    expect(parseIBeacon(structure(V.IPHONE_NEARBY, 0xff))).toEqual({ ok: false, reason: 'not-ibeacon' });
    const other = structure(V.AIRLOCATE_IBEACON, 0xff).slice();
    other[0] = 0x59; // Nordic Semiconductor 0x0059
    expect(parseIBeacon(other)).toEqual({ ok: false, reason: 'not-ibeacon' });
  });

  it('rejects a cut frame, a wrong sub-length and an impossible measured power', () => {
    const data = structure(V.AIRLOCATE_IBEACON, 0xff);
    expect(parseIBeacon(data.subarray(0, 24))).toEqual({ ok: false, reason: 'ibeacon-truncated' });
    const badLength = data.slice();
    badLength[3] = 0x14;
    expect(parseIBeacon(badLength)).toEqual({ ok: false, reason: 'ibeacon-malformed' });
    const loud = data.slice();
    loud[24] = 0x7f; // +127 dBm
    expect(parseIBeacon(loud)).toEqual({ ok: false, reason: 'ibeacon-malformed' });
  });
});

describe('parseEddystone', () => {
  it('reads a UID frame without RFU octets (AltBeacon vector)', () => {
    expect(parseEddystone(eddystoneFrame(V.ALTBEACON_UID))).toEqual({
      ok: true,
      beacon: { kind: 'eddystone-uid', namespace: '00010203040506070809', instance: '010203040506' },
    });
  });

  it('reads a UID frame with its RFU octets (Blue Charm)', () => {
    expect(parseEddystone(eddystoneFrame(V.BLUECHARM_UID))).toEqual({
      ok: true,
      beacon: { kind: 'eddystone-uid', namespace: '626c7565636861726d31', instance: '000000000001' },
    });
  });

  it.each([
    ['RuuviTag: https:// scheme, no expansion code', V.RUUVI_URL, 'https://ruu.vi/#AjwYAMFc', -18],
    [
      'Blue Charm: https://www. scheme and .com/ (0x00)',
      V.BLUECHARM_URL,
      'https://www.bluecharmbeacons.com/',
      -18,
    ],
  ])('decodes the URL frame of %s', (_name, hex, url, txPowerDbm) => {
    expect(parseEddystone(eddystoneFrame(hex))).toEqual({
      ok: true,
      beacon: { kind: 'eddystone-url', url, txPowerDbm },
    });
  });

  it('decodes .com (0x07) without a slash and tx power 0 (advlib vector)', () => {
    expect(parseEddystone(bytes(V.ADVLIB_URL_FRAME))).toEqual({
      ok: true,
      beacon: { kind: 'eddystone-url', url: 'https://getpareto.com', txPowerDbm: 0 },
    });
  });

  it('expands every scheme prefix and code 0x00..0x0d as the specification lists them', () => {
    const frame = Uint8Array.of(0x10, 0xf4, 0x00, 0x61, ...Array.from({ length: 14 }, (_, i) => i));
    const r = parseEddystone(frame);
    expect(r.ok && r.beacon.kind === 'eddystone-url' && r.beacon.url).toBe(
      'http://www.a.com/.org/.edu/.net/.info/.biz/.gov/.com.org.edu.net.info.biz.gov',
    );
    const schemes = [0, 1, 2, 3].map((s) => {
      const out = parseEddystone(Uint8Array.of(0x10, 0, s, 0x78));
      return out.ok && out.beacon.kind === 'eddystone-url' ? out.beacon.url : undefined;
    });
    expect(schemes).toEqual(['http://www.x', 'https://www.x', 'http://x', 'https://x']);
  });

  it('rejects reserved URL codes, an unknown scheme and a URL longer than 17 octets', () => {
    expect(parseEddystone(Uint8Array.of(0x10, 0, 3, 0x61, 0x0e))).toEqual({
      ok: false,
      reason: 'eddystone-malformed',
    });
    expect(parseEddystone(Uint8Array.of(0x10, 0, 3, 0x61, 0x80))).toMatchObject({ ok: false });
    expect(parseEddystone(Uint8Array.of(0x10, 0, 4, 0x61))).toMatchObject({ reason: 'eddystone-malformed' });
    expect(parseEddystone(new Uint8Array(21).fill(0x61).fill(0x10, 0, 1).fill(3, 2, 3))).toMatchObject({
      reason: 'eddystone-malformed',
    });
  });

  it('reads plain TLM: 0x0C6F = 3183 mV, 0x1E00 = 30.0 °C, counters big-endian (ble_monitor)', () => {
    expect(parseEddystone(eddystoneFrame(V.BLE_MONITOR_TLM))).toEqual({
      ok: true,
      beacon: {
        kind: 'eddystone-tlm',
        batteryMv: 3183,
        temperatureC: 30,
        advCount: 131181, // 0x0002006D
        uptimeSec: 110491103, // 0x41DB9AB6 = 1104911030 tenths of a second
      },
    });
  });

  it('reads the Blue Charm TLM: 3056 mV, 23.0 °C, 558920 PDUs, 6681890 s', () => {
    expect(parseEddystone(eddystoneFrame(V.BLUECHARM_TLM))).toEqual({
      ok: true,
      beacon: {
        kind: 'eddystone-tlm',
        batteryMv: 3056,
        temperatureC: 23,
        advCount: 558920,
        uptimeSec: 6681890,
      },
    });
  });

  it('omits battery 0 and temperature 0x8000 (not supported) and reads negative 8.8 temperatures', () => {
    expect(parseEddystone(eddystoneFrame(V.BLE_MONITOR_TLM_UNSUPPORTED))).toEqual({
      ok: true,
      beacon: { kind: 'eddystone-tlm', advCount: 131181, uptimeSec: 110491103 },
    });
    const cold = eddystoneFrame(V.BLE_MONITOR_TLM).slice();
    cold[4] = 0xff;
    cold[5] = 0x80; // 0xFF80 = −128/256
    const r = parseEddystone(cold);
    expect(r.ok && r.beacon.kind === 'eddystone-tlm' && r.beacon.temperatureC).toBe(-0.5);
  });

  it('counts encrypted TLM, EID and unknown frame types instead of reading them', () => {
    const etlm = Uint8Array.of(0x20, 0x01, ...new Array(16).fill(0xab));
    expect(parseEddystone(etlm)).toEqual({ ok: false, reason: 'eddystone-etlm' });
    expect(parseEddystone(Uint8Array.of(0x30, 0xee, 1, 2, 3, 4, 5, 6, 7, 8, 9))).toEqual({
      ok: false,
      reason: 'eddystone-eid',
    });
    expect(parseEddystone(Uint8Array.of(0x40, 0))).toEqual({ ok: false, reason: 'eddystone-unknown-frame' });
  });

  it('rejects cut and overlong frames of every type', () => {
    expect(parseEddystone(eddystoneFrame(V.BLUECHARM_UID).subarray(0, 17))).toMatchObject({
      reason: 'eddystone-truncated',
    });
    expect(parseEddystone(eddystoneFrame(V.BLE_MONITOR_TLM).subarray(0, 13))).toMatchObject({
      reason: 'eddystone-truncated',
    });
    expect(parseEddystone(Uint8Array.of(...eddystoneFrame(V.BLE_MONITOR_TLM), 0))).toMatchObject({
      reason: 'eddystone-malformed',
    });
    expect(parseEddystone(Uint8Array.of(0x10, 0))).toMatchObject({ reason: 'eddystone-truncated' });
    expect(parseEddystone(new Uint8Array(0))).toMatchObject({ reason: 'eddystone-truncated' });
  });
});

describe('Xiaomi scale service data', () => {
  it('0x181D: 0x22 = stabilised kg; weight 0x439E ÷ 200 = 86.55 kg; clock 2021-04-11 16:19:01', () => {
    expect(parseMiScale(bytes(V.MI1_STABLE.slice(-20)))).toEqual({
      ok: true,
      frame: {
        protocol: 'mi-181d',
        stabilized: true,
        loadRemoved: false,
        weightKg: 86.55,
        clockMs: Date.UTC(2021, 3, 11, 16, 19, 1),
      },
    });
  });

  it('0x181D: 0xA2 = stabilised and load removed (87.2 kg); 0x82 = removed, not stabilised (0.1 kg)', () => {
    expect(parseMiScale(bytes(V.MI1_REMOVED.slice(-20)))).toMatchObject({
      frame: { stabilized: true, loadRemoved: true, weightKg: 87.2 },
    });
    expect(parseMiScale(bytes(V.MI1_EMPTY.slice(-20)))).toMatchObject({
      frame: { stabilized: false, loadRemoved: true, weightKg: 0.1 },
    });
  });

  it('0x181D: pounds (bit 0) are ÷ 100 and converted; jin (bit 4) ÷ 100 × 0.5 kg', () => {
    const lb = bytes('23 5046 e507040b101301'); // 18000 → 180.00 lb
    expect(parseMiScale(lb)).toMatchObject({ frame: { weightKg: 81.647 } }); // 180 × 0.45359237 = 81.6466
    const jin = bytes('32 5046 e507040b101301'); // 18000 → 180.00 jin = 90 kg
    expect(parseMiScale(jin)).toMatchObject({ frame: { weightKg: 90 } });
  });

  it('0x181B: stabilised with impedance: 0x01AC = 428 Ω, 0x4286 ÷ 200 = 85.15 kg', () => {
    expect(parseMiBodyComposition(bytes(V.MI2_IMPEDANCE.slice(-26)))).toEqual({
      ok: true,
      frame: {
        protocol: 'mi-181b',
        stabilized: true,
        loadRemoved: false,
        weightKg: 85.15,
        impedanceOhm: 428,
        impedancePending: false,
        clockMs: Date.UTC(1970, 4, 4, 15, 2, 1),
      },
    });
  });

  it('0x181B: not stabilised (0x04) carries no impedance; 105.8 kg', () => {
    expect(parseMiBodyComposition(bytes(V.MI2_UNSETTLED.slice(-26)))).toMatchObject({
      frame: { stabilized: false, loadRemoved: false, weightKg: 105.8, impedancePending: true },
    });
  });

  it('0x181B: a measured impedance of 0 or ≥ 3000 Ω is a failed measurement, not a value', () => {
    const zero = bytes('0226 b2070103131a15 0000 604a');
    const r = parseMiBodyComposition(zero);
    expect(r.ok && r.frame.impedanceOhm).toBeUndefined();
    expect(r.ok && r.frame.impedancePending).toBe(false);
    expect(parseMiBodyComposition(bytes('0226 b2070103131a15 feff 604a'))).toMatchObject({
      frame: { impedancePending: false, weightKg: 95.2 },
    });
  });

  it('0x181B: lb (control byte 0x03) is ÷ 100 then converted', () => {
    expect(parseMiBodyComposition(bytes('0326 e9070b120a0000 e601 5046'))).toMatchObject({
      frame: { weightKg: 81.647, impedanceOhm: 486, clockMs: Date.UTC(2025, 10, 18, 10, 0, 0) },
    });
  });

  it('rejects cut and overlong frames', () => {
    expect(parseMiScale(bytes('229e43e507040b1013'))).toEqual({ ok: false, reason: 'scale-truncated' });
    expect(parseMiScale(bytes('229e43e507040b10130100'))).toEqual({ ok: false, reason: 'scale-malformed' });
    expect(parseMiBodyComposition(bytes('0226b2070103131a15e601604a00'))).toEqual({
      ok: false,
      reason: 'scale-malformed',
    });
    expect(parseMiBodyComposition(new Uint8Array(0))).toEqual({ ok: false, reason: 'scale-truncated' });
  });
});

describe('readDateTime', () => {
  it('reads year LE, month, day, h, m, s as UTC and refuses impossible or unknown dates', () => {
    expect(readDateTime(bytes('e9070b120a1e2d'), 0)).toBe(Date.UTC(2025, 10, 18, 10, 30, 45));
    expect(readDateTime(bytes('e907021e000000'), 0)).toBeUndefined(); // 30 February
    expect(readDateTime(bytes('00000000000000'), 0)).toBeUndefined(); // "unknown"
    expect(readDateTime(bytes('e9070b12180000'), 0)).toBeUndefined(); // 24:00
    expect(readDateTime(bytes('e9070b'), 0)).toBeUndefined(); // cut
  });
});

// GATT vectors are assembled from the field tables of the Weight Scale and Body Composition
// service specifications (no public capture we found follows the spec's resolutions) and checked
// by hand: 70.5 kg = 14100 × 0.005 → 0x3714.
describe('parseWeightMeasurement (0x2A9D)', () => {
  it('reads the minimal SI measurement: flags 0x00, 0x3714 → 70.5 kg', () => {
    expect(parseWeightMeasurement(bytes('00 1437'))).toEqual({
      ok: true,
      value: { imperial: false, weightKg: 70.5 },
    });
  });

  it('reads every optional field in order: time stamp, user id, BMI and height', () => {
    // flags 0x0E; 0x4286 = 17030 → 85.15 kg; 2025-11-18 10:00:00; user 1; BMI 0x0116 = 27.8;
    // height 0x06D6 = 1750 mm.
    expect(parseWeightMeasurement(bytes('0e 8642 e9070b120a0000 01 1601 d606'))).toEqual({
      ok: true,
      value: {
        imperial: false,
        weightKg: 85.15,
        clockMs: Date.UTC(2025, 10, 18, 10, 0, 0),
        userId: 1,
        bmi: 27.8,
        heightM: 1.75,
      },
    });
  });

  it('converts imperial: 0x4650 = 18000 → 180.00 lb → 81.647 kg; height 0x02B4 = 69.2 in → 1.7577 m', () => {
    expect(parseWeightMeasurement(bytes('09 5046 fa00 b402'))).toEqual({
      ok: true,
      value: { imperial: true, weightKg: 81.647, bmi: 25, heightM: 1.7577 },
    });
  });

  it('reports "measurement unsuccessful" (0xFFFF) as no weight', () => {
    expect(parseWeightMeasurement(bytes('00 ffff'))).toEqual({ ok: true, value: { imperial: false } });
  });

  it('rejects a length that does not match the flags, and reserved flag bits', () => {
    expect(parseWeightMeasurement(bytes('0e 8642 e9070b'))).toEqual({ ok: false, reason: 'scale-truncated' });
    expect(parseWeightMeasurement(bytes('00 1437 00'))).toEqual({ ok: false, reason: 'scale-malformed' });
    expect(parseWeightMeasurement(bytes('10 1437'))).toEqual({ ok: false, reason: 'scale-malformed' });
    expect(parseWeightMeasurement(new Uint8Array(0))).toEqual({ ok: false, reason: 'scale-truncated' });
  });
});

describe('parseBodyCompositionMeasurement (0x2A9C)', () => {
  it('reads body fat, time stamp, impedance (0.1 Ω) and weight', () => {
    // flags 0x0602; body fat 0x00EA = 23.4 %; impedance 0x12FC = 4860 → 486.0 Ω; weight 0x4A60 → 95.2 kg
    expect(parseBodyCompositionMeasurement(bytes('0206 ea00 e9070b120a0000 fc12 604a'))).toEqual({
      ok: true,
      value: {
        imperial: false,
        multiPacket: false,
        bodyFatPct: 23.4,
        clockMs: Date.UTC(2025, 10, 18, 10, 0, 0),
        impedanceOhm: 486,
        weightKg: 95.2,
      },
    });
  });

  it('reads all twelve fields in flag order', () => {
    // flags 0x0FFE: time, user 2, BMR 0x1AF4 = 6900 kJ, muscle 0x01C2 = 45.0 %, muscle mass
    // 0x1F40 = 40 kg, fat-free 0x3A98 = 75 kg, soft lean 0x36B0 = 70 kg, water 0x2710 = 50 kg,
    // impedance 0x1388 = 500.0 Ω, weight 0x4A60 = 95.2 kg, height 0x06D6 = 1.75 m
    const hex = 'fe0f ea00 e9070b120a0000 02 f41a c201 401f 983a b036 1027 8813 604a d606';
    expect(parseBodyCompositionMeasurement(bytes(hex))).toEqual({
      ok: true,
      value: {
        imperial: false,
        multiPacket: false,
        bodyFatPct: 23.4,
        clockMs: Date.UTC(2025, 10, 18, 10, 0, 0),
        userId: 2,
        basalMetabolismKj: 6900,
        musclePct: 45,
        muscleMassKg: 40,
        fatFreeMassKg: 75,
        softLeanMassKg: 70,
        bodyWaterMassKg: 50,
        impedanceOhm: 500,
        weightKg: 95.2,
        heightM: 1.75,
      },
    });
  });

  it('reads the multiple-packet flag and imperial masses', () => {
    expect(parseBodyCompositionMeasurement(bytes('0114 ea00 5046'))).toEqual({
      ok: true,
      value: { imperial: true, multiPacket: true, bodyFatPct: 23.4, weightKg: 81.647 },
    });
  });

  it('reports body fat 0xFFFF (unsuccessful) as no body fat', () => {
    expect(parseBodyCompositionMeasurement(bytes('0000 ffff'))).toEqual({
      ok: true,
      value: { imperial: false, multiPacket: false },
    });
  });

  it('gives the stabiliser SI values and drops implausible impedance', () => {
    const r = parseBodyCompositionMeasurement(bytes('0206 ea00 e9070b120a0000 ffff 604a'));
    expect(r.ok && bodyCompositionFrame(r.value)).toEqual({
      protocol: 'gatt-2a9c',
      stabilized: true,
      loadRemoved: false,
      weightKg: 95.2,
      bodyFatPct: 23.4,
      clockMs: Date.UTC(2025, 10, 18, 10, 0, 0),
    });
  });

  it('rejects a length that does not match the flags, and reserved flag bits', () => {
    expect(parseBodyCompositionMeasurement(bytes('0206 ea00 e9070b120a0000 fc12'))).toEqual({
      ok: false,
      reason: 'scale-truncated',
    });
    expect(parseBodyCompositionMeasurement(bytes('0000 ea00 00'))).toEqual({
      ok: false,
      reason: 'scale-malformed',
    });
    expect(parseBodyCompositionMeasurement(bytes('0020 ea00'))).toEqual({
      ok: false,
      reason: 'scale-malformed',
    });
    // The 13-octet Xiaomi frame is not a standard measurement (no body-fat field, reserved bits).
    expect(parseBodyCompositionMeasurement(bytes(V.MIBCS_SETTLED.slice(18, 44)))).toMatchObject({
      ok: false,
    });
  });
});

describe('decodeAdvertisement', () => {
  it('finds the beacon among other structures and reports what it skipped', () => {
    expect(decodeAdvertisement(bytes(V.BLUECHARM_TLM))).toMatchObject({
      ok: true,
      fromScale: false,
      skipped: [],
      beacon: { kind: 'eddystone-tlm', batteryMv: 3056 },
    });
    const etlm = bytes('0201060303aafe1516aafe2001 aaaaaaaaaaaaaaaaaaaaaaaa 1234 5678');
    expect(decodeAdvertisement(etlm)).toEqual({ ok: true, fromScale: false, skipped: ['eddystone-etlm'] });
  });

  it('gives a payload without a beacon frame as a plain advertisement', () => {
    expect(decodeAdvertisement(bytes(V.IPHONE_NEARBY))).toEqual({ ok: true, fromScale: false, skipped: [] });
  });

  it('marks scale payloads, read or not', () => {
    expect(decodeAdvertisement(bytes(V.MIBCS_SETTLED))).toMatchObject({
      ok: true,
      fromScale: true,
      scale: { protocol: 'mi-181b', weightKg: 95.2, impedanceOhm: 486 },
    });
    expect(decodeAdvertisement(bytes('0e161b180226b2070103131a15e601'))).toEqual({
      ok: true,
      fromScale: true,
      skipped: ['scale-truncated'],
    });
  });

  it('rejects the whole payload when its structures do not add up', () => {
    expect(decodeAdvertisement(bytes(V.RUUVI_URL).subarray(0, 25))).toEqual({
      ok: false,
      reason: 'ad-truncated',
    });
  });
});
