import type pg from 'pg';
import type { Logger } from 'pino';
import type { Layout } from '../../core/src/layout.ts';
import type { OccupancyOptions } from '../../core/src/occupancy.ts';
import { storeZoneIds } from '../../core/src/path-zones.ts';
import type { StaffRule } from '../../core/src/staff-rule.ts';
import { gatewayFilter } from '../../core/src/topics.ts';
import { visitorRuleWith } from '../../core/src/visitor-rule.ts';
import { isRetryablePgError } from '../../infra/src/pg-pool.ts';
import { createMqttSource, type MqttSource } from './adapters/mqtt-source.ts';
import { createIngest, type IngestStats } from './ingest.ts';
import { autovacuumRuns, runMaintenance, schemaUsesTimescale } from './maintenance.ts';
import { withRetry } from './retry.ts';
import { detectSightingsWrite } from './sql/copy-sightings.ts';
import { recordVisitorRule } from './sql/engine-settings.ts';

// The analytics worker: MQTT source → ingest → database, plus a live ticker that writes closed
// minutes and the live occupancy snapshot, and a summary log line every SUMMARY_INTERVAL_MS.
// States: starting → running → stopping (database errors no longer retried; source closed, the
// message in hand done with, last tick written if the database allows) → stopped.

const SUMMARY_INTERVAL_MS = 10_000;

export interface AnalyticsOptions {
  pool: pg.Pool;
  layouts: readonly Layout[];
  mqtt: {
    url: string;
    username: string;
    password: string;
    clientId: string;
    /** MQTT keepalive of the source; default 60 s. */
    keepaliveSec?: number | undefined;
  };
  occupancy: OccupancyOptions;
  liveIntervalMs: number;
  /** Wall time between engine checkpoints (0: only at shutdown); default 60 s. */
  checkpointIntervalMs?: number | undefined;
  /** Storage maintenance on a timer (rollups, compression, retention); absent or 0 ms = off. */
  maintenance?:
    | { intervalMs: number; rawRetentionDays: number; compressAfterDays: number; staffRule?: StaffRule }
    | undefined;
  logger: Logger;
  /** Called once when the worker hits an error it cannot handle; the process should exit. */
  onFatal(err: unknown): void;
}

export interface Analytics {
  stats(): IngestStats;
  /** The newest event time taken in for a mall: readings and gateway heartbeats. */
  eventTimeMs(mallId: string): number | undefined;
  close(): Promise<void>;
}

