// Visits (mall level) and zone stays per device, from the zone of each completed probe burst.
//
// Per device:  no session → (burst) → open: a visit with one open zone stay
//   open + burst in the same zone        → the stay goes on (lastMs moves)
//   open + burst in another zone         → the stay closes at the midpoint between its last burst
//                                          and this one; a new stay opens there
//   open + silence > visitIdleMs          → the stay closes at its last burst, the visit at its
//                                          last burst (closed by `expireSessions`)
//   open + burst after > visitIdleMs      → the same close, then a new visit opens
// Closed stays and visits queue in `closedStays` / `closedVisits` for the shell to write.

export interface ZoneStay {
  device: string;
  zoneId: string;
  startMs: number;
  endMs: number;
  bursts: number;
}

export interface Visit {
  device: string;
  startMs: number;
  endMs: number;
  /** Zone stays in this visit. */
  stays: number;
  bursts: number;
}

interface DeviceSession {
  visitStartMs: number;
  visitLastMs: number;
  visitStays: number;
  visitBursts: number;
  stayZoneId: string;
  stayStartMs: number;
  stayLastMs: number;
  stayBursts: number;
}

export interface SessionState {
  devices: Map<string, DeviceSession>;
  closedStays: ZoneStay[];
  closedVisits: Visit[];
}

export interface SessionOptions {
  /** A visit ends after this much silence (event time). */
  visitIdleMs: number;
}

export function createSessionState(): SessionState {
  return { devices: new Map(), closedStays: [], closedVisits: [] };
}

function closeStay(state: SessionState, device: string, s: DeviceSession, endMs: number): void {
  state.closedStays.push({
    device,
    zoneId: s.stayZoneId,
    startMs: s.stayStartMs,
    endMs,
    bursts: s.stayBursts,
  });
}

function closeVisit(state: SessionState, device: string, s: DeviceSession): void {
  closeStay(state, device, s, s.stayLastMs);
  state.closedVisits.push({
    device,
    startMs: s.visitStartMs,
    endMs: s.visitLastMs,
    stays: s.visitStays,
    bursts: s.visitBursts,
  });
  state.devices.delete(device);
}

/** One completed probe burst: the device was placed in `zoneId` at `atMs`. Bursts come in time order per device. */
export function observeBurst(
  state: SessionState,
  device: string,
  zoneId: string,
  atMs: number,
  options: SessionOptions,
): void {
  let s = state.devices.get(device);
  if (s !== undefined && atMs - s.visitLastMs > options.visitIdleMs) {
    closeVisit(state, device, s);
    s = undefined;
  }
  if (s === undefined) {
    state.devices.set(device, {
      visitStartMs: atMs,
      visitLastMs: atMs,
      visitStays: 1,
      visitBursts: 1,
      stayZoneId: zoneId,
      stayStartMs: atMs,
      stayLastMs: atMs,
      stayBursts: 1,
    });
    return;
  }
  s.visitLastMs = atMs;
  s.visitBursts++;
  if (zoneId === s.stayZoneId) {
    s.stayLastMs = atMs;
    s.stayBursts++;
    return;
  }
  const boundaryMs = Math.round((s.stayLastMs + atMs) / 2);
  closeStay(state, device, s, boundaryMs);
  s.visitStays++;
  s.stayZoneId = zoneId;
  s.stayStartMs = boundaryMs;
  s.stayLastMs = atMs;
  s.stayBursts = 1;
}

/** Closes every visit silent for longer than `visitIdleMs` at `watermarkMs`. */
export function expireSessions(state: SessionState, watermarkMs: number, options: SessionOptions): void {
  for (const [device, s] of state.devices) {
    if (watermarkMs - s.visitLastMs > options.visitIdleMs) closeVisit(state, device, s);
  }
}

/** Hands the closed stays and visits to the caller and empties the queues. */
export function drainClosed(state: SessionState): { stays: ZoneStay[]; visits: Visit[] } {
  const out = { stays: state.closedStays, visits: state.closedVisits };
  state.closedStays = [];
  state.closedVisits = [];
  return out;
}
