// The simulator's ground truth — who was where, when, with which MAC — and the pure queries the
// evaluation scores analytics with. No I/O here: truth-files.ts writes the CSV files, and
// ground-truth.ts is the one module consumers import (both halves, re-exported).
// The file format is documented in simulators/GROUND_TRUTH.md.

/** One person's stay in one zone, [startMs, endMs). */
export interface TruthInterval {
  person: string;
  zoneId: string;
  startMs: number;
  endMs: number;
  /** Still going on when the truth was taken: endMs is the sim's time then, not a departure. */
  open?: boolean;
}

/** Which MAC a person's phone used over [fromMs, toMs) of a visit: raw `aa:bb:cc:dd:ee:ff`, lower case. */
export interface TruthMac {
  person: string;
  mac: string;
  fromMs: number;
  toMs: number;
}

export type PersonKind = 'shopper' | 'passer-by' | 'staff';

/** One visit: from arriving in the first zone to leaving the last, [startMs, endMs). */
export interface TruthVisit {
  person: string;
  kind: PersonKind;
  startMs: number;
  endMs: number;
  /** `YYYY-MM-DD` of startMs in the layout's time zone. */
  day: string;
}

export interface GroundTruth {
  /** The simulated span covered: the sim's start and its time when the truth was taken. */
  startMs: number;
  endMs: number;
  /** Sorted by startMs, then person, then zoneId. */
  intervals: TruthInterval[];
  /** Sorted by fromMs, then person. */
  macs: TruthMac[];
  /** Sorted by startMs, then person. */
  visits: TruthVisit[];
}

const MINUTE_MS = 60_000;

/**
 * Persons per zone per minute: for bucket i = [fromMs + i·60 s, +60 s), the persons whose
 * interval covers the bucket's END instant T (startMs <= T < endMs) — the same "present at the
 * minute's end" snapshot analytics writes. Passers-by in 'outside' zones count like anyone else.
 * An open interval (the person was still there when the truth was taken) also covers T = endMs,
 * so a window ending at the sim's time has a true count in its last minute; nothing is known
 * after that. One count per bucket starting before toMs; zones not in `zoneIds` are ignored.
 */
export function truthOccupancyPerMinute(
  truth: GroundTruth,
  zoneIds: readonly string[],
  fromMs: number,
  toMs: number,
): Map<string, number[]> {
  const buckets = Math.max(0, Math.ceil((toMs - fromMs) / MINUTE_MS));
  // Difference arrays: +1 at the first bucket an interval covers, -1 after the last.
  const diff = new Map<string, Int32Array>();
  for (const id of zoneIds) diff.set(id, new Int32Array(buckets + 1));
  for (const iv of truth.intervals) {
    const d = diff.get(iv.zoneId);
    if (!d) continue;
    // Smallest i with fromMs + (i+1)·60 s >= startMs; largest i with fromMs + (i+1)·60 s < endMs
    // (<= endMs when open).
    const first = Math.max(0, Math.ceil((iv.startMs - fromMs) / MINUTE_MS) - 1);
    const lastEnd =
      iv.open === true
        ? Math.floor((iv.endMs - fromMs) / MINUTE_MS) - 1
        : Math.ceil((iv.endMs - fromMs) / MINUTE_MS) - 2;
    const last = Math.min(buckets - 1, lastEnd);
    if (first > last) continue;
    d[first]!++;
    d[last + 1]!--;
  }
  const out = new Map<string, number[]>();
  for (const id of zoneIds) {
    const d = diff.get(id)!;
    const counts = new Array<number>(buckets);
    let running = 0;
    for (let i = 0; i < buckets; i++) {
      running += d[i]!;
      counts[i] = running;
    }
    out.set(id, counts);
  }
  return out;
}

function byPersonThenStart(a: TruthInterval, b: TruthInterval): number {
  if (a.person !== b.person) return a.person < b.person ? -1 : 1;
  return a.startMs - b.startMs;
}

/**
 * Zone-to-zone moves, keyed `${fromZone}>${toZone}`: each pair of consecutive intervals of one
 * person within one visit. Within a visit a person's intervals are contiguous (one ends when the
 * next starts), while separate visits never touch, so "consecutive" is "end of one = start of next".
 */
