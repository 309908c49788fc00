import type pg from 'pg';
import { localDateTime } from '../../../core/src/local-days.ts';
import type { StaffRule } from '../../../core/src/staff-rule.ts';

// Flags staff devices (core/src/staff-rule.ts) from visits into staff_devices. Each run reads the
// visits of the last `windowDays + SCAN_MARGIN_DAYS` local days per mall (a flag only grows with
// more visits, so partial days are safe to read); the first run, and a run after the rule changed
// (the mall's flags are then dropped and redone), reads `firstRunDays`. Flags are never removed by
// a plain run: a device once staff stays out of the KPIs of every period. A mall is rescanned at
// most every STAFF_RESCAN_MS (the scan reads days of visits; staff do not appear by the minute),
// unless its rule changed.

const SCAN_MARGIN_DAYS = 2;
export const STAFF_RESCAN_MS = 3_600_000;
const staffTask = (mallId: string) => `staff-devices:${mallId}`;

/**
 * $1 mall, $2 time zone, $3 first local day whose window is evaluated, $4 window days - 1,
 * $5 min presence ms, $6 min days. Days qualify on the summed dwell of visits starting in them.
 */
const FLAG_SQL = `WITH daily AS (
    SELECT device, (started_at AT TIME ZONE $2)::date AS day
    FROM visits
    WHERE mall_id = $1 AND started_at >= ($3::date - $4::int)::timestamp AT TIME ZONE $2
    GROUP BY 1, 2
    HAVING sum(dwell_ms) >= $5
  ),
  windowed AS (
    SELECT device, day, count(*) OVER (PARTITION BY device ORDER BY day
             RANGE BETWEEN $4::int * interval '1 day' PRECEDING AND CURRENT ROW) AS n
    FROM daily
  ),
  flagged AS (
    SELECT device, min(day) AS first_day, max(day) AS last_day FROM windowed
    WHERE n >= $6 AND day >= $3::date GROUP BY device
  )
  INSERT INTO staff_devices (mall_id, device, first_flagged_day, last_qualifying_day, updated_at)
  SELECT $1, device, first_day, last_day, now() FROM flagged
  ON CONFLICT (mall_id, device) DO UPDATE SET
    first_flagged_day = least(staff_devices.first_flagged_day, EXCLUDED.first_flagged_day),
    last_qualifying_day = greatest(staff_devices.last_qualifying_day, EXCLUDED.last_qualifying_day),
    updated_at = now()
  RETURNING device, (xmax = 0) AS inserted`;

export interface RefreshStaffResult {
  /** Devices flagged for the first time this run, over all malls. */
  newStaffDevices: number;
  /** The earliest start of a visit of a newly flagged device (its KPIs must be rolled up again). */
  earliestAffectedMs?: number;
}

function sameRule(a: StaffRule | null | undefined, b: StaffRule): boolean {
  return (
    a !== null &&
    a !== undefined &&
    a.minDays === b.minDays &&
    a.windowDays === b.windowDays &&
    a.minPresenceMs === b.minPresenceMs
  );
}

export async function refreshStaffDevices(
  pool: pg.Pool,
  options: {
    timeZoneByMall: ReadonlyMap<string, string>;
    rule: StaffRule;
    nowMs: number;
    /** How far back the first run (or a run with a changed rule) looks, in days. */
    firstRunDays: number;
  },
): Promise<RefreshStaffResult> {
  const { rule, nowMs } = options;
  const result: RefreshStaffResult = { newStaffDevices: 0 };
  for (const [mallId, timeZone] of options.timeZoneByMall) {
    const recorded = await pool.query<{ staff_rule: StaffRule | null }>(
      'SELECT staff_rule FROM engine_settings WHERE mall_id = $1',
      [mallId],
    );
    const unchanged = sameRule(recorded.rows[0]?.staff_rule, rule);
    const state = await pool.query<{ done_until: Date }>(
      'SELECT done_until FROM maintenance_state WHERE task = $1',
      [staffTask(mallId)],
    );
    const lastMs = state.rows[0]?.done_until.getTime();
    if (unchanged && lastMs !== undefined && lastMs > nowMs - STAFF_RESCAN_MS && lastMs <= nowMs) continue;
    const days = unchanged ? rule.windowDays + SCAN_MARGIN_DAYS : options.firstRunDays;
    const fromDay = localDateTime(nowMs - (days - 1) * 86_400_000, timeZone).date;
    if (!unchanged) {
      await pool.query('DELETE FROM staff_devices WHERE mall_id = $1', [mallId]);
    }
    // Unnamed: planned with this mall's range each run (see dashboard/src/sql/history-kpis.ts).
    const flagged = await pool.query<{ device: string; inserted: boolean }>({
      text: FLAG_SQL,
      values: [mallId, timeZone, fromDay, rule.windowDays - 1, rule.minPresenceMs, rule.minDays],
    });
    const added = flagged.rows.filter((r) => r.inserted).map((r) => r.device);
    result.newStaffDevices += added.length;
    if (!unchanged) {
      // Unflagged devices count again: every rolled-up day of the mall may have changed.
      const allDays = nowMs - options.firstRunDays * 86_400_000;
      result.earliestAffectedMs = Math.min(result.earliestAffectedMs ?? allDays, allDays);
      await pool.query(
        `INSERT INTO engine_settings (mall_id, staff_rule, updated_at) VALUES ($1, $2::jsonb, now())
         ON CONFLICT (mall_id) DO UPDATE SET staff_rule = EXCLUDED.staff_rule, updated_at = now()`,
        [mallId, JSON.stringify(rule)],
      );
    } else if (added.length > 0) {
      const first = await pool.query<{ t: Date | null }>(
        'SELECT min(started_at) AS t FROM visits WHERE mall_id = $1 AND device = ANY ($2::text[])',
        [mallId, added],
      );
      const t = first.rows[0]?.t?.getTime();
      if (t !== undefined) result.earliestAffectedMs = Math.min(result.earliestAffectedMs ?? t, t);
    }
    await pool.query(
      `INSERT INTO maintenance_state (task, done_until, ran_at) VALUES ($1, $2, now())
       ON CONFLICT (task) DO UPDATE SET done_until = EXCLUDED.done_until, ran_at = now()`,
      [staffTask(mallId), new Date(nowMs)],
    );
  }
  return result;
}
