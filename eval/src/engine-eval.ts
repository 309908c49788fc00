import { zonedTimeToUtc } from '../../core/src/local-days.ts';
import {
  addSighting,
  advanceClock,
  closeMinutes,
  createOccupancyState,
  type OccupancyOptions,
} from '../../core/src/occupancy.ts';
import { isRandomizedMac } from '../../core/src/privacy.ts';
import { drainClosed, sessionLimitMs, type Visit, type ZoneStay } from '../../core/src/sessions.ts';
import type { GroundTruth } from '../../simulators/src/ground-truth.ts';
import { loadLayoutFile } from '../../simulators/src/load-layout.ts';
import { createMallSim, type RawWifiSighting } from '../../simulators/src/mall-sim.ts';
import { type Estimates, scoreEstimates } from './metrics.ts';
import { metricsTable } from './report.ts';

// A quick eval for tuning the engine: the same simulation, window and scoring as `npm run eval`,
// but the WiFi readings go straight into the core engine in time order, as analytics feeds it
// (no gateway, broker or database; raw MACs stand in for pseudonyms). A 2-hour window takes
// seconds instead of a minute, and gives the same figures as `npm run eval` when that runs with
// an allowed lateness covering its one-minute delivery chunks.
//
//   npx tsx eval/src/engine-eval.ts [--seed 42] [--date 2026-11-18] [--from 11:00] [--hours 2]
//     [--layout simulators/layouts/joy-city.json] [--options '{"zoneEstimator":{"lagMs":90000}}']
//     [--oracle-zone 1] [--gateway-batches 500]
//
// --oracle-zone places every reading in its person's true zone: what is left of the error then
// comes from when phones are heard at all (silences, MAC rotations, probe gaps), not from where.

const WARMUP_SCORE_SKIP_MS = 5 * 60_000;
const CHUNK_MS = 60_000;

