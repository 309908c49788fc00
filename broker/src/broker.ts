import type { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { parseGatewayTopic } from '../../core/src/topics.ts';
import { type Account, type AccountStore, hashPassword, verifyPassword } from './accounts.ts';
import { mayPublish, mayReceive, maySubscribe, willTopicOf } from './acl.ts';
import { FrameLimitedConnection } from './frame-limit.ts';

// The MQTT broker: Aedes behind our own TCP and WebSocket listeners, with account auth, the
// topic ACL of acl.ts and a frame-size limit in front of Aedes' parser.
//
// Connection path: socket -> FrameLimitedConnection (refuses oversized packets from their
// header) -> aedes.handle. Checks, in the order a client meets them:
//   CONNECT   authenticate: account + scrypt password (unknown users cost the same as known),
//             client id not held by another account's live connection, last will (if any) only
//             on the gateway's own status topic and within the payload limit
//   PUBLISH   authorizePublish: payload size, then mayPublish. A refusal closes the connection
//             (MQTT 3.1.1 has no way to NACK a publish; Aedes sends no PUBACK). Also applied by
//             Aedes to the last will when it is delivered.
//   SUBSCRIBE authorizeSubscribe: maySubscribe; a refused filter gets granted QoS 128 and the
//             connection stays up
//   delivery  authorizeForward: mayReceive, a second line for messages queued in a persistent
//             session or retained before an ACL change

export interface BrokerOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** MQTT over TCP; 0 = an ephemeral port. */
  port: number;
  /** MQTT over WebSocket; 0 = an ephemeral port; undefined = no WebSocket listener. */
  wsPort?: number | undefined;
  accounts: AccountStore;
  /** Largest PUBLISH payload accepted, in bytes. */
  maxPayloadBytes: number;
  logger: Logger;
}

export interface BrokerStats {
  /** Transport connections accepted (TCP and WebSocket), since start. */
  connections: number;
  /** MQTT clients connected now. */
  connected: number;
  refusedAuth: number;
  refusedPublish: number;
  refusedSubscribe: number;
  /** Connections closed for an oversized packet, and publishes refused for an oversized payload. */
  oversize: number;
}

export interface RunningBroker {
  port: number;
  wsPort: number | undefined;
  /** `mqtt://host:port` */
  url: string;
  /** `ws://host:wsPort`, when the WebSocket listener runs. */
  wsUrl: string | undefined;
  aedes: Aedes;
  stats(): BrokerStats;
  /** Stops listening, closes every connection and Aedes. Safe to call more than once. */
  close(): Promise<void>;
}

export class BrokerListenError extends Error {
  readonly code = 'BROKER_LISTEN_FAILED';
}

// Room for everything in a packet besides the payload: fixed-header-free variable header
// (topic up to ~4 KB, packet id) or, for CONNECT, client id, username, password and will topic.
const FRAME_HEADROOM_BYTES = 4096;
// The fixed header itself (1 type byte + up to 4 length bytes) is not in the remaining length,
// but a WebSocket message carries it too.
const FIXED_HEADER_MAX_BYTES = 5;
const REFUSAL_LOG_INTERVAL_MS = 10_000;
const STATS_LOG_INTERVAL_MS = 60_000;
// CONNACK return codes (MQTT 3.1.1 §3.2.2.3). aedes.d.ts declares them as an ambient const
// enum, which `verbatimModuleSyntax` cannot read, hence the numbers.
const RC_IDENTIFIER_REJECTED = 2;
const RC_SERVER_UNAVAILABLE = 3;
const RC_BAD_USERNAME_OR_PASSWORD = 4;
const RC_NOT_AUTHORIZED = 5;

type RefusalKind = 'auth' | 'publish' | 'subscribe' | 'oversize';

interface WillPacket {
  topic: string;
  payload: Buffer | string;
}

