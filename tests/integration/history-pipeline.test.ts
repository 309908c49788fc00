import { startTestSystem, type TestSystem } from 'mallflow/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshDailyKpis } from '../../analytics/src/sql/refresh-daily-kpis.ts';
import { DEFAULT_VISITOR_RULE } from '../../core/src/visitor-rule.ts';
import { createDashboard, type Dashboard } from '../../dashboard/src/server.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { historyLayout } from '../helpers/history-layout.ts';

// The history API's definitions on rows the system wrote itself: virtual phones heard by the
// mall's sensors, published through gateways and the broker, turned into visits and zone stays by
// analytics. Alice and Carol come in (Carol from the street) and walk out through the gate, Bob
// only walks along the street.

const MALL = 'pipe-mall';
const DAY = '2026-11-18';
const START = `${DAY}T10:00:00+08:00`;
const MINUTE = 60_000;
/** A stay's edges are known to within one probe interval (20 s with the screen on). */
const EDGE_MS = 20_000;

describe.each(backends())('history of a virtual mall on %s', (backend: Backend) => {
  let db: TestDb;
  let system: TestSystem;
  let dashboard: Dashboard;
  const layout = historyLayout(MALL, 'Asia/Shanghai');
  const devices = { alice: '', bob: '', carol: '' };

  beforeAll(async () => {
    db = await createTestDb(backend);
    system = await startTestSystem({ layout, pool: db.pool });
    dashboard = await createDashboard({
      pool: db.pool,
      layouts: [layout],
      port: 0,
      logger: pino({ level: 'silent' }),
    });

    const mall = await system.mall({ start: START });
    const alice = mall.phone({ id: 'alice', screen: 'on', zone: 'gate' });
    const bob = mall.phone({ id: 'bob', screen: 'on', zone: 'street' });
    const carol = mall.phone({ id: 'carol', screen: 'on', zone: 'street' });
    devices.alice = alice.pseudonym;
    devices.bob = bob.pseudonym;
    devices.carol = carol.pseudonym;
    await mall.advance('2m');
    alice.moveTo('hall');
    carol.moveTo('gate');
    await mall.advance('2m');
    carol.moveTo('hall');
    await mall.advance('1m');
    alice.moveTo('cafe');
    bob.leave();
    await mall.advance('2m');
    carol.moveTo('shoes');
    await mall.advance('8m');
    alice.moveTo('hall'); // 15 min in the mall, then out along the hall and through the gate
    await mall.advance('20s');
    alice.moveTo('gate');
    await mall.advance('20s');
    alice.leave();
    await mall.advance('6m20s');
    carol.moveTo('hall'); // 22 min
    await mall.advance('20s');
    carol.moveTo('gate');
    await mall.advance('20s');
    carol.leave();
    await mall.advance('50m'); // past the idle gap, and the silence bridge of a visit last heard inside
    await system.settle(mall);
  });
  afterAll(async () => {
    await dashboard?.close();
    await system?.close();
    await db?.close();
  });

  const api = async (path: string) => {
    const res = await fetch(`${dashboard.url}/api/malls/${MALL}/history/${path}`);
    expect(res.status, path).toBe(200);
    return JSON.parse(await res.text());
  };

  it('tells visitors from the passer-by, and counts them new', async () => {
    const visits = await system.read.visits();
    expect(visits.map((v) => v.device).sort()).toEqual(Object.values(devices).sort());
    const dwellOf = (device: string) => visits.find((v) => v.device === device)!.dwellMs;
    const visitorDwells = [dwellOf(devices.alice), dwellOf(devices.carol)];
    // Each then took 40 s to walk out.
    expect(Math.abs(visitorDwells[0]! - 15 * MINUTE - 40_000)).toBeLessThanOrEqual(2 * EDGE_MS);
    expect(Math.abs(visitorDwells[1]! - 22 * MINUTE - 40_000)).toBeLessThanOrEqual(2 * EDGE_MS);
    // Bob's stays are all in the street; the others' are not.
    const stays = await system.read.zoneStays();
    expect(new Set(stays.filter((s) => s.device === devices.bob).map((s) => s.zoneId))).toEqual(
      new Set(['street']),
    );

    const { rows, definitions } = await api(`kpis?from=${DAY}&to=${DAY}`);
    // The rule the worker classed them by, as it recorded it.
    expect(definitions.visitorRule).toEqual({ ...DEFAULT_VISITOR_RULE, source: 'engine_settings' });
    expect(rows).toEqual([
      expect.objectContaining({
        period: DAY,
        visitors: 2,
        passersBy: 1,
        captureRate: 0.6667,
        avgDwellMs: Math.round((visitorDwells[0]! + visitorDwells[1]!) / 2),
        newVisitors: 2,
        returningVisitors: 0,
        visitorVisits: 2,
        source: 'live',
      }),
    ]);
    const dwell = await api(`dwell?from=${DAY}&to=${DAY}`);
    expect(dwell.buckets.map((b: { visits: number }) => b.visits)).toEqual([0, 1, 1, 0, 0]);
  });

  it('finds the walks and the stores', async () => {
    const flows = await api(`flows?from=${DAY}&to=${DAY}`);
    const pairs = flows.rows.map(
      (r: { fromZoneId: string; toZoneId: string }) => `${r.fromZoneId}>${r.toZoneId}`,
    );
    expect(pairs).toEqual(expect.arrayContaining(['gate>hall', 'hall>cafe', 'street>gate', 'hall>shoes']));
    // Nobody went near the cinema; the only way out to the street is through the gate (the engine
    // fills in the walk of someone leaving, as it does of someone coming in).
    expect(pairs.some((p: string) => p.includes('cinema'))).toBe(false);
    expect(pairs.filter((p: string) => p.endsWith('>street'))).toEqual(
      pairs.includes('gate>street') ? ['gate>street'] : [],
    );

    const stores = await api(`top-stores?from=${DAY}&to=${DAY}`);
    const byId = new Map(stores.rows.map((r: { zoneId: string }) => [r.zoneId, r]));
    expect([...byId.keys()].sort()).toEqual(['cafe', 'shoes']);
    expect(byId.get('cafe')).toMatchObject({ stays: 1, devices: 1 });
    // Placed by the engine: its zone estimates carry a confidence.
    for (const row of byId.values()) {
      const { meanConfidence } = row as { meanConfidence: number };
      expect(meanConfidence).toBeGreaterThan(0.5);
      expect(meanConfidence).toBeLessThanOrEqual(1);
    }
    expect(
      Math.abs((byId.get('cafe') as { medianDwellMs: number }).medianDwellMs - 10 * MINUTE),
    ).toBeLessThanOrEqual(2 * EDGE_MS);
    expect(
      Math.abs((byId.get('shoes') as { medianDwellMs: number }).medianDwellMs - 15 * MINUTE),
    ).toBeLessThanOrEqual(2 * EDGE_MS);

    const heatmap = await api(`heatmap?date=${DAY}&resolution=hour`);
    const cafe = heatmap.zones.find((z: { zoneId: string }) => z.zoneId === 'cafe');
    expect(cafe.peakDevices[10]).toBe(1);
  });

  it('rolls the day up to the same KPIs', async () => {
    const live = (await api(`kpis?from=${DAY}&to=${DAY}`)).rows[0];
    const dayStartMs = Date.parse(`${DAY}T00:00:00+08:00`);
    const { days } = await refreshDailyKpis(
      db.pool,
      dayStartMs,
      dayStartMs + 24 * 3_600_000,
      new Map([[MALL, layout.timezone]]),
    );
    expect(days).toBe(1);
    const rolled = (await api(`kpis?from=${DAY}&to=${DAY}`)).rows[0];
    expect(rolled).toEqual({ ...live, source: 'rollup' });
  });
});
