// A deterministic agent-based mall: shoppers arrive, walk the zone graph, dwell in shops and
// leave, while their phones probe for WiFi and the mall's sensors hear them. Pure: no I/O, no
// timers, no Math.random, no Date.now. Everything is a function of (layout, options, the
// sequence of `step` calls) — and in fact not even of how time is sliced into steps (below).
//
// Shopper lifecycle (one state machine per shopper, event-driven with millisecond resolution):
//
//   arrive ──> in zone Z until leaveZoneAtMs ──┬─ Z is not the target ──> next hop toward target
//     (at an entrance,     (position drawn     ├─ Z is the target shop ──> next shop in the plan, or
//      Poisson arrivals)    at random in Z)    │                           head for the exit entrance
//                                              └─ Z is the exit entrance, leaving ──> gone
//
//   Time spent in Z: a shop that is the target → dwell (log-normal by category); an escalator or
//   lift → ride/wait time; anything else → crossing time (zone size / walking speed), with a small
//   chance of lingering in a corridor or atrium.
//
// Each phone, independently of the walk:
//   every probe interval (20-60 s, fixed per phone, ±10 % jitter) → a burst of 1-3 probe frames,
//     each heard by every WiFi sensor on the shopper's floor within range, subject to loss.
//   randomized phones: new locally-administered MAC (and a fresh sequence number) every ~15 min.
//
// Why per-shopper random streams: every shopper owns a generator seeded from (seed, arrival
// index), and processes its own events in time order. Shoppers never interact, so the output of
// step(t1); step(t2) equals that of step(t2) alone — the simulation does not depend on the
// caller's tick size, which keeps live runs and tests comparable.

import type { Layout, Zone, ZoneId } from '../../core/src/index.ts';
import { pointInPolygon } from '../../core/src/index.ts';
import type { Rng } from './rng.ts';
import {
  chance,
  createRng,
  deriveSeed,
  exponential,
  int,
  lognormal,
  normal,
  pickWeighted,
  uniform,
} from './rng.ts';

/** One probe frame heard by one sensor, before the gateway: the MAC is still raw. */
export interface RawWifiSighting {
  sensorId: string;
  /** Epoch ms. */
  heardAt: number;
  /** Integer dBm. */
  rssiDbm: number;
  /** Raw transmitter MAC, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** 12-bit 802.11 sequence number (0-4095), per phone, incremented per frame. */
  frameSeq: number;
}

/** Radio model: rssi = txDbmAt1m - 10·exponent·log10(max(d, 1 m)) + offsets + N(0, noiseSigmaDb). */
export interface PathLossOptions {
  /** Received power at 1 m, dBm. */
  txDbmAt1m: number;
  /** Log-distance path-loss exponent (2 = free space; indoors 2.5-3.5). */
  exponent: number;
  noiseSigmaDb: number;
  /** Fixed per-sensor gain offset, drawn once from N(0, sensorOffsetSigmaDb). */
  sensorOffsetSigmaDb: number;
  /** Fixed per-phone transmit-power offset, drawn once from N(0, phoneOffsetSigmaDb). */
  phoneOffsetSigmaDb: number;
  /** Share of frames a sensor misses, 0-1. */
  lossRate: number;
  /** Sensitivity: weaker frames are not heard. */
  minRssiDbm: number;
  /** Sensors farther than this never hear the phone (walls, floor plates). */
  maxRangeM: number;
}

export const DEFAULT_PATH_LOSS: Readonly<PathLossOptions> = Object.freeze({
  txDbmAt1m: -40,
  exponent: 2.8,
  noiseSigmaDb: 4,
  sensorOffsetSigmaDb: 2,
  phoneOffsetSigmaDb: 3,
  lossRate: 0.1,
  minRssiDbm: -92,
  maxRangeM: 35,
});

export interface MallSimOptions {
  /** A layout that passed core's validateLayout. */
  layout: Layout;
  /** Any integer up to 2^53; the same seed and inputs always give the same output. */
  seed: number;
  /** Simulated start time, epoch ms. The mall starts empty. */
  startMs: number;
  /** Mean Poisson arrival rate. Default: `defaultArrivalsPerHour(layout)`. */
  arrivalsPerHour?: number;
  /** Share of phones using rotating, locally-administered MACs, 0-1. Default 0.3. */
  randomizedMacShare?: number;
  /** Mean time between MAC rotations of a randomized phone (±20 % per rotation). Default 15 min. */
  macRotationMs?: number;
  pathLoss?: Partial<PathLossOptions>;
}

