// How visits start: the phone's per-visit state (MAC, screen, silences, BLE), the shops a shopper
// plans to see and the exit they will take, and the first steps of a shopper, a member of staff
// (arriving, or already in their shop when the sim starts) and a passer-by.

import {
  SCREEN_OFF_MEAN_MS,
  SCREEN_ON_AT_START,
  SCREEN_ON_MEAN_MS,
  SILENCE_GAP_MEAN_MS,
} from './device-events.ts';
import { CLOSE_MS_OF_DAY, categoryFactor } from './mall-hours.ts';
import { bleRotatingMac, randomMac } from './phone-macs.ts';
import { chance, exponential, int, pickWeighted, uniform } from './rng.ts';
import type { SimContext } from './sim-context.ts';
import type { Person } from './sim-person.ts';
import { BLE_APP, BLE_NONE } from './sim-person.ts';
import { leaveByFor, STAFF_LATE_MAX_MS, STAFF_LATE_MIN_MS } from './visit-habits.ts';
import { placeIn, stayMs } from './visit-walk.ts';

/** Mean number of shops visited beyond the first; capped at MAX_SHOPS_PER_VISIT. */
const EXTRA_SHOPS_MEAN = 1.8;
const MAX_SHOPS_PER_VISIT = 7;
/** Chance a shopper leaves by the entrance they came in through (else a random one). */
const SAME_EXIT_CHANCE = 0.7;
const PASSER_MIN_MS = 10_000;
const PASSER_MAX_MS = 60_000;

/** Starts a visit in zone z at atMs: phone and tag state, truth, the active list. */
export function beginVisit(ctx: SimContext, p: Person, z: number, atMs: number): void {
  const rng = p.rng;
  p.active = true;
  if (!p.listed) {
    p.listed = true;
    ctx.active.push(p);
  }
  p.visitStartMs = atMs;
  p.intervalStartMs = atMs;
  p.zone = z;
  ctx.counts[z]!++;
  p.moving = false;
  p.leaving = false;
  p.planIdx = 0;
  p.weighAtMs = Number.POSITIVE_INFINITY;
  placeIn(ctx, p, z);
  if (p.randomized) {
    // A randomized phone shows a new MAC per visit; its rotation cycle began before.
    p.mac = randomMac(rng);
    p.frameSeq = int(rng, 0, 4095);
    p.macRotateAtMs = atMs + 1 + Math.round(uniform(rng, 0, ctx.macRotationMs));
  } else {
    p.mac = p.phoneMac;
    p.macRotateAtMs = Number.POSITIVE_INFINITY;
  }
  p.macFromMs = atMs;
  p.framesLeft = 0;
  p.screenOn = chance(rng, SCREEN_ON_AT_START);
  p.screenToggleAtMs =
    atMs + Math.round(exponential(rng, p.screenOn ? SCREEN_ON_MEAN_MS : SCREEN_OFF_MEAN_MS));
  p.nextProbeMs = atMs + Math.round(uniform(rng, 0, p.probeIntervalMs));
  p.silentUntilMs = Number.NEGATIVE_INFINITY;
  p.nextSilenceMs = p.silentProne
    ? atMs + Math.round(exponential(rng, SILENCE_GAP_MEAN_MS))
    : Number.POSITIVE_INFINITY;
  if (p.bleKind !== BLE_NONE) {
    p.nextBleMs = atMs + Math.round(uniform(rng, 0, p.bleIntervalMs));
    if (p.bleKind === BLE_APP) {
      p.bleMac = bleRotatingMac(rng);
      p.bleRotateAtMs = atMs + Math.round(uniform(rng, 0, ctx.macRotationMs));
    }
  }
}

/** Chooses the shops of a shopper's visit from zone `from` and orders them nearest-first. */
export function planShops(ctx: SimContext, p: Person, from: number, atMs: number, first: number): Int32Array {
  const { n, shopAppeal, shopIdx, shopCategory } = ctx.zoneTables;
  const { calendar, alwaysOpen } = ctx;
  const rng = p.rng;
  const dist = p.routes.dist;
  const msOfDay = calendar.msOfDay(atMs);
  const wanted = 1 + Math.min(MAX_SHOPS_PER_VISIT - 1, Math.floor(exponential(rng, EXTRA_SHOPS_MEAN)));
  const weights = shopAppeal.map((w, k) =>
    dist[from * n + shopIdx[k]!]! < Number.POSITIVE_INFINITY
      ? w * categoryFactor(shopCategory[k], msOfDay, alwaysOpen)
      : 0,
  );
  const chosen: number[] = [];
  const forced = first >= 0 ? first : (p.member?.zone ?? -1);
  if (forced >= 0) {
    chosen.push(forced);
    const k = shopIdx.indexOf(forced);
    if (k >= 0) weights[k] = 0;
  }
  while (chosen.length < wanted) {
    const k = pickWeighted(rng, weights);
    if (k < 0) break;
    weights[k] = 0;
    chosen.push(shopIdx[k]!);
  }
  // Greedy nearest-first, so the walk looks like a route rather than a random tour; a shop the
  // shopper starts in (`first`) comes first.
  const plan = new Int32Array(chosen.length);
  let at = from;
  for (let q = 0; q < plan.length; q++) {
    let best = 0;
    for (let c = 1; c < chosen.length; c++) {
      if (dist[at * n + chosen[c]!]! < dist[at * n + chosen[best]!]!) best = c;
    }
    plan[q] = chosen[best]!;
    at = chosen[best]!;
    chosen.splice(best, 1);
  }
  return plan;
}

