// Local wall-clock time in a layout's IANA time zone, for opening hours, hour-of-day profiles and
// the ground truth's `day`. Pure: the zone rules come from the runtime's Intl data, never the
// host's clock or time zone, so a run gives the same answer on any machine.
//
// Offsets are looked up once per quarter hour (zone transitions fall on quarter hours) and cached;
// the simulator asks a few times per arrival, not per probe.

export const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;

export interface LocalCalendar {
  readonly timeZone: string;
  /** Local wall clock minus UTC at `utcMs`, ms (+8 h for Asia/Shanghai). */
  offsetMs(utcMs: number): number;
  /** Local calendar day of `utcMs`, as days since 1970-01-01. */
  dayIndex(utcMs: number): number;
  /** Milliseconds since local midnight at `utcMs` (0 .. DAY_MS - 1). */
  msOfDay(utcMs: number): number;
  /** 0 = Sunday .. 6 = Saturday, for a day index. */
  weekday(dayIndex: number): number;
  /** `YYYY-MM-DD` of a day index. */
  dayString(dayIndex: number): string;
  /** The UTC instant at which local day `dayIndex` reads `msOfDay` on the wall clock. */
  utcOf(dayIndex: number, msOfDay: number): number;
}

/** Throws a RangeError for a time zone the runtime does not know. */
export function createLocalCalendar(timeZone: string): LocalCalendar {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const fixedUtc = timeZone === 'UTC' || timeZone === 'Etc/UTC';
  const cache = new Map<number, number>();

  function lookup(quarter: number): number {
    const at = quarter * QUARTER_MS;
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of format.formatToParts(new Date(at))) {
      const v = Number(part.value);
      if (part.type === 'year') year = v;
      else if (part.type === 'month') month = v;
      else if (part.type === 'day') day = v;
      else if (part.type === 'hour') hour = v;
      else if (part.type === 'minute') minute = v;
      else if (part.type === 'second') second = v;
    }
    return Date.UTC(year, month - 1, day, hour, minute, second) - at;
  }

  function offsetMs(utcMs: number): number {
    if (fixedUtc) return 0;
    const quarter = Math.floor(utcMs / QUARTER_MS);
    let offset = cache.get(quarter);
    if (offset === undefined) {
      offset = lookup(quarter);
      cache.set(quarter, offset);
    }
    return offset;
  }

  const dayIndex = (utcMs: number): number => Math.floor((utcMs + offsetMs(utcMs)) / DAY_MS);
  const msOfDay = (utcMs: number): number => {
    const local = utcMs + offsetMs(utcMs);
    return local - Math.floor(local / DAY_MS) * DAY_MS;
  };

  return {
    timeZone,
    offsetMs,
    dayIndex,
    msOfDay,
    // 1970-01-01 was a Thursday.
    weekday: (d) => (((d + 4) % 7) + 7) % 7,
    dayString: (d) => new Date(d * DAY_MS).toISOString().slice(0, 10),
    utcOf(d, ms) {
      const local = d * DAY_MS + ms;
      // Two rounds settle the offset, DST transitions included (a wall time that does not
      // exist lands just after the gap).
      const guess = local - offsetMs(local);
      return local - offsetMs(guess);
    },
  };
}
