// Calendar days and wall-clock times in a mall's time zone (IANA name), for the history API and the
// eval: a day runs from one local midnight to the next, so it lasts 23, 24 or 25 hours. Pure:
// dates in, epoch milliseconds out.

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClockAt(ms: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatterOf(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at `ms`, in milliseconds (+8 h in Shanghai). */
function offsetMs(ms: number, timeZone: string): number {
  const w = wallClockAt(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

function parseDate(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number);
  return [y ?? 1970, m ?? 1, d ?? 1];
}

/**
 * The instant local midnight starts `date` (YYYY-MM-DD) in `timeZone`: the first of two when
 * midnight repeats, the first instant of the day when a DST change skips midnight itself.
 * Throws RangeError for an unknown time zone.
 */
export function zonedMidnightMs(date: string, timeZone: string): number {
  const [y, m, d] = parseDate(date);
  const wall = Date.UTC(y, m - 1, d);
  // The offset in force at midnight is one of those around it; try each.
  const candidates = [
    ...new Set([wall - DAY_MS, wall, wall + DAY_MS].map((t) => wall - offsetMs(t, timeZone))),
  ];
  const exact = candidates.filter((t) => {
    const w = wallClockAt(t, timeZone);
    return w.day === d && w.hour === 0 && w.minute === 0 && w.second === 0;
  });
  if (exact.length > 0) return Math.min(...exact);
  const sameDay = candidates.filter((t) => wallClockAt(t, timeZone).day === d);
  return Math.min(...(sameDay.length > 0 ? sameDay : candidates));
}

/** `date` plus `days` calendar days (negative allowed), as YYYY-MM-DD. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = parseDate(date);
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Calendar days from `from` to `to`, both included: 1 for the same day, 0 or less if `to` is before. */
export function daysInRange(from: string, to: string): number {
  const [y1, m1, d1] = parseDate(from);
  const [y2, m2, d2] = parseDate(to);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / DAY_MS) + 1;
}

/** Every date from `from` to `to`, both included. */
export function listDays(from: string, to: string): string[] {
  const n = daysInRange(from, to);
  return Array.from({ length: Math.max(0, n) }, (_, i) => addDays(from, i));
}

/** The local date (YYYY-MM-DD) and time (HH:MM) at `ms` in `timeZone`. */
export function localDateTime(ms: number, timeZone: string): { date: string; time: string } {
  const w = wallClockAt(ms, timeZone);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return { date: `${w.year}-${p2(w.month)}-${p2(w.day)}`, time: `${p2(w.hour)}:${p2(w.minute)}` };
}

/** [start, end) of each local day from `from` to `to`: the end of one is the start of the next. */
export function dayBounds(
  from: string,
  to: string,
  timeZone: string,
): { date: string; startMs: number; endMs: number }[] {
  const days = listDays(from, addDays(to, 1));
  const starts = days.map((d) => zonedMidnightMs(d, timeZone));
  return days.slice(0, -1).map((date, i) => ({ date, startMs: starts[i]!, endMs: starts[i + 1]! }));
}

/**
 * Epoch ms of a wall-clock time (`YYYY-MM-DD`, `HH:MM`) in `timeZone`, with the offset in force at
 * that moment. Throws RangeError for a text that is not a date and time.
 */
export function zonedTimeToUtc(date: string, time: string, timeZone: string): number {
  const guess = Date.parse(`${date}T${time}:00Z`);
  if (!Number.isFinite(guess)) throw new RangeError(`"${date} ${time}" is not a date and time`);
  return guess - offsetMs(guess, timeZone);
}

/**
 * An instant given as a local date (`YYYY-MM-DD`: its midnight, or with `endOfDay` the next
 * midnight, so a date as an end includes its whole day), a local time (`YYYY-MM-DDTHH:MM[:SS]`) in
 * `timeZone`, or an ISO time with `Z` or an offset. Returns undefined for anything else.
 */
export function parseInstant(text: string, timeZone: string, endOfDay = false): number | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    if (!Number.isFinite(Date.parse(`${text}T00:00:00Z`))) return undefined;
    return zonedMidnightMs(endOfDay ? addDays(text, 1) : text, timeZone);
  }
  const local = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2}))?$/.exec(text);
  if (local) {
    const ms = Date.parse(`${local[1]}T${local[2]}:00Z`);
    if (!Number.isFinite(ms)) return undefined;
    return zonedTimeToUtc(local[1]!, local[2]!, timeZone) + Number(local[3] ?? 0) * 1000;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
