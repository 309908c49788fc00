import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshDailyKpis } from '../../analytics/src/sql/refresh-daily-kpis.ts';
import { DEFAULT_VISITOR_RULE } from '../../core/src/visitor-rule.ts';
import type { Dashboard } from '../../dashboard/src/server.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { serveHistory } from '../helpers/history-dashboard.ts';
import { historyLayout } from '../helpers/history-layout.ts';

// The history API on hand-inserted rows whose KPIs are worked out by hand below, on each backend.
// Mall time zone Asia/Shanghai (UTC+8): "A" is local 2026-11-17, "B" local 2026-11-18.
//
// Visits starting on A (stays in brackets; street is the only 'outside' zone):
//   d1  10:00-10:45 [street, gate, hall, cafe 30m, hall]     visitor, 45 min, first seen 2026-11-01
//   d2  11:00-11:03 [street]                                 passer-by visit
//   d2  15:00-15:04 [gate, shoes 3m]                         visitor, 4 min, first seen A 11:00 (new)
//   d3  12:00-12:01 [street]                                 passer-by, first seen A 12:00
//   d4  13:00-13:01 [street], 18:00-18:02 [street]           passer-by (one device), first seen A 13:00
//   d5  09:00-09:30 [esc-2, cinema 25m]                      visitor, 30 min, first seen 2026-10-01
//   d5  20:00-21:10 [cafe 30m, cafe 20m, hall, gate]         visitor, 70 min
//   d6  08:00-15:00 [gate, hall, shoes 6h30, hall]           visitor, 7 h, first seen 2026-11-10
//   d7  23:30-(B)00:40 [street, hall from B 00:10]           visitor (its inside stay starts on B), 70 min, new
//   + d1's stay in the cinema at 12:00-12:10 that belongs to no visit, and a visit of d1 in another mall.
// A: visitors d1 d2 d5 d6 d7 = 5; passers-by d3 d4 = 2; capture 5/7 = 0.7143; visitor visits 6,
//    dwell 45m+4m+30m+70m+7h+70m = 38,340,000 ms, mean 6,390,000; new d2 d7 = 2, returning 3;
//    dwell buckets [<5m 1, 5-20m 0, 20-60m 2, 1-6h 2, 6h+ 1]. Rotating MACs: d1's visit is an
//    orphan, d6's has 2 doubtful links, so visitors 5 in [5 - 1, 5 + 2] = [4, 7].
// B: d8 01:00-01:10 [hall] (= A 17:00 UTC; first seen B 01:00, new), d1 14:00-14:20 [cafe] (20 min:
//    the 20-60 bucket, lower bound included), d3 16:00-16:05 [gate, shoes] (5 min: 5-20 bucket).
//    visitors 3, passers-by 0, capture 1, visits 3, dwell 2,100,000 (mean 700,000), new 1, returning 2.
// A+B as one period: visitors d1 d2 d3 d5 d6 d7 d8 = 7 (d3 came in on B), passers-by d4 = 1,
//    capture 0.875, new d2 d3 d7 d8 = 4, returning 3, visits 9, mean dwell 40,440,000 / 9,
//    visitors in [6, 9].

const MALL = 'hist-mall';
const TZ = 'Asia/Shanghai';
const A = '2026-11-17';
const B = '2026-11-18';
/** 'YYYY-MM-DD HH:MM' in Shanghai, or an ISO time with its offset, → epoch ms. */
const at = (time: string) =>
  time.includes('T') ? Date.parse(time) : Date.parse(`${time.replace(' ', 'T')}:00+08:00`);
const MIN = 60_000;

/** confidence: of the stay's zone estimates (absent: none, as a stay walked through unheard). */
type Stay = [zone: string, from: string, to: string, confidence?: number];

