// The ground truth as the simulation records it: closed zone intervals, MAC spans and visits as
// parallel arrays (cheap to append on the hot path), and their materialisation into the sorted
// GroundTruth record (truth-model.ts), with what is still going on closed at the sim's time.

import type { SimContext } from './sim-context.ts';
import type { Person } from './sim-person.ts';
import { KIND_NAMES, personId } from './sim-person.ts';
import type { GroundTruth, TruthInterval, TruthMac, TruthVisit } from './truth-model.ts';

/** Closed truth records, as parallel arrays (materialised by buildGroundTruth). */
export interface TruthLog {
  ivPerson: number[];
  ivZone: number[];
  ivStart: number[];
  ivEnd: number[];
  macPerson: number[];
  macValue: string[];
  macFrom: number[];
  macTo: number[];
  visitPerson: number[];
  visitStart: number[];
  visitEnd: number[];
}

export function createTruthLog(): TruthLog {
  return {
    ivPerson: [],
    ivZone: [],
    ivStart: [],
    ivEnd: [],
    macPerson: [],
    macValue: [],
    macFrom: [],
    macTo: [],
    visitPerson: [],
    visitStart: [],
    visitEnd: [],
  };
}

/** p's stay in its current zone ends at atMs. */
export function closeInterval(log: TruthLog, p: Person, atMs: number): void {
  log.ivPerson.push(p.idx);
  log.ivZone.push(p.zone);
  log.ivStart.push(p.intervalStartMs);
  log.ivEnd.push(atMs);
}

/** p's phone stops using its current MAC at atMs. */
export function closeMac(log: TruthLog, p: Person, atMs: number): void {
  log.macPerson.push(p.idx);
  log.macValue.push(p.mac);
  log.macFrom.push(p.macFromMs);
  log.macTo.push(atMs);
}

/** p's visit ends at atMs. */
export function closeVisit(log: TruthLog, p: Person, atMs: number): void {
  log.visitPerson.push(p.idx);
  log.visitStart.push(p.visitStartMs);
  log.visitEnd.push(atMs);
}

/** Everything up to ctx.now; what is still going on is closed at ctx.now (intervals marked open). */
export function buildGroundTruth(ctx: SimContext): GroundTruth {
  const { startMs, calendar, kindOf, active, now } = ctx;
  const { ivPerson, ivZone, ivStart, ivEnd, macPerson, macValue, macFrom, macTo } = ctx.truth;
  const { visitPerson, visitStart, visitEnd } = ctx.truth;
  const zones = ctx.zoneTables.zones;
  const intervals: TruthInterval[] = [];
  const intervalIdx: number[] = [];
  for (let i = 0; i < ivPerson.length; i++) {
    intervals.push({
      person: personId(ivPerson[i]!),
      zoneId: zones[ivZone[i]!]!.id,
      startMs: ivStart[i]!,
      endMs: ivEnd[i]!,
    });
    intervalIdx.push(ivPerson[i]!);
  }
  const macs: TruthMac[] = [];
  const macIdx: number[] = [];
  for (let i = 0; i < macPerson.length; i++) {
    macs.push({ person: personId(macPerson[i]!), mac: macValue[i]!, fromMs: macFrom[i]!, toMs: macTo[i]! });
    macIdx.push(macPerson[i]!);
  }
  const visits: TruthVisit[] = [];
  const visitIdx: number[] = [];
  const pushVisit = (idx: number, fromMs: number, toMs: number): void => {
    visits.push({
      person: personId(idx),
      kind: KIND_NAMES[kindOf[idx]!]!,
      startMs: fromMs,
      endMs: toMs,
      day: calendar.dayString(calendar.dayIndex(fromMs)),
    });
    visitIdx.push(idx);
  };
  for (let i = 0; i < visitPerson.length; i++) pushVisit(visitPerson[i]!, visitStart[i]!, visitEnd[i]!);
  for (const p of active) {
    if (!p.active) continue;
    intervals.push({
      person: personId(p.idx),
      zoneId: zones[p.zone]!.id,
      startMs: p.intervalStartMs,
      endMs: now,
      open: true,
    });
    intervalIdx.push(p.idx);
    macs.push({ person: personId(p.idx), mac: p.mac, fromMs: p.macFromMs, toMs: now });
    macIdx.push(p.idx);
    pushVisit(p.idx, p.visitStartMs, now);
  }
  // Recording order depends on how time was sliced into steps; the sorted order does not.
  const sortBy = <T>(
    items: T[],
    idx: number[],
    startOf: (item: T) => number,
    tie: (a: T, b: T) => number,
  ) => {
    const order = items.map((_, i) => i);
    order.sort(
      (a, b) => startOf(items[a]!) - startOf(items[b]!) || idx[a]! - idx[b]! || tie(items[a]!, items[b]!),
    );
    return order.map((i) => items[i]!);
  };
  return {
    startMs,
    endMs: now,
    intervals: sortBy(
      intervals,
      intervalIdx,
      (iv) => iv.startMs,
      (a, b) => a.endMs - b.endMs || (a.zoneId < b.zoneId ? -1 : a.zoneId > b.zoneId ? 1 : 0),
    ),
    macs: sortBy(
      macs,
      macIdx,
      (m) => m.fromMs,
      (a, b) => a.toMs - b.toMs,
    ),
    visits: sortBy(
      visits,
      visitIdx,
      (v) => v.startMs,
      (a, b) => a.endMs - b.endMs,
    ),
  };
}
