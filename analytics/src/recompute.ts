import type pg from 'pg';
import type { Logger } from 'pino';
import type { Layout } from '../../core/src/layout.ts';
import {
  advanceClock,
  closeMinutes,
  createOccupancyState,
  type OccupancyOptions,
  quietGapMs,
  visitLeadMs,
} from '../../core/src/occupancy.ts';
import { storeZoneIds } from '../../core/src/path-zones.ts';
import { drainClosed } from '../../core/src/sessions.ts';
import { visitorRuleWith } from '../../core/src/visitor-rule.ts';
import { rewindDailyRollups } from './sql/daily-rollups.ts';
import { countDerived, type DerivedCounts, deleteDerived, refreshFirstSeen } from './sql/derived-rows.ts';
import { writeEngineOutput } from './sql/engine-output.ts';
import { addStoredSightings, readWifiSightings } from './sql/read-sightings.ts';
import { rebuildZoneTransitions } from './sql/rebuild-zone-transitions.ts';
import { refreshDailyKpis } from './sql/refresh-daily-kpis.ts';
import { sightingSpan, stretchStartAtOrAfter, stretchStartAtOrBefore } from './sql/stretches.ts';

// `mallflow recompute`: the stored raw WiFi sightings of a mall run again through the same engine
// the live worker runs, and what it derives (visits, zone stays, minute rows, the first-seen
// registry, the daily KPI rollup) replaces what is stored for that range; the daily occupancy
// rollups of those days are redone by the next maintenance run.
//
// Live equals replay. The engine's output between two silences of quietGapMs depends only on the
// sightings between them (see quietGapMs), so the range asked for is widened to whole stretches:
// from the stretch start at or before `from` to the next stretch start at or after `to`. A fresh
// engine run over it gives exactly what the live worker gave with the same settings, and a changed
// setting (the visitor rule, say) changes that history accordingly. The stretch the live worker is
// still in (sightings within quietGapMs of now) is refused: the worker's open visits are its own.
//
// Everything is one transaction: a failure, or --dry-run, leaves the stored rows as they were.

const REPLAY_WINDOW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
/** The latest time a Date holds: "no end". */
const END_OF_TIME_MS = 8.64e15;
const floorToMinute = (ms: number) => ms - (((ms % 60_000) + 60_000) % 60_000);

export class RecomputeRangeError extends Error {
  readonly code = 'RECOMPUTE_RANGE';
}

export interface RecomputeResult {
  mallId: string;
  asked: { fromMs: number; toMs: number };
  /** The whole stretches recomputed: [fromMs, toMs). */
  recomputed: { fromMs: number; toMs: number } | undefined;
  sightings: number;
  before: DerivedCounts | undefined;
  after: DerivedCounts | undefined;
  kpiDays: number;
  dryRun: boolean;
}

