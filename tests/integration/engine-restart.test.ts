import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createVirtualMall, startTestBroker, type TestBroker, type VirtualMall } from 'mallflow/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Analytics, createAnalytics } from '../../analytics/src/analytics.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Live state survives restarts (issue 4): a worker stopped in the middle of a busy stretch and
// started again continues the open visits and zone stays from its checkpoint. The same story run
// without a restart is the reference: the restarted run must store exactly the same visits, zone
// stays and minutes. Without the checkpoint (deleted before the restart) the visits open at the
// restart are lost and their phones start new ones: what the checkpoint is for. And a worker
// killed with SIGKILL (a separate `mallflow analytics` process) restarts from its last periodic
// checkpoint and replays the sightings stored after it: again exactly the reference.

const ROOT = resolve(import.meta.dirname, '../..');
const layout = loadShippedLayout('small-store');
const START = '2026-11-21T10:00:00+08:00';
const RESTART_AT_MS = Date.parse(START) + 20 * 60_000;
const OCCUPANCY = { presenceMs: 180_000, allowedLatenessMs: 2_000, visitIdleMs: 600_000 };
const SITE_SECRET = 'restart-site-secret-0001';

/** A running worker, in this process or its own. */
interface Worker {
  /** Resolves once it has taken in the mall's newest heartbeat and written what followed. */
  settle(mall: VirtualMall): Promise<void>;
  close(): Promise<void>;
}

interface Stored {
  visits: { started_at: Date; devices: number }[];
  stays: unknown[];
  minutes: unknown[];
}

