// Live occupancy from sightings: a pure state machine driven by event time.
//
// Arrival:   sightings wait in `pending` until the watermark (newest event time minus the allowed
//            lateness) passes them; then they apply in event-time order (ties broken by device,
//            zone, RSSI), so arrival order and batch boundaries within the lateness do not matter.
//            A sighting already behind the watermark applies at once and is counted as late.
// Per device: readings within BURST_WINDOW_MS of a burst's first reading are one probe burst; the
//            strongest sensor of the latest burst places the device. Present while
//            now - lastSeenMs <= presenceMs; evicted after that.
// Minutes:   before a sighting at or past the open minute's end applies, that minute closes with a
//            snapshot of who is present at its end; a gap of several minutes closes each in turn.
//            Once nobody has been present for QUIET_MINUTES_WRITTEN minutes, the empty minutes that
//            follow are skipped, not written (read a missing minute as 0): a mall that was silent
//            overnight, or a reading a year ahead, must not write a row per zone per empty minute.
//
// The shell owns the state and mutates it in place.

import { createSessionState, expireSessions, observeBurst, type SessionState } from './sessions.ts';

export const BURST_WINDOW_MS = 3_000;
export const MINUTE_MS = 60_000;
export const QUIET_MINUTES_WRITTEN = 60;

export interface PendingSighting {
  device: string;
  zoneId: string;
  rssiDbm: number;
  heardAtMs: number;
}

export interface DeviceState {
  zoneId: string;
  burstStartMs: number;
  burstBestRssiDbm: number;
  firstSeenMs: number;
  lastSeenMs: number;
  /** The current burst was handed to the sessionizer (it is complete). */
  burstFed: boolean;
}

export interface OccupancyState {
  devices: Map<string, DeviceState>;
  /** Sightings newer than the watermark, not applied yet. */
  pending: PendingSighting[];
  /** `pending` is already in application order (the common case: readings arrive in order). */
  pendingSorted: boolean;
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
  /** Visits and zone stays, fed with each completed burst. */
  sessions: SessionState;
  /** Bursts in the order they started, waiting to complete (device, start); `burstHead` is the next. */
  burstQueueDevice: string[];
  burstQueueStartMs: number[];
  burstHead: number;
  options: Readonly<OccupancyOptions>;
}

export interface OccupancyOptions {
  /** A device counts as present for this long after its last sighting. */
  presenceMs: number;
  /** Readings may arrive this late (event time behind the newest seen) and still count. */
  allowedLatenessMs: number;
  /** A visit ends after this much silence. */
  visitIdleMs: number;
}

export interface MinuteRow {
  bucketMs: number;
  zoneId: string;
  devices: number;
}

export function createOccupancyState(options: OccupancyOptions): OccupancyState {
  return {
    options: { ...options },
    devices: new Map(),
    pending: [],
    pendingSorted: true,
    appliedToMs: 0,
    late: 0,
    minuteStartMs: undefined,
    newestMs: 0,
    lastAppliedHeardMs: 0,
    sessions: createSessionState(),
    burstQueueDevice: [],
    burstQueueStartMs: [],
    burstHead: 0,
  };
}