export interface MallSim {
  /**
   * Advances the world to `untilMs` and returns the sightings heard in [previous now, untilMs),
   * sorted by heardAt (ties by mac, then sensorId). A `untilMs` not after the current time
   * returns [] and changes nothing.
   */
  step(untilMs: number): RawWifiSighting[];
  /** Current simulated time, epoch ms. */
  nowMs(): number;
  shoppersInside(): number;
  /** Ground truth: shoppers per zone right now, every zone of the layout included (0 when empty). */
  truthOccupancy(): Map<ZoneId, number>;
}

export class InvalidSimOptionsError extends Error {
  readonly code = 'INVALID_SIM_OPTIONS';
}

export const DEFAULT_RANDOMIZED_MAC_SHARE = 0.3;
export const DEFAULT_MAC_ROTATION_MS = 15 * 60_000;

/** Receivers saturate: nothing reads stronger than this however close the phone. */
const MAX_RSSI_DBM = -20;
const WALK_SPEED_MPS = 1.2;
const PROBE_INTERVAL_MIN_MS = 20_000;
const PROBE_INTERVAL_MAX_MS = 60_000;
/** Gap between the frames of one probe burst (one per channel hop), ms. */
const FRAME_GAP_MS = 20;
const ESCALATOR_RIDE_MS = 30_000;
const LIFT_RIDE_MS = 15_000;
const LIFT_MEAN_WAIT_MS = 40_000;
/** Share of shoppers who take lifts rather than escalators. */
const LIFT_USER_SHARE = 0.12;
/** Chance that a shopper crossing a corridor or atrium stops for a while (window shopping, a bench). */
const LINGER_CHANCE = 0.08;
const LINGER_MEAN_MS = 3 * 60_000;
const MAX_DWELL_MS = 4 * 3_600_000;
/** Mean number of shops visited beyond the first; capped at MAX_SHOPS_PER_VISIT. */
const EXTRA_SHOPS_MEAN = 1.8;
const MAX_SHOPS_PER_VISIT = 7;
/** Chance a shopper leaves by the entrance they came in through (else a random one). */
const SAME_EXIT_CHANCE = 0.7;

/** Dwell per shop category: median minutes and log-normal sigma. Restaurants and films run long. */
const DWELL_BY_CATEGORY: Readonly<Record<string, { medianMin: number; sigma: number }>> = {
  fashion: { medianMin: 9, sigma: 0.6 },
  food: { medianMin: 22, sigma: 0.5 },
  cinema: { medianMin: 120, sigma: 0.12 },
  kids: { medianMin: 15, sigma: 0.6 },
  sports: { medianMin: 10, sigma: 0.6 },
  beauty: { medianMin: 8, sigma: 0.6 },
  electronics: { medianMin: 10, sigma: 0.6 },
  supermarket: { medianMin: 20, sigma: 0.45 },
  health: { medianMin: 7, sigma: 0.6 },
  services: { medianMin: 8, sigma: 0.7 },
};
const DEFAULT_DWELL = { medianMin: 8, sigma: 0.6 };

/** How likely a shop is to be on a shopper's list, relative to its size. */
const CATEGORY_APPEAL: Readonly<Record<string, number>> = {
  cinema: 0.35,
  supermarket: 1.4,
  food: 1.2,
};

/** OUIs of the kind phone vendors use; all universally administered (bits 0x02 and 0x01 clear). */
const PHONE_OUIS = [
  'a4:83:e7',
  'f0:18:98',
  '3c:22:fb',
  '8c:f5:a3',
  '64:cc:2e',
  'ac:bc:32',
  '98:09:cf',
  '40:4e:36',
];

const STREAM_ARRIVALS = 1;
const STREAM_SENSORS = 2;
const STREAM_SHOPPER = 3;

