import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMaintenance } from '../../analytics/src/maintenance.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';

// Daily rollups per mall and local day on each backend (continuous aggregates on TimescaleDB,
// tables on plain PostgreSQL), for three malls whose days differ: Shanghai (+8), Kolkata (+5:30,
// whose midnight is not a whole UTC hour) and Berlin (a 25-hour day on 2026-10-25). Expected
// values are counted here from the rows inserted, by the local date JavaScript gives each row.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 23, 12, 30);
const OPTIONS = { rawRetentionDays: 30, compressAfterDays: 2 };
const MALLS = new Map([
  ['sh', 'Asia/Shanghai'],
  ['in', 'Asia/Kolkata'],
  ['be', 'Europe/Berlin'],
]);
/** Sightings: one per mall every 10 minutes for 40 days. Occupancy: every minute of 5 days. */
const SIGHTINGS_FROM = NOW - 40 * DAY;
const SIGHTINGS_TO = NOW - HOUR;
const MINUTES_FROM = Date.UTC(2026, 9, 23);
const MINUTES_TO = Date.UTC(2026, 9, 28);
const devicesAt = (ms: number) => ((ms / MINUTE) * 7) % 23;

const dateIn = (timeZone: string) => {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  return (ms: number) => format.format(ms);
};

function expectedSightings(timeZone: string, extraMs: readonly number[] = []): Record<string, number> {
  const date = dateIn(timeZone);
  const out: Record<string, number> = {};
  for (let t = SIGHTINGS_FROM; t <= SIGHTINGS_TO; t += 10 * MINUTE) out[date(t)] = (out[date(t)] ?? 0) + 1;
  for (const t of extraMs) out[date(t)] = (out[date(t)] ?? 0) + 1;
  return out;
}

function expectedOccupancy(timeZone: string, override?: { atMs: number; devices: number }) {
  const date = dateIn(timeZone);
  const out: Record<string, { deviceMinutes: number; peak: number; minutes: number }> = {};
  for (let t = MINUTES_FROM; t <= MINUTES_TO; t += MINUTE) {
    const d = override?.atMs === t ? override.devices : devicesAt(t);
    const day = out[date(t)] ?? { deviceMinutes: 0, peak: 0, minutes: 0 };
    out[date(t)] = day;
    day.deviceMinutes += d;
    day.peak = Math.max(day.peak, d);
    day.minutes++;
  }
  return out;
}

