import { type Layout, pointInPolygon } from './layout.ts';
import { RADIO_SCORE_WASM } from './radio-score-wasm.ts';

// Where in the layout a burst was most likely sent from: a radio map built from the layout alone
// (no site survey). Each zone is sampled on a grid; for each grid point the expected RSSI at every
// sensor of its floor within range follows the log-distance path-loss model,
//   expected = −10·n·log10(max(d, 1 m)) + walls,
// with one wall between the phone's zone and a sensor in another zone, and a second one when
// neither zone is a corridor or atrium (shop to shop, shop to street). A burst's readings are
// compared with each point: the phone's transmit power is unknown, so the mean difference is
// taken out, and the rest is the misfit. A zone's score is the best fit over its points,
//   score(z) = −min_p Σ_s (r_s − expected_p,s − offset_p)² / (2σ²),
// so a phone at a store's front that reads a little stronger on the corridor sensor than on the
// store's still fits the store: the corridor's points do not explain how the neighbouring stores
// heard it. Readings from sensors the map does not know leave the burst to the simpler per-zone
// rule (zone-estimator.ts).

export interface RadioMapOptions {
  /** Log-distance path-loss exponent (2 = free space; indoors 2.5-3.5). */
  pathLossExponent: number;
  /** Loss through one wall or shop front, dB (negative). */
  wallDb: number;
  /** Added loss when neither zone is a corridor or atrium (a second wall), dB (negative or 0). */
  extraWallDb: number;
  /** Sensors farther than this never hear a phone, m. */
  maxRangeM: number;
  /** Grid step of the sample points, m. */
  gridStepM: number;
  /** Spread of one reading around the model (noise, fading, sensor gain), dB. */
  sigmaDb: number;
}

export const DEFAULT_RADIO_MAP: Readonly<RadioMapOptions> = Object.freeze({
  pathLossExponent: 3,
  wallDb: -6,
  extraWallDb: -3,
  maxRangeM: 40,
  gridStepM: 3,
  sigmaDb: 5,
});

export interface RadioMap {
  /** Sensor index by id (WiFi-capable sensors with a position). */
  sensorIndex: Map<string, number>;
  /**
   * Per zone (layout order): its sample points' expected levels, point-major, one row per point
   * holding only the sensors that can hear some point of the zone (`zoneSlot`); NaN where the
   * sensor cannot hear that point. Rows this narrow keep a burst's scoring in cache.
   */
  zoneLevels: Float64Array[];
  /** Per zone, per sensor: its column in the zone's rows, -1 when it hears no point of the zone. */
  zoneSlot: Int16Array[];
  /** Per zone: the columns per row. */
  zoneWidth: Int32Array;
  /**
   * Per zone, per point: bit c set when column c (< 32) is in range of the point. A burst rules
   * out every point out of range of one of its sensors (about half the points it would fit):
   * one test skips them.
   */
  zoneInRange: Uint32Array[];
  /** Per sensor: the zones (ascending) it can hear some point of. */
  sensorZones: Int32Array[];
  /** WiFi-capable sensors on the map. */
  sensors: number;
  /** 1 / (2σ²). */
  inverseTwoVar: number;
  /** The scoring loop (radio-score.wat), whose memory holds the zones' levels and in-range bits. */
  scorer: Scorer;
}

interface Scorer {
  bestMisfit(
    levels: number,
    inRange: number,
    points: number,
    width: number,
    heard: number,
    needed: number,
    cols: number,
    r: number,
  ): number;
  /** Byte offsets in the scorer's memory: each zone's levels and in-range bits. */
  levelsAt: Int32Array;
  inRangeAt: Int32Array;
  /** A burst's readings are written here once (`loadReadings`), its columns for each zone scored (one entry per sensor). */
  cols: Int32Array;
  readings: Float64Array;
}

// The few WebAssembly types used (the project's TypeScript lib has no DOM, which declares them).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Compiled once: each map instantiates it with a memory of its own. */
const scoreModule = new wasm.Module(Uint8Array.from(atob(RADIO_SCORE_WASM), (c) => c.charCodeAt(0)));