export async function recompute(
  pool: pg.Pool,
  layout: Layout,
  options: OccupancyOptions,
  asked: { fromMs: number; toMs: number },
  run: { nowMs: number; dryRun: boolean; log: Logger },
): Promise<RecomputeResult> {
  const mallId = layout.id;
  const result: RecomputeResult = {
    mallId,
    asked,
    recomputed: undefined,
    sightings: 0,
    before: undefined,
    after: undefined,
    kpiDays: 0,
    dryRun: run.dryRun,
  };
  if (!(asked.fromMs < asked.toMs)) throw new RecomputeRangeError('--from must be before --to');
  const state = createOccupancyState(options, layout);
  const gapMs = quietGapMs(state);
  const span = await sightingSpan(pool, mallId);
  if (span === undefined || span.firstMs >= asked.toMs || span.lastMs < asked.fromMs) {
    run.log.warn({ mallId }, 'no stored WiFi sightings in the range: nothing to recompute');
    return result;
  }
  const fromMs =
    (await stretchStartAtOrBefore(pool, mallId, asked.fromMs, gapMs, span)) ??
    (await stretchStartAtOrAfter(pool, mallId, asked.fromMs, gapMs, span))!;
  const nextStartMs = await stretchStartAtOrAfter(pool, mallId, asked.toMs, gapMs, span);
  if (nextStartMs === undefined && span.lastMs + gapMs > run.nowMs) {
    const liveFromMs = await stretchStartAtOrBefore(pool, mallId, span.lastMs, gapMs, span);
    throw new RecomputeRangeError(
      `the range reaches the stretch the live worker is still in (sightings since ${new Date(liveFromMs ?? span.lastMs).toISOString()}, the newest at ${new Date(span.lastMs).toISOString()}, less than ${Math.round(gapMs / 60_000)} quiet minutes before now): recompute up to its start, or once it is over`,
    );
  }
  const toMs = nextStartMs ?? span.lastMs + 1;
  // What the stretches derived: minute rows from the minute of their first sighting (as the
  // engine's start) to that of the next stretch's first sighting; visits and stays start inside,
  // or up to the engine's lead before (the walk in before a first sighting).
  const rowsFromMs = floorToMinute(fromMs);
  const rowsToMs = nextStartMs === undefined ? END_OF_TIME_MS : floorToMinute(nextStartMs);
  result.recomputed = { fromMs, toMs };
  if (span.firstMs === fromMs) {
    run.log.warn(
      { mallId, from: new Date(fromMs).toISOString() },
      'starts at the oldest stored sighting: raw readings before it are gone (retention), so the history before it stays as it was',
    );
  }

  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const leadMs = visitLeadMs(state);
    result.before = await countDerived(client, mallId, rowsFromMs, rowsToMs, leadMs);
    const devices = new Set(await deleteDerived(client, mallId, rowsFromMs, rowsToMs, leadMs));
    const sensorZone = new Map(layout.sensors.map((x) => [x.id, x.zone]));
    const zoneIds = layout.zones.map((z) => z.id);
    for (let t = fromMs; t < toMs; t += REPLAY_WINDOW_MS) {
      const s = await readWifiSightings(client, mallId, t, Math.min(t + REPLAY_WINDOW_MS, toMs));
      result.sightings += addStoredSightings(state, s, sensorZone);
      await writeClosed(client, state, mallId, zoneIds, rowsToMs, devices);
    }
    // The stretch's end is a silence: everything closes, every minute becomes final.
    advanceClock(state, toMs + gapMs);
    await writeClosed(client, state, mallId, zoneIds, rowsToMs, devices);
    await refreshFirstSeen(client, mallId, [...devices]);
    // The local days the stretches touch, those that are over (the day of `fromMs` is redone whole).
    const kpiToMs = Math.min(run.nowMs, toMs + DAY_MS);
    const kpis = await refreshDailyKpis(
      client,
      fromMs,
      kpiToMs,
      new Map([[mallId, layout.timezone]]),
      new Map([[mallId, storeZoneIds(layout)]]),
    );
    result.kpiDays = kpis.days;
    await rewindDailyRollups(client, fromMs);
    // The hours of the visits deleted and written: all start before the next stretch.
    await rebuildZoneTransitions(client, mallId, layout.timezone, rowsFromMs - leadMs, toMs);
    result.after = await countDerived(client, mallId, rowsFromMs, rowsToMs, leadMs);
    await client.query(run.dryRun ? 'ROLLBACK' : 'COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      // The connection failed too: the transaction is gone with it, nothing was written.
    });
    throw err;
  } finally {
    client.release();
  }
  run.log.info(
    {
      ...result,
      visitorRule: visitorRuleWith(options.visitor),
      recomputed: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
    },
    run.dryRun ? 'recompute dry run: nothing written' : 'recomputed',
  );
  return result;
}

/** Closes what the engine can and writes it, minute rows of the next stretch left out. */
async function writeClosed(
  client: pg.ClientBase,
  state: ReturnType<typeof createOccupancyState>,
  mallId: string,
  zoneIds: readonly string[],
  rowsToMs: number,
  devices: Set<string>,
): Promise<void> {
  const rows = closeMinutes(state, zoneIds).filter((r) => r.bucketMs < rowsToMs);
  const closed = drainClosed(state.sessions);
  for (const v of closed.visits) devices.add(v.device);
  await writeEngineOutput(client, mallId, rows, closed);
}
