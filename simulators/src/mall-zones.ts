// Zone tables of a layout, index-based and built once per simulation: each zone's box, kind
// flags and door, the entrance / shop / outside lists with their weights, dwell parameters per
// shop, and the all-pairs routes walkers (and lift users) follow.

import type { Layout, Zone } from '../../core/src/index.ts';
import { CATEGORY_APPEAL, DEFAULT_DWELL, DWELL_BY_CATEGORY } from './visit-habits.ts';

const MINUTE_MS = 60_000;

export const WALK_SPEED_MPS = 1.2;
export const ESCALATOR_RIDE_MS = 30_000;
export const LIFT_RIDE_MS = 15_000;
export const LIFT_MEAN_WAIT_MS = 40_000;
export const LIFT_MAX_WAIT_MS = 3 * MINUTE_MS;

export interface Routes {
  /** dist[i * n + j]: planning cost from zone i to zone j, seconds (Infinity when unreachable). */
  dist: Float64Array;
  /** nextHop[i * n + j]: the neighbour of i to walk into on the way to j (-1 when unreachable). */
  nextHop: Int32Array;
}

export interface ZoneTables {
  zones: readonly Zone[];
  /** Number of zones; zone indices run 0 .. n - 1 in layout order. */
  n: number;
  zoneIndex: ReadonlyMap<string, number>;
  /** Bounding box: corner (zx0, zy0), width zw, height zh, metres. */
  zx0: Float64Array;
  zy0: Float64Array;
  zw: Float64Array;
  zh: Float64Array;
  /** Typical distance walked across the zone, metres. */
  crossM: Float64Array;
  isRect: Uint8Array;
  isStore: Uint8Array;
  isOutside: Uint8Array;
  isCirculation: Uint8Array;
  /** Walking routes, and the routes of lift users (who avoid escalators). */
  routes: Routes;
  liftRoutes: Routes;
  entranceIdx: number[];
  entranceWeight: number[];
  shopIdx: number[];
  outsideIdx: number[];
  outsideWeight: number[];
  /** The outside zone in front of each entrance (-1: none). */
  outsideOf: Int32Array;
  /** Where an outside zone's door is (set for outside zones in front of an entrance). */
  doorX: Float64Array;
  doorY: Float64Array;
  /** Per shop (parallel to shopIdx): appeal, category, capacity. */
  shopAppeal: number[];
  shopCategory: (string | undefined)[];
  shopCapacityWeight: number[];
  /** Per zone: log-normal dwell parameters (of ms) for a stay in it as a target shop. */
  dwellMu: Float64Array;
  dwellSigma: Float64Array;
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

/** Builds the zone tables of a layout (every zone, in layout order). */
export function buildZoneTables(layout: Layout): ZoneTables {
  const zones = layout.zones;
  const n = zones.length;
  const zoneIndex = new Map<string, number>(zones.map((z, i) => [z.id, i]));
  const zx0 = new Float64Array(n);
  const zy0 = new Float64Array(n);
  const zw = new Float64Array(n);
  const zh = new Float64Array(n);
  const crossM = new Float64Array(n);
  const isRect = new Uint8Array(n);
  const isStore = new Uint8Array(n);
  const isOutside = new Uint8Array(n);
  const isCirculation = new Uint8Array(n);
  zones.forEach((zone, i) => {
    const b = bbox(zone);
    zx0[i] = b.x0;
    zy0[i] = b.y0;
    zw[i] = b.x1 - b.x0;
    zh[i] = b.y1 - b.y0;
    crossM[i] = (zw[i]! + zh[i]!) / 2;
    isStore[i] = zone.kind === 'store' ? 1 : 0;
    isOutside[i] = zone.kind === 'outside' ? 1 : 0;
    isCirculation[i] = zone.kind === 'corridor' || zone.kind === 'atrium' ? 1 : 0;
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
  const outsideIdx: number[] = [];
  const outsideWeight: number[] = [];
  zones.forEach((zone, i) => {
    if (zone.kind === 'entrance') {
      entranceIdx.push(i);
      entranceWeight.push(zone.capacity);
    } else if (zone.kind === 'store') shopIdx.push(i);
    else if (zone.kind === 'outside') {
      outsideIdx.push(i);
      outsideWeight.push(zone.capacity);
    }
  });
  // The outside zone in front of each entrance (-1: none), and where its door is.
  const outsideOf = new Int32Array(n).fill(-1);
  const doorX = new Float64Array(n);
  const doorY = new Float64Array(n);
  for (const e of entranceIdx) {
    for (const id of layout.neighbours.get(zones[e]!.id) ?? []) {
      const o = zoneIndex.get(id);
      if (o === undefined || isOutside[o] !== 1) continue;
      outsideOf[e] = o;
      // The point of the outside zone's box nearest the entrance's centre: the door, roughly.
      const ex = zx0[e]! + zw[e]! / 2;
      const ey = zy0[e]! + zh[e]! / 2;
      doorX[o] = Math.min(Math.max(ex, zx0[o]!), zx0[o]! + zw[o]!);
      doorY[o] = Math.min(Math.max(ey, zy0[o]!), zy0[o]! + zh[o]!);
      break;
    }
  }
  const shopAppeal = shopIdx.map(
    (i) => Math.sqrt(zones[i]!.capacity) * (CATEGORY_APPEAL[zones[i]!.category ?? ''] ?? 1),
  );
  const shopCategory = shopIdx.map((i) => zones[i]!.category);
  const shopCapacityWeight = shopIdx.map((i) => zones[i]!.capacity);
  const dwellMu = new Float64Array(n);
  const dwellSigma = new Float64Array(n);
  zones.forEach((zone, i) => {
    const d = DWELL_BY_CATEGORY[zone.category ?? ''] ?? DEFAULT_DWELL;
    dwellMu[i] = Math.log(d.medianMin * 60_000);
    dwellSigma[i] = d.sigma;
  });
  return {
    zones,
    n,
    zoneIndex,
    zx0,
    zy0,
    zw,
    zh,
    crossM,
    isRect,
    isStore,
    isOutside,
    isCirculation,
    routes,
    liftRoutes,
    entranceIdx,
    entranceWeight,
    shopIdx,
    outsideIdx,
    outsideWeight,
    outsideOf,
    doorX,
    doorY,
    shopAppeal,
    shopCategory,
    shopCapacityWeight,
    dwellMu,
    dwellSigma,
  };
}