/** Per-shopper state; numbers only besides the rng and MAC, updated in place. */
interface Shopper {
  rng: Rng;
  /** Index into the zone tables. */
  zone: number;
  x: number;
  y: number;
  leaveZoneAtMs: number;
  /** Zone the shopper is heading for (a shop in the plan, or the exit). */
  target: number;
  plan: Int32Array;
  planIdx: number;
  routes: Routes;
  exitZone: number;
  leaving: boolean;
  gone: boolean;
  speedMps: number;
  mac: string;
  randomized: boolean;
  macRotateAtMs: number;
  probeIntervalMs: number;
  nextProbeMs: number;
  frameSeq: number;
  txOffsetDb: number;
}

/**
 * A default arrival rate sized to the layout: one arrival per hour for every 16 places of shop
 * capacity. Visits average just under an hour, so joy-city (5136 places, 321 arrivals/h) holds
 * ~200 shoppers after the first hour and ~300 once it has filled (after ~2 h).
 */
export function defaultArrivalsPerHour(layout: Layout): number {
  let capacity = 0;
  for (const zone of layout.zones) if (zone.kind === 'store') capacity += zone.capacity;
  return Math.max(1, Math.round(capacity / 16));
}

function bbox(zone: Zone): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (const [x, y] of zone.polygon) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { x0, y0, x1, y1 };
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

function stableMac(rng: Rng): string {
  const oui = PHONE_OUIS[Math.floor(rng.next() * PHONE_OUIS.length)]!;
  return `${oui}:${hex2(int(rng, 0, 255))}:${hex2(int(rng, 0, 255))}:${hex2(int(rng, 0, 255))}`;
}

/** Locally administered (0x02 set), unicast (0x01 clear), the rest random: what phones send. */
function randomMac(rng: Rng): string {
  let mac = hex2((int(rng, 0, 255) & 0xfc) | 0x02);
  for (let i = 0; i < 5; i++) mac += `:${hex2(int(rng, 0, 255))}`;
  return mac;
}

function byHeardAt(a: RawWifiSighting, b: RawWifiSighting): number {
  if (a.heardAt !== b.heardAt) return a.heardAt - b.heardAt;
  if (a.mac !== b.mac) return a.mac < b.mac ? -1 : 1;
  if (a.sensorId !== b.sensorId) return a.sensorId < b.sensorId ? -1 : 1;
  return a.frameSeq - b.frameSeq;
}

interface Routes {
  /** dist[i * n + j]: planning cost from zone i to zone j, seconds (Infinity when unreachable). */
  dist: Float64Array;
  /** nextHop[i * n + j]: the neighbour of i to walk into on the way to j (-1 when unreachable). */
  nextHop: Int32Array;
}

/** All-pairs shortest routes over the zone graph (Floyd-Warshall: zones number in the hundreds at most). */
function computeRoutes(
  layout: Layout,
  zoneIndex: ReadonlyMap<string, number>,
  costS: (i: number) => number,
): Routes {
  const n = layout.zones.length;
  const dist = new Float64Array(n * n).fill(Number.POSITIVE_INFINITY);
  const nextHop = new Int32Array(n * n).fill(-1);
  for (let i = 0; i < n; i++) {
    dist[i * n + i] = 0;
    nextHop[i * n + i] = i;
    for (const id of layout.neighbours.get(layout.zones[i]!.id) ?? []) {
      const j = zoneIndex.get(id);
      if (j === undefined) continue;
      dist[i * n + j] = (costS(i) + costS(j)) / 2;
      nextHop[i * n + j] = j;
    }
  }
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      const dik = dist[i * n + k]!;
      if (dik === Number.POSITIVE_INFINITY) continue;
      for (let j = 0; j < n; j++) {
        const d = dik + dist[k * n + j]!;
        if (d < dist[i * n + j]!) {
          dist[i * n + j] = d;
          nextHop[i * n + j] = nextHop[i * n + k]!;
        }
      }
    }
  }
  return { dist, nextHop };
}

