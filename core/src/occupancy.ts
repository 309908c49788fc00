// Live occupancy, zone stays and visits from sightings: a pure state machine driven by event time
// (issue 4: zone estimation, sessionization, MAC randomization, out-of-order input).
//
// Arrival:   sightings wait in `pending` until the watermark (newest event time minus the allowed
//            lateness) passes them; then they apply in event-time order (ties broken by device,
//            zone, RSSI, sensor), so arrival order and batch boundaries within the lateness do
//            not matter. A sighting already behind the watermark applies at once (counted late).
// Events:    everything the watermark has passed runs in one event-time order; at equal times a
//            minute closes first, then sightings apply, then bursts complete, then decisions,
//            then final counts. Each kind has its own queue, already in time order.
//   sighting      readings within BURST_WINDOW_MS of a burst's first reading are one probe burst;
//                 the burst keeps the strongest RSSI per sensor and per zone.
//   burst done    (BURST_WINDOW_MS after its start) the burst is one step of the device's zone
//                 track: a hidden Markov model over the layout (zone-estimator.ts), scored with
//                 the layout's radio map (radio-map.ts). The track's causal estimate places the
//                 device for the live counts.
//   decision      (lagMs after a step) the step's zone is decided with the bursts that followed
//                 (fixed-lag Viterbi) and goes to the sessionizer (sessions.ts); zones walked
//                 through unheard between two steps are filled in along the shortest walk. A new
//                 randomized device's first decision may link it to the MAC it rotated from
//                 (device-linker.ts): its bursts then continue that visit. Time the phone was
//                 there unheard is placed too: a visit opens half a probe interval before its
//                 first burst, or, first heard inside, with the walk in from the street; a phone
//                 asleep in a store keeps its visit through the silence (silenceBridgeMs); one
//                 heard there before and not again stays the median remaining store stay.
//   minute close  the live count at the minute's end T: each device in its causal zone while its
//                 last burst is at most its presence time old, which follows its own probe rhythm
//                 (`presenceOf`). Row `final: false`. Once nobody has been present for
//                 QUIET_MINUTES_WRITTEN minutes, the empty minutes that follow are skipped, not
//                 written (read a missing minute as 0): a mall silent overnight, or a reading a
//                 year ahead, must not write a row per zone per empty minute.
//   final count   (once decisions have passed T plus the longest silence a visit may outlast,
//                 visitIdleMs or silenceBridgeMs: no stay can still end before T) the same minute
//                 again, `final: true`: the decided stays covering T. It agrees with the stays
//                 and visits, and replaces the live count.
//
// The shell owns the state and mutates it in place.

import {
  createLinkerState,
  DEFAULT_LINKER,
  findPredecessor,
  type LinkCandidate,
  type LinkerOptions,
  type LinkerState,
  type LinkSuccessor,
  noteRandomizedBurst,
} from './device-linker.ts';
import {
  addDevice,
  burstOf,
  createDeviceTable,
  type DeviceTable,
  deviceName,
  dropBurst,
  FED,
  findDevice,
  freeLink,
  MAPPED,
  pendingSteps,
  RANDOMIZED,
  readLink,
  releaseSlots,
  removeDevice,
  settleTrack,
  shiftQuarantine,
  storeLink,
  trackOf,
} from './device-table.ts';
import type { Layout } from './layout.ts';
import {
  createPendingQueue,
  type PendingQueue,
  pushPending,
  readyOrder,
  removeBefore,
} from './pending-queue.ts';
import { createPseudonymTable } from './pseudonym-table.ts';
import { createRadioMap, type RadioMap, type RadioMapOptions } from './radio-map.ts';
import {
  coveredAt,
  createSessionState,
  endVisit,
  expireSessions,
  linkDevice,
  markOrphan,
  observeBurst,
  type SessionOptions,
  type SessionState,
  sessionLimitMs,
  sessionOfDevice,
  stayBurstsOf,
  stayZoneOf,
  visitLastMsOf,
  watchMinute,
  wouldContinue,
} from './sessions.ts';
import { type VisitorRule, visitorRuleWith } from './visitor-rule.ts';
import {
  addStep,
  DEFAULT_ZONE_ESTIMATOR,
  decideOldest,
  filteredConfidence,
  type ZoneEstimatorOptions,
} from './zone-estimator.ts';
import {
  createZoneGraph,
  TRANSIT_KINDS,
  UNREACHABLE_HOPS,
  type ZoneGraph,
  zoneHops,
  zoneIndex,
  zonesBetween,
} from './zone-graph.ts';

export const BURST_WINDOW_MS = 3_000;
export const MINUTE_MS = 60_000;
export const QUIET_MINUTES_WRITTEN = 60;
/** Presence after the last burst, as a share of the device's typical gap between bursts. */
export const PRESENCE_GAP_SHARE = 1.5;
/** Presence after the only burst of a device whose rhythm is not known yet. */
export const FIRST_BURST_PRESENCE_MS = 40_000;
/** The probe rhythm assumed for a device heard once (phones probe every 20-60 s when idle). */
export const UNKNOWN_GAP_MS = 40_000;
/** A visit's last stay ends this share of the device's rhythm after its last burst. */
export const TAIL_GAP_SHARE = 0.5;
/** Gaps longer than this (silences) do not count toward a device's probe rhythm. */
export const MAX_RHYTHM_GAP_MS = 120_000;
/** Default of `silenceBridgeMs`: a phone asleep (WiFi scanning off) can stay silent for ~40 min. */
export const SILENCE_BRIDGE_MS = 45 * MINUTE_MS;
/**
 * Time to cross a zone walked through unheard (a corridor takes about 20 s at walking pace, an
 * entrance or the pavement in front of it less).
 */
