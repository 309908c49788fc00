import type pg from 'pg';
import type { VisitorRule } from '../../../core/src/visitor-rule.ts';

/** Records the visitor rule the engine classes each mall's visits with (named by the history API). */
export async function recordVisitorRule(
  client: pg.ClientBase | pg.Pool,
  mallIds: readonly string[],
  rule: VisitorRule,
): Promise<void> {
  await client.query({
    name: 'record-visitor-rule',
    text: `INSERT INTO engine_settings (mall_id, visitor_rule, updated_at)
           SELECT m, $2::jsonb, now() FROM unnest($1::text[]) AS m
           ON CONFLICT (mall_id) DO UPDATE SET visitor_rule = EXCLUDED.visitor_rule, updated_at = now()
           WHERE engine_settings.visitor_rule IS DISTINCT FROM EXCLUDED.visitor_rule`,
    values: [mallIds, JSON.stringify(rule)],
  });
}
