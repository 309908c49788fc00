// When people come: opening hours, hour-of-day arrival curves (weekday and weekend), street
// traffic past the doors, and which shop categories draw people at which time of day. Pure
// tables and lookups in local wall-clock time (see local-time.ts).
//
// The curves are shares of a peak rate: the busiest hour of the week (a weekend afternoon) is
// 1.0, so `arrivalsPerHour` is the arrival rate of that hour. They are shaped after published
// footfall curves of Chinese malls: a lunch bump, a quiet mid-afternoon on weekdays and an
// after-work peak around 18:00-20:00; weekends run busy from late morning into the evening.

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** The mall's doors open to the public (local time). Staff arrive before, and leave after. */
export const OPEN_MS_OF_DAY = 10 * HOUR_MS;
/** Closing: every shopper is out by then. */
export const CLOSE_MS_OF_DAY = 22 * HOUR_MS;
/** No shopper arrives in the last half hour. */
export const LAST_ARRIVAL_MS_OF_DAY = CLOSE_MS_OF_DAY - 30 * MINUTE_MS;

/** Share of the peak arrival rate per local hour, Monday to Friday. */
const WEEKDAY_ARRIVALS: readonly number[] = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.3, 0.5, 0.8, 0.65, 0.45, 0.45, 0.5, 0.65, 0.8, 0.75, 0.5, 0.25, 0, 0,
];
/** Saturday and Sunday. */
const WEEKEND_ARRIVALS: readonly number[] = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.45, 0.7, 0.9, 0.95, 1, 1, 0.95, 0.9, 0.95, 0.85, 0.6, 0.3, 0, 0,
];
/** People walking past the doors, share of the peak street rate; the street never sleeps entirely. */
const STREET_TRAFFIC: readonly number[] = [
  0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.1, 0.35, 0.6, 0.55, 0.5, 0.65, 0.85, 0.75, 0.6, 0.6, 0.7, 0.9, 1, 0.9,
  0.75, 0.55, 0.35, 0.12,
];

export function isWeekend(weekday: number): boolean {
  return weekday === 0 || weekday === 6;
}

/**
 * Shopper arrival rate at a local time, as a share (0-1) of the peak rate. Zero outside
 * [opening, last arrival) unless the mall is `alwaysOpen` (then a flat 1).
 */
export function arrivalShare(weekday: number, msOfDay: number, alwaysOpen: boolean): number {
  if (alwaysOpen) return 1;
  if (msOfDay < OPEN_MS_OF_DAY || msOfDay >= LAST_ARRIVAL_MS_OF_DAY) return 0;
  const curve = isWeekend(weekday) ? WEEKEND_ARRIVALS : WEEKDAY_ARRIVALS;
  return curve[Math.floor(msOfDay / HOUR_MS)] ?? 0;
}

/** Passers-by rate at a local time, as a share (0-1) of the peak street rate. */
export function streetShare(msOfDay: number, alwaysOpen: boolean): number {
  if (alwaysOpen) return 1;
  return STREET_TRAFFIC[Math.floor(msOfDay / HOUR_MS)] ?? 0;
}

/**
 * Hour weights for drawing a returning visitor's arrival time on a day: the day's arrival curve,
 * with the last hour cut at the last arrival. `weights[h]` covers [h:00, h:00 + spanMs[h]).
 */
export function arrivalHours(weekday: number, alwaysOpen: boolean): { weights: number[]; spanMs: number[] } {
  const weights: number[] = [];
  const spanMs: number[] = [];
  for (let h = 0; h < 24; h++) {
    const start = h * HOUR_MS;
    const end = alwaysOpen ? start + HOUR_MS : Math.min(start + HOUR_MS, LAST_ARRIVAL_MS_OF_DAY);
    const span = Math.max(0, end - start);
    spanMs.push(span);
    weights.push(arrivalShare(weekday, start, alwaysOpen) * (span / HOUR_MS));
  }
  return { weights, spanMs };
}

/** Expected shopper arrivals per day at a peak rate of 1/h, averaged over the week. */
export function meanDailyArrivalShare(alwaysOpen: boolean): number {
  let total = 0;
  for (let weekday = 0; weekday < 7; weekday++) {
    for (const w of arrivalHours(weekday, alwaysOpen).weights) total += w;
  }
  return total / 7;
}

/**
 * How strongly a shop category draws a shopper arriving at this local time, relative to its
 * all-day appeal: food peaks at lunch (11:30-13:30) and dinner (17:30-20:00); the cinema draws in
 * the evening but nobody starts a film that would run past closing; kids' shops quieten late.
 */
export function categoryFactor(category: string | undefined, msOfDay: number, alwaysOpen: boolean): number {
  const minute = msOfDay / MINUTE_MS;
  switch (category) {
    case 'food':
      if (minute >= 11 * 60 + 30 && minute < 13 * 60 + 30) return 3;
      if (minute >= 17 * 60 + 30 && minute < 20 * 60) return 2.5;
      return 0.7;
    case 'cinema':
      // A film runs about two hours: no later start than 2.5 h before closing.
      if (!alwaysOpen && msOfDay > CLOSE_MS_OF_DAY - 150 * MINUTE_MS) return 0;
      return minute >= 17 * 60 ? 2.5 : 1;
    case 'kids':
      return minute >= 20 * 60 ? 0.5 : 1;
    default:
      return 1;
  }
}
