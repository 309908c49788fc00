import type pg from 'pg';
import type { VisitorRule } from '../../../core/src/visitor-rule.ts';

/** The visitor rule the analytics worker recorded for the mall (engine_settings), if any. */
export async function readVisitorRule(pool: pg.Pool, mallId: string): Promise<VisitorRule | undefined> {
  const result = await pool.query<{ visitor_rule: VisitorRule }>({
    name: 'history_engine_settings',
    text: 'SELECT visitor_rule FROM engine_settings WHERE mall_id = $1',
    values: [mallId],
  });
  return result.rows[0]?.visitor_rule;
}
