import {
  acquirePseudonym,
  coverId,
  findPseudonym,
  type PseudonymTable,
  pseudonymText,
  releasePseudonym,
} from './pseudonym-table.ts';
import { type BurstObservation, createZoneTrack, type ZoneTrack } from './zone-estimator.ts';

// The occupancy engine's devices as integer slots with typed-array columns (issue 4: ≤ 300 B of
// live state per device at 1,000,000 devices; a DeviceState object with a dozen small arrays took
// ~5 KB). What only some devices need at a time is lent from pools, not held per device:
//   burst    the burst being collected (zones, sensors, strongest RSSI each): from its first
//            reading until it is handed to the zone track (BURST_WINDOW_MS), so a few thousand;
//   track    the zone track's undecided steps (zone-estimator.ts): from a step until its decision
//            (the lag); the decided root stays in the columns;
//   link     a randomized device's first and newest burst (zones, RSSI), for the linker: in a
//            shared arena of (zone, RSSI) pairs with free lists per length.
// A slot is freed when its device is forgotten. A freed slot is reused only once the event queues
// have moved past every entry that could name it (`releaseSlots`): a stale entry must never meet
// another device in its slot.

export const FED = 1;
export const MAPPED = 2;
export const RANDOMIZED = 4;

/** A burst being collected: what the zone track is handed once it is complete. */
export type BurstRecord = BurstObservation;

/**
 * Records lent by index to device slots, and the slot each is lent to (-1: free); beyond
 * SPARE_RECORDS free ones the records are let go, and once most of a pool is free it is
 * renumbered (`compacted`).
 */
interface Pool<R> {
  records: (R | undefined)[];
  owner: number[];
  free: number[];
}

export interface DeviceTable {
  /** Pseudonyms interned (shared with the sessions): each device slot holds its id. */
  names: PseudonymTable;
  /** Slot → pseudonym id (-1 when free). */
  pid: Int32Array;
  /** Pseudonym id → slot (-1: no device; beyond the length: none either). */
  slotOf: Int32Array;
  /**
   * The device found or added last and its slot: a burst's readings come one after another, and
   * comparing the text is cheaper than parsing it again. Cleared when a device is forgotten.
   */
  lastName: string | undefined;
  lastSlot: number;
  /** Devices in slots. */
  size: number;
  /** Slots in use or quarantined, and the columns' length. */
  used: number;
  capacity: number;
  free: number[];
  /** Slots freed, and the queue lengths at the time: free once both queue heads have passed them. */
  quarantine: number[];
  quarantineBurstEnd: number;
  quarantineDecisionEnd: number;
  burstStartMs: Float64Array;
  lastSeenMs: Float64Array;
  /** Start of the newest burst handed to the track (NaN before the first). */
  lastStepMs: Float64Array;
  /** Typical gap between bursts (NaN until known). */
  gapMs: Float64Array;
  /** Causal zone estimate (-1 until the first burst completes). */
  zone: Int32Array;
  /** Its confidence (zone-estimator.ts `filteredConfidence`; NaN: unknown). */
  zoneConfidence: Float32Array;
  flags: Uint8Array;
  /** Burst record lent (-1: none). */
  burst: Int32Array;
  /** Zone track lent (-1: none: no undecided step). */
  track: Int32Array;
  /** The track's decided root (zone -1: none) while no track is lent. */
  rootZone: Int32Array;
  rootMs: Float64Array;
  /** Link bursts in the pair arena: offset (-1: none) and length. */
  firstOff: Int32Array;
  firstLen: Uint16Array;
  lastOff: Int32Array;
  lastLen: Uint16Array;
  /** Bursts being collected and zone tracks with undecided steps, lent per slot (`burst`, `track`). */
  bursts: Pool<BurstRecord>;
  tracks: Pool<ZoneTrack>;
  arenaZones: Int32Array;
  arenaRssiDbm: Float64Array;
  arenaUsed: number;
  /** Free arena offsets by length. */
  arenaFree: number[][];
}

