import mqtt from 'mqtt';
import type { Logger } from 'pino';
import type { BleReading, ReadingKind, ScaleReading, WifiReading } from '../../core/src/messages.ts';
import { gatewayTopic } from '../../core/src/topics.ts';
import { firstConnection } from './first-connection.ts';
import { createOutbox, type OutboxStats } from './outbox/outbox.ts';
import { createDiskStore, createMemoryStore } from './outbox/segment-store.ts';
import { createPseudonymizer } from './pseudonym-cache.ts';

// The edge gateway: raw readings in (with raw MACs), pseudonymous batches out. A raw MAC never
// leaves this module: it is replaced by a keyed pseudonym before a reading is buffered.
//
// Batching per kind: a buffer flushes when it holds `maxBatchReadings` or when `flushIntervalMs`
// has passed since its first reading, whichever comes first. Each batch gets the next `seq`.
// `seq` starts at the boot time in microseconds, so it keeps increasing across restarts without
// a state file (it would take over 1,000 batches per millisecond to catch up with the clock).
//
// Every batch goes through the outbox (store-and-forward, `outbox/outbox.ts`): stored first, on
// disk when `outboxDir` is set, and sent oldest first while the broker is reachable. A broker
// outage, or a restart with a disk outbox, loses nothing: the batches are sent later with their
// original seq. A batch that would exceed the broker's payload limit is split before it is stored.
//
// Lifecycle: connecting (an unreachable broker is not fatal: batches queue; refused credentials
// are) → online (retained `online` status on every connect; the broker holds an `offline` will)
// → closing (flush, wait up to `closeTimeoutMs` for every PUBACK, retained `offline`,
// disconnect; what is still unsent stays in a disk outbox for the next start) → closed.

export interface RawWifiInput {
  sensorId: string;
  heardAt: number;
  rssiDbm: number;
  mac: string;
  frameSeq?: number;
  /** See `WifiReading.ieFingerprint`: 16 hex digits, computed by the capture parser. */
  ieFingerprint?: string;
}

export interface RawBleInput {
  sensorId: string;
  heardAt: number;
  rssiDbm: number;
  /** The advertiser's MAC; give `deviceKey` instead when the scanner reports another identifier. */
  mac?: string;
  /**
   * A stable identifier that is not a MAC (an ESPresense id such as `apple:1005:9-26`, an iBeacon
   * id): pseudonymized the same keyed way, in its own namespace, and never flagged randomized.
   */
  deviceKey?: string;
  beacon?: BleReading['beacon'];
}

export interface GatewayOptions {
  mqttUrl: string;
  mallId: string;
  gatewayId: string;
  username: string;
  password: string;
  siteSecret: string;
  /** Pseudonyms of devices that opted out: their readings are dropped at the edge. */
  optOut?: ReadonlySet<string>;
  maxBatchReadings: number;
  flushIntervalMs: number;
  clock?: { now(): number };
  /**
   * Sees each batch before it is published; returning true takes over its delivery (the test kit
   * holds and reorders batches this way). Every batch is still numbered and counted here.
   */
  intercept?: (topic: string, payload: string, seq: number) => boolean;
  /** Receives the MQTT client once connected (the test kit uses it to cut the connection). */
  onClient?: (client: mqtt.MqttClient) => void;
  /** Readings buffered or awaiting PUBACK above which `whenWritable()` waits. Default 20,000. */
  maxPendingReadings?: number;
  /** Directory of the disk outbox; without it the outbox is in memory (lost on exit). */
  outboxDir?: string | undefined;
  /** Size bound of the outbox; beyond it the oldest batches are dropped and counted. Default 256 MiB. */
  outboxMaxBytes?: number;
  /** Batches handed to MQTT before their PUBACKs. Default 16. */
  windowBatches?: number;
  /** The broker's payload limit: larger batches are split. Default 262,144 (the broker's default). */
  maxPayloadBytes?: number;
  /** How long `close()` waits for unacknowledged batches. Default 10 s. */
  closeTimeoutMs?: number;
  /** Wall ms between reconnect attempts. Default 1 s. */
  reconnectPeriodMs?: number;
  /** Wall ms between heartbeats; 0 = only when `heartbeat()` is called. Default 10 s. */
  heartbeatIntervalMs?: number;
  logger: Logger;
}

