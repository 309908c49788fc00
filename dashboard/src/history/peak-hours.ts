import type { ByDayHour } from '../sql/history-peak-hours.ts';

// Peak hours from per-day, per-hour figures (dashboard/src/sql/history-peak-hours.ts). Pure.

export interface HourOfDay {
  hour: number;
  /** The mean over every day of the range (a day without any counts 0). */
  avgVisitors: number;
  avgOccupancy: number;
}

export interface DayPeak {
  date: string;
  /** The hour of the day with the most devices in the mall (the earliest of ties); null: none. */
  peakOccupancyHour: number | null;
  peakOccupancy: number | null;
  /** The hour with the most visitors arriving; null: no visitor that day. */
  peakVisitorsHour: number | null;
  peakVisitors: number | null;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function peakOf(hours: ReadonlyMap<number, number> | undefined): [number, number] | undefined {
  let best: [number, number] | undefined;
  for (const [hour, n] of [...(hours ?? [])].sort((a, b) => a[0] - b[0])) {
    if (n > 0 && (best === undefined || n > best[1])) best = [hour, n];
  }
  return best;
}

export function peakHours(
  dates: readonly string[],
  visitors: ByDayHour,
  occupancy: ByDayHour,
): { hours: HourOfDay[]; days: DayPeak[] } {
  const days = Math.max(dates.length, 1);
  const hours: HourOfDay[] = [];
  for (let hour = 0; hour < 24; hour++) {
    let v = 0;
    let o = 0;
    for (const date of dates) {
      v += visitors.get(date)?.get(hour) ?? 0;
      o += occupancy.get(date)?.get(hour) ?? 0;
    }
    hours.push({ hour, avgVisitors: round2(v / days), avgOccupancy: round2(o / days) });
  }
  return {
    hours,
    days: dates.map((date) => {
      const occ = peakOf(occupancy.get(date));
      const vis = peakOf(visitors.get(date));
      return {
        date,
        peakOccupancyHour: occ?.[0] ?? null,
        peakOccupancy: occ ? round2(occ[1]) : null,
        peakVisitorsHour: vis?.[0] ?? null,
        peakVisitors: vis?.[1] ?? null,
      };
    }),
  };
}
