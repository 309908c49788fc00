import { describe, expect, it } from 'vitest';
import {
  createRadiotapInfo,
  parseRadiotap,
  RADIOTAP_CORRUPT,
  RADIOTAP_OK,
  RADIOTAP_TRUNCATED,
} from '../../gateway/src/capture/radiotap.ts';
import { radiotap } from '../helpers/capture-writer.ts';

function parse(bytes: Uint8Array, length = bytes.length) {
  return { ...parseRadiotap(bytes, 0, length, createRadiotapInfo()) };
}

describe('radiotap', () => {
  it('finds the signal after aligned fields (TSFT on 8, channel on 2) and reads the flags', () => {
    const bytes = radiotap({
      tsftUs: 123_456_789n,
      flags: 0x10,
      rate: 12,
      channel: { mhz: 2437, flags: 0xa0 },
      signalDbm: -67,
      noiseDbm: -95,
      antenna: 1,
      rxFlags: 0,
    });
    // TSFT at 8 (after one bitmap), flags 16, rate 17, channel 18..21, signal 22.
    expect(bytes[22]).toBe(-67 & 0xff);
    expect(parse(bytes)).toEqual({
      status: RADIOTAP_OK,
      headerLength: bytes.length,
      flags: 0x10,
      signalDbm: -67,
      signalFields: 1,
      stoppedAtUnknown: false,
    });
  });

  it('pads the TSFT to 8 bytes from the header start when there are two bitmaps', () => {
    // Two bitmaps end at 12: TSFT must start at 16, not 12.
    const bytes = radiotap({
      tsftUs: 1n,
      flags: 0x02,
      signalDbm: -50,
      chains: [{ signalDbm: -52, antenna: 0 }],
    });
    expect(bytes.subarray(16, 24)).toEqual(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    expect(parse(bytes)).toMatchObject({ flags: 0x02, signalDbm: -50, signalFields: 2 });
  });

  it('takes the first of several antenna signals (extended bitmaps, one per chain)', () => {
    const bytes = radiotap({
      tsftUs: 5n,
      flags: 0,
      channel: { mhz: 5180, flags: 0x140 },
      signalDbm: -61,
      rxFlags: 0,
      chains: [
        { signalDbm: -63, antenna: 0 },
        { signalDbm: -58, antenna: 1 },
      ],
    });
    expect(parse(bytes)).toMatchObject({ status: RADIOTAP_OK, signalDbm: -61, signalFields: 3 });
  });

  it('skips a vendor namespace by its skip length and reads the radiotap fields after it', () => {
    const bytes = radiotap({
      flags: 0x10,
      signalDbm: -44,
      vendor: { oui: [0x00, 0x11, 0x22], subNamespace: 1, data: Uint8Array.of(0xc4, 0xc4, 0xc4) },
      chains: [{ signalDbm: -45, antenna: 0 }],
    });
    expect(parse(bytes)).toMatchObject({ status: RADIOTAP_OK, flags: 0x10, signalDbm: -44, signalFields: 2 });
  });

  it('stops at an unknown field and keeps what it found before', () => {
    // Field 18 (XChannel) is not in the registry; the MCS field (19) after it is not reached.
    const bytes = radiotap({ flags: 0x10, signalDbm: -70, unknownField: true, mcs: [7, 0, 7] });
    expect(parse(bytes)).toMatchObject({
      status: RADIOTAP_OK,
      flags: 0x10,
      signalDbm: -70,
      stoppedAtUnknown: true,
    });
  });

  it('stops at a radiotap field index past the registry in an extended bitmap without namespace switch', () => {
    const bytes = Uint8Array.of(0, 0, 16, 0, 0x22, 0, 0, 0x80, 0x01, 0, 0, 0, 0x10, 0xc0, 0, 0);
    // Word 0: flags (1), signal (5), ext; word 1 bit 0 = field 32: unknown.
    expect(parse(bytes)).toMatchObject({
      status: RADIOTAP_OK,
      flags: 0x10,
      signalDbm: -64,
      stoppedAtUnknown: true,
    });
  });

  it('reports no signal when field 5 is absent', () => {
    expect(parse(radiotap({ flags: 0, rate: 2 }))).toMatchObject({
      status: RADIOTAP_OK,
      signalDbm: Number.NaN,
      signalFields: 0,
    });
  });

  it('rejects a wrong version, a length below 8, and fields overrunning the stated length', () => {
    const good = radiotap({ flags: 0, signalDbm: -40 });
    const v1 = Uint8Array.from(good);
    v1[0] = 1;
    expect(parse(v1).status).toBe(RADIOTAP_CORRUPT);
    const short = Uint8Array.from(good);
    short[2] = 4;
    expect(parse(short).status).toBe(RADIOTAP_CORRUPT);
    // A present bit for TSFT with no room for it.
    const overrun = Uint8Array.from(good);
    overrun[4]! |= 0x01;
    expect(parse(overrun).status).toBe(RADIOTAP_CORRUPT);
    // Extended bitmaps claiming to run past the header.
    const endless = Uint8Array.of(0, 0, 12, 0, 0, 0, 0, 0x80, 0, 0, 0, 0x80);
    expect(parse(endless).status).toBe(RADIOTAP_CORRUPT);
  });

  it('reports a header longer than the captured bytes as truncated', () => {
    const good = radiotap({ tsftUs: 1n, flags: 0, signalDbm: -40 });
    expect(parse(good, good.length - 1).status).toBe(RADIOTAP_TRUNCATED);
    expect(parse(good, 5).status).toBe(RADIOTAP_TRUNCATED);
  });
});