export function floorToMinute(ms: number): number {
  return ms - (((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

/**
 * Applies one sighting to the device states: `zoneId` is the zone of the sensor that heard it.
 * Returns true when the device's zone changed. A reading older than the device's current burst
 * cannot move it.
 */
export function applySighting(
  state: OccupancyState,
  device: string,
  zoneId: string,
  rssiDbm: number,
  heardAtMs: number,
): boolean {
  const d = state.devices.get(device);
  if (d === undefined) {
    state.devices.set(device, {
      zoneId,
      burstStartMs: heardAtMs,
      burstBestRssiDbm: rssiDbm,
      firstSeenMs: heardAtMs,
      lastSeenMs: heardAtMs,
      burstFed: false,
    });
    state.burstQueueDevice.push(device);
    state.burstQueueStartMs.push(heardAtMs);
    return true;
  }
  if (heardAtMs > d.lastSeenMs) d.lastSeenMs = heardAtMs;
  if (heardAtMs < d.firstSeenMs) d.firstSeenMs = heardAtMs;
  if (heardAtMs < d.burstStartMs) return false;
  if (heardAtMs - d.burstStartMs > BURST_WINDOW_MS) {
    if (!d.burstFed) observeBurst(state.sessions, device, d.zoneId, d.burstStartMs, state.options);
    d.burstFed = false;
    d.burstStartMs = heardAtMs;
    state.burstQueueDevice.push(device);
    state.burstQueueStartMs.push(heardAtMs);
    d.burstBestRssiDbm = rssiDbm;
    const moved = d.zoneId !== zoneId;
    d.zoneId = zoneId;
    return moved;
  }
  if (rssiDbm > d.burstBestRssiDbm) {
    d.burstBestRssiDbm = rssiDbm;
    const moved = d.zoneId !== zoneId;
    d.zoneId = zoneId;
    return moved;
  }
  return false;
}

/**
 * Devices present per zone at `atMs`: first seen no later than it and last seen at most
 * `presenceMs` before it. A device heard only after `atMs` had not arrived yet.
 */
export function countOccupancy(state: OccupancyState, atMs: number, presenceMs: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of state.devices.values()) {
    if (d.firstSeenMs <= atMs && atMs - d.lastSeenMs <= presenceMs) {
      counts.set(d.zoneId, (counts.get(d.zoneId) ?? 0) + 1);
    }
  }
  return counts;
}

/** Drops devices silent for longer than `presenceMs` at `atMs`. Returns how many were dropped. */
export function evictAbsent(state: OccupancyState, atMs: number, presenceMs: number): number {
  let dropped = 0;
  for (const [id, d] of state.devices) {
    if (atMs - d.lastSeenMs > presenceMs && d.burstFed) {
      state.devices.delete(id);
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
): void {
  if (state.minuteStartMs === undefined) {
    state.minuteStartMs = floorToMinute(heardAtMs);
    state.appliedToMs = state.minuteStartMs;
    state.lastAppliedHeardMs = heardAtMs;
  }
  if (heardAtMs > state.newestMs) state.newestMs = heardAtMs;
  if (heardAtMs < state.appliedToMs) {
    state.late++;
    applySighting(state, device, zoneId, rssiDbm, heardAtMs);
    if (heardAtMs > state.lastAppliedHeardMs) state.lastAppliedHeardMs = heardAtMs;
    return;
  }
  const sighting = { device, zoneId, rssiDbm, heardAtMs };
  const last = state.pending[state.pending.length - 1];
  if (last !== undefined && comparePending(last, sighting) > 0) state.pendingSorted = false;
  state.pending.push(sighting);
}

function comparePending(a: PendingSighting, b: PendingSighting): number {
  return (
    a.heardAtMs - b.heardAtMs ||
    (a.device < b.device ? -1 : a.device > b.device ? 1 : 0) ||
    (a.zoneId < b.zoneId ? -1 : a.zoneId > b.zoneId ? 1 : 0) ||
    a.rssiDbm - b.rssiDbm
  );
}

function closeMinute(
  state: OccupancyState,
  startMs: number,
  zoneIds: readonly string[],
  presenceMs: number,
  rows: MinuteRow[],
) {
  const counts = countOccupancy(state, startMs + MINUTE_MS, presenceMs);
  for (const zoneId of zoneIds) rows.push({ bucketMs: startMs, zoneId, devices: counts.get(zoneId) ?? 0 });
}

/** Hands each burst that can no longer grow (its window ended before the watermark) to the sessionizer. */
function feedCompletedBursts(state: OccupancyState, watermarkMs: number): void {
  const devices = state.burstQueueDevice;
  const starts = state.burstQueueStartMs;
  let head = state.burstHead;
  while (head < devices.length && starts[head]! + BURST_WINDOW_MS < watermarkMs) {
    const device = devices[head]!;
    const d = state.devices.get(device);
    // A burst already fed on rollover, or replaced by a later one, is skipped here.
    if (d !== undefined && !d.burstFed && d.burstStartMs === starts[head]) {
      observeBurst(state.sessions, device, d.zoneId, d.burstStartMs, state.options);
      d.burstFed = true;
    }
    head++;
  }
  if (head > 4096 && head * 2 > devices.length) {
    state.burstQueueDevice = devices.slice(head);
    state.burstQueueStartMs = starts.slice(head);
    head = 0;
  }
  state.burstHead = head;
}

/**
 * Applies every pending sighting the watermark has passed and closes every minute that ends at
 * or before it, returning one row per zone in `zoneIds` per closed minute (zeros included, so a
 * quiet zone reads 0, not missing).
 */
export function closeMinutes(state: OccupancyState, zoneIds: readonly string[]): MinuteRow[] {
  const options = state.options;
  const rows: MinuteRow[] = [];
  if (state.minuteStartMs === undefined) return rows;
  let startMs: number = state.minuteStartMs;
  const watermarkMs = state.newestMs - options.allowedLatenessMs;
  if (watermarkMs <= state.appliedToMs) return rows;
  const pending = state.pending;
  if (!state.pendingSorted) pending.sort(comparePending);
  state.pendingSorted = true;
  // Closes the minutes that end at or before `untilMs`, skipping a long empty stretch whole.
  const quietAfterMs = options.presenceMs + QUIET_MINUTES_WRITTEN * MINUTE_MS;
  const closeUntil = (untilMs: number) => {
    while (startMs + MINUTE_MS <= untilMs) {
      if (startMs + MINUTE_MS - state.lastAppliedHeardMs > quietAfterMs) {
        startMs = floorToMinute(untilMs);
        break;
      }
      closeMinute(state, startMs, zoneIds, options.presenceMs, rows);
      startMs += MINUTE_MS;
    }
  };
  let n = 0;
  for (; n < pending.length; n++) {
    const s = pending[n]!;
    if (s.heardAtMs >= watermarkMs) break;
    closeUntil(floorToMinute(s.heardAtMs));
    applySighting(state, s.device, s.zoneId, s.rssiDbm, s.heardAtMs);
    if (s.heardAtMs > state.lastAppliedHeardMs) state.lastAppliedHeardMs = s.heardAtMs;
  }
  state.pending = n === pending.length ? [] : pending.slice(n);
  closeUntil(watermarkMs);
  state.minuteStartMs = startMs;
  state.appliedToMs = watermarkMs;
  feedCompletedBursts(state, watermarkMs);
  expireSessions(state.sessions, watermarkMs, options);
  if (rows.length > 0) evictAbsent(state, watermarkMs, options.presenceMs);
  return rows;
}

/** Moves event time forward without a sighting (a quiet mall still sees its minutes close). */
export function advanceClock(state: OccupancyState, toMs: number): void {
  if (state.minuteStartMs !== undefined && toMs > state.newestMs) state.newestMs = toMs;
}
