import type pg from 'pg';
import type { Layout } from '../core/src/layout.ts';

// Synthetic history of a Joy City-sized mall for the history API bench, generated inside the
// database with INSERT ... SELECT over generate_series (no rows cross the wire): aggregate data of
// the simulator's size and shape, not a 30-day simulation. Deterministic: every "random" draw is
// a hash of its row's keys, so both backends hold the same rows.
//
// Per local day (the layout's time zone), opening hours 10:00-22:00:
// - VISITORS visitor visits starting 10:00-21:00 (peak mid-afternoon), dwell log-normal around
//   40 min (1 % staff at 8-10 h), 3-7 zone stays each (mean 5): an entrance (or, for 30 %, the
//   street outside it first), then halls and stores in turn, stores drawn with a popularity skew;
// - PASSERS_BY passer-by visits 08:00-23:00 with one 10-60 s stay in an outside zone;
// - RETURNING_SHARE of the visitors (and 10 % of the passers-by) are drawn from a pool of
//   REGULARS devices that come back day after day; the others are new devices;
// - per-minute occupancy of every zone, 720 rows per zone and day;
// - device_first_seen from the visits, as the analytics worker would have written it.

export const HISTORY_DAYS = 30;
export const VISITORS_PER_DAY = 20_000;
export const PASSERS_BY_PER_DAY = 20_000;
export const RETURNING_SHARE = 0.3;
export const REGULARS = 25_000;
const PASSER_REGULARS = Math.round(PASSERS_BY_PER_DAY * 0.1);

/** A uniform draw in [0, 1) from a text key: deterministic, the same on every backend. */
const u = (key: string) => `((hashtext(${key})::bigint + 2147483648) / 4294967296.0)`;

export interface HistoryDataCounts {
  visits: number;
  zoneStays: number;
  occupancyMinutes: number;
  devices: number;
  loadMs: number;
}

