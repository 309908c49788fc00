import type pg from 'pg';

// Staff devices (staff_devices, flagged by the analytics maintenance): reported apart from the
// visitor KPIs, which leave them out.

/** $1 mall, $2 from, $3 to. */
const STAFF_SQL = `SELECT
    (SELECT count(*) FROM staff_devices WHERE mall_id = $1) AS flagged,
    (SELECT count(DISTINCT v.device) FROM visits v JOIN staff_devices sd ON sd.mall_id = v.mall_id AND sd.device = v.device
     WHERE v.mall_id = $1 AND v.started_at >= $2 AND v.started_at < $3) AS present`;

export interface StaffCount {
  /** Staff devices with a visit starting in the range. */
  present: number;
  /** Staff devices flagged in the mall, whenever seen. */
  flagged: number;
}

export async function readStaffCount(
  pool: pg.Pool,
  mallId: string,
  fromMs: number,
  toMs: number,
): Promise<StaffCount> {
  const result = await pool.query<{ present: string; flagged: string }>({
    name: 'history_staff_count',
    text: STAFF_SQL,
    values: [mallId, new Date(fromMs), new Date(toMs)],
  });
  const row = result.rows[0];
  return { present: Number(row?.present ?? 0), flagged: Number(row?.flagged ?? 0) };
}
