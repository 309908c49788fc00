import type pg from 'pg';
import type { Logger } from 'pino';
import { decodeGatewayMessage } from '../../core/src/decode.ts';
import type { Layout } from '../../core/src/layout.ts';
import type { AnyBatch, BleReading, ScaleReading, WifiReading } from '../../core/src/messages.ts';
import {
  addSighting,
  advanceClock,
  closeMinutes,
  countOccupancy,
  type OccupancyOptions,
} from '../../core/src/occupancy.ts';
import { redactMacs } from '../../core/src/privacy.ts';
import { drainClosed } from '../../core/src/sessions.ts';
import { createFreeTime } from './free-time.ts';
import { createMallStates, type MallState } from './mall-state.ts';
import { withRetry } from './retry.ts';
import { claimBatch } from './sql/claim-batch.ts';
import { insertDeadLetter } from './sql/insert-dead-letter.ts';
import { insertScaleReadings } from './sql/insert-scale-readings.ts';
import { insertSightings, toSightingColumns } from './sql/insert-sightings.ts';
import { upsertOccupancyLive, upsertOccupancyMinutes } from './sql/upsert-occupancy.ts';
import { upsertVisits, upsertZoneStays } from './sql/upsert-sessions.ts';

// One message at a time: decode → (dead letter | claim (gateway, seq) + write rows in one
// transaction) → update in-memory occupancy after the commit. The caller acknowledges the MQTT
// message only when `handle` resolves, so a crash before commit means redelivery, and the batch
// ledger makes redelivery harmless.
//
// Database away: `withRetry` holds the message in hand (unacknowledged, so the broker and the
// gateways keep the rest) until the database is back; a connection lost during COMMIT is resolved
// on the retry (see `writeBatch`). A quiet mall's event clock follows only the wall time the worker
// was free (`free-time.ts`), so neither the stall nor the backlog drain makes readings late.

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
}

export interface Ingest {
  handle(topic: string, payload: Buffer): Promise<void>;
  /** Writes closed minutes and the live snapshot; `wallNowMs` moves a quiet mall's clock. */
  tick(wallNowMs: number): Promise<void>;
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
  clock?: { now(): number };
}

/** See `writeBatch`: the error also reaches the query in flight, which handles it. */
function ignoreConnectionError(): void {}

/** Wall time with no sighting after which a mall's event clock follows the free wall time. */
const IDLE_FOLLOW_MS = 2_000;

/** Text Postgres can store: a NUL or invalid UTF-8 goes in as base64; MAC-shaped text is redacted. */
export function toStorablePayload(payload: Buffer): string {
  const text = payload.toString('utf8');
  if (text.includes('\u0000') || text.includes('\uFFFD')) return `base64:${payload.toString('base64')}`;
  return redactMacs(text);
}

