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

/** Wall time with no sighting after which a mall's event clock follows the wall clock. */
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
  let lastTickWallMs = clock.now();
  const stats: IngestStats = {
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
  };

  async function deadLetter(
    topic: string,
    mallId: string | undefined,
    gatewayId: string | undefined,
    reason: string,
    payload: Buffer,
  ) {
    stats.deadLetters++;
    await withRetry(
      'dead letter',
      () => insertDeadLetter(pool, { topic, mallId, gatewayId, reason, payload: toStorablePayload(payload) }),
      log,
      isStopping,
    );
  }

  async function writeBatch(
    mall: MallState,
    gatewayId: string,
    kind: 'wifi' | 'ble' | 'scale',
    batch: AnyBatch,
  ) {
    return withRetry(
      'write batch',
      async () => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const fresh = await claimBatch(client, {
            gatewayId,
            seq: batch.seq,
            mallId: mall.mallId,
            kind,
            readings: batch.readings.length,
            sentAtMs: batch.sentAt,
          });
          if (fresh) {
            if (kind === 'scale')
              await insertScaleReadings(client, mall.mallId, gatewayId, batch.readings as ScaleReading[]);
            else {
              const cols = toSightingColumns(batch.readings as (WifiReading | BleReading)[]);
              await insertSightings(client, mall.mallId, gatewayId, kind, cols);
            }
          }
          await client.query('COMMIT');
          return fresh;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined); // the connection may be the thing that failed
          throw err;
        } finally {
          client.release();
        }
      },
      log,
      isStopping,
    );
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

  return {
    malls,
    async handle(topic, payload) {
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
        // People are counted by their phones' WiFi probes. A BLE tag or the mall app is carried
        // by someone whose phone is counted already: counting it too would count them twice.
        if (kind === 'wifi') observe(mall, batch.readings as WifiReading[]);
        lastArrivalWallMs.set(mallId, clock.now());
      }
    },
    async tick(wallNowMs) {
      const wallElapsedMs = wallNowMs - lastTickWallMs;
      lastTickWallMs = wallNowMs;
      for (const mall of malls.values()) {
        const state = mall.occupancy;
        if (state.minuteStartMs === undefined) continue;
        if (wallNowMs - (lastArrivalWallMs.get(mall.mallId) ?? 0) > IDLE_FOLLOW_MS) {
          advanceClock(state, state.newestMs + wallElapsedMs);
        }
        const rows = closeMinutes(state, mall.zoneIds);
        const closed = drainClosed(state.sessions);
        const asOfMs = state.appliedToMs;
        const counts = countOccupancy(state, asOfMs, options.occupancy.presenceMs);
        const devices = mall.zoneIds.map((z) => counts.get(z) ?? 0);
        await withRetry(
          'write occupancy',
          async () => {
            await upsertOccupancyMinutes(pool, mall.mallId, rows);
            await upsertZoneStays(pool, mall.mallId, closed.stays);
            await upsertVisits(pool, mall.mallId, closed.visits);
            await upsertOccupancyLive(pool, mall.mallId, mall.zoneIds, devices, asOfMs);
          },
          log,
          isStopping,
        );
        stats.minutesWritten += rows.length > 0 ? rows.length / mall.zoneIds.length : 0;
        stats.staysWritten += closed.stays.length;
        stats.visitsWritten += closed.visits.length;
      }
      stats.ticks++;
    },
    stats: () => ({ ...stats }),
    resetWindow() {
      stats.lagMsMax = 0;
    },
  };
}
