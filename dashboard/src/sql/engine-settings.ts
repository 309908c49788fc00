import type pg from 'pg';
import type { StaffRule } from '../../../core/src/staff-rule.ts';
import type { VisitorRule } from '../../../core/src/visitor-rule.ts';

export interface RecordedRules {
  visitorRule?: VisitorRule | undefined;
  staffRule?: StaffRule | undefined;
}

/** The visitor and staff rules the analytics worker recorded for the mall (engine_settings), if any. */
export async function readRecordedRules(pool: pg.Pool, mallId: string): Promise<RecordedRules> {
  const result = await pool.query<{ visitor_rule: VisitorRule | null; staff_rule: StaffRule | null }>({
    name: 'history_engine_settings',
    text: 'SELECT visitor_rule, staff_rule FROM engine_settings WHERE mall_id = $1',
    values: [mallId],
  });
  const row = result.rows[0];
  return { visitorRule: row?.visitor_rule ?? undefined, staffRule: row?.staff_rule ?? undefined };
}