function checkOptions(options: MallSimOptions): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(options.seed) || options.seed < 0)
    problems.push('seed: must be a non-negative safe integer');
  if (!Number.isFinite(options.startMs)) problems.push('startMs: must be a finite epoch-ms number');
  const rate = options.arrivalsPerHour;
  if (rate !== undefined && !(Number.isFinite(rate) && rate >= 0))
    problems.push('arrivalsPerHour: must be >= 0');
  const share = options.randomizedMacShare;
  if (share !== undefined && !(share >= 0 && share <= 1))
    problems.push('randomizedMacShare: must be within 0..1');
  const rot = options.macRotationMs;
  if (rot !== undefined && !(Number.isFinite(rot) && rot > 0)) problems.push('macRotationMs: must be > 0');
  const pl = options.pathLoss ?? {};
  for (const [key, value] of Object.entries(pl)) {
    if (value !== undefined && !Number.isFinite(value))
      problems.push(`pathLoss.${key}: must be a finite number`);
  }
  if (pl.lossRate !== undefined && !(pl.lossRate >= 0 && pl.lossRate <= 1)) {
    problems.push('pathLoss.lossRate: must be within 0..1');
  }
  const entrances = options.layout.zones.filter((z) => z.kind === 'entrance');
  if (entrances.length === 0) problems.push('layout: has no entrance zone');
  return problems;
}

/**
 * Creates a mall simulation starting empty at `startMs`. Throws InvalidSimOptionsError (listing
 * every problem) on bad options.
 */