async function insertVisit(
  db: TestDb,
  mallId: string,
  device: string,
  stays: Stay[],
  visit?: [string, string],
  rotation: { orphan?: boolean; doubtfulLinks?: number } = {},
) {
  const startMs = at(visit?.[0] ?? stays[0]![1]);
  const endMs = at(visit?.[1] ?? stays[stays.length - 1]![2]);
  // As the engine would class them here: a visit that stayed on the street is a passer-by's.
  const passerBy = stays.every(([zone]) => zone === 'street');
  await db.pool.query(
    `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts, passer_by, orphan, doubtful_links)
     VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9)`,
    [
      mallId,
      device,
      new Date(startMs),
      new Date(endMs),
      endMs - startMs,
      stays.length,
      passerBy,
      rotation.orphan ?? false,
      rotation.doubtfulLinks ?? 0,
    ],
  );
  await insertStays(db, mallId, device, stays);
}

async function insertStays(db: TestDb, mallId: string, device: string, stays: Stay[]) {
  for (const [zone, from, to, confidence] of stays) {
    await db.pool.query(
      `INSERT INTO zone_stays (mall_id, device, zone_id, started_at, ended_at, dwell_ms, bursts, confidence)
       VALUES ($1, $2, $3, $4, $5, $6, 1, $7)`,
      [mallId, device, zone, new Date(at(from)), new Date(at(to)), at(to) - at(from), confidence ?? null],
    );
  }
}

async function insertRows(db: TestDb): Promise<void> {
  const v = (
    device: string,
    stays: Stay[],
    visit?: [string, string],
    rotation?: { orphan?: boolean; doubtfulLinks?: number },
  ) => insertVisit(db, MALL, device, stays, visit, rotation);
  // d1's first visit began with a rotated MAC nobody could be linked to (an orphan); d6's visit
  // linked two rotations with a close rival (doubtful): A's visitor count is 5 in [4, 7].
  await v(
    'd1',
    [
      ['street', `${A} 10:00`, `${A} 10:02`],
      ['gate', `${A} 10:02`, `${A} 10:05`],
      ['hall', `${A} 10:05`, `${A} 10:10`],
      ['cafe', `${A} 10:10`, `${A} 10:40`, 0.75],
      ['hall', `${A} 10:40`, `${A} 10:45`],
    ],
    undefined,
    { orphan: true },
  );
  await v('d2', [['street', `${A} 11:00`, `${A} 11:03`]]);
  await v('d2', [
    ['gate', `${A} 15:00`, `${A} 15:01`],
    ['shoes', `${A} 15:01`, `${A} 15:04`],
  ]);
  await v('d3', [['street', `${A} 12:00`, `${A} 12:01`]]);
  await v('d4', [['street', `${A} 13:00`, `${A} 13:01`]]);
  await v('d4', [['street', `${A} 18:00`, `${A} 18:02`]]);
  await v('d5', [
    ['esc-2', `${A} 09:00`, `${A} 09:05`],
    ['cinema', `${A} 09:05`, `${A} 09:30`],
  ]);
  await v('d5', [
    ['cafe', `${A} 20:00`, `${A} 20:30`, 0.5],
    ['cafe', `${A} 20:30`, `${A} 20:50`],
    ['hall', `${A} 20:50`, `${A} 21:05`],
    ['gate', `${A} 21:05`, `${A} 21:10`],
  ]);
  await v(
    'd6',
    [
      ['gate', `${A} 08:00`, `${A} 08:10`],
      ['hall', `${A} 08:10`, `${A} 08:20`],
      ['shoes', `${A} 08:20`, `${A} 14:50`],
      ['hall', `${A} 14:50`, `${A} 15:00`],
    ],
    undefined,
    { doubtfulLinks: 2 },
  );
  await v('d7', [
    ['street', `${A} 23:30`, `${A} 23:35`],
    ['hall', `${B} 00:10`, `${B} 00:40`],
  ]);
  await v('d8', [['hall', `${B} 01:00`, `${B} 01:10`]]);
  await v('d1', [['cafe', `${B} 14:00`, `${B} 14:20`]]);
  await v('d3', [
    ['gate', `${B} 16:00`, `${B} 16:01`],
    ['shoes', `${B} 16:01`, `${B} 16:05`],
  ]);
  await insertStays(db, MALL, 'd1', [['cinema', `${A} 12:00`, `${A} 12:10`]]);
  await insertVisit(db, 'other-mall', 'd1', [['cafe', `${A} 10:00`, `${A} 11:00`]]);
  const firstSeen: [string, string][] = [
    ['d1', '2026-11-01 10:00'],
    ['d2', `${A} 11:00`],
    ['d3', `${A} 12:00`],
    ['d4', `${A} 13:00`],
    ['d5', '2026-10-01 09:00'],
    ['d6', '2026-11-10 08:00'],
    ['d7', `${A} 23:30`],
    ['d8', `${B} 01:00`],
  ];
  for (const [device, local] of firstSeen) {
    await db.pool.query(
      'INSERT INTO device_first_seen (mall_id, device, first_visit_at) VALUES ($1, $2, $3)',
      [MALL, device, new Date(at(local))],
    );
  }
  await db.pool.query(
    "INSERT INTO device_first_seen (mall_id, device, first_visit_at) VALUES ('other-mall', 'd1', $1)",
    [new Date(at(`${A} 10:00`))],
  );
  // Occupancy: cafe at 10:00 and 10:01, hall at 10:30 on A; a row just before and just after A.
  const minutes: [string, string, number][] = [
    ['cafe', `${A} 10:00`, 3],
    ['cafe', `${A} 10:01`, 5],
    ['hall', `${A} 10:30`, 7],
    ['cafe', '2026-11-16 23:59', 99],
    ['cafe', `${B} 00:00`, 98],
  ];
  for (const [zone, local, devices] of minutes) {
    await db.pool.query(
      'INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices) VALUES ($1, $2, $3, $4)',
      [new Date(at(local)), MALL, zone, devices],
    );
  }
}