const INITIAL_SLOTS = 1024;
/**
 * Free records kept for reuse: enough for a busy minute; above it a burst of arrivals (every
 * device with a track at once) would hold its peak forever.
 */
const SPARE_RECORDS = 4096;

export function createDeviceTable(names: PseudonymTable): DeviceTable {
  const n = INITIAL_SLOTS;
  return {
    names,
    pid: new Int32Array(n).fill(-1),
    slotOf: new Int32Array(n).fill(-1),
    lastName: undefined,
    lastSlot: -1,
    size: 0,
    used: 0,
    capacity: n,
    free: [],
    quarantine: [],
    quarantineBurstEnd: 0,
    quarantineDecisionEnd: 0,
    burstStartMs: new Float64Array(n),
    lastSeenMs: new Float64Array(n),
    lastStepMs: new Float64Array(n),
    gapMs: new Float64Array(n),
    zone: new Int32Array(n),
    zoneConfidence: new Float32Array(n),
    flags: new Uint8Array(n),
    burst: new Int32Array(n),
    track: new Int32Array(n),
    rootZone: new Int32Array(n),
    rootMs: new Float64Array(n),
    firstOff: new Int32Array(n),
    firstLen: new Uint16Array(n),
    lastOff: new Int32Array(n),
    lastLen: new Uint16Array(n),
    bursts: { records: [], owner: [], free: [] },
    tracks: { records: [], owner: [], free: [] },
    arenaZones: new Int32Array(n),
    arenaRssiDbm: new Float64Array(n),
    arenaUsed: 0,
    arenaFree: [],
  };
}

function grown<T extends Float64Array | Float32Array | Int32Array | Uint8Array | Uint16Array>(
  a: T,
  n: number,
): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

function grow(t: DeviceTable): void {
  const n = t.capacity * 2;
  t.burstStartMs = grown(t.burstStartMs, n);
  t.lastSeenMs = grown(t.lastSeenMs, n);
  t.lastStepMs = grown(t.lastStepMs, n);
  t.gapMs = grown(t.gapMs, n);
  t.zone = grown(t.zone, n);
  t.zoneConfidence = grown(t.zoneConfidence, n);
  t.flags = grown(t.flags, n);
  t.burst = grown(t.burst, n);
  t.track = grown(t.track, n);
  t.rootZone = grown(t.rootZone, n);
  t.rootMs = grown(t.rootMs, n);
  t.firstOff = grown(t.firstOff, n);
  t.firstLen = grown(t.firstLen, n);
  t.lastOff = grown(t.lastOff, n);
  t.lastLen = grown(t.lastLen, n);
  const pid = new Int32Array(n).fill(-1);
  pid.set(t.pid);
  t.pid = pid;
  t.capacity = n;
}

/** The slot of the device `pseudonym` (-1: none). */
export function findDevice(t: DeviceTable, pseudonym: string): number {
  if (pseudonym === t.lastName) return t.lastSlot;
  const id = findPseudonym(t.names, pseudonym);
  const d = id < 0 || id >= t.slotOf.length ? -1 : t.slotOf[id]!;
  if (d >= 0) {
    t.lastName = pseudonym;
    t.lastSlot = d;
  }
  return d;
}

/** The pseudonym of the device in slot `d`. */
export function deviceName(t: DeviceTable, d: number): string {
  return pseudonymText(t.names, t.pid[d]!);
}

/** A slot for a new device, every column reset (no burst, no track, nothing decided). */
export function addDevice(t: DeviceTable, id: string, randomized: boolean): number {
  let d = t.free.pop();
  if (d === undefined) {
    if (t.used === t.capacity) grow(t);
    d = t.used++;
  }
  const p = acquirePseudonym(t.names, id);
  t.slotOf = coverId(t.slotOf, p);
  t.pid[d] = p;
  t.slotOf[p] = d;
  t.lastName = id;
  t.lastSlot = d;
  t.size++;
  t.burstStartMs[d] = 0;
  t.lastSeenMs[d] = 0;
  t.lastStepMs[d] = Number.NaN;
  t.gapMs[d] = Number.NaN;
  t.zone[d] = -1;
  t.zoneConfidence[d] = Number.NaN;
  t.flags[d] = randomized ? RANDOMIZED : 0;
  t.burst[d] = -1;
  t.track[d] = -1;
  t.rootZone[d] = -1;
  t.rootMs[d] = Number.NaN;
  t.firstOff[d] = -1;
  t.firstLen[d] = 0;
  t.lastOff[d] = -1;
  t.lastLen[d] = 0;
  return d;
}

