// Which (sensor, client, time) records a Meraki receiver has already handed on. Meraki's Scanning
// API v3 repeats a client's recent history (`locations[]`, `latestRecord`) in every post, roughly
// once a minute, so without this each record would be counted several times.
//
// Window: a record is remembered while its own time is within `windowMs` of the clock. A record
// older than that is `stale`: it cannot be told from one already forgotten, so it is skipped (Meraki
// only re-sends the last few minutes; the default window, 10 min, leaves room for late posts).
// Memory: at most `maxEntries` keys; past that the oldest-inserted are forgotten first (`evicted`),
// which can only let a very old duplicate through, never drop a new record.

export type Admission = 'new' | 'duplicate' | 'stale';

export interface RecentRecords {
  /** Decides about one record; a `new` one is remembered. `heardAtMs` and `nowMs` are epoch ms. */
  admit(key: string, heardAtMs: number, nowMs: number): Admission;
  /** Forgets records that left the window; call once per post. */
  prune(nowMs: number): void;
  size(): number;
  /** Keys forgotten before they left the window because `maxEntries` was reached. */
  evicted(): number;
}

export const DEFAULT_DEDUP_WINDOW_MS = 10 * 60_000;
export const DEFAULT_MAX_REMEMBERED_RECORDS = 500_000;

export function createRecentRecords(options: { windowMs?: number; maxEntries?: number } = {}): RecentRecords {
  const windowMs = options.windowMs ?? DEFAULT_DEDUP_WINDOW_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_REMEMBERED_RECORDS;
  // key → the record's time; insertion order is roughly time order (posts arrive in order).
  const seen = new Map<string, number>();
  let evicted = 0;

  return {
    admit(key, heardAtMs, nowMs) {
      if (heardAtMs < nowMs - windowMs) return 'stale';
      if (seen.has(key)) return 'duplicate';
      if (seen.size >= maxEntries) {
        const oldest = seen.keys().next();
        if (!oldest.done) {
          seen.delete(oldest.value);
          evicted++;
        }
      }
      seen.set(key, heardAtMs);
      return 'new';
    },
    prune(nowMs) {
      const cutoffMs = nowMs - windowMs;
      for (const [key, heardAtMs] of seen) if (heardAtMs < cutoffMs) seen.delete(key);
    },
    size: () => seen.size,
    evicted: () => evicted,
  };
}
