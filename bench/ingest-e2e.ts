import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { z } from 'zod';
import { AnalyticsConfig, OCCUPANCY_KEYS, occupancyOptionsFrom } from '../analytics/src/config.ts';
import { copySightings, sightingCopyLines } from '../analytics/src/sql/copy-sightings.ts';
import { insertSightings, toSightingColumns } from '../analytics/src/sql/insert-sightings.ts';
import type { Layout } from '../core/src/layout.ts';
import type { WifiReading } from '../core/src/messages.ts';
import { createOccupancyState, quietGapMs } from '../core/src/occupancy.ts';
import { gatewayTopic } from '../core/src/topics.ts';
import { startTestSystem } from '../testkit/src/test-system.ts';
import { chunk, fmt } from './fixtures.ts';
import type { PublisherJob } from './gateway-publisher.ts';
import { makeMallReadings } from './mall-readings.ts';

// End-to-end ingest: one gateway per floor publishes a simulated busy mall's readings in batches
// (QoS 1, 16 in flight, as the gateway's outbox sends; from a process of their own,
// `gateway-publisher.ts`, as gateways are other machines) to a real Aedes; the analytics worker,
// with the production settings, validates, commits, places each burst and sessionizes. Measured
// from the first publish until every reading is committed AND every zone stay, visit and minute
// they make is written: after the last batch, the gateways' heartbeats move the mall's clock past
// the end of every visit, so the session output of the readings is inside the measured time.
//
// The readings are the simulator's (`mall-readings.ts`): bursts heard by the nearby sensors,
// shoppers dwelling and walking the layout. The earlier synthetic fixture (each reading its own
// burst, a device hopping to an unrelated sensor every 74 s, a randomized flag per reading) cost
// the zone estimator ~10× a real burst and made ~0.24 zone stays per reading; a mall makes far fewer.
// The run is time-compressed (~6.5 minutes of ~1,200 phones in seconds) as any throughput test
// is; per reading the work is the mall's or more: every phone is new to the worker and its whole
// visit is closed after ~170 readings (a phone gives ~1,700 in an hour's visit), so there is more
// device setup, linking and session output per reading than in a day's run (~0.05 stays and
// visits per reading here; ~0.005 over a day), not less; a busier mall writes fewer minute rows
// per reading, not more. BENCH_SHOPPERS sets the shoppers inside at the start (default 1,000;
// 5,000 gives ~0.17 stays and visits per reading).
//
// Baseline, same run and same database: the same rows written directly by one writer with no
// broker, validation or analytics: a raw COPY in 5,000-row statements on the PostgreSQL server
// (the yardstick), and on the embedded database, whose socket server cannot carry COPY,
// the same rows as multi-row unnest INSERTs in 5,000-row transactions. Each backend runs PAIRS
// pairs (raw, then end to end, on emptied tables); the figures printed are the median pair's.

const BATCH_READINGS = 500;
const RAW_BATCH_ROWS = 5_000;
const MAX_IN_FLIGHT_PER_GATEWAY = 16;
/** Shoppers inside at the start (the simulator adds its arrivals, passers-by and staff). */
const SHOPPERS = Number(process.env.BENCH_SHOPPERS ?? 1_000);
/** Past the silence after which the engine has closed every visit (`quietGapMs`): a margin. */
const SESSION_CLOSE_MARGIN_MS = 60_000;
/** The worker's defaults (`mallflow analytics` with no settings). */
const PRODUCTION_OCCUPANCY = occupancyOptionsFrom(z.object(OCCUPANCY_KEYS).parse({}));
const PRODUCTION_LIVE_INTERVAL_MS = AnalyticsConfig.shape.LIVE_INTERVAL_MS.parse(undefined);

/** Pairs of runs (raw, then end to end) per backend: the ratio is the median of their ratios. */
const PAIRS = 3;

