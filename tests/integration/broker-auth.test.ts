import { connect as connectTcp, type Socket } from 'node:net';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { type Account, AccountStore, generatePassword, hashPassword } from '../../broker/src/accounts.ts';
import { createBroker, type RunningBroker } from '../../broker/src/broker.ts';
import { gatewayTopic } from '../../core/src/topics.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A real broker on ephemeral ports and real mqtt.js clients speaking MQTT 3.1.1.

const MAX_PAYLOAD_BYTES = 8 * 1024;

interface Login {
  username: string;
  password: string;
}

const logins: Record<
  'gw1' | 'gw2' | 'other' | 'analytics' | 'dashboard',
  Login & Omit<Account, 'passwordHash'>
> = {
  gw1: {
    username: 'gw-joy-01',
    password: generatePassword(),
    role: 'gateway',
    mallId: 'joy',
    gatewayId: 'gw-01',
  },
  gw2: {
    username: 'gw-joy-02',
    password: generatePassword(),
    role: 'gateway',
    mallId: 'joy',
    gatewayId: 'gw-02',
  },
  other: {
    username: 'gw-sky-01',
    password: generatePassword(),
    role: 'gateway',
    mallId: 'sky',
    gatewayId: 'gw-01',
  },
  analytics: { username: 'analytics', password: generatePassword(), role: 'analytics' },
  dashboard: { username: 'dashboard', password: generatePassword(), role: 'dashboard' },
};
const accounts: Account[] = [];

beforeAll(async () => {
  for (const { password, ...account } of Object.values(logins)) {
    accounts.push({ ...account, passwordHash: await hashPassword(password) });
  }
});

async function startBroker(): Promise<RunningBroker> {
  const broker = await createBroker({
    port: 0,
    wsPort: 0,
    accounts: new AccountStore(accounts),
    maxPayloadBytes: MAX_PAYLOAD_BYTES,
    logger: pino({ level: 'silent' }),
  });
  onTestFinished(() => broker.close());
  return broker;
}

async function connectAs(url: string, login: Login, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    username: login.username,
    password: login.password,
    ...extra,
  });
  onTestFinished(() => client.endAsync(true));
  return client;
}

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

