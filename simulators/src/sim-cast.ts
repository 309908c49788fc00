// The cast at the start of a simulation: staff (scheduled for their shift, or already in their
// shop), regulars and scale members (each given a first visit), then the one-time shoppers
// already inside (`initialShoppers`). Person indices follow this order.

import { CLOSE_MS_OF_DAY, meanDailyArrivalShare, OPEN_MS_OF_DAY } from './mall-hours.ts';
import { createRng, deriveSeed, normal, pickWeighted, uniform } from './rng.ts';
import type { SimContext } from './sim-context.ts';
import type { MallSimOptions } from './sim-options.ts';
import { DEFAULT_SCALE_MEMBERS, defaultStaff } from './sim-options.ts';
import type { Person } from './sim-person.ts';
import { createPerson, SHOPPER, STAFF } from './sim-person.ts';
import { STREAM_CAST } from './sim-streams.ts';
import {
  gapDays,
  leaveByFor,
  MEMBER_GAP_MEAN_DAYS,
  meanGapDays,
  REGULAR_GAP_MEAN_DAYS,
  STAFF_EARLY_MAX_MS,
  STAFF_EARLY_MIN_MS,
  STAFF_LATE_MAX_MS,
  STAFF_LATE_MIN_MS,
  sampleArrivalMs,
} from './visit-habits.ts';
import { beginVisit, chooseExit, planShops, startStaffInShop } from './visit-start.ts';
import { stayMs } from './visit-walk.ts';

/** The first visit of a recurring shopper: a random phase within their rhythm, not before startMs. */
function scheduleFirstVisit(ctx: SimContext, p: Person, meanDays: number, startDay: number): void {
  const { startMs } = ctx;
  let day = startDay + Math.floor(uniform(p.rng, 0, meanGapDays(meanDays)));
  let t = sampleArrivalMs(ctx, p.rng, day);
  while (t < startMs) {
    day += gapDays(p.rng, meanDays);
    t = sampleArrivalMs(ctx, p.rng, day);
  }
  if (t < Number.POSITIVE_INFINITY) ctx.schedule.push(t, p.idx);
}

/** The cast at ctx.startMs: staff, regulars and members (recurring), then the shoppers already inside. */
export function createCast(ctx: SimContext, options: MallSimOptions): void {
  const { layout, seed, startMs, calendar, alwaysOpen, arrivalsPerHour, returningShare } = ctx;
  const { zoneIndex, isStore, shopIdx, shopCapacityWeight, entranceIdx, entranceWeight, routes, liftRoutes } =
    ctx.zoneTables;
  // Scales standing in shops: members weigh in on them.
  const scales = layout.sensors
    .filter((s) => s.kind === 'scale')
    .map((s) => ({ sensorId: s.id, zone: zoneIndex.get(s.zone) ?? -1 }))
    .filter((s) => s.zone >= 0 && isStore[s.zone] === 1);

  const castRng = createRng(deriveSeed(seed, STREAM_CAST));
  const staffCount = shopIdx.length > 0 ? (options.staff ?? defaultStaff(layout)) : 0;
  const startDay = calendar.dayIndex(startMs);
  for (let k = 0; k < staffCount; k++) {
    const p = createPerson(ctx, STAFF, true);
    p.homeZone = shopIdx[pickWeighted(castRng, shopCapacityWeight)]!;
    if (alwaysOpen) {
      startStaffInShop(ctx, p, Number.POSITIVE_INFINITY);
      continue;
    }
    const arriveMs = calendar.utcOf(
      startDay,
      OPEN_MS_OF_DAY - Math.round(uniform(p.rng, STAFF_EARLY_MIN_MS, STAFF_EARLY_MAX_MS)),
    );
    const leaveMs = calendar.utcOf(
      startDay,
      CLOSE_MS_OF_DAY + Math.round(uniform(p.rng, STAFF_LATE_MIN_MS, STAFF_LATE_MAX_MS)),
    );
    if (startMs < arriveMs) ctx.schedule.push(arriveMs, p.idx);
    else if (startMs < leaveMs) startStaffInShop(ctx, p, leaveMs);
    else {
      const next = calendar.utcOf(
        startDay + 1,
        OPEN_MS_OF_DAY - Math.round(uniform(p.rng, STAFF_EARLY_MIN_MS, STAFF_EARLY_MAX_MS)),
      );
      ctx.schedule.push(next, p.idx);
    }
  }

  const dailyArrivals = arrivalsPerHour * meanDailyArrivalShare(alwaysOpen);
  const regularCount = Math.round(returningShare * dailyArrivals * meanGapDays(REGULAR_GAP_MEAN_DAYS));
  for (let k = 0; k < regularCount; k++)
    scheduleFirstVisit(ctx, createPerson(ctx, SHOPPER, true), REGULAR_GAP_MEAN_DAYS, startDay);

  const memberCount = scales.length > 0 ? (options.scaleMembers ?? DEFAULT_SCALE_MEMBERS) : 0;
  for (let k = 0; k < memberCount; k++) {
    const p = createPerson(ctx, SHOPPER, true);
    const scale = scales[k % scales.length]!;
    const baseKg = Math.max(45, Math.min(130, normal(p.rng, 72, 12)));
    p.member = {
      memberId: `m${String(k + 1).padStart(4, '0')}`,
      sensorId: scale.sensorId,
      zone: scale.zone,
      baseKg,
      trendKgPerDay: uniform(p.rng, -0.1, 0.05),
      bodyFatPct: Math.max(10, Math.min(40, normal(p.rng, 25, 6))),
    };
    scheduleFirstVisit(ctx, p, MEMBER_GAP_MEAN_DAYS, startDay);
  }

  for (let k = 0; k < (options.initialShoppers ?? 0) && shopIdx.length > 0; k++) {
    const p = createPerson(ctx, SHOPPER, false);
    const shop = shopIdx[pickWeighted(castRng, shopCapacityWeight)]!;
    const entrance = entranceIdx[pickWeighted(p.rng, entranceWeight)]!;
    p.routes = p.liftUser ? liftRoutes : routes;
    p.plan = planShops(ctx, p, shop, startMs, shop);
    p.exitZone = chooseExit(ctx, p, entrance);
    p.leaveByMs = leaveByFor(ctx, startMs);
    beginVisit(ctx, p, shop, startMs);
    p.target = shop;
    // Part-way through their stay in the shop.
    p.leaveZoneAtMs = startMs + Math.max(1, Math.round(stayMs(ctx, p, shop, startMs) * p.rng.next()));
  }
}
