// The whole live engine state as plain data, and back (issue 4: live state survives restarts).
// A snapshot taken at any point and restored into a fresh state continues exactly as the original
// would: same minute rows, zone stays and visits (tests/unit/occupancy-snapshot.test.ts). What the
// layout and options rebuild (zone graph, radio map, tuning) is not in it; the zone and sensor ids
// are, so a snapshot restores only onto the layout it was taken with.
//
// Queues hold devices by id. An entry whose device has since been forgotten is dropped: the
// engine skips such entries anyway (their burst is fed, their track empty), and an entry left by
// a forgotten device whose id came back cannot match the new device's times.
//
// `encodeSnapshot`/`decodeSnapshot` turn it into JSON text and back, keeping NaN and ±Infinity
// (JSON has neither; the engine uses both: an unknown rhythm, a track's impossible states).

import type { LinkerState } from './device-linker.ts';
import {
  addDevice,
  burstOf,
  type DeviceTable,
  deviceName,
  FED,
  findDevice,
  readLink,
  storeLink,
  trackOf,
} from './device-table.ts';
import type { Layout } from './layout.ts';
import { createOccupancyState, type OccupancyOptions, type OccupancyState } from './occupancy.ts';
import { createPendingQueue, type PendingSighting, pendingSightings, pushPending } from './pending-queue.ts';
import { type OpenSession, openSessions, restoreSession, type Visit, type ZoneStay } from './sessions.ts';
import type { ZoneTrack } from './zone-estimator.ts';
import { zoneIndex } from './zone-graph.ts';

/** 2: devices as the columns of device-table.ts (1 held DeviceState objects). */
export const SNAPSHOT_FORMAT = 2;

/** `confidence` is the last decision's, read at once: nothing to carry over. */
type SnapshotTrack = Omit<ZoneTrack, 'spare' | 'rootCands' | 'confidence'>;

/** One device: its columns (device-table.ts), and what it has lent from the pools. */
export interface SnapshotDevice {
  id: string;
  zone: number;
  /** Its confidence (null: unknown; absent in snapshots from before it was kept). */
  zoneConfidence?: number | null;
  burstStartMs: number;
  lastSeenMs: number;
  lastStepMs: number;
  gapMs: number;
  flags: number;
  rootZone: number;
  rootMs: number;
  /** The burst being collected (null once handed to the track). */
  burst: { zones: number[]; rssiDbm: number[]; sensors: number[]; sensorRssiDbm: number[] } | null;
  /** Undecided steps (null: none). */
  track: SnapshotTrack | null;
  /** A randomized device's first and newest burst, [zones, RSSI] (null: none yet). */
  first: [number[], number[]] | null;
  last: [number[], number[]] | null;
}

export interface OccupancySnapshot {
  format: typeof SNAPSHOT_FORMAT;
  /** The zone graph's ids: the layout's zones, then zones met outside it, in index order. */
  zoneIds: string[];
  /** The radio map's sensor ids in index order (empty without a radio map). */
  sensorIds: string[];
  appliedToMs: number;
  late: number;
  minuteStartMs: number | null;
  newestMs: number;
  lastAppliedHeardMs: number;
  pending: PendingSighting[];
  pendingSorted: boolean;
  devices: SnapshotDevice[];
  /** [device, burst start] from the queue head. */
  burstQueue: [string, number][];
  /** [device, step time, burst's strongest RSSI] from the queue head. */
  decisionQueue: [string, number, number][];
  finalQueue: number[];
  sessions: {
    open: [string, OpenSession][];
    closedStays: ZoneStay[];
    closedVisits: Visit[];
    coverage: [number, [string, number][]][];
    oldestLastMs: number;
  };
  linker: Omit<LinkerState, 'head'>;
}

export class SnapshotMismatchError extends Error {
  readonly code = 'SNAPSHOT_MISMATCH';
}

/** A checkpoint written by another version of the engine: it cannot be continued from. */
export class SnapshotFormatError extends Error {
  readonly code = 'SNAPSHOT_FORMAT';
}

const copyTrack = (t: ZoneTrack | SnapshotTrack): SnapshotTrack => ({
  stepMs: [...t.stepMs],
  cands: t.cands.map((a) => [...a]),
  emit: t.emit.map((a) => [...a]),
  delta: t.delta.map((a) => [...a]),
  back: t.back.map((a) => [...a]),
  rootZone: t.rootZone,
  rootMs: t.rootMs,
  filtered: t.filtered,
});

function linkOf(t: DeviceTable, off: number, count: number): [number[], number[]] | null {
  if (off < 0) return null;
  const zones: number[] = [];
  const rssiDbm: number[] = [];
  readLink(t, off, count, zones, rssiDbm);
  return [zones, rssiDbm];
}