function collect(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  return received;
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.disconnected || !client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

const WIFI_1 = gatewayTopic('joy', 'gw-01', 'wifi');
const WIFI_2 = gatewayTopic('joy', 'gw-02', 'wifi');

describe('broker auth and ACL (real broker, real clients)', () => {
  test('a gateway publishes QoS 1 under its prefix and analytics receives it', async () => {
    const broker = await startBroker();
    const analytics = await connectAs(broker.url, logins.analytics);
    const received = collect(analytics);
    const granted = await analytics.subscribeAsync('mallflow/v1/+/gw/+/+', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);

    const gw = await connectAs(broker.url, logins.gw1);
    // Resolves once the PUBACK arrives.
    await gw.publishAsync(WIFI_1, '{"v":1}', { qos: 1 });

    await waitFor(() => received.length === 1, { what: 'the batch at analytics', describe: () => received });
    expect(received[0]).toMatchObject({ topic: WIFI_1, payload: '{"v":1}' });
    expect(broker.stats()).toMatchObject({ connected: 2, refusedAuth: 0, refusedPublish: 0 });
  });

  test('a wrong password or an unknown user is refused with "bad username or password"', async () => {
    const broker = await startBroker();
    const options = { protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: 5_000 };
    await expect(
      connectAsync(broker.url, { ...options, username: logins.gw1.username, password: 'wrong' }),
    ).rejects.toMatchObject({ code: 4 });
    await expect(
      connectAsync(broker.url, { ...options, username: 'nobody', password: 'x' }),
    ).rejects.toMatchObject({
      code: 4,
    });
    await expect(connectAsync(broker.url, options)).rejects.toMatchObject({ code: 4 });
    expect(broker.stats().refusedAuth).toBe(3);
    await waitFor(() => broker.stats().connected === 0, { what: 'no clients left' });
  });

  test.each([
    ['another gateway of the same mall', WIFI_2],
    ['the same gateway id in another mall', gatewayTopic('sky', 'gw-01', 'wifi')],
    ['an unknown kind under its own prefix', 'mallflow/v1/joy/gw/gw-01/config'],
    ['a deeper level under its own prefix', 'mallflow/v1/joy/gw/gw-01/wifi/x'],
    ['$SYS', '$SYS/fake/heartbeat'],
  ])('a gateway publishing to %s is disconnected and nothing is delivered', async (_what, topic) => {
    const broker = await startBroker();
    const analytics = await connectAs(broker.url, logins.analytics);
    const received = collect(analytics);
    await analytics.subscribeAsync('mallflow/v1/+/gw/+/+', { qos: 1 });

    const gw = await connectAs(broker.url, logins.gw1);
    const gone = closed(gw);
    // No PUBACK comes for a refused QoS 1 publish: the broker closes the connection instead.
    gw.publish(topic, 'forged', { qos: 1 });
    await gone;
    await waitFor(() => broker.stats().refusedPublish === 1, { what: 'the refusal counted' });

    // A later legitimate message arrives; the forged one never does.
    const gw2 = await connectAs(broker.url, logins.gw2);
    await gw2.publishAsync(WIFI_2, 'real', { qos: 1 });
    await waitFor(() => received.some((m) => m.payload === 'real'), { what: 'the real batch' });
    expect(received.map((m) => m.payload)).toEqual(['real']);
  });

  test('a gateway may not subscribe (granted QoS 128) but stays connected', async () => {
    const broker = await startBroker();
    const gw = await connectAs(broker.url, logins.gw1);
    for (const filter of ['mallflow/v1/joy/gw/gw-01/+', 'mallflow/v1/+/gw/+/+', '#', '$SYS/#']) {
      await expect(gw.subscribeAsync(filter, { qos: 1 })).rejects.toMatchObject({
        packet: { granted: [128] },
      });
    }
    expect(broker.stats().refusedSubscribe).toBe(4);
    expect(gw.connected).toBe(true);
    await expect(gw.publishAsync(WIFI_1, 'still allowed', { qos: 1 })).resolves.toBeDefined();
  });

  test('analytics may subscribe to narrowings of the gateway filter only; dashboard to status only', async () => {
    const broker = await startBroker();
    const analytics = await connectAs(broker.url, logins.analytics);
    for (const filter of ['mallflow/v1/joy/gw/+/wifi', 'mallflow/v1/joy/gw/gw-01/+']) {
      await expect(analytics.subscribeAsync(filter, { qos: 1 })).resolves.toEqual([
        { topic: filter, qos: 1 },
      ]);
    }
    for (const filter of ['#', 'mallflow/#', 'mallflow/v1/+/gw/+/#', '$SYS/#']) {
      await expect(analytics.subscribeAsync(filter)).rejects.toMatchObject({ packet: { granted: [128] } });
    }
    const dashboard = await connectAs(broker.url, logins.dashboard);
    await expect(dashboard.subscribeAsync('mallflow/v1/+/gw/+/status')).resolves.toHaveLength(1);
    await expect(dashboard.subscribeAsync('mallflow/v1/+/gw/+/wifi')).rejects.toMatchObject({
      packet: { granted: [128] },
    });
    await expect(dashboard.subscribeAsync('mallflow/v1/+/gw/+/+')).rejects.toMatchObject({
      packet: { granted: [128] },
    });
    expect(broker.stats().refusedSubscribe).toBe(6);

    // Neither may publish, not even to a gateway topic.
    for (const client of [analytics, dashboard]) {
      const gone = closed(client);
      client.publish(gatewayTopic('joy', 'gw-01', 'status'), 'forged', { qos: 1 });
      await gone;
    }
    expect(broker.stats().refusedPublish).toBe(2);
  });

  test('an oversized payload closes the connection and is not delivered', async () => {
    const broker = await startBroker();
    const analytics = await connectAs(broker.url, logins.analytics);
    const received = collect(analytics);
    await analytics.subscribeAsync('mallflow/v1/+/gw/+/+', { qos: 1 });

    // Far over: refused by the frame limit from the packet header.
    const gw = await connectAs(broker.url, logins.gw1);
    let gone = closed(gw);
    gw.publish(WIFI_1, Buffer.alloc(MAX_PAYLOAD_BYTES * 4, 0x61), { qos: 1 });
    await gone;
    // Just over: within the frame headroom, refused by authorizePublish.
    const gwAgain = await connectAs(broker.url, logins.gw1);
    gone = closed(gwAgain);
    gwAgain.publish(WIFI_1, Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x62), { qos: 1 });
    await gone;
    await waitFor(() => broker.stats().oversize === 2, {
      what: 'two oversize refusals',
      describe: broker.stats,
    });

    // Exactly the limit is fine.
    const gw2 = await connectAs(broker.url, logins.gw2);
    await gw2.publishAsync(WIFI_2, Buffer.alloc(MAX_PAYLOAD_BYTES, 0x63), { qos: 1 });
    await waitFor(() => received.length > 0, { what: 'the batch at the limit' });
    expect(received.map((m) => m.payload.length)).toEqual([MAX_PAYLOAD_BYTES]);
  });

  test('the frame limit closes the socket on the header alone, before any body arrives', async () => {
    const broker = await startBroker();
    const socket: Socket = connectTcp(broker.port, '127.0.0.1');
    onTestFinished(() => {
      socket.destroy();
    });
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {
      // ECONNRESET or EPIPE: the broker may reset the socket; closing it is what is tested.
    });
    // PUBLISH announcing 268,435,455 bytes (the MQTT maximum), then nothing.
    socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
    await socketClosed;
    await waitFor(() => broker.stats().oversize === 1, { what: 'the oversize counted' });
  });

  test('MQTT over WebSocket: a gateway connects and publishes', async () => {
    const broker = await startBroker();
    expect(broker.wsUrl).toBe(`ws://127.0.0.1:${broker.wsPort}`);
    const analytics = await connectAs(broker.url, logins.analytics);
    const received = collect(analytics);
    await analytics.subscribeAsync('mallflow/v1/+/gw/+/+', { qos: 1 });

    const gw = await connectAs(broker.wsUrl!, logins.gw1);
    await gw.publishAsync(WIFI_1, 'over ws', { qos: 1 });
    await waitFor(() => received.length === 1, { what: 'the ws batch' });
    expect(received[0]).toMatchObject({ topic: WIFI_1, payload: 'over ws' });

    // The same rules apply over WebSocket.
    const gone = closed(gw);
    gw.publish(WIFI_2, 'forged over ws', { qos: 1 });
    await gone;
    expect(broker.stats().refusedPublish).toBe(1);
    await expect(
      connectAsync(broker.wsUrl!, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        username: 'analytics',
        password: 'no',
      }),
    ).rejects.toMatchObject({ code: 4 });
  });

  test.each([
    ['closed (FIN)', (socket: Socket) => socket.destroy()],
    ['reset (RST)', (socket: Socket) => socket.resetAndDestroy()],
  ])(
    "a gateway's last will (retained offline status) reaches analytics when its socket is %s",
    async (_how, kill) => {
      const broker = await startBroker();
      const analytics = await connectAs(broker.url, logins.analytics);
      const received = collect(analytics);
      await analytics.subscribeAsync('mallflow/v1/joy/gw/+/status', { qos: 1 });

      const statusTopic = gatewayTopic('joy', 'gw-01', 'status');
      const offline = JSON.stringify({ v: 1, gw: 'gw-01', state: 'offline' });
      const gw = await connectAs(broker.url, logins.gw1, {
        will: { topic: statusTopic, payload: Buffer.from(offline), qos: 1, retain: true },
      });
      await gw.publishAsync(statusTopic, JSON.stringify({ v: 1, gw: 'gw-01', state: 'online' }), {
        qos: 1,
        retain: true,
      });
      await waitFor(() => received.length === 1, { what: 'the online status' });

      kill(gw.stream as Socket);
      await waitFor(() => received.some((m) => m.payload === offline), {
        what: 'the last will',
        describe: () => received,
      });
      expect(received.at(-1)).toMatchObject({ topic: statusTopic, retain: false });

      // Retained: a subscriber arriving later sees the gateway offline.
      const late = await connectAs(broker.url, logins.dashboard);
      const lateReceived = collect(late);
      await late.subscribeAsync('mallflow/v1/+/gw/+/status', { qos: 1 });
      await waitFor(() => lateReceived.length === 1, { what: 'the retained status' });
      expect(lateReceived[0]).toMatchObject({ topic: statusTopic, payload: offline, retain: true });
    },
  );

  test('a last will outside the gateway status topic is refused at CONNECT', async () => {
    const broker = await startBroker();
    const base = { protocolVersion: 4 as const, reconnectPeriod: 0, ...logins.gw1 };
    for (const topic of [WIFI_1, gatewayTopic('joy', 'gw-02', 'status')]) {
      await expect(
        connectAsync(broker.url, {
          ...base,
          will: { topic, payload: Buffer.from('x'), qos: 1, retain: true },
        }),
      ).rejects.toMatchObject({ code: 5 });
    }
    await expect(
      connectAsync(broker.url, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...logins.analytics,
        will: {
          topic: gatewayTopic('joy', 'gw-01', 'status'),
          payload: Buffer.from('x'),
          qos: 0,
          retain: false,
        },
      }),
    ).rejects.toMatchObject({ code: 5 });
  });

  test("an account cannot take over another account's live client id", async () => {
    const broker = await startBroker();
    const gw = await connectAs(broker.url, logins.gw1, { clientId: 'shared-id' });
    await expect(
      connectAsync(broker.url, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        clientId: 'shared-id',
        ...logins.gw2,
      }),
    ).rejects.toMatchObject({ code: 2 });
    expect(gw.connected).toBe(true);
    // The same account may (a reconnecting gateway replaces its stale session).
    const gone = closed(gw);
    await connectAs(broker.url, logins.gw1, { clientId: 'shared-id' });
    await gone;
  });

  test('refusals are logged at warn, at most once per interval per kind, without passwords', async () => {
    const lines: string[] = [];
    const broker = await createBroker({
      port: 0,
      accounts: new AccountStore(accounts),
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
      logger: pino({ level: 'warn' }, { write: (line: string) => lines.push(line) }),
    });
    onTestFinished(() => broker.close());
    const options = { protocolVersion: 4 as const, reconnectPeriod: 0, username: logins.gw1.username };
    for (const password of ['guess-1', 'guess-2', 'guess-3']) {
      await expect(connectAsync(broker.url, { ...options, password })).rejects.toMatchObject({ code: 4 });
    }
    expect(broker.stats().refusedAuth).toBe(3);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 40, username: 'gw-joy-01', total: 1, remote: '127.0.0.1' });
    expect(lines.join('')).not.toContain('guess');
  });

  test('MQTT 5 clients are refused (Aedes speaks 3.1.1 only)', async () => {
    const broker = await startBroker();
    await expect(
      connectAsync(broker.url, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 3_000,
        ...logins.gw1,
      }),
    ).rejects.toThrow();
  });

  test('close() ends every connection and listener and leaves no handles', async () => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
    const before = tcpHandles();
    const broker = await startBroker();
    const gw = await connectAs(broker.url, logins.gw1);
    await connectAs(broker.wsUrl!, logins.analytics);
    // A socket that never sends CONNECT is not Aedes' to close; ours is.
    const idle = connectTcp(broker.port, '127.0.0.1');
    idle.on('error', () => {
      // ECONNRESET: the broker destroys it on close, which is the point.
    });
    await new Promise((resolve) => idle.once('connect', resolve));
    const idleClosed = new Promise((resolve) => idle.once('close', resolve));

    await broker.close();
    await broker.close();
    await idleClosed;
    await waitFor(() => !gw.connected, { what: 'the gateway disconnected' });
    await waitFor(() => tcpHandles() <= before, {
      what: 'no TCP handles left',
      describe: () => process.getActiveResourcesInfo(),
    });
  });
});
