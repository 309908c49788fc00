// Which (client, AP, time) records a Meraki receiver has already handed on. Meraki's Scanning
// API v3 repeats a client's recent history (`locations[]`, `latestRecord`) in every post, roughly
// once a minute, so without this each record would be counted several times.
//
// Window: a record is remembered while its own time is within `windowMs` of the clock. A record
// older than that is `stale`: it cannot be told from one already forgotten, so it is skipped (Meraki
// only re-sends the last few minutes; the default window, 10 min, leaves room for late posts).
// Memory: at most `maxEntries` records. Past that, the client first remembered is forgotten whole
// (`evicted` counts its records), which can only let an old repeat through, never drop a new record.
// Layout: per client, one flat number array of (time, AP index) pairs. Measured: 14 MB for 500,000
// records of 10,000 clients (~28 B a record); a string key per record took 150-350 B a record.

export type Admission = 'new' | 'duplicate' | 'stale';

export interface RecentRecords {
  /**
   * Decides about one record; a `new` one is remembered. `ap` comes from a small set (the APs of
   * the map). `heardAtMs` and `nowMs` are epoch ms.
   */
  admit(client: string, ap: string, heardAtMs: number, nowMs: number): Admission;
  /** Forgets records that left the window; call once per post. */
  prune(nowMs: number): void;
  /** Records remembered. */
  size(): number;
  /** Records forgotten before they left the window because `maxEntries` was reached. */
  evicted(): number;
}

export const DEFAULT_DEDUP_WINDOW_MS = 10 * 60_000;
export const DEFAULT_MAX_REMEMBERED_RECORDS = 500_000;

export function createRecentRecords(options: { windowMs?: number; maxEntries?: number } = {}): RecentRecords {
  const windowMs = options.windowMs ?? DEFAULT_DEDUP_WINDOW_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_REMEMBERED_RECORDS;
  /** client → [heardAtMs, apIndex, heardAtMs, apIndex, ...], clients in first-seen order. */
  const clients = new Map<string, number[]>();
  const apIndexes = new Map<string, number>();
  let records = 0;
  let evicted = 0;

  function evictFirstClient(): void {
    const first = clients.entries().next();
    if (first.done) return;
    const [client, pairs] = first.value;
    clients.delete(client);
    records -= pairs.length / 2;
    evicted += pairs.length / 2;
  }

  return {
    admit(client, ap, heardAtMs, nowMs) {
      if (heardAtMs < nowMs - windowMs) return 'stale';
      let apIndex = apIndexes.get(ap);
      if (apIndex === undefined) {
        apIndex = apIndexes.size;
        apIndexes.set(ap, apIndex);
      }
      let pairs = clients.get(client);
      if (pairs) {
        for (let i = 0; i < pairs.length; i += 2) {
          if (pairs[i] === heardAtMs && pairs[i + 1] === apIndex) return 'duplicate';
        }
      }
      if (records >= maxEntries) {
        evictFirstClient();
        pairs = clients.get(client);
      }
      if (pairs) pairs.push(heardAtMs, apIndex);
      else clients.set(client, [heardAtMs, apIndex]);
      records++;
      return 'new';
    },
    prune(nowMs) {
      const cutoffMs = nowMs - windowMs;
      for (const [client, pairs] of clients) {
        let kept = 0;
        for (let i = 0; i < pairs.length; i += 2) {
          const heardAtMs = pairs[i] ?? 0;
          if (heardAtMs < cutoffMs) continue;
          pairs[kept] = heardAtMs;
          pairs[kept + 1] = pairs[i + 1] ?? 0;
          kept += 2;
        }
        records -= (pairs.length - kept) / 2;
        if (kept === 0) clients.delete(client);
        else pairs.length = kept;
      }
    },
    size: () => records,
    evicted: () => evicted,
  };
}
