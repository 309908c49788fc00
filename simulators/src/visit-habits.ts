// When people visit and what draws them: arrival times drawn from the day's hour curve
// (mall-hours.ts), days between a recurring person's visits, the closing-time deadline shoppers
// plan around, staff shift margins, dwell per shop category and how much each category appeals.

import { CLOSE_MS_OF_DAY } from './mall-hours.ts';
import type { Rng } from './rng.ts';
import { exponential, pickWeighted, uniform } from './rng.ts';
import type { SimContext } from './sim-context.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Shoppers plan to be out this long before closing... */
const LEAVE_BEFORE_CLOSE_MS = 10 * MINUTE_MS;
/** ...allowing this factor on the nominal walk to the exit (slow walkers, detours) plus a minute. */
export const EXIT_WALK_FACTOR = 2.6;
export const EXIT_WALK_SLACK_MS = MINUTE_MS;
/** Staff arrive 15-45 min before opening and leave 5-25 min after closing. */
export const STAFF_EARLY_MIN_MS = 15 * MINUTE_MS;
export const STAFF_EARLY_MAX_MS = 45 * MINUTE_MS;
export const STAFF_LATE_MIN_MS = 5 * MINUTE_MS;
export const STAFF_LATE_MAX_MS = 25 * MINUTE_MS;
/** Days between visits of a regular: 1 + floor(Exp(mean)), so 2.5 days on average; members 3.5. */
export const REGULAR_GAP_MEAN_DAYS = 2;
export const MEMBER_GAP_MEAN_DAYS = 3;
const MAX_GAP_DAYS = 30;

/** Dwell per shop category: median minutes and log-normal sigma. Restaurants and films run long. */
export const DWELL_BY_CATEGORY: Readonly<Record<string, { medianMin: number; sigma: number }>> = {
  fashion: { medianMin: 9, sigma: 0.6 },
  food: { medianMin: 22, sigma: 0.5 },
  cinema: { medianMin: 120, sigma: 0.12 },
  kids: { medianMin: 15, sigma: 0.6 },
  sports: { medianMin: 10, sigma: 0.6 },
  beauty: { medianMin: 8, sigma: 0.6 },
  electronics: { medianMin: 10, sigma: 0.6 },
  supermarket: { medianMin: 20, sigma: 0.45 },
  health: { medianMin: 7, sigma: 0.6 },
  services: { medianMin: 8, sigma: 0.7 },
};
export const DEFAULT_DWELL = { medianMin: 8, sigma: 0.6 };

/** How likely a shop is to be on a shopper's list, relative to its size (before the time of day). */
export const CATEGORY_APPEAL: Readonly<Record<string, number>> = {
  cinema: 0.35,
  supermarket: 1.4,
  food: 1.2,
};

/** A visit's start on local day `day`, drawn from that day's arrival curve; Infinity if none. */
export function sampleArrivalMs(ctx: SimContext, rng: Rng, day: number): number {
  const { calendar } = ctx;
  const hours = ctx.hoursByWeekday[calendar.weekday(day)]!;
  const h = pickWeighted(rng, hours.weights);
  if (h < 0) return Number.POSITIVE_INFINITY;
  return calendar.utcOf(day, h * HOUR_MS + Math.floor(uniform(rng, 0, hours.spanMs[h]!)));
}

export function gapDays(rng: Rng, meanDays: number): number {
  return 1 + Math.min(MAX_GAP_DAYS - 1, Math.floor(exponential(rng, meanDays)));
}

/** Expected days between visits for gapDays(mean): 1 + Σ_k≥1 e^(-k/mean). */
export function meanGapDays(meanDays: number): number {
  const q = Math.exp(-1 / meanDays);
  return 1 + q / (1 - q);
}

/** When a shopper arriving at atMs plans to be out by (Infinity when the mall never closes). */
export function leaveByFor(ctx: SimContext, atMs: number): number {
  if (ctx.alwaysOpen) return Number.POSITIVE_INFINITY;
  const { calendar } = ctx;
  return calendar.utcOf(calendar.dayIndex(atMs), CLOSE_MS_OF_DAY) - LEAVE_BEFORE_CLOSE_MS;
}
