import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMaintenance } from '../../analytics/src/maintenance.ts';
import { DEFAULT_STAFF_RULE } from '../../core/src/staff-rule.ts';
import type { Dashboard } from '../../dashboard/src/server.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { serveHistory } from '../helpers/history-dashboard.ts';
import { historyLayout } from '../helpers/history-layout.ts';

// Staff devices on real rows, each backend. Shanghai days 2026-11-10 .. 16:
//   clerk    09:30-18:30 (9 h) every day but the 13th: 6 of 7 days -> staff from the 15th (5th day)
//   long     10:00-17:00 (7 h) on the 10th, 12th, 14th, 16th: 4 of 7 -> not staff (5 needed)
//   regular  18:00-19:00 (1 h) every day -> a shopper, however often
//   shopper  14:00-14:30 on the 16th only
// The 16th without staff: visitors long, regular, shopper = 3, new = shopper 1; flows
// gate->cafe 2, cafe->hall 1, gate->shoes 1 (the clerk's gate->shoes left out); staff present 1.

const MALL = 'staff-mall';
const TZ = 'Asia/Shanghai';
const HOUR = 3_600_000;
const at = (local: string) => Date.parse(`${local.replace(' ', 'T')}:00+08:00`);
const NOW = at('2026-11-17 12:00');
const DAYS = ['10', '11', '12', '13', '14', '15', '16'].map((d) => `2026-11-${d}`);

type Stay = [zone: string, from: string, to: string];

async function insertVisit(db: TestDb, device: string, day: string, stays: Stay[]) {
  const s = at(`${day} ${stays[0]![1]}`);
  const e = at(`${day} ${stays[stays.length - 1]![2]}`);
  await db.pool.query(
    `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts, passer_by)
     VALUES ($1, $2, $3, $4, $5, $6, 10, false)`,
    [MALL, device, new Date(s), new Date(e), e - s, stays.length],
  );
  for (const [zone, from, to] of stays) {
    const fromMs = at(`${day} ${from}`);
    const toMs = at(`${day} ${to}`);
    await db.pool.query(
      `INSERT INTO zone_stays (mall_id, device, zone_id, started_at, ended_at, dwell_ms, bursts, visit_device)
       VALUES ($1, $2, $3, $4, $5, $6, 3, $2)`,
      [MALL, device, zone, new Date(fromMs), new Date(toMs), toMs - fromMs],
    );
  }
}

async function insertRows(db: TestDb) {
  for (const day of DAYS) {
    if (!day.endsWith('13')) {
      await insertVisit(db, 'clerk', day, [
        ['gate', '09:30', '09:35'],
        ['shoes', '09:35', '18:30'],
      ]);
    }
    if (['10', '12', '14', '16'].some((d) => day.endsWith(d))) {
      await insertVisit(db, 'long', day, [
        ['gate', '10:00', '10:05'],
        ['shoes', '10:05', '17:00'],
      ]);
    }
    await insertVisit(db, 'regular', day, [
      ['gate', '18:00', '18:05'],
      ['cafe', '18:05', '18:55'],
      ['hall', '18:55', '19:00'],
    ]);
  }
  await insertVisit(db, 'shopper', '2026-11-16', [
    ['gate', '14:00', '14:05'],
    ['cafe', '14:05', '14:30'],
  ]);
  for (const [device, first] of [
    ['clerk', '2026-11-10 09:30'],
    ['long', '2026-11-10 10:00'],
    ['regular', '2026-11-10 18:00'],
    ['shopper', '2026-11-16 14:00'],
  ] as const) {
    await db.pool.query(
      'INSERT INTO device_first_seen (mall_id, device, first_visit_at) VALUES ($1, $2, $3)',
      [MALL, device, new Date(at(first))],
    );
  }
}

