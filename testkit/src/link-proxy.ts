import { createConnection, createServer, type Server, type Socket } from 'node:net';

// A TCP hop between a client and the broker that a test can cut and restore: while cut, the port
// refuses connections and every open connection is reset, as when a store's uplink or the broker
// goes down. The broker itself keeps running (its subscribers stay subscribed).

export interface LinkProxy {
  /** `mqtt://127.0.0.1:port` of the proxy. */
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  readonly isCut: boolean;
  close(): Promise<void>;
}

export async function startLinkProxy(targetUrl: string): Promise<LinkProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let cut = false;

  function onConnection(client: Socket): void {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // A reset on one side ends the other: the error itself is the expected outcome of a cut.
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  async function listen(): Promise<void> {
    const s = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    const address = s.address();
    if (address && typeof address === 'object') port = address.port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  await listen();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get isCut() {
      return cut;
    },
    async cut() {
      cut = true;
      await stop();
    },
    async restore() {
      if (!cut) return;
      cut = false;
      await listen();
    },
    close: stop,
  };
}