function payloadBytes(payload: Buffer | string | Uint8Array | undefined): number {
  if (payload === undefined) return 0;
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

function connectError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: TcpServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new BrokerListenError(`cannot listen on ${host}:${port}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: TcpServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    // The callback's error is ERR_SERVER_NOT_RUNNING only, which the check above rules out.
    server.close(() => resolve());
  });
}

/** Starts an MQTT broker on TCP (and optionally WebSocket) with account auth and the topic ACL. */
export async function createBroker(options: BrokerOptions): Promise<RunningBroker> {
  const host = options.host ?? '127.0.0.1';
  const { accounts, maxPayloadBytes } = options;
  const log = options.logger;
  const maxFrameBytes = maxPayloadBytes + FRAME_HEADROOM_BYTES;
  const counters = {
    connections: 0,
    refusedAuth: 0,
    refusedPublish: 0,
    refusedSubscribe: 0,
    oversize: 0,
  };
  const accountByClient = new WeakMap<Client, Account>();
  // For refusal logs: Aedes' client.conn is our wrapper stream, which has no address.
  const remoteByClient = new WeakMap<Client, string | undefined>();
  const willByClient = new WeakMap<Client, WillPacket>();
  // Registered clients by client id, to stop one account taking over another's session.
  const liveClients = new Map<string, Client>();
  const transports = new Set<Duplex>();
  let closing: Promise<void> | undefined;

  // Unknown usernames are checked against this hash, so they take as long as wrong passwords.
  const dummyHash = await hashPassword('unknown user: never matches');

  const lastRefusalLogMs = new Map<RefusalKind, number>();
  const suppressedRefusals = new Map<RefusalKind, number>();
  function onRefused(
    kind: RefusalKind,
    total: number,
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const nowMs = Date.now();
    if (nowMs - (lastRefusalLogMs.get(kind) ?? -Infinity) < REFUSAL_LOG_INTERVAL_MS) {
      suppressedRefusals.set(kind, (suppressedRefusals.get(kind) ?? 0) + 1);
      return;
    }
    log.warn({ ...fields, total, suppressedSinceLast: suppressedRefusals.get(kind) ?? 0 }, message);
    lastRefusalLogMs.set(kind, nowMs);
    suppressedRefusals.set(kind, 0);
  }

  async function checkConnect(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<AuthenticateError | undefined> {
    const account = username === undefined ? undefined : accounts.get(username);
    const passwordOk = await verifyPassword(
      password?.toString('utf8') ?? '',
      account?.passwordHash ?? dummyHash,
    );
    if (!account || !passwordOk) {
      counters.refusedAuth++;
      onRefused(
        'auth',
        counters.refusedAuth,
        { username, clientId: client.id, remote: remoteByClient.get(client) },
        'refused connect: bad credentials',
      );
      return connectError(RC_BAD_USERNAME_OR_PASSWORD, 'bad user name or password');
    }
    const live = liveClients.get(client.id);
    const holder = live ? accountByClient.get(live) : undefined;
    if (holder && holder.username !== account.username) {
      counters.refusedAuth++;
      onRefused(
        'auth',
        counters.refusedAuth,
        { username, clientId: client.id, remote: remoteByClient.get(client), heldBy: holder.username },
        'refused connect: client id in use by another account',
      );
      return connectError(RC_IDENTIFIER_REJECTED, 'client id in use by another account');
    }
    const will = willByClient.get(client);
    willByClient.delete(client);
    if (will && (will.topic !== willTopicOf(account) || payloadBytes(will.payload) > maxPayloadBytes)) {
      counters.refusedAuth++;
      onRefused(
        'auth',
        counters.refusedAuth,
        { username, clientId: client.id, remote: remoteByClient.get(client), willTopic: will.topic },
        "refused connect: last will must be the gateway's own status topic",
      );
      return connectError(RC_NOT_AUTHORIZED, 'last will not allowed');
    }
    accountByClient.set(client, account);
    return undefined;
  }

  const aedes = await Aedes.createBroker({
    preConnect(client, packet, callback) {
      if (packet.will) willByClient.set(client, packet.will);
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      checkConnect(client, username, password).then(
        (refusal) => (refusal ? done(refusal, false) : done(null, true)),
        (err: unknown) => {
          log.error({ err, username }, 'authentication failed unexpectedly');
          done(connectError(RC_SERVER_UNAVAILABLE, 'server unavailable'), false);
        },
      );
    },
    authorizePublish(client, packet, callback) {
      const bytes = payloadBytes(packet.payload);
      if (bytes > maxPayloadBytes) {
        counters.oversize++;
        onRefused(
          'oversize',
          counters.oversize,
          { clientId: client?.id, topic: packet.topic, payloadBytes: bytes, maxPayloadBytes },
          'refused publish: payload too large',
        );
        return callback(new Error(`payload of ${bytes} bytes exceeds ${maxPayloadBytes}`));
      }
      if (client === null) {
        // Aedes publishes wills of clients whose broker died (cluster mode) with no client. They
        // were checked at CONNECT by that broker; still allow only a gateway status topic.
        return callback(
          parseGatewayTopic(packet.topic)?.kind === 'status' ? null : new Error('not authorized'),
        );
      }
      const account = accountByClient.get(client);
      if (!account || !mayPublish(account, packet.topic)) {
        counters.refusedPublish++;
        onRefused(
          'publish',
          counters.refusedPublish,
          { username: account?.username, clientId: client.id, topic: packet.topic },
          'refused publish: topic not allowed',
        );
        return callback(new Error('not authorized'));
      }
      // Only status is a retained "current state"; a retained batch would be replayed to every
      // new subscriber as if it were new data.
      if (packet.retain && !packet.topic.endsWith('/status')) packet.retain = false;
      callback(null);
    },
    authorizeSubscribe(client, subscription, callback) {
      const account = accountByClient.get(client);
      if (account && maySubscribe(account, subscription.topic)) return callback(null, subscription);
      counters.refusedSubscribe++;
      onRefused(
        'subscribe',
        counters.refusedSubscribe,
        { username: account?.username, clientId: client.id, filter: subscription.topic },
        'refused subscribe: filter not allowed',
      );
      // null, not an error: the client gets granted QoS 128 and stays connected.
      callback(null, null);
    },
    authorizeForward(client, packet): AedesPublishPacket | null {
      const account = accountByClient.get(client);
      return account && mayReceive(account, packet.topic) ? packet : null;
    },
  });

  aedes.on('client', (client) => liveClients.set(client.id, client));
  aedes.on('clientDisconnect', (client) => {
    if (liveClients.get(client.id) === client) liveClients.delete(client.id);
  });
  aedes.on('clientError', (client, err) => {
    if (log.isLevelEnabled('debug')) log.debug({ clientId: client.id, err }, 'client error');
  });
  aedes.on('connectionError', (_client, err) => {
    if (log.isLevelEnabled('debug')) log.debug({ err }, 'connection error before CONNECT');
  });
  // Aedes emits 'error' from its periodic will sweep (undeclared in aedes.d.ts); unhandled, an
  // 'error' event would throw and end the process.
  const emitter: EventEmitter = aedes;
  emitter.on('error', (err: unknown) => log.error({ err }, 'aedes error'));

  function onOversize(err: Error): void {
    counters.oversize++;
    onRefused('oversize', counters.oversize, { err }, 'closed connection: MQTT packet too large');
  }

  function accept(transport: Duplex, raw: Duplex): Duplex | undefined {
    if (closing) {
      raw.destroy();
      return undefined;
    }
    counters.connections++;
    transports.add(raw);
    raw.once('close', () => transports.delete(raw));
    return new FrameLimitedConnection(transport, maxFrameBytes, onOversize);
  }

  const tcpServer = createTcpServer((socket) => {
    // Nagle stalls small QoS 1 round trips by ~20 ms (FACTS.md).
    socket.setNoDelay(true);
    const conn = accept(socket, socket);
    if (conn) remoteByClient.set(aedes.handle(conn), socket.remoteAddress);
  });
  tcpServer.on('error', (err) => log.error({ err }, 'TCP listener error'));

  let httpServer: HttpServer | undefined;
  let wsServer: WebSocketServer | undefined;
  if (options.wsPort !== undefined) {
    httpServer = createHttpServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
      res.end('MQTT over WebSocket only\n');
    });
    httpServer.on('error', (err) => log.error({ err }, 'WebSocket listener error'));
    // One WebSocket message carries at most one MQTT packet from common clients (mqtt.js sends
    // each write as its own message), so a bigger message is already over the frame limit.
    wsServer = new WebSocketServer({
      server: httpServer,
      maxPayload: maxFrameBytes + FIXED_HEADER_MAX_BYTES,
    });
    wsServer.on('connection', (ws, req) => {
      req.socket.setNoDelay(true);
      ws.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') onOversize(err);
      });
      const conn = accept(createWebSocketStream(ws), req.socket);
      if (conn) remoteByClient.set(aedes.handle(conn, req), req.socket.remoteAddress);
    });
  }

  async function close(): Promise<void> {
    if (closing) return closing;
    closing = (async () => {
      clearInterval(statsTimer);
      const serversClosed = [closeServer(tcpServer)];
      if (httpServer) serversClosed.push(closeServer(httpServer));
      wsServer?.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      // Aedes closes only clients that completed CONNECT; end the rest (and any WebSocket
      // still in its handshake) here.
      for (const transport of transports) transport.destroy();
      await Promise.all(serversClosed);
      log.info(stats(), 'broker closed');
    })();
    return closing;
  }

  function stats(): BrokerStats {
    return { ...counters, connected: aedes.connectedClients };
  }

  let lastStatsJson = '';
  const statsTimer = setInterval(() => {
    const current = stats();
    const json = JSON.stringify(current);
    if (json !== lastStatsJson) log.info(current, 'broker stats');
    lastStatsJson = json;
  }, STATS_LOG_INTERVAL_MS);
  statsTimer.unref();

  try {
    const port = await listen(tcpServer, options.port, host);
    const wsPort =
      httpServer && options.wsPort !== undefined ? await listen(httpServer, options.wsPort, host) : undefined;
    return {
      port,
      wsPort,
      url: `mqtt://${urlHost(host)}:${port}`,
      wsUrl: wsPort === undefined ? undefined : `ws://${urlHost(host)}:${wsPort}`,
      aedes,
      stats,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
