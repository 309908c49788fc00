import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import type { RawBleInput } from '../gateway.ts';
import type { ReadingSink, ReadingSource } from '../source.ts';
import { type EspresenseSkip, parseEspresenseTopic, toEspresenseSighting } from './espresense-message.ts';

// ESPresense bridge: subscribes to an ESPresense broker's `<prefix>/devices/+/+` and hands the
// sightings to the gateway in batches. A thin shell around espresense-message.ts.
//
// Lifecycle: start (connect; the first connection must succeed, like the gateway's own, so a
// wrong URL or password fails fast) → running (mqtt.js reconnects every `reconnectPeriodMs` and
// re-subscribes; messages sent while disconnected are lost: ESPresense publishes at QoS 0) →
// stop (disconnect, then hand over what is buffered, without waiting) → stopped.
// Batching: readings collect until `maxBatchReadings` or `flushIntervalMs` after the first one.
// Backpressure: after each batch the source waits for `sink.whenWritable()`; meanwhile readings
// collect up to `maxBufferedReadings`, and past that are dropped and counted (a broker cannot be
// paused, and ESPresense repeats a device within seconds).

export interface EspresenseSourceOptions {
  /** The ESPresense broker, `mqtt://host:1883` (or mqtts://, ws://). */
  url: string;
  username?: string;
  password?: string;
  /** ESPresense's topic prefix. Default `espresense`. */
  topicPrefix?: string;
  /** Default `mallflow-espresense-<random>`. */
  clientId?: string;
  /** ESPresense room → sensor id; other rooms are their own sensor id when valid as one. */
  rooms?: ReadonlyMap<string, string>;
  /** Default 200. */
  maxBatchReadings?: number;
  /** Default 100 ms. */
  flushIntervalMs?: number;
  /** Readings held while the gateway is backed up. Default 10,000. */
  maxBufferedReadings?: number;
  /** Default 1000 ms. */
  reconnectPeriodMs?: number;
  clock?: { now(): number };
  logger: Logger;
}

export interface EspresenseSource extends ReadingSource {
  stats(): Record<string, number>;
}

export class EspresenseSourceError extends Error {
  readonly code = 'ESPRESENSE_CONNECT_FAILED';
}

const DEFAULT_PREFIX = 'espresense';
const DEFAULT_MAX_BATCH_READINGS = 200;
const DEFAULT_FLUSH_INTERVAL_MS = 100;
const DEFAULT_MAX_BUFFERED_READINGS = 10_000;
const DEFAULT_RECONNECT_PERIOD_MS = 1000;
const LOG_INTERVAL_MS = 10_000;

/** The broker URL without credentials, for logs and errors. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(not a URL)'; // new URL throws TypeError on an unparsable URL: say so, nothing more
  }
}

type Stats = Record<'messages' | 'readings' | 'dropped' | 'connects' | 'connected' | EspresenseSkip, number>;

export function createEspresenseSource(options: EspresenseSourceOptions): EspresenseSource {
  const prefix = options.topicPrefix ?? DEFAULT_PREFIX;
  const filter = `${prefix}/devices/+/+`;
  const clock = options.clock ?? Date;
  const log = options.logger.child({ source: 'espresense' });
  const maxBatch = options.maxBatchReadings ?? DEFAULT_MAX_BATCH_READINGS;
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  const maxBuffered = options.maxBufferedReadings ?? DEFAULT_MAX_BUFFERED_READINGS;
  const brokerUrl = displayUrl(options.url);
  const stats: Stats = {
    messages: 0,
    readings: 0,
    dropped: 0,
    connects: 0,
    connected: 0,
    badTopic: 0,
    badJson: 0,
    badPayload: 0,
    badRssi: 0,
    unknownRoom: 0,
    noDevice: 0,
  };
  let client: mqtt.MqttClient | undefined;
  let sink: ReadingSink | undefined;
  let buffer: RawBleInput[] = [];
  let timer: NodeJS.Timeout | undefined;
  /** Set while waiting for the sink to take more after a batch. */
  let writable: Promise<void> | undefined;
  let lastErrorLogMs = Number.NEGATIVE_INFINITY;

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    if (writable || buffer.length === 0 || !sink) return;
    const batch = buffer;
    buffer = [];
    sink.pushBle(batch);
    stats.readings += batch.length;
    const wait = sink.whenWritable().then(
      () => {
        writable = undefined;
        if (buffer.length >= maxBatch) flush();
        else if (buffer.length > 0 && !timer) timer = setTimeout(flush, flushIntervalMs);
      },
      (err: unknown) => {
        // The gateway's whenWritable never rejects; a sink that does is not waited for again.
        writable = undefined;
        log.error({ err }, 'the sink failed while the ESPresense source waited for it');
      },
    );
    writable = wait;
  }

  function onMessage(topic: string, payload: Buffer): void {
    stats.messages++;
    const parsedTopic = parseEspresenseTopic(topic, prefix);
    if (!parsedTopic) {
      stats.badTopic++;
      return;
    }
    const result = toEspresenseSighting(parsedTopic, payload.toString('utf8'), {
      rooms: options.rooms,
      nowMs: clock.now(),
    });
    if (!result.ok) {
      stats[result.reason]++;
      return;
    }
    if (buffer.length >= maxBuffered) {
      stats.dropped++;
      return;
    }
    buffer.push(result.reading);
    if (buffer.length >= maxBatch) flush();
    else if (!timer) timer = setTimeout(flush, flushIntervalMs);
  }

  function onError(err: Error): void {
    const now = clock.now();
    if (now - lastErrorLogMs < LOG_INTERVAL_MS) return;
    lastErrorLogMs = now;
    log.warn({ err, url: brokerUrl }, 'ESPresense broker connection error');
  }

  return {
    async start(s) {
      sink = s;
      try {
        client = await mqtt.connectAsync(options.url, {
          protocolVersion: 4,
          clientId: options.clientId ?? `mallflow-espresense-${randomBytes(4).toString('hex')}`,
          username: options.username,
          password: options.password,
          clean: true,
          reconnectPeriod: options.reconnectPeriodMs ?? DEFAULT_RECONNECT_PERIOD_MS,
          connectTimeout: 10_000,
        });
      } catch (err) {
        throw new EspresenseSourceError(`cannot connect to the ESPresense broker ${brokerUrl}`, {
          cause: err,
        });
      }
      stats.connects++;
      stats.connected = 1;
      client.on('error', onError);
      client.on('message', onMessage);
      client.on('connect', () => {
        stats.connects++;
        stats.connected = 1;
      });
      client.on('close', () => {
        stats.connected = 0;
      });
      const granted = await client.subscribeAsync(filter, { qos: 0 });
      if (granted.some((g) => g.qos === 128)) {
        await client.endAsync();
        throw new EspresenseSourceError(`the ESPresense broker refused a subscription to ${filter}`);
      }
      log.info({ url: brokerUrl, filter }, 'ESPresense source subscribed');
    },
    async stop() {
      await client?.endAsync();
      stats.connected = 0;
      clearTimeout(timer);
      timer = undefined;
      // Hand over what is buffered without waiting for the gateway (at most maxBufferedReadings):
      // a gateway that cannot send must not keep the bridge from stopping.
      if (sink && buffer.length > 0) {
        sink.pushBle(buffer);
        stats.readings += buffer.length;
        buffer = [];
      }
      sink = undefined;
    },
    stats: () => ({ ...stats }),
  };
}
