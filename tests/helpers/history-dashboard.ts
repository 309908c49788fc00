import type pg from 'pg';
import { pino } from 'pino';
import type { Layout } from '../../core/src/layout.ts';
import { createDashboard, type Dashboard } from '../../dashboard/src/server.ts';

/** A real dashboard on an ephemeral port over the test database, and `mall`'s history API base URL. */
export async function serveHistory(
  pool: pg.Pool,
  layouts: readonly Layout[],
  mall: string,
): Promise<{ dashboard: Dashboard; base: string }> {
  const dashboard = await createDashboard({
    pool,
    layouts: [...layouts],
    port: 0,
    logger: pino({ level: 'silent' }),
  });
  return { dashboard, base: `${dashboard.url}/api/malls/${mall}/history` };
}
