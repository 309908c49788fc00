import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCaptureDecoder } from '../../gateway/src/capture/capture-decoder.ts';
import { makeSyntheticCapture, writePcap } from '../helpers/capture-writer.ts';

// Compares what the gateway extracts from a capture with what Wireshark's dissectors decode from
// the same file (Debian package `tshark`). Field names checked with `tshark -G fields` (4.0.17).
// Radiotap `dbm_antsignal` may occur once per chain: `-E occurrence=f` takes the first, as we do.

const TSHARK = 'tshark';
const EDITCAP = 'editcap';

function installed(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

const hasTools = installed(TSHARK) && installed(EDITCAP);
if (!hasTools) {
  console.warn(
    'gateway-capture-tshark: SKIPPED, tshark and editcap are not installed (apt-get install tshark); the decoder is not compared with Wireshark',
  );
}

interface Row {
  heardAtMs: number;
  mac: string;
  rssiDbm: number;
  seq: number;
}

/** `1763722800.161662000` → 1763722800161 (floored, without going through a float). */
function epochToMs(text: string): number {
  const [sec, frac = ''] = text.split('.');
  return Number(sec) * 1000 + Number(frac.padEnd(3, '0').slice(0, 3));
}

function tsharkProbes(path: string): Row[] {
  const out = execFileSync(
    TSHARK,
    [
      '-r',
      path,
      '-T',
      'fields',
      '-E',
      'occurrence=f',
      '-e',
      'frame.time_epoch',
      '-e',
      'wlan.ta',
      '-e',
      'radiotap.dbm_antsignal',
      '-e',
      'wlan.seq',
      '-Y',
      'wlan.fc.type_subtype == 4 && !(radiotap.flags.badfcs == 1)',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const [time, ta, signal, seq] = line.split('\t');
      return { heardAtMs: epochToMs(time!), mac: ta!, rssiDbm: Number(signal), seq: Number(seq) };
    });
}

/** Frames tshark reads (it exits non-zero on a file cut short, after printing the whole frames). */
function tsharkFrameCount(path: string): number {
  const run = spawnSync(TSHARK, ['-r', path, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  return run.stdout.trim().split('\n').length;
}

function ours(path: string) {
  const decoder = createCaptureDecoder({ sensorId: 'sniffer-1' });
  const readings = [...decoder.feed(readFileSync(path)), ...decoder.end()];
  return {
    rows: readings.map((r) => ({ heardAtMs: r.heardAt, mac: r.mac, rssiDbm: r.rssiDbm, seq: r.frameSeq! })),
    stats: decoder.stats(),
  };
}

describe.skipIf(!hasTools)('capture decoder vs tshark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mallflow-tshark-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const capture = makeSyntheticCapture(400, 33);
  const usPcap = join(dir, 'us.pcap');
  const nsPcap = join(dir, 'ns-be.pcap');
  writeFileSync(usPcap, writePcap(capture.packets));
  writeFileSync(nsPcap, writePcap(capture.packets, { byteOrder: 'be', resolution: 'ns' }));

  function check(path: string): void {
    const theirs = tsharkProbes(path);
    const mine = ours(path);
    expect(theirs.length).toBe(capture.counts.probes);
    expect(mine.rows).toEqual(theirs);
    expect(mine.stats.records).toBe(tsharkFrameCount(path));
  }

  it('agrees on a little-endian microsecond pcap', () => check(usPcap));

  it('agrees on a big-endian nanosecond pcap', () => check(nsPcap));

  it('agrees on a pcapng written by editcap (µs interface)', () => {
    const path = join(dir, 'us.pcapng');
    execFileSync(EDITCAP, ['-F', 'pcapng', usPcap, path], { stdio: 'ignore' });
    check(path);
  });

  it('agrees on a pcapng written by editcap from the ns capture (if_tsresol = 9)', () => {
    const path = join(dir, 'ns.pcapng');
    execFileSync(EDITCAP, ['-F', 'pcapng', nsPcap, path], { stdio: 'ignore' });
    // The IDB carries if_tsresol 9: option code 9, length 1, value 9.
    expect(readFileSync(path).includes(Buffer.from([9, 0, 1, 0, 9]))).toBe(true);
    check(path);
  });

  it('agrees with the frames tshark counts when the last record is cut off', () => {
    const path = join(dir, 'cut.pcap');
    writeFileSync(path, writePcap(capture.packets, { cutLastBytes: 7 }));
    const mine = ours(path);
    expect(mine.stats.truncatedRecords).toBe(1);
    expect(mine.stats.records).toBe(tsharkFrameCount(path));
  });
});
