import type pg from 'pg';

// Rebuilds zone_transitions (migration 0015) from the stored visits and zone stays: for each visit
// starting in the hours rebuilt, the moves between its consecutive stays (the same definition as
// the history flows, dashboard/src/sql/history-flows.ts: a stay belongs to the visit of the same
// mall and device it started within; two stays in a row in one zone are no move), counted per hour
// of the visit's start, with the staff flag of its device at the time. Idempotent: whatever rows
// are stored, a rebuilt hour is what they give. One statement per local day, so the embedded
// database (one shared connection) is never held for longer than a day's worth of rows.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The hour grid: hours from the mall's local midnight ($2 time zone), whole-hour DST shifts kept. */
const ORIGIN = `('2000-01-01'::timestamp AT TIME ZONE $2)`;

/** $1 instant, $2 time zone: the start of its hour on the grid. */
const FLOOR_SQL = `SELECT extract(epoch FROM date_bin('1 hour', $1::timestamptz, ${ORIGIN})) * 1000 AS ms`;

/** $1 mall, $2 from, $3 to (on the grid). */
const DELETE_SQL = 'DELETE FROM zone_transitions WHERE mall_id = $1 AND bucket >= $2 AND bucket < $3';

/** $1 mall, $2 time zone, $3 from, $4 to (on the grid). */

const INSERT_SQL = `WITH r AS (
    SELECT v.device, v.started_at, v.ended_at,
           v.device IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1) AS staff
    FROM visits v
    WHERE v.mall_id = $1 AND v.started_at >= $3 AND v.started_at < $4
  ),
  moves AS (
    SELECT r.staff, date_bin('1 hour', r.started_at, ${ORIGIN}) AS bucket,
           lag(s.zone_id) OVER (PARTITION BY r.device, r.started_at ORDER BY s.started_at) AS from_zone,
           s.zone_id AS to_zone
    FROM r
    JOIN zone_stays s ON s.device = r.device AND s.started_at >= r.started_at AND s.started_at <= r.ended_at
    WHERE s.mall_id = $1 AND s.started_at >= $3 AND s.started_at <= (SELECT max(ended_at) FROM r)
  )
  INSERT INTO zone_transitions (mall_id, bucket, from_zone, to_zone, staff, transitions)
  SELECT $1, bucket, from_zone, to_zone, staff, count(*)
  FROM moves WHERE from_zone IS NOT NULL AND from_zone <> to_zone
  GROUP BY bucket, from_zone, to_zone, staff`;

/** The start of the hour of the mall's grid that `ms` falls in. */
export async function floorToTransitionHour(
  client: pg.ClientBase | pg.Pool,
  ms: number,
  timeZone: string,
): Promise<number> {
  const r = await client.query<{ ms: string }>({
    name: 'zone_transitions_floor',
    text: FLOOR_SQL,
    values: [new Date(ms), timeZone],
  });
  return Number(r.rows[0]!.ms);
}

/**
 * Rebuilds the transitions of the visits starting in the hours that [fromMs, toMs) touches, for
 * one mall. Returns the rebuilt span, widened to whole hours of the mall's grid.
 */
export async function rebuildZoneTransitions(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  timeZone: string,
  fromMs: number,
  toMs: number,
): Promise<{ fromMs: number; toMs: number }> {
  const startMs = await floorToTransitionHour(client, fromMs, timeZone);
  const endMs =
    toMs <= startMs ? startMs : (await floorToTransitionHour(client, toMs - 1, timeZone)) + HOUR_MS;
  for (let t = startMs; t < endMs; t += DAY_MS) {
    const from = new Date(t);
    const to = new Date(Math.min(t + DAY_MS, endMs));
    await client.query({ name: 'zone_transitions_delete', text: DELETE_SQL, values: [mallId, from, to] });
    // Unnamed: planned for this day each time (see dashboard/src/sql/history-kpis.ts).
    await client.query({ text: INSERT_SQL, values: [mallId, timeZone, from, to] });
  }
  return { fromMs: startMs, toMs: endMs };
}
