import { createRng as createSeededRng } from '../../simulators/src/rng.ts';

// Writes synthetic WiFi captures for the capture tests: radiotap headers with real field layouts,
// 802.11 frames (probe requests with realistic elements, beacons, probe responses, data), and pcap
// (µs/ns, either byte order) or pcapng files. Independent of the parser under test: it builds
// bytes from the specs (radiotap.org, the pcap/pcapng drafts, IEEE 802.11), it does not reuse
// parser code.

// ---------- bytes ----------

class ByteWriter {
  private bytes: number[] = [];
  constructor(private readonly le = true) {}
  get length(): number {
    return this.bytes.length;
  }
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v).u8(v >> 8) : this.u8(v >> 8).u8(v);
  }
  u32(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    for (const x of this.le ? b : b.reverse()) this.u8(x);
    return this;
  }
  u64(v: bigint): this {
    const lo = Number(v & 0xffffffffn);
    const hi = Number((v >> 32n) & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  raw(b: Uint8Array | readonly number[]): this {
    for (const x of b) this.u8(x);
    return this;
  }
  padTo(align: number): this {
    while (this.bytes.length % align !== 0) this.u8(0);
    return this;
  }
  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function macBytes(mac: string): number[] {
  return mac.split(':').map((h) => Number.parseInt(h, 16));
}

// ---------- radiotap ----------

export interface RadiotapSpec {
  tsftUs?: bigint;
  /** Flags field (1): 0x10 = FCS at end, 0x40 = bad FCS. */
  flags?: number;
  /** Rate (2) in 500 kb/s units. */
  rate?: number;
  channel?: { mhz: number; flags: number };
  /** dBm antenna signal (5) in the first bitmap. */
  signalDbm?: number;
  noiseDbm?: number;
  antenna?: number;
  rxFlags?: number;
  /** MCS (19): known, flags, index. */
  mcs?: [number, number, number];
  /** Per-chain signals: each in its own extended bitmap (radiotap namespace), with an antenna field. */
  chains?: { signalDbm: number; antenna: number }[];
  /** A vendor namespace after the first bitmap's fields; its data must be skipped. */
  vendor?: { oui: [number, number, number]; subNamespace: number; data: Uint8Array };
  /** Sets field 18 (XChannel, not in the radiotap registry) after the others in the first bitmap. */
  unknownField?: boolean;
}

interface RtField {
  bit: number;
  align: number;
  bytes: number[];
}

/** Builds a radiotap header: present bitmaps, then each field aligned relative to the header start. */
export function radiotap(spec: RadiotapSpec): Uint8Array {
  const first: RtField[] = [];
  const le = (n: number, size: number) =>
    Array.from({ length: size }, (_, i) => Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));
  if (spec.tsftUs !== undefined) {
    const w = new ByteWriter().u64(spec.tsftUs).toBytes();
    first.push({ bit: 0, align: 8, bytes: [...w] });
  }
  if (spec.flags !== undefined) first.push({ bit: 1, align: 1, bytes: [spec.flags] });
  if (spec.rate !== undefined) first.push({ bit: 2, align: 1, bytes: [spec.rate] });
  if (spec.channel)
    first.push({ bit: 3, align: 2, bytes: [...le(spec.channel.mhz, 2), ...le(spec.channel.flags, 2)] });
  if (spec.signalDbm !== undefined) first.push({ bit: 5, align: 1, bytes: [spec.signalDbm & 0xff] });
  if (spec.noiseDbm !== undefined) first.push({ bit: 6, align: 1, bytes: [spec.noiseDbm & 0xff] });
  if (spec.antenna !== undefined) first.push({ bit: 11, align: 1, bytes: [spec.antenna] });
  if (spec.rxFlags !== undefined) first.push({ bit: 14, align: 2, bytes: le(spec.rxFlags, 2) });
  if (spec.unknownField) first.push({ bit: 18, align: 4, bytes: [0, 0, 0, 0, 0x85, 0x09, 6, 20] });
  if (spec.mcs) first.push({ bit: 19, align: 1, bytes: [...spec.mcs] });

  // Bitmaps: word 0 (radiotap), then [vendor word, radiotap word], then one word per chain.
  const words: number[] = [];
  const groups: { fields: RtField[]; vendorAfter?: RadiotapSpec['vendor'] }[] = [];
  let w0 = 0;
  for (const f of first) w0 |= 1 << f.bit;
  words.push(w0 >>> 0);
  groups.push({ fields: first, vendorAfter: spec.vendor });
  if (spec.vendor) {
    words[0] = (words[0]! | (1 << 30)) >>> 0;
    // The vendor bitmap announces one vendor field (bit 0) and switches back with bit 29.
    words.push(((1 << 0) | (1 << 29)) >>> 0);
    groups.push({ fields: [] });
  }
  for (const chain of spec.chains ?? []) {
    const i = words.length - 1;
    words[i] = (words[i]! | (1 << 29)) >>> 0;
    words.push(((1 << 5) | (1 << 11)) >>> 0);
    groups.push({
      fields: [
        { bit: 5, align: 1, bytes: [chain.signalDbm & 0xff] },
        { bit: 11, align: 1, bytes: [chain.antenna] },
      ],
    });
  }
  for (let i = 0; i < words.length - 1; i++) words[i] = (words[i]! | 0x80000000) >>> 0;

  const w = new ByteWriter();
  w.u8(0).u8(0).u16(0); // version, pad, length (patched below)
  for (const word of words) w.u32(word);
  for (const g of groups) {
    for (const f of g.fields) {
      w.padTo(f.align);
      w.raw(f.bytes);
    }
    if (g.vendorAfter) {
      w.padTo(2);
      w.raw(g.vendorAfter.oui).u8(g.vendorAfter.subNamespace).u16(g.vendorAfter.data.length);
      w.raw(g.vendorAfter.data);
    }
  }
  const bytes = w.toBytes();
  bytes[2] = bytes.length & 0xff;
  bytes[3] = bytes.length >> 8;
  return bytes;
}

// ---------- 802.11 ----------

export function element(id: number, value: readonly number[] | Uint8Array): number[] {
  return [id, value.length, ...value];
}

function ssidElement(ssid: string): number[] {
  return element(0, [...Buffer.from(ssid, 'utf8')]);
}

/** Elements of a probe request as an Android phone on 2.4 GHz sends them (rates, HT, ext caps, vendor). */
export function androidProbeElements(ssid: string, channel: number): number[] {
  return [
    ...ssidElement(ssid),
    ...element(1, [0x02, 0x04, 0x0b, 0x16]),
    ...element(50, [0x0c, 0x12, 0x18, 0x24, 0x30, 0x48, 0x60, 0x6c]),
    ...element(3, [channel]),
    ...element(
      45,
      [0xef, 0x01, 0x1b, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ),
    ...element(127, [0x00, 0x00, 0x0a, 0x02, 0x01, 0x40, 0x40, channel % 2 ? 0x80 : 0x00]),
    ...element(221, [0x00, 0x10, 0x18, 0x02, 0x00, 0x00, 0x1c, 0x00, 0x00]),
    ...element(221, [0x50, 0x6f, 0x9a, 0x16, 0x03, 0x01, 0x03, 0x65, 0x01, 0x2c]),
  ];
}

/** Elements of an iPhone probe request (no DS parameter on some scans, Apple vendor element). */
export function iphoneProbeElements(ssid: string, channel: number): number[] {
  return [
    ...ssidElement(ssid),
    ...element(1, [0x02, 0x04, 0x0b, 0x16, 0x0c, 0x12, 0x18, 0x24]),
    ...element(50, [0x30, 0x48, 0x60, 0x6c]),
    ...element(3, [channel]),
    ...element(
      45,
      [0x2d, 0x40, 0x17, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ),
    ...element(127, [0x04, 0x00, 0x0a, 0x02, 0x01, 0x00, 0x00, 0x40]),
    // HE Capabilities: extension id 35, MAC (6), PHY (11), HE-MCS map <= 80 MHz (4).
    ...element(
      255,
      [
        35, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x22, 0x20, 0x02, 0xc0, 0x0f, 0x03, 0x95, 0x18, 0x00, 0xcc,
        0x00, 0xfa, 0xff, 0xfa, 0xff,
      ],
    ),
    ...element(221, [0x00, 0x17, 0xf2, 0x0a, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00]),
    // WPS with a per-device UUID-E: stable per device, deliberately not hashed.
    ...element(221, [
      0x00,
      0x50,
      0xf2,
      0x04,
      0x10,
      0x47,
      0x00,
      0x10,
      ...Array.from({ length: 16 }, (_, i) => (channel * 17 + i) & 0xff),
    ]),
  ];
}

export interface FrameSpec {
  transmitter: string;
  seq: number;
  /** Body after the 24-byte management header (elements, or fixed fields then elements). */
  body?: readonly number[];
  /** Order bit: a 4-byte HT Control field follows the header. */
  htControl?: boolean;
}

function mgmtFrame(
  fc0: number,
  spec: FrameSpec,
  receiver = 'ff:ff:ff:ff:ff:ff',
  bssid = 'ff:ff:ff:ff:ff:ff',
): Uint8Array {
  const w = new ByteWriter();
  w.u8(fc0)
    .u8(spec.htControl ? 0x80 : 0)
    .u16(0);
  w.raw(macBytes(receiver)).raw(macBytes(spec.transmitter)).raw(macBytes(bssid));
  w.u16((spec.seq & 0xfff) << 4);
  if (spec.htControl) w.u32(0);
  w.raw(spec.body ?? []);
  return w.toBytes();
}

export function probeRequest(spec: FrameSpec): Uint8Array {
  return mgmtFrame(0x40, spec);
}

export function beacon(spec: FrameSpec, ssid: string, channel: number): Uint8Array {
  const fixed = [0, 0, 0, 0, 0, 0, 0, 0, 0x64, 0x00, 0x11, 0x04];
  return mgmtFrame(
    0x80,
    {
      ...spec,
      body: [
        ...fixed,
        ...ssidElement(ssid),
        ...element(1, [0x82, 0x84, 0x8b, 0x96]),
        ...element(3, [channel]),
      ],
    },
    'ff:ff:ff:ff:ff:ff',
    spec.transmitter,
  );
}

export function probeResponse(spec: FrameSpec, receiver: string, ssid: string): Uint8Array {
  const fixed = [1, 2, 3, 4, 5, 6, 7, 8, 0x64, 0x00, 0x11, 0x04];
  return mgmtFrame(
    0x50,
    { ...spec, body: [...fixed, ...ssidElement(ssid), ...element(1, [0x82, 0x84])] },
    receiver,
    spec.transmitter,
  );
}

/** A QoS-less data frame from a station to its AP (ToDS). */
export function dataFrame(spec: FrameSpec, bssid: string): Uint8Array {
  const w = new ByteWriter();
  w.u8(0x08).u8(0x01).u16(0x2c);
  w.raw(macBytes(bssid)).raw(macBytes(spec.transmitter)).raw(macBytes(bssid));
  w.u16((spec.seq & 0xfff) << 4);
  w.raw([0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0xb5, 0x01, 0x02, 0x03, 0x04]);
  return w.toBytes();
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** Appends the 802.11 FCS (CRC-32, little-endian). */
export function withFcs(frame: Uint8Array): Uint8Array {
  let crc = 0xffffffff;
  for (const b of frame) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  crc = (crc ^ 0xffffffff) >>> 0;
  return Uint8Array.from([...frame, crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

// ---------- pcap / pcapng ----------

export interface Packet {
  /** Capture time, epoch nanoseconds. */
  timeNs: bigint;
  data: Uint8Array;
  /** Defaults to the data length; larger = the capture cut the frame (snap length). */
  originalLength?: number;
}

export interface PcapOptions {
  byteOrder?: 'le' | 'be';
  resolution?: 'us' | 'ns';
  linktype?: number;
  snaplen?: number;
  /** Cuts this many bytes off the end: a final record cut short, as when a capture is killed mid-write. */
  cutLastBytes?: number;
}

export function writePcap(packets: readonly Packet[], options: PcapOptions = {}): Uint8Array {
  const le = (options.byteOrder ?? 'le') === 'le';
  const ns = options.resolution === 'ns';
  const w = new ByteWriter(le);
  w.u32(ns ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0);
  w.u32(options.snaplen ?? 262_144).u32(options.linktype ?? 127);
  for (const p of packets) {
    const sec = p.timeNs / 1_000_000_000n;
    const fracNs = p.timeNs % 1_000_000_000n;
    w.u32(Number(sec)).u32(Number(ns ? fracNs : fracNs / 1000n));
    w.u32(p.data.length).u32(p.originalLength ?? p.data.length);
    w.raw(p.data);
  }
  const bytes = w.toBytes();
  return bytes.subarray(0, bytes.length - (options.cutLastBytes ?? 0));
}

export interface PcapngInterface {
  linktype: number;
  name?: string;
  /** Raw `if_tsresol` byte (6 = µs when absent, 9 = ns, 0x80|n = 2^-n). */
  tsresol?: number;
  snaplen?: number;
}

export type PcapngBlock =
  | { kind: 'epb'; interfaceId: number; timeNs: bigint; data: Uint8Array; originalLength?: number }
  | { kind: 'spb'; data: Uint8Array; originalLength?: number }
  | { kind: 'other'; type: number; body: Uint8Array };

export interface PcapngSection {
  byteOrder?: 'le' | 'be';
  interfaces: PcapngInterface[];
  blocks: PcapngBlock[];
}

function block(w: ByteWriter, type: number, body: (b: ByteWriter) => void, le: boolean): void {
  const inner = new ByteWriter(le);
  body(inner);
  inner.padTo(4);
  const total = inner.length + 12;
  w.u32(type).u32(total).raw(inner.toBytes()).u32(total);
}

function option(b: ByteWriter, code: number, value: Uint8Array): void {
  b.u16(code).u16(value.length).raw(value).padTo(4);
}

/** Converts epoch ns to the interface's timestamp units (exact for the resolutions used in tests). */
function toUnits(timeNs: bigint, tsresol: number | undefined): bigint {
  const r = tsresol ?? 6;
  if (r & 0x80) return (timeNs << BigInt(r & 0x7f)) / 1_000_000_000n;
  return (timeNs * 10n ** BigInt(r)) / 1_000_000_000n;
}

export function writePcapng(sections: readonly PcapngSection[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const section of sections) {
    const le = (section.byteOrder ?? 'le') === 'le';
    const w = new ByteWriter(le);
    block(
      w,
      0x0a0d0d0a,
      (b) => {
        b.u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
        option(b, 4, Buffer.from('mallflow tests')); // shb_userappl
        b.u32(0);
      },
      le,
    );
    for (const itf of section.interfaces) {
      block(
        w,
        1,
        (b) => {
          b.u16(itf.linktype)
            .u16(0)
            .u32(itf.snaplen ?? 0);
          if (itf.name !== undefined) option(b, 2, Buffer.from(itf.name));
          if (itf.tsresol !== undefined) option(b, 9, Uint8Array.of(itf.tsresol));
          b.u32(0);
        },
        le,
      );
    }
    for (const blk of section.blocks) {
      if (blk.kind === 'epb') {
        const units = toUnits(blk.timeNs, section.interfaces[blk.interfaceId]?.tsresol);
        block(
          w,
          6,
          (b) => {
            b.u32(blk.interfaceId)
              .u32(Number(units >> 32n))
              .u32(Number(units & 0xffffffffn));
            b.u32(blk.data.length)
              .u32(blk.originalLength ?? blk.data.length)
              .raw(blk.data)
              .padTo(4);
            option(b, 1, Buffer.from('ok')); // opt_comment
            b.u32(0);
          },
          le,
        );
      } else if (blk.kind === 'spb') {
        block(w, 3, (b) => b.u32(blk.originalLength ?? blk.data.length).raw(blk.data), le);
      } else {
        block(w, blk.type, (b) => b.raw(blk.body), le);
      }
    }
    parts.push(w.toBytes());
  }
  return concatBytes(...parts);
}

// ---------- a realistic mixed capture ----------

export interface ExpectedProbe {
  mac: string;
  heardAtMs: number;
  rssiDbm: number;
  seq: number;
  /** Phone profile: probes of one profile must share a fingerprint. */
  profile: string;
}

export interface SyntheticCapture {
  packets: Packet[];
  expected: ExpectedProbe[];
  counts: { probes: number; otherFrames: number; badFcs: number };
}

/** The simulator's seeded generator (mulberry32) as a function, so every test run writes the same bytes. */
export function createRng(seed: number): () => number {
  const rng = createSeededRng(seed);
  return () => rng.next();
}

/**
 * A capture a mall sniffer could make: phones (Android and iPhone, some with randomized MACs)
 * probing with varied radiotap layouts (TSFT, flags with FCS, rate, channel, antenna, two-chain
 * extended bitmaps, a vendor namespace, an unknown field), among beacons, probe responses and
 * data frames, plus one probe with a bad FCS.
 */
export function makeSyntheticCapture(
  count = 200,
  seed = 7,
  startNs = 1_763_722_800_123_456_789n,
): SyntheticCapture {
  const rng = createRng(seed);
  const phones = Array.from({ length: 12 }, (_, i) => ({
    mac:
      i % 3 === 0
        ? `00:1a:11:00:00:${(i + 16).toString(16)}`
        : `da:a1:19:${(0x10 + i).toString(16)}:${(0x20 + i).toString(16)}:${(0x30 + i).toString(16)}`,
    profile: i % 2 === 0 ? 'android' : 'iphone',
    seq: Math.floor(rng() * 4096),
  }));
  const ap = '00:11:22:33:44:55';
  const packets: Packet[] = [];
  const expected: ExpectedProbe[] = [];
  const counts = { probes: 0, otherFrames: 0, badFcs: 0 };
  let t = startNs;
  for (let i = 0; i < count; i++) {
    t += BigInt(Math.floor(rng() * 50_000_000)) + 1_234n;
    const phone = phones[Math.floor(rng() * phones.length)]!;
    const channel = [1, 6, 11][i % 3]!;
    const signal = -30 - Math.floor(rng() * 60);
    const layout = i % 6;
    const spec: RadiotapSpec =
      layout === 0
        ? {
            flags: 0,
            rate: 2,
            channel: { mhz: 2407 + 5 * channel, flags: 0xa0 },
            signalDbm: signal,
            antenna: 0,
          }
        : layout === 1
          ? {
              tsftUs: BigInt(i) * 1000n + 7n,
              flags: 0x10,
              rate: 12,
              channel: { mhz: 2437, flags: 0xc0 },
              signalDbm: signal,
              noiseDbm: -95,
              rxFlags: 0,
            }
          : layout === 2
            ? {
                tsftUs: 99n,
                flags: 0x10,
                channel: { mhz: 2462, flags: 0xa0 },
                signalDbm: signal,
                rxFlags: 0,
                chains: [
                  { signalDbm: signal - 1, antenna: 0 },
                  { signalDbm: signal + 3, antenna: 1 },
                ],
              }
            : layout === 3
              ? {
                  flags: 0,
                  signalDbm: signal,
                  vendor: { oui: [0x00, 0x11, 0x22], subNamespace: 1, data: Uint8Array.of(9, 9, 9, 9, 9) },
                  mcs: [0x07, 0, 7],
                }
              : layout === 4
                ? { flags: 0x10, channel: { mhz: 2412, flags: 0xa0 }, signalDbm: signal, unknownField: true }
                : {
                    tsftUs: 5n,
                    flags: 0x00,
                    rate: 2,
                    signalDbm: signal,
                    antenna: 1,
                    chains: [{ signalDbm: signal, antenna: 0 }],
                  };
    const kind = rng();
    let frame: Uint8Array;
    let isProbe = false;
    if (kind < 0.6) {
      phone.seq = (phone.seq + 1 + Math.floor(rng() * 3)) & 0xfff;
      const ssid = rng() < 0.7 ? '' : ['MallFreeWiFi', 'home-5g', 'Starbucks'][Math.floor(rng() * 3)]!;
      const body =
        phone.profile === 'android'
          ? androidProbeElements(ssid, channel)
          : iphoneProbeElements(ssid, channel);
      frame = probeRequest({ transmitter: phone.mac, seq: phone.seq, body, htControl: i % 17 === 5 });
      isProbe = true;
    } else if (kind < 0.75) {
      frame = beacon({ transmitter: ap, seq: i }, 'MallFreeWiFi', channel);
    } else if (kind < 0.87) {
      frame = probeResponse({ transmitter: ap, seq: i }, phone.mac, 'MallFreeWiFi');
    } else {
      frame = dataFrame({ transmitter: phone.mac, seq: i }, ap);
    }
    const hasFcs = ((spec.flags ?? 0) & 0x10) !== 0;
    const badFcs = isProbe && i % 50 === 13;
    if (badFcs) spec.flags = (spec.flags ?? 0) | 0x50;
    const data = concatBytes(radiotap(spec), hasFcs || badFcs ? withFcs(frame) : frame);
    packets.push({ timeNs: t, data });
    if (badFcs) counts.badFcs++;
    else if (isProbe) {
      counts.probes++;
      expected.push({
        mac: phone.mac,
        heardAtMs: Number(t / 1_000_000n),
        rssiDbm: signal,
        seq: phone.seq,
        profile: phone.profile,
      });
    } else counts.otherFrames++;
  }
  return { packets, expected, counts };
}
