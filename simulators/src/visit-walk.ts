// One visit's walk through the mall (the state machine in the header of mall-sim.ts): where in a
// zone the person stands, how long they stay there, moving on hop by hop toward the target, and
// the end of the visit, after which a recurring person is scheduled for their next one.

import { pointInPolygon } from '../../core/src/index.ts';
import { OPEN_MS_OF_DAY } from './mall-hours.ts';
import { ESCALATOR_RIDE_MS, LIFT_MAX_WAIT_MS, LIFT_MEAN_WAIT_MS, LIFT_RIDE_MS } from './mall-zones.ts';
import { chance, exponential, lognormal, uniform } from './rng.ts';
import type { SimContext } from './sim-context.ts';
import type { Person } from './sim-person.ts';
import { PASSER, SHOPPER, STAFF } from './sim-person.ts';
import { closeInterval, closeMac, closeVisit } from './truth-recorder.ts';
import {
  EXIT_WALK_FACTOR,
  EXIT_WALK_SLACK_MS,
  gapDays,
  MEMBER_GAP_MEAN_DAYS,
  REGULAR_GAP_MEAN_DAYS,
  STAFF_EARLY_MAX_MS,
  STAFF_EARLY_MIN_MS,
  sampleArrivalMs,
} from './visit-habits.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Chance that a shopper crossing a corridor or atrium stops for a while (window shopping, a bench). */
const LINGER_CHANCE = 0.08;
const LINGER_MEAN_MS = 3 * MINUTE_MS;
const MAX_DWELL_MS = 4 * HOUR_MS;
/** Shoppers walk from the street to the door, or away from it, for this long in an outside zone. */
const OUTSIDE_MIN_MS = 5_000;
const OUTSIDE_MAX_MS = 20_000;

/** Puts p at a random spot in zone z (an outside zone: near its door, unless p is passing by). */
export function placeIn(ctx: SimContext, p: Person, z: number): void {
  const { zones, zx0, zy0, zw, zh, isOutside, isRect, doorX, doorY } = ctx.zoneTables;
  const rng = p.rng;
  const x0 = zx0[z]!;
  const y0 = zy0[z]!;
  if (isOutside[z] === 1 && p.kind !== PASSER) {
    // Walking up to (or away from) the door: within a few metres of it.
    p.x = Math.min(Math.max(doorX[z]! + uniform(rng, -6, 6), x0 + 0.5), x0 + zw[z]! - 0.5);
    p.y = Math.min(Math.max(doorY[z]! + uniform(rng, -6, 6), y0 + 0.5), y0 + zh[z]! - 0.5);
    return;
  }
  // Keep a metre off the walls where the zone is big enough, so positions read as "inside".
  const mx = zw[z]! > 4 ? 1 : 0;
  const my = zh[z]! > 4 ? 1 : 0;
  if (isRect[z] === 1) {
    p.x = uniform(rng, x0 + mx, x0 + zw[z]! - mx);
    p.y = uniform(rng, y0 + my, y0 + zh[z]! - my);
    return;
  }
  const polygon = zones[z]!.polygon;
  for (let tries = 0; tries < 32; tries++) {
    const x = uniform(rng, x0, x0 + zw[z]!);
    const y = uniform(rng, y0, y0 + zh[z]!);
    if (pointInPolygon(x, y, polygon)) {
      p.x = x;
      p.y = y;
      return;
    }
  }
  p.x = x0 + zw[z]! / 2; // a sliver of a polygon: fall back to its box centre
  p.y = y0 + zh[z]! / 2;
}

/** Nominal time to walk from zone z to the exit, generously (slow walkers), ms. */
export function exitWalkMs(ctx: SimContext, p: Person, z: number): number {
  return p.routes.dist[z * ctx.zoneTables.n + p.exitZone]! * 1000 * EXIT_WALK_FACTOR + EXIT_WALK_SLACK_MS;
}