export interface IngestResult {
  rows: number;
  devices: number;
  /** Readings committed and their stays, visits and minutes written (the median pair's). */
  e2eRowsPerSec: number;
  /** Readings committed (the stays and visits of the last ones still open). */
  committedRowsPerSec: number;
  rawRowsPerSec: number;
  /** Median of the pairs' ratios; every pair's ratio in run order. */
  ratio: number;
  ratios: number[];
  method: RawMethod;
  messagesPerSec: number;
  readingsPerMessage: number;
  stays: number;
  visits: number;
  /** Event time the readings span. */
  eventMinutes: number;
}

export type RawMethod = 'copy' | 'insert';

async function rawWrite(
  pool: pg.Pool,
  mallId: string,
  readings: readonly WifiReading[],
  method: RawMethod,
): Promise<number> {
  await pool.query('TRUNCATE sightings, ingested_batches');
  const started = performance.now();
  for (const part of chunk(readings, RAW_BATCH_ROWS)) {
    const client = await pool.connect();
    try {
      if (method === 'copy') {
        await copySightings(client, [sightingCopyLines(mallId, 'raw', 'wifi', part)]);
      } else {
        await client.query('BEGIN');
        await insertSightings(client, mallId, 'raw', 'wifi', toSightingColumns(part));
        await client.query('COMMIT');
      }
    } finally {
      client.release();
    }
  }
  return readings.length / ((performance.now() - started) / 1000);
}

export async function benchIngest(
  pool: pg.Pool,
  layout: Layout,
  rows: number,
  method: RawMethod,
): Promise<IngestResult> {
  const made = makeMallReadings(layout, rows, SHOPPERS);
  const readings = [...made.byGateway.values()].flat();
  // Warm the database (and, embedded, the WASM heap) so neither measured run pays for it alone.
  await rawWrite(pool, layout.id, readings.slice(0, Math.min(rows, 20_000)), method);
  // This machine shares its host: a single pair's ratio moves by ±0.08 from run to run.
  const pairs: IngestResult[] = [];
  for (let i = 0; i < PAIRS; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const rawRowsPerSec = await rawWrite(pool, layout.id, readings, method);
    await pool.query('TRUNCATE sightings, ingested_batches');
    (globalThis as { gc?: () => void }).gc?.();
    pairs.push(await endToEnd(pool, layout, rows, method, made, rawRowsPerSec));
  }
  const ratios = pairs.map((p) => p.ratio);
  const median = [...pairs].sort((a, b) => a.ratio - b.ratio)[PAIRS >> 1]!;
  return { ...median, ratios };
}