function snapshotDevice(t: DeviceTable, d: number): SnapshotDevice {
  const b = t.burst[d]!;
  const burst = b < 0 ? undefined : t.bursts.records[b]!;
  const k = t.track[d]!;
  return {
    id: deviceName(t, d),
    zone: t.zone[d]!,
    zoneConfidence: Number.isNaN(t.zoneConfidence[d]!) ? null : t.zoneConfidence[d]!,
    burstStartMs: t.burstStartMs[d]!,
    lastSeenMs: t.lastSeenMs[d]!,
    lastStepMs: t.lastStepMs[d]!,
    gapMs: t.gapMs[d]!,
    flags: t.flags[d]!,
    rootZone: t.rootZone[d]!,
    rootMs: t.rootMs[d]!,
    burst:
      burst === undefined || (t.flags[d]! & FED) !== 0
        ? null
        : {
            zones: burst.zones.slice(0, burst.count),
            rssiDbm: burst.rssiDbm.slice(0, burst.count),
            sensors: burst.sensors.slice(0, burst.sensorCount),
            sensorRssiDbm: burst.sensorRssiDbm.slice(0, burst.sensorCount),
          },
    track: k < 0 ? null : copyTrack(t.tracks.records[k]!),
    first: linkOf(t, t.firstOff[d]!, t.firstLen[d]!),
    last: linkOf(t, t.lastOff[d]!, t.lastLen[d]!),
  };
}

function restoreDevice(t: DeviceTable, s: SnapshotDevice): void {
  const d = addDevice(t, s.id, false);
  t.zone[d] = s.zone;
  t.zoneConfidence[d] = s.zoneConfidence ?? Number.NaN;
  t.burstStartMs[d] = s.burstStartMs;
  t.lastSeenMs[d] = s.lastSeenMs;
  t.lastStepMs[d] = s.lastStepMs;
  t.gapMs[d] = s.gapMs;
  t.flags[d] = s.flags;
  t.rootZone[d] = s.rootZone;
  t.rootMs[d] = s.rootMs;
  if (s.burst !== null) {
    const burst = burstOf(t, d);
    burst.zones.push(...s.burst.zones);
    burst.rssiDbm.push(...s.burst.rssiDbm);
    burst.count = s.burst.zones.length;
    burst.sensors.push(...s.burst.sensors);
    burst.sensorRssiDbm.push(...s.burst.sensorRssiDbm);
    burst.sensorCount = s.burst.sensors.length;
  }
  if (s.track !== null) {
    const track = trackOf(t, d);
    const copy = copyTrack(s.track);
    track.stepMs = copy.stepMs;
    track.cands = copy.cands;
    track.emit = copy.emit;
    track.delta = copy.delta;
    track.back = copy.back;
    track.rootZone = copy.rootZone;
    track.rootCands[0] = copy.rootZone;
    track.rootMs = copy.rootMs;
    track.filtered = copy.filtered;
  }
  if (s.first !== null) {
    t.firstOff[d] = storeLink(t, s.first[0], s.first[1], s.first[0].length);
    t.firstLen[d] = s.first[0].length;
  }
  if (s.last !== null) {
    t.lastOff[d] = storeLink(t, s.last[0], s.last[1], s.last[0].length);
    t.lastLen[d] = s.last[0].length;
  }
}

/** The slots holding a device, in slot order. */
function liveSlots(t: DeviceTable): number[] {
  const out: number[] = [];
  for (let d = 0; d < t.used; d++) if (t.pid[d]! >= 0) out.push(d);
  return out;
}

/** The state as plain data (a deep copy: the state may go on changing). */
export function snapshotOccupancy(state: OccupancyState): OccupancySnapshot {
  const t = state.devices;
  const live = (d: number) => t.pid[d]! >= 0;
  const burstQueue: [string, number][] = [];
  for (let i = state.burstHead; i < state.burstQueueDevice.length; i++) {
    const d = state.burstQueueDevice[i]!;
    if (live(d)) burstQueue.push([deviceName(t, d), state.burstQueueStartMs[i]!]);
  }
  const decisionQueue: [string, number, number][] = [];
  for (let i = state.decisionHead; i < state.decisionQueueDevice.length; i++) {
    const d = state.decisionQueueDevice[i]!;
    if (live(d))
      decisionQueue.push([deviceName(t, d), state.decisionQueueMs[i]!, state.decisionQueueRssiDbm[i]!]);
  }
  const s = state.sessions;
  const linker = state.linker;
  return {
    format: SNAPSHOT_FORMAT,
    zoneIds: [...state.graph.ids],
    sensorIds: state.radioMap ? [...state.radioMap.sensorIndex.keys()] : [],
    appliedToMs: state.appliedToMs,
    late: state.late,
    minuteStartMs: state.minuteStartMs ?? null,
    newestMs: state.newestMs,
    lastAppliedHeardMs: state.lastAppliedHeardMs,
    pending: pendingSightings(state.pending),
    pendingSorted: state.pending.sorted,
    devices: liveSlots(t).map((d) => snapshotDevice(t, d)),
    burstQueue,
    decisionQueue,
    finalQueue: state.finalQueue.slice(state.finalHead),
    sessions: {
      open: openSessions(s),
      closedStays: s.closedStays.map((x) => ({ ...x })),
      closedVisits: s.closedVisits.map((x) => ({ ...x })),
      coverage: [...s.coverage].map(([atMs, counts]) => [atMs, [...counts]]),
      oldestLastMs: s.oldestLastMs,
    },
    linker: {
      recentDevice: linker.recentDevice.slice(linker.head),
      recentMs: linker.recentMs.slice(linker.head),
      links: linker.links,
      doubtfulLinks: linker.doubtfulLinks,
      unlinked: linker.unlinked,
    },
  };
}

