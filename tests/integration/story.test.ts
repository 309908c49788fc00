import { startTestSystem, type TestSystem } from 'mallflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';

// The test kit's end-to-end story: a phone enters at 10:00, stays 12 minutes in one store, walks
// to the next one, stays 8 minutes and leaves. Three hours of a mall would take as long: the
// clock is virtual.

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
/** A stay's edges are known to within one probe interval (20 s with the screen on). */
const DWELL_TOLERANCE_MS = 20 * SECOND;

describe.each(backends())('a shopper story on %s', (backend: Backend) => {
  let db: TestDb;
  let system: TestSystem;

  beforeAll(async () => {
    db = await createTestDb(backend);
    system = await startTestSystem({ layout: 'small-store', pool: db.pool });
  });
  afterAll(async () => {
    await system?.close();
    await db?.close();
  });

  it('zone stays with their dwell (the aisle walked through filled in), and one visit', async () => {
    const mall = await system.mall({ start: '2026-11-21T10:00:00+08:00' });
    const alice = mall.phone({ id: 'alice', screen: 'on' });

    alice.moveTo('g-fashion');
    await mall.advance('12m');
    alice.moveTo('g-beauty');
    await mall.advance('8m');
    alice.leave();
    await mall.advance('30m');
    await system.settle(mall);

    const stays = await system.read.zoneStays({ device: alice.pseudonym });
    // The aisle between the two stores was not heard, but she walked through it (adjacency).
    expect(stays.map((s) => s.zoneId)).toEqual(['g-fashion', 'g-aisle', 'g-beauty']);
    expect(Math.abs(stays[0]!.dwellMs - 12 * MINUTE)).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);
    expect(stays[1]!.dwellMs).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);
    expect(Math.abs(stays[2]!.dwellMs - 8 * MINUTE)).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);
    expect(
      Math.abs(stays[0]!.startedAt.getTime() - Date.parse('2026-11-21T10:00:00+08:00')),
    ).toBeLessThanOrEqual(2 * SECOND);

    const visits = await system.read.visits({ device: alice.pseudonym });
    expect(visits).toHaveLength(1);
    expect(visits[0]!.stays).toBe(3);
    expect(Math.abs(visits[0]!.dwellMs - 20 * MINUTE)).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);
    const firstSeen = await system.pool.query(
      'SELECT first_visit_at FROM device_first_seen WHERE mall_id = $1 AND device = $2',
      [system.layout.id, alice.pseudonym],
    );
    expect(firstSeen.rows.map((r) => r.first_visit_at.getTime())).toEqual([visits[0]!.startedAt.getTime()]);
  });
});

// The README's example, verbatim in substance: the kit's default path with its own fresh embedded database.
it('a shopper stays 12 minutes in one store, 8 in the next, and leaves (README example)', async () => {
  const system = await startTestSystem({ layout: 'small-store' }); // broker + analytics + embedded DB
  try {
    const mall = await system.mall({ start: '2026-11-21T10:00:00+08:00' });
    const alice = mall.phone({ screen: 'on' });

    alice.moveTo('g-fashion');
    await mall.advance('12m');
    alice.moveTo('g-beauty');
    await mall.advance('8m');
    alice.leave();
    await mall.advance('30m');
    await system.settle(mall);

    const stays = await system.read.zoneStays({ device: alice.pseudonym });
    expect(stays.map((s) => s.zoneId)).toEqual(['g-fashion', 'g-aisle', 'g-beauty']);
    expect(await system.read.visits({ device: alice.pseudonym })).toHaveLength(1);
  } finally {
    await system.close();
  }
});
