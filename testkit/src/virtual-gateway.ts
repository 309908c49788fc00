import mqtt from 'mqtt';
import type { Logger } from 'pino';
import type { ReadingKind } from '../../core/src/messages.ts';
import { gatewayTopic } from '../../core/src/topics.ts';
import { createGateway, type Gateway } from '../../gateway/src/gateway.ts';
import type { VirtualClock } from './duration.ts';
import type { GatewayLogin } from './test-broker.ts';

// A virtual gateway is the real gateway (pseudonyms, batching, seq, status and will) on a virtual
// clock, plus one-call faults. Faults that bypass the gateway's own publishing go out on a second
// connection of the same account, so the broker's ACL still applies to them.

export interface SentBatch {
  topic: string;
  payload: string;
  seq: number;
}

export interface VirtualGateway {
  gatewayId: string;
  login: GatewayLogin;
  gateway: Gateway;
  /** Every batch the gateway numbered, in order (held ones included). */
  sent: SentBatch[];
  /** Cuts the TCP connection without a DISCONNECT: the broker publishes the `offline` will; the gateway reconnects. */
  dropConnection(): void;
  /** Publishes the last batch again, same seq: analytics must not count it twice. */
  duplicateLastBatch(): Promise<void>;
  /** Holds the next batch and delivers it after the one that follows it. */
  reorderNextBatch(): void;
  /** Publishes any payload on one of this gateway's topics (default: truncated JSON). */
  publishMalformed(kind?: ReadingKind, payload?: string | Buffer): Promise<void>;
  /** Publishes a payload of `bytes` bytes; over the broker's limit, the connection is closed. */
  publishOversized(bytes: number, kind?: ReadingKind): Promise<{ closed: boolean }>;
  close(): Promise<void>;
}

export async function createVirtualGateway(options: {
  url: string;
  login: GatewayLogin;
  siteSecret: string;
  clock: VirtualClock;
  batchMaxReadings: number;
  logger: Logger;
}): Promise<VirtualGateway> {
  const { login } = options;
  const sent: SentBatch[] = [];
  let client: mqtt.MqttClient | undefined;
  let raw: mqtt.MqttClient | undefined;
  let reorder: 'off' | 'hold-next' | 'holding' = 'off';
  let held: SentBatch | undefined;
  const rawClient = async () => {
    raw ??= await mqtt.connectAsync(options.url, {
      username: login.username,
      password: login.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      clientId: `kit-raw-${login.gatewayId}-${Math.random().toString(36).slice(2, 8)}`,
    });
    return raw;
  };
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const gateway = await createGateway({
    mqttUrl: options.url,
    mallId: login.mallId,
    gatewayId: login.gatewayId,
    username: login.username,
    password: login.password,
    siteSecret: options.siteSecret,
    maxBatchReadings: options.batchMaxReadings,
    flushIntervalMs: 3_600_000, // virtual time: the kit flushes at the end of each advance
    heartbeatIntervalMs: 0,
    clock: options.clock,
    logger: options.logger,
    onClient: (c) => {
      client = c;
    },
    intercept(topic, payload, seq) {
      const batch = { topic, payload, seq };
      sent.push(batch);
      if (reorder === 'hold-next') {
        reorder = 'holding';
        held = batch;
        return true;
      }
      if (reorder === 'holding' && held) {
        const first = held;
        reorder = 'off';
        held = undefined;
        track(
          rawClient().then(async (c) => {
            await c.publishAsync(topic, payload, { qos: 1 });
            await c.publishAsync(first.topic, first.payload, { qos: 1 });
          }),
        );
        return true;
      }
      return false;
    },
  });
  const flushGateway = gateway.flush;
  gateway.flush = async () => {
    await flushGateway();
    await Promise.all([...pending]);
  };

  return {
    gatewayId: login.gatewayId,
    login,
    gateway,
    sent,
    dropConnection() {
      if (!client) throw new Error('the gateway is not connected');
      client.stream.destroy();
    },
    async duplicateLastBatch() {
      const last = sent.at(-1);
      if (!last) throw new Error(`gateway ${login.gatewayId} has sent no batch yet`);
      await (await rawClient()).publishAsync(last.topic, last.payload, { qos: 1 });
    },
    reorderNextBatch() {
      reorder = 'hold-next';
    },
    async publishMalformed(kind = 'wifi', payload = '{"v":1,"gw":') {
      await (await rawClient()).publishAsync(gatewayTopic(login.mallId, login.gatewayId, kind), payload, {
        qos: 1,
      });
    },
    async publishOversized(bytes, kind = 'wifi') {
      const c = await rawClient();
      raw = undefined; // the broker will close this connection
      const closed = new Promise<boolean>((resolve) => {
        c.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 5_000).unref();
      });
      // A refused QoS 1 publish gets no PUBACK, so do not await it: await the close instead.
      c.publish(gatewayTopic(login.mallId, login.gatewayId, kind), Buffer.alloc(bytes, 0x20), { qos: 1 });
      const result = { closed: await closed };
      c.end(true);
      return result;
    },
    async close() {
      await Promise.all([...pending]);
      await gateway.close();
      await raw?.endAsync();
    },
  };
}
