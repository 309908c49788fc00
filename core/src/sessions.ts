// Visits (mall level) and zone stays per device, from the decided zone of each probe burst.
//
// Per device:  no session → (burst) → open: a visit with one open zone stay
//   open + burst in the same zone        → the stay goes on (lastMs moves)
//   open + burst in another zone         → the stay closes at the midpoint between its last burst
//                                          and this one (near the burst in a transit zone when
//                                          only one side is one: transitEdgeMs); a new stay
//                                          opens there
//   open + silence > visitIdleMs          → the stay and the visit close `tailMs` after the last
//                                          burst (half the device's probe rhythm: it left some time
//                                          before the burst that did not come; `expireSessions`)
//   open + burst after > visitIdleMs      → the same close, then a new visit opens; unless the
//                                          device fell silent inside the mall and is heard again
//                                          inside (neither zone an arrival zone) within
//                                          silenceBridgeMs: a phone asleep in a store, not someone
//                                          who left, who would have crossed an entrance. The
//                                          visit goes on (a visit silent in an arrival zone
//                                          closes after visitIdleMs, any other after silenceBridgeMs)
//   open + link to a successor device     → (a randomized MAC rotated) the session moves to the
//                                          successor: the visit goes on under its first device;
//                                          the predecessor's stay closes at the midpoint between
//                                          its last burst and the successor's first
// Inferred bursts (zones walked through unheard) place stays but count no burst and never end a
// visit; they may open one (the walk in before its first burst heard).
// A closed visit is a passer-by's unless it met the visitor rule (visitor-rule.ts): enough strong
// bursts within a window, and enough time outside the 'outside' zones from its first burst heard.
// Closed stays and visits queue in `closedStays` / `closedVisits` for the shell to write; stays
// closing over a watched instant (`watchMinute`) are counted there for the final minute rows.

import {
  countSignalBurst,
  DEFAULT_VISITOR_RULE,
  type SignalWindow,
  type VisitorRule,
} from './visitor-rule.ts';

export interface ZoneStay {
  device: string;
  zoneId: string;
  startMs: number;
  endMs: number;
  bursts: number;
  /** The device the stay's visit is recorded under (the first of its linked devices). */
  visitDevice: string;
}

export interface Visit {
  device: string;
  startMs: number;
  endMs: number;
  /** Zone stays in this visit. */
  stays: number;
  bursts: number;
  /** Devices (MAC pseudonyms) the visit was seen under: 1 plus the rotations linked into it. */
  devices: number;
  /** Of those links, how many had a close rival (see device-linker.ts). */
  doubtfulLinks: number;
  /** Time in zones that are not 'outside' (the street in front of the mall), ms. */
  insideMs: number;
  /** The visit did not meet the visitor rule (visitor-rule.ts): a passer-by, not a visitor. */
  passerBy: boolean;
  /**
   * The visit began with a randomized device first heard inside the mall and linked to no
   * predecessor: most likely a rotation the linker missed (the visitor count's lower bound).
   */
  orphan: boolean;
}

interface DeviceSession {
  visitDevice: string;
  visitDevices: number;
  doubtfulLinks: number;
  insideMs: number;
  /** The visit's first burst heard (Infinity while only inferred ones placed it): insideMs counts from here. */
  heardFromMs: number;
  orphan: boolean;
  /** The visit met the visitor rule's signal condition. */
  signalMet: boolean;
  /** Bursts counted toward it so far; undefined once met. */
  signal: SignalWindow | undefined;
  /** How long the device is taken to stay after its last burst. */
  tailMs: number;
  visitStartMs: number;
  visitLastMs: number;
  visitStays: number;
  visitBursts: number;
  /** The device the open stay was heard from (the predecessor, right after a link). */
  stayDevice: string;
  stayZoneId: string;
  stayStartMs: number;
  stayLastMs: number;
  stayBursts: number;
}

export interface SessionState {
  /** Open sessions by the device currently heard. */
  devices: Map<string, DeviceSession>;
  closedStays: ZoneStay[];
  closedVisits: Visit[];
  /**
   * Minute ends (ms) someone counts stays over: each closed stay adds 1 to its zone at every
   * listed instant T it covers (startMs <= T < endMs). See `watchMinute`.
   */
  coverage: Map<number, Map<string, number>>;
  /** No open visit was last heard before this (a lower bound): `expireSessions` skips its scan until then. */
  oldestLastMs: number;
}

