import { pathToFileURL } from 'node:url';
import { createCaptureDecoder } from '../gateway/src/capture/capture-decoder.ts';
import {
  createIeFingerprinter,
  createProbeRequestInfo,
  FRAME_PROBE_REQUEST,
  parseProbeRequest,
} from '../gateway/src/capture/ieee80211.ts';
import {
  androidProbeElements,
  beacon,
  concatBytes,
  dataFrame,
  element,
  iphoneProbeElements,
  probeRequest,
  radiotap,
  withFcs,
} from '../tests/helpers/capture-writer.ts';
import { fmt } from './fixtures.ts';

// Capture parsing on one core: an in-memory pcap of ~1M frames (80 % probe requests from 5,000
// phones of three models, with FCS, per-chain signals and the usual radiotap fields; the rest
// beacons and data frames), fed to the decoder in 64 KiB chunks as the capture source does.
// Target (issue 7): >= 500,000 frames/s including the IE fingerprint. Baseline in the same run: a
// loop that only walks the pcap record headers of the same buffer, the floor any pcap reader pays.

const FRAMES = 1_000_000;
const PHONES = 5_000;
const CHUNK_BYTES = 64 * 1024;
const TARGET_FRAMES_PER_SEC = 500_000;
const START_SEC = 1_763_722_800;

interface Template {
  bytes: Uint8Array;
  /** The 802.11 frame alone (no radiotap, no FCS). */
  frame: Uint8Array;
  /** Offsets inside `bytes` of the transmitter's last two bytes and of the sequence control, or -1. */
  macAt: number;
  seqAt: number;
}

