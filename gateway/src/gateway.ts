import mqtt from 'mqtt';
import type { Logger } from 'pino';
import type { BleReading, ReadingKind, ScaleReading, WifiReading } from '../../core/src/messages.ts';
import { gatewayTopic } from '../../core/src/topics.ts';
import { createPseudonymizer } from './pseudonym-cache.ts';

// The edge gateway: raw readings in (with raw MACs), pseudonymous batches out. A raw MAC never
// leaves this module: it is replaced by a keyed pseudonym before a reading is buffered.
//
// Batching per kind: a buffer flushes when it holds `maxBatchReadings` or when `flushIntervalMs`
// has passed since its first reading, whichever comes first. Each batch gets the next `seq`.
// `seq` starts at the boot time in microseconds, so it keeps increasing across restarts without
// a state file (it would take over 1,000 batches per millisecond to catch up with the clock).
//
// Lifecycle: connecting → online (retained `online` status; the broker holds an `offline` will)
// → closing (flush, await every PUBACK, retained `offline`, disconnect) → closed.

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
  /** Wall ms between heartbeats; 0 = only when `heartbeat()` is called. Default 10 s. */
  heartbeatIntervalMs?: number;
  logger: Logger;
}

const DEFAULT_HEARTBEAT_MS = 10_000;
const DEFAULT_MAX_PENDING_READINGS = 20_000;

export interface GatewayStats {
  readingsIn: number;
  invalidMacs: number;
  optedOut: number;
  batchesPublished: number;
  readingsPublished: number;
  publishErrors: number;
  bufferedReadings: number;
  /** Readings published and not yet acknowledged by the broker. */
  inFlightReadings: number;
  lastSeq: number;
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

  const client = await mqtt.connectAsync(options.mqttUrl, {
    protocolVersion: 4,
    clientId: `gw-${options.gatewayId}`,
    username: options.username,
    password: options.password,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    will: { topic: statusTopic, payload: Buffer.from(willPayload), qos: 1, retain: true },
  });
  client.on('error', (err) => log.warn({ err }, 'mqtt client error'));
  options.onClient?.(client);
  await client.publishAsync(statusTopic, statusPayload('online'), { qos: 1, retain: true });
  // After a reconnect the broker has published our `offline` will: say `online` again.
  client.on('connect', () => {
    client
      .publishAsync(statusTopic, statusPayload('online'), { qos: 1, retain: true })
      .catch((err: unknown) => {
        log.warn({ err }, 'could not publish the online status after reconnecting');
      });
  });

  let seq = clock.now() * 1000;
  const stats: GatewayStats = {
    readingsIn: 0,
    invalidMacs: 0,
    optedOut: 0,
    batchesPublished: 0,
    readingsPublished: 0,
    publishErrors: 0,
    bufferedReadings: 0,
    inFlightReadings: 0,
    lastSeq: 0,
  };
  const maxPending = options.maxPendingReadings ?? DEFAULT_MAX_PENDING_READINGS;
  let writableWaiters: (() => void)[] = [];
  const pendingReadings = () => stats.bufferedReadings + stats.inFlightReadings;
  function wakeWriters(): void {
    if (writableWaiters.length === 0 || pendingReadings() >= maxPending) return;
    const waiters = writableWaiters;
    writableWaiters = [];
    for (const wake of waiters) wake();
  }
  const wifi: Buffer<WifiReading> = { kind: 'wifi', readings: [], firstAtMs: 0 };
  const ble: Buffer<BleReading> = { kind: 'ble', readings: [], firstAtMs: 0 };
  const scale: Buffer<ScaleReading> = { kind: 'scale', readings: [], firstAtMs: 0 };
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;

  function publish<T>(buffer: Buffer<T>): void {
    if (buffer.readings.length === 0) return;
    const readings = buffer.readings;
    buffer.readings = [];
    stats.bufferedReadings -= readings.length;
    seq += 1;
    stats.lastSeq = seq;
    const payload = JSON.stringify({ v: 1, gw: options.gatewayId, seq, sentAt: clock.now(), readings });
    const topic = gatewayTopic(options.mallId, options.gatewayId, buffer.kind);
    if (options.intercept?.(topic, payload, seq)) {
      stats.batchesPublished++;
      stats.readingsPublished += readings.length;
      return;
    }
    stats.inFlightReadings += readings.length;
    const p = client.publishAsync(topic, payload, { qos: 1 }).then(
      () => {
        stats.batchesPublished++;
        stats.readingsPublished += readings.length;
      },
      (err: unknown) => {
        stats.publishErrors++;
        log.error({ err, seq }, 'batch publish failed');
      },
    );
    inFlight.add(p);
    void p.finally(() => {
      inFlight.delete(p);
      stats.inFlightReadings -= readings.length;
      wakeWriters();
    });
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
    await Promise.all([...inFlight]);
  }

  async function heartbeat(): Promise<void> {
    await flush();
    await client.publishAsync(statusTopic, statusPayload('online'), { qos: 1, retain: true });
  }

  const heartbeatMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
  const heartbeatTimer =
    heartbeatMs > 0
      ? setInterval(() => {
          heartbeat().catch((err: unknown) => log.warn({ err }, 'heartbeat failed'));
        }, heartbeatMs)
      : undefined;

  function whenWritable(): Promise<void> {
    if (pendingReadings() < maxPending) return Promise.resolve();
    // Over the mark: a full buffer can sit unsent until the flush timer, so send it now.
    publish(wifi);
    publish(ble);
    publish(scale);
    return new Promise((resolve) => writableWaiters.push(resolve));
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
    stats: () => ({ ...stats }),
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(timer);
      clearInterval(heartbeatTimer);
      await flush();
      await client.publishAsync(statusTopic, statusPayload('offline'), { qos: 1, retain: true });
      await client.endAsync();
    },
  };
}
