import { z } from 'zod';
import { logLevelKey, resolveCommandConfig } from '../../core/src/config.ts';
import { createPool } from '../../infra/src/pg-pool.ts';
import {
  createLogger,
  EXIT_BAD_CONFIG,
  EXIT_FAILURE,
  EXIT_OK,
  reportCommandConfig,
  waitForShutdownSignal,
} from '../../infra/src/process.ts';
import { loadLayoutFiles } from './adapters/layout-files.ts';
import { createAnalytics } from './analytics.ts';
import { ANALYTICS_SUMMARY, AnalyticsConfig, occupancyOptionsFrom, staffRuleFrom } from './config.ts';
import { migrate, schemaBehind } from './migrate.ts';

/** `mallflow analytics`: the worker as its own process, against a migrated database. */
export async function runAnalytics(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const resolved = resolveCommandConfig('analytics', ANALYTICS_SUMMARY, AnalyticsConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'analytics');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const log = createLogger('analytics', config.LOG_LEVEL);
  const { layouts, errors } = loadLayoutFiles(config.LAYOUT_FILES.split(','));
  if (errors.length > 0) {
    process.stderr.write(`mallflow analytics: invalid layout\n${errors.map((e) => `  ${e}\n`).join('')}`);
    return EXIT_BAD_CONFIG;
  }
  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.PG_POOL_MAX,
    applicationName: 'mallflow-analytics',
  });
  const behind = await schemaBehind(pool);
  if (behind) {
    log.error(behind, "the database schema is behind: run 'mallflow migrate' first");
    await pool.end();
    return EXIT_FAILURE;
  }
  let failed: unknown;
  let fail: () => void = () => {};
  const fatal = new Promise<void>((resolve) => {
    fail = resolve;
  });
  const analytics = await createAnalytics({
    pool,
    layouts,
    mqtt: {
      url: config.MQTT_URL,
      username: config.MQTT_USERNAME,
      password: config.MQTT_PASSWORD,
      clientId: config.MQTT_CLIENT_ID,
    },
    occupancy: occupancyOptionsFrom(config),
    liveIntervalMs: config.LIVE_INTERVAL_MS,
    checkpointIntervalMs: config.CHECKPOINT_INTERVAL_MS,
    maintenance: {
      intervalMs: config.MAINTENANCE_INTERVAL_MS,
      rawRetentionDays: config.RAW_RETENTION_DAYS,
      compressAfterDays: config.COMPRESS_AFTER_DAYS,
      staffRule: staffRuleFrom(config),
    },
    logger: log,
    onFatal(err) {
      failed = err;
      log.fatal({ err }, 'analytics cannot continue');
      fail();
    },
  });
  log.info({ malls: layouts.map((l) => l.id) }, 'analytics running');
  await Promise.race([waitForShutdownSignal(log), fatal]);
  if (!failed) await analytics.close();
  await pool.end();
  return failed ? EXIT_FAILURE : EXIT_OK;
}

const MigrateConfig = z.object({
  DATABASE_URL: z.string().url().describe('PostgreSQL/TimescaleDB connection URL'),
  LOG_LEVEL: logLevelKey(),
});

/** `mallflow migrate`: applies pending migrations (hypertables where TimescaleDB is present). */
export async function runMigrate(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const summary = 'Applies pending database migrations; uses TimescaleDB where the server has it.';
  const resolved = resolveCommandConfig('migrate', summary, MigrateConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'migrate');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const log = createLogger('migrate', resolved.config.LOG_LEVEL);
  const pool = createPool({ url: resolved.config.DATABASE_URL, max: 1, applicationName: 'mallflow-migrate' });
  try {
    const result = await migrate(pool);
    log.info(
      result,
      result.timescale
        ? 'migrated (TimescaleDB: hypertables)'
        : 'migrated (plain PostgreSQL: no TimescaleDB, same tables)',
    );
    return EXIT_OK;
  } finally {
    await pool.end();
  }
}
