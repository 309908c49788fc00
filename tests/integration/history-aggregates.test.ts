import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMaintenance } from '../../analytics/src/maintenance.ts';
import { storeZoneIds } from '../../core/src/path-zones.ts';
import type { Dashboard } from '../../dashboard/src/server.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { serveHistory } from '../helpers/history-dashboard.ts';
import { historyLayout } from '../helpers/history-layout.ts';

// Paths, visit frequency and peak hours on hand-inserted rows, each backend. Shanghai time,
// A = 2026-11-20, B = 2026-11-21. Stores: cafe, shoes, cinema. Visits (visitor unless said):
//   p1 A 10:00 gate hall cafe hall shoes hall gate -> cafe>shoes   p1 B 10:00 gate shoes hall cafe -> shoes>cafe
//   p2 A 11:00 gate cafe hall shoes -> cafe>shoes   B 10:30 gate cafe shoes -> cafe>shoes   B 15:00 gate cafe -> cafe
//   p3 A 11:30 gate cafe hall cafe hall -> cafe (a store repeated after a corridor counts once)
//   p4 A 12:00 gate hall -> no path               p5 A 13:00 street, a passer-by: nowhere
//   p6 B 18:00 gate esc-1 esc-2 cinema -> cinema  p7 B 12:00 12:30 13:00 13:30 14:00 gate hall (5 visits)
//   clerk A 09:00-18:00 gate shoes hall shoes: staff (maintenance, a one-day 8 h rule here)
// Paths: cafe>shoes 3, cafe 2, cinema 1, shoes>cafe 1 of 7 visits with a path, 13 visitor visits.
// Frequency: 1 visit p3 p4 p6 (p3 p6 new), 2 p1, 3-4 p2 (new), 5+ p7 (new).
// Visitors per hour: A 10 p1, 11 p2 p3, 12 p4; B 10 p1 p2, 12-14 p7, 15 p2, 18 p6.
// Occupancy: A 10:00-10:59 cafe 3 and 10:00-10:29 hall 2 (mean 4), A 11:00-11:29 cafe 6 (mean 3),
// B 18:00-18:59 cinema 10 (mean 10).

const MALL = 'agg-mall';
const TZ = 'Asia/Shanghai';
const A = '2026-11-20';
const B = '2026-11-21';
const at = (local: string) => Date.parse(`${local.replace(' ', 'T')}:00+08:00`);

async function insertVisit(db: TestDb, device: string, start: string, zones: string[], minutes = 5) {
  const s = at(start);
  const e = s + zones.length * minutes * 60_000;
  await db.pool.query(
    `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts, passer_by)
     VALUES ($1, $2, $3, $4, $5, $6, 10, $7)`,
    [MALL, device, new Date(s), new Date(e), e - s, zones.length, zones.every((z) => z === 'street')],
  );
  for (const [i, zone] of zones.entries()) {
    const from = s + i * minutes * 60_000;
    await db.pool.query(
      `INSERT INTO zone_stays (mall_id, device, zone_id, started_at, ended_at, dwell_ms, bursts, visit_device)
       VALUES ($1, $2, $3, $4, $5, $6, 3, $2)`,
      [MALL, device, zone, new Date(from), new Date(from + minutes * 60_000), minutes * 60_000],
    );
  }
}

async function insertRows(db: TestDb) {
  await insertVisit(db, 'p1', `${A} 10:00`, ['gate', 'hall', 'cafe', 'hall', 'shoes', 'hall', 'gate']);
  await insertVisit(db, 'p1', `${B} 10:00`, ['gate', 'shoes', 'hall', 'cafe']);
  await insertVisit(db, 'p2', `${A} 11:00`, ['gate', 'cafe', 'hall', 'shoes']);
  await insertVisit(db, 'p2', `${B} 10:30`, ['gate', 'cafe', 'shoes']);
  await insertVisit(db, 'p2', `${B} 15:00`, ['gate', 'cafe']);
  await insertVisit(db, 'p3', `${A} 11:30`, ['gate', 'cafe', 'hall', 'cafe', 'hall']);
  await insertVisit(db, 'p4', `${A} 12:00`, ['gate', 'hall']);
  await insertVisit(db, 'p5', `${A} 13:00`, ['street']);
  await insertVisit(db, 'p6', `${B} 18:00`, ['gate', 'esc-1', 'esc-2', 'cinema']);
  for (const t of ['12:00', '12:30', '13:00', '13:30', '14:00'])
    await insertVisit(db, 'p7', `${B} ${t}`, ['gate', 'hall']);
  await insertVisit(db, 'clerk', `${A} 09:00`, ['gate', 'shoes', 'hall', 'shoes'], 135);
  const firsts: [string, string][] = [
    ['p1', '2026-11-01 10:00'],
    ['p2', `${A} 11:00`],
    ['p3', `${A} 11:30`],
    ['p4', '2026-10-01 12:00'],
    ['p5', `${A} 13:00`],
    ['p6', `${B} 18:00`],
    ['p7', `${B} 12:00`],
    ['clerk', `${A} 09:00`],
  ];
  for (const [device, t] of firsts) {
    await db.pool.query(
      'INSERT INTO device_first_seen (mall_id, device, first_visit_at) VALUES ($1, $2, $3)',
      [MALL, device, new Date(at(t))],
    );
  }
  const minutes: [zone: string, from: string, count: number, devices: number][] = [
    ['cafe', `${A} 10:00`, 60, 3],
    ['hall', `${A} 10:00`, 30, 2],
    ['cafe', `${A} 11:00`, 30, 6],
    ['cinema', `${B} 18:00`, 60, 10],
  ];
  for (const [zone, from, count, devices] of minutes) {
    await db.pool.query(
      `INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices)
       SELECT $1::timestamptz + i * interval '1 minute', $2, $3, $4 FROM generate_series(0, $5 - 1) AS i`,
      [new Date(at(from)), MALL, zone, devices, count],
    );
  }
}