const DAY_A = {
  visitors: 5,
  visitorsLow: 4,
  visitorsHigh: 7,
  passersBy: 2,
  captureRate: 0.7143,
  avgDwellMs: 6_390_000,
  newVisitors: 2,
  returningVisitors: 3,
  visitorVisits: 6,
};
const DAY_B = {
  visitors: 3,
  visitorsLow: 3,
  visitorsHigh: 3,
  passersBy: 0,
  captureRate: 1,
  avgDwellMs: 700_000,
  newVisitors: 1,
  returningVisitors: 2,
  visitorVisits: 3,
};
const DAY_C = {
  visitors: 0,
  visitorsLow: 0,
  visitorsHigh: 0,
  passersBy: 0,
  captureRate: null,
  avgDwellMs: null,
  newVisitors: 0,
  returningVisitors: 0,
  visitorVisits: 0,
};

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    type,
    disposition: res.headers.get('content-disposition'),
    text,
    body: type.startsWith('application/json') ? JSON.parse(text) : undefined,
  };
}

describe.each(backends())('history API on %s', (backend: Backend) => {
  let db: TestDb;
  let dashboard: Dashboard;
  let base: string;
  const layout = historyLayout(MALL, TZ);
  const berlin = historyLayout('berlin-mall', 'Europe/Berlin');

  beforeAll(async () => {
    db = await createTestDb(backend);
    await insertRows(db);
    ({ dashboard, base } = await serveHistory(db.pool, [layout, berlin], MALL));
  });
  afterAll(async () => {
    await dashboard?.close();
    await db?.close();
  });

  it('counts daily KPIs by the definitions, days cut at local midnight', async () => {
    const { status, body } = await get(`${base}/kpis?from=${A}&to=2026-11-19`);
    expect(status).toBe(200);
    expect(body.timeZone).toBe(TZ);
    expect(body.by).toBe('day');
    expect(body.rows).toEqual([
      {
        period: A,
        startAt: '2026-11-16T16:00:00.000Z',
        endAt: '2026-11-17T16:00:00.000Z',
        ...DAY_A,
        source: 'live',
      },
      {
        period: B,
        startAt: '2026-11-17T16:00:00.000Z',
        endAt: '2026-11-18T16:00:00.000Z',
        ...DAY_B,
        source: 'live',
      },
      {
        period: '2026-11-19',
        startAt: '2026-11-18T16:00:00.000Z',
        endAt: '2026-11-19T16:00:00.000Z',
        ...DAY_C,
        source: 'live',
      },
    ]);
    expect(Object.keys(body.definitions)).toEqual(
      expect.arrayContaining([
        'visitors',
        'passersBy',
        'captureRate',
        'avgDwellMs',
        'newVisitors',
        'localTime',
      ]),
    );
  });

  it('names the visitor rule the analytics worker recorded, or the default one', async () => {
    const before = (await get(`${base}/dwell?from=${A}&to=${A}`)).body.definitions;
    expect(before.visitorRule).toEqual({ ...DEFAULT_VISITOR_RULE, source: 'default' });
    expect(before.visitorVisit).toContain('at least 5 probe bursts within 20 min');
    const rule = { minBursts: 3, windowMs: 600_000, firstRssiDbm: -70, rssiDbm: -85, minInsideMs: 120_000 };
    await db.pool.query('INSERT INTO engine_settings (mall_id, visitor_rule) VALUES ($1, $2)', [MALL, rule]);
    try {
      const after = (await get(`${base}/kpis?from=${A}&to=${A}`)).body.definitions;
      expect(after.visitorRule).toEqual({ ...rule, source: 'engine_settings' });
      expect(after.visitorVisit).toContain(
        'at least 3 probe bursts within 10 min (a burst: one probe request heard by any number of sensors, at its strongest RSSI), the first at -70 dBm or stronger and the others at -85 dBm or stronger, and at least 120 s inside',
      );
      // Another mall's row is not this one's rule.
      const berlinRule = (await get(`${dashboard.url}/api/malls/berlin-mall/history/dwell?from=${A}&to=${A}`))
        .body.definitions.visitorRule;
      expect(berlinRule.source).toBe('default');
    } finally {
      await db.pool.query('DELETE FROM engine_settings WHERE mall_id = $1', [MALL]);
    }
  });

  it('reads the same days from the rollup once analytics refreshed them', async () => {
    const result = await refreshDailyKpis(
      db.pool,
      at(`${A} 00:00`),
      at('2026-11-20 00:00'),
      new Map([[MALL, TZ]]),
    );
    expect(result.days).toBe(3);
    const rows = await db.pool.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, visitors, visitors_low, visitors_high, passers_by, new_visitors, visitor_visits, visitor_dwell_ms,
              dwell_under_5m, dwell_5m_20m, dwell_20m_1h, dwell_1h_6h, dwell_6h_plus, time_zone
       FROM kpi_daily WHERE mall_id = $1 ORDER BY day`,
      [MALL],
    );
    expect(rows.rows).toEqual([
      {
        day: A,
        visitors: 5,
        visitors_low: 4,
        visitors_high: 7,
        passers_by: 2,
        new_visitors: 2,
        visitor_visits: 6,
        visitor_dwell_ms: '38340000',
        dwell_under_5m: 1,
        dwell_5m_20m: 0,
        dwell_20m_1h: 2,
        dwell_1h_6h: 2,
        dwell_6h_plus: 1,
        time_zone: TZ,
      },
      {
        day: B,
        visitors: 3,
        visitors_low: 3,
        visitors_high: 3,
        passers_by: 0,
        new_visitors: 1,
        visitor_visits: 3,
        visitor_dwell_ms: '2100000',
        dwell_under_5m: 0,
        dwell_5m_20m: 2,
        dwell_20m_1h: 1,
        dwell_1h_6h: 0,
        dwell_6h_plus: 0,
        time_zone: TZ,
      },
      {
        day: '2026-11-19',
        visitors: 0,
        visitors_low: 0,
        visitors_high: 0,
        passers_by: 0,
        new_visitors: 0,
        visitor_visits: 0,
        visitor_dwell_ms: '0',
        dwell_under_5m: 0,
        dwell_5m_20m: 0,
        dwell_20m_1h: 0,
        dwell_1h_6h: 0,
        dwell_6h_plus: 0,
        time_zone: TZ,
      },
    ]);
    const { body } = await get(`${base}/kpis?from=${A}&to=2026-11-20`);
    expect(body.rows.map((r: { source: string }) => r.source)).toEqual([
      'rollup',
      'rollup',
      'rollup',
      'live',
    ]);
    expect(body.rows[0]).toMatchObject({ ...DAY_A, source: 'rollup' });
    expect(body.rows[1]).toMatchObject({ ...DAY_B, source: 'rollup' });

    // A day still under way is not written; a day cut in another time zone is not used.
    expect(
      (await refreshDailyKpis(db.pool, at('2026-11-20 00:00'), at('2026-11-20 15:00'), new Map([[MALL, TZ]])))
        .days,
    ).toBe(0);
    await db.pool.query(
      "UPDATE kpi_daily SET time_zone = 'UTC', visitors = 999 WHERE mall_id = $1 AND day = $2",
      [MALL, B],
    );
    const again = await get(`${base}/kpis?from=${B}&to=${B}`);
    expect(again.body.rows[0]).toMatchObject({ ...DAY_B, source: 'live' });
  });

  it('counts hourly KPIs in local hours', async () => {
    const { status, body } = await get(`${base}/kpis?from=${A}&to=${A}&by=hour`);
    expect(status).toBe(200);
    expect(body.rows).toHaveLength(24);
    const busy = body.rows
      .filter((r: { visitors: number; passersBy: number }) => r.visitors + r.passersBy > 0)
      .map((r: { period: string; visitors: number; passersBy: number; newVisitors: number }) => [
        r.period,
        r.visitors,
        r.passersBy,
        r.newVisitors,
      ]);
    // d2's visitor visit at 15:00 is not new: its first visit (11:00) is in another hour.
    expect(busy).toEqual([
      [`${A} 08:00`, 1, 0, 0],
      [`${A} 09:00`, 1, 0, 0],
      [`${A} 10:00`, 1, 0, 0],
      [`${A} 11:00`, 0, 1, 0],
      [`${A} 12:00`, 0, 1, 0],
      [`${A} 13:00`, 0, 1, 0],
      [`${A} 15:00`, 1, 0, 0],
      [`${A} 18:00`, 0, 1, 0],
      [`${A} 20:00`, 1, 0, 0],
      [`${A} 23:00`, 1, 0, 1],
    ]);
    expect(body.rows[10]).toMatchObject({
      period: `${A} 10:00`,
      startAt: '2026-11-17T02:00:00.000Z',
      endAt: '2026-11-17T03:00:00.000Z',
      avgDwellMs: 45 * MIN,
    });
  });

  it('gives a day with a DST change its 25 hours', async () => {
    const berlinBase = `${dashboard.url}/api/malls/berlin-mall/history`;
    // 02:30 happens twice on 2026-10-25 in Berlin: first in CEST (00:30 UTC), then in CET (01:30 UTC).
    await insertVisit(db, 'berlin-mall', 'b1', [['hall', '2026-10-25T00:30:00Z', '2026-10-25T00:40:00Z']]);
    await insertVisit(db, 'berlin-mall', 'b2', [['hall', '2026-10-25T01:30:00Z', '2026-10-25T01:40:00Z']]);
    const { body } = await get(`${berlinBase}/kpis?from=2026-10-25&to=2026-10-25&by=hour`);
    expect(body.rows).toHaveLength(25);
    expect(
      body.rows
        .slice(1, 5)
        .map((r: { period: string; startAt: string; visitors: number }) => [r.period, r.startAt, r.visitors]),
    ).toEqual([
      ['2026-10-25 01:00', '2026-10-24T23:00:00.000Z', 0],
      ['2026-10-25 02:00', '2026-10-25T00:00:00.000Z', 1],
      ['2026-10-25 02:00', '2026-10-25T01:00:00.000Z', 1],
      ['2026-10-25 03:00', '2026-10-25T02:00:00.000Z', 0],
    ]);
    const day = await get(`${berlinBase}/kpis?from=2026-10-25&to=2026-10-25`);
    expect(day.body.rows[0]).toMatchObject({
      visitors: 2,
      startAt: '2026-10-24T22:00:00.000Z',
      endAt: '2026-10-25T23:00:00.000Z',
    });
    const heatmap = await get(`${berlinBase}/heatmap?date=2026-10-25`);
    expect(heatmap.body.columns).toBe(1500);
  });

  it('serves a day heatmap per zone and minute, and per hour', async () => {
    const { status, body } = await get(`${base}/heatmap?date=${A}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      mallId: MALL,
      date: A,
      resolution: 'minute',
      startAt: '2026-11-16T16:00:00.000Z',
      endAt: '2026-11-17T16:00:00.000Z',
      columnMinutes: 1,
      columns: 1440,
    });
    expect(body.zones.map((z: { zoneId: string }) => z.zoneId)).toEqual(layout.zones.map((z) => z.id));
    const cafe = body.zones.find((z: { zoneId: string }) => z.zoneId === 'cafe');
    const hall = body.zones.find((z: { zoneId: string }) => z.zoneId === 'hall');
    const filled = (cells: (number | null)[]) => cells.flatMap((v, i) => (v === null ? [] : [[i, v]]));
    expect(filled(cafe.devices)).toEqual([
      [600, 3],
      [601, 5],
    ]);
    expect(filled(hall.devices)).toEqual([[630, 7]]);
    expect(
      body.zones
        .find((z: { zoneId: string }) => z.zoneId === 'shoes')
        .devices.every((v: unknown) => v === null),
    ).toBe(true);

    const hourly = await get(`${base}/heatmap?date=${A}&resolution=hour`);
    const cafeHours = hourly.body.zones.find((z: { zoneId: string }) => z.zoneId === 'cafe');
    expect(hourly.body.columns).toBe(24);
    expect(filled(cafeHours.devices)).toEqual([[10, 4]]);
    expect(filled(cafeHours.peakDevices)).toEqual([[10, 5]]);

    const csv = await get(`${base}/heatmap?date=${A}&format=csv`);
    expect(csv.type).toBe('text/csv; charset=utf-8; header=present');
    expect(csv.disposition).toBe(`attachment; filename="${MALL}-heatmap-${A}.csv"`);
    expect(csv.text).toBe(
      'zone_id,zone_name,zone_kind,start_at,local_time,devices\r\n' +
        'hall,Hall,corridor,2026-11-17T02:30:00.000Z,2026-11-17 10:30,7\r\n' +
        'cafe,"Cafe ""Roma"", ground floor",store,2026-11-17T02:00:00.000Z,2026-11-17 10:00,3\r\n' +
        'cafe,"Cafe ""Roma"", ground floor",store,2026-11-17T02:01:00.000Z,2026-11-17 10:01,5\r\n',
    );
  });

  it('serves the dwell distribution of a range', async () => {
    const { body } = await get(`${base}/dwell?from=${A}&to=${B}`);
    expect(body.visitorVisits).toBe(9);
    expect(body.buckets.map((b: { bucket: string; visits: number }) => [b.bucket, b.visits])).toEqual([
      ['under_5m', 1],
      ['5m_20m', 2],
      ['20m_1h', 3],
      ['1h_6h', 2],
      ['6h_plus', 1],
    ]);
    const csv = await get(`${base}/dwell?from=${A}&to=${B}`, { accept: 'text/csv' });
    expect(csv.text.split('\r\n')).toEqual([
      'bucket,label,min_ms,max_ms,visits,share',
      'under_5m,< 5 min,0,300000,1,0.1111',
      '5m_20m,5–20 min,300000,1200000,2,0.2222',
      '20m_1h,20–60 min,1200000,3600000,3,0.3333',
      '1h_6h,1–6 h,3600000,21600000,2,0.2222',
      '6h_plus,6 h+,21600000,,1,0.1111',
      '',
    ]);
  });

  it('serves flows within visits, busiest first', async () => {
    const { body } = await get(`${base}/flows?from=${A}&to=${A}`);
    expect(body.totalTransitions).toBe(12);
    expect(body.totalPairs).toBe(10);
    expect(
      body.rows.map(
        (r: { fromZoneId: string; toZoneId: string; transitions: number }) =>
          `${r.fromZoneId}>${r.toZoneId} ${r.transitions}`,
      ),
    ).toEqual([
      'cafe>hall 2',
      'gate>hall 2',
      'esc-2>cinema 1',
      'gate>shoes 1',
      'hall>cafe 1',
      'hall>gate 1',
      'hall>shoes 1',
      'shoes>hall 1',
      'street>gate 1',
      'street>hall 1',
    ]);
    expect(body.rows[0]).toEqual({
      fromZoneId: 'cafe',
      fromZoneName: 'Cafe "Roma", ground floor',
      toZoneId: 'hall',
      toZoneName: 'Hall',
      transitions: 2,
      share: 0.1667,
    });
    const top2 = await get(`${base}/flows?from=${A}&to=${A}&limit=2&format=csv`);
    expect(top2.text).toBe(
      'from_zone_id,from_zone_name,to_zone_id,to_zone_name,transitions,share\r\n' +
        'cafe,"Cafe ""Roma"", ground floor",hall,Hall,2,0.1667\r\n' +
        'gate,Main Gate,hall,Hall,2,0.1667\r\n',
    );
  });

  it('ranks stores by stays and by median dwell', async () => {
    const byVisits = await get(`${base}/top-stores?from=${A}&to=${A}`);
    expect(byVisits.body.storesWithStays).toBe(3);
    expect(byVisits.body.rows).toEqual([
      {
        rank: 1,
        zoneId: 'cafe',
        name: 'Cafe "Roma", ground floor',
        category: 'food',
        floor: 'g',
        stays: 3,
        devices: 2,
        medianDwellMs: 30 * MIN,
        meanDwellMs: ((30 + 30 + 20) * MIN) / 3,
        // Over the stays that have one (the third has none).
        meanConfidence: 0.625,
      },
      {
        rank: 2,
        zoneId: 'cinema',
        name: 'Cinema',
        category: 'cinema',
        floor: 'u',
        stays: 2,
        devices: 2,
        medianDwellMs: 17.5 * MIN,
        meanDwellMs: 17.5 * MIN,
        meanConfidence: null,
      },
      {
        rank: 3,
        zoneId: 'shoes',
        name: 'Shoes',
        category: 'fashion',
        floor: 'g',
        stays: 2,
        devices: 2,
        medianDwellMs: 196.5 * MIN,
        meanDwellMs: 196.5 * MIN,
        meanConfidence: null,
      },
    ]);
    const byDwell = await get(`${base}/top-stores?from=${A}&to=${A}&by=dwell&limit=2`);
    expect(byDwell.body.rows.map((r: { zoneId: string }) => r.zoneId)).toEqual(['shoes', 'cafe']);
  });

  it('compares two periods, each counted as a whole', async () => {
    const { body } = await get(`${base}/compare?from=${B}&to=${B}&vsFrom=${A}&vsTo=${A}`);
    expect(body.period).toMatchObject({ from: B, to: B, kpis: DAY_B });
    expect(body.vsPeriod).toMatchObject({ from: A, to: A, kpis: DAY_A });
    expect(body.metrics).toEqual([
      { metric: 'visitors', period: 3, vsPeriod: 5, change: -2, changePct: -40 },
      { metric: 'visitorsLow', period: 3, vsPeriod: 4, change: -1, changePct: -25 },
      { metric: 'visitorsHigh', period: 3, vsPeriod: 7, change: -4, changePct: -57.14 },
      { metric: 'passersBy', period: 0, vsPeriod: 2, change: -2, changePct: -100 },
      { metric: 'captureRate', period: 1, vsPeriod: 0.7143, change: 0.2857, changePct: 40 },
      { metric: 'avgDwellMs', period: 700_000, vsPeriod: 6_390_000, change: -5_690_000, changePct: -89.05 },
      { metric: 'newVisitors', period: 1, vsPeriod: 2, change: -1, changePct: -50 },
      { metric: 'returningVisitors', period: 2, vsPeriod: 3, change: -1, changePct: -33.33 },
      { metric: 'visitorVisits', period: 3, vsPeriod: 6, change: -3, changePct: -50 },
    ]);
    const both = await get(`${base}/compare?from=${A}&to=${B}&vsFrom=2026-11-15&vsTo=2026-11-16`);
    expect(both.body.period.kpis).toEqual({
      visitors: 7,
      visitorsLow: 6,
      visitorsHigh: 9,
      passersBy: 1,
      captureRate: 0.875,
      avgDwellMs: Math.round(40_440_000 / 9),
      newVisitors: 4,
      returningVisitors: 3,
      visitorVisits: 9,
    });
    const csv = await get(`${base}/compare?from=${B}&to=${B}&vsFrom=${A}&vsTo=${A}&format=csv`);
    expect(csv.disposition).toBe(`attachment; filename="${MALL}-compare-${B}-${B}-vs-${A}-${A}.csv"`);
    expect(csv.text.split('\r\n').slice(0, 3)).toEqual([
      'metric,period,vs_period,change,change_pct',
      'visitors,3,5,-2,-40',
      'visitorsLow,3,4,-1,-25',
    ]);
  });

  it('exports the daily KPIs as CSV', async () => {
    const csv = await get(`${base}/kpis?from=${A}&to=${A}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.disposition).toBe(`attachment; filename="${MALL}-kpis-day-${A}-${A}.csv"`);
    expect(csv.text).toBe(
      'date,start_at,end_at,visitors,visitors_low,visitors_high,passers_by,capture_rate,avg_dwell_ms,new_visitors,returning_visitors,visitor_visits,source\r\n' +
        `${A},2026-11-16T16:00:00.000Z,2026-11-17T16:00:00.000Z,5,4,7,2,0.7143,6390000,2,3,6,rollup\r\n`,
    );
    // Accept prefers JSON here: JSON.
    const json = await get(`${base}/kpis?from=${A}&to=${A}`, { accept: 'text/csv;q=0.5, application/json' });
    expect(json.type).toMatch(/^application\/json/);
  });

  it('answers 400 naming the parameter, 404 for an unknown mall', async () => {
    const cases: [string, string][] = [
      ['kpis', 'from: is required; to: is required'],
      [`kpis?from=${A}&to=2026-11-31`, 'to: must be a date such as 2026-11-18'],
      [`kpis?from=${B}&to=${A}`, `to: must not be before from (${B})`],
      [
        'kpis?from=2026-07-01&to=2026-10-01',
        'from, to: the range spans 93 days; at most 92 (2026-07-01 to 2026-09-30)',
      ],
      [
        `kpis?from=${A}&to=2026-11-24&by=hour`,
        'from, to: the range spans 8 days; at most 7 (2026-11-17 to 2026-11-23)',
      ],
      [`kpis?from=${A}&to=${A}&by=week`, 'by: must be "day" or "hour"'],
      [`kpis?from=${A}&to=${A}&format=xml`, 'format: must be "json" or "csv"'],
      ['heatmap', 'date: is required'],
      ['heatmap?date=17/11/2026', 'date: must be a date such as 2026-11-18'],
      [`heatmap?date=${A}&resolution=second`, 'resolution: must be "minute" or "hour"'],
      [`flows?from=${A}&to=${A}&limit=0`, 'limit: must be a whole number from 1 to 500'],
      [`top-stores?from=${A}&to=${A}&by=money`, 'by: must be "visits" or "dwell"'],
      [`compare?from=${A}&to=${A}&vsFrom=${B}`, 'vsTo: is required'],
      [`compare?from=${A}&to=${A}&vsFrom=${B}&vsTo=${A}`, `vsTo: must not be before vsFrom (${B})`],
      [
        'dwell?from=2026-01-01&to=2026-12-31',
        'from, to: the range spans 365 days; at most 92 (2026-01-01 to 2026-04-02)',
      ],
    ];
    for (const [path, message] of cases) {
      const { status, body } = await get(`${base}/${path}`);
      expect(status, path).toBe(400);
      expect(body.error, path).toBe('INVALID_QUERY');
      expect(body.message, path).toBe(message);
    }
    for (const path of ['heatmap', 'kpis', 'dwell', 'flows', 'top-stores', 'compare']) {
      const { status, body } = await get(
        `${dashboard.url}/api/malls/nowhere/history/${path}?date=${A}&from=${A}&to=${A}`,
      );
      expect(status, path).toBe(404);
      expect(body, path).toEqual({ error: 'MALL_NOT_FOUND', message: 'unknown mall "nowhere"' });
    }
  });
});
