import { z } from 'zod';
import { logLevelKey } from '../../core/src/config.ts';

// The dashboard's settings: one zod schema, parsed once in main.ts (env, or --flag overrides).

export const DashboardConfigSchema = z.object({
  DASHBOARD_HOST: z.string().min(1).default('127.0.0.1').describe('Address the HTTP server listens on'),
  DASHBOARD_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8080)
    .describe('HTTP port for the dashboard page, REST API and Socket.IO (0 picks a free port)'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .describe('PostgreSQL/TimescaleDB the analytics component writes occupancy to'),
  LAYOUT_FILES: z
    .string()
    .min(1)
    .default('simulators/layouts/joy-city.json')
    .describe('Comma-separated mall layout JSON files, one mall each'),
  DASHBOARD_TICK_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(1000)
    .describe('How often live occupancy is read and pushed to viewers (ms)'),
  PG_POOL_MAX: z.coerce
    .number()
    .int()
    .positive()
    .default(4)
    .describe('Database connections at most (1 for the embedded database)'),
  LOG_LEVEL: logLevelKey(),
});

export type DashboardConfig = z.infer<typeof DashboardConfigSchema>;

/** The layout paths in LAYOUT_FILES, trimmed, empty entries dropped. */
export function layoutPaths(config: DashboardConfig): string[] {
  return config.LAYOUT_FILES.split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}
