import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { Id } from '../../../core/src/ids.ts';
import type { Layout } from '../../../core/src/layout.ts';
import { InvalidQueryError, MallNotFoundError } from '../errors.ts';
import { buildOccupancyFrame } from '../occupancy-frame.ts';
import { pingDb, readLiveOccupancy, readMinuteOccupancy } from '../sql/occupancy.ts';

/** Without `from`, the minutes endpoint answers the hour before `to` (default: now). */
const DEFAULT_MINUTES_RANGE_MS = 60 * 60_000;
/** Longest range one request may ask for: a day of minutes is ~1,440 rows per zone. */
export const MAX_MINUTES_RANGE_MS = 24 * 60 * 60_000;

const IsoTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 time such as 2026-11-21T10:00:00Z',
});

const MinutesQuery = z.object({
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  zone: Id.optional(),
});

export interface MallEntry {
  layout: Layout;
  /** The layout as drawn by the browser, serialized once at start. */
  layoutJson: string;
}

export interface ApiDeps {
  pool: pg.Pool;
  malls: ReadonlyMap<string, MallEntry>;
  startedAtMs: number;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
}

export function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { pool, malls } = deps;

  function mallOf(mallId: string): MallEntry {
    const mall = malls.get(mallId);
    if (!mall) throw new MallNotFoundError(mallId);
    return mall;
  }

  app.get('/api/health', async (_request, reply) => {
    const uptimeSec = Math.floor((Date.now() - deps.startedAtMs) / 1000);
    try {
      await pingDb(pool);
      return { status: 'ok', db: 'ok', uptimeSec };
    } catch (err) {
      // Boundary: a health check reports the database state rather than failing the request.
      app.log.warn({ err }, 'health check: database query failed');
      return reply.code(503).send({ status: 'degraded', db: 'down', uptimeSec });
    }
  });

  app.get('/api/malls', async () =>
    [...malls.values()].map((m) => ({ id: m.layout.id, name: m.layout.name })),
  );

  app.get<{ Params: { mall: string } }>('/api/malls/:mall/layout', async (request, reply) => {
    const mall = mallOf(request.params.mall);
    return reply.type('application/json; charset=utf-8').send(mall.layoutJson);
  });

  app.get<{ Params: { mall: string } }>('/api/malls/:mall/occupancy', async (request) => {
    const { layout } = mallOf(request.params.mall);
    return buildOccupancyFrame(layout, await readLiveOccupancy(pool, layout.id));
  });

  app.get<{ Params: { mall: string }; Querystring: Record<string, unknown> }>(
    '/api/malls/:mall/occupancy/minutes',
    async (request) => {
      const { layout } = mallOf(request.params.mall);
      const parsed = MinutesQuery.safeParse(request.query);
      if (!parsed.success) throw new InvalidQueryError(describeIssues(parsed.error));
      const { from, to, zone } = parsed.data;
      const toMs = to === undefined ? Date.now() : Date.parse(to);
      const fromMs = from === undefined ? toMs - DEFAULT_MINUTES_RANGE_MS : Date.parse(from);
      if (fromMs >= toMs) throw new InvalidQueryError('from: must be before to');
      if (toMs - fromMs > MAX_MINUTES_RANGE_MS) {
        throw new InvalidQueryError(
          `from, to: the range may span at most ${MAX_MINUTES_RANGE_MS / 3_600_000} hours; ask in several requests`,
        );
      }
      if (zone !== undefined && !layout.zoneById.has(zone)) {
        throw new InvalidQueryError(`zone: mall "${layout.id}" has no zone "${zone}"`);
      }
      const rows = await readMinuteOccupancy(pool, layout.id, fromMs, toMs, zone);
      return {
        mallId: layout.id,
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        rows,
      };
    },
  );
}
