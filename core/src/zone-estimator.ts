import { loadReadings, type RadioMap, scoreLoaded } from './radio-map.ts';
import { type ZoneGraph, zoneHops } from './zone-graph.ts';

// Zone per probe burst: a hidden Markov model over the layout's zones, run per device.
//
// Observation: the strongest RSSI per sensor in one burst (every frame of it). With a radio map
//   (radio-map.ts: the layout's sensor positions and walls), a zone's emission score is how well
//   its best-fitting point explains all the readings; zones far worse than the best are dropped.
//   Without one (sensors not in the layout), the strongest RSSI per zone: score of zone z =
//   rssiWeightPerDb · (rssi_z − strongest), where a zone whose sensors did not hear the burst
//   reads as the weakest heard minus unheardPenaltyDb.
// Transitions over the gap dt between bursts: staying costs dt / meanStay (a transit zone —
//   corridor, atrium, entrance, escalator, lift, street — is left quickly; a store is not);
//   leaving costs log(1 − e^(−dt/meanStay)) plus hopCost per hop beyond the first; a zone more
//   than 1 + dt / msPerHop hops away is unreachable in dt (no walking through walls or floors).
//   A burst that no path explains (the device reappeared far away) restarts the track.
// Decisions: fixed-lag Viterbi. Step i's zone is decided by backtracking from the best state of
//   the last step at most lagMs after it; the track is then re-rooted at that choice, so the
//   decided sequence is always a path the model allows. `filtered` is the causal estimate (best
//   state of the newest step), for live counts that cannot wait for the lag. The first step of a
//   track favours arrival zones (street, entrance) by arrivalBonus: most devices are first heard
//   walking in.
//
// Per device:  empty → (step) → window of undecided steps (oldest first) → (decide) → empty
// Every step is decided exactly once, in time order, and depends only on the steps at most lagMs
// after it: how steps and decisions interleave with other devices does not change the result.
// Confidence of a decision: each candidate of the step gets the score of the best path through it
// over the same window the decision saw (its max-marginal: forward score + backward score); the
// decided zone's share of exp(score) over the step's candidates. 1 when nothing else was possible;
// about 1/2 when another zone explained the readings and the walk as well.

export interface ZoneEstimatorOptions {
  /** Log-likelihood per dB of a zone's strongest reading below the burst's strongest. */
  rssiWeightPerDb: number;
  /** A zone none of whose sensors heard the burst reads this far below the weakest reading, dB. */
  unheardPenaltyDb: number;
  /** Mean time a person stays in a store (or any non-transit zone), ms. */
  dwellZoneMeanStayMs: number;
  /** Mean time a person stays in a corridor, atrium, entrance, escalator, lift or street zone, ms. */
  transitZoneMeanStayMs: number;
  /** Walking time per hop of the adjacency graph: bounds how far a device moves between bursts, ms. */
  msPerHop: number;
  /** Log-likelihood cost of each hop beyond the first between two bursts. */
  hopCost: number;
  /** A burst's zone is decided once the bursts up to this long after it are known, ms. */
  lagMs: number;
  /** Log-likelihood bonus of arrival zones (street, entrance) for a device's first burst. */
  arrivalBonus: number;
  /** Radio map: zones scoring this much below the best are not candidates. */
  pruneScore: number;
}

export const DEFAULT_ZONE_ESTIMATOR: Readonly<ZoneEstimatorOptions> = Object.freeze({
  rssiWeightPerDb: 0.15,
  unheardPenaltyDb: 8,
  dwellZoneMeanStayMs: 300_000,
  transitZoneMeanStayMs: 40_000,
  msPerHop: 8_000,
  hopCost: 1,
  lagMs: 60_000,
  arrivalBonus: 2,
  pruneScore: 10,
});

/**
 * One burst's observation: zones (graph indices, distinct) and the strongest RSSI heard in each,
 * in the first `count` entries; the same per sensor (radio map indices) in the first `sensorCount`
 * entries, 0 unless every sensor that heard it is on the map.
 */
export interface BurstObservation {
  zones: number[];
  rssiDbm: number[];
  count: number;
  sensors: number[];
  sensorRssiDbm: number[];
  sensorCount: number;
}

