import { type ZoneGraph, zoneHops } from './zone-graph.ts';

// Linking rotated MACs. A phone that randomizes its MAC shows a new one every so often; the
// sightings of one person then split into several devices and every count of devices overstates
// people. What ties the pieces together is continuity:
//   timing   the old MAC falls silent and the new one appears about one probe interval later
//            (the phone keeps its probe rhythm across a rotation; its sequence counter does not
//            help: phones restart it with the MAC);
//   place    the new MAC's first burst is where the old one's last was, or a short walk away.
// A new randomized device is linked, when its first burst is decided, to the best-scoring
// randomized device that (a) still has an open visit, (b) was last heard before the new one's
// first burst and not since (its bursts up to the decision lag are known), within maxGapMs,
// (c) is close enough to have walked there, and (d) is not on the street in front of the mall
// (someone leaving there and someone arriving is more likely than a rotation). A link is doubtful
// when the runner-up scored within doubtMargin: the visitor count reports such links as its
// uncertainty. The street rule and the scoring are heuristics: see the eval for what they buy.

/** Rhythm mismatch assumed when neither device's rhythm is known yet (|ln 2|). */
const UNKNOWN_RHYTHM_MISMATCH = Math.LN2;

export interface LinkerOptions {
  /** Longest silence between the old MAC's last burst and the new one's first, ms. */
  maxGapMs: number;
  /** Score cost per unit of |ln(silence / rhythm)|, the rhythm being either device's. */
  rhythmWeight: number;
  /** Score cost per hop between the two bursts' zones. */
  hopWeight: number;
  /** Score cost per dB of mean RSSI difference beyond rssiToleranceDb between the two bursts. */
  rssiWeight: number;
  /** RSSI difference two bursts of one phone in one place show anyway (noise), dB. */
  rssiToleranceDb: number;
  /** Links scoring below this are not made. */
  minScore: number;
  /** A link whose runner-up scored within this margin, or that scored below doubtScore, is doubtful. */
  doubtMargin: number;
  doubtScore: number;
  /** Walking time per hop: zones farther than 1 + gap / msPerHop hops cannot be linked, ms. */
  msPerHop: number;
}

export const DEFAULT_LINKER: Readonly<LinkerOptions> = Object.freeze({
  maxGapMs: 90_000,
  rhythmWeight: 4,
  hopWeight: 1,
  rssiWeight: 0.2,
  rssiToleranceDb: 4,
  minScore: -2,
  doubtMargin: 0.5,
  doubtScore: -1,
  msPerHop: 8_000,
});

/** What the linker needs to know about a device that may have rotated away. */
export interface LinkCandidate {
  device: string;
  /** Its newest burst (ms) and decided zone there. */
  lastStepMs: number;
  lastZone: number;
  /** Its typical gap between bursts (NaN when unknown). */
  gapMs: number;
  /** That burst: zones heard and the strongest RSSI in each. */
  zones: readonly number[];
  rssiDbm: readonly number[];
}

/** The new device: its first burst (time, decided zone, zones heard, RSSI) and its rhythm so far. */
export interface LinkSuccessor {
  device: string;
  firstMs: number;
  firstZone: number;
  gapMs: number;
  zones: readonly number[];
  rssiDbm: readonly number[];
}

/**
 * Mean absolute RSSI difference between two bursts over the zones either heard; a zone one of
 * them did not hear reads 5 dB below that burst's weakest.
 */
