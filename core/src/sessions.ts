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
  acquirePseudonym,
  coverId,
  createPseudonymTable,
  findPseudonym,
  type PseudonymTable,
  pseudonymText,
  releasePseudonym,
  retainPseudonym,
} from './pseudonym-table.ts';
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
  /**
   * Mean confidence of the zone decisions of its bursts heard (zone-estimator.ts), 0..1; null when
   * no burst was heard in it (a zone walked through unheard, placed by the walk alone).
   */
  confidence: number | null;
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

/** An open session as plain data (snapshots: occupancy-snapshot.ts). */
export interface OpenSession {
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
  /** Sum of the confidences of the open stay's bursts heard (see ZoneStay.confidence); absent in older snapshots. */
  stayConfidence?: number;
}

/**
 * Open sessions as slots with typed-array columns (issue 4: memory per device), like the engine's
 * devices (device-table.ts). The visitor rule's signal window keeps its first SIGNAL_INLINE bursts
 * in the columns (times as whole ms after the visit's start, RSSI as whole dBm); a rule that needs
 * more bursts, or a value that does not fit, spills the window to `signalSpill`.
 */
interface SessionColumns {
  capacity: number;
  used: number;
  free: number[];
  /** Pseudonym ids (pseudonym-table.ts), each held: the device heard, the visit's first, the stay's. */
  key: Int32Array;
  visitDevice: Int32Array;
  stayDevice: Int32Array;
  /** Open slots in the order they expire in (a list: -1 ends it). */
  next: Int32Array;
  prev: Int32Array;
  stayZone: Int32Array;
  visitDevices: Int32Array;
  doubtfulLinks: Int32Array;
  visitStays: Int32Array;
  visitBursts: Int32Array;
  stayBursts: Int32Array;
  insideMs: Float64Array;
  heardFromMs: Float64Array;
  tailMs: Float64Array;
  visitStartMs: Float64Array;
  visitLastMs: Float64Array;
  stayStartMs: Float64Array;
  stayLastMs: Float64Array;
  /** Sum of the confidences of the stay's bursts heard (Float32: a mean to 6 digits is plenty, and 4 bytes a session). */
  stayConfidence: Float32Array;
  flags: Uint8Array;
  /** Bursts in the signal window (-1: met, no window). */
  signalLen: Int8Array;
  /** Burst times as ms after the visit's start. */
  signalAtMs: Int32Array;
  signalRssiDbm: Int16Array;
  signalSpill: Map<number, SignalWindow>;
}

const ORPHAN = 1;
const SIGNAL_MET = 2;
const SIGNAL_INLINE = 4;

/** RSSI is whole dBm from every source we know: kept inline as Int16 when it is. */
function isInt16(v: number): boolean {
  return Number.isInteger(v) && v >= -32768 && v <= 32767;
}

/** Times are whole ms: kept inline as Int32 offsets from the visit's start (24 days) when they are. */
function isInt32(v: number): boolean {
  return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
}
const INITIAL_SLOTS = 1024;

