import { type AddressInfo, createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeldAcks, holdAcks } from '../../analytics/src/adapters/held-acks.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Held acknowledgements against a real Aedes with a persistent session: a message is acknowledged
// only once released and every earlier one was; whatever was not acknowledged when the connection
// closed comes back on the next one; and the client reads on while acknowledgements wait.

describe('held PUBACKs', () => {
  let aedes: Aedes;
  let server: ReturnType<typeof createServer>;
  let url: string;
  beforeAll(async () => {
    aedes = await Aedes.createBroker();
    server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve())));
  });

  async function subscriber(clientId: string) {
    const client = mqtt.connect(url, { protocolVersion: 4, clientId, clean: false, reconnectPeriod: 0 });
    const acks: HeldAcks = holdAcks(client);
    const received: { body: string; release(): void }[] = [];
    client.handleMessage = (packet, done) => {
      const held = acks.hold(packet.messageId as number);
      received.push({ body: String(packet.payload), release: held.release });
      done();
    };
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await client.subscribeAsync('held/#', { qos: 1 });
    return { client, acks, received };
  }

  async function publish(bodies: string[]) {
    const pub = await mqtt.connectAsync(url, { protocolVersion: 4 });
    for (const b of bodies) await pub.publishAsync('held/x', b, { qos: 1 });
    await pub.endAsync();
  }

  it('reads every message while none is acknowledged', async () => {
    const s = await subscriber('held-reads');
    await publish(Array.from({ length: 200 }, (_, i) => `m${i}`));
    await waitFor(() => s.received.length === 200, { what: '200 messages read with 0 acknowledged' });
    expect(s.acks.size()).toBe(200);
    await s.client.endAsync(true);
  });

  it('acknowledges in arrival order only what was released; the rest comes back', async () => {
    const first = await subscriber('held-order');
    await publish(['a', 'b', 'c', 'd']);
    await waitFor(() => first.received.length === 4, { what: '4 messages' });
    // b, c and d are released but wait behind a; then a and b go, c and d are released last.
    for (const m of first.received.slice(1)) m.release();
    expect(first.acks.size()).toBe(4);
    first.received[0]?.release();
    expect(first.acks.size()).toBe(0);
    await first.client.endAsync();

    const second = await subscriber('held-order');
    await new Promise((r) => setTimeout(r, 300));
    expect(second.received.map((m) => m.body)).toEqual([]);
    await publish(['e', 'f', 'g']);
    await waitFor(() => second.received.length === 3, { what: 'e, f, g' });
    second.received[1]?.release(); // f waits behind e, g is never released
    await second.client.endAsync();

    const third = await subscriber('held-order');
    await waitFor(() => third.received.length === 3, { what: 'the unacknowledged e, f, g again' });
    expect(third.received.map((m) => m.body)).toEqual(['e', 'f', 'g']);
    for (const m of third.received) m.release();
    await third.client.endAsync();

    const fourth = await subscriber('held-order');
    await new Promise((r) => setTimeout(r, 300));
    expect(fourth.received).toEqual([]);
    await fourth.client.endAsync(true);
  });
});