/** A device's undecided steps, oldest first, in parallel arrays. */
export interface ZoneTrack {
  stepMs: number[];
  /** Candidate zones per step. */
  cands: number[][];
  /** Emission score per candidate. */
  emit: number[][];
  /** Best path score per candidate (the newest step's maximum is 0). */
  delta: number[][];
  /** Index of each candidate's best predecessor in the previous step; -1 at a (re)start. */
  back: number[][];
  /** Zone decided for the step before the window (-1: none; the window then starts fresh). */
  rootZone: number;
  /** [rootZone], kept to step from without allocating. */
  rootCands: number[];
  /** Time of that step (NaN when none). */
  rootMs: number;
  /** Causal estimate: best zone of the newest step (-1 before the first); its confidence: `filteredConfidence`. */
  filtered: number;
  /** Arrays of decided steps, reused by the next ones (a track takes no memory per burst). */
  spare: number[][];
  /** Confidence of the last decision (0..1; NaN before the first). */
  confidence: number;
}

export function createZoneTrack(): ZoneTrack {
  return {
    stepMs: [],
    cands: [],
    emit: [],
    delta: [],
    back: [],
    rootZone: -1,
    rootCands: [-1],
    rootMs: Number.NaN,
    filtered: -1,
    spare: [],
    confidence: Number.NaN,
  };
}

const ROOT_DELTA: readonly number[] = Object.freeze([0]);

/** An array recycled from a decided step when one is spare (its contents are overwritten). */
function takeArray(track: ZoneTrack): number[] {
  return track.spare.pop() ?? [];
}

/** Trims recycled arrays to the `n` entries written (setting a length is slow: only when it changes). */
function trim(a: number[], n: number): void {
  if (a.length !== n) a.length = n;
}

function transition(
  graph: ZoneGraph,
  o: ZoneEstimatorOptions,
  from: number,
  to: number,
  dtMs: number,
  leaveDwell: number,
  leaveTransit: number,
  maxHops: number,
): number {
  const transit = graph.transit[from] === 1;
  if (from === to) return -dtMs / (transit ? o.transitZoneMeanStayMs : o.dwellZoneMeanStayMs);
  const hops = zoneHops(graph, from, to);
  if (hops > maxHops) return Number.NEGATIVE_INFINITY;
  return (transit ? leaveTransit : leaveDwell) - o.hopCost * (hops - 1);
}

/**
 * Forward step into candidates `cands` (emissions `emit`) from the previous step's candidates and
 * scores, dtMs earlier. Writes delta and back; returns false when no candidate is reachable.
 */
function forward(
  graph: ZoneGraph,
  o: ZoneEstimatorOptions,
  prevCands: readonly number[],
  prevDelta: readonly number[],
  dtMs: number,
  cands: readonly number[],
  emit: readonly number[],
  delta: number[],
  back: number[],
): boolean {
  const leaveDwell = Math.log(-Math.expm1(-dtMs / o.dwellZoneMeanStayMs));
  const leaveTransit = Math.log(-Math.expm1(-dtMs / o.transitZoneMeanStayMs));
  const maxHops = 1 + Math.floor(dtMs / o.msPerHop);
  let anyReachable = false;
  let best = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < cands.length; k++) {
    let score = Number.NEGATIVE_INFINITY;
    let arg = -1;
    for (let j = 0; j < prevCands.length; j++) {
      const s =
        prevDelta[j]! +
        transition(graph, o, prevCands[j]!, cands[k]!, dtMs, leaveDwell, leaveTransit, maxHops);
      if (s > score) {
        score = s;
        arg = j;
      }
    }
    if (arg >= 0) anyReachable = true;
    delta[k] = score + emit[k]!;
    back[k] = arg;
    if (delta[k]! > best) best = delta[k]!;
  }
  if (!anyReachable) return false;
  for (let k = 0; k < cands.length; k++) delta[k]! -= best;
  return true;
}

function restart(emit: readonly number[], delta: number[], back: number[]): void {
  let best = Number.NEGATIVE_INFINITY;
  for (const e of emit) if (e > best) best = e;
  for (let k = 0; k < emit.length; k++) {
    delta[k] = emit[k]! - best;
    back[k] = -1;
  }
}

function argmax(values: readonly number[], cands: readonly number[]): number {
  let arg = 0;
  for (let k = 1; k < values.length; k++) {
    // Ties go to the lower zone index, so the choice never depends on the order zones were heard in.
    if (values[k]! > values[arg]! || (values[k] === values[arg] && cands[k]! < cands[arg]!)) arg = k;
  }
  return arg;
}

/**
 * Emissions from the radio map, written to the front of `cands` / `emit`: every zone that fits
 * within pruneScore of the best, plus `keep` if it fits at all. Returns how many; 0 when the map
 * cannot place the burst (unknown sensors, nothing fits).
 */