export interface SessionOptions {
  /** A visit ends after this much silence (event time). */
  visitIdleMs: number;
  /** Zones in front of the mall: time there does not make a visitor. */
  outsideZones?: ReadonlySet<string>;
  /** Visitor or passer-by (default DEFAULT_VISITOR_RULE). */
  visitor?: Readonly<VisitorRule>;
  /** Zones people cross rather than stay in (corridors, escalators, the street...). */
  transitZones?: ReadonlySet<string>;
  /**
   * A silence longer than visitIdleMs but at most this long does not end a visit when the device
   * fell silent inside the mall and is heard again inside: neither its last zone before the
   * silence nor its first after it is in `arrivalZones`. Default 0: never (nor without arrivalZones).
   */
  silenceBridgeMs?: number;
  /** Zones people enter and leave the mall through (entrances and the street in front of them). */
  arrivalZones?: ReadonlySet<string>;
  /**
   * Between a burst in a store and one in a transit zone, the person crossed into the transit
   * zone at most this long before the burst there (or left it at most this long after): the
   * stay boundary moves from the midpoint toward the transit burst. Default TRANSIT_EDGE_MS.
   */
  transitEdgeMs?: number;
}

/** Default of `transitEdgeMs`: about half the time it takes to cross a corridor. */
export const TRANSIT_EDGE_MS = 10_000;

export function createSessionState(): SessionState {
  return {
    devices: new Map(),
    closedStays: [],
    closedVisits: [],
    coverage: new Map(),
    oldestLastMs: Number.POSITIVE_INFINITY,
  };
}

const MINUTE_MS = 60_000;

function closeStay(state: SessionState, s: DeviceSession, endMs: number, options: SessionOptions): void {
  if (options.outsideZones?.has(s.stayZoneId) !== true) {
    s.insideMs += Math.max(0, endMs - Math.max(s.stayStartMs, s.heardFromMs));
  }
  if (state.coverage.size > 0) {
    for (let t = Math.ceil(s.stayStartMs / MINUTE_MS) * MINUTE_MS; t < endMs; t += MINUTE_MS) {
      const counts = state.coverage.get(t);
      if (counts !== undefined) counts.set(s.stayZoneId, (counts.get(s.stayZoneId) ?? 0) + 1);
    }
  }
  state.closedStays.push({
    device: s.stayDevice,
    zoneId: s.stayZoneId,
    startMs: s.stayStartMs,
    endMs,
    bursts: s.stayBursts,
    visitDevice: s.visitDevice,
  });
}

function closeVisit(state: SessionState, device: string, s: DeviceSession, options: SessionOptions): void {
  closeStay(state, s, s.stayLastMs + s.tailMs, options);
  state.closedVisits.push({
    device: s.visitDevice,
    startMs: s.visitStartMs,
    endMs: s.visitLastMs + s.tailMs,
    stays: s.visitStays,
    bursts: s.visitBursts,
    devices: s.visitDevices,
    doubtfulLinks: s.doubtfulLinks,
    insideMs: s.insideMs,
    passerBy: !s.signalMet || s.insideMs < (options.visitor ?? DEFAULT_VISITOR_RULE).minInsideMs,
    orphan: s.orphan,
  });
  state.devices.delete(device);
}

/**
 * One decided burst: the device was placed in `zoneId` at `atMs`, heard at `rssiDbm` at its
 * strongest. Bursts come in time order per device. `tailMs`: how long after this burst the device
 * is taken to stay if none follows. An `inferred` burst (a zone walked through unheard, rssiDbm
 * ignored) places a stay but counts no burst.
 */
