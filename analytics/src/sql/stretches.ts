import type pg from 'pg';

// Stretches of a mall's WiFi sightings: runs of sightings with no silence of `gapMs` or more
// inside them. A stretch starts at a sighting with no other in the `gapMs` before it. Searched a
// window at a time (a busy mall stores millions of sightings a day), each window reading `gapMs`
// before it so that its first sighting's predecessor is seen.

const SEARCH_WINDOW_MS = 6 * 3_600_000;

/** $1 mall, $2 window start, $3 window end (ms), $4 gap (ms); stretch starts in [$2, $3). */
const STARTS_SQL = `SELECT (extract(epoch FROM t) * 1000)::float8 AS t FROM (
    SELECT time AS t, time - lag(time) OVER (ORDER BY time) AS gap
    FROM sightings
    WHERE mall_id = $1 AND kind = 'wifi'
      AND time >= to_timestamp(($2::float8 - $4::float8) / 1000) AND time < to_timestamp($3::float8 / 1000)
  ) x
  WHERE t >= to_timestamp($2::float8 / 1000) AND (gap IS NULL OR gap >= $4::float8 * interval '1 millisecond')`;

export interface SightingSpan {
  firstMs: number;
  lastMs: number;
}

/** The first and last WiFi sighting of the mall, if it has any. */
export async function sightingSpan(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
): Promise<SightingSpan | undefined> {
  const r = await client.query<{ first: number | null; last: number | null }>({
    text: `SELECT (extract(epoch FROM min(time)) * 1000)::float8 AS first, (extract(epoch FROM max(time)) * 1000)::float8 AS last
           FROM sightings WHERE mall_id = $1 AND kind = 'wifi'`,
    values: [mallId],
  });
  const row = r.rows[0];
  if (row?.first == null || row.last == null) return undefined;
  return { firstMs: Math.round(row.first), lastMs: Math.round(row.last) };
}

/** The latest stretch start at or before `atMs`, searching back to `span.firstMs`. */
export async function stretchStartAtOrBefore(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  atMs: number,
  gapMs: number,
  span: SightingSpan,
): Promise<number | undefined> {
  for (let hi = atMs + 1; hi > span.firstMs; hi -= SEARCH_WINDOW_MS) {
    const r = await client.query<{ t: number }>({
      text: `${STARTS_SQL} ORDER BY t DESC LIMIT 1`,
      values: [mallId, hi - SEARCH_WINDOW_MS, hi, gapMs],
    });
    if (r.rows[0]) return Math.round(r.rows[0].t);
  }
  return undefined;
}

/** The earliest stretch start at or after `atMs`, searching up to `span.lastMs`. */
export async function stretchStartAtOrAfter(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  atMs: number,
  gapMs: number,
  span: SightingSpan,
): Promise<number | undefined> {
  for (let lo = atMs; lo <= span.lastMs; lo += SEARCH_WINDOW_MS) {
    const r = await client.query<{ t: number }>({
      text: `${STARTS_SQL} ORDER BY t LIMIT 1`,
      values: [mallId, lo, lo + SEARCH_WINDOW_MS, gapMs],
    });
    if (r.rows[0]) return Math.round(r.rows[0].t);
  }
  return undefined;
}
