const UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `'12m'`, `'1h30m'`, `'45s'`, `'500ms'`, or a number of milliseconds. */
export type Duration = string | number;

export function parseDuration(d: Duration): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0)
      throw new RangeError(`duration ${d}: must be a non-negative number of ms`);
    return d;
  }
  const parts = d.trim().matchAll(/(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d)/g);
  let total = 0;
  let consumed = '';
  for (const [whole, value, unit] of parts) {
    total += Number(value) * UNITS_MS[unit!]!;
    consumed += whole;
  }
  if (consumed.replace(/\s/g, '') !== d.replace(/\s/g, '') || consumed === '') {
    throw new RangeError(`duration "${d}": expected e.g. "12m", "1h30m", "45s" or "500ms"`);
  }
  return Math.round(total);
}

/** A clock that moves only when told to: a 3-hour story takes milliseconds and no test sleeps. */
export interface VirtualClock {
  now(): number;
  /** Moves time to `ms` (never backwards). */
  set(ms: number): void;
}

export function createVirtualClock(startMs: number): VirtualClock {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    set(ms) {
      if (ms < nowMs) throw new RangeError('a virtual clock does not go backwards');
      nowMs = ms;
    },
  };
}
