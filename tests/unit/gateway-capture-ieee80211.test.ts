import { describe, expect, it } from 'vitest';
import {
  createIeFingerprinter,
  createProbeRequestInfo,
  FRAME_CORRUPT,
  FRAME_OTHER,
  FRAME_PROBE_REQUEST,
  FRAME_TRUNCATED,
  parseProbeRequest,
} from '../../gateway/src/capture/ieee80211.ts';
import {
  androidProbeElements,
  beacon,
  dataFrame,
  element,
  iphoneProbeElements,
  probeRequest,
  probeResponse,
} from '../helpers/capture-writer.ts';

const PHONE = 'da:a1:19:01:02:03';

function parse(frame: Uint8Array) {
  const info = createProbeRequestInfo();
  const kind = parseProbeRequest(frame, 0, frame.length, info);
  return { kind, info };
}

function fingerprintOf(body: readonly number[]): string | undefined {
  const frame = probeRequest({ transmitter: PHONE, seq: 1, body });
  const { info } = parse(frame);
  return createIeFingerprinter().fingerprint(frame, info.elementsStart, info.elementsEnd);
}

describe('802.11 probe requests', () => {
  it('reads the transmitter (addr2), the sequence number and the element span', () => {
    const body = androidProbeElements('', 6);
    const frame = probeRequest({ transmitter: PHONE, seq: 2748, body });
    const { kind, info } = parse(frame);
    expect(kind).toBe(FRAME_PROBE_REQUEST);
    expect([...frame.subarray(info.transmitterOffset, info.transmitterOffset + 6)]).toEqual([
      0xda, 0xa1, 0x19, 1, 2, 3,
    ]);
    expect(info.sequence).toBe(2748);
    expect(info.elementsStart).toBe(24);
    expect(info.elementsEnd).toBe(24 + body.length);
  });

  it('skips the HT Control field when the Order bit is set', () => {
    const frame = probeRequest({ transmitter: PHONE, seq: 9, body: element(0, []), htControl: true });
    const { kind, info } = parse(frame);
    expect(kind).toBe(FRAME_PROBE_REQUEST);
    expect(info.elementsStart).toBe(28);
    expect(info.sequence).toBe(9);
  });

  it('classifies beacons, probe responses and data frames as other frames', () => {
    expect(parse(beacon({ transmitter: PHONE, seq: 1 }, 'x', 1)).kind).toBe(FRAME_OTHER);
    expect(parse(probeResponse({ transmitter: PHONE, seq: 1 }, PHONE, 'x')).kind).toBe(FRAME_OTHER);
    expect(parse(dataFrame({ transmitter: PHONE, seq: 1 }, PHONE)).kind).toBe(FRAME_OTHER);
  });

  it('reports a short header or an element running past the end as truncated', () => {
    const frame = probeRequest({ transmitter: PHONE, seq: 1, body: androidProbeElements('abc', 1) });
    expect(parse(frame.subarray(0, 1)).kind).toBe(FRAME_TRUNCATED);
    expect(parse(frame.subarray(0, 20)).kind).toBe(FRAME_TRUNCATED);
    expect(parse(frame.subarray(0, frame.length - 1)).kind).toBe(FRAME_TRUNCATED);
    // A lone id byte with no length.
    expect(parse(Uint8Array.from([...frame, 221])).kind).toBe(FRAME_TRUNCATED);
  });

  it('rejects a protocol version other than 0', () => {
    const frame = probeRequest({ transmitter: PHONE, seq: 1 });
    frame[0]! |= 0x01;
    expect(parse(frame).kind).toBe(FRAME_CORRUPT);
  });
});

describe('IE fingerprint', () => {
  it('is 16 hex digits and the same for one phone across SSIDs, channels and extended capabilities', () => {
    const fps = new Set([
      fingerprintOf(androidProbeElements('', 1)),
      fingerprintOf(androidProbeElements('MallFreeWiFi', 6)),
      fingerprintOf(androidProbeElements('home', 11)),
    ]);
    expect(fps.size).toBe(1);
    expect([...fps][0]).toMatch(/^[0-9a-f]{16}$/);
  });

  it('ignores the WPS UUID-E in a vendor element (a device identifier), keeping the vendor OUI and type', () => {
    expect(fingerprintOf(iphoneProbeElements('', 1))).toBe(fingerprintOf(iphoneProbeElements('x', 6)));
    const withWps = fingerprintOf([...element(1, [2, 4]), ...element(221, [0x00, 0x50, 0xf2, 0x04, 1, 2])]);
    const otherVendor = fingerprintOf([
      ...element(1, [2, 4]),
      ...element(221, [0x00, 0x50, 0xf2, 0x02, 1, 2]),
    ]);
    expect(withWps).not.toBe(otherVendor);
  });

  it('ignores the current operating class and the multi-link MLD address but not the supported classes', () => {
    const base = [...element(1, [2, 4])];
    expect(fingerprintOf([...base, ...element(59, [81, 81, 115])])).toBe(
      fingerprintOf([...base, ...element(59, [115, 81, 115])]),
    );
    expect(fingerprintOf([...base, ...element(59, [81, 81, 115])])).not.toBe(
      fingerprintOf([...base, ...element(59, [81, 81])]),
    );
    expect(fingerprintOf([...base, ...element(255, [107, 1, 2, 3, 4, 5, 6])])).toBe(
      fingerprintOf([...base, ...element(255, [107, 9, 9, 9, 9, 9, 9])]),
    );
  });

  it('differs between phone models, and with rates, capabilities or element order', () => {
    const android = fingerprintOf(androidProbeElements('', 1));
    expect(fingerprintOf(iphoneProbeElements('', 1))).not.toBe(android);
    const rates = androidProbeElements('', 1);
    rates[4] = 0x0c; // first supported rate
    expect(fingerprintOf(rates)).not.toBe(android);
    const a = [...element(1, [2, 4]), ...element(50, [12])];
    const b = [...element(50, [12]), ...element(1, [2, 4])];
    expect(fingerprintOf(a)).not.toBe(fingerprintOf(b));
  });

  it('is undefined for a probe with no elements, and stable across fingerprinter instances (no state in the hash)', () => {
    expect(fingerprintOf([])).toBeUndefined();
    const frame = probeRequest({ transmitter: PHONE, seq: 1, body: androidProbeElements('', 1) });
    const { info } = parse(frame);
    const f = createIeFingerprinter();
    const first = f.fingerprint(frame, info.elementsStart, info.elementsEnd);
    // Cached and uncached answers agree.
    expect(f.fingerprint(frame, info.elementsStart, info.elementsEnd)).toBe(first);
    expect(createIeFingerprinter().fingerprint(frame, info.elementsStart, info.elementsEnd)).toBe(first);
  });
});
