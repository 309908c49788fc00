import { pino } from 'pino';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type Layout, validateLayout } from '../../core/src/layout.ts';
import type { OccupancyFrame } from '../../dashboard/src/occupancy-frame.ts';
import { createDashboard, type Dashboard, type SubscribeAck } from '../../dashboard/src/server.ts';
import { createPool } from '../../infra/src/pg-pool.ts';
import { type Backend, backends, createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

const MALL = 'test-mall';

function testLayout(): Layout {
  const result = validateLayout({
    id: MALL,
    name: 'Test Mall',
    floors: [
      { id: 'l1', name: 'Ground', level: 1, widthM: 40, heightM: 20 },
      { id: 'l2', name: 'First', level: 2, widthM: 40, heightM: 20 },
    ],
    zones: [
      {
        id: 'gate',
        floor: 'l1',
        name: 'Main Gate',
        kind: 'entrance',
        capacity: 50,
        polygon: [
          [0, 8],
          [4, 8],
          [4, 12],
          [0, 12],
        ],
      },
      {
        id: 'hall',
        floor: 'l1',
        name: 'Hall',
        kind: 'corridor',
        capacity: 200,
        polygon: [
          [4, 8],
          [36, 8],
          [36, 12],
          [4, 12],
        ],
      },
      {
        id: 'cafe',
        floor: 'l1',
        name: 'Cafe',
        kind: 'store',
        category: 'food',
        capacity: 40,
        polygon: [
          [4, 0],
          [20, 0],
          [20, 8],
          [4, 8],
        ],
      },
      {
        id: 'shoes',
        floor: 'l1',
        name: 'Shoes',
        kind: 'store',
        category: 'fashion',
        capacity: 20,
        polygon: [
          [20, 0],
          [36, 0],
          [36, 8],
          [20, 8],
        ],
      },
      {
        id: 'esc-1',
        floor: 'l1',
        name: 'Escalator',
        kind: 'escalator',
        capacity: 10,
        polygon: [
          [36, 8],
          [40, 8],
          [40, 12],
          [36, 12],
        ],
      },
      {
        id: 'esc-2',
        floor: 'l2',
        name: 'Escalator',
        kind: 'escalator',
        capacity: 10,
        polygon: [
          [36, 8],
          [40, 8],
          [40, 12],
          [36, 12],
        ],
      },
      {
        id: 'cinema',
        floor: 'l2',
        name: 'Cinema',
        kind: 'store',
        category: 'cinema',
        capacity: 300,
        polygon: [
          [0, 0],
          [36, 0],
          [36, 20],
          [0, 20],
        ],
      },
      {
        id: 'street',
        floor: 'l1',
        name: 'Street',
        kind: 'outside',
        capacity: 500,
        polygon: [
          [0, 12],
          [40, 12],
          [40, 20],
          [0, 20],
        ],
      },
    ],
    adjacency: [
      ['gate', 'hall'],
      ['hall', 'cafe'],
      ['hall', 'shoes'],
      ['hall', 'esc-1'],
      ['esc-1', 'esc-2'],
      ['esc-2', 'cinema'],
      ['gate', 'street'],
    ],
    sensors: [
      { id: 's1', kind: 'wifi', floor: 'l1', zone: 'hall', x: 20, y: 10 },
      { id: 's2', kind: 'wifi', floor: 'l2', zone: 'cinema', x: 18, y: 10 },
    ],
  });
  if (!result.ok) throw new Error(`test layout is invalid: ${result.errors.join('; ')}`);
  return result.layout;
}

async function upsertLive(
  db: TestDb,
  zoneId: string,
  devices: number,
  asOf: string,
  confidence: number | null = null,
): Promise<void> {
  await db.pool.query(
    `INSERT INTO occupancy_live (mall_id, zone_id, devices, as_of, confidence) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (mall_id, zone_id) DO UPDATE
       SET devices = EXCLUDED.devices, as_of = EXCLUDED.as_of, confidence = EXCLUDED.confidence`,
    [MALL, zoneId, devices, asOf, confidence],
  );
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

function connect(dashboard: Dashboard): Socket {
  const socket = connectSocket(dashboard.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
  });
  onTestFinished(() => {
    socket.disconnect();
  });
  return socket;
}

describe.each(backends())('dashboard API on %s', (backend: Backend) => {
  let db: TestDb;
  let dashboard: Dashboard;
  const layout = testLayout();

  beforeAll(async () => {
    db = await createTestDb(backend);
    dashboard = await createDashboard({
      pool: db.pool,
      layouts: [layout],
      port: 0,
      tickMs: 100,
      logger: pino({ level: 'silent' }),
    });
    await upsertLive(db, 'cafe', 30, '2026-11-21T10:00:00Z', 0.875);
    await upsertLive(db, 'hall', 50, '2026-11-21T10:00:05Z');
    await upsertLive(db, 'street', 7, '2026-11-21T10:00:05Z');
    await upsertLive(db, 'ghost-zone', 99, '2026-11-21T10:00:09Z');
    await db.pool.query(
      `INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices) VALUES
        ('2026-11-21T09:58:00Z', $1, 'cafe', 10), ('2026-11-21T09:59:00Z', $1, 'cafe', 12),
        ('2026-11-21T09:59:00Z', $1, 'hall', 40), ('2026-11-21T10:00:00Z', $1, 'cafe', 30),
        ('2026-11-21T09:59:00Z', 'other-mall', 'cafe', 5)`,
      [MALL],
    );
  });

  afterAll(async () => {
    await dashboard?.close();
    await db?.close();
  });

  it('reports health with the database state', async () => {
    const { status, body } = await getJson(`${dashboard.url}/api/health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', db: 'ok' });
    expect((body as { uptimeSec: number }).uptimeSec).toBeGreaterThanOrEqual(0);
  });

  it('lists malls and serves a layout for drawing', async () => {
    expect(await getJson(`${dashboard.url}/api/malls`)).toEqual({
      status: 200,
      body: [{ id: MALL, name: 'Test Mall' }],
    });
    const { status, body } = await getJson(`${dashboard.url}/api/malls/${MALL}/layout`);
    expect(status).toBe(200);
    const drawn = body as Record<string, unknown>;
    expect(Object.keys(drawn).sort()).toEqual([
      'adjacency',
      'floors',
      'id',
      'name',
      'sensors',
      'timezone',
      'zones',
    ]);
    expect(drawn.floors).toEqual(layout.floors);
    expect(drawn.zones).toEqual(layout.zones);
    expect(drawn.sensors).toEqual(layout.sensors);
  });

  it('serves live occupancy per zone, zeros for zones without a row', async () => {
    const { status, body } = await getJson(`${dashboard.url}/api/malls/${MALL}/occupancy`);
    expect(status).toBe(200);
    const frame = body as OccupancyFrame;
    expect(frame.mallId).toBe(MALL);
    // ghost-zone is not in the layout: it neither appears nor counts; street is outside the mall.
    expect(frame.asOf).toBe('2026-11-21T10:00:05.000Z');
    expect(frame.total).toBe(80);
    expect(frame.zones.map((z) => z.zoneId)).toEqual(layout.zones.map((z) => z.id));
    expect(frame.zones.find((z) => z.zoneId === 'cafe')).toEqual({
      zoneId: 'cafe',
      devices: 30,
      capacity: 40,
      ratio: 0.75,
      confidence: 0.875,
    });
    expect(frame.zones.find((z) => z.zoneId === 'hall')).toEqual({
      zoneId: 'hall',
      devices: 50,
      capacity: 200,
      ratio: 0.25,
      confidence: null,
    });
    expect(frame.zones.find((z) => z.zoneId === 'shoes')).toEqual({
      zoneId: 'shoes',
      devices: 0,
      capacity: 20,
      ratio: 0,
      confidence: null,
    });
    expect(frame.zones.find((z) => z.zoneId === 'street')?.devices).toBe(7);
  });

  it('serves per-minute occupancy for a time range', async () => {
    const q = 'from=2026-11-21T09:59:00Z&to=2026-11-21T10:01:00Z';
    expect(await getJson(`${dashboard.url}/api/malls/${MALL}/occupancy/minutes?${q}`)).toEqual({
      status: 200,
      body: {
        mallId: MALL,
        from: '2026-11-21T09:59:00.000Z',
        to: '2026-11-21T10:01:00.000Z',
        rows: [
          { bucket: '2026-11-21T09:59:00.000Z', zoneId: 'cafe', devices: 12 },
          { bucket: '2026-11-21T09:59:00.000Z', zoneId: 'hall', devices: 40 },
          { bucket: '2026-11-21T10:00:00.000Z', zoneId: 'cafe', devices: 30 },
        ],
      },
    });
    const oneZone = await getJson(
      `${dashboard.url}/api/malls/${MALL}/occupancy/minutes?from=2026-11-21T09:00:00%2B00:00&to=2026-11-21T10:00:00Z&zone=cafe`,
    );
    expect((oneZone.body as { rows: unknown[] }).rows).toEqual([
      { bucket: '2026-11-21T09:58:00.000Z', zoneId: 'cafe', devices: 10 },
      { bucket: '2026-11-21T09:59:00.000Z', zoneId: 'cafe', devices: 12 },
    ]);
  });

  it('answers 400 with a clear message for bad minute queries', async () => {
    const base = `${dashboard.url}/api/malls/${MALL}/occupancy/minutes`;
    const cases: [string, RegExp][] = [
      ['from=yesterday', /from: must be an ISO 8601 time/],
      ['from=2026-11-21T10:00:00Z&to=not-a-time', /to: must be an ISO 8601 time/],
      ['from=2026-11-21T10:00:00Z&to=2026-11-21T09:00:00Z', /from: must be before to/],
      ['from=2026-11-01T00:00:00Z&to=2026-11-21T00:00:00Z', /at most 24 hours/],
      ['from=2026-11-21T09:00:00Z&to=2026-11-21T10:00:00Z&zone=nowhere', /has no zone "nowhere"/],
    ];
    for (const [query, message] of cases) {
      const { status, body } = await getJson(`${base}?${query}`);
      expect(status, query).toBe(400);
      expect((body as { error: string }).error, query).toBe('INVALID_QUERY');
      expect((body as { message: string }).message, query).toMatch(message);
    }
  });

  it('answers 404 as JSON for an unknown mall or route', async () => {
    for (const path of ['occupancy', 'layout', 'occupancy/minutes']) {
      expect(await getJson(`${dashboard.url}/api/malls/nowhere/${path}`)).toEqual({
        status: 404,
        body: { error: 'MALL_NOT_FOUND', message: 'unknown mall "nowhere"' },
      });
    }
    const { status, body } = await getJson(`${dashboard.url}/api/nothing-here`);
    expect(status).toBe(404);
    expect(body).toMatchObject({ error: 'NOT_FOUND' });
  });

  it('serves the page and the socket.io client', async () => {
    const page = await fetch(`${dashboard.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/socket.io/socket.io.js');
    const client = await fetch(`${dashboard.url}/socket.io/socket.io.js`);
    expect(client.status).toBe(200);
    await client.arrayBuffer();
  });

  it('refuses a subscription to an unknown mall', async () => {
    const socket = connect(dashboard);
    const ack = (await socket.emitWithAck('subscribe', { mallId: 'nowhere' })) as SubscribeAck;
    expect(ack).toEqual({ ok: false, error: 'MALL_NOT_FOUND', message: 'unknown mall "nowhere"' });
    const bad = (await socket.emitWithAck('subscribe', { mall: 1 })) as SubscribeAck;
    expect(bad).toMatchObject({ ok: false, error: 'INVALID_MESSAGE' });
  });

  it('pushes the REST frame to subscribers each tick, and later changes', async () => {
    const socket = connect(dashboard);
    const frames: OccupancyFrame[] = [];
    socket.on('occupancy', (frame: OccupancyFrame) => frames.push(frame));
    const ack = (await socket.emitWithAck('subscribe', { mallId: MALL })) as SubscribeAck;
    expect(ack).toEqual({ ok: true, mallId: MALL });

    const first = await waitFor(() => frames[0], { what: 'a first occupancy event' });
    const rest = await getJson(`${dashboard.url}/api/malls/${MALL}/occupancy`);
    expect(first).toEqual(rest.body);

    await upsertLive(db, 'shoes', 18, '2026-11-21T10:00:30Z', 0.9);
    const updated = await waitFor(
      () => frames.find((f) => f.zones.some((z) => z.zoneId === 'shoes' && z.devices === 18)),
      {
        what: 'an occupancy event with the shoes update',
        describe: () => frames.at(-1),
      },
    );
    expect(updated.total).toBe(98);
    expect(updated.asOf).toBe('2026-11-21T10:00:30.000Z');
    expect(updated.zones.find((z) => z.zoneId === 'shoes')).toEqual({
      zoneId: 'shoes',
      devices: 18,
      capacity: 20,
      ratio: 0.9,
      confidence: 0.9, // 0.9 as a real, to 3 decimals
    });
    expect(updated).toEqual((await getJson(`${dashboard.url}/api/malls/${MALL}/occupancy`)).body);
  });

  it('does not query the database while nobody watches', async () => {
    // Earlier tests' sockets are closed; let their disconnects land, then count pool checkouts.
    let checkouts = 0;
    const onAcquire = () => {
      checkouts++;
    };
    await new Promise((r) => setTimeout(r, 300));
    db.pool.on('acquire', onAcquire);
    onTestFinished(() => {
      db.pool.off('acquire', onAcquire);
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(checkouts).toBe(0);

    const socket = connect(dashboard);
    await socket.emitWithAck('subscribe', { mallId: MALL });
    await waitFor(() => checkouts >= 2, { what: 'ticks to query once someone watches' });
  });

  it('closes without ending the caller’s pool', async () => {
    const extra = await createDashboard({
      pool: db.pool,
      layouts: [layout],
      port: 0,
      logger: pino({ level: 'silent' }),
    });
    const socket = connect(extra);
    await socket.emitWithAck('subscribe', { mallId: MALL });
    await extra.close();
    await extra.close();
    await waitFor(() => !socket.connected, { what: 'the socket to be disconnected by close()' });
    await expect(fetch(`${extra.url}/api/health`)).rejects.toThrow();
    const ok = await db.pool.query('SELECT 1 AS one');
    expect(ok.rows[0].one).toBe(1);
  });
});

describe('dashboard API without a database', () => {
  it('reports the database down with 503s', async () => {
    // Port 1 on loopback refuses connections: a database that is down.
    const pool = createPool({ url: 'postgres://mallflow@127.0.0.1:1/none', max: 1, applicationName: 'test' });
    const dashboard = await createDashboard({
      pool,
      layouts: [testLayout()],
      port: 0,
      logger: pino({ level: 'silent' }),
    });
    onTestFinished(async () => {
      await dashboard.close();
      await pool.end();
    });
    const health = await getJson(`${dashboard.url}/api/health`);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded', db: 'down' });
    expect(await getJson(`${dashboard.url}/api/malls/${MALL}/occupancy`)).toEqual({
      status: 503,
      body: { error: 'DB_UNAVAILABLE', message: 'the database is unavailable; try again shortly' },
    });
  });

  it('refuses two layouts with one mall id', async () => {
    const pool = createPool({ url: 'postgres://mallflow@127.0.0.1:1/none', max: 1, applicationName: 'test' });
    onTestFinished(() => pool.end());
    await expect(
      createDashboard({
        pool,
        layouts: [testLayout(), testLayout()],
        port: 0,
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(/two layouts share the mall id "test-mall"/);
  });
});
