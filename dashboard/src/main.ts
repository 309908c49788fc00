import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { resolveCommandConfig } from '../../core/src/config.ts';
import { type Layout, parseLayoutText } from '../../core/src/layout.ts';
import { createPool } from '../../infra/src/pg-pool.ts';
import {
  type CommandOutput,
  EXIT_BAD_CONFIG,
  PROCESS_OUTPUT,
  reportCommandConfig,
  waitForShutdownSignal,
} from '../../infra/src/process.ts';
import { DashboardConfigSchema, layoutPaths } from './config.ts';
import { createDashboard } from './server.ts';

// `mallflow dashboard`: parse config, load and validate the layouts, open a pool, serve until
// SIGINT/SIGTERM, then close the server and end the pool. Exit codes: 0 ok, 1 failed at run
// time, 2 bad config or layout.

const SUMMARY = 'Live occupancy dashboard: floor plans coloured by zone occupancy, REST API and Socket.IO.';

export interface RunDashboardOptions {
  /** Stops the dashboard like SIGINT does (for tests and an embedding process). */
  signal?: AbortSignal;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

async function loadLayouts(
  paths: readonly string[],
): Promise<{ ok: true; layouts: Layout[] } | { ok: false; errors: string[] }> {
  const layouts: Layout[] = [];
  const errors: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(resolve(path), 'utf8');
    } catch (err) {
      // Boundary: an unreadable file is a config problem, reported with the rest.
      errors.push(`${path}: ${(err as Error).message}`);
      continue;
    }
    const result = parseLayoutText(text, path);
    if (result.ok) layouts.push(result.layout);
    else errors.push(...result.errors);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, layouts };
}

export async function runDashboard(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunDashboardOptions = {},
): Promise<number> {
  const output: CommandOutput = {
    out: options.stdout ?? PROCESS_OUTPUT.out,
    err: options.stderr ?? PROCESS_OUTPUT.err,
  };
  const err = output.err;
  const resolved = resolveCommandConfig('dashboard', SUMMARY, DashboardConfigSchema, argv, env);
  const stop = reportCommandConfig(resolved, 'dashboard', output);
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const loaded = await loadLayouts(layoutPaths(config));
  if (!loaded.ok) {
    for (const e of loaded.errors) err(`layout: ${e}\n`);
    return 2;
  }

  // Logs are JSON lines on stdout (or the caller's stdout, so an embedding test can read them).
  const logOptions = { base: { component: 'dashboard' }, level: config.LOG_LEVEL };
  const log = options.stdout ? pino(logOptions, { write: options.stdout }) : pino(logOptions);
  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.PG_POOL_MAX,
    applicationName: 'mallflow-dashboard',
  });
  try {
    const dashboard = await createDashboard({
      pool,
      layouts: loaded.layouts,
      host: config.DASHBOARD_HOST,
      port: config.DASHBOARD_PORT,
      tickMs: config.DASHBOARD_TICK_MS,
      logger: log,
    });
    log.info({ url: dashboard.url, malls: loaded.layouts.map((l) => l.id) }, 'dashboard listening');
    await waitForShutdownSignal(log, options.signal);
    await dashboard.close();
    return 0;
  } catch (e) {
    // Boundary: start-up failures (port in use, ...) end the command with a logged reason.
    log.error({ err: e }, 'dashboard failed');
    return 1;
  } finally {
    await pool.end();
  }
}
