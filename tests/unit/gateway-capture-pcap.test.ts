import { describe, expect, it } from 'vitest';
import {
  type CaptureRecord,
  createPcapStream,
  MAX_RECORD_BYTES,
  type PcapStream,
} from '../../gateway/src/capture/pcap-stream.ts';
import { concatBytes, type Packet, writePcap, writePcapng } from '../helpers/capture-writer.ts';

interface Seen {
  bytes: number[];
  capturedLength: number;
  originalLength: number;
  timestampMs: number;
  linktype: number;
  interfaceId: number;
  interfaceName: string | undefined;
}

function read(chunks: Uint8Array[]): { seen: Seen[]; stream: PcapStream } {
  const seen: Seen[] = [];
  const stream = createPcapStream((r: CaptureRecord) => {
    seen.push({
      bytes: [...r.data.subarray(r.offset, r.offset + r.capturedLength)],
      capturedLength: r.capturedLength,
      originalLength: r.originalLength,
      timestampMs: r.timestampMs,
      linktype: r.linktype,
      interfaceId: r.interfaceId,
      interfaceName: r.interfaceName,
    });
  });
  for (const c of chunks) stream.feed(c);
  stream.end();
  return { seen, stream };
}

function splitEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const T0 = 1_763_722_800_000_000_000n; // 2025-11-21T11:00:00Z in ns
const packets: Packet[] = [
  { timeNs: T0 + 123_456_789n, data: Uint8Array.of(1, 2, 3) },
  { timeNs: T0 + 1_999_999_999n, data: Uint8Array.of(4, 5, 6, 7, 8), originalLength: 90 },
  { timeNs: T0 + 60_000_000_001n, data: new Uint8Array(0) },
];
const expectedMs = [1_763_722_800_123, 1_763_722_801_999, 1_763_722_860_000];

