import type { FastifyInstance } from 'fastify';
import { type ServerOptions, Server as SocketIoServer } from 'socket.io';

/**
 * Attaches Socket.IO to the Fastify HTTP server (it serves its browser client at
 * `/socket.io/socket.io.js`) and ties its life to Fastify's: before Fastify closes the listener,
 * every socket is disconnected and the engine closed, so the HTTP server has no open
 * WebSocket or long-poll left to wait for. Not `io.close()`: that also closes the HTTP server,
 * which Fastify owns and closes itself.
 */
export function attachSocketIo(app: FastifyInstance, options: Partial<ServerOptions> = {}): SocketIoServer {
  const io = new SocketIoServer(app.server, { serveClient: true, ...options });
  app.addHook('preClose', async () => {
    io.local.disconnectSockets(true);
    io.engine.close();
    await Promise.all([...io._nsps.values()].map((nsp) => nsp.adapter.close()));
  });
  return io;
}
