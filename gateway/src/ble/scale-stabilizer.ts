import type { ScaleFrame } from './scale-frame.ts';

// Smart scales repeat themselves: a Mi scale advertises every few hundred milliseconds while a
// person stands on it (first unsettled weights, then the settled one, then the same reading with
// "load removed" for a while after they step off), several scanners may hear each advertisement,
// and GATT scales re-send stored measurements. This turns those frames into one weigh-in each.
//
// Per scale (keyed by its MAC or device key, kept in memory only):
//
//   idle ──settled frame──▶ pending ──complete──▶ published (Mi scales: "loaded") ──removed──▶ idle
//                             │  ▲ merge frames of the same weigh-in
//                             └──┴─ load removed / a different weight / quiet for holdMs ──▶ published
//
// - Only settled frames without "load removed" open or extend a weigh-in; unsettled frames are
//   counted and end a pending weigh-in only when the weight moved away from it (someone else).
//   Unsettled or "removed" frames whose scale clock is earlier than the weigh-in's are late copies
//   (another scanner forwarding with a lag) and change nothing.
// - Complete: a 0x181D frame at once; a 0x181B frame once its impedance bit is set; GATT once a
//   Weight Measurement and a Body Composition Measurement (both packets when split) have arrived.
// - Decision for 0x181B: the settled weight arrives before the impedance, so the weigh-in is held
//   until the impedance arrives and published once, with it. If the person steps off first (load
//   removed) or the scale goes quiet for `holdMs`, the weight is published alone; an impedance that
//   arrives after that is dropped as a duplicate rather than published a second time.
// - Duplicates: a settled frame matching the last published weigh-in (same weight within
//   SAME_WEIGH_IN_KG, and the same scale clock when both carry one; without a clock, within
//   DUPLICATE_WINDOW_MS) is dropped; so is any repeat while a Mi scale is still loaded.
// - measuredAt: the scale's clock (plus `clockOffsetMs`) when it is within `maxClockSkewMs` of the
//   time the first settled frame was heard; otherwise that heard time. (Mi scales are often never
//   synchronised and say 1970.)
// - Weights outside 2..400 kg (the message schema; a Mi scale also weighs small objects) are
//   counted and never published.

export interface ScaleWeighIn {
  /** The scale's MAC or device key, for the caller to map to a sensor id; never published. */
  scaleKey: string;
  measuredAtMs: number;
  weightKg: number;
  impedanceOhm?: number;
  bodyFatPct?: number;
}

export interface ScaleStabilizerOptions {
  /** How long a pending weigh-in waits for its missing part after the scale's last frame. */
  holdMs: number;
  /** Added to the scale clock's reading to get UTC: −480 min for a clock set to UTC+8. */
  clockOffsetMs: number;
  /** Largest distance between the scale clock and the heard time for the clock to be believed. */
  maxClockSkewMs: number;
  /** Scales tracked at once; the least recently heard is forgotten beyond this. */
  maxScales?: number;
}

export interface ScaleStabilizerStats {
  scaleFrames: number;
  scaleUnsettled: number;
  scaleRemoved: number;
  /** Unsettled or "removed" frames older (by the scale clock) than the weigh-in they would end. */
  scaleStale: number;
  scaleDuplicates: number;
  scaleOutOfRange: number;
  scaleNoWeight: number;
  scaleWeighIns: number;
  scaleWithoutImpedance: number;
  scaleForgotten: number;
}

export interface ScaleStabilizer {
  /** Takes one frame heard at `heardAtMs`; completed weigh-ins are appended to `out`. */
  push(scaleKey: string, frame: ScaleFrame, heardAtMs: number, out: ScaleWeighIn[]): void;
  /** Publishes pending weigh-ins whose scale has been quiet for `holdMs` at `nowMs`. */
  expire(nowMs: number, out: ScaleWeighIn[]): void;
  /** Publishes every pending weigh-in (end of input). */
  flush(out: ScaleWeighIn[]): void;
  /** True when frames from this key were taken as a scale's (it is tracked). */
  knows(scaleKey: string): boolean;
  pendingCount(): number;
  stats(): ScaleStabilizerStats;
}

/** Two settled weights closer than this belong to the same weigh-in. */
export const SAME_WEIGH_IN_KG = 0.3;
/** A repeat without a scale clock is a duplicate within this time of the published weigh-in. */
export const DUPLICATE_WINDOW_MS = 60_000;
const MIN_WEIGHT_KG = 2;
const MAX_WEIGHT_KG = 400;
const MIN_EPOCH_MS = 946_684_800_000;
const MAX_EPOCH_MS = 4_102_444_800_000;
const DEFAULT_MAX_SCALES = 1024;