export interface SessionState {
  /** Pseudonyms interned (shared with the engine's device table). */
  names: PseudonymTable;
  /** Pseudonym id of the device currently heard → its open session's slot (-1: none; beyond the length: none). */
  sessionOf: Int32Array;
  /** Open sessions, and the first and last in the order visits expire in (-1: none). */
  open: number;
  head: number;
  tail: number;
  cols: SessionColumns;
  /** Zone ids met, by index (stays hold the index). */
  zoneIds: string[];
  zoneIndex: Map<string, number>;
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

function createColumns(n: number): SessionColumns {
  return {
    capacity: n,
    used: 0,
    free: [],
    key: new Int32Array(n),
    visitDevice: new Int32Array(n),
    stayDevice: new Int32Array(n),
    next: new Int32Array(n),
    prev: new Int32Array(n),
    stayZone: new Int32Array(n),
    visitDevices: new Int32Array(n),
    doubtfulLinks: new Int32Array(n),
    visitStays: new Int32Array(n),
    visitBursts: new Int32Array(n),
    stayBursts: new Int32Array(n),
    insideMs: new Float64Array(n),
    heardFromMs: new Float64Array(n),
    tailMs: new Float64Array(n),
    visitStartMs: new Float64Array(n),
    visitLastMs: new Float64Array(n),
    stayStartMs: new Float64Array(n),
    stayLastMs: new Float64Array(n),
    stayConfidence: new Float32Array(n),
    flags: new Uint8Array(n),
    signalLen: new Int8Array(n),
    signalAtMs: new Int32Array(n * SIGNAL_INLINE),
    signalRssiDbm: new Int16Array(n * SIGNAL_INLINE),
    signalSpill: new Map(),
  };
}

const TYPED_COLUMNS = [
  'key',
  'visitDevice',
  'stayDevice',
  'next',
  'prev',
  'stayZone',
  'visitDevices',
  'doubtfulLinks',
  'visitStays',
  'visitBursts',
  'stayBursts',
  'insideMs',
  'heardFromMs',
  'tailMs',
  'visitStartMs',
  'visitLastMs',
  'stayStartMs',
  'stayLastMs',
  'stayConfidence',
  'flags',
  'signalLen',
  'signalAtMs',
  'signalRssiDbm',
] as const;

function grow(c: SessionColumns): void {
  const n = c.capacity * 2;
  const bigger = createColumns(n);
  for (const key of TYPED_COLUMNS) (bigger[key] as Float64Array).set(c[key] as Float64Array);
  for (const key of TYPED_COLUMNS) (c as unknown as Record<string, unknown>)[key] = bigger[key];
  c.capacity = n;
}

/** A device: its pseudonym, or its id in the state's pseudonym table. */
export type DeviceRef = string | number;

export function createSessionState(names: PseudonymTable = createPseudonymTable()): SessionState {
  return {
    names,
    sessionOf: new Int32Array(1024).fill(-1),
    open: 0,
    head: -1,
    tail: -1,
    cols: createColumns(INITIAL_SLOTS),
    zoneIds: [],
    zoneIndex: new Map(),
    closedStays: [],
    closedVisits: [],
    coverage: new Map(),
    oldestLastMs: Number.POSITIVE_INFINITY,
  };
}

const MINUTE_MS = 60_000;

function zoneOf(state: SessionState, zoneId: string): number {
  let z = state.zoneIndex.get(zoneId);
  if (z === undefined) {
    z = state.zoneIds.push(zoneId) - 1;
    state.zoneIndex.set(zoneId, z);
  }
  return z;
}

/** The pseudonym id of `device` (-1: not interned: nothing holds it). */
function pidOf(state: SessionState, device: DeviceRef): number {
  return typeof device === 'number' ? device : findPseudonym(state.names, device);
}

/** The pseudonym id of `device`, with one more holder. */
function holdPid(state: SessionState, device: DeviceRef): number {
  if (typeof device === 'string') return acquirePseudonym(state.names, device);
  retainPseudonym(state.names, device);
  return device;
}

/** The open session's slot of `device` (-1: none). */
export function sessionOfDevice(state: SessionState, device: DeviceRef): number {
  const p = pidOf(state, device);
  return p < 0 || p >= state.sessionOf.length ? -1 : state.sessionOf[p]!;
}

function setSessionOf(state: SessionState, p: number, s: number): void {
  state.sessionOf = coverId(state.sessionOf, p);
  state.sessionOf[p] = s;
}

function append(state: SessionState, s: number): void {
  const c = state.cols;
  c.prev[s] = state.tail;
  c.next[s] = -1;
  if (state.tail >= 0) c.next[state.tail] = s;
  else state.head = s;
  state.tail = s;
}

function unlink(state: SessionState, s: number): void {
  const c = state.cols;
  const p = c.prev[s]!;
  const n = c.next[s]!;
  if (p >= 0) c.next[p] = n;
  else state.head = n;
  if (n >= 0) c.prev[n] = p;
  else state.tail = p;
}

/** A slot for `device`'s new session, last in the order; its visit and stay devices set to it. */
function openSlot(state: SessionState, device: DeviceRef): number {
  const c = state.cols;
  let s = c.free.pop();
  if (s === undefined) {
    if (c.used === c.capacity) grow(c);
    s = c.used++;
  }
  const p = holdPid(state, device);
  c.key[s] = p;
  setSessionOf(state, p, s);
  retainPseudonym(state.names, p);
  c.visitDevice[s] = p;
  retainPseudonym(state.names, p);
  c.stayDevice[s] = p;
  append(state, s);
  state.open++;
  return s;
}

function closeSlot(state: SessionState, s: number): void {
  const c = state.cols;
  const names = state.names;
  state.sessionOf[c.key[s]!] = -1;
  releasePseudonym(names, c.key[s]!);
  releasePseudonym(names, c.visitDevice[s]!);
  releasePseudonym(names, c.stayDevice[s]!);
  unlink(state, s);
  state.open--;
  c.signalSpill.delete(s);
  c.free.push(s);
}

/** Sets the device the open stay in slot `s` is heard from. */
function setStayDevice(state: SessionState, s: number, p: number): void {
  const c = state.cols;
  const old = c.stayDevice[s]!;
  if (old === p) return;
  retainPseudonym(state.names, p);
  c.stayDevice[s] = p;
  releasePseudonym(state.names, old);
}

function closeStay(state: SessionState, s: number, endMs: number, options: SessionOptions): void {
  const c = state.cols;
  const zoneId = state.zoneIds[c.stayZone[s]!]!;
  const stayStartMs = c.stayStartMs[s]!;
  if (options.outsideZones?.has(zoneId) !== true) {
    c.insideMs[s]! += Math.max(0, endMs - Math.max(stayStartMs, c.heardFromMs[s]!));
  }
  if (state.coverage.size > 0) {
    for (let t = Math.ceil(stayStartMs / MINUTE_MS) * MINUTE_MS; t < endMs; t += MINUTE_MS) {
      const counts = state.coverage.get(t);
      if (counts !== undefined) counts.set(zoneId, (counts.get(zoneId) ?? 0) + 1);
    }
  }
  state.closedStays.push({
    device: pseudonymText(state.names, c.stayDevice[s]!),
    zoneId,
    startMs: stayStartMs,
    endMs,
    bursts: c.stayBursts[s]!,
    confidence: confidenceOf(c.stayConfidence[s]!, c.stayBursts[s]!),
    visitDevice: pseudonymText(state.names, c.visitDevice[s]!),
  });
}

/** Mean confidence of a stay's bursts heard; null for none, or when a restored stay's sum is unknown. */
function confidenceOf(sum: number, bursts: number): number | null {
  return bursts > 0 && !Number.isNaN(sum) ? sum / bursts : null;
}

function closeVisit(state: SessionState, s: number, options: SessionOptions): void {
  const c = state.cols;
  closeStay(state, s, c.stayLastMs[s]! + c.tailMs[s]!, options);
  const insideMs = c.insideMs[s]!;
  state.closedVisits.push({
    device: pseudonymText(state.names, c.visitDevice[s]!),
    startMs: c.visitStartMs[s]!,
    endMs: c.visitLastMs[s]! + c.tailMs[s]!,
    stays: c.visitStays[s]!,
    bursts: c.visitBursts[s]!,
    devices: c.visitDevices[s]!,
    doubtfulLinks: c.doubtfulLinks[s]!,
    insideMs,
    passerBy:
      (c.flags[s]! & SIGNAL_MET) === 0 || insideMs < (options.visitor ?? DEFAULT_VISITOR_RULE).minInsideMs,
    orphan: (c.flags[s]! & ORPHAN) !== 0,
  });
  closeSlot(state, s);
}

/**
 * One decided burst: the device was placed in `zoneId` at `atMs`, heard at `rssiDbm` at its
 * strongest. Bursts come in time order per device. `tailMs`: how long after this burst the device
 * is taken to stay if none follows. An `inferred` burst (a zone walked through unheard, rssiDbm
 * ignored) places a stay but counts no burst. `confidence`: of the burst's zone decision (0..1;
 * 1 for a zone given rather than estimated).
 */
export function observeBurst(
  state: SessionState,
  device: DeviceRef,
  zoneId: string,
  atMs: number,
  rssiDbm: number,
  options: SessionOptions,
  tailMs = 0,
  inferred = false,
  confidence = 1,
): void {
  let s = sessionOfDevice(state, device);
  if (s >= 0 && !inferred && !continuesVisit(state, s, zoneId, atMs, options)) {
    closeVisit(state, s, options);
    s = -1;
  }
  const bursts = inferred ? 0 : 1;
  const sure = inferred ? 0 : confidence;
  const c = state.cols;
  const zone = zoneOf(state, zoneId);
  if (s < 0) {
    if (atMs < state.oldestLastMs) state.oldestLastMs = atMs;
    s = openSlot(state, device);
    c.visitDevices[s] = 1;
    c.doubtfulLinks[s] = 0;
    c.insideMs[s] = 0;
    c.heardFromMs[s] = inferred ? Number.POSITIVE_INFINITY : atMs;
    c.flags[s] = 0;
    c.signalLen[s] = 0;
    c.tailMs[s] = tailMs;
    c.visitStartMs[s] = atMs;
    c.visitLastMs[s] = atMs;
    c.visitStays[s] = 1;
    c.visitBursts[s] = bursts;
    c.stayZone[s] = zone;
    c.stayStartMs[s] = atMs;
    c.stayLastMs[s] = atMs;
    c.stayBursts[s] = bursts;
    c.stayConfidence[s] = sure;
    countSignal(state, s, atMs, rssiDbm, inferred, options);
    return;
  }
  countSignal(state, s, atMs, rssiDbm, inferred, options);
  if (!inferred) {
    c.tailMs[s] = tailMs;
    if (c.heardFromMs[s]! > atMs) c.heardFromMs[s] = atMs;
  }
  c.visitLastMs[s] = atMs;
  c.visitBursts[s]! += bursts;
  const p = c.key[s]!;
  if (zone === c.stayZone[s] && c.stayDevice[s] === p) {
    c.stayLastMs[s] = atMs;
    c.stayBursts[s]! += bursts;
    c.stayConfidence[s]! += sure;
    return;
  }
  const boundaryMs = stayBoundaryMs(state.zoneIds[c.stayZone[s]!]!, c.stayLastMs[s]!, zoneId, atMs, options);
  if (boundaryMs <= c.stayStartMs[s]!) {
    // The stay would end where it began (a zone walked through unheard, then a burst elsewhere at
    // that very time): it held no time, so the new zone takes its place. Closed, it would be a
    // second stay of the device starting at the same time as the next, which storage keys on.
    setStayDevice(state, s, p);
    c.stayZone[s] = zone;
    c.stayLastMs[s] = atMs;
    c.stayBursts[s] = bursts;
    c.stayConfidence[s] = sure;
    return;
  }
  closeStay(state, s, boundaryMs, options);
  c.visitStays[s]!++;
  setStayDevice(state, s, p);
  c.stayZone[s] = zone;
  c.stayStartMs[s] = boundaryMs;
  c.stayLastMs[s] = atMs;
  c.stayBursts[s] = bursts;
  c.stayConfidence[s] = sure;
}

/** The longest silence any open visit can outlast (an open visit closes after at most this). */
export function sessionLimitMs(options: SessionOptions): number {
  const bridgeMs = options.silenceBridgeMs ?? 0;
  return options.arrivalZones !== undefined && bridgeMs > options.visitIdleMs
    ? bridgeMs
    : options.visitIdleMs;
}

/** The longest silence after which a burst can still continue the visit in slot `s` (see `continuesVisit`). */
function silenceLimitMs(state: SessionState, s: number, options: SessionOptions): number {
  const bridgeMs = options.silenceBridgeMs ?? 0;
  if (
    bridgeMs <= options.visitIdleMs ||
    options.arrivalZones?.has(state.zoneIds[state.cols.stayZone[s]!]!) !== false
  ) {
    return options.visitIdleMs;
  }
  return bridgeMs;
}

/**
 * A burst in `zoneId` at `atMs` continues the open visit in slot `s`: heard within visitIdleMs, or
 * within silenceBridgeMs when neither the zone it fell silent in nor `zoneId` is an arrival zone (a
 * phone asleep in a store, not someone who left and came back: they would have crossed an entrance).
 */
function continuesVisit(
  state: SessionState,
  s: number,
  zoneId: string,
  atMs: number,
  options: SessionOptions,
): boolean {
  const silentMs = atMs - state.cols.visitLastMs[s]!;
  if (silentMs <= options.visitIdleMs) return true;
  return silentMs <= silenceLimitMs(state, s, options) && options.arrivalZones?.has(zoneId) === false;
}

/** The open visit of `device` would go on with a burst in `zoneId` at `atMs` (see `continuesVisit`). */
export function wouldContinue(
  state: SessionState,
  device: DeviceRef,
  zoneId: string,
  atMs: number,
  options: SessionOptions,
): boolean {
  const s = sessionOfDevice(state, device);
  return s >= 0 && continuesVisit(state, s, zoneId, atMs, options);
}

/** The zone of the open stay in session slot `s` (see `sessionOfDevice`). */
export function stayZoneOf(state: SessionState, s: number): string {
  return state.zoneIds[state.cols.stayZone[s]!]!;
}

/** Bursts heard in the open stay in session slot `s`. */
export function stayBurstsOf(state: SessionState, s: number): number {
  return state.cols.stayBursts[s]!;
}

/** When the visit in session slot `s` was last placed. */
export function visitLastMsOf(state: SessionState, s: number): number {
  return state.cols.visitLastMs[s]!;
}

/** `countSignalBurst` (visitor-rule.ts) on the slot's window, kept inline while it fits. */
function countSignal(
  state: SessionState,
  s: number,
  atMs: number,
  rssiDbm: number,
  inferred: boolean,
  o: SessionOptions,
) {
  const c = state.cols;
  if (inferred || c.signalLen[s]! < 0) return;
  const rule = o.visitor ?? DEFAULT_VISITOR_RULE;
  let window = c.signalSpill.get(s);
  if (window === undefined) {
    const n = c.signalLen[s]!;
    const base = s * SIGNAL_INLINE;
    const originMs = c.visitStartMs[s]!;
    let drop = 0;
    while (
      drop < n &&
      (atMs - (originMs + c.signalAtMs[base + drop]!) > rule.windowMs ||
        c.signalRssiDbm[base + drop]! < rule.firstRssiDbm)
    ) {
      drop++;
    }
    let len = n;
    if (drop > 0) {
      c.signalAtMs.copyWithin(base, base + drop, base + n);
      c.signalRssiDbm.copyWithin(base, base + drop, base + n);
      len = n - drop;
    }
    if (rssiDbm >= (len === 0 ? rule.firstRssiDbm : rule.rssiDbm)) {
      if (len + 1 >= rule.minBursts) {
        c.flags[s]! |= SIGNAL_MET;
        c.signalLen[s] = -1;
        return;
      }
      if (len < SIGNAL_INLINE && isInt16(rssiDbm) && isInt32(atMs - originMs)) {
        c.signalAtMs[base + len] = atMs - originMs;
        c.signalRssiDbm[base + len] = rssiDbm;
        c.signalLen[s] = len + 1;
        return;
      }
      // A rule that needs more bursts than fit inline, or an RSSI Int16 would not keep exactly: the
      // window moves out.
      window = {
        atMs: Array.from(c.signalAtMs.subarray(base, base + len), (ms) => originMs + ms),
        rssiDbm: Array.from(c.signalRssiDbm.subarray(base, base + len)),
      };
      window.atMs.push(atMs);
      window.rssiDbm.push(rssiDbm);
      c.signalSpill.set(s, window);
      return;
    }
    c.signalLen[s] = len;
    if (len >= rule.minBursts) {
      c.flags[s]! |= SIGNAL_MET;
      c.signalLen[s] = -1;
    }
    return;
  }
  if (countSignalBurst(window, atMs, rssiDbm, rule)) {
    c.flags[s]! |= SIGNAL_MET;
    c.signalLen[s] = -1;
    c.signalSpill.delete(s);
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
  predecessor: DeviceRef,
  successor: DeviceRef,
  doubtful: boolean,
): boolean {
  const s = sessionOfDevice(state, predecessor);
  if (s < 0 || sessionOfDevice(state, successor) >= 0) return false;
  const c = state.cols;
  const old = c.key[s]!;
  state.sessionOf[old] = -1;
  const p = holdPid(state, successor);
  c.key[s] = p;
  setSessionOf(state, p, s);
  releasePseudonym(state.names, old);
  c.visitDevices[s]!++;
  if (doubtful) c.doubtfulLinks[s]!++;
  // As a Map's delete and set: the session goes last in the order.
  unlink(state, s);
  append(state, s);
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
  const c = state.cols;
  for (let s = state.head; s >= 0; s = c.next[s]!) {
    if (c.stayStartMs[s]! <= atMs) {
      const zoneId = state.zoneIds[c.stayZone[s]!]!;
      counts.set(zoneId, (counts.get(zoneId) ?? 0) + 1);
    }
  }
  return counts;
}

/** Marks the device's open visit as an orphan (see `Visit.orphan`). */
export function markOrphan(state: SessionState, device: DeviceRef): void {
  const s = sessionOfDevice(state, device);
  if (s >= 0) state.cols.flags[s]! |= ORPHAN;
}

/** Closes the open visit of `device`, if any, as silence would. */
export function endVisit(state: SessionState, device: DeviceRef, options: SessionOptions): void {
  const s = sessionOfDevice(state, device);
  if (s >= 0) closeVisit(state, s, options);
}

/**
 * Closes every visit silent at `watermarkMs` for longer than `visitIdleMs`, or than
 * `silenceBridgeMs` when it fell silent outside the arrival zones (it may still be bridged).
 */
export function expireSessions(state: SessionState, watermarkMs: number, options: SessionOptions): void {
  if (watermarkMs - state.oldestLastMs <= options.visitIdleMs) return; // nothing can have expired
  let oldest = Number.POSITIVE_INFINITY;
  const c = state.cols;
  for (let s = state.head, next = -1; s >= 0; s = next) {
    next = c.next[s]!;
    const lastMs = c.visitLastMs[s]!;
    if (watermarkMs - lastMs > silenceLimitMs(state, s, options)) closeVisit(state, s, options);
    else if (lastMs < oldest) oldest = lastMs;
  }
  state.oldestLastMs = oldest;
}

/** The open sessions as plain data, in the order they expire in. */
export function openSessions(state: SessionState): [string, OpenSession][] {
  const c = state.cols;
  const out: [string, OpenSession][] = [];
  const names = state.names;
  for (let s = state.head; s >= 0; s = c.next[s]!) {
    const spilled = c.signalSpill.get(s);
    const n = c.signalLen[s]!;
    const base = s * SIGNAL_INLINE;
    out.push([
      pseudonymText(names, c.key[s]!),
      {
        visitDevice: pseudonymText(names, c.visitDevice[s]!),
        visitDevices: c.visitDevices[s]!,
        doubtfulLinks: c.doubtfulLinks[s]!,
        insideMs: c.insideMs[s]!,
        heardFromMs: c.heardFromMs[s]!,
        orphan: (c.flags[s]! & ORPHAN) !== 0,
        signalMet: (c.flags[s]! & SIGNAL_MET) !== 0,
        signal:
          spilled !== undefined
            ? { atMs: [...spilled.atMs], rssiDbm: [...spilled.rssiDbm] }
            : n < 0
              ? undefined
              : {
                  atMs: Array.from(c.signalAtMs.subarray(base, base + n), (ms) => c.visitStartMs[s]! + ms),
                  rssiDbm: Array.from(c.signalRssiDbm.subarray(base, base + n)),
                },
        tailMs: c.tailMs[s]!,
        visitStartMs: c.visitStartMs[s]!,
        visitLastMs: c.visitLastMs[s]!,
        visitStays: c.visitStays[s]!,
        visitBursts: c.visitBursts[s]!,
        stayDevice: pseudonymText(names, c.stayDevice[s]!),
        stayZoneId: state.zoneIds[c.stayZone[s]!]!,
        stayStartMs: c.stayStartMs[s]!,
        stayLastMs: c.stayLastMs[s]!,
        stayBursts: c.stayBursts[s]!,
        stayConfidence: c.stayConfidence[s]!,
      },
    ]);
  }
  return out;
}

/** Opens `device`'s session as `openSessions` gave it (appended: give them in their order). */
export function restoreSession(state: SessionState, device: string, o: OpenSession): void {
  const c = state.cols;
  const s = openSlot(state, device);
  const visitDevice = acquirePseudonym(state.names, o.visitDevice);
  releasePseudonym(state.names, c.visitDevice[s]!);
  c.visitDevice[s] = visitDevice;
  c.visitDevices[s] = o.visitDevices;
  c.doubtfulLinks[s] = o.doubtfulLinks;
  c.insideMs[s] = o.insideMs;
  c.heardFromMs[s] = o.heardFromMs;
  c.flags[s] = (o.orphan ? ORPHAN : 0) | (o.signalMet ? SIGNAL_MET : 0);
  c.signalLen[s] = -1;
  if (o.signal !== undefined) {
    const n = o.signal.atMs.length;
    if (
      n <= SIGNAL_INLINE &&
      o.signal.rssiDbm.every(isInt16) &&
      o.signal.atMs.every((ms) => isInt32(ms - o.visitStartMs))
    ) {
      c.signalAtMs.set(
        o.signal.atMs.map((ms) => ms - o.visitStartMs),
        s * SIGNAL_INLINE,
      );
      c.signalRssiDbm.set(o.signal.rssiDbm, s * SIGNAL_INLINE);
      c.signalLen[s] = n;
    } else {
      c.signalLen[s] = 0;
      c.signalSpill.set(s, { atMs: [...o.signal.atMs], rssiDbm: [...o.signal.rssiDbm] });
    }
  }
  c.tailMs[s] = o.tailMs;
  c.visitStartMs[s] = o.visitStartMs;
  c.visitLastMs[s] = o.visitLastMs;
  c.visitStays[s] = o.visitStays;
  c.visitBursts[s] = o.visitBursts;
  const stayDevice = acquirePseudonym(state.names, o.stayDevice);
  releasePseudonym(state.names, c.stayDevice[s]!);
  c.stayDevice[s] = stayDevice;
  c.stayZone[s] = zoneOf(state, o.stayZoneId);
  c.stayStartMs[s] = o.stayStartMs;
  c.stayLastMs[s] = o.stayLastMs;
  c.stayBursts[s] = o.stayBursts;
  // A snapshot from before confidences were kept: the stay's is unknown (its mean reads null).
  c.stayConfidence[s] = o.stayConfidence ?? Number.NaN;
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
