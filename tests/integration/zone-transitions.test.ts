import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMaintenance } from '../../analytics/src/maintenance.ts';
import { dayBounds } from '../../core/src/local-days.ts';
import { createDashboard, type Dashboard } from '../../dashboard/src/server.ts';
import {
  type FlowRow,
  rankFlows,
  readFlowPairsLive,
  readFlowPairsStored,
  readFlows,
  readTransitionsWatermark,
} from '../../dashboard/src/sql/history-flows.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { historyLayout } from '../helpers/history-layout.ts';

// zone_transitions on real rows, each backend: maintenance counts the moves of the visits whose
// hour is a day old into the table, and the history flows, read from it up to that watermark and
// live after, equal the query-time count over the whole range. Shanghai time; now 11-23 15:30, so
// the table holds the hours before 11-22 15:00.
//   a      11-20 10:00 gate hall cafe hall shoes hall gate
//   b      11-20 23:30 street gate hall, on 11-21 00:10 cinema (counts on 11-20, its start)
//   c      11-21 12:00 gate cafe cafe hall (cafe -> cafe is no move)
//   d      11-22 14:30 gate shoes hall (in the table)      e 11-22 16:00 gate cafe hall (live)
//   clerk  09:00-18:00 every day 11-16 .. 11-22: staff, its moves stored with the staff flag
// 11-20 without staff: 9 moves, gate -> hall 2.

const MALL = 'flows-mall';
const TZ = 'Asia/Shanghai';
const at = (local: string) => Date.parse(`${local.replace(' ', 'T')}:00+08:00`);
const NOW = at('2026-11-23 15:30');

type Stay = [zone: string, from: string, to: string];

async function insertVisit(db: TestDb, device: string, stays: Stay[]) {
  const s = at(stays[0]![1]);
  const e = at(stays[stays.length - 1]![2]);
  await db.pool.query(
    `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts, passer_by)
     VALUES ($1, $2, $3, $4, $5, $6, 10, false)`,
    [MALL, device, new Date(s), new Date(e), e - s, stays.length],
  );
  for (const [zone, from, to] of stays) {
    await db.pool.query(
      `INSERT INTO zone_stays (mall_id, device, zone_id, started_at, ended_at, dwell_ms, bursts, visit_device)
       VALUES ($1, $2, $3, $4, $5, $6, 3, $2)`,
      [MALL, device, zone, new Date(at(from)), new Date(at(to)), at(to) - at(from)],
    );
  }
}

/** A walk through `zones` from `start`, `minutes` in each. */
function walk(day: string, start: string, zones: string[], minutes = 5): Stay[] {
  const t0 = at(`${day} ${start}`);
  const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
  return zones.map((z, i) => [z, local(t0 + i * minutes * 60_000), local(t0 + (i + 1) * minutes * 60_000)]);
}

async function insertRows(db: TestDb) {
  await insertVisit(
    db,
    'a',
    walk('2026-11-20', '10:00', ['gate', 'hall', 'cafe', 'hall', 'shoes', 'hall', 'gate']),
  );
  await insertVisit(db, 'b', walk('2026-11-20', '23:30', ['street', 'gate', 'hall', 'cinema'], 10));
  await insertVisit(db, 'c', walk('2026-11-21', '12:00', ['gate', 'cafe', 'cafe', 'hall']));
  await insertVisit(db, 'd', walk('2026-11-22', '14:30', ['gate', 'shoes', 'hall']));
  await insertVisit(db, 'e', walk('2026-11-22', '16:00', ['gate', 'cafe', 'hall']));
  for (let day = 16; day <= 22; day++) {
    await insertVisit(db, 'clerk', walk(`2026-11-${day}`, '09:00', ['gate', 'shoes', 'hall', 'shoes'], 135));
  }
}

const sorted = (rows: FlowRow[]) =>
  [...rows].sort((x, y) => `${x.fromZoneId}>${x.toZoneId}`.localeCompare(`${y.fromZoneId}>${y.toZoneId}`));