describe.each(backends())('staff devices on %s', (backend: Backend) => {
  let db: TestDb;
  let dashboard: Dashboard;
  let base: string;
  const kpiMalls = { timeZoneByMall: new Map([[MALL, TZ]]) };
  const maintain = (staffRule = DEFAULT_STAFF_RULE, nowMs = NOW) =>
    runMaintenance(
      db.pool,
      { timescale: backend === 'embedded', rawRetentionDays: 30, compressAfterDays: 2, kpiMalls, staffRule },
      nowMs,
    );
  const get = async (path: string) => {
    const res = await fetch(`${base}/${path}`);
    expect(res.status).toBe(200);
    return JSON.parse(await res.text());
  };

  beforeAll(async () => {
    db = await createTestDb(backend);
    await insertRows(db);
    ({ dashboard, base } = await serveHistory(db.pool, [historyLayout(MALL, TZ)], MALL));
  });
  afterAll(async () => {
    await dashboard?.close();
    await db?.close();
  });

  it('flags the all-day phone, not the daily one-hour shopper nor a 4-of-7-days one', async () => {
    const result = await maintain();
    expect(result.newStaffDevices).toBe(1);
    const staff = await db.pool.query(
      `SELECT device, to_char(first_flagged_day, 'YYYY-MM-DD') AS first, to_char(last_qualifying_day, 'YYYY-MM-DD') AS last
       FROM staff_devices WHERE mall_id = $1`,
      [MALL],
    );
    expect(staff.rows).toEqual([{ device: 'clerk', first: '2026-11-15', last: '2026-11-16' }]);
    // A second run flags nobody new.
    expect((await maintain()).newStaffDevices).toBe(0);
  });

  it('leaves staff out of the KPIs, rolled up and live, and counts them apart', async () => {
    const daily = await get('kpis?from=2026-11-16&to=2026-11-16');
    expect(daily.rows[0]).toMatchObject({ source: 'rollup', visitors: 3, passersBy: 0, newVisitors: 1 });
    expect(daily.staff).toEqual({ present: 1, flagged: 1 });
    expect(daily.definitions.staffRule).toEqual({ ...DEFAULT_STAFF_RULE, source: 'engine_settings' });
    expect(daily.definitions.staffDevice).toContain('at least 5 of 7 consecutive days');

    const hourly = await get('kpis?from=2026-11-16&to=2026-11-16&by=hour');
    const hour = (h: string) => hourly.rows.find((r: { period: string }) => r.period === `2026-11-16 ${h}`);
    expect(hour('09:00').visitors).toBe(0); // the clerk's
    expect(hour('10:00').visitors).toBe(1); // long's
    expect(hour('14:00').visitors).toBe(1);

    // The 13th, the clerk's day off: the staff present there are none.
    expect((await get('kpis?from=2026-11-13&to=2026-11-13')).staff).toEqual({ present: 0, flagged: 1 });

    const dwell = await get('dwell?from=2026-11-16&to=2026-11-16');
    expect(dwell.visitorVisits).toBe(3);
  });

  it('leaves staff out of flows and top stores', async () => {
    const flows = await get('flows?from=2026-11-16&to=2026-11-16');
    expect(
      flows.rows.map((r: { fromZoneId: string; toZoneId: string; transitions: number }) => [
        r.fromZoneId,
        r.toZoneId,
        r.transitions,
      ]),
    ).toEqual([
      ['gate', 'cafe', 2],
      ['cafe', 'hall', 1],
      ['gate', 'shoes', 1],
    ]);
    const top = await get('top-stores?from=2026-11-16&to=2026-11-16');
    expect(top.rows.map((r: { zoneId: string; stays: number }) => [r.zoneId, r.stays])).toEqual([
      ['cafe', 2],
      ['shoes', 1],
    ]);
  });

  it('re-flags the mall and rolls its days up again when the rule changes', async () => {
    const result = await maintain({ ...DEFAULT_STAFF_RULE, minDays: 4, minPresenceMs: 6 * HOUR });
    expect(result.newStaffDevices).toBe(2);
    const devices = await db.pool.query('SELECT device FROM staff_devices WHERE mall_id = $1 ORDER BY 1', [
      MALL,
    ]);
    expect(devices.rows.map((r) => r.device)).toEqual(['clerk', 'long']);
    const daily = await get('kpis?from=2026-11-16&to=2026-11-16');
    expect(daily.rows[0]).toMatchObject({ source: 'rollup', visitors: 2 });
    expect(daily.definitions.staffRule.minDays).toBe(4);
  });

  it('rescans a mall for new staff at most hourly', async () => {
    const rule = { ...DEFAULT_STAFF_RULE, minDays: 4, minPresenceMs: 6 * HOUR };
    for (const day of DAYS.slice(2)) {
      await insertVisit(db, 'clerk2', day, [
        ['gate', '08:00', '08:05'],
        ['cafe', '08:05', '16:00'],
      ]);
    }
    expect((await maintain(rule, NOW + HOUR / 2)).newStaffDevices).toBe(0);
    expect((await maintain(rule, NOW + HOUR + 60_000)).newStaffDevices).toBe(1);
  });
});
