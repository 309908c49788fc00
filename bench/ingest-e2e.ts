import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mqtt from 'mqtt';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { insertSightings, toSightingColumns } from '../analytics/src/sql/insert-sightings.ts';
import type { Layout } from '../core/src/layout.ts';
import type { WifiReading } from '../core/src/messages.ts';
import { gatewayTopic } from '../core/src/topics.ts';
import { startTestSystem } from '../testkit/src/test-system.ts';
import { chunk, fmt, makeReadings } from './fixtures.ts';

// End-to-end ingest: gateways publish pre-built batches (QoS 1) to a real Aedes, the analytics
// worker validates and commits them; measured from the first publish to the last committed row.
// Baseline, same run and same database: the same rows written directly by one writer with no
// broker or validation: a raw COPY in 5,000-row statements on the PostgreSQL server (the issue's
// yardstick), and on the embedded database, whose socket server cannot carry COPY, the same
// rows as multi-row unnest INSERTs in 5,000-row transactions.

const BATCH_READINGS = 500;
const SIGHTING_COLUMNS =
  'time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized, frame_seq, ie_fingerprint';
const RAW_BATCH_ROWS = 5_000;
const GATEWAYS = 4;
const MAX_IN_FLIGHT_PER_GATEWAY = 16;

export interface IngestResult {
  rows: number;
  e2eRowsPerSec: number;
  rawRowsPerSec: number;
  ratio: number;
  method: RawMethod;
  messagesPerSec: number;
  readingsPerMessage: number;
}

export type RawMethod = 'copy' | 'insert';

/** One COPY text line per reading (tab-separated, `\N` for NULL). */
function copyLines(mallId: string, part: readonly WifiReading[]): string {
  let text = '';
  for (const r of part) {
    text += `${new Date(r.heardAt).toISOString()}\t${mallId}\traw\t${r.sensorId}\twifi\t${r.device}\t${r.rssiDbm}\t${r.randomized ? 't' : 'f'}\t\\N\t\\N\n`;
  }
  return text;
}

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
        const copy = client.query(copyFrom(`COPY sightings (${SIGHTING_COLUMNS}) FROM STDIN`));
        await pipeline(Readable.from([copyLines(mallId, part)]), copy);
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
  const readings = makeReadings(
    rows,
    layout.sensors.map((s) => s.id),
  );
  // Warm the database (and, embedded, the WASM heap) so neither measured run pays for it alone.
  await rawWrite(pool, layout.id, readings.slice(0, Math.min(rows, 20_000)), method);
  const rawRowsPerSec = await rawWrite(pool, layout.id, readings, method);
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
    method,
    messagesPerSec: batches.length / seconds,
    readingsPerMessage: BATCH_READINGS,
  };
}

export function printIngest(label: string, r: IngestResult): void {
  console.log(
    `ingest ${label.padEnd(9)} rows=${fmt(r.rows)}  end-to-end=${fmt(r.e2eRowsPerSec)} rows/s ` +
      `(${fmt(r.messagesPerSec)} msg/s × ${r.readingsPerMessage} readings)  ` +
      `raw ${r.method === 'copy' ? 'COPY' : 'insert (no COPY over pglite-socket)'}=${fmt(r.rawRowsPerSec)} rows/s  ` +
      `ratio=${r.ratio.toFixed(2)}${r.method === 'copy' ? ' (target 0.5)' : ''}`,
  );
}