function sameIds(what: string, expected: readonly string[], got: readonly string[]): void {
  const same = expected.length === got.length && expected.every((id, i) => got[i] === id);
  if (!same) {
    throw new SnapshotMismatchError(
      `the snapshot was taken with other ${what} (${got.length} in the snapshot, ${expected.length} now): the layout changed`,
    );
  }
}

/**
 * A state that continues where `snapshot` left off, with `options` (which may differ from the
 * snapshot's: e.g. a changed visitor rule applies to what closes from now on). Throws
 * SnapshotMismatchError when the layout's zones or sensors are not the snapshot's, SnapshotFormatError
 * when another version of the engine wrote it.
 */
export function restoreOccupancy(
  snapshot: OccupancySnapshot,
  options: OccupancyOptions,
  layout?: Pick<Layout, 'zones' | 'neighbours'> & Partial<Pick<Layout, 'sensors'>>,
): OccupancyState {
  if (snapshot.format !== SNAPSHOT_FORMAT) {
    throw new SnapshotFormatError(
      `the snapshot is in format ${snapshot.format}, this engine reads format ${SNAPSHOT_FORMAT}: start afresh and replay`,
    );
  }
  const state = createOccupancyState(options, layout);
  const graph = state.graph;
  sameIds('zones', graph.ids, snapshot.zoneIds.slice(0, graph.layoutZones));
  for (const id of snapshot.zoneIds.slice(graph.layoutZones)) zoneIndex(graph, id);
  sameIds('sensors', state.radioMap ? [...state.radioMap.sensorIndex.keys()] : [], snapshot.sensorIds);

  state.appliedToMs = snapshot.appliedToMs;
  state.late = snapshot.late;
  state.minuteStartMs = snapshot.minuteStartMs ?? undefined;
  state.newestMs = snapshot.newestMs;
  state.lastAppliedHeardMs = snapshot.lastAppliedHeardMs;
  // The queue finds for itself whether they are in order (`pendingSorted` says the same).
  state.pending = createPendingQueue();
  for (const p of snapshot.pending) {
    pushPending(state.pending, p.device, p.zoneId, p.rssiDbm, p.heardAtMs, p.randomized, p.sensorId);
  }
  for (const d of snapshot.devices) restoreDevice(state.devices, d);
  const deviceOf = (id: string) => {
    const d = findDevice(state.devices, id);
    if (d < 0) throw new SnapshotMismatchError(`queued device ${id} is not in the snapshot`);
    return d;
  };
  for (const [id, startMs] of snapshot.burstQueue) {
    state.burstQueueDevice.push(deviceOf(id));
    state.burstQueueStartMs.push(startMs);
  }
  for (const [id, atMs, rssiDbm] of snapshot.decisionQueue) {
    state.decisionQueueDevice.push(deviceOf(id));
    state.decisionQueueMs.push(atMs);
    state.decisionQueueRssiDbm.push(rssiDbm);
  }
  state.finalQueue = [...snapshot.finalQueue];
  const s = state.sessions;
  for (const [id, session] of snapshot.sessions.open) restoreSession(s, id, session);
  // A stay closed before confidences were kept has none (null).
  s.closedStays = snapshot.sessions.closedStays.map((x) => ({ ...x, confidence: x.confidence ?? null }));
  s.closedVisits = snapshot.sessions.closedVisits.map((x) => ({ ...x }));
  for (const [atMs, counts] of snapshot.sessions.coverage) s.coverage.set(atMs, new Map(counts));
  s.oldestLastMs = snapshot.sessions.oldestLastMs;
  state.linker = {
    ...snapshot.linker,
    recentDevice: [...snapshot.linker.recentDevice],
    recentMs: [...snapshot.linker.recentMs],
    head: 0,
  };
  return state;
}

const NON_FINITE = '$nonFinite';

/** JSON text of a snapshot; NaN and ±Infinity survive (as {"$nonFinite": "NaN"} and the like). */
export function encodeSnapshot(snapshot: OccupancySnapshot): string {
  return JSON.stringify(snapshot, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? { [NON_FINITE]: String(value) } : value,
  );
}

/** The snapshot from `encodeSnapshot`'s text. */
export function decodeSnapshot(text: string): OccupancySnapshot {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && NON_FINITE in value) {
      return Number((value as Record<string, string>)[NON_FINITE]);
    }
    return value;
  }) as OccupancySnapshot;
}