/** The exit of a visit that came in by `entrance`: the outside zone of the exit entrance, or the entrance. */
export function chooseExit(ctx: SimContext, p: Person, entrance: number): number {
  const { n, entranceIdx, entranceWeight, outsideOf } = ctx.zoneTables;
  const other = chance(p.rng, SAME_EXIT_CHANCE)
    ? entrance
    : entranceIdx[pickWeighted(p.rng, entranceWeight)]!;
  // Entrances in separate parts of a layout (each validly reachable from its own door): come back out the same way.
  const exit = p.routes.dist[entrance * n + other]! < Number.POSITIVE_INFINITY ? other : entrance;
  return outsideOf[exit]! >= 0 ? outsideOf[exit]! : exit;
}

/** A shopper walks up to an entrance (through its outside zone, if any) at atMs. */
export function startShopperVisit(ctx: SimContext, p: Person, atMs: number): void {
  const { entranceIdx, entranceWeight, outsideOf, routes, liftRoutes } = ctx.zoneTables;
  const rng = p.rng;
  const entrance = entranceIdx[pickWeighted(rng, entranceWeight)]!;
  p.routes = p.liftUser ? liftRoutes : routes;
  p.plan = planShops(ctx, p, entrance, atMs, -1);
  p.exitZone = chooseExit(ctx, p, entrance);
  p.leaveByMs = leaveByFor(ctx, atMs);
  const startZone = outsideOf[entrance]! >= 0 ? outsideOf[entrance]! : entrance;
  beginVisit(ctx, p, startZone, atMs);
  p.target = p.plan.length > 0 ? p.plan[0]! : p.exitZone;
  p.leaving = p.plan.length === 0;
  p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(ctx, p, startZone, atMs)));
}

/** A member of staff arrives for the shift of the local day of atMs. */
export function startStaffShift(ctx: SimContext, p: Person, atMs: number): void {
  const { entranceIdx, entranceWeight, outsideOf, routes } = ctx.zoneTables;
  const { calendar, alwaysOpen } = ctx;
  const rng = p.rng;
  const day = calendar.dayIndex(atMs);
  const entrance = entranceIdx[pickWeighted(rng, entranceWeight)]!;
  p.routes = routes;
  p.plan = Int32Array.of(p.homeZone);
  p.exitZone = outsideOf[entrance]! >= 0 ? outsideOf[entrance]! : entrance;
  p.leaveByMs = Number.POSITIVE_INFINITY;
  p.shiftEndMs = alwaysOpen
    ? Number.POSITIVE_INFINITY
    : calendar.utcOf(day, CLOSE_MS_OF_DAY + Math.round(uniform(rng, STAFF_LATE_MIN_MS, STAFF_LATE_MAX_MS)));
  beginVisit(ctx, p, p.exitZone, atMs);
  p.target = p.homeZone;
  p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(ctx, p, p.exitZone, atMs)));
}

/** Puts a member of staff straight into their shop at startMs (the sim starts mid-shift). */
export function startStaffInShop(ctx: SimContext, p: Person, shiftEndMs: number): void {
  const { entranceIdx, entranceWeight, outsideOf, routes } = ctx.zoneTables;
  const { startMs } = ctx;
  const entrance = entranceIdx[pickWeighted(p.rng, entranceWeight)]!;
  p.routes = routes;
  p.plan = Int32Array.of(p.homeZone);
  p.exitZone = outsideOf[entrance]! >= 0 ? outsideOf[entrance]! : entrance;
  p.leaveByMs = Number.POSITIVE_INFINITY;
  p.shiftEndMs = shiftEndMs;
  beginVisit(ctx, p, p.homeZone, startMs);
  p.target = p.homeZone;
  p.leaveZoneAtMs = startMs + Math.max(1, Math.round(stayMs(ctx, p, p.homeZone, startMs)));
}

/** A passer-by walks along an outside zone for 10-60 s, never coming in. */
export function startPasserBy(ctx: SimContext, p: Person, atMs: number): void {
  const { outsideIdx, outsideWeight, zx0, zy0, zw, zh } = ctx.zoneTables;
  const rng = p.rng;
  const z = outsideIdx[pickWeighted(rng, outsideWeight)]!;
  const durationMs = Math.round(uniform(rng, PASSER_MIN_MS, PASSER_MAX_MS));
  beginVisit(ctx, p, z, atMs);
  // Along the zone's long side, a metre off its edges; slow down if the strip is short.
  const alongX = zw[z]! >= zh[z]!;
  const lo = (alongX ? zx0[z]! : zy0[z]!) + 1;
  const length = Math.max(0, (alongX ? zw[z]! : zh[z]!) - 2);
  const walkM = Math.min(length, p.speedMps * (durationMs / 1000));
  const from = uniform(rng, lo, lo + length - walkM);
  const forward = chance(rng, 0.5);
  const v = (walkM / (durationMs / 1000)) * (forward ? 1 : -1);
  const across = alongX
    ? uniform(rng, zy0[z]! + Math.min(1, zh[z]! / 2), zy0[z]! + zh[z]! - Math.min(1, zh[z]! / 2))
    : uniform(rng, zx0[z]! + Math.min(1, zw[z]! / 2), zx0[z]! + zw[z]! - Math.min(1, zw[z]! / 2));
  const start = forward ? from : from + walkM;
  p.moving = true;
  p.movedAtMs = atMs;
  p.x = alongX ? start : across;
  p.y = alongX ? across : start;
  p.vx = alongX ? v : 0;
  p.vy = alongX ? 0 : v;
  p.plan = new Int32Array(0);
  p.target = z;
  p.exitZone = z;
  p.leaving = true;
  p.leaveZoneAtMs = atMs + durationMs;
}