async function endToEnd(
  pool: pg.Pool,
  layout: Layout,
  rows: number,
  method: RawMethod,
  { byGateway, lastHeardAtMs, devices, eventMinutes }: ReturnType<typeof makeMallReadings>,
  rawRowsPerSec: number,
): Promise<IngestResult> {
  const system = await startTestSystem({
    layout,
    pool,
    occupancy: PRODUCTION_OCCUPANCY,
    liveIntervalMs: PRODUCTION_LIVE_INTERVAL_MS,
  });
  const { broker, analytics } = system;
  // Every stay and visit these readings make is part of the work: after the last batch, each
  // gateway's heartbeat moves the mall's clock on until all of them have ended and been written.
  const heartbeatAtMs =
    lastHeardAtMs + quietGapMs(createOccupancyState(PRODUCTION_OCCUPANCY, layout)) + SESSION_CLOSE_MARGIN_MS;
  const dir = mkdtempSync(join(tmpdir(), 'mallflow-bench-'));
  let messages = 0;
  const job: PublisherJob = {
    brokerUrl: broker.url,
    maxInFlight: MAX_IN_FLIGHT_PER_GATEWAY,
    gateways: await Promise.all(
      [...byGateway.entries()].map(async ([gw, mine]) => {
        const payloads = chunk(mine, BATCH_READINGS).map((b, i) =>
          JSON.stringify({ v: 1, gw, seq: i + 1, sentAt: Date.now(), readings: b }),
        );
        messages += payloads.length;
        const payloadsFile = join(dir, `${gw}.json`);
        writeFileSync(payloadsFile, JSON.stringify(payloads));
        const login = await broker.addGateway(layout.id, gw);
        return {
          username: login.username,
          password: login.password,
          topic: gatewayTopic(layout.id, gw, 'wifi'),
          statusTopic: gatewayTopic(layout.id, gw, 'status'),
          status: JSON.stringify({ v: 1, gw, state: 'online', at: heartbeatAtMs }),
          payloadsFile,
        };
      }),
    ),
  };
  const publisher = fork(fileURLToPath(new URL('./gateway-publisher.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
  });
  const exited = new Promise<number | null>((resolve) => publisher.once('exit', resolve));
  const nextMessage = () =>
    Promise.race([
      new Promise((resolve) => publisher.once('message', resolve)),
      exited.then((code) => {
        throw new Error(`the gateway publisher exited (${code})`);
      }),
    ]);
  publisher.send(job);
  await nextMessage(); // 'ready': connected, payloads loaded

  const started = performance.now();
  publisher.send('go');
  await nextMessage(); // 'done': every batch and heartbeat acknowledged
  while (analytics.stats().readings < rows) {
    system.assertHealthy();
    await new Promise((r) => setTimeout(r, 5));
  }
  const committedSec = (performance.now() - started) / 1000;
  while ((analytics.eventTimeMs(layout.id) ?? 0) < heartbeatAtMs) {
    system.assertHealthy();
    await new Promise((r) => setTimeout(r, 5));
  }
  // Stopping, the worker writes its last tick at once: the stays, visits and minutes the
  // heartbeats closed (rather than waiting up to a tick interval for the next one).
  await analytics.close();
  system.assertHealthy();
  const seconds = (performance.now() - started) / 1000;
  const stored = Number((await pool.query('SELECT count(*) AS n FROM sightings')).rows[0].n);
  if (stored !== rows) throw new Error(`expected ${rows} rows, found ${stored}`);
  const stats = analytics.stats();

  await exited;
  rmSync(dir, { recursive: true, force: true });
  await system.close();
  await pool.query(
    'TRUNCATE sightings, ingested_batches, occupancy_minute, occupancy_live, zone_stays, visits, device_first_seen, engine_checkpoints',
  );
  const e2eRowsPerSec = rows / seconds;
  return {
    rows,
    devices,
    e2eRowsPerSec,
    committedRowsPerSec: rows / committedSec,
    rawRowsPerSec,
    ratio: e2eRowsPerSec / rawRowsPerSec,
    ratios: [e2eRowsPerSec / rawRowsPerSec],
    method,
    messagesPerSec: messages / seconds,
    readingsPerMessage: BATCH_READINGS,
    stays: stats.staysWritten,
    visits: stats.visitsWritten,
    eventMinutes,
  };
}

export function printIngest(label: string, r: IngestResult): void {
  console.log(
    `ingest ${label.padEnd(9)} rows=${fmt(r.rows)} from ${fmt(r.devices)} devices over ${r.eventMinutes.toFixed(1)} min  ` +
      `end-to-end=${fmt(r.e2eRowsPerSec)} rows/s (${fmt(r.messagesPerSec)} msg/s × ${r.readingsPerMessage} readings; ` +
      `${fmt(r.stays)} zone stays, ${fmt(r.visits)} visits written; committed alone ${fmt(r.committedRowsPerSec)} rows/s)  ` +
      `raw ${r.method === 'copy' ? 'COPY' : 'insert (no COPY over pglite-socket)'}=${fmt(r.rawRowsPerSec)} rows/s  ` +
      `ratio=${r.ratio.toFixed(2)}${r.method === 'copy' ? ' (target 0.5)' : ''}, median of ${r.ratios.length} pairs: ${r.ratios.map((x) => x.toFixed(2)).join(' ')}`,
  );
}
