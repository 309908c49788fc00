import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { type Logger, pino } from 'pino';
import { type Analytics, createAnalytics } from '../../analytics/src/analytics.ts';
import { migrate } from '../../analytics/src/migrate.ts';
import type { Layout } from '../../core/src/layout.ts';
import type { OccupancyOptions } from '../../core/src/occupancy.ts';
import { startEmbeddedDb } from '../../infra/src/embedded-db.ts';
import { createPool } from '../../infra/src/pg-pool.ts';
import { loadShippedLayout, type ShippedLayoutName } from '../../simulators/src/load-layout.ts';
import { type Duration, parseDuration } from './duration.ts';
import { createReadBack, type ReadBack } from './read-back.ts';
import { type Recorder, recordBroker } from './recorder.ts';
import { startTestBroker, type TestBroker } from './test-broker.ts';
import { createVirtualMall, type VirtualMall } from './virtual-mall.ts';

// Broker, analytics and a database in this process: enough of mallflow to see what it makes of a
// story. The database is a fresh embedded PGlite + TimescaleDB unless a pool is given.

export interface TestSystemOptions {
  layout: Layout | ShippedLayoutName;
  /** An existing, migrated database; default: a fresh embedded one in a temporary directory. */
  pool?: pg.Pool;
  /** Analytics settings; defaults suit stories on a virtual clock. */
  occupancy?: Partial<OccupancyOptions>;
  /** How often analytics writes live occupancy and closed minutes; default 50 ms (stories settle fast). */
  liveIntervalMs?: number;
  /** Storage maintenance in the analytics worker (rollups, compression, retention); default off. */
  maintenance?: { intervalMs: number; rawRetentionDays: number; compressAfterDays: number };
  logger?: Logger;
}

export interface TestSystem {
  layout: Layout;
  broker: TestBroker;
  analytics: Analytics;
  pool: pg.Pool;
  read: ReadBack;
  siteSecret: string;
  /** The analytics settings in force (defaults merged with the options given). */
  occupancy: OccupancyOptions;
  logger: Logger;
  /** A virtual mall on this system's broker, starting at `start`. */
  mall(options: {
    start: number | string;
    seed?: number;
    batchMaxReadings?: number;
    /** One gateway for the whole mall (its readings then reach analytics in time order). */
    singleGatewayId?: string;
  }): Promise<VirtualMall>;
  /** A recorder of everything gateways publish. */
  record(): Promise<Recorder>;
  /**
   * Resolves once analytics has taken everything published up to the mall's current virtual time
   * (or up to `untilMs`, heartbeats included) and written the result (minutes, stays, visits).
   */
  settle(until: VirtualMall | number, options?: { timeout?: Duration }): Promise<void>;
  /** Throws the error analytics stopped on, if it did (for callers with loops of their own). */
  assertHealthy(): void;
  close(): Promise<void>;
}

export const STORY_OCCUPANCY: OccupancyOptions = {
  presenceMs: 180_000,
  allowedLatenessMs: 2_000,
  visitIdleMs: 600_000,
};

export async function startTestSystem(options: TestSystemOptions): Promise<TestSystem> {
  const layout = typeof options.layout === 'string' ? loadShippedLayout(options.layout) : options.layout;
  const logger = options.logger ?? pino({ level: 'silent' });
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    let pool = options.pool;
    if (!pool) {
      const dir = mkdtempSync(join(tmpdir(), 'mallflow-kit-'));
      closers.push(async () => rmSync(dir, { recursive: true, force: true }));
      const db = await startEmbeddedDb({ dataDir: join(dir, 'db') });
      closers.push(() => db.close());
      const own = createPool({ url: db.url, max: 1, applicationName: 'mallflow-testkit' });
      closers.push(() => own.end());
      await migrate(own);
      pool = own;
    }
    const broker = await startTestBroker({ logger });
    closers.push(() => broker.close());
    const fatal: unknown[] = [];
    const occupancy: OccupancyOptions = { ...STORY_OCCUPANCY, ...options.occupancy };
    const analytics = await createAnalytics({
      pool,
      layouts: [layout],
      mqtt: {
        url: broker.url,
        ...(await broker.addObserver()),
        clientId: `kit-analytics-${randomBytes(3).toString('hex')}`,
      },
      occupancy,
      liveIntervalMs: options.liveIntervalMs ?? 50,
      maintenance: options.maintenance,
      logger,
      onFatal: (err) => fatal.push(err),
    });
    closers.push(() => analytics.close());
    const siteSecret = `kit-${randomBytes(12).toString('hex')}`;
    const malls: VirtualMall[] = [];
    closers.push(async () => {
      for (const m of malls) await m.close();
    });
    const recorders: Recorder[] = [];
    closers.push(async () => {
      for (const r of recorders) await r.close();
    });
    const ownPool = pool;
    return {
      layout,
      broker,
      analytics,
      pool: ownPool,
      read: createReadBack(ownPool, layout.id),
      siteSecret,
      occupancy,
      logger,
      async mall(o) {
        // Each mall its own gateways: two gateways with one id would share a seq space.
        const gatewayPrefix = malls.length === 0 ? 'gw' : `gw${malls.length + 1}`;
        const mall = await createVirtualMall({ layout, broker, siteSecret, logger, gatewayPrefix, ...o });
        malls.push(mall);
        return mall;
      },
      async record() {
        const r = await recordBroker(broker.url, await broker.addObserver());
        recorders.push(r);
        return r;
      },
      assertHealthy() {
        if (fatal.length > 0) throw fatal[0];
      },
      async settle(until, o = {}) {
        const timeoutMs = parseDuration(o.timeout ?? '10s');
        const deadline = Date.now() + timeoutMs;
        const target = typeof until === 'number' ? until : until.clock.now();
        const wait = async (ok: () => boolean, what: string) => {
          while (!ok()) {
            if (fatal.length > 0) throw fatal[0];
            if (Date.now() > deadline)
              throw new Error(`settle: timed out after ${timeoutMs} ms waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 10));
          }
        };
        await wait(
          () => (analytics.eventTimeMs(layout.id) ?? 0) >= target,
          `analytics to take in the mall's heartbeat of ${new Date(target).toISOString()}`,
        );
        const ticks = analytics.stats().ticks;
        await wait(() => analytics.stats().ticks >= ticks + 2, 'analytics to write what it concluded');
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
