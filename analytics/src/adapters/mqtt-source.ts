import mqtt from 'mqtt';
import type { Logger } from 'pino';

// Subscribes QoS 1 with a persistent session, and acknowledges each message only after
// `onMessage` resolved (mqtt.js sends the PUBACK when handleMessage's callback runs, and reads
// the next packet only then): the worker never holds more than one message it has not committed,
// and TCP backpressure reaches the broker instead of memory growing here.

export interface MqttSourceOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  filters: readonly string[];
  logger: Logger;
  onMessage(topic: string, payload: Buffer): Promise<void>;
  /** An error `onMessage` could not handle: the process should stop. */
  onFatal(err: unknown): void;
}

export interface MqttSource {
  close(): Promise<void>;
}

export async function createMqttSource(options: MqttSourceOptions): Promise<MqttSource> {
  const log = options.logger;
  const client = mqtt.connect(options.url, {
    protocolVersion: 4,
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    clean: false,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    manualConnect: true,
  });
  let fatal = false;
  client.handleMessage = (packet, done) => {
    if (fatal) return; // never acknowledge after a fatal error: the broker keeps the message
    options.onMessage(packet.topic, packet.payload as Buffer).then(
      () => done(),
      (err: unknown) => {
        fatal = true;
        options.onFatal(err);
      },
    );
  };
  client.on('error', (err) => log.warn({ err }, 'mqtt client error'));
  client.on('offline', () => log.warn('mqtt broker unreachable, reconnecting'));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.connect();
  });
  const granted = await client.subscribeAsync(
    options.filters.map((f) => f),
    { qos: 1 },
  );
  const refused = granted.filter((g) => g.qos === 128);
  if (refused.length > 0) {
    await client.endAsync(true);
    throw new Error(`broker refused subscription to ${refused.map((g) => g.topic).join(', ')}`);
  }
  log.info({ filters: options.filters }, 'subscribed');
  return {
    async close() {
      await client.endAsync();
    },
  };
}