export const WALK_MS_PER_ZONE = 15_000;
/**
 * A device last heard in a store, and heard there before, stays this share of the zone model's
 * mean store stay after its last burst (capped at visitIdleMs): stays are exponential in that
 * model (zone-estimator.ts), so ln 2 makes it the median remaining stay.
 */
export const STAY_ON_SHARE = Math.LN2;

export interface OccupancyState {
  /** Devices heard recently (device-table.ts). */
  devices: DeviceTable;
  /** Sightings newer than the watermark, not applied yet (pending-queue.ts). */
  pending: PendingQueue;
  /** Event time up to which sightings have been applied. */
  appliedToMs: number;
  /** Sightings that arrived behind the watermark. */
  late: number;
  /** Start of the minute not yet closed; undefined until the first sighting. */
  minuteStartMs: number | undefined;
  /** Newest event time seen. */
  newestMs: number;
  /** Newest event time of an applied sighting: after it plus the presence time, nobody is present. */
  lastAppliedHeardMs: number;
  /** Visits and zone stays, fed with each decided burst. */
  sessions: SessionState;
  /** Bursts in the order they started (device, start), waiting to complete; `burstHead` is the next. */
  burstQueueDevice: number[];
  burstQueueStartMs: number[];
  burstHead: number;
  /** Steps in the order they were taken (device, step time), waiting for their decision. */
  decisionQueueDevice: number[];
  decisionQueueMs: number[];
  /** The strongest RSSI of each of those steps' bursts (the visitor rule counts them). */
  decisionQueueRssiDbm: number[];
  decisionHead: number;
  /** Starts of minutes written live, waiting for their final count (oldest first). */
  finalQueue: number[];
  finalHead: number;
  graph: ZoneGraph;
  /** Built from the layout's sensor positions; undefined without a layout (then zones place bursts). */
  radioMap: RadioMap | undefined;
  estimator: Readonly<ZoneEstimatorOptions>;
  linker: LinkerState;
  linkerOptions: Readonly<LinkerOptions>;
  options: Readonly<OccupancyOptions>;
  /** `options` plus the layout's outside zones, for the sessionizer. */
  sessionOptions: Readonly<SessionOptions>;
  /** Reused to describe each link candidate, and each new randomized device, to the linker. */
  candidate: LinkCandidate & { zones: number[]; rssiDbm: number[] };
  successor: LinkSuccessor & { zones: number[]; rssiDbm: number[] };
}

export interface OccupancyOptions {
  /** A device counts as present at most this long after its last sighting. */
  presenceMs: number;
  /** Readings may arrive this late (event time behind the newest seen) and still count. */
  allowedLatenessMs: number;
  /** A visit ends after this much silence. */
  visitIdleMs: number;
  /** Zone estimator tuning (defaults: DEFAULT_ZONE_ESTIMATOR). */
  zoneEstimator?: Partial<ZoneEstimatorOptions>;
  /** Radio map tuning (defaults: DEFAULT_RADIO_MAP). */
  radioMap?: Partial<RadioMapOptions>;
  /** Rotated-MAC linking tuning (defaults: DEFAULT_LINKER). */
  linker?: Partial<LinkerOptions>;
  /** Visitor or passer-by (defaults: DEFAULT_VISITOR_RULE). */
  visitor?: Partial<VisitorRule>;
  /** See SessionOptions.transitEdgeMs (default TRANSIT_EDGE_MS). */
  transitEdgeMs?: number;
  /** See SessionOptions.silenceBridgeMs (default SILENCE_BRIDGE_MS). */
  silenceBridgeMs?: number;
}

export interface MinuteRow {
  bucketMs: number;
  zoneId: string;
  devices: number;
  /**
   * False: the live count at the minute's end (each device in its causal zone while recently
   * heard). True: the same minute again once every stay covering its end is known (see the
   * header); it replaces the first.
   */
  final: boolean;
}

/**
 * A fresh state. With `layout`, zone moves follow its adjacency (no jumping through walls or
 * floors) and its transit zones are expected to be crossed quickly; without one, every zone is
 * treated as a store one hop from every other.
 */
