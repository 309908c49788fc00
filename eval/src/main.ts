import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { migrate } from '../../analytics/src/migrate.ts';
import { logLevelKey, resolveCommandConfig } from '../../core/src/config.ts';
import { zonedTimeToUtc } from '../../core/src/local-days.ts';
import { SILENCE_BRIDGE_MS } from '../../core/src/occupancy.ts';
import { normalizeMac, pseudonymize } from '../../core/src/privacy.ts';
import { createPool } from '../../infra/src/pg-pool.ts';
import { createLogger, EXIT_BAD_CONFIG, EXIT_OK, reportCommandConfig } from '../../infra/src/process.ts';
import { writeTruthFiles } from '../../simulators/src/ground-truth.ts';
import { loadLayoutFile } from '../../simulators/src/load-layout.ts';
import { createMallSim } from '../../simulators/src/mall-sim.ts';
import { startTestSystem } from '../../testkit/src/test-system.ts';
import { type Estimates, scoreEstimates, totalsPerMinute } from './metrics.ts';
import { runThroughPipeline } from './pipeline.ts';
import { markdownReport, metricsTable, occupancyPlotSvg } from './report.ts';

// `npm run eval`: simulate a window of a mall day, run it through the real pipeline, score what
// analytics concluded against the simulator's ground truth, print the table and write the
// report (Markdown + SVG plot) and the ground truth files.

const EvalConfig = z.object({
  LAYOUT_FILE: z.string().default('simulators/layouts/joy-city.json').describe('Mall layout'),
  EVAL_DATE: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
    .default('2026-11-18')
    .describe('Simulated day (a Wednesday by default)'),
  EVAL_FROM: z
    .string()
    .regex(/^\d{2}:\d{2}$/, 'expected HH:MM')
    .default('11:00')
    .describe('Scored window start, local time'),
  EVAL_HOURS: z.coerce.number().positive().max(24).default(2).describe('Scored window length in hours'),
  SIM_SEED: z.coerce.number().int().default(42).describe('Simulator seed'),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .describe('Run on this PostgreSQL server (in a scratch database) instead of the embedded one'),
  OUT_DIR: z.string().default('artifacts/eval').describe('Where the report, plot and ground truth go'),
  PRESENCE_MS: z.coerce.number().int().positive().default(180_000).describe('Analytics presence window'),
  ALLOWED_LATENESS_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(5_000)
    .describe('Analytics allowed lateness'),
  VISIT_IDLE_MS: z.coerce.number().int().positive().default(600_000).describe('Analytics visit idle gap'),
  SILENCE_BRIDGE_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(SILENCE_BRIDGE_MS)
    .describe('Analytics silence bridge inside the mall'),
  LOG_LEVEL: logLevelKey('warn'),
});

const MALL_OPENS = '10:00';
const WARMUP_SCORE_SKIP_MS = 5 * 60_000;

