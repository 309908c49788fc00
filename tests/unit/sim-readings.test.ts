import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BleReading, pseudonymize, ScaleReading } from '../../core/src/index.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { createMallSim } from '../../simulators/src/mall-sim.ts';
import { writeReadingsFiles } from '../../simulators/src/write-readings.ts';

const JOY_CITY = loadShippedLayout('joy-city');
/** Saturday 2025-06-07, 11:00 in Shanghai. */
const START_MS = Date.UTC(2025, 5, 7, 3, 0);
const MINUTE_MS = 60_000;
const FILES = [
  'ble.ndjson',
  'intervals.csv',
  'macs.csv',
  'occupancy-minute.csv',
  'persons-per-day.csv',
  'scale.ndjson',
  'transitions.csv',
  'visits.csv',
  'wifi.ndjson',
];

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mallflow-sim-readings-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeRun(
  seed: number,
  chunkMs: number,
): { dir: string; counts: ReturnType<typeof writeReadingsFiles> } {
  const dir = scratchDir();
  const sim = createMallSim({ layout: JOY_CITY, seed, startMs: START_MS, scaleMembers: 2000 });
  return { dir, counts: writeReadingsFiles(dir, sim, START_MS + 30 * MINUTE_MS, chunkMs) };
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');

describe('writeReadingsFiles', () => {
  it('writes the readings as NDJSON and the ground truth, byte-identical for a seed whatever the chunk size', () => {
    const a = writeRun(5, MINUTE_MS);
    const b = writeRun(5, 7 * MINUTE_MS + 13);
    expect(readdirSync(a.dir).sort()).toEqual(FILES);
    for (const file of FILES) expect(read(b.dir, file), file).toBe(read(a.dir, file));
    expect(b.counts).toEqual(a.counts);
    expect(a.counts.wifi).toBeGreaterThan(10_000);
    expect(a.counts.ble).toBeGreaterThan(1_000);
    expect(a.counts.scale).toBeGreaterThan(0);
    for (const kind of ['wifi', 'ble', 'scale'] as const) {
      expect(read(a.dir, `${kind}.ndjson`).split('\n').filter(Boolean)).toHaveLength(a.counts[kind]);
    }
    const c = writeRun(6, MINUTE_MS);
    expect(read(c.dir, 'wifi.ndjson')).not.toBe(read(a.dir, 'wifi.ndjson'));
  });

  it('writes lines that become valid core readings at the gateway', () => {
    const { dir } = writeRun(5, 10 * MINUTE_MS);
    const lines = (file: string) =>
      read(dir, file)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const wifi = lines('wifi.ndjson');
    expect(Object.keys(wifi[0]!)).toEqual(['sensorId', 'heardAt', 'rssiDbm', 'mac', 'frameSeq']);
    for (const b of lines('ble.ndjson').slice(0, 2000)) {
      const { mac, ...rest } = b;
      const reading = { ...rest, device: pseudonymize(mac as string, 'test-secret'), randomized: false };
      expect(BleReading.safeParse(reading).success, JSON.stringify(b)).toBe(true);
    }
    for (const s of lines('scale.ndjson'))
      expect(ScaleReading.safeParse(s).success, JSON.stringify(s)).toBe(true);
    const heardAt = wifi.map((w) => w.heardAt as number);
    expect(heardAt.every((t, i) => i === 0 || t >= heardAt[i - 1]!)).toBe(true);
  });

  it('rejects a chunk size that would never end', () => {
    const sim = createMallSim({ layout: JOY_CITY, seed: 1, startMs: START_MS });
    expect(() => writeReadingsFiles(scratchDir(), sim, START_MS + MINUTE_MS, 0)).toThrowError(/chunkMs/);
  });
});