export function observeBurst(
  state: SessionState,
  device: string,
  zoneId: string,
  atMs: number,
  rssiDbm: number,
  options: SessionOptions,
  tailMs = 0,
  inferred = false,
): void {
  let s = state.devices.get(device);
  if (s !== undefined && !inferred && !continuesVisit(s, zoneId, atMs, options)) {
    closeVisit(state, device, s, options);
    s = undefined;
  }
  const bursts = inferred ? 0 : 1;
  if (s === undefined) {
    if (atMs < state.oldestLastMs) state.oldestLastMs = atMs;
    s = {
      visitDevice: device,
      visitDevices: 1,
      doubtfulLinks: 0,
      insideMs: 0,
      heardFromMs: inferred ? Number.POSITIVE_INFINITY : atMs,
      orphan: false,
      signalMet: false,
      signal: { atMs: [], rssiDbm: [] },
      tailMs,
      visitStartMs: atMs,
      visitLastMs: atMs,
      visitStays: 1,
      visitBursts: bursts,
      stayDevice: device,
      stayZoneId: zoneId,
      stayStartMs: atMs,
      stayLastMs: atMs,
      stayBursts: bursts,
    };
    state.devices.set(device, s);
    countSignal(s, atMs, rssiDbm, inferred, options);
    return;
  }
  countSignal(s, atMs, rssiDbm, inferred, options);
  if (!inferred) {
    s.tailMs = tailMs;
    if (s.heardFromMs > atMs) s.heardFromMs = atMs;
  }
  s.visitLastMs = atMs;
  s.visitBursts += bursts;
  if (zoneId === s.stayZoneId && s.stayDevice === device) {
    s.stayLastMs = atMs;
    s.stayBursts += bursts;
    return;
  }
  const boundaryMs = stayBoundaryMs(s.stayZoneId, s.stayLastMs, zoneId, atMs, options);
  closeStay(state, s, boundaryMs, options);
  s.visitStays++;
  s.stayDevice = device;
  s.stayZoneId = zoneId;
  s.stayStartMs = boundaryMs;
  s.stayLastMs = atMs;
  s.stayBursts = bursts;
}

/** The longest silence any open visit can outlast (an open visit closes after at most this). */
export function sessionLimitMs(options: SessionOptions): number {
  const bridgeMs = options.silenceBridgeMs ?? 0;
  return options.arrivalZones !== undefined && bridgeMs > options.visitIdleMs
    ? bridgeMs
    : options.visitIdleMs;
}

/** The longest silence after which a burst can still continue the visit `s` (see `continuesVisit`). */
function silenceLimitMs(s: DeviceSession, options: SessionOptions): number {
  const bridgeMs = options.silenceBridgeMs ?? 0;
  if (bridgeMs <= options.visitIdleMs || options.arrivalZones?.has(s.stayZoneId) !== false) {
    return options.visitIdleMs;
  }
  return bridgeMs;
}

/**
 * A burst in `zoneId` at `atMs` continues the open visit `s`: heard within visitIdleMs, or within
 * silenceBridgeMs when neither the zone it fell silent in nor `zoneId` is an arrival zone (a phone
 * asleep in a store, not someone who left and came back: they would have crossed an entrance).
 */
function continuesVisit(s: DeviceSession, zoneId: string, atMs: number, options: SessionOptions): boolean {
  const silentMs = atMs - s.visitLastMs;
  if (silentMs <= options.visitIdleMs) return true;
  return silentMs <= silenceLimitMs(s, options) && options.arrivalZones?.has(zoneId) === false;
}

/** The open visit of `device` would go on with a burst in `zoneId` at `atMs` (see `continuesVisit`). */
export function wouldContinue(
  state: SessionState,
  device: string,
  zoneId: string,
  atMs: number,
  options: SessionOptions,
): boolean {
  const s = state.devices.get(device);
  return s !== undefined && continuesVisit(s, zoneId, atMs, options);
}

function countSignal(s: DeviceSession, atMs: number, rssiDbm: number, inferred: boolean, o: SessionOptions) {
  if (inferred || s.signal === undefined) return;
  if (countSignalBurst(s.signal, atMs, rssiDbm, o.visitor ?? DEFAULT_VISITOR_RULE)) {
    s.signalMet = true;
    s.signal = undefined;
  }
}

/**
 * When a device last heard in `fromZone` at `fromMs` and next in `toZone` at `toMs` changed zones:
 * the midpoint, unless one side is a transit zone and the other is not (then close to the burst
 * in the transit zone: nobody lingers long in a corridor).
 */
function stayBoundaryMs(
  fromZone: string,
  fromMs: number,
  toZone: string,
  toMs: number,
  o: SessionOptions,
): number {
  const mid = Math.round((fromMs + toMs) / 2);
  const transit = o.transitZones;
  if (transit === undefined) return mid;
  const edgeMs = o.transitEdgeMs ?? TRANSIT_EDGE_MS;
  const fromTransit = transit.has(fromZone);
  const toTransit = transit.has(toZone);
  if (toTransit && !fromTransit) return Math.max(mid, toMs - edgeMs);
  if (fromTransit && !toTransit) return Math.min(mid, fromMs + edgeMs);
  return mid;
}

