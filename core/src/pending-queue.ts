// Sightings waiting for the watermark (occupancy.ts), in columns: a busy mall queues a million
// readings a minute, and an object per reading, held for the allowed lateness, was most of the
// engine's garbage. Entries are in arrival order; `sorted` says that is also application order.
//
// Application order: event time, then device, zone, RSSI and sensor, so that neither arrival order
// nor batch boundaries change the result. Devices compare as their text; `deviceKey` (the first 8
// of 32 hex digits, -1 for other text) decides most comparisons without reading the text.

import { hexDigit } from './pseudonym-table.ts';

export interface PendingSighting {
  device: string;
  zoneId: string;
  rssiDbm: number;
  heardAtMs: number;
  randomized: boolean;
  /** The sensor that heard it, when the shell knows (the radio map then places the burst). */
  sensorId: string | undefined;
}

export interface PendingQueue {
  size: number;
  /** Arrival order is application order (the common case: readings arrive in order). */
  sorted: boolean;
  /**
   * Arrival order is at least event-time order: only readings of the same instant may be out of
   * order (the common case otherwise: a frame heard by several sensors, reported in any order).
   */
  timeSorted: boolean;
  /** Columns of a fixed capacity (the typed arrays' length): never grown by a write, never trimmed. */
  device: (string | undefined)[];
  zoneId: (string | undefined)[];
  sensorId: (string | undefined)[];
  heardAtMs: Float64Array;
  rssiDbm: Float64Array;
  deviceKey: Float64Array;
  randomized: Uint8Array;
  /** Where `readyOrder` writes its answer: reused, valid until its next call. */
  order: Int32Array;
}

const INITIAL = 1024;

export function createPendingQueue(): PendingQueue {
  return {
    size: 0,
    sorted: true,
    timeSorted: true,
    device: new Array(INITIAL).fill(undefined),
    zoneId: new Array(INITIAL).fill(undefined),
    sensorId: new Array(INITIAL).fill(undefined),
    heardAtMs: new Float64Array(INITIAL),
    rssiDbm: new Float64Array(INITIAL),
    deviceKey: new Float64Array(INITIAL),
    randomized: new Uint8Array(INITIAL),
    order: new Int32Array(INITIAL),
  };
}

/**
 * A number that orders pseudonyms as their text does where it can: the first 8 of 32 lowercase
 * hex digits (what gateways send); -1 for any other text, which is then compared as text.
 */
export function deviceSortKey(device: string): number {
  if (device.length !== 32) return -1;
  let key = 0;
  for (let i = 0; i < 8; i++) {
    const v = hexDigit(device.charCodeAt(i));
    if (v < 0) return -1;
    key = key * 16 + v;
  }
  return key;
}

function grow(q: PendingQueue): void {
  resize(q, q.heardAtMs.length * 2);
}

/** Columns of `n` entries (at least the queue's size). */
function resize(q: PendingQueue, n: number): void {
  const moved = <T extends Float64Array | Uint8Array>(a: T, b: T): T => {
    b.set(a.subarray(0, q.size));
    return b;
  };
  q.heardAtMs = moved(q.heardAtMs, new Float64Array(n));
  q.rssiDbm = moved(q.rssiDbm, new Float64Array(n));
  q.deviceKey = moved(q.deviceKey, new Float64Array(n));
  q.randomized = moved(q.randomized, new Uint8Array(n));
  const texts = (a: (string | undefined)[]) => {
    const b = new Array<string | undefined>(n).fill(undefined);
    for (let i = 0; i < q.size; i++) b[i] = a[i];
    return b;
  };
  q.device = texts(q.device);
  q.zoneId = texts(q.zoneId);
  q.sensorId = texts(q.sensorId);
  q.order = new Int32Array(n);
}

export function pushPending(
  q: PendingQueue,
  device: string,
  zoneId: string,
  rssiDbm: number,
  heardAtMs: number,
  randomized: boolean,
  sensorId: string | undefined,
): void {
  const i = q.size;
  if (i === q.heardAtMs.length) grow(q);
  q.device[i] = device;
  q.zoneId[i] = zoneId;
  q.sensorId[i] = sensorId;
  q.heardAtMs[i] = heardAtMs;
  q.rssiDbm[i] = rssiDbm;
  q.deviceKey[i] = deviceSortKey(device);
  q.randomized[i] = randomized ? 1 : 0;
  q.size = i + 1;
  if (i > 0 && q.heardAtMs[i - 1]! > heardAtMs) q.timeSorted = false;
  if (i > 0 && q.sorted && comparePending(q, i - 1, i) > 0) q.sorted = false;
}

