import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';

// The ingest bench's gateways, in a process of their own: in a mall they are other machines, so
// their MQTT clients must not share the measured process's core. Sent by `ingest-e2e.ts` over
// IPC: the broker, each gateway's login and a file of its payloads. Connects, answers 'ready',
// publishes on 'go' (QoS 1, 16 in flight per gateway, as the outbox sends), then each gateway's
// heartbeat, and answers 'done'.

export interface PublisherJob {
  brokerUrl: string;
  maxInFlight: number;
  gateways: {
    username: string;
    password: string;
    topic: string;
    statusTopic: string;
    status: string;
    payloadsFile: string;
  }[];
}

const send = (message: unknown) => process.send?.(message);

async function run(job: PublisherJob): Promise<void> {
  const gateways = await Promise.all(
    job.gateways.map(async (g) => ({
      ...g,
      payloads: JSON.parse(readFileSync(g.payloadsFile, 'utf8')) as string[],
      client: await mqtt.connectAsync(job.brokerUrl, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        username: g.username,
        password: g.password,
      }),
    })),
  );
  send('ready');
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  await Promise.all(
    gateways.map(async ({ client, topic, payloads, statusTopic, status }) => {
      const inFlight = new Set<Promise<unknown>>();
      for (const body of payloads) {
        const sent = client.publishAsync(topic, body, { qos: 1 });
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
        if (inFlight.size >= job.maxInFlight) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      await client.publishAsync(statusTopic, status, { qos: 1 });
    }),
  );
  send('done');
  await Promise.all(gateways.map((g) => g.client.endAsync()));
}

process.once('message', (job: PublisherJob) => {
  run(job).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
