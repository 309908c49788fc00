import type pg from 'pg';
import type { Logger } from 'pino';
import { decodeGatewayMessage } from '../../core/src/decode.ts';
import type { Layout } from '../../core/src/layout.ts';
import type { WifiReading } from '../../core/src/messages.ts';
import {
  addSighting,
  advanceClock,
  closeMinutes,
  countOccupancy,
  dropSuperseded,
  type MinuteRow,
  type OccupancyOptions,
  type OccupancyState,
  watermarkOf,
} from '../../core/src/occupancy.ts';
import { redactMacs } from '../../core/src/privacy.ts';
import { drainClosed } from '../../core/src/sessions.ts';
import { saveCheckpoint, takeCheckpoint } from './checkpoints.ts';
import { createCommitQueue, type QueueEntry } from './commit-queue.ts';
import { createFreeTime } from './free-time.ts';
import { createMallStates, type MallState } from './mall-state.ts';
import { type RestoreSummary, restoreMall } from './restore.ts';
import { withRetry } from './retry.ts';
import type { SightingsWrite } from './sql/copy-sightings.ts';
import type { DeadLetter } from './sql/dead-letter.ts';
import { writeEngineOutput } from './sql/engine-output.ts';
import { upsertOccupancyLive } from './sql/upsert-occupancy.ts';
import { type GroupBatch, keyOf, writeGroup } from './sql/write-group.ts';

// Messages in arrival order: decode → queue (`commit-queue.ts`) → one transaction for all queued
// (ledger claims of (mall, gateway, seq), rows, dead letters) → in order: update in-memory
// occupancy, then acknowledge each MQTT message. A crash before a commit means redelivery, and the
// batch ledger makes redelivery harmless.
//
// Database away: `withRetry` holds the queued messages (unacknowledged, so the broker and the
// gateways keep the rest; the queue is bounded, so reading stops) until the database is back; a
// connection lost during COMMIT is resolved on the retry (see `commitGroup`). A quiet mall's event
// clock follows only the wall time the worker had nothing in hand (`free-time.ts`), so neither the
// stall nor the backlog drain makes readings late.

export interface IngestStats {
  messages: number;
  batches: number;
  readings: number;
  duplicates: number;
  deadLetters: number;
  statusMessages: number;
  unplacedReadings: number;
  minutesWritten: number;
  staysWritten: number;
  visitsWritten: number;
  ticks: number;
  lagMsMax: number;
  /** Database operations retried (connection lost, server starting or shutting down, conflicts). */
  dbRetries: number;
  /** Batches whose COMMIT lost its connection and that the retry found already stored. */
  ambiguousCommits: number;
  /** Most messages handled at once: 1 (the source hands over one at a time, across reconnects too). */
  messagesInHandMax: number;
  /** Readings that arrived behind the occupancy watermark (applied at once, after their minute closed). */
  lateReadings: number;
  /** Engine checkpoints saved, and the size of the newest (gzipped bytes). */
  checkpoints: number;
  checkpointBytes: number;
}

export interface Ingest {
  /**
   * Takes a message; resolves when the next may be taken (at once, unless the queue is full).
   * `ack` is called once the message is committed and applied.
   */
  handle(topic: string, payload: Buffer, ack: () => void): Promise<void>;
  /** Resolves once every message taken is committed and acknowledged. */
  drain(): Promise<void>;
  /**
   * Writes closed minutes and the live snapshot; `wallNowMs` moves a quiet mall's clock. Saves a
   * checkpoint of each mall's engine when one is due, or with `checkpoint: true`.
   */
  tick(wallNowMs: number, opts?: { checkpoint?: boolean }): Promise<void>;
  /** Restores each mall's engine from its checkpoint and replays the sightings stored since (before any message). */
  restore(): Promise<RestoreSummary[]>;
  stats(): IngestStats;
  /** Resets `lagMsMax` (called after each summary log line). */
  resetWindow(): void;
  malls: ReadonlyMap<string, MallState>;
}