interface Pending {
  family: 'mi' | 'gatt';
  weightKg?: number;
  impedanceOhm?: number;
  bodyFatPct?: number;
  clockMs?: number;
  /** 0x181B whose impedance bit has not been seen yet. */
  impedancePending: boolean;
  /** 0x181B at all: published without impedance is counted. */
  expectsImpedance: boolean;
  hasWeightMeasurement: boolean;
  hasBodyComposition: boolean;
  awaitingSecondPacket: boolean;
  firstHeardAtMs: number;
  lastHeardAtMs: number;
}

interface ScaleState {
  pending?: Pending;
  last?: { weightKg: number; clockMs?: number; heardAtMs: number };
  /** A Mi scale's published weigh-in whose load has not been removed yet. */
  loaded: boolean;
}

export function createScaleStabilizer(options: ScaleStabilizerOptions): ScaleStabilizer {
  const maxScales = options.maxScales ?? DEFAULT_MAX_SCALES;
  const states = new Map<string, ScaleState>();
  const pendingKeys = new Set<string>();
  const stats: ScaleStabilizerStats = {
    scaleFrames: 0,
    scaleUnsettled: 0,
    scaleRemoved: 0,
    scaleStale: 0,
    scaleDuplicates: 0,
    scaleOutOfRange: 0,
    scaleNoWeight: 0,
    scaleWeighIns: 0,
    scaleWithoutImpedance: 0,
    scaleForgotten: 0,
  };

  function stateOf(key: string, out: ScaleWeighIn[]): ScaleState {
    let state = states.get(key);
    if (state) {
      // Re-insert: Map order is then least recently heard first.
      states.delete(key);
    } else {
      state = { loaded: false };
      if (states.size >= maxScales) forgetOldest(out);
    }
    states.set(key, state);
    return state;
  }

  function forgetOldest(out: ScaleWeighIn[]): void {
    const oldest = states.keys().next();
    if (oldest.done) return;
    const state = states.get(oldest.value);
    if (state?.pending) publish(oldest.value, state, out);
    states.delete(oldest.value);
    stats.scaleForgotten++;
  }

  function publish(key: string, state: ScaleState, out: ScaleWeighIn[]): void {
    const p = state.pending;
    if (!p) return;
    state.pending = undefined;
    pendingKeys.delete(key);
    if (p.weightKg === undefined) {
      stats.scaleNoWeight++;
      return;
    }
    const weighIn: ScaleWeighIn = { scaleKey: key, measuredAtMs: measuredAt(p), weightKg: p.weightKg };
    if (p.impedanceOhm !== undefined) weighIn.impedanceOhm = p.impedanceOhm;
    else if (p.expectsImpedance) stats.scaleWithoutImpedance++;
    if (p.bodyFatPct !== undefined) weighIn.bodyFatPct = p.bodyFatPct;
    out.push(weighIn);
    stats.scaleWeighIns++;
    state.last = { weightKg: p.weightKg, heardAtMs: p.lastHeardAtMs };
    if (p.clockMs !== undefined) state.last.clockMs = p.clockMs;
    state.loaded = p.family === 'mi';
  }

  function measuredAt(p: Pending): number {
    if (p.clockMs === undefined) return p.firstHeardAtMs;
    const clockUtcMs = p.clockMs + options.clockOffsetMs;
    const plausible =
      Math.abs(clockUtcMs - p.firstHeardAtMs) <= options.maxClockSkewMs &&
      clockUtcMs >= MIN_EPOCH_MS &&
      clockUtcMs <= MAX_EPOCH_MS;
    return plausible ? clockUtcMs : p.firstHeardAtMs;
  }

  function isDuplicate(state: ScaleState, frame: ScaleFrame, heardAtMs: number): boolean {
    const last = state.last;
    if (!last) return false;
    if (frame.weightKg === undefined) {
      return frame.clockMs !== undefined && frame.clockMs === last.clockMs;
    }
    if (Math.abs(frame.weightKg - last.weightKg) >= SAME_WEIGH_IN_KG) return false;
    if (state.loaded) return true;
    if (frame.clockMs !== undefined && last.clockMs !== undefined) return frame.clockMs === last.clockMs;
    return heardAtMs - last.heardAtMs < DUPLICATE_WINDOW_MS;
  }

  function startPending(frame: ScaleFrame, heardAtMs: number): Pending {
    const p: Pending = {
      family: frame.protocol === 'mi-181d' || frame.protocol === 'mi-181b' ? 'mi' : 'gatt',
      impedancePending: frame.impedancePending === true,
      expectsImpedance: frame.protocol === 'mi-181b',
      hasWeightMeasurement: false,
      hasBodyComposition: false,
      awaitingSecondPacket: false,
      firstHeardAtMs: heardAtMs,
      lastHeardAtMs: heardAtMs,
    };
    merge(p, frame, heardAtMs);
    return p;
  }

  function belongsTo(p: Pending, frame: ScaleFrame): boolean {
    const family = frame.protocol === 'mi-181d' || frame.protocol === 'mi-181b' ? 'mi' : 'gatt';
    if (family !== p.family) return false;
    if (frame.weightKg !== undefined && p.weightKg !== undefined) {
      if (Math.abs(frame.weightKg - p.weightKg) >= SAME_WEIGH_IN_KG) return false;
    }
    if (frame.protocol === 'gatt-2a9d') return !p.hasWeightMeasurement;
    if (frame.protocol === 'gatt-2a9c') return !p.hasBodyComposition || p.awaitingSecondPacket;
    return true;
  }

  function merge(p: Pending, frame: ScaleFrame, heardAtMs: number): void {
    p.weightKg ??= frame.weightKg;
    p.impedanceOhm ??= frame.impedanceOhm;
    p.bodyFatPct ??= frame.bodyFatPct;
    p.clockMs ??= frame.clockMs;
    if (frame.impedancePending === false) p.impedancePending = false;
    if (frame.protocol === 'gatt-2a9d') p.hasWeightMeasurement = true;
    if (frame.protocol === 'gatt-2a9c') {
      if (!frame.multiPacket) p.awaitingSecondPacket = false;
      else p.awaitingSecondPacket = !p.awaitingSecondPacket && !p.hasBodyComposition;
      p.hasBodyComposition = true;
    }
    p.lastHeardAtMs = heardAtMs;
  }

  function isComplete(p: Pending): boolean {
    if (p.family === 'mi') return p.weightKg !== undefined && !p.impedancePending;
    return p.hasWeightMeasurement && p.hasBodyComposition && !p.awaitingSecondPacket;
  }

  return {
    push(key, frame, heardAtMs, out) {
      stats.scaleFrames++;
      const state = stateOf(key, out);
      const p = state.pending;
      if (!frame.stabilized || frame.loadRemoved) {
        // A copy heard late through another scanner: older than the weigh-in it would end.
        const ref = p?.clockMs ?? state.last?.clockMs;
        if (frame.clockMs !== undefined && ref !== undefined && frame.clockMs < ref) {
          stats.scaleStale++;
          return;
        }
      }
      if (frame.loadRemoved) {
        stats.scaleRemoved++;
        if (p?.family === 'mi') publish(key, state, out);
        state.loaded = false;
        return;
      }
      const w = frame.weightKg;
      if (!frame.stabilized) {
        stats.scaleUnsettled++;
        if (w === undefined) return;
        if (p?.weightKg !== undefined && Math.abs(w - p.weightKg) >= SAME_WEIGH_IN_KG)
          publish(key, state, out);
        if (state.loaded && state.last && Math.abs(w - state.last.weightKg) >= SAME_WEIGH_IN_KG) {
          state.loaded = false;
        }
        return;
      }
      if (w !== undefined && (w < MIN_WEIGHT_KG || w > MAX_WEIGHT_KG)) {
        stats.scaleOutOfRange++;
        return;
      }
      if (p && belongsTo(p, frame)) {
        merge(p, frame, heardAtMs);
      } else {
        if (p) publish(key, state, out);
        if (isDuplicate(state, frame, heardAtMs)) {
          stats.scaleDuplicates++;
          return;
        }
        state.pending = startPending(frame, heardAtMs);
        pendingKeys.add(key);
      }
      const pending = state.pending;
      if (pending && isComplete(pending)) publish(key, state, out);
    },
    expire(nowMs, out) {
      for (const key of pendingKeys) {
        const state = states.get(key);
        if (state?.pending && nowMs - state.pending.lastHeardAtMs >= options.holdMs) publish(key, state, out);
      }
    },
    flush(out) {
      for (const key of pendingKeys) {
        const state = states.get(key);
        if (state) publish(key, state, out);
      }
    },
    knows: (key) => states.has(key),
    pendingCount: () => pendingKeys.size,
    stats: () => ({ ...stats }),
  };
}
