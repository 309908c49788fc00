import { z } from 'zod';
import { addDays, daysInRange } from '../../../core/src/local-days.ts';

// The history endpoints' query strings. Every message names the problem; the route prefixes the
// parameter. Range rules that involve two parameters are checked in `checkRange`.

/** Longest range one request may ask for: a quarter (92 days covers any three months). */
export const MAX_RANGE_DAYS = 92;
/** Longest range of hourly KPIs: a week of hours (168 rows, counted from the base tables). */
export const MAX_HOURLY_RANGE_DAYS = 7;

const problem = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : what),
});

const DateParam = z.iso.date(problem('must be a date such as 2026-11-18'));
const Format = z.enum(['json', 'csv'], problem('must be "json" or "csv"')).optional();

function limitParam(max: number, fallback: number) {
  const message = `must be a whole number from 1 to ${max}`;
  return z.coerce
    .number(problem(message))
    .int({ error: message })
    .min(1, { error: message })
    .max(max, { error: message })
    .default(fallback);
}

export const HeatmapQuery = z.object({
  date: DateParam,
  resolution: z.enum(['minute', 'hour'], problem('must be "minute" or "hour"')).default('minute'),
  format: Format,
});

export const KpisQuery = z.object({
  from: DateParam,
  to: DateParam,
  by: z.enum(['day', 'hour'], problem('must be "day" or "hour"')).default('day'),
  format: Format,
});

export const DwellQuery = z.object({ from: DateParam, to: DateParam, format: Format });

export const FlowsQuery = z.object({
  from: DateParam,
  to: DateParam,
  limit: limitParam(500, 20),
  format: Format,
});

export const TopStoresQuery = z.object({
  from: DateParam,
  to: DateParam,
  by: z.enum(['visits', 'dwell'], problem('must be "visits" or "dwell"')).default('visits'),
  limit: limitParam(200, 10),
  format: Format,
});

export const PathsQuery = z.object({
  from: DateParam,
  to: DateParam,
  limit: limitParam(200, 10),
  format: Format,
});

export const FrequencyQuery = z.object({ from: DateParam, to: DateParam, format: Format });

export const PeakHoursQuery = z.object({ from: DateParam, to: DateParam, format: Format });

export const CompareQuery = z.object({
  from: DateParam,
  to: DateParam,
  vsFrom: DateParam,
  vsTo: DateParam,
  format: Format,
});

/**
 * Why from..to is not an acceptable range (as "param: problem"), or undefined when it is.
 * `names` are the parameter names to report (from/to, or vsFrom/vsTo).
 */
export function checkRange(
  from: string,
  to: string,
  maxDays: number,
  names: [string, string] = ['from', 'to'],
): string | undefined {
  const days = daysInRange(from, to);
  if (days < 1) return `${names[1]}: must not be before ${names[0]} (${from})`;
  if (days > maxDays) {
    return `${names[0]}, ${names[1]}: the range spans ${days} days; at most ${maxDays} (${from} to ${addDays(from, maxDays - 1)})`;
  }
  return undefined;
}
