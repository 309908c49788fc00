import { createConnection, createServer, type Server, type Socket } from 'node:net';

// A TCP hop in front of PostgreSQL that, once armed, forwards the next `COMMIT` (a simple-query
// message, as node-postgres sends `client.query('COMMIT')`) and then cuts the connection instead
// of passing the server's answer back: the transaction committed, and the client cannot know.

export interface CommitCuttingProxy {
  /** The given database URL with the proxy's host and port. */
  url: string;
  /** Cut the connection after the next COMMIT reached the server. */
  armOnce(): void;
  /** COMMITs forwarded whose answer was dropped. */
  readonly cuts: number;
  close(): Promise<void>;
}

const COMMIT_QUERY = Buffer.from('COMMIT\0');

export async function startCommitCuttingProxy(databaseUrl: string): Promise<CommitCuttingProxy> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  let armed = false;
  let cuts = 0;

  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    let cutOnReply = false;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // Either side closing or failing ends the pair: a reset here is the cut itself.
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.includes(COMMIT_QUERY)) {
        armed = false;
        cutOnReply = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutOnReply) {
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('proxy has no address');
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    armOnce() {
      armed = true;
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