function mapEmissions(
  map: RadioMap,
  o: ZoneEstimatorOptions,
  obs: BurstObservation,
  keep: number,
  cands: number[],
  emit: number[],
): number {
  const { sensors, sensorRssiDbm: rssi, sensorCount } = obs;
  if (sensorCount === 0) return 0;
  // Only zones that hear every sensor can fit: walk those of the sensor heard by the fewest.
  let zones = map.sensorZones[sensors[0]!]!;
  for (let i = 1; i < sensorCount; i++) {
    const heardBy = map.sensorZones[sensors[i]!]!;
    if (heardBy.length < zones.length) zones = heardBy;
  }
  let best = Number.NEGATIVE_INFINITY;
  let fitting = 0;
  loadReadings(map, rssi, sensorCount);
  for (let zi = 0; zi < zones.length; zi++) {
    const z = zones[zi]!;
    const score = scoreLoaded(map, z, sensors, sensorCount);
    if (score === Number.NEGATIVE_INFINITY) continue;
    cands[fitting] = z;
    emit[fitting] = score;
    fitting++;
    if (score > best) best = score;
  }
  let n = 0;
  for (let k = 0; k < fitting; k++) {
    if (emit[k]! >= best - o.pruneScore || cands[k] === keep) {
      cands[n] = cands[k]!;
      emit[n] = emit[k]! - best;
      n++;
    }
  }
  return n;
}

/**
 * Adds one burst at `atMs` (after every step already in the track) and updates `filtered`. Steps
 * more than lagMs older may still be waiting: their decisions only look at steps within their lag.
 * `map`: the layout's radio map, used when every sensor of the burst is on it.
 */
export function addStep(
  track: ZoneTrack,
  graph: ZoneGraph,
  o: ZoneEstimatorOptions,
  obs: BurstObservation,
  atMs: number,
  map?: RadioMap,
): void {
  const last = track.stepMs.length - 1;
  const prevCands = last >= 0 ? track.cands[last]! : track.rootZone >= 0 ? track.rootCands : undefined;
  const prevDelta = last >= 0 ? track.delta[last]! : ROOT_DELTA;
  // The zone it was in stays a candidate even when the burst points elsewhere.
  const keep = prevCands === undefined ? -1 : prevCands[argmax(prevDelta, prevCands)]!;
  const cands = takeArray(track);
  const emit = takeArray(track);
  let n = map === undefined ? 0 : mapEmissions(map, o, obs, keep, cands, emit);
  if (n === 0) {
    const { zones, rssiDbm, count } = obs;
    let strongest = Number.NEGATIVE_INFINITY;
    let weakest = Number.POSITIVE_INFINITY;
    let keepHeard = false;
    for (let i = 0; i < count; i++) {
      const r = rssiDbm[i]!;
      if (r > strongest) strongest = r;
      if (r < weakest) weakest = r;
      if (zones[i] === keep) keepHeard = true;
    }
    for (let i = 0; i < count; i++) {
      cands[n] = zones[i]!;
      emit[n] = o.rssiWeightPerDb * (rssiDbm[i]! - strongest);
      n++;
    }
    if (keep >= 0 && !keepHeard) {
      cands[n] = keep;
      emit[n] = o.rssiWeightPerDb * (weakest - o.unheardPenaltyDb - strongest);
      n++;
    }
  }
  trim(cands, n);
  trim(emit, n);
  const delta = takeArray(track);
  const back = takeArray(track);
  trim(delta, n);
  trim(back, n);
  if (prevCands === undefined) {
    // A device seen for the first time most likely just walked in.
    for (let k = 0; k < cands.length; k++) if (graph.arrival[cands[k]!] === 1) emit[k]! += o.arrivalBonus;
    restart(emit, delta, back);
  } else {
    const prevMs = last >= 0 ? track.stepMs[last]! : track.rootMs;
    if (!forward(graph, o, prevCands, prevDelta, atMs - prevMs, cands, emit, delta, back)) {
      restart(emit, delta, back);
    }
  }
  track.stepMs.push(atMs);
  track.cands.push(cands);
  track.emit.push(emit);
  track.delta.push(delta);
  track.back.push(back);
  track.filtered = cands[argmax(delta, cands)]!;
}

/**
 * Confidence of the causal estimate `filtered`: its share of exp(score) over the newest step's
 * candidates, from the past and that burst only (NaN before the first step).
 */
export function filteredConfidence(track: ZoneTrack): number {
  const newest = track.stepMs.length - 1;
  if (newest < 0) return Number.NaN;
  const delta = track.delta[newest]!;
  const best = argmax(delta, track.cands[newest]!);
  let sum = 0;
  for (let k = 0; k < delta.length; k++) sum += Math.exp(delta[k]! - delta[best]!);
  return 1 / sum;
}

/**
 * Backward scores of two adjacent steps, reused (the engine is single-threaded); only the first
 * entries, one per candidate, are read: never shortened, so their store is never given up.
 */