export function createOccupancyState(
  options: OccupancyOptions,
  layout?: Pick<Layout, 'zones' | 'neighbours'> & Partial<Pick<Layout, 'sensors'>>,
): OccupancyState {
  const zones = layout?.zones ?? [];
  const outsideZones = new Set(zones.filter((z) => z.kind === 'outside').map((z) => z.id));
  const transitZones = new Set(zones.filter((z) => TRANSIT_KINDS.has(z.kind)).map((z) => z.id));
  // Without a layout nothing tells inside from the door: no silence is bridged.
  const arrivalZones =
    layout === undefined
      ? undefined
      : new Set(zones.filter((z) => z.kind === 'outside' || z.kind === 'entrance').map((z) => z.id));
  const names = createPseudonymTable();
  return {
    sessionOptions: {
      silenceBridgeMs: SILENCE_BRIDGE_MS,
      ...options,
      outsideZones,
      transitZones,
      ...(arrivalZones === undefined ? {} : { arrivalZones }),
      visitor: visitorRuleWith(options.visitor),
    },
    options: { ...options },
    devices: createDeviceTable(names),
    pending: createPendingQueue(),
    appliedToMs: 0,
    late: 0,
    minuteStartMs: undefined,
    newestMs: 0,
    lastAppliedHeardMs: 0,
    sessions: createSessionState(names),
    burstQueueDevice: [],
    burstQueueStartMs: [],
    burstHead: 0,
    decisionQueueDevice: [],
    decisionQueueMs: [],
    decisionQueueRssiDbm: [],
    decisionHead: 0,
    finalQueue: [],
    finalHead: 0,
    graph: createZoneGraph(layout),
    radioMap:
      layout?.sensors === undefined
        ? undefined
        : createRadioMap({ ...layout, sensors: layout.sensors }, options.radioMap),
    estimator: { ...DEFAULT_ZONE_ESTIMATOR, ...options.zoneEstimator },
    candidate: { device: '', lastStepMs: 0, lastZone: -1, gapMs: Number.NaN, zones: [], rssiDbm: [] },
    successor: { device: '', firstMs: 0, firstZone: -1, gapMs: Number.NaN, zones: [], rssiDbm: [] },
    linker: createLinkerState(),
    linkerOptions: { ...DEFAULT_LINKER, ...options.linker },
  };
}