describe.each(backends())('history aggregates on %s', (backend: Backend) => {
  let db: TestDb;
  let dashboard: Dashboard;
  let base: string;
  const get = async (path: string) => {
    const res = await fetch(`${base}/${path}`);
    const text = await res.text();
    return {
      status: res.status,
      text,
      body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined,
    };
  };

  beforeAll(async () => {
    db = await createTestDb(backend);
    await insertRows(db);
    const result = await runMaintenance(
      db.pool,
      {
        timescale: backend === 'embedded',
        rawRetentionDays: 30,
        compressAfterDays: 2,
        kpiMalls: {
          timeZoneByMall: new Map([[MALL, TZ]]),
          storeZonesByMall: new Map([[MALL, storeZoneIds(historyLayout(MALL, TZ))]]),
        },
        staffRule: { minDays: 1, windowDays: 1, minPresenceMs: 8 * 3_600_000 },
      },
      at('2026-11-22 12:00'),
    );
    expect(result.newStaffDevices).toBe(1);
    ({ dashboard, base } = await serveHistory(db.pool, [historyLayout(MALL, TZ)], MALL));
  });
  afterAll(async () => {
    await dashboard?.close();
    await db?.close();
  });

  it('ranks the store paths of visitor visits, corridors collapsed, staff left out', async () => {
    const { status, body } = await get(`paths?from=${A}&to=${B}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ visitorVisits: 13, visitsWithPath: 7, distinctPaths: 4, rolledUpDays: 2 });
    expect(
      body.rows.map((r: { zoneIds: string[]; visits: number; share: number }) => [
        r.zoneIds,
        r.visits,
        r.share,
      ]),
    ).toEqual([
      [['cafe', 'shoes'], 3, 0.4286],
      [['cafe'], 2, 0.2857],
      [['cinema'], 1, 0.1429],
      [['shoes', 'cafe'], 1, 0.1429],
    ]);
    expect(body.rows[0].names).toEqual(['Cafe "Roma", ground floor', 'Shoes']);
    expect(body.definitions.paths).toContain('corridors');
    const top1 = await get(`paths?from=${A}&to=${A}&limit=1&format=csv`);
    expect(top1.text.trim().split('\r\n')).toEqual([
      'rank,path,path_names,stops,visits,share',
      '1,cafe > shoes,"Cafe ""Roma"", ground floor > Shoes",2,2,0.6667',
    ]);
    const empty = await get('paths?from=2026-11-22&to=2026-11-22');
    expect(empty.body).toMatchObject({ visitorVisits: 0, visitsWithPath: 0, distinctPaths: 0, rows: [] });
  });

  it('reads the paths of rolled-up days from path_daily, the same as counted live', async () => {
    const rolled = (await get(`paths?from=${A}&to=${B}`)).body;
    const stored = await db.pool.query(
      'SELECT path, visits FROM path_daily WHERE mall_id = $1 AND day = $2 ORDER BY 1',
      [MALL, B],
    );
    expect(stored.rows).toEqual([
      { path: 'cafe', visits: 1 },
      { path: 'cafe>shoes', visits: 1 },
      { path: 'cinema', visits: 1 },
      { path: 'shoes>cafe', visits: 1 },
    ]);
    await db.pool.query('UPDATE kpi_daily SET visits_with_path = NULL WHERE mall_id = $1 AND day = $2', [
      MALL,
      A,
    ]);
    const mixed = (await get(`paths?from=${A}&to=${B}`)).body;
    await db.pool.query('UPDATE kpi_daily SET visits_with_path = NULL WHERE mall_id = $1', [MALL]);
    const live = (await get(`paths?from=${A}&to=${B}`)).body;
    expect([mixed.rolledUpDays, live.rolledUpDays]).toEqual([1, 0]);
    for (const body of [mixed, live]) {
      const { rolledUpDays: _, definitions: __, ...rest } = body;
      const { rolledUpDays: ___, definitions: ____, ...expected } = rolled;
      expect(rest).toEqual(expected);
    }
  });

  it('buckets devices by their visits in the range, new and returning', async () => {
    const { body } = await get(`frequency?from=${A}&to=${B}`);
    expect(body.devices).toBe(6);
    expect(
      body.buckets.map((b: { bucket: string; devices: number; newDevices: number; visits: number }) => [
        b.bucket,
        b.devices,
        b.newDevices,
        b.visits,
      ]),
    ).toEqual([
      ['1', 3, 2, 3],
      ['2', 1, 0, 2],
      ['3-4', 1, 1, 3],
      ['5+', 1, 1, 5],
    ]);
    expect(body.buckets[0].share).toBe(0.5);
    expect(body.definitions.visitFrequency).toContain('3-4');
    const csv = await get(`frequency?from=${A}&to=${A}&format=csv`);
    // A alone: p1 p2 p3 p4 one visit each (p2 new, p3 new).
    expect(csv.text.trim().split('\r\n')).toEqual([
      'bucket,min_visits,max_visits,devices,share,new_devices,returning_devices,visits',
      '1,1,1,4,1,2,2,4',
      '2,2,2,0,0,0,0,0',
      '3-4,3,4,0,0,0,0,0',
      '5+,5,,0,0,0,0,0',
    ]);
  });

  it('finds the peak hours: means over the days, and each day peak', async () => {
    const { body } = await get(`peak-hours?from=${A}&to=${B}`);
    expect(body.days).toBe(2);
    const hour = (h: number) => body.hours[h];
    expect(body.hours).toHaveLength(24);
    expect(hour(9)).toEqual({ hour: 9, avgVisitors: 0, avgOccupancy: 0 }); // the clerk is staff
    expect(hour(10)).toEqual({ hour: 10, avgVisitors: 1.5, avgOccupancy: 2 });
    expect(hour(11)).toEqual({ hour: 11, avgVisitors: 1, avgOccupancy: 1.5 });
    expect(hour(12)).toEqual({ hour: 12, avgVisitors: 1, avgOccupancy: 0 });
    expect(hour(13)).toEqual({ hour: 13, avgVisitors: 0.5, avgOccupancy: 0 }); // p5 passed by
    expect(hour(18)).toEqual({ hour: 18, avgVisitors: 0.5, avgOccupancy: 5 });
    expect(body.peaks).toEqual([
      { date: A, peakOccupancyHour: 10, peakOccupancy: 4, peakVisitorsHour: 11, peakVisitors: 2 },
      { date: B, peakOccupancyHour: 18, peakOccupancy: 10, peakVisitorsHour: 10, peakVisitors: 2 },
    ]);
    expect(body.definitions.peakHours).toContain('hour of the day');
    const quiet = await get('peak-hours?from=2026-11-22&to=2026-11-22');
    expect(quiet.body.peaks).toEqual([
      {
        date: '2026-11-22',
        peakOccupancyHour: null,
        peakOccupancy: null,
        peakVisitorsHour: null,
        peakVisitors: null,
      },
    ]);
    const csv = await get(`peak-hours?from=${A}&to=${B}&format=csv`);
    const lines = csv.text.trim().split('\r\n');
    expect(lines).toHaveLength(25);
    expect(lines[0]).toBe('hour,avg_visitors,avg_occupancy');
    expect(lines[11]).toBe('10,1.5,2');
  });

  it('reads the peak hours of rolled-up days from kpi_daily, the same as counted live', async () => {
    const rolled = (await get(`peak-hours?from=${A}&to=${B}`)).body;
    expect(rolled.rolledUpDays).toBe(2);
    const day = await db.pool.query(
      'SELECT hourly_visitors, hourly_device_minutes FROM kpi_daily WHERE mall_id = $1 AND day = $2',
      [MALL, A],
    );
    expect(day.rows[0].hourly_visitors.slice(9, 14)).toEqual([0, 1, 2, 1, 0]);
    expect(day.rows[0].hourly_device_minutes.slice(10, 12).map(Number)).toEqual([240, 180]);
    await db.pool.query('UPDATE kpi_daily SET hourly_visitors = NULL WHERE mall_id = $1 AND day = $2', [
      MALL,
      B,
    ]);
    const mixed = (await get(`peak-hours?from=${A}&to=${B}`)).body;
    await db.pool.query('DELETE FROM kpi_daily WHERE mall_id = $1', [MALL]);
    const live = (await get(`peak-hours?from=${A}&to=${B}`)).body;
    expect(mixed.rolledUpDays).toBe(1);
    expect(live.rolledUpDays).toBe(0);
    for (const body of [mixed, live]) {
      expect(body.hours).toEqual(rolled.hours);
      expect(body.peaks).toEqual(rolled.peaks);
    }
  });

  it('names bad parameters', async () => {
    expect((await get(`paths?from=${B}&to=${A}`)).status).toBe(400);
    expect((await get(`paths?from=${A}&to=${B}&limit=0`)).status).toBe(400);
    expect((await get('frequency?from=x&to=y')).status).toBe(400);
    expect((await get(`peak-hours?from=${A}`)).status).toBe(400);
  });
});