export async function createAnalytics(options: AnalyticsOptions): Promise<Analytics> {
  const log = options.logger;
  let stopping = false;
  const sightingsWrite = await detectSightingsWrite(options.pool);
  const timescale = await schemaUsesTimescale(options.pool);
  log.info(
    { timescale, sightingsWrite },
    `storage: ${timescale ? 'TimescaleDB (hypertables, continuous aggregates)' : 'plain PostgreSQL (no TimescaleDB: same tables, rollups filled by maintenance)'}; ` +
      (sightingsWrite === 'copy'
        ? 'sightings written with COPY'
        : 'sightings written with multi-row inserts (the embedded database cannot carry COPY)'),
  );
  const ingest = createIngest({
    sightingsWrite,
    pool: options.pool,
    layouts: options.layouts,
    occupancy: options.occupancy,
    logger: log,
    isStopping: () => stopping,
    checkpointIntervalMs: options.checkpointIntervalMs,
    onFatal(err) {
      // Closing, the worker gives up on the database (see close): what it held stays
      // unacknowledged and the broker redelivers it. Not a failure.
      if (stopping) log.warn({ err }, 'messages left unacknowledged at shutdown; the broker keeps them');
      else options.onFatal(err);
    },
  });

  await withRetry(
    () =>
      recordVisitorRule(
        options.pool,
        options.layouts.map((l) => l.id),
        visitorRuleWith(options.occupancy.visitor),
      ),
    { what: 'record engine settings', log, isStopping: () => stopping },
  );

  // Before any message: open visits continue where the last worker left them.
  await ingest.restore();

  let ticking: Promise<void> | undefined;
  const runTick = () => {
    if (ticking) return; // the previous tick is still writing: skip, never overlap
    ticking = ingest
      .tick(Date.now())
      .catch((err: unknown) => {
        // Stopping, a database error ends the tick's retries (see close): not a failure.
        if (!stopping) options.onFatal(err);
      })
      .finally(() => {
        ticking = undefined;
      });
  };
  const ticker = setInterval(runTick, options.liveIntervalMs);

  const maintenanceOptions = options.maintenance;
  let maintaining: Promise<void> | undefined;
  let maintenanceTimer: NodeJS.Timeout | undefined;
  if (maintenanceOptions && maintenanceOptions.intervalMs > 0) {
    const kpiMalls = {
      timeZoneByMall: new Map(options.layouts.map((l) => [l.id, l.timezone])),
      storeZonesByMall: new Map(options.layouts.map((l) => [l.id, storeZoneIds(l)])),
    };
    // Without autovacuum (the embedded database never has it) statistics are maintenance's job.
    const analyze = !(await autovacuumRuns(options.pool));
    const runMaintenanceOnce = () => {
      if (maintaining || stopping) return;
      const startedMs = Date.now();
      maintaining = runMaintenance(
        options.pool,
        { timescale, analyze, kpiMalls, dailyRollupMalls: kpiMalls.timeZoneByMall, ...maintenanceOptions },
        startedMs,
      )
        .then((result) => log.info({ ...result, tookMs: Date.now() - startedMs }, 'storage maintenance done'))
        .catch((err: unknown) => {
          // Maintenance can wait for its next turn; ingest must not stop for it.
          if (isRetryablePgError(err))
            log.warn({ err }, 'storage maintenance failed; retrying next interval');
          else log.error({ err }, 'storage maintenance failed');
        })
        .finally(() => {
          maintaining = undefined;
        });
    };
    maintenanceTimer = setInterval(runMaintenanceOnce, maintenanceOptions.intervalMs);
    setImmediate(runMaintenanceOnce);
  }
  let previous = ingest.stats();
  const summary = setInterval(() => {
    const now = ingest.stats();
    log.info(
      {
        received: now.messages - previous.messages,
        written: now.readings - previous.readings,
        duplicates: now.duplicates - previous.duplicates,
        invalid: now.deadLetters - previous.deadLetters,
        late: now.lateReadings - previous.lateReadings,
        dbRetries: now.dbRetries - previous.dbRetries,
        lagMs: now.lagMsMax,
      },
      'ingest summary',
    );
    previous = now;
    ingest.resetWindow();
  }, SUMMARY_INTERVAL_MS);
  summary.unref();

  let source: MqttSource;
  try {
    source = await createMqttSource({
      ...options.mqtt,
      filters: [gatewayFilter()],
      logger: log,
      onMessage: (topic, payload, ack) => ingest.handle(topic, payload, ack),
      onFatal: options.onFatal,
    });
  } catch (err) {
    clearInterval(ticker);
    clearInterval(summary);
    throw err;
  }

  return {
    stats: () => ingest.stats(),
    eventTimeMs(mallId) {
      const mall = ingest.malls.get(mallId);
      return mall && Math.max(mall.occupancy.newestMs, mall.heartbeatAtMs);
    },
    async close() {
      if (stopping) return;
      // From here a database error ends a wait instead of being retried: a shutdown while the
      // database is away returns promptly. The message in hand stays unacknowledged (the broker
      // redelivers it), and the last tick is skipped.
      stopping = true;
      clearInterval(ticker);
      clearInterval(maintenanceTimer);
      await source.close(() => ingest.drain()); // commits and acknowledges what it holds
      await maintaining;
      await ticking;
      await ingest.tick(Date.now(), { checkpoint: true }).catch((err: unknown) => {
        if (!isRetryablePgError(err)) throw err;
        log.warn({ err }, 'database unavailable at shutdown: the last live tick is not written');
      });
      clearInterval(summary);
      log.info(ingest.stats(), 'analytics stopped');
    },
  };
}