const DEFAULT_HEARTBEAT_MS = 10_000;
const DEFAULT_MAX_PENDING_READINGS = 20_000;
const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024;
const DEFAULT_WINDOW_BATCHES = 16;
const DEFAULT_MAX_PAYLOAD_BYTES = 262_144;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

export interface GatewayStats {
  readingsIn: number;
  invalidMacs: number;
  optedOut: number;
  /** Batches (and their readings) the broker acknowledged. */
  batchesPublished: number;
  readingsPublished: number;
  publishErrors: number;
  /** Batches split because they would have exceeded the broker's payload limit. */
  batchesSplit: number;
  bufferedReadings: number;
  lastSeq: number;
  connected: boolean;
  outbox: OutboxStats;
}

export interface Gateway {
  pushWifi(readings: readonly RawWifiInput[]): void;
  pushBle(readings: readonly RawBleInput[]): void;
  pushScale(readings: readonly ScaleReading[]): void;
  /**
   * Resolves once fewer than `maxPendingReadings` are buffered or in flight: a source that can
   * pause (a capture file, standard input) awaits it between chunks instead of growing memory.
   */
  whenWritable(): Promise<void>;
  /** Publishes whatever is buffered and resolves when the broker acknowledged it. */
  flush(): Promise<void>;
  /**
   * Flushes, then publishes the retained `online` status stamped with the clock: a promise that
   * everything heard before that time has been sent (analytics moves a quiet mall's clock on it).
   */
  heartbeat(): Promise<void>;
  stats(): GatewayStats;
  close(): Promise<void>;
}

interface Buffer<T> {
  kind: ReadingKind;
  readings: T[];
  firstAtMs: number;
}