let beta: number[] = [];
let betaNext: number[] = [];

/**
 * Share of step 0's candidate `chosen` in exp(max-marginal) over its candidates, the window being
 * steps 0..j (see the header). The backward pass mirrors `forward`: a step that restarted cuts the
 * path, so what follows it favours no candidate before it.
 */
function decisionConfidence(
  track: ZoneTrack,
  graph: ZoneGraph,
  o: ZoneEstimatorOptions,
  j: number,
  chosen: number,
): number {
  const cands0 = track.cands[0]!;
  if (cands0.length === 1) return 1;
  let next = betaNext;
  let cur = beta;
  for (let l = 0; l < track.cands[j]!.length; l++) next[l] = 0;
  for (let i = j - 1; i >= 0; i--) {
    const cands = track.cands[i]!;
    const after = track.cands[i + 1]!;
    const afterEmit = track.emit[i + 1]!;
    const afterBack = track.back[i + 1]!;
    let restarted = true;
    for (let l = 0; l < afterBack.length; l++) if (afterBack[l]! >= 0) restarted = false;
    if (restarted) {
      for (let k = 0; k < cands.length; k++) cur[k] = 0;
    } else {
      const dtMs = track.stepMs[i + 1]! - track.stepMs[i]!;
      const leaveDwell = Math.log(-Math.expm1(-dtMs / o.dwellZoneMeanStayMs));
      const leaveTransit = Math.log(-Math.expm1(-dtMs / o.transitZoneMeanStayMs));
      const maxHops = 1 + Math.floor(dtMs / o.msPerHop);
      for (let k = 0; k < cands.length; k++) {
        let best = Number.NEGATIVE_INFINITY;
        for (let l = 0; l < after.length; l++) {
          const s =
            transition(graph, o, cands[k]!, after[l]!, dtMs, leaveDwell, leaveTransit, maxHops) +
            afterEmit[l]! +
            next[l]!;
          if (s > best) best = s;
        }
        cur[k] = best;
      }
    }
    const swap = next;
    next = cur;
    cur = swap;
  }
  // `next` now holds step 0's backward scores.
  const delta0 = track.delta[0]!;
  const top = delta0[chosen]! + next[chosen]!;
  let sum = 0;
  for (let k = 0; k < cands0.length; k++) sum += Math.exp(delta0[k]! + next[k]! - top);
  beta = cur;
  betaNext = next;
  return 1 / sum;
}

/**
 * Decides the oldest undecided step: backtracks from the best state of the last step at most
 * lagMs after it, then re-roots the rest of the window at that choice. Returns the zone index,
 * or -1 when the track has no undecided step.
 */
export function decideOldest(track: ZoneTrack, graph: ZoneGraph, o: ZoneEstimatorOptions): number {
  const n = track.stepMs.length;
  if (n === 0) return -1;
  const t0 = track.stepMs[0]!;
  let j = 0;
  while (j + 1 < n && track.stepMs[j + 1]! <= t0 + o.lagMs) j++;
  let k = argmax(track.delta[j]!, track.cands[j]!);
  for (let i = j; i > 0; i--) {
    const b = track.back[i]![k]!;
    if (b < 0) {
      // The path restarted after step i - 1: its own best state stands for it.
      k = argmax(track.delta[i - 1]!, track.cands[i - 1]!);
    } else k = b;
  }
  const zone = track.cands[0]![k]!;
  track.confidence = decisionConfidence(track, graph, o, j, k);
  track.rootZone = zone;
  track.rootCands[0] = zone;
  track.rootMs = t0;
  track.stepMs.shift();
  track.spare.push(track.cands.shift()!, track.emit.shift()!, track.delta.shift()!, track.back.shift()!);
  // Re-root: forward again from the decided zone alone.
  let prevCands: readonly number[] = track.rootCands;
  let prevDelta: readonly number[] = ROOT_DELTA;
  let prevMs = t0;
  for (let i = 0; i < track.stepMs.length; i++) {
    const cands = track.cands[i]!;
    const ok = forward(
      graph,
      o,
      prevCands,
      prevDelta,
      track.stepMs[i]! - prevMs,
      cands,
      track.emit[i]!,
      track.delta[i]!,
      track.back[i]!,
    );
    if (!ok) restart(track.emit[i]!, track.delta[i]!, track.back[i]!);
    prevCands = cands;
    prevDelta = track.delta[i]!;
    prevMs = track.stepMs[i]!;
  }
  const newest = track.stepMs.length - 1;
  if (newest >= 0) track.filtered = track.cands[newest]![argmax(track.delta[newest]!, track.cands[newest]!)]!;
  return zone;
}
