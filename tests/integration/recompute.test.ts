import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { startTestSystem, type TestSystem } from 'mallflow/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecomputeRangeError, recompute } from '../../analytics/src/recompute.ts';
import { rebuildZoneTransitions } from '../../analytics/src/sql/rebuild-zone-transitions.ts';
import { refreshDailyKpis } from '../../analytics/src/sql/refresh-daily-kpis.ts';
import type { OccupancyOptions } from '../../core/src/occupancy.ts';
import { storeZoneIds } from '../../core/src/path-zones.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { historyLayout } from '../helpers/history-layout.ts';

// Live equals replay (issue 4): what the live worker derived from a day of virtual phones (two
// busy stretches with a quiet hour between) is exactly what `recompute` derives from the stored
// raw sightings: visits, zone stays, busy minutes, the first-seen registry and the daily KPIs.
// A changed visitor rule, recomputed, changes that history (more passers-by, fewer visitors in
// the rollup); recomputed back, it is as it was. The stretch the live worker is still in is refused.

const ROOT = resolve(import.meta.dirname, '../..');
const MALL = 'recompute-mall';
const TZ = 'Asia/Shanghai';
const DAY = '2026-11-21';
const layout = historyLayout(MALL, TZ);
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

describe.each(backends())('mallflow recompute on %s', (backend: Backend) => {
  let db: TestDb;
  let system: TestSystem;
  let live: Awaited<ReturnType<typeof derived>>;

  /**
   * Everything the engine derived for the mall. Minutes: those with anyone present (the live
   * worker writes the empty minutes after the last visit up to its current time; a recompute, up
   * to an hour after the last presence, as the live worker would once that time has come).
   */
  async function derived() {
    const q = async (sql: string) => (await db.pool.query(sql, [MALL])).rows;
    return {
      visits: await q(
        `SELECT device, started_at, ended_at, dwell_ms, stays, bursts, devices, doubtful_links, orphan, passer_by, inside_ms
         FROM visits WHERE mall_id = $1 ORDER BY started_at, device`,
      ),
      stays: await q(
        `SELECT device, zone_id, started_at, ended_at, dwell_ms, bursts, visit_device, confidence FROM zone_stays
         WHERE mall_id = $1 ORDER BY started_at, device`,
      ),
      minutes: await q(
        `SELECT bucket, zone_id, devices FROM occupancy_minute WHERE mall_id = $1 AND devices > 0 ORDER BY bucket, zone_id`,
      ),
      firstSeen: await q(
        `SELECT device, first_visit_at FROM device_first_seen WHERE mall_id = $1 ORDER BY device`,
      ),
      kpis: await q(
        `SELECT day, visitors, passers_by, new_visitors, visitor_visits, visitor_dwell_ms FROM kpi_daily
         WHERE mall_id = $1 ORDER BY day`,
      ),
      paths: await q(`SELECT day, path, visits FROM path_daily WHERE mall_id = $1 ORDER BY day, path`),
      transitions: await q(
        `SELECT bucket, from_zone, to_zone, staff, transitions FROM zone_transitions
         WHERE mall_id = $1 ORDER BY bucket, from_zone, to_zone, staff`,
      ),
    };
  }

  const run = (
    options: Partial<OccupancyOptions> = {},
    range = { from: `${DAY}T00:00`, to: `${DAY}T23:59` },
  ) =>
    recompute(
      db.pool,
      layout,
      { ...system.occupancy, ...options },
      { fromMs: Date.parse(`${range.from}:00+08:00`), toMs: Date.parse(`${range.to}:00+08:00`) },
      { nowMs: Date.now(), dryRun: false, log },
    );

  beforeAll(async () => {
    db = await createTestDb(backend);
    system = await startTestSystem({ layout, pool: db.pool });
    // One gateway: every reading reaches the worker in time order, none behind its watermark (a
    // late reading is applied when it comes live, in its place by a recompute: see the last check).
    const mall = await system.mall({ start: `${DAY}T10:00:00+08:00`, singleGatewayId: 'gw-all' });
    const shops = ['cafe', 'shoes', 'cinema'];
    // Morning: five shoppers (two with rotating MACs) and one walking past on the street.
    const morning = Array.from({ length: 5 }, (_, i) =>
      mall.phone({
        id: `m${i}`,
        screen: i % 2 ? 'on' : 'off',
        zone: 'gate',
        randomizedMac: i < 2,
        rotateEvery: '9m',
      }),
    );
    const passer = mall.phone({ id: 'passer', screen: 'on', zone: 'street' });
    await mall.advance('3m');
    passer.leave();
    for (let step = 0; step < 6; step++) {
      morning.forEach((p, i) => {
        p.moveTo(step % 2 ? 'hall' : shops[(i + step) % shops.length]!);
      });
      await mall.advance('5m');
    }
    for (const p of morning) p.leave();
    await mall.advance('60m'); // a quiet hour: the morning stretch ends (visits left open inside close after 45 min)
    // Afternoon: four new shoppers and one from the morning coming back.
    const afternoon = [
      ...Array.from({ length: 4 }, (_, i) => mall.phone({ id: `a${i}`, screen: 'on', zone: 'gate' })),
      morning[4]!,
    ];
    afternoon[4]!.moveTo('gate');
    for (let step = 0; step < 5; step++) {
      afternoon.forEach((p, i) => {
        p.moveTo(shops[(i + step) % shops.length]!);
      });
      await mall.advance('6m');
    }
    for (const p of afternoon) p.leave();
    await mall.advance('60m');
    await system.settle(mall, { timeout: '30s' });
    // The live worker ran no maintenance here: roll the (past) day up as it would have.
    const dayStart = Date.parse(`${DAY}T00:00:00+08:00`);
    await refreshDailyKpis(
      db.pool,
      dayStart,
      dayStart + 86_400_000,
      new Map([[MALL, TZ]]),
      new Map([[MALL, storeZoneIds(layout)]]),
    );
    await rebuildZoneTransitions(db.pool, MALL, TZ, dayStart, dayStart + 86_400_000);
    live = await derived();
    expect(system.analytics.stats().lateReadings).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await system?.close();
    await db?.close();
  });

  it('the live worker derived two stretches of visits, a passer-by and rotations', () => {
    expect(live.visits.length).toBeGreaterThanOrEqual(10);
    expect(live.visits.some((v) => v.passer_by)).toBe(true);
    expect(live.visits.some((v) => v.devices > 1)).toBe(true);
    expect(live.minutes.length).toBeGreaterThan(50);
    expect(live.kpis).toHaveLength(1);
    expect(live.transitions.length).toBeGreaterThan(3);
    expect(live.paths.length).toBeGreaterThan(1);
    // Every stay with a burst heard has a confidence in (0, 1]; a stay walked through unheard has none.
    const stays = live.stays as { bursts: number; confidence: number | null }[];
    expect(stays.filter((s) => s.bursts > 0).every((s) => s.confidence! > 0 && s.confidence! <= 1)).toBe(
      true,
    );
    expect(stays.filter((s) => s.bursts === 0).every((s) => s.confidence === null)).toBe(true);
    expect(stays.filter((s) => s.confidence !== null).length).toBeGreaterThan(20);
  });

  it('reproduces exactly what the live worker stored, from the raw sightings', async () => {
    // Nothing derived is left to copy from: only the raw sightings.
    for (const table of [
      'visits',
      'zone_stays',
      'occupancy_minute',
      'device_first_seen',
      'kpi_daily',
      'zone_transitions',
      'path_daily',
    ]) {
      await db.pool.query(`DELETE FROM ${table} WHERE mall_id = $1`, [MALL]);
    }
    // Maintenance had rolled the daily occupancy up to now (plain PostgreSQL keeps it in a table).
    await db.pool.query(
      `INSERT INTO maintenance_state (task, done_until, ran_at) VALUES ('daily-rollups', now(), now())
       ON CONFLICT (task) DO UPDATE SET done_until = now()`,
    );
    const result = await run();
    expect(result.sightings).toBeGreaterThan(1000);
    // Its next run rolls the recomputed days up again.
    const rollups = await db.pool.query(
      "SELECT done_until FROM maintenance_state WHERE task = 'daily-rollups'",
    );
    expect(rollups.rows[0].done_until.getTime()).toBe(result.recomputed!.fromMs);
    expect(result.before?.visits).toBe(0);
    expect(result.after?.visits).toBe(live.visits.length);
    expect(result.kpiDays).toBe(1);
    expect(await derived()).toEqual(live);
  });

  it('widens a range inside the afternoon to the whole afternoon stretch, and changes nothing', async () => {
    const result = await run({}, { from: `${DAY}T11:48`, to: `${DAY}T11:50` });
    const afternoonFrom = new Date(`${DAY}T11:20:00+08:00`);
    const firstSighting = await db.pool.query<{ t: Date }>(
      'SELECT min(time) AS t FROM sightings WHERE mall_id = $1 AND time > $2',
      [MALL, afternoonFrom],
    );
    expect(result.recomputed?.fromMs).toBe(firstSighting.rows[0]!.t.getTime());
    // Its visits begin there, or a walk in before (a phone first heard inside).
    const afternoonVisits = (live.visits as { started_at: Date }[]).filter(
      (v) => v.started_at > afternoonFrom,
    );
    expect(result.before?.visits).toBe(afternoonVisits.length);
    expect(await derived()).toEqual(live);
  });

  it('applies a changed visitor rule to history, and back again', async () => {
    const strict = await run({ visitor: { minBursts: 40 } });
    expect(strict.after!.passerByVisits).toBeGreaterThan(strict.before!.passerByVisits);
    const changed = await derived();
    const visitorsNow = new Set(changed.visits.filter((v) => !v.passer_by).map((v) => v.device)).size;
    expect(changed.kpis[0].visitors).toBe(visitorsNow);
    expect(changed.kpis[0].visitors).toBeLessThan(live.kpis[0].visitors);
    expect(changed.kpis[0].passers_by).toBeGreaterThan(live.kpis[0].passers_by);
    // Only the classification changed: the same visits and stays.
    expect(changed.visits.map((v) => [v.device, v.started_at])).toEqual(
      live.visits.map((v) => [v.device, v.started_at]),
    );
    expect(changed.stays).toEqual(live.stays);

    await run();
    expect(await derived()).toEqual(live);
  });

  it('refuses the stretch the live worker is still in', async () => {
    const nowMs = Date.now();
    await db.pool.query(
      `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized)
       VALUES ($1, $2, 'gw-test', $3, 'wifi', 'live-device', -60, false)`,
      [new Date(nowMs - 60_000), MALL, layout.sensors[0]!.id],
    );
    try {
      await expect(
        recompute(
          db.pool,
          layout,
          system.occupancy,
          { fromMs: Date.parse(`${DAY}T00:00:00+08:00`), toMs: nowMs },
          { nowMs, dryRun: false, log },
        ),
      ).rejects.toThrow(RecomputeRangeError);
      await expect(
        recompute(
          db.pool,
          layout,
          system.occupancy,
          { fromMs: nowMs - 120_000, toMs: nowMs },
          { nowMs, dryRun: false, log },
        ),
      ).rejects.toThrow(
        `the newest at ${new Date(nowMs - 60_000).toISOString()}, less than 53 quiet minutes before now`,
      );
      expect(await derived()).toEqual(live);
    } finally {
      await db.pool.query(`DELETE FROM sightings WHERE device = 'live-device'`);
    }
  });

  // The command opens the database itself: on the server it shares it with this test; the embedded
  // one (a data dir only one process may open) is covered by the calls above.
  it.runIf(backend === 'server')(
    'as a command: a dry run reports the change and writes nothing; bad options are named (PostgreSQL server only: the embedded database is this process’s)',
    async () => {
      const command = (args: string[]) =>
        new Promise<{ code: number | null; stderr: string }>((done) => {
          const child = spawn(process.execPath, [join(ROOT, 'bin/mallflow.js'), 'recompute', ...args], {
            cwd: ROOT,
            env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let stderr = '';
          child.stderr?.on('data', (d: Buffer) => {
            stderr += d.toString();
          });
          child.on('exit', (code) => done({ code, stderr }));
        });
      const layoutFile = join(ROOT, '.tmp', `${MALL}.json`);
      await import('node:fs').then((fs) => {
        fs.mkdirSync(join(ROOT, '.tmp'), { recursive: true });
        fs.writeFileSync(layoutFile, JSON.stringify(layout));
      });
      const dry = await command([
        '--layout-files',
        layoutFile,
        '--mall',
        MALL,
        '--from',
        DAY,
        '--to',
        DAY,
        '--visitor-min-bursts',
        '40',
        '--dry-run',
      ]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stderr).toContain('(dry run: nothing written)');
      expect(dry.stderr).toMatch(/passerByVisits +(\d+) → (\d+)/);
      const [, before, after] = /passerByVisits +(\d+) → (\d+)/.exec(dry.stderr)!;
      expect(Number(after)).toBeGreaterThan(Number(before));
      expect(await derived()).toEqual(live);

      const bad = await command([
        '--layout-files',
        layoutFile,
        '--mall',
        MALL,
        '--from',
        'monday',
        '--to',
        DAY,
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('FROM (--from): not a date or time (got "monday")');
    },
    60_000,
  );
});
