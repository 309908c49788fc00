import type pg from 'pg';

// Fills path_daily (migration 0017) for one mall and local day: the store sequences of the day's
// visitor visits, staff left out, by the definition of dashboard/src/sql/history-paths.ts (kept
// apart: components do not import each other; tests/integration/history-aggregates.test.ts
// compares the two). Then marks the day's kpi_daily row with its visits with a path.

/** $1 mall, $2 day (local date), $3 time zone, $4 store zone ids. */
const INSERT_SQL = `WITH bounds AS (
    SELECT $2::date::timestamp AT TIME ZONE $3 AS day_start, ($2::date + 1)::timestamp AT TIME ZONE $3 AS day_end
  ),
  r AS (
    SELECT v.device, v.started_at, v.ended_at FROM visits v, bounds b
    WHERE v.mall_id = $1 AND v.started_at >= b.day_start AND v.started_at < b.day_end AND NOT v.passer_by
      AND v.device NOT IN (SELECT sd.device FROM staff_devices sd WHERE sd.mall_id = $1)
  ),
  stops AS (
    SELECT r.device, r.started_at AS visit_start, s.started_at, s.zone_id,
           lag(s.zone_id) OVER (PARTITION BY r.device, r.started_at ORDER BY s.started_at) AS previous
    FROM r
    JOIN zone_stays s ON s.device = r.device AND s.started_at >= r.started_at AND s.started_at <= r.ended_at
    WHERE s.mall_id = $1 AND s.started_at >= (SELECT day_start FROM bounds)
      AND s.started_at <= (SELECT max(ended_at) FROM r) AND s.zone_id = ANY ($4::text[])
  ),
  paths AS (
    SELECT array_agg(zone_id ORDER BY started_at) AS path
    FROM stops WHERE previous IS DISTINCT FROM zone_id
    GROUP BY device, visit_start
  )
  INSERT INTO path_daily (mall_id, day, path, visits)
  SELECT $1, $2::date, array_to_string(path, '>'), count(*) FROM paths GROUP BY path`;

export async function refreshDailyPaths(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  day: string,
  timeZone: string,
  storeZoneIds: readonly string[],
): Promise<void> {
  await client.query({
    name: 'path_daily_delete',
    text: 'DELETE FROM path_daily WHERE mall_id = $1 AND day = $2::date',
    values: [mallId, day],
  });
  // Unnamed: planned for this day each time (see refresh-daily-kpis.ts).
  await client.query({ text: INSERT_SQL, values: [mallId, day, timeZone, storeZoneIds] });
  await client.query({
    name: 'path_daily_mark',
    text: `UPDATE kpi_daily SET visits_with_path =
             (SELECT coalesce(sum(visits), 0) FROM path_daily WHERE mall_id = $1 AND day = $2::date)
           WHERE mall_id = $1 AND day = $2::date`,
    values: [mallId, day],
  });
}
