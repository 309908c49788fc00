import type { Layout } from '../core/src/layout.ts';
import { addSighting, advanceClock, closeMinutes, createOccupancyState } from '../core/src/occupancy.ts';
import { drainClosed } from '../core/src/sessions.ts';
import { fmt } from './fixtures.ts';

// Live state per tracked device: `devices` phones, each heard in three bursts 30 s apart by two
// sensors, all arriving within a minute of event time; at the end (every burst decided) every one
// of them is tracked with an open visit. 1% have randomized MACs: at a million arrivals a minute
// the linker's search among every randomized device of the last 90 s would be quadratic. Measured
// as the growth of heapUsed plus arrayBuffers after a full GC, per device. Baseline in the same
// run: a Map from the same pseudonyms (fresh 32-character strings, as core/src/privacy.ts makes
// them) to a number, the floor any engine keyed by pseudonym pays.

const OPTIONS = { presenceMs: 180_000, allowedLatenessMs: 5_000, visitIdleMs: 600_000 };
const ARRIVALS_MS = 60_000;
const BURST_GAP_MS = 30_000;
const BURSTS = 3;

/** Needs `node --expose-gc` (the bench script passes it). */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
  gc();
}

function liveBytes(): number {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Device i's pseudonym: 32 hex characters, a flat string of its own as parsed input gives. */
function pseudonymOf(i: number, scratch: Buffer): string {
  let x = (i + 1) * 0x9e3779b1;
  for (let b = 0; b < 16; b += 4) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ i;
    scratch.writeInt32LE(x | 0, b);
  }
  return scratch.toString('hex');
}

export function benchEngineMemory(
  layout: Layout,
  devices: number,
): { bytesPerDevice: number; baselineBytesPerDevice: number; tracked: number; sightings: number } {
  const scratch = Buffer.alloc(16);
  const before = liveBytes();
  let baseline: Map<string, number> | undefined = new Map();
  for (let i = 0; i < devices; i++) baseline.set(pseudonymOf(i, scratch), i);
  const baselineBytes = liveBytes() - before;
  // Read after the measure: a Map not used after it would be dead, and collected, during it.
  if (baseline.size !== devices) throw new Error('pseudonyms collide');
  baseline = undefined;

  const zoneIds = layout.zones.map((z) => z.id);
  const sensors = layout.sensors;
  const startMs = Date.UTC(2026, 10, 18, 3, 0, 0);
  const base = liveBytes();
  const state = createOccupancyState(OPTIONS, layout);
  // The three bursts of every device, merged in time order: burst k of device i is at
  // arrival(i) + k * BURST_GAP_MS.
  const next = new Array<number>(BURSTS).fill(0);
  const arrivalMs = (i: number) => startMs + Math.floor((i * ARRIVALS_MS) / devices);
  let sightings = 0;
  // As the shell does: closed minutes, stays and visits are handed on at each tick.
  const tick = () => {
    closeMinutes(state, zoneIds);
    drainClosed(state.sessions);
  };
  for (;;) {
    let k = -1;
    let atMs = Number.POSITIVE_INFINITY;
    for (let j = 0; j < BURSTS; j++) {
      if (next[j]! >= devices) continue;
      const t = arrivalMs(next[j]!) + j * BURST_GAP_MS;
      if (t < atMs) {
        atMs = t;
        k = j;
      }
    }
    if (k < 0) break;
    const i = next[k]!;
    next[k] = i + 1;
    const device = pseudonymOf(i, scratch);
    const home = (i * 7919 + k) % sensors.length;
    for (const s of [sensors[home]!, sensors[(home + 1) % sensors.length]!]) {
      addSighting(state, device, s.zone, -55 - ((i + k) % 25), atMs, i % 100 === 0, s.id);
      sightings++;
    }
    if (sightings % 5_000 === 0) closeMinutes(state, zoneIds);
  }
  // Every burst decided, no device silent long enough to be forgotten.
  advanceClock(state, startMs + ARRIVALS_MS + BURSTS * BURST_GAP_MS + 75_000);
  tick();
  const bytes = liveBytes() - base;
  const tracked = Math.min(state.devices.size, state.sessions.open);
  // BENCH_MEMORY_PARTS=1: what each part of the state holds, per device (dropped one after another).
  if (process.env.BENCH_MEMORY_PARTS === '1') {
    const st = state as unknown as Record<string, unknown>;
    for (const key of [
      'sessions',
      'devices',
      'linker',
      'burstQueueDevice',
      'burstQueueStartMs',
      'decisionQueueDevice',
      'decisionQueueMs',
      'decisionQueueRssiDbm',
      'pending',
      'finalQueue',
    ]) {
      const b = liveBytes();
      st[key] = undefined;
      console.log(`  ${key.padEnd(20)} ${fmt((b - liveBytes()) / devices)} B/device`);
    }
  }
  return {
    bytesPerDevice: bytes / devices,
    baselineBytesPerDevice: baselineBytes / devices,
    tracked,
    sightings,
  };
}

export function printEngineMemory(r: ReturnType<typeof benchEngineMemory>): void {
  console.log(
    `engine memory     ${fmt(r.bytesPerDevice)} B/device live state, ${fmt(r.tracked)} devices with open visits, ${fmt(r.sightings)} sightings  (baseline Map<pseudonym, number> ${fmt(r.baselineBytesPerDevice)} B/device, ratio=${(r.bytesPerDevice / r.baselineBytesPerDevice).toFixed(2)})`,
  );
}