describe('pcap', () => {
  it.each([
    ['little-endian µs', { byteOrder: 'le', resolution: 'us' }],
    ['big-endian µs', { byteOrder: 'be', resolution: 'us' }],
    ['little-endian ns', { byteOrder: 'le', resolution: 'ns' }],
    ['big-endian ns', { byteOrder: 'be', resolution: 'ns' }],
  ] as const)('reads %s records with their times, lengths and linktype', (_name, options) => {
    const { seen, stream } = read([writePcap(packets, { ...options, linktype: 127 })]);
    expect(stream.format()).toBe('pcap');
    expect(seen.map((s) => s.timestampMs)).toEqual(expectedMs);
    expect(seen.map((s) => s.bytes)).toEqual([[1, 2, 3], [4, 5, 6, 7, 8], []]);
    expect(seen[1]).toMatchObject({ capturedLength: 5, originalLength: 90, linktype: 127, interfaceId: 0 });
    expect(stream.stats()).toMatchObject({ records: 3, corruptRecords: 0, truncatedRecords: 0 });
  });

  it('gives the same records whether fed whole, byte by byte or in odd chunks', () => {
    const bytes = writePcap(packets, { byteOrder: 'be', resolution: 'ns' });
    const whole = read([bytes]).seen;
    expect(read(splitEvery(bytes, 1)).seen).toEqual(whole);
    expect(read(splitEvery(bytes, 7)).seen).toEqual(whole);
  });

  it('counts a final record cut short as truncated and emits the ones before it', () => {
    const { seen, stream } = read([writePcap(packets, { cutLastBytes: 3 })]);
    // The last record has no data: cutting 3 bytes cuts into the last record's header.
    expect(seen).toHaveLength(2);
    expect(stream.stats().truncatedRecords).toBe(1);
  });

  it('reads the linktype from the low bits only (the top bits may carry FCS information)', () => {
    const bytes = writePcap(packets, { linktype: 127 | 0x14000000 });
    expect(read([bytes]).seen[0]!.linktype).toBe(127);
  });

  it('resynchronises after a record whose length is absurd, without waiting for gigabytes', () => {
    const many: Packet[] = Array.from({ length: 6 }, (_, i) => ({
      timeNs: T0 + BigInt(i) * 1_000_000n,
      data: Uint8Array.of(i, i, i, i, i, i, i, i),
    }));
    const bytes = writePcap(many);
    // Record 2 starts at 24 + 2 * (16 + 8): set its captured length to 2 GB.
    const corrupt = Uint8Array.from(bytes);
    new DataView(corrupt.buffer).setUint32(24 + 2 * 24 + 8, 0x80000000, true);
    const { seen, stream } = read([corrupt]);
    expect(stream.stats().corruptRecords).toBe(1);
    expect(seen.map((s) => s.bytes[0])).toEqual([0, 1, 3, 4, 5]);
    expect(stream.stats().resyncBytes).toBe(24);
  });

  it('resumes at the last record when it ends exactly where the input ends', () => {
    const many: Packet[] = Array.from({ length: 3 }, (_, i) => ({
      timeNs: T0 + BigInt(i) * 1_000_000n,
      data: Uint8Array.of(i, 9, 9, 9, 9, 9, 9, 9),
    }));
    const bytes = Uint8Array.from(writePcap(many));
    new DataView(bytes.buffer).setUint32(24 + 24 + 8, 0x7fffffff, true);
    const { seen, stream } = read(splitEvery(bytes, 5));
    expect(seen.map((s) => s.bytes[0])).toEqual([0, 2]);
    expect(stream.stats()).toMatchObject({ corruptRecords: 1, truncatedRecords: 0, resyncBytes: 24 });
  });

  it('resynchronises in a stream fed in small chunks, holding no more than a record', () => {
    const many: Packet[] = Array.from({ length: 40 }, (_, i) => ({
      timeNs: T0 + BigInt(i) * 1_000_000n,
      data: new Uint8Array(100).fill(i),
    }));
    const bytes = Uint8Array.from(writePcap(many));
    new DataView(bytes.buffer).setUint32(24 + 5 * 116 + 8, 0xfffffff0, true);
    const { seen, stream } = read(splitEvery(bytes, 13));
    expect(stream.stats().corruptRecords).toBe(1);
    expect(seen).toHaveLength(39);
    expect(seen.map((s) => s.bytes[0])).not.toContain(5);
  });

  it('does not resume at a header-shaped fragment unless the record after it is plausible too', () => {
    const good = writePcap(packets.slice(0, 2));
    const header = good.subarray(24, 40);
    const fake = Uint8Array.from([...header.subarray(0, 8), 4, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
    const junk = new Uint8Array(16).fill(0xff);
    const bytes = concatBytes(good, junk, fake, junk, good.subarray(24));
    const { seen, stream } = read([bytes]);
    expect(stream.stats().corruptRecords).toBe(1);
    expect(seen.map((s) => s.bytes)).toEqual([
      [1, 2, 3],
      [4, 5, 6, 7, 8],
      [1, 2, 3],
      [4, 5, 6, 7, 8],
    ]);
    expect(stream.stats().resyncBytes).toBe(16 + fake.length + 16);
  });

  it('stops on input that is not a capture, and on an unknown major version', () => {
    const text = read([Buffer.from('hello, this is not a pcap file at all')]);
    expect(text.stream.stopReason()).toBe('not-a-capture');
    expect(text.seen).toHaveLength(0);
    const v3 = Uint8Array.from(writePcap(packets));
    v3[4] = 3;
    expect(read([v3]).stream.stopReason()).toBe('unsupported-version');
  });

  it('treats empty input as no capture and no error', () => {
    const { seen, stream } = read([]);
    expect(seen).toEqual([]);
    expect(stream.stopReason()).toBeUndefined();
    expect(stream.stats().truncatedRecords).toBe(0);
  });
});

describe('pcapng', () => {
  const frame = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);

  it('reads sections of both byte orders, their interfaces, EPB and SPB, and skips other blocks', () => {
    const bytes = writePcapng([
      {
        byteOrder: 'le',
        interfaces: [
          { linktype: 127, name: 'wlan0mon' },
          { linktype: 105, name: 'wlan1mon', tsresol: 9 },
        ],
        blocks: [
          { kind: 'epb', interfaceId: 0, timeNs: T0 + 123_456_000n, data: frame(5) },
          { kind: 'other', type: 5, body: new Uint8Array(16) }, // interface statistics
          { kind: 'epb', interfaceId: 1, timeNs: T0 + 987_654_321n, data: frame(9), originalLength: 200 },
          { kind: 'spb', data: frame(3) },
          { kind: 'other', type: 0x0bad, body: new Uint8Array(8) }, // custom block
        ],
      },
      {
        byteOrder: 'be',
        interfaces: [{ linktype: 127, name: 'mon-b', tsresol: 0x80 | 20 }],
        blocks: [{ kind: 'epb', interfaceId: 0, timeNs: T0 + 5_000_000_000n, data: frame(4) }],
      },
    ]);
    const { seen, stream } = read([bytes]);
    expect(stream.format()).toBe('pcapng');
    expect(
      seen.map((s) => [s.linktype, s.interfaceId, s.interfaceName, s.timestampMs, s.bytes.length]),
    ).toEqual([
      [127, 0, 'wlan0mon', 1_763_722_800_123, 5],
      [105, 1, 'wlan1mon', 1_763_722_800_987, 9],
      // SPB: interface 0, the last timestamp of the section.
      [127, 0, 'wlan0mon', 1_763_722_800_987, 3],
      // 2^-20 s units, big-endian section.
      [127, 0, 'mon-b', 1_763_722_805_000, 4],
    ]);
    expect(seen[1]!.originalLength).toBe(200);
    expect(seen[0]!.bytes).toEqual([...frame(5)]);
    expect(stream.stats()).toMatchObject({
      records: 4,
      sections: 2,
      interfaces: 3,
      simplePackets: 1,
      skippedBlocks: 2,
      corruptRecords: 0,
    });
  });

  it('gives the same records whether fed whole or byte by byte', () => {
    const bytes = writePcapng([
      {
        byteOrder: 'be',
        interfaces: [{ linktype: 127, name: 'x', tsresol: 9 }],
        blocks: [1, 2, 3].map((i) => ({
          kind: 'epb' as const,
          interfaceId: 0,
          timeNs: T0 + BigInt(i),
          data: frame(i),
        })),
      },
    ]);
    expect(read(splitEvery(bytes, 1)).seen).toEqual(read([bytes]).seen);
  });

  it('counts a packet block naming an undescribed interface, and a block cut short at the end', () => {
    const bytes = writePcapng([
      {
        interfaces: [{ linktype: 127 }],
        blocks: [
          { kind: 'epb', interfaceId: 3, timeNs: T0, data: frame(4) },
          { kind: 'epb', interfaceId: 0, timeNs: T0, data: frame(4) },
          { kind: 'epb', interfaceId: 0, timeNs: T0, data: frame(8) },
        ],
      },
    ]);
    const { seen, stream } = read([bytes.subarray(0, bytes.length - 5)]);
    expect(seen).toHaveLength(1);
    expect(stream.stats()).toMatchObject({ unknownInterface: 1, truncatedRecords: 1 });
  });

  it('resynchronises after a block with a corrupt length, bounded by the record cap', () => {
    const blocks = Array.from({ length: 5 }, (_, i) => ({
      kind: 'epb' as const,
      interfaceId: 0,
      timeNs: T0 + BigInt(i),
      data: frame(8 + i),
    }));
    const good = writePcapng([{ interfaces: [{ linktype: 127 }], blocks }]);
    const sizes = blocks.map((b) => 12 + 20 + ((b.data.length + 3) & ~3) + 8 + 4);
    const firstEpb = good.length - sizes.reduce((a, b) => a + b, 0);
    const corrupt = Uint8Array.from(good);
    // Block 1's total length: far beyond the cap.
    new DataView(corrupt.buffer).setUint32(firstEpb + sizes[0]! + 4, MAX_RECORD_BYTES * 64, true);
    const { seen, stream } = read(splitEvery(corrupt, 11));
    expect(seen.map((s) => s.bytes.length)).toEqual([8, 10, 11, 12]);
    expect(stream.stats().corruptRecords).toBe(1);
    expect(stream.stats().resyncBytes).toBe(sizes[1]);
  });

  it('applies if_tsoffset and power-of-two and decimal resolutions exactly', () => {
    // Hand-built IDB with if_tsresol = 3 (ms) and if_tsoffset = 100 s; EPB timestamp 5 units.
    const le = (n: number, size: number) => Array.from({ length: size }, (_, i) => (n / 256 ** i) & 0xff);
    const shb = [
      ...le(0x0a0d0d0a, 4),
      ...le(28, 4),
      ...le(0x1a2b3c4d, 4),
      1,
      0,
      0,
      0,
      ...new Array(8).fill(0xff),
      ...le(28, 4),
    ];
    const idbBody = [
      ...le(127, 2),
      0,
      0,
      ...le(0, 4),
      ...le(9, 2),
      ...le(1, 2),
      3,
      0,
      0,
      0,
      ...le(14, 2),
      ...le(8, 2),
      ...le(100, 8),
      0,
      0,
      0,
      0,
    ];
    const idb = [...le(1, 4), ...le(12 + idbBody.length, 4), ...idbBody, ...le(12 + idbBody.length, 4)];
    const epbBody = [...le(0, 4), ...le(0, 4), ...le(5, 4), ...le(4, 4), ...le(4, 4), 9, 9, 9, 9];
    const epb = [...le(6, 4), ...le(12 + epbBody.length, 4), ...epbBody, ...le(12 + epbBody.length, 4)];
    const { seen } = read([Uint8Array.from([...shb, ...idb, ...epb])]);
    expect(seen.map((s) => s.timestampMs)).toEqual([100_005]);
  });

  it('stops when the first block is not a section header', () => {
    const bytes = Uint8Array.from(writePcapng([{ interfaces: [{ linktype: 127 }], blocks: [] }]));
    bytes[8] = 0x00; // byte-order magic
    const { stream } = read([bytes]);
    expect(stream.stopReason()).toBe('not-a-capture');
  });

  it('reads a capture concatenated from two pcapng files with different interfaces', () => {
    const a = writePcapng([
      {
        interfaces: [{ linktype: 127, name: 'a' }],
        blocks: [{ kind: 'epb', interfaceId: 0, timeNs: T0, data: frame(4) }],
      },
    ]);
    const b = writePcapng([
      {
        byteOrder: 'be',
        interfaces: [{ linktype: 105, name: 'b' }],
        blocks: [{ kind: 'epb', interfaceId: 0, timeNs: T0, data: frame(4) }],
      },
    ]);
    const { seen } = read([concatBytes(a, b)]);
    expect(seen.map((s) => [s.interfaceName, s.linktype])).toEqual([
      ['a', 127],
      ['b', 105],
    ]);
  });
});