function compareText(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Application order of entries `a` and `b`. */
export function comparePending(q: PendingQueue, a: number, b: number): number {
  const dt = q.heardAtMs[a]! - q.heardAtMs[b]!;
  if (dt !== 0) return dt;
  const ka = q.deviceKey[a]!;
  const kb = q.deviceKey[b]!;
  if (ka !== kb && ka >= 0 && kb >= 0) return ka - kb;
  return (
    compareText(q.device[a], q.device[b]) ||
    compareText(q.zoneId[a], q.zoneId[b]) ||
    q.rssiDbm[a]! - q.rssiDbm[b]! ||
    compareText(q.sensorId[a], q.sensorId[b])
  );
}

/**
 * The entries before `watermarkMs`, in application order: a prefix when the queue is sorted, else
 * those entries sorted (the rest wait, unsorted, for their turn: each entry is sorted once). The
 * array is the queue's own, overwritten by the next call.
 */
export function readyOrder(q: PendingQueue, watermarkMs: number): Int32Array {
  const order = q.order;
  let n = 0;
  if (q.sorted || q.timeSorted) {
    while (n < q.size && q.heardAtMs[n]! < watermarkMs) {
      order[n] = n;
      n++;
    }
    const ready = order.subarray(0, n);
    if (!q.sorted) sortInstants(q, ready);
    return ready;
  }
  for (let i = 0; i < q.size; i++) if (q.heardAtMs[i]! < watermarkMs) order[n++] = i;
  return order.subarray(0, n).sort((a, b) => comparePending(q, a, b));
}

/** Sorts each run of entries of the same instant in `order` (already in event-time order) in place. */
function sortInstants(q: PendingQueue, order: Int32Array): void {
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    const t = q.heardAtMs[order[start]!]!;
    while (end < order.length && q.heardAtMs[order[end]!] === t) end++;
    if (end - start > 32) {
      // Many readings at one instant (timestamps of a coarse clock): a real sort.
      order.subarray(start, end).sort((a, b) => comparePending(q, a, b));
      start = end;
      continue;
    }
    // Insertion sort: an instant usually holds a frame's few readings.
    for (let i = start + 1; i < end; i++) {
      const x = order[i]!;
      let j = i - 1;
      while (j >= start && comparePending(q, order[j]!, x) > 0) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = x;
    }
    start = end;
  }
}

/** Removes the entries before `watermarkMs` (once applied), keeping the rest in arrival order. */
export function removeBefore(q: PendingQueue, watermarkMs: number): void {
  let n = 0;
  for (let i = 0; i < q.size; i++) {
    if (q.heardAtMs[i]! < watermarkMs) continue;
    if (n !== i) {
      q.device[n] = q.device[i]!;
      q.zoneId[n] = q.zoneId[i]!;
      q.sensorId[n] = q.sensorId[i];
      q.heardAtMs[n] = q.heardAtMs[i]!;
      q.rssiDbm[n] = q.rssiDbm[i]!;
      q.deviceKey[n] = q.deviceKey[i]!;
      q.randomized[n] = q.randomized[i]!;
    }
    n++;
  }
  // Let go of the texts of the entries removed (setting `length` would free the columns).
  const held = q.size;
  for (let i = n; i < held; i++) {
    q.device[i] = undefined;
    q.zoneId[i] = undefined;
    q.sensorId[i] = undefined;
  }
  q.size = n;
  // After a peak (a backlog drained) the columns shrink back: to twice what this call held once a
  // call holds little (the next ones, holding about as much, fit without growing them again), or
  // at once to twice what is left when that is a sliver of them.
  const capacity = q.heardAtMs.length;
  if (capacity > INITIAL && (held * 4 < capacity || n * 16 < capacity)) {
    const keep = held * 4 < capacity ? held : n;
    resize(q, Math.max(INITIAL, 2 ** Math.ceil(Math.log2(2 * keep + 1))));
  }
  // Left unsorted, the rest is sorted when its turn comes.
  if (n === 0) q.sorted = true;
  if (!q.timeSorted) {
    let inTime = true;
    for (let i = 1; i < n && inTime; i++) inTime = q.heardAtMs[i - 1]! <= q.heardAtMs[i]!;
    q.timeSorted = inTime;
  }
}

export function pendingSightings(q: PendingQueue): PendingSighting[] {
  return Array.from({ length: q.size }, (_, i) => ({
    device: q.device[i]!,
    zoneId: q.zoneId[i]!,
    rssiDbm: q.rssiDbm[i]!,
    heardAtMs: q.heardAtMs[i]!,
    randomized: q.randomized[i] === 1,
    sensorId: q.sensorId[i],
  }));
}
