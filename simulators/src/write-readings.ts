// Shell: runs a simulation and writes its raw readings as NDJSON replay files, with the ground
// truth beside them. The output is a pure function of the sim's seed, options and untilMs — not
// of chunkMs, which only bounds memory — so two runs give byte-identical files.
//
//   wifi.ndjson   one RawWifiSighting per line   {"sensorId","heardAt","rssiDbm","mac","frameSeq"}
//   ble.ndjson    one RawBleSighting per line    {"sensorId","heardAt","rssiDbm","mac","beacon":{...}}
//   scale.ndjson  one RawScaleReading per line   {"sensorId","measuredAt","weightKg","impedanceOhm","memberId"}
//   + the ground truth CSV files (simulators/GROUND_TRUTH.md)
//
// Each file is in time order. MACs are raw: keep these files away from anything that must only
// ever see pseudonyms.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { MallSim } from './mall-sim.ts';
import { writeTruthFiles } from './truth-files.ts';

export interface WrittenReadings {
  wifi: number;
  ble: number;
  scale: number;
}

/** Lines per write call: keeps each string far below V8's string size limit. */
const LINES_PER_WRITE = 10_000;

function writeLines(fd: number, items: readonly unknown[]): void {
  for (let i = 0; i < items.length; i += LINES_PER_WRITE) {
    let text = '';
    const end = Math.min(items.length, i + LINES_PER_WRITE);
    for (let k = i; k < end; k++) text += `${JSON.stringify(items[k])}\n`;
    writeSync(fd, text);
  }
}

/**
 * Steps `sim` from its current time to `untilMs` in chunks of `chunkMs`, writing wifi.ndjson,
 * ble.ndjson and scale.ndjson into `dir` (created if missing; files replaced), then the ground
 * truth files. Returns how many readings of each kind were written.
 */
export function writeReadingsFiles(
  dir: string,
  sim: MallSim,
  untilMs: number,
  chunkMs: number,
): WrittenReadings {
  if (!(Number.isFinite(chunkMs) && chunkMs > 0)) throw new RangeError('chunkMs: must be a positive number');
  if (!Number.isFinite(untilMs)) throw new RangeError('untilMs: must be a finite epoch-ms number');
  mkdirSync(dir, { recursive: true });
  const written: WrittenReadings = { wifi: 0, ble: 0, scale: 0 };
  const wifi = openSync(join(dir, 'wifi.ndjson'), 'w');
  const ble = openSync(join(dir, 'ble.ndjson'), 'w');
  const scale = openSync(join(dir, 'scale.ndjson'), 'w');
  try {
    for (let t = sim.nowMs(); t < untilMs; ) {
      const next = Math.min(untilMs, t + chunkMs);
      const out = sim.stepAll(next);
      writeLines(wifi, out.wifi);
      writeLines(ble, out.ble);
      writeLines(scale, out.scale);
      written.wifi += out.wifi.length;
      written.ble += out.ble.length;
      written.scale += out.scale.length;
      t = next;
    }
  } finally {
    closeSync(wifi);
    closeSync(ble);
    closeSync(scale);
  }
  writeTruthFiles(
    dir,
    sim.truth(),
    sim.layout.zones.map((z) => z.id),
  );
  return written;
}
