import { startTestSystem, type TestSystem } from 'mallflow/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';

// The test kit's end-to-end story: a phone comes in at 10:00, stays 12 minutes in one store, walks
// to the next one, stays 8 minutes and leaves through the entrance. Three hours of a mall would
// take as long: the clock is virtual.

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

    alice.moveTo('g-entrance');
    await mall.advance('20s');
    alice.moveTo('g-fashion');
    await mall.advance('12m');
    alice.moveTo('g-beauty');
    await mall.advance('8m');
    alice.moveTo('g-entrance');
    await mall.advance('20s');
    alice.leave();
    await mall.advance('30m');
    await system.settle(mall);

    const stays = await system.read.zoneStays({ device: alice.pseudonym });
    // The aisle was never heard, but she walked through it each time (adjacency).
    expect(stays.map((s) => s.zoneId)).toEqual([
      'g-entrance',
      'g-aisle',
      'g-fashion',
      'g-aisle',
      'g-beauty',
      'g-aisle',
      'g-entrance',
    ]);
    expect(Math.abs(stays[2]!.dwellMs - 12 * MINUTE)).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);
    expect(stays[3]!.dwellMs).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);
    expect(Math.abs(stays[4]!.dwellMs - 8 * MINUTE)).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);
    // First heard a second after 10:00, and there about half a probe interval before.
    expect(
      Math.abs(stays[0]!.startedAt.getTime() - Date.parse('2026-11-21T10:00:00+08:00')),
    ).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);

    const visits = await system.read.visits({ device: alice.pseudonym });
    expect(visits).toHaveLength(1);
    expect(visits[0]!.stays).toBe(7);
    expect(Math.abs(visits[0]!.dwellMs - 20 * MINUTE - 40 * SECOND)).toBeLessThanOrEqual(DWELL_TOLERANCE_MS);
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

    alice.moveTo('g-fashion'); // first heard in the store: she walked in unheard
    await mall.advance('12m');
    alice.moveTo('g-beauty');
    await mall.advance('8m');
    alice.moveTo('g-entrance');
    await mall.advance('20s');
    alice.leave();
    await mall.advance('30m');
    await system.settle(mall);

    const stays = await system.read.zoneStays({ device: alice.pseudonym });
    // Nobody walks through walls: the zones walked through unheard are filled in.
    expect(stays.map((s) => s.zoneId)).toEqual([
      'g-entrance',
      'g-aisle',
      'g-fashion',
      'g-aisle',
      'g-beauty',
      'g-aisle',
      'g-entrance',
    ]);
    expect(await system.read.visits({ device: alice.pseudonym })).toHaveLength(1);
  } finally {
    await system.close();
  }
});