export function floorToMinute(ms: number): number {
  return ms - (((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

/** How long after its last burst a device whose rhythm is `gapMs` (NaN: unknown) still counts as present, capped. */
export function presenceOf(gapMs: number, presenceMs: number): number {
  const ms = Number.isNaN(gapMs) ? FIRST_BURST_PRESENCE_MS : gapMs * PRESENCE_GAP_SHARE;
  return ms < presenceMs ? ms : presenceMs;
}

/** Hands the device's current burst to its zone track (the burst is complete). */
function feedBurst(state: OccupancyState, d: number): void {
  const t = state.devices;
  t.flags[d]! |= FED;
  const startMs = t.burstStartMs[d]!;
  const lastStepMs = t.lastStepMs[d]!;
  if (!Number.isNaN(lastStepMs)) {
    const gap = startMs - lastStepMs;
    const gapMs = t.gapMs[d]!;
    if (gap <= MAX_RHYTHM_GAP_MS) t.gapMs[d] = Number.isNaN(gapMs) ? gap : gapMs + (gap - gapMs) / 4;
  }
  const burst = burstOf(t, d);
  // A sensor off the radio map heard it: the map cannot place it (its zones do).
  if ((t.flags[d]! & MAPPED) === 0) burst.sensorCount = 0;
  const track = trackOf(t, d);
  addStep(track, state.graph, state.estimator, burst, startMs, state.radioMap);
  t.lastStepMs[d] = startMs;
  t.zone[d] = track.filtered;
  t.zoneConfidence[d] = filteredConfidence(track);
  if ((t.flags[d]! & RANDOMIZED) !== 0) {
    if (t.firstOff[d]! < 0) {
      t.firstOff[d] = storeLink(t, burst.zones, burst.rssiDbm, burst.count);
      t.firstLen[d] = burst.count;
    }
    freeLink(t, t.lastOff[d]!, t.lastLen[d]!);
    t.lastOff[d] = storeLink(t, burst.zones, burst.rssiDbm, burst.count);
    t.lastLen[d] = burst.count;
    const retainMs = state.linkerOptions.maxGapMs + state.estimator.lagMs + 2 * BURST_WINDOW_MS;
    noteRandomizedBurst(state.linker, deviceName(t, d), startMs, retainMs);
  }
  let peakDbm = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < burst.count; i++) if (burst.rssiDbm[i]! > peakDbm) peakDbm = burst.rssiDbm[i]!;
  dropBurst(t, d);
  state.decisionQueueDevice.push(d);
  state.decisionQueueMs.push(startMs);
  state.decisionQueueRssiDbm.push(peakDbm);
}

/**
 * Decides the device's oldest undecided step, if it is the one taken at `stepMs` (its burst's
 * strongest reading: `rssiDbm`), and sessionizes it.
 */
function decideStep(state: OccupancyState, d: number, stepMs: number, rssiDbm: number): void {
  const t = state.devices;
  const k = t.track[d]!;
  // A step already decided, or a device since forgotten, has nothing waiting.
  if (k < 0 || t.tracks.records[k]!.stepMs[0] !== stepMs) return;
  const track = t.tracks.records[k]!;
  const device = t.pid[d]!;
  let fromZone = track.rootZone;
  let fromMs = track.rootMs;
  const zone = decideOldest(track, state.graph, state.estimator);
  settleTrack(t, d);
  const randomized = (t.flags[d]! & RANDOMIZED) !== 0;
  const gapMs = t.gapMs[d]!;
  const sessions = state.sessions;
  let orphan = false;
  if (randomized && sessionOfDevice(sessions, device) < 0) {
    const successor = state.successor;
    successor.device = deviceName(t, d);
    successor.firstMs = stepMs;
    successor.firstZone = zone;
    successor.gapMs = gapMs;
    readLink(t, t.firstOff[d]!, t.firstLen[d]!, successor.zones, successor.rssiDbm);
    const view = state.candidate; // one object, refilled per candidate: the linker keeps none
    const link = findPredecessor(state.linker, state.graph, state.linkerOptions, successor, (c, atMs) => {
      const p = findDevice(t, c);
      if (p < 0 || (t.flags[p]! & RANDOMIZED) === 0 || t.lastStepMs[p] !== atMs) return undefined;
      if (sessionOfDevice(sessions, t.pid[p]!) < 0) return undefined;
      view.device = c;
      view.lastStepMs = atMs;
      view.lastZone = t.rootZone[p]!;
      view.gapMs = t.gapMs[p]!;
      readLink(t, t.lastOff[p]!, t.lastLen[p]!, view.zones, view.rssiDbm);
      return view;
    });
    if (link !== undefined) linkDevice(sessions, link.device, device, link.doubtful);
    else orphan = state.graph.arrival[zone] !== 1;
  }
  const zoneId = state.graph.ids[zone]!;
  const rhythmMs = Number.isNaN(gapMs) ? UNKNOWN_GAP_MS : gapMs;
  const session = sessionOfDevice(sessions, device);
  if (session >= 0 && wouldContinue(sessions, device, zoneId, stepMs, state.sessionOptions)) {
    if (fromZone < 0) {
      // Forgotten here during a long silence (or a rotated MAC's first burst): the walk starts
      // where its visit was last placed.
      fromZone = zoneIndex(state.graph, stayZoneOf(sessions, session));
      fromMs = visitLastMsOf(sessions, session);
    }
    walkBetween(state, device, fromZone, fromMs, zone, stepMs);
  } else if (!orphan) {
    if (session >= 0) endVisit(sessions, device, state.sessionOptions);
    walkIn(state, device, zone, stepMs, Math.round(rhythmMs * TAIL_GAP_SHARE));
  }
  let tailMs = Math.round(rhythmMs * TAIL_GAP_SHARE);
  const stay = sessionOfDevice(sessions, device);
  if (
    !randomized &&
    state.graph.transit[zone] !== 1 &&
    stay >= 0 &&
    stayZoneOf(sessions, stay) === zoneId &&
    stayBurstsOf(sessions, stay) > 0
  ) {
    // Heard here before: should no burst follow, the phone fell silent in this store rather than
    // walked out unheard (see STAY_ON_SHARE). A randomized MAC falling silent more likely rotated.
    tailMs = Math.max(tailMs, stayOnMs(state));
  }
  observeBurst(
    sessions,
    device,
    state.graph.ids[zone]!,
    stepMs,
    rssiDbm,
    state.sessionOptions,
    tailMs,
    false,
    track.confidence,
  );
  if (orphan) markOrphan(sessions, device);
}

/** How long a phone fallen silent in a store is taken to stay there (see STAY_ON_SHARE). */
function stayOnMs(state: OccupancyState): number {
  return Math.min(Math.round(STAY_ON_SHARE * state.estimator.dwellZoneMeanStayMs), state.options.visitIdleMs);
}

/**
 * Zones walked through unheard between a burst in `fromZone` at `fromMs` and one in `toZone` at
 * `toMs`, along the shortest walk, as inferred bursts spread evenly over the gap. Across a silence
 * bridged (longer than visitIdleMs) the walk takes WALK_MS_PER_ZONE per zone: at once from a
 * transit zone (nobody lingers in a corridor), just in time to a transit zone, else midway.
 */
function walkBetween(
  state: OccupancyState,
  device: number,
  fromZone: number,
  fromMs: number,
  toZone: number,
  toMs: number,
): void {
  const graph = state.graph;
  const between = zonesBetween(graph, fromZone, toZone);
  const n = between.length;
  const gapMs = toMs - fromMs;
  const walkMs = n * WALK_MS_PER_ZONE;
  const spread = gapMs <= state.options.visitIdleMs || walkMs >= gapMs;
  const walkFromMs =
    graph.transit[fromZone] === 1
      ? fromMs
      : graph.transit[toZone] === 1
        ? toMs - walkMs
        : (fromMs + toMs - walkMs) / 2;
  for (let i = 0; i < n; i++) {
    const atMs = spread ? fromMs + (gapMs * (i + 1)) / (n + 1) : walkFromMs + (walkMs * (i + 0.5)) / n;
    observeBurst(
      state.sessions,
      device,
      graph.ids[between[i]!]!,
      Math.round(atMs),
      0,
      state.sessionOptions,
      0,
      true,
    );
  }
}

/**
 * Opens the visit a burst in `zone` at `atMs` begins, as inferred bursts before it: a device first
 * heard inside walked in unheard from the street (the nearest outside zone, else entrance), one
 * zone per WALK_MS_PER_ZONE; one first heard where people arrive was there for about half a probe
 * interval already (`headMs`).
 */
function walkIn(state: OccupancyState, device: number, zone: number, atMs: number, headMs: number): void {
  const graph = state.graph;
  const entry = graph.arrival[zone] === 1 ? -1 : nearestEntry(graph, zone);
  if (entry < 0) {
    observeBurst(state.sessions, device, graph.ids[zone]!, atMs - headMs, 0, state.sessionOptions, 0, true);
    return;
  }
  const between = zonesBetween(graph, entry, zone);
  const o = state.sessionOptions;
  observeBurst(
    state.sessions,
    device,
    graph.ids[entry]!,
    atMs - (between.length + 1) * WALK_MS_PER_ZONE,
    0,
    o,
    0,
    true,
  );
  for (let i = 0; i < between.length; i++) {
    const walkMs = (between.length - i) * WALK_MS_PER_ZONE;
    observeBurst(state.sessions, device, graph.ids[between[i]!]!, atMs - walkMs, 0, o, 0, true);
  }
}

/** The outside zone fewest hops from `zone`, else the nearest entrance (lowest index on a tie); -1: none. */
function nearestEntry(graph: ZoneGraph, zone: number): number {
  let best = -1;
  let bestHops = UNREACHABLE_HOPS;
  for (const kind of [graph.outside, graph.arrival]) {
    for (let z = 0; z < graph.layoutZones; z++) {
      if (kind[z] !== 1) continue;
      const hops = zoneHops(graph, z, zone);
      if (hops < bestHops) {
        best = z;
        bestHops = hops;
      }
    }
    if (best >= 0) return best;
  }
  return best;
}

/**
 * Applies one sighting to the device states: `zoneId` is the zone of the sensor that heard it.
 * A reading older than the device's current burst cannot move it. Returns true when the sighting
 * started a burst (it completes BURST_WINDOW_MS later).
 */
export function applySighting(
  state: OccupancyState,
  device: string,
  zoneId: string,
  rssiDbm: number,
  heardAtMs: number,
  randomized = false,
  sensorId?: string,
): boolean {
  const zone = zoneIndex(state.graph, zoneId);
  const sensor = sensorId === undefined ? -1 : (state.radioMap?.sensorIndex.get(sensorId) ?? -1);
  const t = state.devices;
  let d = findDevice(t, device);
  let started = false;
  if (d >= 0 && heardAtMs - t.lastSeenMs[d]! > forgetAfterMs(state) && forgettable(t, d)) {
    // Silent long enough to be evicted: start afresh whether or not `evictAbsent` ran yet, so
    // the result does not depend on when the shell closed minutes.
    removeDevice(t, d, state.burstQueueDevice.length, state.decisionQueueDevice.length);
    d = -1;
  }
  if (d < 0) {
    d = addDevice(t, device, randomized);
    t.burstStartMs[d] = heardAtMs;
    t.lastSeenMs[d] = heardAtMs;
    t.flags[d]! |= MAPPED;
    state.burstQueueDevice.push(d);
    state.burstQueueStartMs.push(heardAtMs);
    started = true;
  } else {
    if (heardAtMs > t.lastSeenMs[d]!) t.lastSeenMs[d] = heardAtMs;
    if (heardAtMs < t.burstStartMs[d]!) return false;
    if (heardAtMs - t.burstStartMs[d]! > BURST_WINDOW_MS) {
      // Only a late sighting can find its device's previous burst not yet handed on.
      if ((t.flags[d]! & FED) === 0) feedBurst(state, d);
      t.flags[d] = (t.flags[d]! & ~FED) | MAPPED;
      t.burstStartMs[d] = heardAtMs;
      state.burstQueueDevice.push(d);
      state.burstQueueStartMs.push(heardAtMs);
      started = true;
    } else if ((t.flags[d]! & FED) !== 0) return false; // a late reading for a burst already handed on
  }
  const burst = burstOf(t, d);
  burst.count = addMax(burst.zones, burst.rssiDbm, burst.count, zone, rssiDbm);
  if (sensor < 0) t.flags[d]! &= ~MAPPED;
  else burst.sensorCount = addMax(burst.sensors, burst.sensorRssiDbm, burst.sensorCount, sensor, rssiDbm);
  return started;
}

/**
 * Keeps the strongest reading per key in the first `count` entries of parallel arrays (a burst has
 * a handful of keys); returns the new count.
 */
function addMax(keys: number[], values: number[], count: number, key: number, value: number): number {
  for (let i = 0; i < count; i++) {
    if (keys[i] === key) {
      if (value > values[i]!) values[i] = value;
      return count;
    }
  }
  keys[count] = key;
  values[count] = value;
  return count + 1;
}

/**
 * Devices present per zone at `atMs`: placed by a burst no later than it, and that burst at most
 * their presence time (`presenceOf`, capped at `presenceMs`) before it. `confidence`, if given,
 * receives per zone counted the mean confidence of those devices' zone estimates (the causal one,
 * `filteredConfidence` in zone-estimator.ts), over the devices whose confidence is known.
 */
export function countOccupancy(
  state: OccupancyState,
  atMs: number,
  presenceMs: number,
  confidence?: Map<string, number>,
): Map<string, number> {
  const counts = new Map<string, number>();
  /** Per zone: devices whose confidence is known, and its sum. */
  const sure = confidence === undefined ? undefined : new Map<string, [number, number]>();
  const t = state.devices;
  const ids = state.graph.ids;
  for (let d = 0; d < t.used; d++) {
    const zone = t.zone[d]!;
    const lastStepMs = t.lastStepMs[d]!;
    if (zone < 0 || lastStepMs > atMs) continue;
    // A burst still being heard (not yet complete) says the device is here now, even if its
    // last complete one is older than its presence time (a phone probing every few seconds).
    const heardMs = t.burstStartMs[d]! <= atMs ? t.burstStartMs[d]! : lastStepMs;
    if (atMs - heardMs <= presenceOf(t.gapMs[d]!, presenceMs)) {
      const zoneId = ids[zone]!;
      counts.set(zoneId, (counts.get(zoneId) ?? 0) + 1);
      const c = t.zoneConfidence[d]!;
      if (sure !== undefined && !Number.isNaN(c)) {
        const acc = sure.get(zoneId);
        if (acc === undefined) sure.set(zoneId, [1, c]);
        else {
          acc[0]++;
          acc[1] += c;
        }
      }
    }
  }
  if (sure !== undefined) for (const [zoneId, [n, sum]] of sure) confidence?.set(zoneId, sum / n);
  return counts;
}

/**
 * How long a silent device is kept: past its presence, and past the time a rotated MAC could still
 * be linked to it (the successor's first decision comes lagMs after its first burst).
 */
function forgetAfterMs(state: OccupancyState): number {
  return Math.max(
    state.options.presenceMs,
    BURST_WINDOW_MS + state.estimator.lagMs + state.linkerOptions.maxGapMs,
  );
}

/**
 * Silence after which the engine holds nothing of the devices heard before it that could change
 * what follows: every visit closed (visitIdleMs, or silenceBridgeMs for one silent inside), every
 * device forgotten, every burst decided and its final minutes counted (up to the end of the
 * longest stay after a last burst). Output between two such silences depends only on the
 * sightings in between, so `mallflow recompute` can start afresh at the first sighting after one
 * and give what the live engine gave.
 */
export function quietGapMs(state: OccupancyState): number {
  return (
    sessionLimitMs(state.sessionOptions) +
    forgetAfterMs(state) +
    Math.max(MAX_RHYTHM_GAP_MS * TAIL_GAP_SHARE, stayOnMs(state)) +
    state.estimator.lagMs +
    2 * BURST_WINDOW_MS +
    state.options.allowedLatenessMs
  );
}

/**
 * The longest a visit or zone stay can begin before the first sighting it comes from: the walk
 * in from the street to the zone farthest from it, or half the longest probe rhythm (`walkIn`).
 * What a stretch of sightings derives starts no earlier than this before its first sighting.
 */
export function visitLeadMs(state: OccupancyState): number {
  const graph = state.graph;
  let leadMs = MAX_RHYTHM_GAP_MS * TAIL_GAP_SHARE;
  for (let z = 0; z < graph.ids.length; z++) {
    const entry = graph.arrival[z] === 1 ? -1 : nearestEntry(graph, z);
    if (entry >= 0) leadMs = Math.max(leadMs, zoneHops(graph, entry, z) * WALK_MS_PER_ZONE);
  }
  return leadMs;
}

/** Every burst of the device is decided: nothing of it is waiting in a queue. */
function forgettable(t: DeviceTable, d: number): boolean {
  return (t.flags[d]! & FED) !== 0 && pendingSteps(t, d) === 0;
}

/** Drops devices silent for longer than `forgetAfterMs` at `atMs` whose every burst is decided. Returns how many. */
export function evictAbsent(state: OccupancyState, atMs: number): number {
  const keepMs = forgetAfterMs(state);
  const t = state.devices;
  let dropped = 0;
  for (let d = 0; d < t.used; d++) {
    if (t.pid[d]! >= 0 && atMs - t.lastSeenMs[d]! > keepMs && forgettable(t, d)) {
      removeDevice(t, d, state.burstQueueDevice.length, state.decisionQueueDevice.length);
      dropped++;
    }
  }
  return dropped;
}

/** Queues a sighting; it applies once the watermark passes it (see `closeMinutes`). */
export function addSighting(
  state: OccupancyState,
  device: string,
  zoneId: string,
  rssiDbm: number,
  heardAtMs: number,
  randomized = false,
  sensorId?: string,
): void {
  if (state.minuteStartMs === undefined) {
    state.minuteStartMs = floorToMinute(heardAtMs);
    state.appliedToMs = state.minuteStartMs;
    state.lastAppliedHeardMs = heardAtMs;
  }
  if (heardAtMs > state.newestMs) state.newestMs = heardAtMs;
  if (heardAtMs < state.appliedToMs) {
    state.late++;
    applySighting(state, device, zoneId, rssiDbm, heardAtMs, randomized, sensorId);
    if (heardAtMs > state.lastAppliedHeardMs) state.lastAppliedHeardMs = heardAtMs;
    return;
  }
  pushPending(state.pending, device, zoneId, rssiDbm, heardAtMs, randomized, sensorId);
}

function closeMinute(
  state: OccupancyState,
  startMs: number,
  zoneIds: readonly string[],
  presenceMs: number,
  rows: MinuteRow[],
) {
  const counts = countOccupancy(state, startMs + MINUTE_MS, presenceMs);
  for (const zoneId of zoneIds) {
    rows.push({ bucketMs: startMs, zoneId, devices: counts.get(zoneId) ?? 0, final: false });
  }
  state.finalQueue.push(startMs);
  watchMinute(state.sessions, startMs + MINUTE_MS);
}

/** The minute's final count: the decided stays covering its end. */
function finalizeMinute(
  state: OccupancyState,
  startMs: number,
  zoneIds: readonly string[],
  rows: MinuteRow[],
) {
  const endMs = startMs + MINUTE_MS;
  expireSessions(state.sessions, endMs + sessionLimitMs(state.sessionOptions), state.sessionOptions);
  const counts = coveredAt(state.sessions, endMs);
  for (const zoneId of zoneIds) {
    rows.push({ bucketMs: startMs, zoneId, devices: counts.get(zoneId) ?? 0, final: true });
  }
}

/** Time of the next burst to complete (its window's end), skipping stale queue entries; Infinity if none. */
function nextBurstDoneMs(state: OccupancyState): number {
  const devices = state.burstQueueDevice;
  const starts = state.burstQueueStartMs;
  const t = state.devices;
  while (state.burstHead < devices.length) {
    const d = devices[state.burstHead]!;
    // A burst already fed (late data), or replaced by a later one, is skipped.
    if ((t.flags[d]! & FED) === 0 && t.burstStartMs[d] === starts[state.burstHead]) {
      return starts[state.burstHead]! + BURST_WINDOW_MS;
    }
    state.burstHead++;
  }
  return Number.POSITIVE_INFINITY;
}

function compactQueues(state: OccupancyState): void {
  releaseSlots(state.devices, state.burstHead, state.decisionHead);
  if (state.burstHead > 4096 && state.burstHead * 2 > state.burstQueueDevice.length) {
    shiftQuarantine(state.devices, state.burstHead, 0);
    state.burstQueueDevice = state.burstQueueDevice.slice(state.burstHead);
    state.burstQueueStartMs = state.burstQueueStartMs.slice(state.burstHead);
    state.burstHead = 0;
  }
  if (state.finalHead > 1024 && state.finalHead * 2 > state.finalQueue.length) {
    state.finalQueue = state.finalQueue.slice(state.finalHead);
    state.finalHead = 0;
  }
  if (state.decisionHead > 4096 && state.decisionHead * 2 > state.decisionQueueDevice.length) {
    shiftQuarantine(state.devices, 0, state.decisionHead);
    state.decisionQueueDevice = state.decisionQueueDevice.slice(state.decisionHead);
    state.decisionQueueMs = state.decisionQueueMs.slice(state.decisionHead);
    state.decisionQueueRssiDbm = state.decisionQueueRssiDbm.slice(state.decisionHead);
    state.decisionHead = 0;
  }
}

/**
 * From a minute's start to its final count: once decisions have passed its end by the longest
 * silence a visit may outlast, nothing can still end before it (the +1 makes "passed" strict).
 */
function finalDelayMs(state: OccupancyState): number {
  return MINUTE_MS + sessionLimitMs(state.sessionOptions) + BURST_WINDOW_MS + state.estimator.lagMs + 1;
}

/** The earliest burst completion, decision or final count waiting (Infinity: none). */
function nextEventMs(state: OccupancyState): number {
  const doneMs = nextBurstDoneMs(state);
  const dh = state.decisionHead;
  const decideMs =
    dh < state.decisionQueueMs.length
      ? state.decisionQueueMs[dh]! + BURST_WINDOW_MS + state.estimator.lagMs
      : Number.POSITIVE_INFINITY;
  const fh = state.finalHead;
  const finalMs =
    fh < state.finalQueue.length ? state.finalQueue[fh]! + finalDelayMs(state) : Number.POSITIVE_INFINITY;
  return Math.min(doneMs, decideMs, finalMs);
}

/**
 * Runs the events due before a sighting at `limitMs` (or before the watermark `limitMs`): minute
 * closes at or before it, burst completions and decisions strictly before it, in event-time order
 * (close, then completion, then decision at equal times).
 */
function runEventsBefore(
  state: OccupancyState,
  limitMs: number,
  zoneIds: readonly string[],
  rows: MinuteRow[],
): void {
  const options = state.options;
  const quietAfterMs = options.presenceMs + QUIET_MINUTES_WRITTEN * MINUTE_MS;
  const decisionDelayMs = BURST_WINDOW_MS + state.estimator.lagMs;
  const finalMsAfterStart = finalDelayMs(state);
  for (;;) {
    const startMs = state.minuteStartMs!;
    const closeMs = startMs + MINUTE_MS;
    if (closeMs <= limitMs && closeMs - state.lastAppliedHeardMs > quietAfterMs) {
      // Nobody present for a long while: skip the empty minutes up to the limit.
      state.minuteStartMs = floorToMinute(limitMs);
      continue;
    }
    const doneMs = nextBurstDoneMs(state);
    const dh = state.decisionHead;
    const decideMs =
      dh < state.decisionQueueDevice.length
        ? state.decisionQueueMs[dh]! + decisionDelayMs
        : Number.POSITIVE_INFINITY;
    const fh = state.finalHead;
    const finalMs =
      fh < state.finalQueue.length ? state.finalQueue[fh]! + finalMsAfterStart : Number.POSITIVE_INFINITY;
    // In event-time order; at equal times: close, completion, decision, final count.
    const next = Math.min(closeMs <= limitMs ? closeMs : Number.POSITIVE_INFINITY, doneMs, decideMs, finalMs);
    if (next === Number.POSITIVE_INFINITY || (next >= limitMs && !(closeMs === next && closeMs <= limitMs)))
      break;
    if (closeMs === next) {
      closeMinute(state, startMs, zoneIds, options.presenceMs, rows);
      state.minuteStartMs = closeMs;
    } else if (doneMs === next) {
      feedBurst(state, state.burstQueueDevice[state.burstHead]!);
      state.burstHead++;
    } else if (decideMs === next) {
      decideStep(
        state,
        state.decisionQueueDevice[dh]!,
        state.decisionQueueMs[dh]!,
        state.decisionQueueRssiDbm[dh]!,
      );
      state.decisionHead++;
    } else {
      finalizeMinute(state, state.finalQueue[fh]!, zoneIds, rows);
      state.finalHead++;
    }
  }
}

/** The watermark: the newest event time seen less the allowed lateness. */
export function watermarkOf(state: OccupancyState): number {
  return state.newestMs - state.options.allowedLatenessMs;
}

/**
 * Applies every pending sighting the watermark has passed and closes every minute that ends at
 * or before it, returning one row per zone in `zoneIds` per closed minute (zeros included, so a
 * quiet zone reads 0, not missing): live rows for the minutes just closed, final rows for those
 * that became final, at most one row per minute and zone (a final row replaces the live one).
 * `untilMs` holds the watermark back (a shell doing a long catch-up in slices): several calls
 * with rising limits give the rows of one call, split between them (see `dropSuperseded`).
 */
export function closeMinutes(
  state: OccupancyState,
  zoneIds: readonly string[],
  untilMs = Number.POSITIVE_INFINITY,
): MinuteRow[] {
  const rows: MinuteRow[] = [];
  if (state.minuteStartMs === undefined) return rows;
  const watermarkMs = Math.min(watermarkOf(state), untilMs);
  if (watermarkMs <= state.appliedToMs) return rows;
  const q = state.pending;
  const ready = readyOrder(q, watermarkMs);
  // Between events, sightings apply back to back: the queues are only looked at again once a
  // sighting reaches the next event (or starts a burst, which is one).
  let closeMs = state.minuteStartMs + MINUTE_MS;
  let eventMs = nextEventMs(state);
  for (const i of ready) {
    const heardAtMs = q.heardAtMs[i]!;
    if (heardAtMs >= closeMs || heardAtMs > eventMs) {
      runEventsBefore(state, heardAtMs, zoneIds, rows);
      closeMs = state.minuteStartMs + MINUTE_MS;
      eventMs = nextEventMs(state);
    }
    const started = applySighting(
      state,
      q.device[i]!,
      q.zoneId[i]!,
      q.rssiDbm[i]!,
      heardAtMs,
      q.randomized[i] === 1,
      q.sensorId[i],
    );
    if (started && heardAtMs + BURST_WINDOW_MS < eventMs) eventMs = heardAtMs + BURST_WINDOW_MS;
    if (heardAtMs > state.lastAppliedHeardMs) state.lastAppliedHeardMs = heardAtMs;
  }
  removeBefore(q, watermarkMs);
  runEventsBefore(state, watermarkMs, zoneIds, rows);
  state.appliedToMs = watermarkMs;
  compactQueues(state);
  dropSuperseded(rows);
  expireSessions(state.sessions, watermarkMs - BURST_WINDOW_MS - state.estimator.lagMs, state.sessionOptions);
  if (rows.length > 0) evictAbsent(state, watermarkMs);
  return rows;
}

/**
 * A minute whose final count came in the same call as its live one keeps only the final rows: one
 * row per minute and zone per call (a multi-row upsert cannot touch a row twice). The rows of
 * several calls, concatenated in call order, are made one write the same way.
 */
export function dropSuperseded(rows: MinuteRow[]): void {
  const finals = new Set<number>();
  for (const r of rows) if (r.final) finals.add(r.bucketMs);
  if (finals.size === 0) return;
  let n = 0;
  for (const r of rows) if (r.final || !finals.has(r.bucketMs)) rows[n++] = r;
  rows.length = n;
}

/** Moves event time forward without a sighting (a quiet mall still sees its minutes close). */
export function advanceClock(state: OccupancyState, toMs: number): void {
  if (state.minuteStartMs !== undefined && toMs > state.newestMs) state.newestMs = toMs;
}