export function burstDistanceDb(
  aZones: readonly number[],
  aRssi: readonly number[],
  bZones: readonly number[],
  bRssi: readonly number[],
): number {
  let aMin = Number.POSITIVE_INFINITY;
  let bMin = Number.POSITIVE_INFINITY;
  for (const r of aRssi) if (r < aMin) aMin = r;
  for (const r of bRssi) if (r < bMin) bMin = r;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < aZones.length; i++) {
    const j = bZones.indexOf(aZones[i]!);
    sum += Math.abs(aRssi[i]! - (j >= 0 ? bRssi[j]! : bMin - 5));
    n++;
  }
  for (let j = 0; j < bZones.length; j++) {
    if (aZones.includes(bZones[j]!)) continue;
    sum += Math.abs(bRssi[j]! - (aMin - 5));
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** Randomized devices' newest bursts in time order; an entry is stale once its device bursts again. */
export interface LinkerState {
  recentDevice: string[];
  recentMs: number[];
  head: number;
  links: number;
  doubtfulLinks: number;
  /** New randomized devices for which no predecessor qualified. */
  unlinked: number;
}

export function createLinkerState(): LinkerState {
  return { recentDevice: [], recentMs: [], head: 0, links: 0, doubtfulLinks: 0, unlinked: 0 };
}

/**
 * Notes a randomized device's burst at `atMs` (kept in time order; late ones are rare). Entries older than
 * `retainMs` before it are dropped: a successor decided that much later can no longer reach them
 * (maxGapMs plus the decision lag).
 */
export function noteRandomizedBurst(
  state: LinkerState,
  device: string,
  atMs: number,
  retainMs: number,
): void {
  const n = state.recentMs.length;
  if (n > state.head && atMs < state.recentMs[n - 1]!) {
    // A burst that completed late (its sightings came behind the watermark): keep the time order.
    const at = firstAtOrAfter(state, atMs);
    state.recentDevice.splice(at, 0, device);
    state.recentMs.splice(at, 0, atMs);
  } else {
    state.recentDevice.push(device);
    state.recentMs.push(atMs);
  }
  while (state.head < state.recentMs.length && state.recentMs[state.head]! < atMs - retainMs) state.head++;
  if (state.head > 1024 && state.head * 2 > state.recentMs.length) {
    state.recentDevice = state.recentDevice.slice(state.head);
    state.recentMs = state.recentMs.slice(state.head);
    state.head = 0;
  }
}

/** Index of the first live entry at or after `atMs` (binary search; entries are in time order). */
function firstAtOrAfter(state: LinkerState, atMs: number): number {
  let lo = state.head;
  let hi = state.recentMs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (state.recentMs[mid]! < atMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The predecessor of a new randomized device first heard at `firstMs` in zone `firstZone`, or
 * undefined. `candidateOf(device, lastStepMs)` describes a device that is randomized, has an open
 * visit and was last heard at lastStepMs (undefined otherwise); its answer is read at once, so it
 * may reuse one object.
 */
export function findPredecessor(
  state: LinkerState,
  graph: ZoneGraph,
  o: LinkerOptions,
  succ: LinkSuccessor,
  candidateOf: (device: string, lastStepMs: number) => LinkCandidate | undefined,
): { device: string; doubtful: boolean } | undefined {
  const { device: successor, firstMs, firstZone } = succ;
  if (graph.outside[firstZone] === 1) {
    state.unlinked++;
    return undefined;
  }
  let best: string | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  let second = Number.NEGATIVE_INFINITY;
  // From the newest entry before the successor's first burst back (entries are in time order).
  for (let i = firstAtOrAfter(state, firstMs) - 1; i >= state.head; i--) {
    const atMs = state.recentMs[i]!;
    const gapMs = firstMs - atMs;
    if (gapMs > o.maxGapMs) break;
    const device = state.recentDevice[i]!;
    if (device === successor) continue;
    // Only the device's newest burst counts: an older entry means it was heard again since.
    const c = candidateOf(device, atMs);
    if (c === undefined || c.lastStepMs !== atMs) continue;
    if (graph.outside[c.lastZone] === 1) continue;
    const hops = zoneHops(graph, c.lastZone, firstZone);
    if (hops > 1 + gapMs / o.msPerHop) continue;
    // The silence spans one probe interval at the rhythm of one of the two (a screen turned on or
    // off can change it at the rotation).
    const predRhythm = Number.isNaN(c.gapMs) ? Number.POSITIVE_INFINITY : Math.abs(Math.log(gapMs / c.gapMs));
    const succRhythm = Number.isNaN(succ.gapMs)
      ? Number.POSITIVE_INFINITY
      : Math.abs(Math.log(gapMs / succ.gapMs));
    const rhythm = Math.min(predRhythm, succRhythm, UNKNOWN_RHYTHM_MISMATCH);
    const rssiDb = burstDistanceDb(c.zones, c.rssiDbm, succ.zones, succ.rssiDbm);
    const score =
      -o.rhythmWeight * rhythm - o.hopWeight * hops - o.rssiWeight * Math.max(0, rssiDb - o.rssiToleranceDb);
    // Ties go to the lexically smaller device, so the result does not depend on note order.
    if (score > bestScore || (score === bestScore && best !== undefined && device < best)) {
      second = bestScore;
      bestScore = score;
      best = device;
    } else if (score > second) second = score;
  }
  if (best === undefined || bestScore < o.minScore) {
    state.unlinked++;
    return undefined;
  }
  const doubtful = bestScore - second < o.doubtMargin || bestScore < o.doubtScore;
  state.links++;
  if (doubtful) state.doubtfulLinks++;
  return { device: best, doubtful };
}