export function createIngest(options: IngestOptions): Ingest {
  const { pool, logger: log, isStopping } = options;
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
  } satisfies Omit<IngestStats, 'lateReadings'>;

  const retryOptions = (what: string) => ({
    what,
    log,
    isStopping,
    onRetry: () => {
      stats.dbRetries++;
    },
  });

  async function deadLetter(
    topic: string,
    mallId: string | undefined,
    gatewayId: string | undefined,
    reason: string,
    payload: Buffer,
  ) {
    stats.deadLetters++;
    await withRetry(
      () => insertDeadLetter(pool, { topic, mallId, gatewayId, reason, payload: toStorablePayload(payload) }),
      retryOptions('dead letter'),
    );
  }

  /**
   * Claims the batch and stores its rows in one transaction; true when it was new. A connection
   * lost during COMMIT leaves it unknown whether the batch committed: the retry then finds it either
   * not stored (and stores it) or already claimed. Already claimed right after our own claim was
   * sent to COMMIT means our commit went through (messages are handled one at a time), so the batch
   * still counts as new and is observed, not taken for a redelivery.
   */
  async function writeBatch(
    mall: MallState,
    gatewayId: string,
    kind: 'wifi' | 'ble' | 'scale',
    batch: AnyBatch,
  ) {
    let commitUnknown = false;
    const fresh = await withRetry(async () => {
      const client = await pool.connect();
      // A checked-out client whose connection dies also emits 'error' (pg-pool listens only while
      // it is idle); unheard, that would crash the process. The query in flight fails with the same
      // error, and the catch below handles it there.
      client.on('error', ignoreConnectionError);
      let committing = false;
      try {
        await client.query('BEGIN');
        const claimed = await claimBatch(client, {
          gatewayId,
          seq: batch.seq,
          mallId: mall.mallId,
          kind,
          readings: batch.readings.length,
          sentAtMs: batch.sentAt,
        });
        if (claimed) {
          if (kind === 'scale')
            await insertScaleReadings(client, mall.mallId, gatewayId, batch.readings as ScaleReading[]);
          else {
            const cols = toSightingColumns(batch.readings as (WifiReading | BleReading)[]);
            await insertSightings(client, mall.mallId, gatewayId, kind, cols);
          }
        }
        committing = claimed;
        await client.query('COMMIT');
        client.off('error', ignoreConnectionError);
        client.release();
        if (!claimed && commitUnknown) stats.ambiguousCommits++;
        return claimed || commitUnknown;
      } catch (err) {
        if (committing) commitUnknown = true;
        // A ROLLBACK that fails means the connection is what failed: drop it rather than pool it.
        const rolledBack = await client.query('ROLLBACK').then(
          () => true,
          () => false,
        );
        client.off('error', ignoreConnectionError);
        client.release(!rolledBack);
        throw err;
      }
    }, retryOptions('write batch'));
    return fresh;
  }

  function observe(mall: MallState, readings: readonly (WifiReading | BleReading)[]) {
    for (const r of readings) {
      const zoneId = mall.sensorZone.get(r.sensorId);
      if (zoneId === undefined) {
        stats.unplacedReadings++;
        continue;
      }
      addSighting(mall.occupancy, r.device, zoneId, r.rssiDbm, r.heardAt);
    }
  }

  async function take(topic: string, payload: Buffer): Promise<void> {
    stats.messages++;
    const decoded = decodeGatewayMessage(topic, payload.toString('utf8'));
    if (!decoded.ok) {
      await deadLetter(topic, decoded.topic?.mallId, decoded.topic?.gatewayId, decoded.reason, payload);
      return;
    }
    if ('status' in decoded) {
      stats.statusMessages++;
      // A heartbeat says the gateway has sent everything it heard before `at`: a quiet mall's
      // event clock moves on, so minutes and visits close without waiting on the wall clock.
      const { state, at } = decoded.status;
      const mall = malls.get(decoded.topic.mallId);
      if (mall && state === 'online' && at !== undefined) {
        advanceClock(mall.occupancy, at);
        if (at > mall.heartbeatAtMs) mall.heartbeatAtMs = at;
      }
      return;
    }
    const { mallId, gatewayId, kind } = decoded.topic;
    const mall = malls.get(mallId);
    if (!mall) {
      await deadLetter(
        topic,
        mallId,
        gatewayId,
        `unknown mall "${mallId}": no layout loaded for it`,
        payload,
      );
      return;
    }
    const batch = decoded.batch;
    const fresh = await writeBatch(mall, gatewayId, kind, batch);
    if (!fresh) {
      stats.duplicates++;
      return;
    }
    stats.batches++;
    stats.readings += batch.readings.length;
    const lagMs = clock.now() - batch.sentAt;
    if (lagMs > stats.lagMsMax) stats.lagMsMax = lagMs;
    if (kind !== 'scale') {
      observe(mall, batch.readings as (WifiReading | BleReading)[]);
      lastArrivalWallMs.set(mallId, clock.now());
    }
  }

  return {
    malls,
    async handle(topic, payload) {
      freeTime.begin(clock.now());
      if (freeTime.inHand > stats.messagesInHandMax) stats.messagesInHandMax = freeTime.inHand;
      try {
        await take(topic, payload);
      } finally {
        freeTime.end(clock.now());
      }
    },
    async tick(wallNowMs) {
      const freeMs = freeTime.take(wallNowMs);
      for (const mall of malls.values()) {
        const state = mall.occupancy;
        if (state.minuteStartMs === undefined) continue;
        if (freeMs > 0 && wallNowMs - (lastArrivalWallMs.get(mall.mallId) ?? 0) > IDLE_FOLLOW_MS) {
          advanceClock(state, state.newestMs + freeMs);
        }
        const rows = closeMinutes(state, mall.zoneIds);
        const closed = drainClosed(state.sessions);
        const asOfMs = state.appliedToMs;
        const counts = countOccupancy(state, asOfMs, options.occupancy.presenceMs);
        const devices = mall.zoneIds.map((z) => counts.get(z) ?? 0);
        // Idempotent upserts: a retry after a lost connection writes the same rows again.
        await withRetry(async () => {
          await upsertOccupancyMinutes(pool, mall.mallId, rows);
          await upsertZoneStays(pool, mall.mallId, closed.stays);
          await upsertVisits(pool, mall.mallId, closed.visits);
          await upsertOccupancyLive(pool, mall.mallId, mall.zoneIds, devices, asOfMs);
        }, retryOptions('write occupancy'));
        stats.minutesWritten += rows.length > 0 ? rows.length / mall.zoneIds.length : 0;
        stats.staysWritten += closed.stays.length;
        stats.visitsWritten += closed.visits.length;
      }
      stats.ticks++;
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