describe.each(backends())('zone transitions on %s', (backend: Backend) => {
  let db: TestDb;
  let dashboard: Dashboard;
  const range = (from: string, to: string) => {
    const days = dayBounds(from, to, TZ);
    return [days[0]!.startMs, days[days.length - 1]!.endMs] as const;
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
        kpiMalls: { timeZoneByMall: new Map([[MALL, TZ]]) },
      },
      NOW,
    );
    expect(result.newStaffDevices).toBe(1);
    dashboard = await createDashboard({
      pool: db.pool,
      layouts: [historyLayout(MALL, TZ)],
      port: 0,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await dashboard?.close();
    await db?.close();
  });

  it('stores the moves of the hours a day old, per hour of the visit start, staff flagged', async () => {
    expect(await readTransitionsWatermark(db.pool, MALL)).toBe(at('2026-11-22 15:00'));
    const rows = await db.pool.query(
      `SELECT bucket, from_zone, to_zone, staff, transitions FROM zone_transitions WHERE mall_id = $1
       AND bucket >= $2 AND bucket < $3 ORDER BY bucket, from_zone, to_zone`,
      [MALL, new Date(at('2026-11-20 23:00')), new Date(at('2026-11-21 01:00'))],
    );
    // b's moves all count in 11-20 23:00, though the last happened after midnight.
    expect(
      rows.rows.map((r) => [r.bucket.getTime(), r.from_zone, r.to_zone, r.staff, r.transitions]),
    ).toEqual([
      [at('2026-11-20 23:00'), 'gate', 'hall', false, 1],
      [at('2026-11-20 23:00'), 'hall', 'cinema', false, 1],
      [at('2026-11-20 23:00'), 'street', 'gate', false, 1],
    ]);
    const staff = await db.pool.query(
      'SELECT sum(transitions)::int AS n FROM zone_transitions WHERE mall_id = $1 AND staff',
      [MALL],
    );
    expect(staff.rows[0].n).toBe(6 * 3 + 3); // 11-16 .. 11-21 whole, 11-22 09:00 before the watermark
    // Nothing from the hours after the watermark: e is counted live.
    const after = await db.pool.query('SELECT count(*)::int AS n FROM zone_transitions WHERE bucket >= $1', [
      new Date(at('2026-11-22 15:00')),
    ]);
    expect(after.rows[0].n).toBe(0);
  });

  it('reads from the table what the query-time count gives', async () => {
    const [from, to] = range('2026-11-16', '2026-11-21');
    const stored = await readFlowPairsStored(db.pool, MALL, from, to);
    expect(stored.length).toBeGreaterThan(5);
    expect(sorted(stored)).toEqual(sorted(await readFlowPairsLive(db.pool, MALL, from, to)));
  });

  it('gives the flows of any range, split at the watermark or not, equal to the query-time count', async () => {
    for (const [f, t] of [
      ['2026-11-20', '2026-11-20'],
      ['2026-11-20', '2026-11-22'],
      ['2026-11-22', '2026-11-22'],
      ['2026-11-21', '2026-11-23'],
      ['2026-11-16', '2026-11-23'],
    ] as const) {
      const [from, to] = range(f, t);
      const live = await readFlowPairsLive(db.pool, MALL, from, to);
      for (const limit of [500, 2]) {
        expect(await readFlows(db.pool, MALL, from, to, limit)).toEqual(rankFlows([live], limit));
      }
    }
    const day20 = await readFlows(db.pool, MALL, ...range('2026-11-20', '2026-11-20'), 1);
    expect(day20).toEqual({
      rows: [{ fromZoneId: 'gate', toZoneId: 'hall', transitions: 2 }],
      totalTransitions: 9,
      totalPairs: 8,
    });
  });

  it('serves them from the history API', async () => {
    const res = await fetch(`${dashboard.url}/api/malls/${MALL}/history/flows?from=2026-11-22&to=2026-11-22`);
    const body = JSON.parse(await res.text());
    // d (stored) and e (live): gate -> shoes, shoes -> hall, gate -> cafe, cafe -> hall.
    expect(body.totalTransitions).toBe(4);
    expect(body.totalPairs).toBe(4);
  });
});