export { GatewayAuthError } from './first-connection.ts';

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const clock = options.clock ?? Date;
  const log = options.logger.child({ gatewayId: options.gatewayId });
  const pseudonyms = createPseudonymizer(options.siteSecret);
  const optOut = options.optOut ?? new Set<string>();
  const statusTopic = gatewayTopic(options.mallId, options.gatewayId, 'status');
  const statusPayload = (state: 'online' | 'offline') =>
    JSON.stringify({ v: 1, gw: options.gatewayId, state, at: clock.now() });
  // The broker publishes the will whenever the connection dies: it cannot know that time, so no `at`.
  const willPayload = JSON.stringify({ v: 1, gw: options.gatewayId, state: 'offline' });
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxPending = options.maxPendingReadings ?? DEFAULT_MAX_PENDING_READINGS;
  const outboxMaxBytes = options.outboxMaxBytes ?? DEFAULT_OUTBOX_MAX_BYTES;

  const stats = {
    readingsIn: 0,
    invalidMacs: 0,
    optedOut: 0,
    batchesIntercepted: 0,
    readingsIntercepted: 0,
    batchesSplit: 0,
    bufferedReadings: 0,
    lastSeq: 0,
  };
  let writableWaiters: (() => void)[] = [];
  let closing = false;
  // Reference set below; the outbox calls back only once the client exists.
  let client: mqtt.MqttClient | undefined;
  const isConnected = () => client?.connected === true;

  const outbox = createOutbox({
    store: options.outboxDir
      ? createDiskStore(options.outboxDir, outboxMaxBytes)
      : createMemoryStore(outboxMaxBytes),
    maxBytes: outboxMaxBytes,
    windowBatches: options.windowBatches ?? DEFAULT_WINDOW_BATCHES,
    send: async (topic, payload) => {
      await client?.publishAsync(topic, payload, { qos: 1 });
    },
    canSend: isConnected,
    onSendError: (err, seq) => log.error({ err, seq }, 'batch publish failed; it stays queued'),
    onProgress: () => wakeWriters(),
  });
  const storedSeq = outbox.load();
  let seq = Math.max(clock.now() * 1000, storedSeq);
  if (storedSeq > 0) {
    log.info(outbox.stats(), 'outbox holds batches from an earlier run: sending them first');
  }

  const pendingReadings = () => stats.bufferedReadings + outbox.pendingReadings();
  // Offline with a disk outbox, readings spill to disk (bounded) instead of stalling a live source.
  const writable = () => pendingReadings() < maxPending || (!isConnected() && outbox.durable && !closing);
  function wakeWriters(): void {
    if (writableWaiters.length === 0 || !writable()) return;
    const waiters = writableWaiters;
    writableWaiters = [];
    for (const wake of waiters) wake();
  }

  client = mqtt.connect(options.mqttUrl, {
    protocolVersion: 4,
    clientId: `gw-${options.gatewayId}`,
    username: options.username,
    password: options.password,
    clean: true,
    reconnectPeriod: options.reconnectPeriodMs ?? 1000,
    connectTimeout: 10_000,
    will: { topic: statusTopic, payload: Buffer.from(willPayload), qos: 1, retain: true },
  });
  const mqttClient = client;
  await firstConnection(mqttClient, options.gatewayId, log);
  options.onClient?.(mqttClient);
  mqttClient.on('error', (err) => log.warn({ err }, 'mqtt client error'));
  mqttClient.on('offline', () => {
    log.warn(outbox.stats(), 'broker unreachable: batches are queued in the outbox');
    wakeWriters();
  });
  const announceOnline = () =>
    mqttClient.publishAsync(statusTopic, statusPayload('online'), { qos: 1, retain: true });
  // After a reconnect the broker has published our `offline` will: say `online` again, then send
  // what queued up while it was unreachable.
  mqttClient.on('connect', () => {
    announceOnline().catch((err: unknown) => {
      log.warn({ err }, 'could not publish the online status after reconnecting');
    });
    outbox.pump();
  });
  if (mqttClient.connected) {
    await announceOnline();
    outbox.pump();
  }

  const wifi: Buffer<WifiReading> = { kind: 'wifi', readings: [], firstAtMs: 0 };
  const ble: Buffer<BleReading> = { kind: 'ble', readings: [], firstAtMs: 0 };
  const scale: Buffer<ScaleReading> = { kind: 'scale', readings: [], firstAtMs: 0 };

  function publishReadings(kind: ReadingKind, readings: unknown[]): void {
    const payload = JSON.stringify({
      v: 1,
      gw: options.gatewayId,
      seq: seq + 1,
      sentAt: clock.now(),
      readings,
    });
    if (readings.length > 1 && Buffer.byteLength(payload) > maxPayloadBytes) {
      stats.batchesSplit++;
      const half = Math.ceil(readings.length / 2);
      publishReadings(kind, readings.slice(0, half));
      publishReadings(kind, readings.slice(half));
      return;
    }
    seq += 1;
    stats.lastSeq = seq;
    const topic = gatewayTopic(options.mallId, options.gatewayId, kind);
    if (options.intercept?.(topic, payload, seq)) {
      stats.batchesIntercepted++;
      stats.readingsIntercepted += readings.length;
      return;
    }
    outbox.enqueue(seq, readings.length, topic, payload);
  }

  function publish<T>(buffer: Buffer<T>): void {
    if (buffer.readings.length === 0) return;
    const readings = buffer.readings;
    buffer.readings = [];
    stats.bufferedReadings -= readings.length;
    publishReadings(buffer.kind, readings);
  }

  function added<T>(buffer: Buffer<T>): void {
    if (buffer.readings.length === 1) buffer.firstAtMs = clock.now();
    if (buffer.readings.length >= options.maxBatchReadings) publish(buffer);
  }

  const timer = setInterval(
    () => {
      const now = clock.now();
      for (const b of [wifi, ble, scale] as Buffer<unknown>[]) {
        if (b.readings.length > 0 && now - b.firstAtMs >= options.flushIntervalMs) publish(b);
      }
    },
    Math.max(10, Math.floor(options.flushIntervalMs / 4)),
  );

  function identify(mac: string | undefined, deviceKey?: string) {
    stats.readingsIn++;
    const id =
      mac !== undefined
        ? pseudonyms.identify(mac)
        : deviceKey !== undefined
          ? pseudonyms.identifyKey(deviceKey)
          : undefined;
    if (!id) {
      stats.invalidMacs++;
      return undefined;
    }
    if (optOut.has(id.device)) {
      stats.optedOut++;
      return undefined;
    }
    return id;
  }

  async function flush(): Promise<void> {
    publish(wifi);
    publish(ble);
    publish(scale);
    await outbox.whenSettled(seq);
  }

  async function heartbeat(): Promise<void> {
    // Offline, the heartbeat would only queue up: the next connect announces `online` anyway.
    if (!isConnected()) return;
    await flush();
    await announceOnline();
  }

  const heartbeatMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
  const heartbeatTimer =
    heartbeatMs > 0
      ? setInterval(() => {
          heartbeat().catch((err: unknown) => log.warn({ err }, 'heartbeat failed'));
        }, heartbeatMs)
      : undefined;

  function whenWritable(): Promise<void> {
    if (writable()) return Promise.resolve();
    // Over the mark: a full buffer can sit unsent until the flush timer, so send it now.
    publish(wifi);
    publish(ble);
    publish(scale);
    return new Promise((resolve) => writableWaiters.push(resolve));
  }

  function snapshot(): GatewayStats {
    const o = outbox.stats();
    return {
      readingsIn: stats.readingsIn,
      invalidMacs: stats.invalidMacs,
      optedOut: stats.optedOut,
      batchesPublished: o.ackedBatches + stats.batchesIntercepted,
      readingsPublished: o.ackedReadings + stats.readingsIntercepted,
      publishErrors: o.sendErrors,
      batchesSplit: stats.batchesSplit,
      bufferedReadings: stats.bufferedReadings,
      lastSeq: stats.lastSeq,
      connected: isConnected(),
      outbox: o,
    };
  }

  return {
    heartbeat,
    whenWritable,
    pushWifi(readings) {
      if (closing) throw new Error('gateway is closing');
      for (const r of readings) {
        const id = identify(r.mac);
        if (!id) continue;
        const reading: WifiReading = {
          sensorId: r.sensorId,
          heardAt: r.heardAt,
          rssiDbm: r.rssiDbm,
          device: id.device,
          randomized: id.randomized,
        };
        if (r.frameSeq !== undefined) reading.frameSeq = r.frameSeq;
        if (r.ieFingerprint !== undefined) reading.ieFingerprint = r.ieFingerprint;
        wifi.readings.push(reading);
        stats.bufferedReadings++;
        added(wifi);
      }
    },
    pushBle(readings) {
      if (closing) throw new Error('gateway is closing');
      for (const r of readings) {
        const id = identify(r.mac, r.deviceKey);
        if (!id) continue;
        const reading: BleReading = {
          sensorId: r.sensorId,
          heardAt: r.heardAt,
          rssiDbm: r.rssiDbm,
          device: id.device,
          randomized: id.randomized,
        };
        if (r.beacon) reading.beacon = r.beacon;
        ble.readings.push(reading);
        stats.bufferedReadings++;
        added(ble);
      }
    },
    pushScale(readings) {
      if (closing) throw new Error('gateway is closing');
      for (const r of readings) {
        stats.readingsIn++;
        scale.readings.push(r);
        stats.bufferedReadings++;
        added(scale);
      }
    },
    flush,
    stats: snapshot,
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(timer);
      clearInterval(heartbeatTimer);
      const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
      let timeout: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        flush().then(() => true),
        new Promise<false>((resolve) => {
          timeout = setTimeout(() => resolve(false), closeTimeoutMs);
        }),
      ]);
      clearTimeout(timeout);
      if (!settled) {
        const o = outbox.stats();
        if (outbox.durable)
          log.warn(o, 'closing with unacknowledged batches: they stay in the outbox for the next start');
        else log.error(o, 'closing with unacknowledged batches and no disk outbox: they are lost');
      }
      if (mqttClient.connected) {
        await mqttClient.publishAsync(statusTopic, statusPayload('offline'), { qos: 1, retain: true });
      }
      await mqttClient.endAsync(!mqttClient.connected);
      outbox.close();
      for (const wake of writableWaiters) wake();
      writableWaiters = [];
    },
  };
}
