import { describe, expect, it } from 'vitest';
import { createCaptureDecoder } from '../../gateway/src/capture/capture-decoder.ts';
import {
  createIeFingerprinter,
  createProbeRequestInfo,
  FRAME_PROBE_REQUEST,
  parseProbeRequest,
} from '../../gateway/src/capture/ieee80211.ts';
import { createRadiotapInfo, parseRadiotap, RADIOTAP_OK } from '../../gateway/src/capture/radiotap.ts';
import { countedFrames } from '../helpers/capture-counters.ts';
import {
  createRng,
  makeSyntheticCapture,
  radiotap,
  writePcap,
  writePcapng,
} from '../helpers/capture-writer.ts';

// 100,000 random and mutated buffers (seeded, so a failure names a reproducible iteration): valid
// captures with bytes flipped, cut, spliced, lengths set to extremes, bytes inserted or removed,
// and plain noise. The parsers must never throw, must count every record exactly once, and the
// reader must give the same answer whether a buffer arrives whole or in random chunks.

const ITERATIONS = 100_000;
const CAPTURE_SHARE = 0.4;
const RADIOTAP_SHARE = 0.3;
const EXTREME_LENGTHS = [
  0,
  1,
  11,
  12,
  16,
  0xfffffff0,
  0xffffffff,
  0x7fffffff,
  256 * 1024,
  256 * 1024 + 4,
  0x0a0d0d0a,
];

function seedCaptures(): Uint8Array[] {
  const cap = makeSyntheticCapture(8, 3);
  const small = makeSyntheticCapture(4, 11);
  const epbs = (packets: typeof cap.packets, interfaceId: number) =>
    packets.map((p) => ({ kind: 'epb' as const, interfaceId, timeNs: p.timeNs, data: p.data }));
  return [
    writePcap(cap.packets),
    writePcap(cap.packets, { byteOrder: 'be', resolution: 'ns' }),
    writePcap(small.packets, { linktype: 105 }),
    writePcapng([
      {
        interfaces: [
          { linktype: 127, name: 'wlan0mon' },
          { linktype: 127, tsresol: 9 },
        ],
        blocks: [
          ...epbs(cap.packets, 0),
          { kind: 'spb', data: small.packets[0]!.data },
          ...epbs(small.packets, 1),
        ],
      },
      {
        byteOrder: 'be',
        interfaces: [{ linktype: 127, tsresol: 0x80 | 24 }],
        blocks: [...epbs(small.packets, 0), { kind: 'other', type: 5, body: new Uint8Array(12) }],
      },
    ]),
  ];
}

/** The seed capture's packets: radiotap header + 802.11 frame. */
function seedPackets(): Uint8Array[] {
  return makeSyntheticCapture(40, 5).packets.map((p) => p.data);
}

/** The same packets without their radiotap header: bare 802.11 frames. */
function withoutRadiotap(packets: readonly Uint8Array[]): Uint8Array[] {
  return packets.map((p) => p.subarray(p[2]! | (p[3]! << 8)));
}

function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** A failed check names what broke; `expect` per iteration would cost most of the time budget. */
function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`violated: ${what}`);
}

function mutate(rng: () => number, seeds: readonly Uint8Array[]): Uint8Array {
  const pick = () => seeds[Math.floor(rng() * seeds.length)]!;
  const int = (n: number) => Math.floor(rng() * n);
  const kind = int(8);
  if (kind === 0) return Uint8Array.from({ length: int(600) }, () => int(256));
  let b: Uint8Array = Uint8Array.from(pick());
  const rounds = 1 + int(3);
  for (let r = 0; r < rounds && b.length > 0; r++) {
    const op = int(6);
    if (op === 0) {
      for (let k = 1 + int(8); k > 0; k--) b[int(b.length)] = int(256);
    } else if (op === 1) {
      b = b.subarray(0, int(b.length + 1));
    } else if (op === 2) {
      const other = pick();
      const cut = int(b.length + 1);
      b = cat(b.subarray(0, cut), other.subarray(int(other.length + 1)));
    } else if (op === 3 && b.length >= 4) {
      const at = int(b.length - 3) & ~3;
      const v = EXTREME_LENGTHS[int(EXTREME_LENGTHS.length)]!;
      new DataView(b.buffer, b.byteOffset).setUint32(at, v, rng() < 0.5);
    } else if (op === 4) {
      const at = int(b.length + 1);
      const extra = Uint8Array.from({ length: 1 + int(6) }, () => int(256));
      b = cat(b.subarray(0, at), extra, b.subarray(at));
    } else {
      const at = int(b.length);
      b = cat(b.subarray(0, at), b.subarray(at + 1 + int(6)));
    }
  }
  return b;
}

