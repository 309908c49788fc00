import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type pg from 'pg';
import type { Layout } from '../../core/src/layout.ts';
import type { OccupancyOptions, OccupancyState } from '../../core/src/occupancy.ts';
import {
  decodeSnapshot,
  encodeSnapshot,
  type OccupancySnapshot,
  restoreOccupancy,
  SNAPSHOT_FORMAT,
  snapshotOccupancy,
} from '../../core/src/occupancy-snapshot.ts';

// Checkpoints of the live engine (engine_checkpoints, migration 0011), so a restarted worker
// continues open visits and zone stays instead of splitting them.
//
// Taken right after a tick has drained the engine's closed minutes, stays and visits (so the state
// has emitted exactly what the tick writes), and saved after those rows. Pending sightings (newer
// than the watermark) are left out: they are committed already, and on restart every stored WiFi
// sighting from the watermark on is replayed into the restored state (restore.ts). A crash after
// the rows but before the checkpoint replays from the previous checkpoint and writes the same rows
// again (idempotent upserts). Not covered: a reading that arrived behind the watermark after the
// checkpoint was taken (rare; stored, so `mallflow recompute` counts it).

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface Checkpoint {
  mallId: string;
  appliedToMs: number;
  /** Gzipped JSON of the snapshot. */
  bytes: Buffer;
}

/** The state's checkpoint, taken now (synchronously: the state may change right after). */
export function takeCheckpoint(
  mallId: string,
  state: OccupancyState,
): { mallId: string; text: string; appliedToMs: number } {
  const snapshot: OccupancySnapshot = { ...snapshotOccupancy(state), pending: [], pendingSorted: true };
  return { mallId, text: encodeSnapshot(snapshot), appliedToMs: state.appliedToMs };
}

/** Compresses and stores a checkpoint (replacing the mall's previous one); returns its size in bytes. */
export async function saveCheckpoint(
  client: pg.ClientBase | pg.Pool,
  taken: ReturnType<typeof takeCheckpoint>,
): Promise<number> {
  const bytes = await gzipAsync(taken.text);
  await client.query({
    name: 'save-checkpoint',
    text: `INSERT INTO engine_checkpoints (mall_id, format, applied_to, taken_at, bytes, state)
           VALUES ($1, $2, to_timestamp($3::float8 / 1000), now(), $4, $5)
           ON CONFLICT (mall_id) DO UPDATE SET format = EXCLUDED.format, applied_to = EXCLUDED.applied_to,
             taken_at = EXCLUDED.taken_at, bytes = EXCLUDED.bytes, state = EXCLUDED.state`,
    values: [taken.mallId, SNAPSHOT_FORMAT, taken.appliedToMs, bytes.length, bytes],
  });
  return bytes.length;
}

/** The mall's stored checkpoint, decoded and restored onto `layout`, or undefined when it has none. */
export async function loadCheckpoint(
  client: pg.ClientBase | pg.Pool,
  mallId: string,
  options: OccupancyOptions,
  layout: Layout,
): Promise<{ state: OccupancyState; snapshotNewestMs: number; bytes: number } | undefined> {
  const result = await client.query<{ state: Buffer }>({
    name: 'load-checkpoint',
    text: 'SELECT state FROM engine_checkpoints WHERE mall_id = $1',
    values: [mallId],
  });
  const row = result.rows[0];
  if (row === undefined) return undefined;
  const snapshot = decodeSnapshot((await gunzipAsync(row.state)).toString('utf8'));
  return {
    state: restoreOccupancy(snapshot, options, layout),
    snapshotNewestMs: snapshot.newestMs,
    bytes: row.state.length,
  };
}