/**
 * Forgets the device in slot `d` (its burst handed on, its track empty). The slot is reused once
 * both queues have passed the lengths given (`releaseSlots`); the same device coming back before
 * that takes a fresh slot (`addDevice`).
 */
export function removeDevice(
  t: DeviceTable,
  d: number,
  burstQueueEnd: number,
  decisionQueueEnd: number,
): void {
  const p = t.pid[d]!;
  t.slotOf[p] = -1;
  t.pid[d] = -1;
  t.lastName = undefined;
  t.size--;
  releasePseudonym(t.names, p);
  dropBurst(t, d);
  freeLink(t, t.firstOff[d]!, t.firstLen[d]!);
  freeLink(t, t.lastOff[d]!, t.lastLen[d]!);
  t.firstOff[d] = -1;
  t.lastOff[d] = -1;
  t.quarantine.push(d);
  t.quarantineBurstEnd = burstQueueEnd;
  t.quarantineDecisionEnd = decisionQueueEnd;
}

/** The quarantined slots become free once both queue heads have passed the entries they had. */
export function releaseSlots(t: DeviceTable, burstHead: number, decisionHead: number): void {
  if (t.quarantine.length === 0) return;
  if (burstHead < t.quarantineBurstEnd || decisionHead < t.quarantineDecisionEnd) return;
  for (const d of t.quarantine) t.free.push(d);
  t.quarantine.length = 0;
}

/** Queue compaction shifted every index down by `by`. */
export function shiftQuarantine(t: DeviceTable, burstBy: number, decisionBy: number): void {
  t.quarantineBurstEnd = Math.max(0, t.quarantineBurstEnd - burstBy);
  t.quarantineDecisionEnd = Math.max(0, t.quarantineDecisionEnd - decisionBy);
}

/** The burst record of slot `d`, lent now if it has none (its counts at 0). */
export function burstOf(t: DeviceTable, d: number): BurstRecord {
  if (t.burst[d]! < 0) {
    const r = lend(t.bursts, t.burst, d, newBurst);
    r.count = 0;
    r.sensorCount = 0;
  }
  return t.bursts.records[t.burst[d]!]!;
}

export function dropBurst(t: DeviceTable, d: number): void {
  if (t.burst[d]! >= 0) giveBack(t.bursts, t.burst, d);
}

/** Lends slot `d` a record of `pool` (a spare one, else a new one); `column` holds its index. */
function lend<R>(pool: Pool<R>, column: Int32Array, d: number, create: () => R): R {
  const i = pool.free.pop() ?? pool.records.push(undefined) - 1;
  pool.owner[i] = d;
  column[d] = i;
  let r = pool.records[i];
  if (r === undefined) {
    r = create();
    pool.records[i] = r;
  }
  return r;
}

/** Slot `d`'s record goes back to `pool`. */
function giveBack<R>(pool: Pool<R>, column: Int32Array, d: number): void {
  const i = column[d]!;
  if (pool.free.length >= SPARE_RECORDS) pool.records[i] = undefined;
  pool.owner[i] = -1;
  pool.free.push(i);
  column[d] = -1;
  if (mostlyFree(pool.free.length, pool.records.length)) compact(pool, column);
}

/**
 * A pool's arrays keep the length of its peak (every device with a track at once: 16 B per device
 * and more, for ever). Once under a quarter of it is lent, and the free indices are many more than
 * SPARE_RECORDS (the scan, O(pool), is paid for by the growth since the last one), it is renumbered.
 */