/** Milliseconds spent in zone z before moving on, drawn on entering it. */
export function stayMs(ctx: SimContext, p: Person, z: number, atMs: number): number {
  const { zones, isOutside, dwellMu, dwellSigma, crossM } = ctx.zoneTables;
  const rng = p.rng;
  if (isOutside[z] === 1) return uniform(rng, OUTSIDE_MIN_MS, OUTSIDE_MAX_MS);
  const kind = zones[z]!.kind;
  if (z === p.target && kind === 'store' && !p.leaving) {
    if (p.kind === STAFF) return p.shiftEndMs - atMs;
    let ms = Math.min(MAX_DWELL_MS, lognormal(rng, dwellMu[z]!, dwellSigma[z]!));
    ms = Math.min(ms, p.leaveByMs - atMs - exitWalkMs(ctx, p, z));
    if (p.member !== undefined && z === p.member.zone && ms > 0) {
      p.weighAtMs = atMs + Math.max(1, Math.round(ms * uniform(rng, 0.2, 0.7)));
    }
    return ms;
  }
  if (kind === 'escalator') return ESCALATOR_RIDE_MS * uniform(rng, 0.8, 1.2);
  if (kind === 'lift') return LIFT_RIDE_MS + Math.min(LIFT_MAX_WAIT_MS, exponential(rng, LIFT_MEAN_WAIT_MS));
  let ms = (crossM[z]! / p.speedMps) * 1000 * uniform(rng, 0.7, 1.3);
  if (
    p.kind === SHOPPER &&
    !p.leaving &&
    (kind === 'corridor' || kind === 'atrium') &&
    chance(rng, LINGER_CHANCE)
  ) {
    ms += Math.min(exponential(rng, LINGER_MEAN_MS), Math.max(0, p.leaveByMs - atMs - exitWalkMs(ctx, p, z)));
  }
  return ms;
}

/** p walks into zone z at atMs: the old zone's interval closes and the stay in z is drawn. */
export function enter(ctx: SimContext, p: Person, z: number, atMs: number): void {
  closeInterval(ctx.truth, p, atMs);
  ctx.counts[p.zone]!--;
  p.zone = z;
  p.intervalStartMs = atMs;
  ctx.counts[z]!++;
  placeIn(ctx, p, z);
  p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(ctx, p, z, atMs)));
}

/** p's visit ends at atMs (p has left the mall); a recurring person gets their next visit. */
export function endVisit(ctx: SimContext, p: Person, atMs: number): void {
  closeInterval(ctx.truth, p, atMs);
  closeMac(ctx.truth, p, atMs);
  closeVisit(ctx.truth, p, atMs);
  ctx.counts[p.zone]!--;
  p.active = false;
  p.nextProbeMs = Number.POSITIVE_INFINITY;
  p.nextBleMs = Number.POSITIVE_INFINITY;
  p.weighAtMs = Number.POSITIVE_INFINITY;
  p.macRotateAtMs = Number.POSITIVE_INFINITY;
  if (p.recurring) scheduleNextVisit(ctx, p, atMs);
}

/** Staff: tomorrow's shift; regulars and members: a later day, by their rhythm. */
export function scheduleNextVisit(ctx: SimContext, p: Person, endMs: number): void {
  const { calendar } = ctx;
  const startDay = calendar.dayIndex(p.visitStartMs);
  if (p.kind === STAFF) {
    const day = startDay + 1;
    const t = calendar.utcOf(
      day,
      OPEN_MS_OF_DAY - Math.round(uniform(p.rng, STAFF_EARLY_MIN_MS, STAFF_EARLY_MAX_MS)),
    );
    ctx.schedule.push(Math.max(t, endMs + 1), p.idx);
    return;
  }
  const meanDays = p.member !== undefined ? MEMBER_GAP_MEAN_DAYS : REGULAR_GAP_MEAN_DAYS;
  let day = startDay + gapDays(p.rng, meanDays);
  let t = sampleArrivalMs(ctx, p.rng, day);
  while (t <= endMs) t = sampleArrivalMs(ctx, p.rng, ++day); // a visit running past midnight (alwaysOpen)
  if (t < Number.POSITIVE_INFINITY) ctx.schedule.push(t, p.idx);
}

/** The person's stay in its zone ended at atMs: pick what comes next. */
export function move(ctx: SimContext, p: Person, atMs: number): void {
  if (p.zone === p.target) {
    if (p.leaving) {
      endVisit(ctx, p, atMs);
      return;
    }
    p.planIdx++;
    if (p.planIdx < p.plan.length && atMs + exitWalkMs(ctx, p, p.zone) < p.leaveByMs) {
      p.target = p.plan[p.planIdx]!;
    } else {
      p.leaving = true;
      p.target = p.exitZone;
    }
    if (p.zone === p.target) {
      // Already standing in the exit (an entrance without an outside zone): cross it, then go.
      p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(ctx, p, p.zone, atMs)));
      return;
    }
  } else if (!p.leaving && atMs + exitWalkMs(ctx, p, p.zone) >= p.leaveByMs) {
    // Closing time is near: head out from wherever the shopper is.
    p.leaving = true;
    p.target = p.exitZone;
    if (p.zone === p.target) {
      p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(ctx, p, p.zone, atMs)));
      return;
    }
  }
  // Always >= 0: plans only hold shops reachable from the entrance, and the exit is reachable too.
  enter(ctx, p, p.routes.nextHop[p.zone * ctx.zoneTables.n + p.target]!, atMs);
}
