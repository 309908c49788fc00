import type pg from 'pg';
import { closeMinutes, type MinuteRow, type OccupancyOptions } from '../../core/src/occupancy.ts';
import { SnapshotFormatError, SnapshotMismatchError } from '../../core/src/occupancy-snapshot.ts';
import { drainClosed, type Visit, type ZoneStay } from '../../core/src/sessions.ts';
import { loadCheckpoint } from './checkpoints.ts';
import type { MallState } from './mall-state.ts';
import { addStoredSightings, newestWifiSightingMs, readWifiSightings } from './sql/read-sightings.ts';

// A worker starting up: each mall's engine comes back from its checkpoint (checkpoints.ts), then
// the WiFi sightings stored from the checkpoint's watermark on are replayed into it in time order,
// a window at a time. Minutes are closed only once the replay has passed the newest event time the
// checkpointed engine had seen: before that, closing would move the watermark past sightings still
// to be replayed and make them late. What the replay closes is written like a tick's output.

const REPLAY_WINDOW_MS = 60_000;

export type RestoreSummary =
  | {
      mallId: string;
      restored: true;
      checkpointBytes: number;
      fromMs: number;
      replayedSightings: number;
      openVisits: number;
    }
  | {
      mallId: string;
      restored: false;
      reason: 'none' | 'layout changed' | 'old format' | 'unreadable';
      detail?: string;
    };

export async function restoreMall(
  pool: pg.Pool,
  mall: MallState,
  options: OccupancyOptions,
  write: (rows: MinuteRow[], closed: { stays: ZoneStay[]; visits: Visit[] }) => Promise<void>,
): Promise<RestoreSummary> {
  const { mallId } = mall;
  let loaded: Awaited<ReturnType<typeof loadCheckpoint>>;
  try {
    loaded = await loadCheckpoint(pool, mallId, options, mall.layout);
  } catch (err) {
    if (err instanceof SnapshotFormatError) {
      return { mallId, restored: false, reason: 'old format', detail: err.message };
    }
    if (err instanceof SnapshotMismatchError) {
      return { mallId, restored: false, reason: 'layout changed', detail: err.message };
    }
    if (err instanceof SyntaxError || (err as { code?: string }).code === 'Z_DATA_ERROR') {
      return { mallId, restored: false, reason: 'unreadable', detail: String(err) };
    }
    throw err;
  }
  if (loaded === undefined) return { mallId, restored: false, reason: 'none' };
  const state = loaded.state;
  const fromMs = state.appliedToMs;
  let replayed = 0;
  const newestMs = await newestWifiSightingMs(pool, mallId, fromMs);
  for (let t = fromMs; newestMs !== undefined && t <= newestMs; t += REPLAY_WINDOW_MS) {
    const s = await readWifiSightings(pool, mallId, t, t + REPLAY_WINDOW_MS);
    replayed += addStoredSightings(state, s, mall.sensorZone);
    if (t + REPLAY_WINDOW_MS > loaded.snapshotNewestMs) {
      const rows = closeMinutes(state, mall.zoneIds);
      await write(rows, drainClosed(state.sessions));
    }
  }
  mall.occupancy = state;
  return {
    mallId,
    restored: true,
    checkpointBytes: loaded.bytes,
    fromMs,
    replayedSightings: replayed,
    openVisits: state.sessions.open,
  };
}