const CIRCULATION = new Set(['corridor', 'atrium']);

/** Builds the map for a validated layout (zones in layout order, as in ZoneGraph). */
export function createRadioMap(
  layout: Pick<Layout, 'zones' | 'sensors'>,
  options: Partial<RadioMapOptions> = {},
): RadioMap {
  const o = { ...DEFAULT_RADIO_MAP, ...options };
  const sensors = layout.sensors.filter((s) => s.kind !== 'scale');
  const kindOf = new Map(layout.zones.map((z) => [z.id, z.kind]));
  const zoneSlot: Int16Array[] = [];
  const zoneInRange: Uint32Array[] = [];
  const zoneWidth = new Int32Array(layout.zones.length);
  const zoneLevels = layout.zones.map((zone, z) => {
    const xs = zone.polygon.map((p) => p[0]);
    const ys = zone.polygon.map((p) => p[1]);
    const x0 = Math.min(...xs);
    const x1 = Math.max(...xs);
    const y0 = Math.min(...ys);
    const y1 = Math.max(...ys);
    // A metre in from the walls where the zone is big enough; at least one point per zone.
    const mx = x1 - x0 > 4 ? 1 : 0;
    const my = y1 - y0 > 4 ? 1 : 0;
    const nx = Math.max(1, Math.round((x1 - x0 - 2 * mx) / o.gridStepM));
    const ny = Math.max(1, Math.round((y1 - y0 - 2 * my) / o.gridStepM));
    const points: [number, number][] = [];
    for (let i = 0; i <= nx; i++) {
      for (let j = 0; j <= ny; j++) {
        const x = x0 + mx + ((x1 - x0 - 2 * mx) * i) / nx;
        const y = y0 + my + ((y1 - y0 - 2 * my) * j) / ny;
        if (pointInPolygon(x, y, zone.polygon)) points.push([x, y]);
      }
    }
    if (points.length === 0) {
      const cx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const cy = ys.reduce((a, b) => a + b, 0) / ys.length;
      points.push([cx, cy]);
    }
    const zoneCirculates = CIRCULATION.has(zone.kind);
    const full = new Float32Array(points.length * sensors.length).fill(Number.NaN);
    points.forEach(([x, y], p) => {
      sensors.forEach((s, k) => {
        if (s.floor !== zone.floor) return;
        const d = Math.hypot(s.x - x, s.y - y);
        if (d > o.maxRangeM) return;
        const walls =
          s.zone === zone.id
            ? 0
            : o.wallDb + (zoneCirculates || CIRCULATION.has(kindOf.get(s.zone) ?? '') ? 0 : o.extraWallDb);
        full[p * sensors.length + k] = -10 * o.pathLossExponent * Math.log10(Math.max(d, 1)) + walls;
      });
    });
    const slot = new Int16Array(sensors.length).fill(-1);
    let width = 0;
    for (let k = 0; k < sensors.length; k++) {
      for (let p = 0; p < points.length; p++) {
        if (!Number.isNaN(full[p * sensors.length + k]!)) {
          slot[k] = width++;
          break;
        }
      }
    }
    // Float64, as the scoring reads it (Float32 values, widened once here rather than per burst).
    const levels = new Float64Array(points.length * width);
    const inRange = new Uint32Array(points.length);
    for (let p = 0; p < points.length; p++) {
      for (let k = 0; k < sensors.length; k++) {
        const c = slot[k]!;
        if (c < 0) continue;
        const level = full[p * sensors.length + k]!;
        levels[p * width + c] = level;
        if (c < 32 && !Number.isNaN(level)) inRange[p]! |= 1 << c;
      }
    }
    zoneInRange[z] = inRange;
    zoneSlot[z] = slot;
    zoneWidth[z] = width;
    return levels;
  });
  const sensorZones = sensors.map((_, k) => {
    const zones: number[] = [];
    zoneSlot.forEach((slot, z) => {
      if (slot[k]! >= 0) zones.push(z);
    });
    return Int32Array.from(zones);
  });
  return {
    sensorIndex: new Map(sensors.map((s, i) => [s.id, i])),
    zoneLevels,
    zoneSlot,
    zoneWidth,
    zoneInRange,
    sensorZones,
    sensors: sensors.length,
    inverseTwoVar: 1 / (2 * o.sigmaDb * o.sigmaDb),
    scorer: createScorer(zoneLevels, zoneInRange, sensors.length),
  };
}

