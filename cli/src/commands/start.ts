import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadLayoutFiles } from '../../../analytics/src/adapters/layout-files.ts';
import {
  MAINTENANCE_KEYS,
  OCCUPANCY_KEYS,
  occupancyOptionsFrom,
  staffRuleFrom,
} from '../../../analytics/src/config.ts';
import { migrate } from '../../../analytics/src/migrate.ts';
import { newestWifiSightingMs } from '../../../analytics/src/sql/read-sightings.ts';
import { logLevelKey, resolveCommandConfig } from '../../../core/src/config.ts';
import { type EmbeddedDb, startEmbeddedDb } from '../../../infra/src/embedded-db.ts';
import { createPool } from '../../../infra/src/pg-pool.ts';
import {
  createLogger,
  EXIT_BAD_CONFIG,
  EXIT_FAILURE,
  EXIT_OK,
  reportCommandConfig,
  waitForShutdownSignal,
} from '../../../infra/src/process.ts';
import { openBrowser } from '../open-browser.ts';
import { createSimSource } from '../sim-source.ts';
import { startStack } from '../stack.ts';

const StartConfig = z.object({
  DATA_DIR: z
    .string()
    .min(1)
    .default('./data')
    .describe('Where the embedded database and the site secret live'),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .describe('Use this PostgreSQL/TimescaleDB server instead of the embedded database'),
  HOST: z.string().default('127.0.0.1').describe('Interface the broker and dashboard listen on'),
  BROKER_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(1884)
    .describe('MQTT over TCP (1883 is left to Mosquitto)'),
  BROKER_WS_PORT: z.coerce.number().int().min(0).max(65535).default(8884).describe('MQTT over WebSocket'),
  DASHBOARD_PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('Dashboard HTTP port'),
  LAYOUT_FILE: z
    .string()
    .default('simulators/layouts/joy-city.json')
    .describe('Mall layout the simulator walks'),
  SITE_SECRET: z
    .string()
    .min(16)
    .optional()
    .describe('HMAC key for MAC pseudonyms; default: generated once into DATA_DIR/site-secret'),
  SIM_SEED: z.coerce.number().int().default(42).describe('Simulator seed'),
  SIM_SPEED: z.coerce.number().positive().max(3600).default(1).describe('Simulated seconds per real second'),
  SIM_WARMUP_MIN: z.coerce
    .number()
    .min(0)
    .max(600)
    .default(45)
    .describe('Simulated minutes run before going live, so the mall is not empty'),
  SIM_ARRIVALS_PER_HOUR: z.coerce
    .number()
    .positive()
    .optional()
    .describe("Shopper arrivals per hour (default from the layout's capacity)"),
  ...OCCUPANCY_KEYS,
  ...MAINTENANCE_KEYS,
  OPEN_BROWSER: z
    .enum(['auto', 'true', 'false'])
    .default('auto')
    .describe('Open the dashboard in a browser (auto: when a desktop session is present)'),
  LOG_LEVEL: logLevelKey('info'),
});

const SUMMARY =
  'Runs the whole system in one process on the embedded database (PGlite + TimescaleDB): broker, analytics, dashboard, one gateway per floor and a simulated mall.';

function loadSiteSecret(dataDir: string, given: string | undefined): string {
  if (given) return given;
  const path = resolve(dataDir, 'site-secret');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export async function runStart(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const resolved = resolveCommandConfig('start', SUMMARY, StartConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'start');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const log = createLogger('start', config.LOG_LEVEL);
  const { layouts, errors } = loadLayoutFiles([config.LAYOUT_FILE]);
  const layout = layouts[0];
  if (errors.length > 0 || !layout) {
    process.stderr.write(`mallflow start: invalid layout\n${errors.map((e) => `  ${e}\n`).join('')}`);
    return EXIT_BAD_CONFIG;
  }
  mkdirSync(config.DATA_DIR, { recursive: true });
  const siteSecret = loadSiteSecret(config.DATA_DIR, config.SITE_SECRET);

  let db: EmbeddedDb | undefined;
  if (!config.DATABASE_URL) {
    log.info({ dataDir: resolve(config.DATA_DIR, 'db') }, 'opening the embedded database');
    db = await startEmbeddedDb({ dataDir: resolve(config.DATA_DIR, 'db'), log });
  }
  const url = config.DATABASE_URL ?? db!.url;
  // The embedded server takes one connection at a time: every component shares this one pool.
  const pool = createPool({ url, max: db ? 1 : 8, applicationName: 'mallflow' });
  let failed: unknown;
  let fail: () => void = () => {};
  const fatal = new Promise<void>((r) => {
    fail = r;
  });
  try {
    const migrated = await migrate(pool);
    log.info(
      migrated,
      migrated.timescale ? 'database ready (TimescaleDB)' : 'database ready (plain PostgreSQL)',
    );
    const stack = await startStack({
      pool,
      layout,
      siteSecret,
      host: config.HOST,
      brokerPort: config.BROKER_PORT,
      brokerWsPort: config.BROKER_WS_PORT,
      dashboardPort: config.DASHBOARD_PORT,
      occupancy: occupancyOptionsFrom(config),
      maintenance: {
        intervalMs: config.MAINTENANCE_INTERVAL_MS,
        rawRetentionDays: config.RAW_RETENTION_DAYS,
        compressAfterDays: config.COMPRESS_AFTER_DAYS,
        staffRule: staffRuleFrom(config),
      },
      loggerFor: (component) => createLogger(component, config.LOG_LEVEL),
      onFatal(err) {
        failed = err;
        log.fatal({ err }, 'a component cannot continue');
        fail();
      },
    });
    // On a database that already holds a run, the simulated mall goes on after it: a run faster
    // than real time ends ahead of the clock, and starting behind it would make every reading late.
    const storedUntilMs = await newestWifiSightingMs(pool, layout.id, 0);
    const source = createSimSource({
      layout,
      seed: config.SIM_SEED,
      speed: config.SIM_SPEED,
      warmupMs: config.SIM_WARMUP_MIN * 60_000,
      nowMs: Math.max(Date.now(), (storedUntilMs ?? 0) + 1_000),
      arrivalsPerHour: config.SIM_ARRIVALS_PER_HOUR,
      route: (sensorId) => stack.gatewayOfSensor(sensorId),
    });
    source.start(stack.gateways.values().next().value!);
    const dashboardUrl = `${stack.dashboard.url}/?mall=${layout.id}`;
    process.stderr.write(
      `\n  mallflow is running: ${layout.name}, ${layout.zones.length} zones on ${layout.floors.length} floors\n` +
        `  dashboard  ${dashboardUrl}\n` +
        `  broker     ${stack.broker.url}${stack.broker.wsUrl ? `  ${stack.broker.wsUrl}` : ''}\n` +
        `  database   ${db ? `embedded (PGlite + TimescaleDB) in ${db.dataDir}` : 'server at DATABASE_URL'}\n` +
        '  Ctrl-C stops it cleanly.\n\n',
    );
    if (config.OPEN_BROWSER === 'true' || (config.OPEN_BROWSER === 'auto' && process.stdout.isTTY)) {
      openBrowser(dashboardUrl, log, config.OPEN_BROWSER === 'true');
    }
    await Promise.race([waitForShutdownSignal(log), fatal]);
    source.stop();
    if (!failed) {
      await stack.close();
      log.info({ analytics: stack.analytics.stats() }, 'stopped cleanly');
    }
  } finally {
    await pool.end();
    await db?.close();
  }
  return failed ? EXIT_FAILURE : EXIT_OK;
}