describe.each(backends())('daily rollups on %s', (backend: Backend) => {
  let db: TestDb;
  const timescale = backend === 'embedded';
  const run = (nowMs: number, malls: ReadonlyMap<string, string> = MALLS) =>
    runMaintenance(db.pool, { timescale, ...OPTIONS, dailyRollupMalls: malls }, nowMs);

  async function sightingsByDay(mallId: string): Promise<Record<string, number>> {
    const r = await db.pool.query<{ day: string; readings: string; time_zone: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, readings, time_zone FROM sightings_daily
       WHERE mall_id = $1 AND sensor_id = 's1' ORDER BY day`,
      [mallId],
    );
    expect(new Set(r.rows.map((x) => x.time_zone))).toEqual(new Set([MALLS.get(mallId)]));
    return Object.fromEntries(r.rows.map((x) => [x.day, Number(x.readings)]));
  }

  async function occupancyByDay(mallId: string) {
    const r = await db.pool.query<{
      day: string;
      device_minutes: string;
      peak_devices: number;
      minutes: number;
    }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, device_minutes, peak_devices, minutes FROM occupancy_daily
       WHERE mall_id = $1 AND zone_id = 'z1' ORDER BY day`,
      [mallId],
    );
    return Object.fromEntries(
      r.rows.map((x) => [
        x.day,
        { deviceMinutes: Number(x.device_minutes), peak: x.peak_devices, minutes: Number(x.minutes) },
      ]),
    );
  }

  const snapshot = async () => ({
    occupancy: (await db.pool.query('SELECT * FROM occupancy_daily ORDER BY mall_id, zone_id, day')).rows,
    sightings: (await db.pool.query('SELECT * FROM sightings_daily ORDER BY mall_id, sensor_id, kind, day'))
      .rows,
  });

  beforeAll(async () => {
    db = await createTestDb(backend);
    for (const mallId of MALLS.keys()) {
      await db.pool.query(
        `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized)
         SELECT t, $1, 'gw', 's1', 'wifi', 'd', -60, false
         FROM generate_series($2::timestamptz, $3::timestamptz, interval '10 minutes') AS t`,
        [mallId, new Date(SIGHTINGS_FROM), new Date(SIGHTINGS_TO)],
      );
      await db.pool.query(
        `INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices)
         SELECT t, $1, 'z1', mod((extract(epoch FROM t) / 60)::bigint * 7, 23)
         FROM generate_series($2::timestamptz, $3::timestamptz, interval '1 minute') AS t`,
        [mallId, new Date(MINUTES_FROM), new Date(MINUTES_TO)],
      );
    }
  });
  afterAll(async () => {
    await db?.close();
  });

  it("rolls up each mall's local days, and keeps the days whose raw rows retention dropped", async () => {
    const result = await run(NOW);
    expect(result.dailyRollups).toEqual(
      timescale ? { zonesCreated: 3, days: 0 } : { zonesCreated: 0, days: expect.any(Number) },
    );
    if (timescale) {
      // One pair of continuous aggregates per zone; Kolkata's on the raw tables, not the hourly ones.
      const zones = await db.pool.query(
        `SELECT z.time_zone, z.from_hourly, count(c.view_name)::int AS aggregates
         FROM daily_rollup_zones z
         JOIN timescaledb_information.continuous_aggregates c ON c.view_name IN (z.occupancy_view, z.sightings_view)
         GROUP BY 1, 2 ORDER BY 1`,
      );
      expect(zones.rows).toEqual([
        { time_zone: 'Asia/Kolkata', from_hourly: false, aggregates: 2 },
        { time_zone: 'Asia/Shanghai', from_hourly: true, aggregates: 2 },
        { time_zone: 'Europe/Berlin', from_hourly: true, aggregates: 2 },
      ]);
    }
    const cut = NOW - 30 * DAY;
    expect(
      Number(
        (await db.pool.query('SELECT count(*) AS n FROM sightings WHERE time < $1', [new Date(cut - DAY)]))
          .rows[0].n,
      ),
    ).toBe(0);
    for (const [mallId, timeZone] of MALLS) {
      const days = await sightingsByDay(mallId);
      expect(days).toEqual(expectedSightings(timeZone));
      // Days from before the cut-off are there, from the rollup alone.
      expect(Object.keys(days).filter((d) => d < dateIn(timeZone)(cut - 2 * DAY)).length).toBeGreaterThan(5);
      expect(await occupancyByDay(mallId)).toEqual(expectedOccupancy(timeZone));
    }
    // The 25-hour day: 150 ten-minute readings; Kolkata's day starts at 18:30 UTC.
    expect((await sightingsByDay('be'))['2026-10-25']).toBe(150);
    const kolkata = await db.pool.query(
      `SELECT day_start FROM occupancy_daily WHERE mall_id = 'in' AND day = '2026-10-25'`,
    );
    expect(kolkata.rows).toEqual([{ day_start: new Date(Date.UTC(2026, 9, 24, 18, 30)) }]);
  });

  it('a second run changes nothing', async () => {
    const before = await snapshot();
    const again = await run(NOW);
    expect(again.dailyRollups?.zonesCreated).toBe(0);
    expect(await snapshot()).toEqual(before);
  });

  it('late rows are picked up by the next run', async () => {
    const lateSighting = NOW - 2 * HOUR + MINUTE; // within the lateness margin of the last run
    const olderSighting = NOW - 5 * DAY; // TimescaleDB: into a compressed chunk
    const changedMinute = Date.UTC(2026, 9, 25, 10, 7);
    const late = timescale ? [lateSighting, olderSighting] : [lateSighting];
    for (const t of late) {
      for (const mallId of MALLS.keys()) {
        await db.pool.query(
          `INSERT INTO sightings (time, mall_id, gateway_id, sensor_id, kind, device, rssi_dbm, randomized)
           VALUES ($1, $2, 'gw', 's1', 'wifi', 'late', -60, false)`,
          [new Date(t), mallId],
        );
      }
    }
    // A minute rewritten (its final count): TimescaleDB re-aggregates it at any age; plain
    // PostgreSQL redoes the days of the lateness margin only, so there it is a recent minute.
    const minuteAt = timescale ? changedMinute : NOW - 90 * MINUTE;
    await db.pool.query(
      `INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices) VALUES ($1, 'in', 'z1', 500)
       ON CONFLICT (mall_id, zone_id, bucket) DO UPDATE SET devices = 500`,
      [new Date(minuteAt)],
    );
    await run(NOW + HOUR);
    for (const [mallId, timeZone] of MALLS) {
      expect(await sightingsByDay(mallId)).toEqual(expectedSightings(timeZone, late));
    }
    const kolkata = await occupancyByDay('in');
    const day = dateIn('Asia/Kolkata')(minuteAt);
    if (timescale)
      expect(kolkata[day]).toEqual(expectedOccupancy('Asia/Kolkata', { atMs: minuteAt, devices: 500 })[day]);
    else expect(kolkata[day]).toEqual({ deviceMinutes: 500, peak: 500, minutes: 1 });
  });

  it('a mall in a time zone the database does not know is refused, naming the mall and the zone', async () => {
    await expect(run(NOW + HOUR, new Map([['mars', 'Mars/Olympus_Mons']]))).rejects.toThrow(
      /mall "mars": time zone "Mars\/Olympus_Mons"/,
    );
  });
});