/** A laptop's probe: rates, HT and VHT capabilities, no vendor elements. */
function laptopProbeElements(ssid: string): number[] {
  return [
    ...element(0, [...Buffer.from(ssid)]),
    ...element(1, [0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c]),
    ...element(
      45,
      [0x6f, 0x01, 0x17, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ),
    ...element(191, [0x32, 0x70, 0x80, 0x0f, 0xfa, 0xff, 0x00, 0x00, 0xfa, 0xff, 0x00, 0x00]),
    ...element(127, [0x04, 0x00, 0x08, 0x84]),
  ];
}

function templates(): { probes: Template[]; others: Template[] } {
  const layouts = [
    {
      fcs: true,
      header: radiotap({
        tsftUs: 1n,
        flags: 0x10,
        rate: 2,
        channel: { mhz: 2437, flags: 0xa0 },
        signalDbm: -60,
        rxFlags: 0,
      }),
    },
    {
      fcs: true,
      header: radiotap({
        tsftUs: 1n,
        flags: 0x10,
        channel: { mhz: 5180, flags: 0x140 },
        signalDbm: -70,
        rxFlags: 0,
        chains: [
          { signalDbm: -71, antenna: 0 },
          { signalDbm: -69, antenna: 1 },
        ],
      }),
    },
    {
      fcs: false,
      header: radiotap({
        flags: 0,
        rate: 2,
        channel: { mhz: 2412, flags: 0xa0 },
        signalDbm: -55,
        antenna: 0,
      }),
    },
  ];
  const probes: Template[] = [];
  for (const { fcs, header } of layouts) {
    for (const ssid of ['', 'MallFreeWiFi', 'home-5g']) {
      for (const elements of [
        androidProbeElements(ssid, 6),
        iphoneProbeElements(ssid, 1),
        laptopProbeElements(ssid),
      ]) {
        const frame = probeRequest({ transmitter: 'da:a1:19:00:00:00', seq: 0, body: elements });
        probes.push({
          bytes: concatBytes(header, fcs ? withFcs(frame) : frame),
          frame,
          macAt: header.length + 14,
          seqAt: header.length + 22,
        });
      }
    }
  }
  const ap = { transmitter: '00:11:22:33:44:55', seq: 1 };
  const beaconFrame = beacon(ap, 'MallFreeWiFi', 6);
  const data = dataFrame(ap, '00:11:22:33:44:66');
  const others: Template[] = [
    {
      bytes: concatBytes(layouts[0]!.header, withFcs(beaconFrame)),
      frame: beaconFrame,
      macAt: -1,
      seqAt: -1,
    },
    { bytes: concatBytes(layouts[2]!.header, data), frame: data, macAt: -1, seqAt: -1 },
  ];
  return { probes, others };
}

/** Writes a little-endian µs pcap of `count` frames, varying transmitter, sequence and time. */
export function buildCapture(count: number): Buffer {
  const { probes, others } = templates();
  const pick = (i: number): Template =>
    i % 5 === 4 ? others[i % others.length]! : probes[(i * 7) % probes.length]!;
  let size = 24;
  for (let i = 0; i < count; i++) size += 16 + pick(i).bytes.length;
  const buf = Buffer.alloc(size);
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(262_144, 16);
  buf.writeUInt32LE(127, 20);
  let o = 24;
  for (let i = 0; i < count; i++) {
    const t = pick(i);
    const us = i * 613; // ~1,600 frames per second of capture time
    buf.writeUInt32LE(START_SEC + Math.floor(us / 1e6), o);
    buf.writeUInt32LE(us % 1e6, o + 4);
    buf.writeUInt32LE(t.bytes.length, o + 8);
    buf.writeUInt32LE(t.bytes.length, o + 12);
    buf.set(t.bytes, o + 16);
    if (t.macAt >= 0) {
      const phone = (i * 7919) % PHONES;
      buf[o + 16 + t.macAt] = phone >> 8;
      buf[o + 16 + t.macAt + 1] = phone & 0xff;
      buf.writeUInt16LE((i & 0xfff) << 4, o + 16 + t.seqAt);
    }
    o += 16 + t.bytes.length;
  }
  return buf;
}

/** The floor: walk the record headers only. */
function walkHeaders(buf: Buffer): number {
  let frames = 0;
  for (let o = 24; o + 16 <= buf.length; ) {
    o += 16 + buf.readUInt32LE(o + 8);
    frames++;
  }
  return frames;
}

function decodeChunked(buf: Buffer): { frames: number; probes: number } {
  const decoder = createCaptureDecoder({ sensorId: 'bench' });
  let probes = 0;
  for (let o = 0; o < buf.length; o += CHUNK_BYTES)
    probes += decoder.feed(buf.subarray(o, o + CHUNK_BYTES)).length;
  probes += decoder.end().length;
  return { frames: decoder.stats().records, probes };
}

/** 802.11 parse + fingerprint of every probe request, with the decoder's cache or with none. */
function fingerprintAll(frames: readonly Uint8Array[], cacheEntries: number): number {
  const fingerprinter = createIeFingerprinter(cacheEntries);
  const info = createProbeRequestInfo();
  let n = 0;
  for (const f of frames) {
    if (parseProbeRequest(f, 0, f.length, info) !== FRAME_PROBE_REQUEST) continue;
    if (fingerprinter.fingerprint(f, info.elementsStart, info.elementsEnd) !== undefined) n++;
  }
  return n;
}

export interface PcapParseResult {
  frames: number;
  probes: number;
  framesPerSec: number;
  baselinePerSec: number;
  ratio: number;
  megabytesPerSec: number;
  fingerprintsPerSecCached: number;
  fingerprintsPerSecUncached: number;
}

export async function benchPcapParse(frames = FRAMES): Promise<PcapParseResult> {
  const buf = buildCapture(frames);
  // JIT warm-up on a slice, then the measured runs.
  decodeChunked(buildCapture(50_000));
  walkHeaders(buf);

  const baseStart = performance.now();
  const walked = walkHeaders(buf);
  const baseSec = (performance.now() - baseStart) / 1000;

  const started = performance.now();
  const { frames: decoded, probes } = decodeChunked(buf);
  const sec = (performance.now() - started) / 1000;
  if (decoded !== walked) throw new Error(`decoder read ${decoded} frames, the header walk ${walked}`);

  // The fingerprint cache's effect, on 200,000 bare probe frames (radiotap stripped).
  const { probes: probeTemplates } = templates();
  const bare = Array.from({ length: 200_000 }, (_, i) => probeTemplates[i % probeTemplates.length]!.frame);
  fingerprintAll(bare.slice(0, 20_000), 0);
  const cachedStart = performance.now();
  const cachedN = fingerprintAll(bare, 4096);
  const cachedSec = (performance.now() - cachedStart) / 1000;
  const uncachedStart = performance.now();
  const uncachedN = fingerprintAll(bare, 0);
  const uncachedSec = (performance.now() - uncachedStart) / 1000;

  return {
    frames: decoded,
    probes,
    framesPerSec: decoded / sec,
    baselinePerSec: walked / baseSec,
    ratio: baseSec / sec,
    megabytesPerSec: buf.length / 1e6 / sec,
    fingerprintsPerSecCached: cachedN / cachedSec,
    fingerprintsPerSecUncached: uncachedN / uncachedSec,
  };
}

export function printPcapParse(r: PcapParseResult): void {
  console.log(
    `pcap parse       ${fmt(r.framesPerSec)} frames/s, ${r.megabytesPerSec.toFixed(0)} MB/s, ${fmt(r.probes)} probes of ${fmt(r.frames)} frames (target ${fmt(TARGET_FRAMES_PER_SEC)}: ratio ${(r.framesPerSec / TARGET_FRAMES_PER_SEC).toFixed(2)}; baseline header walk ${fmt(r.baselinePerSec)}/s, ratio=${r.ratio.toFixed(3)})`,
  );
  console.log(
    `  IE fingerprint ${fmt(r.fingerprintsPerSecCached)}/s with the cache, ${fmt(r.fingerprintsPerSecUncached)}/s hashing every probe`,
  );
}

// `npx tsx bench/pcap-parse.ts` runs it on its own.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printPcapParse(await benchPcapParse());
}