function mostlyFree(free: number, length: number): boolean {
  return free > 4 * SPARE_RECORDS && free * 4 > length * 3;
}

/** Renumbers the pool's lent records from 0 (`column` follows), then keeps up to SPARE_RECORDS free ones. */
function compact<R>(pool: Pool<R>, column: Int32Array): void {
  const records: (R | undefined)[] = [];
  const owner: number[] = [];
  const spare: R[] = [];
  for (let i = 0; i < pool.records.length; i++) {
    const d = pool.owner[i]!;
    const r = pool.records[i];
    if (d >= 0) {
      column[d] = records.length;
      records.push(r);
      owner.push(d);
    } else if (r !== undefined && spare.length < SPARE_RECORDS) spare.push(r);
  }
  const free: number[] = [];
  for (const r of spare) {
    free.push(records.length);
    records.push(r);
    owner.push(-1);
  }
  pool.records = records;
  pool.owner = owner;
  pool.free = free;
}

function newBurst(): BurstRecord {
  return { zones: [], rssiDbm: [], count: 0, sensors: [], sensorRssiDbm: [], sensorCount: 0 };
}

/** The zone track of slot `d`, lent now (empty, at the slot's root) if it has none. */
export function trackOf(t: DeviceTable, d: number): ZoneTrack {
  if (t.track[d]! < 0) {
    const track = lend(t.tracks, t.track, d, createZoneTrack);
    track.rootZone = t.rootZone[d]!;
    track.rootCands[0] = track.rootZone;
    track.rootMs = t.rootMs[d]!;
    track.filtered = -1;
  }
  return t.tracks.records[t.track[d]!]!;
}

/** Keeps the track's root in the columns, and returns the track once it has no undecided step. */
export function settleTrack(t: DeviceTable, d: number): void {
  const k = t.track[d]!;
  if (k < 0) return;
  const track = t.tracks.records[k]!;
  t.rootZone[d] = track.rootZone;
  t.rootMs[d] = track.rootMs;
  if (track.stepMs.length === 0) giveBack(t.tracks, t.track, d);
}

/** Undecided steps of slot `d`. */
export function pendingSteps(t: DeviceTable, d: number): number {
  const k = t.track[d]!;
  return k < 0 ? 0 : t.tracks.records[k]!.stepMs.length;
}

/** Stores `count` (zone, RSSI) pairs in the arena; returns the offset. */
export function storeLink(
  t: DeviceTable,
  zones: readonly number[],
  rssiDbm: readonly number[],
  count: number,
): number {
  const freeOfLength = t.arenaFree[count];
  let off = freeOfLength?.pop();
  if (off === undefined) {
    while (t.arenaUsed + count > t.arenaZones.length) {
      t.arenaZones = grown(t.arenaZones, t.arenaZones.length * 2);
      t.arenaRssiDbm = grown(t.arenaRssiDbm, t.arenaRssiDbm.length * 2);
    }
    off = t.arenaUsed;
    t.arenaUsed += count;
  }
  for (let i = 0; i < count; i++) {
    t.arenaZones[off + i] = zones[i]!;
    t.arenaRssiDbm[off + i] = rssiDbm[i]!;
  }
  return off;
}

export function freeLink(t: DeviceTable, off: number, count: number): void {
  if (off < 0) return;
  let list = t.arenaFree[count];
  if (list === undefined) {
    list = [];
    t.arenaFree[count] = list;
  }
  list.push(off);
}

/** Reads arena pairs into `zones` / `rssiDbm` (trimmed to `count`). */
export function readLink(
  t: DeviceTable,
  off: number,
  count: number,
  zones: number[],
  rssiDbm: number[],
): void {
  const n = off < 0 ? 0 : count;
  for (let i = 0; i < n; i++) {
    zones[i] = t.arenaZones[off + i]!;
    rssiDbm[i] = t.arenaRssiDbm[off + i]!;
  }
  if (zones.length !== n) zones.length = n;
  if (rssiDbm.length !== n) rssiDbm.length = n;
}
