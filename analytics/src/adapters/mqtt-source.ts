import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { holdAcks } from './held-acks.ts';

// Subscribes QoS 1 with a persistent session. Each message goes to `onMessage` in arrival order,
// one at a time; the next is read once `onMessage` resolves (the worker queues it; it resolves
// later only when its bounded queue is full, and then TCP backpressure reaches the broker instead
// of memory growing here). The PUBACK is held (`held-acks.ts`) until the worker calls the
// message's `ack`, after its commit.
//
// Reading stuck for long (the database is away and the queue is full): mqtt.js cannot read the
// PINGRESP queued behind it, and after 1.5 keepalives would drop the connection. A reconnect makes Aedes re-send every
// unacknowledged message while new ones flow again, so batches can arrive out of order (later than
// the allowed lateness) besides twice. So while a message is in hand longer than half a keepalive,
// the source sends PINGREQs itself and restarts mqtt.js' keepalive timer: the broker still hears
// from the worker, and a connection that really dies still ends in 'close'.
//
// A reconnect can still happen while a message is stuck (the broker restarts): the broker then
// redelivers the unacknowledged messages on a new packet pump. Handling is chained so that the
// redelivered copy waits for the stuck original instead of running beside it: still one message
// at a time. The original's late PUBACK carries the packet id the broker reused for the copy, and
// the batch ledger makes the copy a counted duplicate.

const DEFAULT_KEEPALIVE_SEC = 60;

export interface MqttSourceOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  /** MQTT keepalive. Default 60 s. */
  keepaliveSec?: number | undefined;
  filters: readonly string[];
  logger: Logger;
  /** Takes a message; `ack` acknowledges it (call it once it is committed). */
  onMessage(topic: string, payload: Buffer, ack: () => void): Promise<void>;
  /** An error `onMessage` could not handle: the process should stop. */
  onFatal(err: unknown): void;
}

export interface MqttSource {
  /**
   * Stops taking messages, waits for the one being taken, runs `beforeDisconnect` (the worker
   * commits and acknowledges what it holds), then disconnects.
   */
  close(beforeDisconnect?: () => Promise<void>): Promise<void>;
}

export async function createMqttSource(options: MqttSourceOptions): Promise<MqttSource> {
  const log = options.logger;
  const client = mqtt.connect(options.url, {
    protocolVersion: 4,
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    clean: false,
    keepalive: options.keepaliveSec ?? DEFAULT_KEEPALIVE_SEC,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    manualConnect: true,
  });
  const acks = holdAcks(client);
  let fatal = false;
  let closing = false;
  let previous: Promise<unknown> = Promise.resolve();
  let inHandSinceMs: number | undefined;
  client.handleMessage = (packet, done) => {
    // QoS 1 messages have an id to acknowledge; a QoS 0 one has nothing to hold.
    const held = packet.qos === 1 && packet.messageId !== undefined ? acks.hold(packet.messageId) : undefined;
    const ack = held ? held.release : () => undefined;
    const handled = previous.then(async () => {
      if (fatal || closing) return false;
      inHandSinceMs = Date.now();
      try {
        await options.onMessage(packet.topic, packet.payload as Buffer, ack);
      } finally {
        inHandSinceMs = undefined;
      }
      return true;
    });
    previous = handled.catch(() => undefined); // the error goes to onFatal below
    handled.then(
      (ok) => {
        // Never acknowledge after a fatal error or once closing: the broker keeps the message.
        if (ok) done();
      },
      (err: unknown) => {
        fatal = true;
        // Closing, the worker gives up on the database (see analytics.ts close): not a failure.
        if (closing) log.warn({ err }, 'message left unacknowledged at shutdown; the broker keeps it');
        else options.onFatal(err);
      },
    );
  };
  const keepaliveMs = (options.keepaliveSec ?? DEFAULT_KEEPALIVE_SEC) * 1000;
  const stuckPinger = setInterval(() => {
    if (inHandSinceMs === undefined || Date.now() - inHandSinceMs < keepaliveMs / 2) return;
    if (!client.connected) return;
    client.sendPing();
    client.reschedulePing(true);
  }, keepaliveMs / 2);
  stuckPinger.unref();
  client.on('error', (err) => log.warn({ err }, 'mqtt client error'));
  client.on('offline', () => log.warn('mqtt broker unreachable, reconnecting'));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.connect();
    });
  } catch (err) {
    clearInterval(stuckPinger);
    client.end(true);
    throw err;
  }
  const granted = await client.subscribeAsync(
    options.filters.map((f) => f),
    { qos: 1 },
  );
  const refused = granted.filter((g) => g.qos === 128);
  if (refused.length > 0) {
    clearInterval(stuckPinger);
    await client.endAsync(true);
    throw new Error(`broker refused subscription to ${refused.map((g) => g.topic).join(', ')}`);
  }
  log.info({ filters: options.filters }, 'subscribed');
  return {
    async close(beforeDisconnect) {
      closing = true;
      clearInterval(stuckPinger);
      await previous;
      await beforeDisconnect?.();
      await client.endAsync();
    },
  };
}
