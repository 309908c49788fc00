import mqtt from 'mqtt';
import type pg from 'pg';
import { insertSightings, toSightingColumns } from '../analytics/src/sql/insert-sightings.ts';
import type { Layout } from '../core/src/layout.ts';
import { gatewayTopic } from '../core/src/topics.ts';
import { startTestSystem } from '../testkit/src/test-system.ts';
import { chunk, fmt, makeReadings } from './fixtures.ts';

// End-to-end ingest: gateways publish pre-built batches (QoS 1) to a real Aedes, the analytics
// worker validates and commits them; measured from the first publish to the last committed row.
// Baseline, same run and same database: the same rows inserted directly with the same SQL in
// large batches (what the database can take from one writer, with no broker or validation).

const BATCH_READINGS = 500;
const RAW_BATCH_ROWS = 5_000;
const GATEWAYS = 4;
const MAX_IN_FLIGHT_PER_GATEWAY = 16;

export interface IngestResult {
  rows: number;
  e2eRowsPerSec: number;
  rawRowsPerSec: number;
  ratio: number;
  messagesPerSec: number;
  readingsPerMessage: number;
}

async function rawInsert(
  pool: pg.Pool,
  mallId: string,
  readings: ReturnType<typeof makeReadings>,
): Promise<number> {
  await pool.query('TRUNCATE sightings, ingested_batches');
  const started = performance.now();
  for (const part of chunk(readings, RAW_BATCH_ROWS)) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await insertSightings(client, mallId, 'raw', 'wifi', toSightingColumns(part));
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }
  return readings.length / ((performance.now() - started) / 1000);
}

export async function benchIngest(pool: pg.Pool, layout: Layout, rows: number): Promise<IngestResult> {
  const readings = makeReadings(
    rows,
    layout.sensors.map((s) => s.id),
  );
  // Warm the database (and, embedded, the WASM heap) so neither measured run pays for it alone.
  await rawInsert(pool, layout.id, readings.slice(0, Math.min(rows, 20_000)));
  const rawRowsPerSec = await rawInsert(pool, layout.id, readings);
  await pool.query('TRUNCATE sightings, ingested_batches');

  const gatewayIds = Array.from({ length: GATEWAYS }, (_, i) => `gw-bench-${i}`);
  const system = await startTestSystem({ layout, pool });
  const { broker, analytics } = system;
  const clients = await Promise.all(
    gatewayIds.map(async (g) =>
      mqtt.connectAsync(broker.url, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...(await broker.addGateway(layout.id, g)),
      }),
    ),
  );
  const batches = chunk(readings, BATCH_READINGS);
  const payloads = batches.map((b, i) => {
    const gw = gatewayIds[i % GATEWAYS]!;
    return {
      gw,
      topic: gatewayTopic(layout.id, gw, 'wifi'),
      body: JSON.stringify({ v: 1, gw, seq: i + 1, sentAt: Date.now(), readings: b }),
    };
  });

  const started = performance.now();
  await Promise.all(
    clients.map(async (client, g) => {
      const mine = payloads.filter((p) => p.gw === gatewayIds[g]);
      const inFlight = new Set<Promise<unknown>>();
      for (const p of mine) {
        const sent = client.publishAsync(p.topic, p.body, { qos: 1 });
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
        if (inFlight.size >= MAX_IN_FLIGHT_PER_GATEWAY) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    }),
  );
  while (analytics.stats().readings < rows) {
    system.assertHealthy();
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  const stored = Number((await pool.query('SELECT count(*) AS n FROM sightings')).rows[0].n);
  if (stored !== rows) throw new Error(`expected ${rows} rows, found ${stored}`);

  await Promise.all(clients.map((c) => c.endAsync()));
  await system.close();
  await pool.query('TRUNCATE sightings, ingested_batches, occupancy_minute, occupancy_live');
  const e2eRowsPerSec = rows / seconds;
  return {
    rows,
    e2eRowsPerSec,
    rawRowsPerSec,
    ratio: e2eRowsPerSec / rawRowsPerSec,
    messagesPerSec: batches.length / seconds,
    readingsPerMessage: BATCH_READINGS,
  };
}

export function printIngest(label: string, r: IngestResult): void {
  console.log(
    `ingest ${label.padEnd(9)} rows=${fmt(r.rows)}  end-to-end=${fmt(r.e2eRowsPerSec)} rows/s ` +
      `(${fmt(r.messagesPerSec)} msg/s × ${r.readingsPerMessage} readings)  raw insert=${fmt(r.rawRowsPerSec)} rows/s  ` +
      `ratio=${r.ratio.toFixed(2)}`,
  );
}