function decodeIn(bytes: Uint8Array, chunkSizes: (() => number) | undefined) {
  const decoder = createCaptureDecoder({ sensorId: 'fuzz', sensorByInterface: { wlan0mon: 'fuzz-0' } });
  const readings = [];
  if (!chunkSizes) readings.push(...decoder.feed(bytes));
  else {
    for (let i = 0; i < bytes.length; ) {
      const n = chunkSizes();
      readings.push(...decoder.feed(bytes.subarray(i, i + n)));
      i += n;
    }
  }
  readings.push(...decoder.end());
  return { readings, stats: decoder.stats(), stopReason: decoder.stopReason() };
}

describe('capture parsers under fuzzing', () => {
  it(`survive ${ITERATIONS.toLocaleString('en')} random and mutated buffers with consistent counts`, () => {
    const rng = createRng(20_251_121);
    const captures = seedCaptures();
    const packets = seedPackets();
    const frames = withoutRadiotap(packets);
    const radiotapSeeds = [
      ...packets,
      radiotap({ tsftUs: 1n, flags: 0x10, signalDbm: -40, chains: [{ signalDbm: -41, antenna: 0 }] }),
      radiotap({
        flags: 0,
        signalDbm: -40,
        vendor: { oui: [0, 1, 2], subNamespace: 0, data: Uint8Array.of(1, 2) },
      }),
    ];
    const info = createRadiotapInfo();
    const probe = createProbeRequestInfo();
    const fingerprinter = createIeFingerprinter();
    const totals = { captures: 0, records: 0, readings: 0, corrupt: 0, radiotapOk: 0, probes: 0 };

    for (let i = 0; i < ITERATIONS; i++) {
      const roll = rng();
      try {
        if (roll < CAPTURE_SHARE) {
          const bytes = mutate(rng, captures);
          const whole = decodeIn(bytes, undefined);
          const chunked = decodeIn(bytes, () => 1 + Math.floor(rng() * 64));
          check(
            JSON.stringify(chunked.stats) === JSON.stringify(whole.stats),
            'same counts whole and chunked',
          );
          check(
            JSON.stringify(chunked.readings) === JSON.stringify(whole.readings),
            'same readings whole and chunked',
          );
          check(chunked.stopReason === whole.stopReason, 'same stop reason whole and chunked');
          const s = whole.stats;
          check(countedFrames(s) === s.records, 'every record counted once');
          check(s.bytesIn === bytes.length, 'every byte counted');
          check(whole.readings.length === s.probes, 'one reading per counted probe');
          for (const r of whole.readings) {
            check(Number.isInteger(r.rssiDbm) && r.rssiDbm >= -127 && r.rssiDbm <= 20, 'rssi in range');
            check(Number.isInteger(r.heardAt) && r.heardAt >= 946_684_800_000, 'heardAt epoch ms');
            check(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(r.mac), 'mac format');
            check(r.frameSeq! >= 0 && r.frameSeq! <= 4095, 'sequence number range');
            check(
              r.ieFingerprint === undefined || /^[0-9a-f]{16}$/.test(r.ieFingerprint),
              'fingerprint format',
            );
          }
          totals.captures++;
          totals.records += s.records;
          totals.readings += whole.readings.length;
          totals.corrupt += s.corruptRecords;
        } else if (roll < CAPTURE_SHARE + RADIOTAP_SHARE) {
          const bytes = mutate(rng, radiotapSeeds);
          parseRadiotap(bytes, 0, bytes.length, info);
          if (info.status === RADIOTAP_OK) {
            totals.radiotapOk++;
            check(
              info.headerLength >= 8 && info.headerLength <= bytes.length,
              'radiotap length within the buffer',
            );
            check(Number.isNaN(info.signalDbm) === (info.signalFields === 0), 'signal iff a signal field');
          }
        } else {
          // Bare 802.11 frames, mutated.
          const bytes = mutate(rng, frames);
          const start = rng() < 0.8 ? 0 : Math.floor(rng() * bytes.length);
          const kind = parseProbeRequest(bytes, start, bytes.length - start, probe);
          check(kind >= 0 && kind <= 3, 'known frame kind');
          if (kind === FRAME_PROBE_REQUEST) {
            totals.probes++;
            check(probe.transmitterOffset + 6 <= bytes.length, 'transmitter inside the frame');
            check(
              probe.elementsStart <= probe.elementsEnd && probe.elementsEnd === bytes.length,
              'elements span',
            );
            const fp = fingerprinter.fingerprint(bytes, probe.elementsStart, probe.elementsEnd);
            check(fp === undefined || /^[0-9a-f]{16}$/.test(fp), 'fingerprint format');
          }
        }
      } catch (err) {
        throw new Error(`fuzz iteration ${i} failed`, { cause: err });
      }
    }
    // The mutations reached the interesting paths, not only the first-byte rejections.
    expect(totals.captures).toBeGreaterThan(ITERATIONS * 0.35);
    expect(totals.records).toBeGreaterThan(totals.captures);
    expect(totals.readings).toBeGreaterThan(totals.captures);
    expect(totals.corrupt).toBeGreaterThan(1000);
    expect(totals.radiotapOk).toBeGreaterThan(ITERATIONS * 0.05);
    expect(totals.probes).toBeGreaterThan(ITERATIONS * 0.01);
  }, 60_000);
});
