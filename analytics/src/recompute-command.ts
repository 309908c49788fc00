import { resolve } from 'node:path';
import { z } from 'zod';
import { logLevelKey, resolveCommandConfig } from '../../core/src/config.ts';
import { parseInstant } from '../../core/src/local-days.ts';
import { type EmbeddedDb, startEmbeddedDb } from '../../infra/src/embedded-db.ts';
import { createPool } from '../../infra/src/pg-pool.ts';
import {
  createLogger,
  EXIT_BAD_CONFIG,
  EXIT_FAILURE,
  EXIT_OK,
  reportCommandConfig,
} from '../../infra/src/process.ts';
import { loadLayoutFiles } from './adapters/layout-files.ts';
import { OCCUPANCY_KEYS, occupancyOptionsFrom } from './config.ts';
import { schemaBehind } from './migrate.ts';
import { recompute } from './recompute.ts';

const RecomputeConfig = z.object({
  MALL: z.string().min(1).describe('The mall to recompute: a layout id in LAYOUT_FILES'),
  FROM: z
    .string()
    .min(1)
    .describe(
      "Start: a date (the mall's local midnight), a local time YYYY-MM-DDTHH:MM, or an ISO time with offset",
    ),
  TO: z.string().min(1).describe('End: a date (through its end), a local time, or an ISO time with offset'),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .describe('PostgreSQL/TimescaleDB server; default: the embedded database'),
  DATA_DIR: z
    .string()
    .min(1)
    .default('./data')
    .describe("The embedded database's directory (as `mallflow start`, which must not be running)"),
  LAYOUT_FILES: z
    .string()
    .min(1)
    .default('simulators/layouts/joy-city.json')
    .describe('Comma-separated mall layout files'),
  ...OCCUPANCY_KEYS,
  DRY_RUN: z
    .enum(['true', 'false'])
    .default('false')
    .describe('Compute and report what would change, write nothing'),
  LOG_LEVEL: logLevelKey('info'),
});

const SUMMARY =
  "Re-runs a mall's stored raw WiFi sightings through the analytics engine (with these settings) and replaces the visits, zone stays, minutes and daily KPIs derived from them; the range widens to whole stretches between quiet spells, so the result equals what the live worker would have written.";

/** `mallflow recompute --mall M --from T1 --to T2`. */
export async function runRecompute(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const resolved = resolveCommandConfig('recompute', SUMMARY, RecomputeConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'recompute');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const { layouts, errors } = loadLayoutFiles(config.LAYOUT_FILES.split(','));
  const layout = layouts.find((l) => l.id === config.MALL);
  if (errors.length === 0 && layout === undefined) {
    errors.push(
      `MALL (--mall): no layout with id "${config.MALL}" in LAYOUT_FILES (${layouts.map((l) => l.id).join(', ')})`,
    );
  }
  // Without the mall's time zone the times are still checked for their form (in UTC).
  const timeZone = layout?.timezone ?? 'UTC';
  const fromMs = parseInstant(config.FROM, timeZone);
  const toMs = parseInstant(config.TO, timeZone, true);
  if (fromMs === undefined) errors.push(`FROM (--from): not a date or time (got "${config.FROM}")`);
  if (toMs === undefined) errors.push(`TO (--to): not a date or time (got "${config.TO}")`);
  if (fromMs !== undefined && toMs !== undefined && !(fromMs < toMs)) {
    errors.push(`TO (--to): must be after FROM (got "${config.FROM}" … "${config.TO}")`);
  }
  if (errors.length > 0 || !layout || fromMs === undefined || toMs === undefined) {
    process.stderr.write(
      `mallflow recompute: invalid configuration\n${errors.map((e) => `  ${e}\n`).join('')}`,
    );
    return EXIT_BAD_CONFIG;
  }

  const log = createLogger('recompute', config.LOG_LEVEL);
  let db: EmbeddedDb | undefined;
  if (!config.DATABASE_URL) db = await startEmbeddedDb({ dataDir: resolve(config.DATA_DIR, 'db'), log });
  const pool = createPool({
    url: config.DATABASE_URL ?? db!.url,
    max: 1,
    applicationName: 'mallflow-recompute',
  });
  try {
    const behind = await schemaBehind(pool);
    if (behind) {
      log.error(behind, "the database schema is behind: run 'mallflow migrate' first");
      return EXIT_FAILURE;
    }
    const result = await recompute(
      pool,
      layout,
      occupancyOptionsFrom(config),
      { fromMs, toMs },
      { nowMs: Date.now(), dryRun: config.DRY_RUN === 'true', log },
    );
    process.stderr.write(`${formatResult(result)}\n`);
    return EXIT_OK;
  } finally {
    await pool.end();
    await db?.close();
  }
}

function formatResult(r: Awaited<ReturnType<typeof recompute>>): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  if (r.recomputed === undefined) return `mallflow recompute: ${r.mallId}: no stored sightings in the range`;
  const lines = [
    `mallflow recompute: ${r.mallId} ${r.dryRun ? '(dry run: nothing written)' : ''}`,
    `  asked       ${iso(r.asked.fromMs)} … ${iso(r.asked.toMs)}`,
    `  recomputed  ${iso(r.recomputed.fromMs)} … ${iso(r.recomputed.toMs)} (whole stretches between quiet spells)`,
    `  sightings   ${r.sightings}`,
    '               before → after',
  ];
  const keys = ['visits', 'passerByVisits', 'zoneStays', 'busyMinuteRows', 'deviceMinutes'] as const;
  for (const k of keys) lines.push(`  ${k.padEnd(15)} ${r.before?.[k] ?? 0} → ${r.after?.[k] ?? 0}`);
  lines.push(`  daily KPIs  ${r.kpiDays} local days rolled up again`);
  return lines.join('\n');
}