export interface IngestOptions {
  pool: pg.Pool;
  layouts: readonly Layout[];
  occupancy: OccupancyOptions;
  logger: Logger;
  isStopping: () => boolean;
  /** A commit failed for good: the worker must stop (what it holds stays unacknowledged). */
  onFatal(err: unknown): void;
  clock?: { now(): number };
  /** How sightings are written: COPY where the database carries it (`detectSightingsWrite`). */
  sightingsWrite: SightingsWrite;
  /** Wall time between engine checkpoints; 0: only when asked (at shutdown). Default 60 s. */
  checkpointIntervalMs?: number;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;

/** Bounds of what the worker holds uncommitted (memory: at most ~64 × 256 KB payloads). */
export const MAX_IN_HAND_MESSAGES = 64;
const MAX_IN_HAND_ROWS = 50_000;
const MAX_ROWS_PER_COMMIT = 20_000;
/**
 * Transactions at once: while one waits for the worker to read its next round trip (the engine
 * busy), the database writes the other. Each takes a pooled connection.
 */
const COMMITS_IN_FLIGHT = 2;

type Entry = QueueEntry &
  (
    | { kind: 'batch'; mall: MallState; group: GroupBatch; fresh: boolean }
    | { kind: 'status'; mallId: string; state: 'online' | 'offline'; atMs: number | undefined }
    | { kind: 'dead'; letter: DeadLetter }
    | { kind: 'again'; key: string }
  );
type BatchEntry = Extract<Entry, { kind: 'batch' }>;

/** See `writeBatch`: the error also reaches the query in flight, which handles it. */
function ignoreConnectionError(): void {}

/** Wall time with no sighting after which a mall's event clock follows the free wall time. */
const IDLE_FOLLOW_MS = 2_000;

/** Event time the engine applies between two turns of the event loop in a tick. */
const CATCH_UP_SLICE_MS = 10_000;

/**
 * `closeMinutes` in slices of event time, the event loop served between them: a tick that has
 * many seconds of readings to apply (a busy mall, a backlog after an outage) would otherwise hold
 * the loop for its whole length, and with it the COPY and the round trips of the commit in flight.
 * The rows are those of one call (batch boundaries do not change the engine's output).
 */
async function catchUp(state: OccupancyState, zoneIds: readonly string[]): Promise<MinuteRow[]> {
  const rows: MinuteRow[] = [];
  for (;;) {
    const targetMs = watermarkOf(state);
    const untilMs = Math.min(targetMs, state.appliedToMs + CATCH_UP_SLICE_MS);
    for (const row of closeMinutes(state, zoneIds, untilMs)) rows.push(row);
    if (untilMs >= targetMs) break;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  dropSuperseded(rows);
  return rows;
}

/** Text Postgres can store: a NUL or invalid UTF-8 goes in as base64; MAC-shaped text is redacted. */
export function toStorablePayload(payload: Buffer): string {
  const text = payload.toString('utf8');
  if (text.includes('\u0000') || text.includes('\uFFFD')) return `base64:${payload.toString('base64')}`;
  return redactMacs(text);
}

export function createIngest(options: IngestOptions): Ingest {
  const { pool, logger: log, isStopping, sightingsWrite } = options;
  const clock = options.clock ?? Date;
  const malls = createMallStates(options.layouts, options.occupancy);
  const lastArrivalWallMs = new Map<string, number>();
  const freeTime = createFreeTime(clock.now());
  const stats = {
    messages: 0,
    batches: 0,
    readings: 0,
    duplicates: 0,
    deadLetters: 0,
    statusMessages: 0,
    unplacedReadings: 0,
    minutesWritten: 0,
    staysWritten: 0,
    visitsWritten: 0,
    ticks: 0,
    lagMsMax: 0,
    dbRetries: 0,
    ambiguousCommits: 0,
    messagesInHandMax: 0,
    checkpoints: 0,
    checkpointBytes: 0,
  } satisfies Omit<IngestStats, 'lateReadings'>;
  const checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  const lastCheckpointWallMs = new Map<string, number>();

  /** Batches in hand (taken, not settled) by their ledger key (mall, gateway, seq), with their deliveries. */
  const inHandKeys = new Map<string, number>();
  function batchKey(g: GroupBatch): string {
    return keyOf(g.mallId, g.gatewayId, g.batch.seq);
  }
  function releaseKey(key: string): void {
    const holders = (inHandKeys.get(key) ?? 1) - 1;
    if (holders > 0) inHandKeys.set(key, holders);
    else inHandKeys.delete(key);
  }

  const retryOptions = (what: string) => ({
    what,
    log,
    isStopping,
    onRetry: () => {
      stats.dbRetries++;
    },
  });

  /**
   * Writes a group in one transaction. A connection lost during COMMIT leaves it unknown whether
   * the group committed: the retry then finds each batch either not stored (and stores it) or
   * already claimed. Claimed right after our own claims were sent to COMMIT means our commit went
   * through: no other transaction of this worker holds the same batch (a second delivery of a
   * batch still in hand is held back, see `toEntry`), so such a batch still counts as fresh and is
   * observed, not taken for a redelivery.
   */
  async function commitGroup(entries: readonly Entry[]): Promise<void> {
    const batches: BatchEntry[] = [];
    const letters: DeadLetter[] = [];
    for (const e of entries) {
      if (e.kind === 'batch') batches.push(e);
      else if (e.kind === 'dead') letters.push(e.letter);
    }
    if (batches.length === 0 && letters.length === 0) return;
    let committingFresh: boolean[] | undefined;
    await withRetry(async () => {
      const client = await pool.connect();
      // A checked-out client whose connection dies also emits 'error' (pg-pool listens only while
      // it is idle); unheard, that would crash the process. The query in flight fails with the same
      // error, and the catch below handles it there.
      client.on('error', ignoreConnectionError);
      let fresh: boolean[] | undefined;
      try {
        await client.query('BEGIN');
        fresh = await writeGroup(
          client,
          batches.map((e) => e.group),
          letters,
          sightingsWrite,
        );
        await client.query('COMMIT');
        client.off('error', ignoreConnectionError);
        client.release();
      } catch (err) {
        if (fresh) committingFresh = fresh;
        // A ROLLBACK that fails means the connection is what failed: drop it rather than pool it.
        const rolledBack = await client.query('ROLLBACK').then(
          () => true,
          () => false,
        );
        client.off('error', ignoreConnectionError);
        client.release(!rolledBack);
        throw err;
      }
      batches.forEach((e, i) => {
        const ours = committingFresh?.[i] === true;
        e.fresh = fresh?.[i] === true || ours;
        if (ours && fresh?.[i] !== true) stats.ambiguousCommits++;
      });
    }, retryOptions('write batches'));
  }

  function applyCommitted(entries: readonly Entry[]): void {
    const nowMs = clock.now();
    for (const e of entries) {
      if (e.kind === 'dead') {
        stats.deadLetters++;
        continue;
      }
      if (e.kind === 'again') {
        releaseKey(e.key);
        stats.duplicates++;
        continue;
      }
      if (e.kind === 'status') {
        // A heartbeat says the gateway has sent everything it heard before `at`: a quiet mall's
        // event clock moves on, so minutes and visits close without waiting on the wall clock.
        const mall = malls.get(e.mallId);
        if (mall && e.state === 'online' && e.atMs !== undefined) {
          advanceClock(mall.occupancy, e.atMs);
          if (e.atMs > mall.heartbeatAtMs) mall.heartbeatAtMs = e.atMs;
        }
        continue;
      }
      const { batch, kind } = e.group;
      releaseKey(batchKey(e.group));
      if (!e.fresh) {
        stats.duplicates++;
        continue;
      }
      stats.batches++;
      stats.readings += batch.readings.length;
      const lagMs = nowMs - batch.sentAt;
      if (lagMs > stats.lagMsMax) stats.lagMsMax = lagMs;
      if (kind !== 'scale') {
        // People are counted by their phones' WiFi probes. A BLE tag or the mall app is carried
        // by someone whose phone is counted already: counting it too would count them twice.
        if (kind === 'wifi') observe(e.mall, batch.readings as WifiReading[]);
        lastArrivalWallMs.set(e.mall.mallId, nowMs);
      }
    }
  }

  const queue = createCommitQueue<Entry>({
    maxPendingEntries: MAX_IN_HAND_MESSAGES,
    maxPendingRows: MAX_IN_HAND_ROWS,
    maxRowsPerCommit: MAX_ROWS_PER_COMMIT,
    maxCommitsInFlight: COMMITS_IN_FLIGHT,
    commit: commitGroup,
    onCommitted: applyCommitted,
    onFatal: options.onFatal,
  });

  function countWritten(mall: MallState, rows: readonly MinuteRow[], closed: ReturnType<typeof drainClosed>) {
    stats.minutesWritten += rows.length > 0 ? rows.length / mall.zoneIds.length : 0;
    stats.staysWritten += closed.stays.length;
    stats.visitsWritten += closed.visits.length;
  }

  function observe(mall: MallState, readings: readonly WifiReading[]) {
    for (const r of readings) {
      const zoneId = mall.sensorZone.get(r.sensorId);
      if (zoneId === undefined) {
        stats.unplacedReadings++;
        continue;
      }
      addSighting(mall.occupancy, r.device, zoneId, r.rssiDbm, r.heardAt, r.randomized, r.sensorId);
    }
  }

  /** Decodes a message into its queue entry. */
  function toEntry(topic: string, payload: Buffer, ack: () => void): Entry {
    stats.messages++;
    const decoded = decodeGatewayMessage(topic, payload.toString('utf8'));
    const dead = (mallId: string | undefined, gatewayId: string | undefined, reason: string): Entry => ({
      kind: 'dead',
      rows: 1,
      ack,
      letter: { topic, mallId, gatewayId, reason, payload: toStorablePayload(payload) },
    });
    if (!decoded.ok) return dead(decoded.topic?.mallId, decoded.topic?.gatewayId, decoded.reason);
    if ('status' in decoded) {
      stats.statusMessages++;
      const { state, at } = decoded.status;
      return { kind: 'status', rows: 0, ack, mallId: decoded.topic.mallId, state, atMs: at };
    }
    const { mallId, gatewayId, kind } = decoded.topic;
    const mall = malls.get(mallId);
    if (!mall) return dead(mallId, gatewayId, `unknown mall "${mallId}": no layout loaded for it`);
    const group: GroupBatch = { mallId, gatewayId, kind, batch: decoded.batch };
    const key = batchKey(group);
    // Delivered again while the first delivery is still in hand (the broker redelivers what was
    // unacknowledged when the connection dropped): only one transaction may claim a batch, so this
    // one writes nothing. It settles after the first and is acknowledged then.
    const holders = inHandKeys.get(key) ?? 0;
    inHandKeys.set(key, holders + 1);
    if (holders > 0) return { kind: 'again', rows: 0, ack, key };
    return { kind: 'batch', rows: decoded.batch.readings.length, ack, mall, group, fresh: false };
  }

  return {
    malls,
    handle(topic, payload, ack) {
      freeTime.begin(clock.now());
      if (freeTime.inHand > stats.messagesInHandMax) stats.messagesInHandMax = freeTime.inHand;
      const entry = toEntry(topic, payload, () => {
        freeTime.end(clock.now());
        ack();
      });
      return queue.take(entry);
    },
    drain: () => queue.drain(),
    async tick(wallNowMs, opts) {
      const freeMs = freeTime.take(wallNowMs);
      for (const mall of malls.values()) {
        const state = mall.occupancy;
        if (state.minuteStartMs === undefined) continue;
        if (freeMs > 0 && wallNowMs - (lastArrivalWallMs.get(mall.mallId) ?? 0) > IDLE_FOLLOW_MS) {
          advanceClock(state, state.newestMs + freeMs);
        }
        const rows = await catchUp(state, mall.zoneIds);
        const closed = drainClosed(state.sessions);
        const asOfMs = state.appliedToMs;
        const sure = new Map<string, number>();
        const counts = countOccupancy(state, asOfMs, options.occupancy.presenceMs, sure);
        const devices = mall.zoneIds.map((z) => counts.get(z) ?? 0);
        const confidence = mall.zoneIds.map((z) => sure.get(z) ?? null);
        const lastMs = lastCheckpointWallMs.get(mall.mallId);
        const due =
          opts?.checkpoint === true ||
          (checkpointIntervalMs > 0 && (lastMs === undefined || wallNowMs - lastMs >= checkpointIntervalMs));
        // Taken now, with exactly these rows drained from the engine; saved once they are written.
        const taken = due ? takeCheckpoint(mall.mallId, state) : undefined;
        // Idempotent upserts: a retry after a lost connection writes the same rows again.
        await withRetry(async () => {
          await writeEngineOutput(pool, mall.mallId, rows, closed);
          await upsertOccupancyLive(pool, mall.mallId, mall.zoneIds, devices, confidence, asOfMs);
        }, retryOptions('write occupancy'));
        countWritten(mall, rows, closed);
        if (taken) {
          stats.checkpointBytes = await withRetry(
            () => saveCheckpoint(pool, taken),
            retryOptions('save checkpoint'),
          );
          stats.checkpoints++;
          lastCheckpointWallMs.set(mall.mallId, wallNowMs);
        }
      }
      stats.ticks++;
    },
    async restore() {
      const summaries: RestoreSummary[] = [];
      for (const mall of malls.values()) {
        const summary = await withRetry(
          () =>
            restoreMall(pool, mall, options.occupancy, async (rows, closed) => {
              await withRetry(
                () => writeEngineOutput(pool, mall.mallId, rows, closed),
                retryOptions('write replay'),
              );
              countWritten(mall, rows, closed);
            }),
          retryOptions('restore checkpoint'),
        );
        if (summary.restored) log.info(summary, 'engine restored from its checkpoint');
        else if (summary.reason !== 'none') log.warn(summary, 'engine checkpoint not used: starting afresh');
        summaries.push(summary);
      }
      return summaries;
    },
    stats() {
      let lateReadings = 0;
      for (const mall of malls.values()) lateReadings += mall.occupancy.late;
      return { ...stats, lateReadings };
    },
    resetWindow() {
      stats.lagMsMax = 0;
    },
  };
}
