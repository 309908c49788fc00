import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { BleReading, WifiReading } from '../../../core/src/messages.ts';

// Sightings by COPY: on a PostgreSQL server ~1.5× a multi-row insert (shared/FACTS.md), and the
// ingest's largest write. Not on the embedded database: pglite-socket 0.0.22 drops the connection
// on COPY and serves no one after it (measured), so a trial COPY would take the database down.
// Whether the server is PGlite is read from the server itself (`version()` names its Emscripten
// build), never assumed from the URL.

export const COPY_SIGHTINGS_SQL =
  'COPY sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized, frame_seq, ie_fingerprint) FROM STDIN';

/** How the ingest writes sightings on this database. */
export type SightingsWrite = 'copy' | 'unnest';

export async function detectSightingsWrite(pool: pg.Pool): Promise<SightingsWrite> {
  const r = await pool.query<{ version: string }>('SELECT version()');
  return /emscripten/i.test(r.rows[0]?.version ?? '') ? 'unnest' : 'copy';
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** A text value in COPY's text format (ids and pseudonyms never need it: their schemas forbid it). */
function field(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** ISO 8601 UTC text of an epoch ms; readings come in time order, so a second's prefix is reused. */
function createTimeFormatter(): (ms: number) => string {
  let second = Number.NaN;
  let prefix = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      prefix = new Date(s * 1000).toISOString().slice(0, 20); // 2026-11-21T07:00:05.
    }
    const milli = ms - s * 1000;
    return `${prefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  };
}

/** COPY text lines (tab-separated, `\N` for NULL) for one gateway stream's readings. */
export function sightingCopyLines(
  mallId: string,
  gatewayId: string,
  kind: 'wifi' | 'ble',
  readings: readonly (WifiReading | BleReading)[],
): string {
  const head = `\t${field(mallId)}\t${field(gatewayId)}\t`;
  const kindField = `\t${kind}\t`;
  const time = createTimeFormatter();
  let text = '';
  for (const r of readings) {
    const q = 'frameSeq' in r && r.frameSeq !== undefined ? String(r.frameSeq) : '\\N';
    const f = 'ieFingerprint' in r && r.ieFingerprint !== undefined ? field(r.ieFingerprint) : '\\N';
    text += `${time(r.heardAt)}${head}${field(r.sensorId)}${kindField}${field(r.device)}\t${r.rssiDbm}\t${r.randomized ? 't' : 'f'}\t${q}\t${f}\n`;
  }
  return text;
}

/** Runs one COPY of the given text chunks on the client (inside the caller's transaction). */
export async function copySightings(client: pg.ClientBase, chunks: readonly string[]): Promise<void> {
  await pipeline(Readable.from(chunks), client.query(copyFrom(COPY_SIGHTINGS_SQL)));
}