export function truthTransitions(truth: GroundTruth): Map<string, number> {
  const sorted = [...truth.intervals].sort(byPersonThenStart);
  const out = new Map<string, number>();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.person !== b.person || a.endMs !== b.startMs || a.zoneId === b.zoneId) continue;
    const key = `${a.zoneId}>${b.zoneId}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

/** Distinct persons with a visit on each day (of the visit's start), optionally of one kind; days ascending. */
export function truthPersonsPerDay(truth: GroundTruth, kind?: PersonKind): Map<string, number> {
  const byDay = new Map<string, Set<string>>();
  for (const v of truth.visits) {
    if (kind !== undefined && v.kind !== kind) continue;
    let persons = byDay.get(v.day);
    if (!persons) {
      persons = new Set();
      byDay.set(v.day, persons);
    }
    persons.add(v.person);
  }
  const out = new Map<string, number>();
  for (const day of [...byDay.keys()].sort()) out.set(day, byDay.get(day)!.size);
  return out;
}

const PERSON_KINDS: readonly PersonKind[] = ['shopper', 'passer-by', 'staff'];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The ground truth files as CSV text (header row; times as ISO 8601 UTC with the epoch-ms
 * integer alongside), keyed by file name. Occupancy covers every whole minute from the one
 * holding truth.startMs to the last one ending by truth.endMs.
 */
export function renderTruthFiles(truth: GroundTruth, zoneIds: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const lines: string[] = [];
  const flush = (name: string): void => {
    files.set(name, `${lines.join('\n')}\n`);
    lines.length = 0;
  };

  lines.push('person,zone_id,start,end,start_ms,end_ms,open');
  for (const iv of truth.intervals) {
    lines.push(
      `${iv.person},${iv.zoneId},${iso(iv.startMs)},${iso(iv.endMs)},${iv.startMs},${iv.endMs},${iv.open === true}`,
    );
  }
  flush('intervals.csv');

  lines.push('person,mac,from,to,from_ms,to_ms');
  for (const m of truth.macs) {
    lines.push(`${m.person},${m.mac},${iso(m.fromMs)},${iso(m.toMs)},${m.fromMs},${m.toMs}`);
  }
  flush('macs.csv');

  lines.push('person,kind,day,start,end,start_ms,end_ms');
  for (const v of truth.visits) {
    lines.push(`${v.person},${v.kind},${v.day},${iso(v.startMs)},${iso(v.endMs)},${v.startMs},${v.endMs}`);
  }
  flush('visits.csv');

  const fromMs = Math.floor(truth.startMs / MINUTE_MS) * MINUTE_MS;
  const buckets = Math.max(0, Math.floor((truth.endMs - fromMs) / MINUTE_MS));
  const occupancy = truthOccupancyPerMinute(truth, zoneIds, fromMs, fromMs + buckets * MINUTE_MS);
  lines.push('bucket_start,bucket_start_ms,zone_id,persons');
  for (let i = 0; i < buckets; i++) {
    const bucketMs = fromMs + i * MINUTE_MS;
    const bucketIso = iso(bucketMs);
    for (const zoneId of zoneIds) {
      lines.push(`${bucketIso},${bucketMs},${zoneId},${occupancy.get(zoneId)![i]}`);
    }
  }
  flush('occupancy-minute.csv');

  const transitions = [...truthTransitions(truth)].sort((a, b) =>
    a[1] !== b[1] ? b[1] - a[1] : a[0] < b[0] ? -1 : 1,
  );
  lines.push('from_zone,to_zone,count');
  for (const [key, count] of transitions) {
    const [from, to] = key.split('>');
    lines.push(`${from},${to},${count}`);
  }
  flush('transitions.csv');

  const perKind = new Map(PERSON_KINDS.map((k) => [k, truthPersonsPerDay(truth, k)]));
  const all = truthPersonsPerDay(truth);
  lines.push('day,kind,persons');
  for (const [day, persons] of all) {
    for (const kind of PERSON_KINDS) lines.push(`${day},${kind},${perKind.get(kind)!.get(day) ?? 0}`);
    lines.push(`${day},all,${persons}`);
  }
  flush('persons-per-day.csv');
  return files;
}