/**
 * Moves the zones' levels and in-range bits into a scorer's memory: `zoneLevels` and
 * `zoneInRange` become views of it (one copy of the map, which the scorer reads).
 */
function createScorer(zoneLevels: Float64Array[], zoneInRange: Uint32Array[], sensors: number): Scorer {
  const colsAt = 0;
  const readingsAt = align8(sensors * 4);
  let bytes = readingsAt + sensors * 8;
  const levelsAt = new Int32Array(zoneLevels.length);
  const inRangeAt = new Int32Array(zoneLevels.length);
  zoneLevels.forEach((levels, z) => {
    levelsAt[z] = bytes;
    inRangeAt[z] = bytes + levels.byteLength;
    bytes = align8(inRangeAt[z]! + zoneInRange[z]!.byteLength);
  });
  const instance = new wasm.Instance(scoreModule, {});
  const memory = instance.exports.memory as WasmMemory;
  const page = 65_536;
  if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / page));
  zoneLevels.forEach((levels, z) => {
    const view = new Float64Array(memory.buffer, levelsAt[z]!, levels.length);
    view.set(levels);
    zoneLevels[z] = view;
    const bits = new Uint32Array(memory.buffer, inRangeAt[z]!, zoneInRange[z]!.length);
    bits.set(zoneInRange[z]!);
    zoneInRange[z] = bits;
  });
  return {
    bestMisfit: instance.exports.bestMisfit as Scorer['bestMisfit'],
    levelsAt,
    inRangeAt,
    cols: new Int32Array(memory.buffer, colsAt, sensors),
    readings: new Float64Array(memory.buffer, readingsAt, sensors),
  };
}

function align8(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}

/**
 * Log-likelihood score of `zone` (layout index) for a burst heard by `sensorIdx` at `rssiDbm`
 * (their first `heard` entries):
 * the best fit over the zone's points (see the header); −Infinity when no point of the zone is in
 * range of every sensor that heard the burst.
 */
export function scoreZone(
  map: RadioMap,
  zone: number,
  sensorIdx: readonly number[],
  rssiDbm: readonly number[],
  heard = sensorIdx.length,
): number {
  loadReadings(map, rssiDbm, heard);
  return scoreLoaded(map, zone, sensorIdx, heard);
}

/** Hands a burst's readings to the scorer once, for `scoreLoaded` to score it in any number of zones. */
export function loadReadings(map: RadioMap, rssiDbm: readonly number[], heard: number): void {
  for (let i = 0; i < heard; i++) map.scorer.readings[i] = rssiDbm[i]!;
}

/** `scoreZone` for the burst whose readings `loadReadings` handed over last. */
export function scoreLoaded(
  map: RadioMap,
  zone: number,
  sensorIdx: readonly number[],
  heard: number,
): number {
  const slot = map.zoneSlot[zone];
  const inRange = map.zoneInRange[zone];
  if (slot === undefined || inRange === undefined || heard === 0) return Number.NEGATIVE_INFINITY;
  const scorer = map.scorer;
  // Columns past 31 have no bit: their points are tested by the arithmetic (NaN) instead.
  let needed = 0;
  for (let i = 0; i < heard; i++) {
    const c = slot[sensorIdx[i]!]!;
    if (c < 0) return Number.NEGATIVE_INFINITY;
    scorer.cols[i] = c;
    if (c < 32) needed |= 1 << c;
  }
  const best = scorer.bestMisfit(
    scorer.levelsAt[zone]!,
    scorer.inRangeAt[zone]!,
    inRange.length,
    map.zoneWidth[zone]!,
    heard,
    needed,
    scorer.cols.byteOffset,
    scorer.readings.byteOffset,
  );
  return best === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : -best * map.inverseTwoVar;
}