describe.each(backends())('a restarted analytics worker on %s', (backend: Backend) => {
  let broker: TestBroker;
  const dbs: TestDb[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.close();
    for (const db of dbs) await db.close();
  });

  async function startWorker(db: TestDb): Promise<Worker & { analytics: Analytics }> {
    const fatal: unknown[] = [];
    const analytics = await createAnalytics({
      pool: db.pool,
      layouts: [layout],
      mqtt: {
        url: broker.url,
        ...(await broker.addObserver()),
        clientId: `restart-${randomBytes(3).toString('hex')}`,
      },
      occupancy: OCCUPANCY,
      liveIntervalMs: 50,
      checkpointIntervalMs: 0, // only at shutdown: these restarts are graceful
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      onFatal: (err) => fatal.push(err),
    });
    return {
      analytics,
      async settle(mall) {
        const target = mall.clock.now();
        await waitFor(() => fatal.length > 0 || (analytics.eventTimeMs(layout.id) ?? 0) >= target, {
          timeoutMs: 20_000,
          what: 'the worker to take in the heartbeat',
        });
        expect(fatal).toEqual([]);
        const ticks = analytics.stats().ticks;
        await waitFor(() => analytics.stats().ticks >= ticks + 2, { timeoutMs: 20_000, what: 'two ticks' });
        // What the comparisons rest on: every reading arrived within the allowed lateness.
        expect(analytics.stats().lateReadings).toBe(0);
      },
      close: () => analytics.close(),
    };
  }

  /** `mallflow analytics` as a child process, checkpointing every `checkpointMs` of wall time. */
  async function spawnWorker(
    db: TestDb,
    checkpointMs: number,
  ): Promise<Worker & { child: ChildProcess; output(): string }> {
    const login = await broker.addObserver();
    const child = spawn(process.execPath, [join(ROOT, 'bin/mallflow.js'), 'analytics'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        MQTT_URL: broker.url,
        MQTT_USERNAME: login.username,
        MQTT_PASSWORD: login.password,
        MQTT_CLIENT_ID: `restart-child-${randomBytes(3).toString('hex')}`,
        LAYOUT_FILES: 'simulators/layouts/small-store.json',
        PRESENCE_MS: String(OCCUPANCY.presenceMs),
        ALLOWED_LATENESS_MS: String(OCCUPANCY.allowedLatenessMs),
        VISIT_IDLE_MS: String(OCCUPANCY.visitIdleMs),
        LIVE_INTERVAL_MS: '100',
        CHECKPOINT_INTERVAL_MS: String(checkpointMs),
        MAINTENANCE_INTERVAL_MS: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (d: Buffer) => {
      output += d.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let gone = false;
    const exited = new Promise<void>((r) =>
      child.once('exit', () => {
        gone = true;
        r();
      }),
    );
    await waitFor(() => gone || output.includes('analytics running'), {
      timeoutMs: 30_000,
      what: 'the worker process to start',
      describe: () => output.slice(-2000),
    });
    expect(gone, output.slice(-2000)).toBe(false);
    return {
      child,
      output: () => output,
      async settle(mall) {
        // The live row is written after the tick's minutes, stays and visits: once it shows the
        // heartbeat's watermark, what the worker concluded from it is stored.
        const target = new Date(mall.clock.now() - OCCUPANCY.allowedLatenessMs);
        await waitFor(
          async () =>
            (await db.pool.query('SELECT 1 FROM occupancy_live WHERE as_of >= $1 LIMIT 1', [target]))
              .rowCount === 1,
          {
            timeoutMs: 30_000,
            what: 'the worker process to write the heartbeat minute',
            describe: () => output.slice(-2000),
          },
        );
      },
      async close() {
        child.kill('SIGTERM');
        await exited;
      },
    };
  }

  /**
   * Eight phones (three with randomized MACs rotating every 7 minutes) walking between the stores
   * for 50 minutes, then leaving. `restart` runs after minute 20, with visits open.
   */
  async function story(
    restart?: (db: TestDb, worker: Worker, mall: VirtualMall) => Promise<Worker>,
    first: (db: TestDb) => Promise<Worker> = startWorker,
    afterFirstStep?: (db: TestDb, worker: Worker, mall: VirtualMall) => Promise<void>,
  ): Promise<Stored> {
    const db = await createTestDb(backend);
    dbs.push(db);
    let worker = await first(db);
    const mall = await createVirtualMall({
      layout,
      broker,
      siteSecret: SITE_SECRET,
      start: START,
      // One gateway: readings reach the worker in time order, so no run has a reading arrive behind
      // the watermark, which a restarted worker could not take back (see restore.ts).
      singleGatewayId: `r${dbs.length}`,
    });
    try {
      const stores = layout.zones.filter((z) => z.kind === 'store').map((z) => z.id);
      const phones = Array.from({ length: 8 }, (_, i) =>
        mall.phone({ id: `p${i}`, screen: i % 2 ? 'on' : 'off', randomizedMac: i < 3, rotateEvery: '7m' }),
      );
      for (let step = 0; step < 10; step++) {
        phones.forEach((p, i) => {
          if ((i + step) % 3 === 0) p.moveTo(stores[(i * 3 + step) % stores.length]!);
        });
        await mall.advance('5m');
        if (step === 0) await afterFirstStep?.(db, worker, mall);
        if (step === 3 && restart) {
          await worker.settle(mall);
          worker = await restart(db, worker, mall);
        }
      }
      for (const p of phones) p.leave();
      await mall.advance('50m'); // past the silence bridge of visits left open in a store
      await worker.settle(mall);
    } finally {
      await mall.close();
      await worker.close();
    }
    const q = async (sql: string) => (await db.pool.query(sql)).rows;
    return {
      visits: await q(
        `SELECT device, started_at, ended_at, stays, bursts, devices, passer_by FROM visits ORDER BY started_at, device`,
      ),
      stays: await q(
        `SELECT device, zone_id, started_at, ended_at, bursts, confidence FROM zone_stays ORDER BY started_at, device`,
      ),
      minutes: await q(
        `SELECT bucket, zone_id, devices FROM occupancy_minute WHERE devices > 0 ORDER BY bucket, zone_id`,
      ),
    };
  }

  const startedBeforeRestart = (s: Stored) =>
    s.visits.filter((v) => v.started_at.getTime() < RESTART_AT_MS).length;

  let reference: Stored;
  it('the reference run (no restart) stores a visit per phone, some with linked rotations', async () => {
    reference = await story();
    expect(startedBeforeRestart(reference)).toBeGreaterThanOrEqual(8);
    expect(reference.visits.some((v) => v.devices > 1)).toBe(true);
    expect(reference.stays.length).toBeGreaterThan(20);
    expect(reference.minutes.length).toBeGreaterThan(40);
  }, 120_000);

  it('stores exactly the reference when stopped and started again mid-visit', async () => {
    let savedBeforeStart: number | undefined;
    const restarted = await story(async (db, worker) => {
      await worker.close(); // saves the checkpoint
      expect((await db.pool.query('SELECT 1 FROM engine_checkpoints')).rowCount).toBe(1);
      const next = await startWorker(db);
      savedBeforeStart = next.analytics.stats().checkpoints;
      return next;
    });
    expect(savedBeforeStart).toBe(0); // restored from the old worker's checkpoint, not a new one
    expect(restarted).toEqual(reference);
  }, 120_000);

  it('loses the open visits when restarted without its checkpoint (what the checkpoint is for)', async () => {
    const restarted = await story(async (db, worker) => {
      await worker.close();
      await db.pool.query('DELETE FROM engine_checkpoints');
      return startWorker(db);
    });
    expect(startedBeforeRestart(restarted)).toBeLessThan(startedBeforeRestart(reference));
    expect(restarted).not.toEqual(reference);
  }, 120_000);

  // A separate worker process holds the embedded database's only connection, so the test could not
  // watch the database while it runs: the kill is tested against the PostgreSQL server.
  it.runIf(backend === 'server')(
    'stores exactly the reference when killed (SIGKILL) and started again (PostgreSQL server only: a worker process would hold the embedded database’s only connection)',
    async () => {
      let restoredFromMs = Number.NaN;
      const killed = await story(
        async (db, worker) => {
          // The first process checkpointed once, five minutes in: everything it stored since must
          // come back by replay. Kill it without warning.
          const { child, output } = worker as Awaited<ReturnType<typeof spawnWorker>>;
          child.kill('SIGKILL');
          await new Promise((r) => child.once('exit', r));
          const saved = await db.pool.query('SELECT applied_to FROM engine_checkpoints');
          expect(saved.rows, output().slice(-3000)).toHaveLength(1);
          restoredFromMs = saved.rows[0].applied_to.getTime();
          return spawnWorker(db, 60_000);
        },
        // Its only checkpoint: the first, saved once it has taken in the first five minutes.
        (db) => spawnWorker(db, 3_600_000),
        async (db, worker, mall) => {
          await worker.settle(mall);
          await waitFor(
            async () => (await db.pool.query('SELECT 1 FROM engine_checkpoints')).rowCount === 1,
            {
              timeoutMs: 10_000,
              what: 'the first checkpoint',
            },
          );
        },
      );
      // Most of the 20 minutes came back by replay, not from the checkpoint.
      expect(restoredFromMs).toBeLessThan(RESTART_AT_MS - 10 * 60_000);
      expect(killed.visits).toEqual(reference.visits);
      expect(killed.stays).toEqual(reference.stays);
      expect(killed.minutes).toEqual(reference.minutes);
    },
    180_000,
  );
});