export function createMallSim(options: MallSimOptions): MallSim {
  const problems = checkOptions(options);
  if (problems.length > 0)
    throw new InvalidSimOptionsError(`invalid mall simulation options: ${problems.join('; ')}`);

  const { layout, seed } = options;
  const radio: PathLossOptions = { ...DEFAULT_PATH_LOSS, ...options.pathLoss };
  const arrivalsPerHour = options.arrivalsPerHour ?? defaultArrivalsPerHour(layout);
  const randomizedShare = options.randomizedMacShare ?? DEFAULT_RANDOMIZED_MAC_SHARE;
  const macRotationMs = options.macRotationMs ?? DEFAULT_MAC_ROTATION_MS;
  const maxRange2 = radio.maxRangeM * radio.maxRangeM;
  const slope = 10 * radio.exponent;

  // ---- Zone tables (index-based, built once) ----
  const zones = layout.zones;
  const n = zones.length;
  const zoneIndex = new Map<string, number>(zones.map((z, i) => [z.id, i]));
  const floorIds = [...new Set(zones.map((z) => z.floor))];
  const zoneFloor = new Int32Array(n);
  const zx0 = new Float64Array(n);
  const zy0 = new Float64Array(n);
  const zw = new Float64Array(n);
  const zh = new Float64Array(n);
  const crossM = new Float64Array(n);
  const isRect = new Uint8Array(n);
  zones.forEach((zone, i) => {
    const b = bbox(zone);
    zoneFloor[i] = floorIds.indexOf(zone.floor);
    zx0[i] = b.x0;
    zy0[i] = b.y0;
    zw[i] = b.x1 - b.x0;
    zh[i] = b.y1 - b.y0;
    crossM[i] = (zw[i]! + zh[i]!) / 2;
    const corners = new Set(zone.polygon.map(([x, y]) => `${x},${y}`));
    isRect[i] =
      zone.polygon.length === 4 &&
      corners.has(`${b.x0},${b.y0}`) &&
      corners.has(`${b.x1},${b.y0}`) &&
      corners.has(`${b.x1},${b.y1}`) &&
      corners.has(`${b.x0},${b.y1}`)
        ? 1
        : 0;
  });

  /** Nominal seconds to pass through zone i, for route planning. */
  const transitCostS = (i: number, preferLift: boolean): number => {
    const kind = zones[i]!.kind;
    // A lift user (pram, wheelchair, luggage) avoids escalators unless there is no other way.
    if (kind === 'escalator') return (ESCALATOR_RIDE_MS / 1000) * (preferLift ? 20 : 1);
    if (kind === 'lift') return (LIFT_RIDE_MS + LIFT_MEAN_WAIT_MS) / 1000;
    // Cutting through a shop is possible (small-store areas open into each other) but unattractive.
    return (crossM[i]! / WALK_SPEED_MPS) * (kind === 'store' ? 3 : 1);
  };
  const routes = computeRoutes(layout, zoneIndex, (i) => transitCostS(i, false));
  const liftRoutes = computeRoutes(layout, zoneIndex, (i) => transitCostS(i, true));

  const entranceIdx: number[] = [];
  const entranceWeight: number[] = [];
  const shopIdx: number[] = [];
  zones.forEach((zone, i) => {
    if (zone.kind === 'entrance') {
      entranceIdx.push(i);
      entranceWeight.push(zone.capacity);
    } else if (zone.kind === 'store') shopIdx.push(i);
  });
  const shopAppeal = shopIdx.map(
    (i) => Math.sqrt(zones[i]!.capacity) * (CATEGORY_APPEAL[zones[i]!.category ?? ''] ?? 1),
  );
  const dwellMu = new Float64Array(n);
  const dwellSigma = new Float64Array(n);
  zones.forEach((zone, i) => {
    const d = DWELL_BY_CATEGORY[zone.category ?? ''] ?? DEFAULT_DWELL;
    dwellMu[i] = Math.log(d.medianMin * 60_000);
    dwellSigma[i] = d.sigma;
  });

  // ---- Sensors: WiFi-capable ones, grouped by floor, with fixed gain offsets ----
  const sensorRng = createRng(deriveSeed(seed, STREAM_SENSORS));
  const floorSensorIds: string[][] = floorIds.map(() => []);
  const floorSensorXs: number[][] = floorIds.map(() => []);
  const floorSensorYs: number[][] = floorIds.map(() => []);
  const floorSensorGain: number[][] = floorIds.map(() => []);
  for (const sensor of layout.sensors) {
    const gain = normal(sensorRng, 0, radio.sensorOffsetSigmaDb); // drawn for every sensor: stable offsets
    if (sensor.kind !== 'wifi' && sensor.kind !== 'wifi+ble') continue;
    const f = floorIds.indexOf(sensor.floor);
    if (f < 0) continue; // a floor without zones: no shopper can be there
    floorSensorIds[f]!.push(sensor.id);
    floorSensorXs[f]!.push(sensor.x);
    floorSensorYs[f]!.push(sensor.y);
    floorSensorGain[f]!.push(radio.txDbmAt1m + gain);
  }
  const sensorIds = floorSensorIds;
  const sensorXs = floorSensorXs.map((a) => Float64Array.from(a));
  const sensorYs = floorSensorYs.map((a) => Float64Array.from(a));
  const sensorBase = floorSensorGain.map((a) => Float64Array.from(a));

  // ---- World state ----
  let now = options.startMs;
  const arrivalRng = createRng(deriveSeed(seed, STREAM_ARRIVALS));
  const meanGapMs = 3_600_000 / arrivalsPerHour;
  let nextArrivalMs =
    arrivalsPerHour > 0
      ? options.startMs + Math.round(exponential(arrivalRng, meanGapMs))
      : Number.POSITIVE_INFINITY;
  let arrivals = 0;
  let shoppers: Shopper[] = [];
  const counts = new Int32Array(n);

  function placeIn(s: Shopper, z: number): void {
    const rng = s.rng;
    const x0 = zx0[z]!;
    const y0 = zy0[z]!;
    // Keep a metre off the walls where the zone is big enough, so positions read as "inside".
    const mx = zw[z]! > 4 ? 1 : 0;
    const my = zh[z]! > 4 ? 1 : 0;
    if (isRect[z] === 1) {
      s.x = uniform(rng, x0 + mx, x0 + zw[z]! - mx);
      s.y = uniform(rng, y0 + my, y0 + zh[z]! - my);
      return;
    }
    const polygon = zones[z]!.polygon;
    for (let tries = 0; tries < 32; tries++) {
      const x = uniform(rng, x0, x0 + zw[z]!);
      const y = uniform(rng, y0, y0 + zh[z]!);
      if (pointInPolygon(x, y, polygon)) {
        s.x = x;
        s.y = y;
        return;
      }
    }
    s.x = x0 + zw[z]! / 2; // a sliver of a polygon: fall back to its box centre
    s.y = y0 + zh[z]! / 2;
  }

  /** Milliseconds spent in zone z before moving on, drawn on entering it. */
  function stayMs(s: Shopper, z: number): number {
    const kind = zones[z]!.kind;
    if (z === s.target && kind === 'store') {
      return Math.min(MAX_DWELL_MS, lognormal(s.rng, dwellMu[z]!, dwellSigma[z]!));
    }
    if (kind === 'escalator') return ESCALATOR_RIDE_MS * uniform(s.rng, 0.8, 1.2);
    if (kind === 'lift') return LIFT_RIDE_MS + exponential(s.rng, LIFT_MEAN_WAIT_MS);
    let ms = (crossM[z]! / s.speedMps) * 1000 * uniform(s.rng, 0.7, 1.3);
    if ((kind === 'corridor' || kind === 'atrium') && chance(s.rng, LINGER_CHANCE)) {
      ms += exponential(s.rng, LINGER_MEAN_MS);
    }
    return ms;
  }

  function enter(s: Shopper, z: number, atMs: number): void {
    counts[s.zone]!--;
    s.zone = z;
    counts[z]!++;
    placeIn(s, z);
    s.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(s, z)));
  }

  /** The shopper's stay in its zone ended at atMs: pick what comes next. */
  function move(s: Shopper, atMs: number): void {
    if (s.zone === s.target) {
      if (s.leaving) {
        counts[s.zone]!--;
        s.gone = true;
        return;
      }
      s.planIdx++;
      if (s.planIdx < s.plan.length) s.target = s.plan[s.planIdx]!;
      else {
        s.leaving = true;
        s.target = s.exitZone;
      }
      if (s.zone === s.target) {
        // Already standing in the next target (only possible for the exit): stay a crossing time.
        s.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(s, s.zone)));
        return;
      }
    }
    // Always >= 0: plans only hold shops reachable from the entrance, and the exit is reachable too.
    enter(s, s.routes.nextHop[s.zone * n + s.target]!, atMs);
  }

  function spawn(atMs: number): void {
    const rng = createRng(deriveSeed(seed, STREAM_SHOPPER, arrivals++));
    const entrance = entranceIdx[pickWeighted(rng, entranceWeight)]!;
    const shopperRoutes = chance(rng, LIFT_USER_SHARE) ? liftRoutes : routes;
    const dist = shopperRoutes.dist;
    // Plan: weighted choice of shops without replacement, reachable from the entrance, then
    // ordered greedily nearest-first so the walk looks like a route rather than a random tour.
    const wanted = 1 + Math.min(MAX_SHOPS_PER_VISIT - 1, Math.floor(exponential(rng, EXTRA_SHOPS_MEAN)));
    const weights = shopAppeal.map((w, k) =>
      dist[entrance * n + shopIdx[k]!]! < Number.POSITIVE_INFINITY ? w : 0,
    );
    const chosen: number[] = [];
    while (chosen.length < wanted) {
      const k = pickWeighted(rng, weights);
      if (k < 0) break;
      weights[k] = 0;
      chosen.push(shopIdx[k]!);
    }
    const plan = new Int32Array(chosen.length);
    let from = entrance;
    for (let p = 0; p < plan.length; p++) {
      let best = 0;
      for (let c = 1; c < chosen.length; c++) {
        if (dist[from * n + chosen[c]!]! < dist[from * n + chosen[best]!]!) best = c;
      }
      plan[p] = chosen[best]!;
      from = chosen[best]!;
      chosen.splice(best, 1);
    }
    const otherExit = chance(rng, SAME_EXIT_CHANCE)
      ? entrance
      : entranceIdx[pickWeighted(rng, entranceWeight)]!;
    // Entrances in separate parts of a layout (each validly reachable from its own door): come back out the same way.
    const exitZone = dist[entrance * n + otherExit]! < Number.POSITIVE_INFINITY ? otherExit : entrance;
    const randomized = chance(rng, randomizedShare);
    const probeIntervalMs = Math.round(uniform(rng, PROBE_INTERVAL_MIN_MS, PROBE_INTERVAL_MAX_MS));
    const s: Shopper = {
      rng,
      zone: entrance,
      x: 0,
      y: 0,
      leaveZoneAtMs: atMs,
      target: plan.length > 0 ? plan[0]! : exitZone,
      plan,
      planIdx: 0,
      routes: shopperRoutes,
      exitZone,
      leaving: plan.length === 0,
      gone: false,
      speedMps: Math.min(1.8, Math.max(0.6, normal(rng, WALK_SPEED_MPS, 0.2))),
      mac: randomized ? randomMac(rng) : stableMac(rng),
      randomized,
      // The phone's rotation cycle began before the shopper walked in.
      macRotateAtMs: randomized
        ? atMs + Math.round(uniform(rng, 0, macRotationMs))
        : Number.POSITIVE_INFINITY,
      probeIntervalMs,
      nextProbeMs: atMs + Math.round(uniform(rng, 0, probeIntervalMs)),
      frameSeq: int(rng, 0, 4095),
      txOffsetDb: normal(rng, 0, radio.phoneOffsetSigmaDb),
    };
    counts[entrance]!++;
    placeIn(s, entrance);
    s.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(s, entrance)));
    shoppers.push(s);
  }

  function probe(s: Shopper, atMs: number, out: RawWifiSighting[]): void {
    const rng = s.rng;
    const f = zoneFloor[s.zone]!;
    const ids = sensorIds[f]!;
    const xs = sensorXs[f]!;
    const ys = sensorYs[f]!;
    const base = sensorBase[f]!;
    const frames = int(rng, 1, 3);
    for (let k = 0; k < frames; k++) {
      s.frameSeq = (s.frameSeq + 1) & 0xfff;
      const heardAt = atMs + k * FRAME_GAP_MS;
      for (let i = 0; i < ids.length; i++) {
        const dx = xs[i]! - s.x;
        const dy = ys[i]! - s.y;
        const d2 = dx * dx + dy * dy;
        if (d2 > maxRange2) continue;
        if (rng.next() < radio.lossRate) continue;
        const d = d2 > 1 ? Math.sqrt(d2) : 1;
        const rssi = Math.round(
          base[i]! + s.txOffsetDb - slope * Math.log10(d) + normal(rng, 0, radio.noiseSigmaDb),
        );
        if (rssi < radio.minRssiDbm) continue;
        out.push({
          sensorId: ids[i]!,
          heardAt,
          rssiDbm: Math.min(rssi, MAX_RSSI_DBM),
          mac: s.mac,
          frameSeq: s.frameSeq,
        });
      }
    }
    s.nextProbeMs = atMs + Math.max(1, Math.round(s.probeIntervalMs * uniform(rng, 0.9, 1.1)));
  }

  /** Runs one shopper's events with time < untilMs, in time order. */
  function advance(s: Shopper, untilMs: number, out: RawWifiSighting[]): void {
    while (!s.gone) {
      const tMove = s.leaveZoneAtMs;
      const tProbe = s.nextProbeMs;
      const tRotate = s.macRotateAtMs;
      if (tRotate <= tProbe && tRotate <= tMove) {
        if (tRotate >= untilMs) return;
        s.mac = randomMac(s.rng);
        s.frameSeq = int(s.rng, 0, 4095); // phones reset the sequence counter with the MAC
        s.macRotateAtMs = tRotate + Math.round(macRotationMs * uniform(s.rng, 0.8, 1.2));
      } else if (tProbe <= tMove) {
        if (tProbe >= untilMs) return;
        probe(s, tProbe, out);
      } else {
        if (tMove >= untilMs) return;
        move(s, tMove);
      }
    }
  }

  function step(untilMs: number): RawWifiSighting[] {
    if (!(untilMs > now)) return [];
    const out: RawWifiSighting[] = [];
    for (const s of shoppers) advance(s, untilMs, out);
    while (nextArrivalMs < untilMs) {
      spawn(nextArrivalMs);
      advance(shoppers[shoppers.length - 1]!, untilMs, out);
      nextArrivalMs += Math.max(1, Math.round(exponential(arrivalRng, meanGapMs)));
    }
    if (shoppers.some((s) => s.gone)) shoppers = shoppers.filter((s) => !s.gone);
    now = untilMs;
    out.sort(byHeardAt);
    return out;
  }

  return {
    step,
    nowMs: () => now,
    shoppersInside: () => shoppers.length,
    truthOccupancy: () => new Map(zones.map((z, i) => [z.id, counts[i]!])),
  };
}