/** A migrated scratch database on the server, dropped afterwards (the embedded one is the test system's own). */
async function scratchServerDatabase(serverUrl: string) {
  const name = `mallflow_eval_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = createPool({ url: url.toString(), max: 4, applicationName: 'mallflow-eval' });
  await migrate(pool);
  return {
    pool,
    async close() {
      await pool.end();
      const a = new pg.Client({ connectionString: serverUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

async function readEstimates(pool: pg.Pool, mallId: string, timeZone: string): Promise<Estimates> {
  const stays = (
    await pool.query(
      'SELECT device, zone_id, started_at, ended_at, confidence FROM zone_stays WHERE mall_id = $1',
      [mallId],
    )
  ).rows.map((r) => ({
    device: r.device as string,
    zoneId: r.zone_id as string,
    startMs: (r.started_at as Date).getTime(),
    endMs: (r.ended_at as Date).getTime(),
    confidence: r.confidence as number | null,
  }));
  const staysByDevice = new Map<string, typeof stays>();
  for (const s of stays) {
    const list = staysByDevice.get(s.device);
    if (list) list.push(s);
    else staysByDevice.set(s.device, [s]);
  }
  const dayOf = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  const visitRows = (
    await pool.query(
      `SELECT device, started_at, ended_at, passer_by, orphan, doubtful_links FROM visits WHERE mall_id = $1`,
      [mallId],
    )
  ).rows;
  const visits = visitRows.map((r) => {
    const startMs = (r.started_at as Date).getTime();
    return {
      device: r.device as string,
      startMs,
      endMs: (r.ended_at as Date).getTime(),
      day: dayOf.format(new Date(startMs)),
      passerBy: r.passer_by as boolean,
      orphan: r.orphan as boolean,
      doubtfulLinks: r.doubtful_links as number,
    };
  });
  const occupancy = new Map<string, Map<number, number>>();
  for (const r of (
    await pool.query('SELECT bucket, zone_id, devices FROM occupancy_minute WHERE mall_id = $1', [mallId])
  ).rows) {
    const m = occupancy.get(r.zone_id) ?? new Map<number, number>();
    m.set((r.bucket as Date).getTime(), r.devices as number);
    occupancy.set(r.zone_id, m);
  }
  return { stays, visits, occupancy };
}

export async function runEval(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const summary =
    'Simulates a mall window, runs it through the real pipeline and scores analytics against the ground truth.';
  const resolved = resolveCommandConfig('eval', summary, EvalConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'eval');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const started = performance.now();
  const layout = loadLayoutFile(config.LAYOUT_FILE);
  const opensMs = zonedTimeToUtc(config.EVAL_DATE, MALL_OPENS, layout.timezone);
  const fromMs = zonedTimeToUtc(config.EVAL_DATE, config.EVAL_FROM, layout.timezone);
  const toMs = fromMs + config.EVAL_HOURS * 3_600_000;
  const sim = createMallSim({ layout, seed: config.SIM_SEED, startMs: Math.min(opensMs, fromMs) });
  sim.stepAll(fromMs); // the mall fills up before the scored window; those readings are not sent
  const server = config.DATABASE_URL ? await scratchServerDatabase(config.DATABASE_URL) : undefined;
  const system = await startTestSystem({
    layout,
    ...(server ? { pool: server.pool } : {}),
    occupancy: {
      presenceMs: config.PRESENCE_MS,
      allowedLatenessMs: config.ALLOWED_LATENESS_MS,
      visitIdleMs: config.VISIT_IDLE_MS,
      silenceBridgeMs: config.SILENCE_BRIDGE_MS,
    },
    logger: createLogger('eval', config.LOG_LEVEL),
  }).catch(async (err: unknown) => {
    await server?.close();
    throw err;
  });
  const database = server ? 'the PostgreSQL server' : 'the embedded TimescaleDB';
  try {
    process.stderr.write(
      `eval: ${layout.id}, ${new Date(fromMs).toISOString()} → ${new Date(toMs).toISOString()} on ${database}\n`,
    );
    const run = await runThroughPipeline({
      sim,
      system,
      toMs,
      onProgress: (simMs) =>
        process.stderr.write(
          `\r  simulated ${(((simMs - fromMs) / (toMs - fromMs)) * 100).toFixed(0).padStart(3)} %`,
        ),
    });
    process.stderr.write('\n');
    const truth = sim.truth();
    const estimates = await readEstimates(system.pool, layout.id, layout.timezone);
    const scoreFrom = fromMs + WARMUP_SCORE_SKIP_MS;
    const pseudonymOf = (mac: string) => pseudonymize(normalizeMac(mac) ?? mac, system.siteSecret);
    const metrics = scoreEstimates(layout, truth, estimates, scoreFrom, toMs, pseudonymOf);

    const outDir = resolve(config.OUT_DIR);
    mkdirSync(outDir, { recursive: true });
    const plot = totalsPerMinute(layout, truth, estimates, scoreFrom, toMs);
    writeFileSync(
      join(outDir, 'occupancy.svg'),
      occupancyPlotSvg(plot, `${layout.name}: persons in the mall per minute`, layout.timezone),
    );
    const persons = new Set(truth.visits.map((v) => v.person)).size;
    const report = markdownReport(
      {
        layoutId: layout.id,
        seed: config.SIM_SEED,
        fromIso: new Date(scoreFrom).toISOString(),
        toIso: new Date(toMs).toISOString(),
        readings: run.readings,
        persons,
        database,
        wallSeconds: (performance.now() - started) / 1000,
      },
      metrics,
      'occupancy.svg',
    );
    writeFileSync(join(outDir, 'eval.md'), report);
    writeFileSync(join(outDir, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    writeTruthFiles(
      join(outDir, 'truth'),
      truth,
      layout.zones.map((z) => z.id),
    );
    process.stdout.write(`${metricsTable(metrics)}\n\nreport: ${join(outDir, 'eval.md')}\n`);
    return EXIT_OK;
  } finally {
    await system.close();
    await server?.close();
  }
}
