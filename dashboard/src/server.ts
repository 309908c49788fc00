import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyError, LogController } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Layout } from '../../core/src/layout.ts';
import { isRetryablePgError } from '../../infra/src/pg-pool.ts';
import { AppError, DuplicateMallError } from './errors.ts';
import { createLiveTicker } from './live-ticker.ts';
import { buildOccupancyFrame, type OccupancyFrame } from './occupancy-frame.ts';
import { attachSocketIo } from './plugins/socket-io.ts';
import { type MallEntry, registerApiRoutes } from './routes/api.ts';
import { registerHistoryRoutes } from './routes/history.ts';
import { readLiveOccupancy } from './sql/occupancy.ts';

// The dashboard process: Fastify (REST + the static page) and Socket.IO on one port.
//
// Socket.IO protocol:
//   client → `subscribe` { mallId }  ack { ok: true, mallId } | { ok: false, error, message };
//            joins room `mall:{mallId}` (leaving any other mall's room).
//   client → `unsubscribe` { mallId } ack { ok: true, mallId }.
//   server → `occupancy` OccupancyFrame, to each watched mall's room once per tick (and the
//            latest frame at once to a new subscriber). Same shape as GET /api/malls/:mall/occupancy.

export const PUBLIC_DIR = resolve(import.meta.dirname, '../public');
const DEFAULT_TICK_MS = 1000;

export interface DashboardOptions {
  /** Owned by the caller, which may share it (embedded mode: max 1); never ended here. */
  pool: pg.Pool;
  layouts: readonly Layout[];
  host?: string;
  /** 0 picks a free port. */
  port: number;
  tickMs?: number;
  logger: Logger;
}

export interface Dashboard {
  url: string;
  port: number;
  /** Stops the ticker, Socket.IO and Fastify. Leaves the pool open: the caller owns it. */
  close(): Promise<void>;
}

// Any string is accepted as a mall id here so that a malformed one is answered 'unknown mall'.
const SubscribeMessage = z.object({ mallId: z.string().min(1).max(200) });

export type SubscribeAck = { ok: true; mallId: string } | { ok: false; error: string; message: string };

export function roomOf(mallId: string): string {
  return `mall:${mallId}`;
}

function toLayoutJson(layout: Layout): string {
  const { id, name, timezone, floors, zones, adjacency, sensors } = layout;
  return JSON.stringify({ id, name, timezone, floors, zones, adjacency, sensors });
}

export async function createDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { pool, logger: log } = options;
  const host = options.host ?? '127.0.0.1';
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  const malls = new Map<string, MallEntry>();
  for (const layout of options.layouts) {
    if (malls.has(layout.id)) throw new DuplicateMallError(layout.id);
    malls.set(layout.id, { layout, layoutJson: toLayoutJson(layout) });
  }

  // Request logging is off: per STYLE §5 nothing logs per request at info; errors are logged
  // by the error handler and the ticker logs a summary.
  // Typed as Fastify's base logger so the instance is a plain FastifyInstance for the plugins.
  const fastifyLog: FastifyBaseLogger = log;
  const app = Fastify({
    loggerInstance: fastifyLog,
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof AppError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? 'BAD_REQUEST', message: err.message });
    }
    if (isRetryablePgError(err)) {
      request.log.warn({ err, url: request.url }, 'database unavailable');
      return reply
        .code(503)
        .send({ error: 'DB_UNAVAILABLE', message: 'the database is unavailable; try again shortly' });
    }
    request.log.error({ err, url: request.url }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal server error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route for ${request.method} ${request.url}` }),
  );

  registerApiRoutes(app, { pool, malls, startedAtMs: Date.now() });
  registerHistoryRoutes(app, { pool, malls });
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/' });

  const io = attachSocketIo(app);
  const lastFrames = new Map<string, OccupancyFrame>();

  io.on('connection', (socket) => {
    socket.on('subscribe', (payload: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (a: SubscribeAck) => void) : () => {};
      const parsed = SubscribeMessage.safeParse(payload);
      if (!parsed.success) {
        reply({ ok: false, error: 'INVALID_MESSAGE', message: 'subscribe needs { mallId: string }' });
        return;
      }
      const { mallId } = parsed.data;
      if (!malls.has(mallId)) {
        reply({ ok: false, error: 'MALL_NOT_FOUND', message: `unknown mall "${mallId}"` });
        return;
      }
      const room = roomOf(mallId);
      for (const joined of socket.rooms) {
        if (joined.startsWith('mall:') && joined !== room) void socket.leave(joined);
      }
      void socket.join(room);
      reply({ ok: true, mallId });
      const last = lastFrames.get(mallId);
      if (last) socket.emit('occupancy', last);
    });
    socket.on('unsubscribe', (payload: unknown, ack?: unknown) => {
      const parsed = SubscribeMessage.safeParse(payload);
      if (parsed.success) void socket.leave(roomOf(parsed.data.mallId));
      if (typeof ack === 'function') {
        ack(
          parsed.success
            ? { ok: true, mallId: parsed.data.mallId }
            : { ok: false, error: 'INVALID_MESSAGE', message: 'unsubscribe needs { mallId: string }' },
        );
      }
    });
  });

  const ticker = createLiveTicker({
    tickMs,
    logger: log.child({ scope: 'live' }),
    watchedMalls() {
      const watched: string[] = [];
      for (const mallId of malls.keys()) {
        if ((io.of('/').adapter.rooms.get(roomOf(mallId))?.size ?? 0) > 0) watched.push(mallId);
        else lastFrames.delete(mallId);
      }
      return watched;
    },
    async readFrame(mallId) {
      const { layout } = malls.get(mallId)!;
      return buildOccupancyFrame(layout, await readLiveOccupancy(pool, mallId));
    },
    publish(mallId, frame) {
      lastFrames.set(mallId, frame);
      // One broadcast = one serialization: socket.io-adapter encodes the packet once and writes
      // the same encoded string to every socket in the room (FACTS: serialize a room's frame once).
      io.to(roomOf(mallId)).emit('occupancy', frame);
    },
  });

  let port: number;
  try {
    await app.listen({ host, port: options.port });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('dashboard is not on a TCP port');
    port = address.port;
  } catch (err) {
    await ticker.stop();
    await app.close();
    throw err;
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        await ticker.stop();
        await app.close();
      })();
      return closing;
    },
  };
}