/** Loads HISTORY_DAYS days from `firstDay` (YYYY-MM-DD, local) into an empty migrated database. */
export async function loadHistoryData(
  pool: pg.Pool,
  layout: Layout,
  firstDay: string,
): Promise<HistoryDataCounts> {
  const started = performance.now();
  const ofKind = (...kinds: string[]) => layout.zones.filter((z) => kinds.includes(z.kind)).map((z) => z.id);
  const stores = ofKind('store');
  const halls = ofKind('corridor', 'atrium', 'escalator', 'lift');
  const entrances = ofKind('entrance');
  const outside = ofKind('outside');
  if (stores.length === 0 || halls.length === 0 || entrances.length === 0 || outside.length === 0) {
    throw new Error(`layout ${layout.id} lacks stores, halls, entrances or outside zones`);
  }
  const tz = layout.timezone;
  const dayStart = `(($2::date + d)::timestamp AT TIME ZONE '${tz.replaceAll("'", "''")}')`;
  const returning = Math.round(VISITORS_PER_DAY * RETURNING_SHARE);

  await pool.query(
    `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts)
     SELECT $1, device, started_at, started_at + dwell_ms * interval '1 millisecond', dwell_ms, stays, stays * 4
     FROM (
       SELECT CASE WHEN d > 0 AND i <= $5 THEN md5('r' || ((i + d * 7919) % $6)) ELSE md5('v' || d || '-' || i) END AS device,
              ${dayStart} + interval '10 hours'
                + (((${u("d || ':' || i || 'a'")} + ${u("d || ':' || i || 'b'")}) / 2) * 39600000)::bigint * interval '1 millisecond'
                AS started_at,
              CASE WHEN ${u("d || ':' || i || 's'")} < 0.01 THEN 28800000 + (${u("d || ':' || i || 'c'")} * 7200000)::bigint
                   ELSE least(greatest(60000, 2400000 * exp(0.9 * sqrt(-2 * ln(greatest(${u("d || ':' || i || 'e'")}, 1e-9)))
                                                         * cos(2 * pi() * ${u("d || ':' || i || 'f'")}))), 43200000)::bigint
              END AS dwell_ms,
              3 + floor(${u("d || ':' || i || 'g'")} * 5)::int AS stays
       FROM generate_series(0, $3 - 1) AS d, generate_series(1, $4) AS i
     ) x
     ON CONFLICT DO NOTHING`,
    [layout.id, firstDay, HISTORY_DAYS, VISITORS_PER_DAY, returning, REGULARS],
  );
  await pool.query(
    `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts, passer_by)
     SELECT $1, device, started_at, started_at + dwell_ms * interval '1 millisecond', dwell_ms, 1, 2, true
     FROM (
       SELECT CASE WHEN i <= $5 THEN md5('r' || ((i + d * 7919 + 12000) % $6)) ELSE md5('p' || d || '-' || i) END AS device,
              ${dayStart} + interval '8 hours' + (${u("d || ':' || i || 'p'")} * 54000000)::bigint * interval '1 millisecond'
                AS started_at,
              10000 + (${u("d || ':' || i || 'q'")} * 50000)::bigint AS dwell_ms
       FROM generate_series(0, $3 - 1) AS d, generate_series(1, $4) AS i
     ) x
     ON CONFLICT DO NOTHING`,
    [layout.id, firstDay, HISTORY_DAYS, PASSERS_BY_PER_DAY, PASSER_REGULARS, REGULARS],
  );
  const pick = (array: string, n: number, key: string, skew = 1) =>
    `(${array}::text[])[1 + floor(power(${u(key)}, ${skew}) * ${n})::int]`;
  const stayKey = (tag: string) =>
    `v.device || extract(epoch FROM v.started_at)::bigint || ':' || k || '${tag}'`;
  await pool.query(
    `INSERT INTO zone_stays (mall_id, device, zone_id, started_at, ended_at, dwell_ms, bursts)
     SELECT v.mall_id, v.device,
            CASE WHEN v.stays = 1 THEN ${pick('$5', outside.length, stayKey('o'))}
                 WHEN k = 0 THEN CASE WHEN ${u(stayKey('x'))} < 0.3 THEN ${pick('$5', outside.length, stayKey('o'))}
                                      ELSE ${pick('$4', entrances.length, stayKey('e'))} END
                 WHEN k % 2 = 1 THEN ${pick('$3', halls.length, stayKey('h'))}
                 ELSE ${pick('$2', stores.length, stayKey('s'), 2)} END,
            v.started_at + (v.dwell_ms * k / v.stays) * interval '1 millisecond',
            v.started_at + (v.dwell_ms * (k + 1) / v.stays) * interval '1 millisecond',
            v.dwell_ms * (k + 1) / v.stays - v.dwell_ms * k / v.stays, 3
     FROM visits v, generate_series(0, v.stays - 1) AS k
     WHERE v.mall_id = $1`,
    [layout.id, stores, halls, entrances, outside],
  );
  await pool.query(
    `INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices)
     SELECT ${dayStart} + interval '10 hours' + m * interval '1 minute', $1, z.id,
            round(z.cap * 0.6 * sin(pi() * (m + 30) / 780) * (0.4 + 0.6 * ${u('z.id || d')}))::int
     FROM generate_series(0, $3 - 1) AS d, generate_series(0, 719) AS m, unnest($4::text[], $5::int[]) AS z(id, cap)`,
    [layout.id, firstDay, HISTORY_DAYS, layout.zones.map((z) => z.id), layout.zones.map((z) => z.capacity)],
  );
  await pool.query(
    `INSERT INTO device_first_seen (mall_id, device, first_visit_at)
     SELECT mall_id, device, min(started_at) FROM visits WHERE mall_id = $1 GROUP BY 1, 2`,
    [layout.id],
  );
  const count = async (table: string) =>
    Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n ?? 0);
  return {
    visits: await count('visits'),
    zoneStays: await count('zone_stays'),
    occupancyMinutes: await count('occupancy_minute'),
    devices: await count('device_first_seen'),
    loadMs: performance.now() - started,
  };
}