export function runEngineEval(argv: readonly string[]) {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!, argv[i + 1] ?? '');
  const seed = Number(args.get('--seed') ?? 42);
  const date = args.get('--date') ?? '2026-11-18';
  const from = args.get('--from') ?? '11:00';
  const hours = Number(args.get('--hours') ?? 2);
  const layout = loadLayoutFile(args.get('--layout') ?? 'simulators/layouts/joy-city.json');
  const options: OccupancyOptions = {
    presenceMs: 180_000,
    allowedLatenessMs: 5_000,
    visitIdleMs: 600_000,
    ...(JSON.parse(args.get('--options') ?? '{}') as Partial<OccupancyOptions>),
  };
  const opensMs = zonedTimeToUtc(date, '10:00', layout.timezone);
  const fromMs = zonedTimeToUtc(date, from, layout.timezone);
  const toMs = fromMs + hours * 3_600_000;
  const newSim = () => createMallSim({ layout, seed, startMs: Math.min(opensMs, fromMs) });
  const sim = newSim();
  sim.stepAll(fromMs);
  const trueZone = args.has('--oracle-zone') ? oracleOf(newSim, toMs) : undefined;

  const started = performance.now();
  const zoneIds = layout.zones.map((z) => z.id);
  const sensorZone = new Map(layout.sensors.map((s) => [s.id, s.zone]));
  const state = createOccupancyState(options, layout);
  const stays: ZoneStay[] = [];
  const visits: Visit[] = [];
  const occupancy = new Map<string, Map<number, number>>();
  const collect = () => {
    for (const r of closeMinutes(state, zoneIds)) {
      const m = occupancy.get(r.zoneId) ?? new Map<number, number>();
      m.set(r.bucketMs, r.devices); // a final row comes after the live one and replaces it
      occupancy.set(r.zoneId, m);
    }
    const closed = drainClosed(state.sessions);
    for (const s of closed.stays) stays.push(s);
    for (const v of closed.visits) visits.push(v);
  };
  let readings = 0;
  const add = (s: RawWifiSighting) => {
    const zoneId = sensorZone.get(s.sensorId)!;
    const randomized = isRandomizedMac(s.mac);
    const truly = trueZone?.(s.mac, s.heardAt);
    if (truly !== undefined) {
      // Loud in the true zone, as heard elsewhere: the zone is never in doubt.
      addSighting(state, s.mac, truly, s.rssiDbm + 30, s.heardAt, randomized);
      if (truly === zoneId) return;
    }
    addSighting(state, s.mac, zoneId, s.rssiDbm, s.heardAt, randomized, truly ? undefined : s.sensorId);
  };
  // --gateway-batches N: deliver as `npm run eval` does, per floor in batches of N readings, each
  // floor's partial batch at the end of every chunk: floors run ahead of each other (late data).
  const batchSize = Number(args.get('--gateway-batches') ?? 0);
  const floorOf = new Map(layout.sensors.map((s) => [s.id, s.floor]));
  const buffers = new Map<string, RawWifiSighting[]>();
  const flush = (buffer: RawWifiSighting[]) => {
    for (const s of buffer) add(s);
    buffer.length = 0;
    collect();
  };
  for (let t = fromMs; t < toMs; t = Math.min(toMs, t + CHUNK_MS)) {
    for (const s of sim.stepAll(Math.min(toMs, t + CHUNK_MS)).wifi) {
      readings++;
      if (batchSize <= 0) {
        add(s);
        continue;
      }
      const floor = floorOf.get(s.sensorId)!;
      const buffer = buffers.get(floor) ?? [];
      buffers.set(floor, buffer);
      buffer.push(s);
      if (buffer.length >= batchSize) flush(buffer);
    }
    for (const buffer of buffers.values()) flush(buffer);
    advanceClock(state, Math.min(toMs, t + CHUNK_MS));
    collect();
  }
  // Past every decision, final count and visit (a visit silent in a store waits for the silence bridge).
  advanceClock(state, toMs + sessionLimitMs(state.sessionOptions) + options.allowedLatenessMs + 5 * 60_000);
  collect();
  const engineSec = (performance.now() - started) / 1000;

  const dayOf = new Intl.DateTimeFormat('en-CA', {
    timeZone: layout.timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  const estimates: Estimates = {
    stays: stays.map((s) => ({
      device: s.device,
      zoneId: s.zoneId,
      startMs: s.startMs,
      endMs: s.endMs,
      confidence: s.confidence,
    })),
    visits: visits.map((v) => ({
      device: v.device,
      startMs: v.startMs,
      endMs: v.endMs,
      day: dayOf.format(new Date(v.startMs)),
      passerBy: v.passerBy,
      orphan: v.orphan,
      doubtfulLinks: v.doubtfulLinks,
    })),
    occupancy,
  };
  const truth = sim.truth();
  const metrics = scoreEstimates(layout, truth, estimates, fromMs + WARMUP_SCORE_SKIP_MS, toMs, (mac) => mac);
  return { state, stays, visits, layout, truth, estimates, metrics, fromMs, toMs, readings, engineSec };
}

/** The true zone of a MAC's person at an instant, from a twin simulation run to `toMs`. */
function oracleOf(newSim: () => ReturnType<typeof createMallSim>, toMs: number) {
  const twin = newSim();
  twin.stepAll(toMs);
  const truth: GroundTruth = twin.truth();
  const spans = new Map<string, GroundTruth['macs']>();
  for (const m of truth.macs) spans.set(m.mac, [...(spans.get(m.mac) ?? []), m]);
  const intervals = new Map<string, GroundTruth['intervals']>();
  for (const iv of truth.intervals) intervals.set(iv.person, [...(intervals.get(iv.person) ?? []), iv]);
  return (mac: string, atMs: number): string | undefined => {
    const person = spans.get(mac)?.find((m) => m.fromMs <= atMs && atMs < m.toMs)?.person;
    if (person === undefined) return undefined;
    return intervals.get(person)?.find((iv) => iv.startMs <= atMs && atMs < iv.endMs)?.zoneId;
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = runEngineEval(process.argv.slice(2));
  process.stdout.write(
    `${new Date(r.fromMs).toISOString()} → ${new Date(r.toMs).toISOString()}: ${r.readings} WiFi readings, ` +
      `engine ${r.engineSec.toFixed(1)} s\n${metricsTable(r.metrics)}\n`,
  );
}