/**
 * Hands `predecessor`'s open session to `successor` (a rotated MAC): the successor's bursts
 * continue that visit. Returns false when the predecessor has no open session or the successor
 * already has one.
 */
export function linkDevice(
  state: SessionState,
  predecessor: string,
  successor: string,
  doubtful: boolean,
): boolean {
  const s = state.devices.get(predecessor);
  if (s === undefined || state.devices.has(successor)) return false;
  state.devices.delete(predecessor);
  s.visitDevices++;
  if (doubtful) s.doubtfulLinks++;
  state.devices.set(successor, s);
  return true;
}

/** Starts counting the stays that cover the instant `atMs` (a minute's end; see `coveredAt`). */
export function watchMinute(state: SessionState, atMs: number): void {
  if (!state.coverage.has(atMs)) state.coverage.set(atMs, new Map());
}

/**
 * Stays per zone covering the watched instant `atMs` (closed ones, and open ones that began by
 * then), and stops watching it. Exact once every visit that could still end before `atMs` has
 * been closed: call `expireSessions` up to `atMs + sessionLimitMs(options)` first.
 */
export function coveredAt(state: SessionState, atMs: number): Map<string, number> {
  const counts = state.coverage.get(atMs) ?? new Map<string, number>();
  state.coverage.delete(atMs);
  for (const s of state.devices.values()) {
    if (s.stayStartMs <= atMs) counts.set(s.stayZoneId, (counts.get(s.stayZoneId) ?? 0) + 1);
  }
  return counts;
}

/** Marks the device's open visit as an orphan (see `Visit.orphan`). */
export function markOrphan(state: SessionState, device: string): void {
  const s = state.devices.get(device);
  if (s !== undefined) s.orphan = true;
}

/** Closes the open visit of `device`, if any, as silence would. */
export function endVisit(state: SessionState, device: string, options: SessionOptions): void {
  const s = state.devices.get(device);
  if (s !== undefined) closeVisit(state, device, s, options);
}

/**
 * Closes every visit silent at `watermarkMs` for longer than `visitIdleMs`, or than
 * `silenceBridgeMs` when it fell silent outside the arrival zones (it may still be bridged).
 */
export function expireSessions(state: SessionState, watermarkMs: number, options: SessionOptions): void {
  if (watermarkMs - state.oldestLastMs <= options.visitIdleMs) return; // nothing can have expired
  let oldest = Number.POSITIVE_INFINITY;
  for (const [device, s] of state.devices) {
    if (watermarkMs - s.visitLastMs > silenceLimitMs(s, options)) closeVisit(state, device, s, options);
    else if (s.visitLastMs < oldest) oldest = s.visitLastMs;
  }
  state.oldestLastMs = oldest;
}

/** Hands the closed stays and visits to the caller and empties the queues. */
export function drainClosed(state: SessionState): { stays: ZoneStay[]; visits: Visit[] } {
  const out = { stays: state.closedStays, visits: state.closedVisits };
  state.closedStays = [];
  state.closedVisits = [];
  return out;
}

/** Unique visitors with the uncertainty that rotating MACs leave. */
export interface VisitorEstimate {
  /** Distinct visit devices (linked rotations count once), passers-by left out. */
  visitors: number;
  /** If every orphan visit was a missed rotation of someone already counted. */
  low: number;
  /** If every doubtful link joined two different people. */
  high: number;
}

/**
 * Unique visitors over a set of visits (one day's, say): each visit's device counts once, passers-by
 * do not count, and the interval spans the linker's doubts (see `Visit.orphan`, `doubtfulLinks`).
 */
export function estimateVisitors(
  visits: readonly Pick<Visit, 'device' | 'passerBy' | 'orphan' | 'doubtfulLinks'>[],
): VisitorEstimate {
  const devices = new Set<string>();
  const orphans = new Set<string>();
  let doubtful = 0;
  for (const v of visits) {
    if (v.passerBy) continue;
    devices.add(v.device);
    if (v.orphan) orphans.add(v.device);
    doubtful += v.doubtfulLinks;
  }
  return { visitors: devices.size, low: devices.size - orphans.size, high: devices.size + doubtful };
}
