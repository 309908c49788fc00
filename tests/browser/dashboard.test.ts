import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Layout, validateLayout } from '../../core/src/layout.ts';
import { createDashboard, type Dashboard } from '../../dashboard/src/server.ts';
import { createTestDb, type TestDb } from '../helpers/db.ts';

// Drives the real page in Debian's chromium against a dashboard on the embedded database.
// CI installs /usr/bin/chromium; without it this file fails on purpose rather than skipping.

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../artifacts');
const MALL = 'browser-mall';

type Rect = [number, number, number, number];
const rect = ([x0, y0, x1, y1]: Rect): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

/** A two-floor mall: shops on both sides of a corridor with an atrium, linked by escalators. */
function browserLayout(): Layout {
  // [floor, name, category, capacity, [x0, y0, x1, y1] in metres]
  const shops: [string, string, string, number, Rect][] = [
    ['g', 'Uniqlo', 'fashion', 120, [4, 0, 16, 13]],
    ['g', 'Zara', 'fashion', 90, [16, 0, 26, 13]],
    ['g', 'Sephora', 'beauty', 40, [26, 0, 32, 13]],
    ['g', 'Apple', 'electronics', 80, [32, 0, 44, 13]],
    ['g', 'Nike', 'sports', 60, [44, 0, 56, 13]],
    ['g', 'Muji', 'fashion', 50, [4, 19, 12, 32]],
    ['g', 'Starbucks', 'food', 45, [12, 19, 20, 32]],
    ['g', 'Watsons', 'health', 30, [20, 19, 28, 32]],
    ['g', 'Service Desk', 'services', 10, [28, 24, 32, 32]],
    ['g', 'Lego', 'kids', 35, [32, 19, 40, 32]],
    ['g', 'Ole Market', 'supermarket', 200, [40, 19, 56, 32]],
    ['f1', 'Food Court', 'food', 260, [4, 0, 22, 13]],
    ['f1', 'Haidilao', 'food', 90, [22, 0, 32, 13]],
    ['f1', 'Pop Mart', 'kids', 30, [32, 0, 40, 13]],
    ['f1', 'Xiaomi', 'electronics', 60, [40, 0, 48, 13]],
    ['f1', 'Adidas', 'sports', 50, [48, 0, 56, 13]],
    ['f1', 'Innisfree', 'beauty', 25, [4, 19, 14, 32]],
    ['f1', 'Nail Bar', 'beauty', 12, [14, 19, 22, 32]],
    ['f1', 'Kids Club', 'kids', 40, [22, 19, 28, 32]],
    ['f1', 'Pharmacy', 'health', 15, [28, 24, 32, 32]],
    ['f1', 'CGV Cinema', 'cinema', 320, [32, 19, 56, 32]],
  ];
  const zones: Record<string, unknown>[] = [];
  const adjacency: [string, string][] = [
    ['g-street', 'g-gate-w'],
    ['g-gate-w', 'g-hall-w'],
    ['g-gate-e', 'g-hall-e'],
    ['g-esc', 'f1-esc'],
  ];
  const sensors: Record<string, unknown>[] = [];
  for (const floor of ['g', 'f1']) {
    const [hallW, atrium, hallE, esc] = ['hall-w', 'atrium', 'hall-e', 'esc'].map((z) => `${floor}-${z}`) as [
      string,
      string,
      string,
      string,
    ];
    zones.push(
      {
        id: hallW,
        floor,
        name: 'West Hall',
        kind: 'corridor',
        capacity: 150,
        polygon: rect([4, 13, 26, 19]),
      },
      { id: atrium, floor, name: 'Atrium', kind: 'atrium', capacity: 120, polygon: rect([26, 13, 34, 19]) },
      {
        id: hallE,
        floor,
        name: 'East Hall',
        kind: 'corridor',
        capacity: 150,
        polygon: rect([34, 13, 56, 19]),
      },
      { id: esc, floor, name: 'Escalator', kind: 'escalator', capacity: 20, polygon: rect([28, 19, 32, 24]) },
    );
    adjacency.push([hallW, atrium], [atrium, hallE], [atrium, esc]);
    sensors.push(
      { id: `${floor}-s-w`, kind: 'wifi', floor, zone: hallW, x: 15, y: 16 },
      { id: `${floor}-s-a`, kind: 'wifi+ble', floor, zone: atrium, x: 30, y: 16 },
      { id: `${floor}-s-e`, kind: 'wifi', floor, zone: hallE, x: 45, y: 16 },
    );
  }
  for (const [floor, name, category, capacity, box] of shops) {
    const id = `${floor}-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
    zones.push({ id, floor, name, kind: 'store', category, brand: name, capacity, polygon: rect(box) });
    const hall = box[1] === 24 ? 'esc' : box[2] <= 26 ? 'hall-w' : box[0] >= 34 ? 'hall-e' : 'atrium';
    adjacency.push([id, `${floor}-${hall}`]);
  }
  zones.push(
    // The street in front of the west gate: passers-by for the History view.
    {
      id: 'g-street',
      floor: 'g',
      name: 'West Street',
      kind: 'outside',
      capacity: 300,
      polygon: rect([0, 19, 4, 32]),
    },
    {
      id: 'g-gate-w',
      floor: 'g',
      name: 'West Gate',
      kind: 'entrance',
      capacity: 40,
      polygon: rect([0, 13, 4, 19]),
    },
    {
      id: 'g-gate-e',
      floor: 'g',
      name: 'East Gate',
      kind: 'entrance',
      capacity: 40,
      polygon: rect([56, 13, 60, 19]),
    },
  );
  const result = validateLayout({
    id: MALL,
    name: 'Browser Test Mall',
    timezone: 'Asia/Shanghai',
    floors: [
      { id: 'g', name: 'Ground floor', level: 1, widthM: 60, heightM: 32 },
      { id: 'f1', name: 'First floor', level: 2, widthM: 60, heightM: 32 },
    ],
    zones,
    adjacency,
    sensors,
  });
  if (!result.ok) throw new Error(`browser test layout is invalid:\n${result.errors.join('\n')}`);
  return result.layout;
}

async function setLive(
  db: TestDb,
  devicesByZone: Record<string, number>,
  asOf: string,
  confidenceByZone: Record<string, number> = {},
): Promise<void> {
  const zones = Object.keys(devicesByZone);
  await db.pool.query(
    `INSERT INTO occupancy_live (mall_id, zone_id, devices, confidence, as_of)
     SELECT $1, z, d, c, $5 FROM unnest($2::text[], $3::int[], $4::real[]) AS t(z, d, c)
     ON CONFLICT (mall_id, zone_id) DO UPDATE
       SET devices = EXCLUDED.devices, confidence = EXCLUDED.confidence, as_of = EXCLUDED.as_of`,
    [MALL, zones, zones.map((z) => devicesByZone[z]), zones.map((z) => confidenceByZone[z] ?? null), asOf],
  );
}

/** Local 'YYYY-MM-DD HH:MM' in Shanghai (the browser mall's time zone) → Date. */
const shanghai = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);

/**
 * Two days of history: on 2026-11-20 two visitors (one new, one returning) and a passer-by on the
 * street; on 2026-11-19 one visitor. Occupancy minutes for two zones on 2026-11-20. A staff phone
 * (flagged in staff_devices, as maintenance would) in Uniqlo all day on 2026-11-20: in no figure
 * but the staff count.
 */
async function insertHistory(db: TestDb): Promise<void> {
  const visits: [string, [string, string, string][]][] = [
    [
      'v1',
      [
        ['g-gate-w', '2026-11-20 10:00', '2026-11-20 10:02'],
        ['g-hall-w', '2026-11-20 10:02', '2026-11-20 10:05'],
        ['g-uniqlo', '2026-11-20 10:05', '2026-11-20 10:35'],
        ['g-hall-w', '2026-11-20 10:35', '2026-11-20 10:40'],
      ],
    ],
    [
      'v2',
      [
        ['g-gate-e', '2026-11-20 14:00', '2026-11-20 14:01'],
        ['g-hall-e', '2026-11-20 14:01', '2026-11-20 14:04'],
        ['g-apple', '2026-11-20 14:04', '2026-11-20 14:20'],
      ],
    ],
    [
      'v2',
      [
        ['g-gate-w', '2026-11-20 17:00', '2026-11-20 17:01'],
        ['g-hall-w', '2026-11-20 17:01', '2026-11-20 17:03'],
        ['g-uniqlo', '2026-11-20 17:03', '2026-11-20 17:10'],
      ],
    ],
    ['p1', [['g-street', '2026-11-20 12:00', '2026-11-20 12:01']]],
    [
      'staff1',
      [
        ['g-gate-w', '2026-11-20 09:00', '2026-11-20 09:02'],
        ['g-uniqlo', '2026-11-20 09:02', '2026-11-20 18:00'],
      ],
    ],
    [
      'v3',
      [
        ['g-gate-w', '2026-11-19 11:00', '2026-11-19 11:01'],
        ['g-hall-w', '2026-11-19 11:01', '2026-11-19 11:10'],
      ],
    ],
  ];
  for (const [device, stays] of visits) {
    const start = shanghai(stays[0]![1]);
    const end = shanghai(stays[stays.length - 1]![2]);
    // As the engine classes them here: the visit that stayed on the street is a passer-by's.
    const passerBy = stays.every(([zone]) => zone === 'g-street');
    await db.pool.query(
      `INSERT INTO visits (mall_id, device, started_at, ended_at, dwell_ms, stays, bursts, passer_by)
       VALUES ($1, $2, $3, $4, $5, $6, 1, $7)`,
      [MALL, device, start, end, end.getTime() - start.getTime(), stays.length, passerBy],
    );
    for (const [zone, from, to] of stays) {
      await db.pool.query(
        `INSERT INTO zone_stays (mall_id, device, zone_id, started_at, ended_at, dwell_ms, bursts, confidence)
         VALUES ($1, $2, $3, $4, $5, $6, 1, 0.9)`,
        [MALL, device, zone, shanghai(from), shanghai(to), shanghai(to).getTime() - shanghai(from).getTime()],
      );
    }
  }
  // v2's afternoon visit linked a rotated MAC with a close rival: 2 visitors that day, maybe 3.
  await db.pool.query(
    'UPDATE visits SET doubtful_links = 1 WHERE mall_id = $1 AND device = $2 AND started_at = $3',
    [MALL, 'v2', shanghai('2026-11-20 14:00')],
  );
  await db.pool.query(
    `INSERT INTO staff_devices (mall_id, device, first_flagged_day, last_qualifying_day)
     VALUES ($1, 'staff1', '2026-11-14', '2026-11-20')`,
    [MALL],
  );
  await db.pool.query(
    `INSERT INTO device_first_seen (mall_id, device, first_visit_at) VALUES
       ($1, 'v1', $2), ($1, 'v2', $3), ($1, 'p1', $4), ($1, 'v3', $5)`,
    [
      MALL,
      shanghai('2026-11-20 10:00'),
      shanghai('2026-11-01 09:00'),
      shanghai('2026-11-20 12:00'),
      shanghai('2026-11-19 11:00'),
    ],
  );
  await db.pool.query(
    `INSERT INTO occupancy_minute (bucket, mall_id, zone_id, devices)
     SELECT $2::timestamptz + m * interval '1 minute', $1, z, (m % 7) + 1
     FROM generate_series(0, 89) AS m, unnest(ARRAY['g-uniqlo', 'g-hall-w']) AS z`,
    [MALL, shanghai('2026-11-20 10:00')],
  );
}

const attrs = async (items: Locator, name: string) =>
  Promise.all((await items.all()).map((item) => item.getAttribute(name)));

const zoneAttr = (page: Page, zoneId: string, name: string) =>
  page.locator(`.zone[data-zone-id="${zoneId}"]`).getAttribute(name);

describe('dashboard page in chromium', () => {
  let db: TestDb;
  let dashboard: Dashboard;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const layout = browserLayout();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install chromium). ` +
          'They fail rather than skip so CI cannot pass without them.',
      );
    }
    db = await createTestDb('embedded');
    await setLive(
      db,
      {
        'g-uniqlo': 40,
        'g-sephora': 38,
        'g-apple': 70,
        'g-hall-w': 25,
        'g-atrium': 60,
        'g-hall-e': 12,
        'g-gate-w': 6,
        'g-starbucks': 20,
        'g-ole-market': 64,
        'f1-food-court': 180,
        'f1-cgv-cinema': 150,
        'f1-pop-mart': 29,
        'f1-hall-w': 18,
        'f1-atrium': 30,
        'f1-esc': 4,
        'f1-haidilao': 85,
      },
      '2026-11-21T10:00:00Z',
    );
    dashboard = await createDashboard({
      pool: db.pool,
      layouts: [layout],
      port: 0,
      tickMs: 200,
      logger: pino({ level: 'silent' }),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, locale: 'en-US' });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await db?.close();
  });

  it('colours zones by occupancy and shows the live counters', async () => {
    await page.goto(`${dashboard.url}/?mall=${MALL}`);
    await page.locator('[data-zone-id="g-uniqlo"][data-devices="40"]').waitFor();
    await expect.poll(() => page.locator('#kpi-total').textContent()).toBe('831');
    expect(await page.locator('#mall-name').textContent()).toBe('Browser Test Mall');
    expect(await page.locator('[data-zone-id]').count()).toBe(layout.zones.length);
    await expect.poll(() => page.locator('#conn').getAttribute('data-state')).toBe('live');

    const emptyFill = await zoneAttr(page, 'g-zara', 'fill');
    const busyFill = await zoneAttr(page, 'g-uniqlo', 'fill');
    const fullFill = await zoneAttr(page, 'g-sephora', 'fill');
    expect(await zoneAttr(page, 'g-zara', 'data-devices')).toBe('0');
    expect(busyFill).not.toBe(emptyFill);
    expect(fullFill).not.toBe(busyFill);
    expect(await page.locator('#kpi-busiest').textContent()).toBe('Pop Mart');
    // Sephora 95%, Pop Mart 97%, Haidilao 94%, Apple 88%.
    expect(await page.locator('#kpi-over').textContent()).toBe('4');
    expect(await page.locator('[data-zone-id="g-uniqlo"] title').textContent()).toBe(
      'Uniqlo: 40 / 120 (33%)',
    );
  });

  it('follows updated rows live', async () => {
    const before = await zoneAttr(page, 'g-uniqlo', 'fill');
    const zaraBefore = await zoneAttr(page, 'g-zara', 'fill');
    await setLive(db, { 'g-uniqlo': 118, 'g-zara': 30, 'f1-cgv-cinema': 20 }, '2026-11-21T10:00:30Z', {
      'g-uniqlo': 0.75,
    });
    await page.locator('[data-zone-id="g-uniqlo"][data-devices="118"]').waitFor();
    // Hovering a zone tells how sure the engine is of where its people are, when it knows.
    await page.locator('.zone[data-zone-id="g-uniqlo"]').hover();
    await expect.poll(() => page.locator('#tooltip .tip-sure').textContent()).toBe('75.0 % sure of the zone');
    await page.locator('.zone[data-zone-id="g-zara"]').hover();
    await expect.poll(() => page.locator('#tooltip .tip-name').textContent()).toBe('Zara');
    expect(await page.locator('#tooltip .tip-sure').textContent()).toBe('');
    await page.mouse.move(0, 0); // the tooltip, gone, no longer carries a zone id
    await expect.poll(() => page.locator('#kpi-total').textContent()).toBe('809');
    expect(await zoneAttr(page, 'g-uniqlo', 'fill')).not.toBe(before);
    expect(await zoneAttr(page, 'g-zara', 'fill')).not.toBe(zaraBefore);
    expect(await page.locator('#kpi-over').textContent()).toBe('5');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows the History view with the numbers of the history API, and the live view after it', async () => {
    await insertHistory(db);
    const api = async (path: string) => {
      const res = await fetch(`${dashboard.url}/api/malls/${MALL}/history/${path}`);
      expect(res.status, path).toBe(200);
      return JSON.parse(await res.text());
    };
    const kpis = await api('kpis?from=2026-10-22&to=2026-11-20');
    const day = kpis.rows.at(-1);
    // Worked out by hand: v1 and v2 came in (v2 twice), p1 only passed by; v1 is new.
    expect(day).toMatchObject({
      period: '2026-11-20',
      visitors: 2,
      visitorsLow: 2,
      visitorsHigh: 3,
      passersBy: 1,
      newVisitors: 1,
      visitorVisits: 3,
    });
    expect(day.avgDwellMs).toBe(((40 + 20 + 10) * 60_000) / 3);

    await page.locator('#tab-history').click();
    expect(await page.locator('#live-view').isHidden()).toBe(true);
    await page.locator('#history-date').fill('2026-11-20');
    await page.locator('#history-view[data-state="ready"][data-date="2026-11-20"]').waitFor();
    expect(new URL(page.url()).searchParams.get('view')).toBe('history');

    expect(await page.locator('#hk-visitors').textContent()).toBe('2');
    expect(await page.locator('#hk-visitors-sub').textContent()).toMatch(/^range 2–3 · /);
    expect(await page.locator('#hk-passers').textContent()).toBe('1');
    expect(await page.locator('#hk-capture').textContent()).toBe('66.7%');
    expect(await page.locator('#hk-dwell').textContent()).toBe('23 min');
    expect(await page.locator('#hk-new').textContent()).toBe('1 · 1');

    const rows = page.locator('#daily-table tbody tr');
    expect(await rows.count()).toBe(30);
    const cells = async (date: string) =>
      page.locator(`#daily-table tr[data-date="${date}"]`).locator('th, td').allTextContents();
    expect(await cells('2026-11-20')).toEqual(['2026-11-20', '2', '1', '66.7%', '23 min', '1', '1']);
    expect(await cells('2026-11-19')).toEqual(['2026-11-19', '1', '0', '100.0%', '10 min', '1', '0']);
    expect(await cells('2026-11-18')).toEqual(['2026-11-18', '0', '0', '–', '–', '0', '0']);
    expect(await page.locator('#daily-chart .day-bar').count()).toBe(30);

    const heatmap = await api('heatmap?date=2026-11-20&resolution=hour');
    const filled = heatmap.zones.reduce(
      (n: number, z: { devices: (number | null)[] }) => n + z.devices.filter((v) => v !== null).length,
      0,
    );
    expect(filled).toBe(4); // two zones, 10:00 to 11:30
    const canvas = page.locator('#heatmap');
    expect(await canvas.getAttribute('data-zones')).toBe(String(layout.zones.length));
    expect(await canvas.getAttribute('data-columns')).toBe('24');
    expect(await canvas.getAttribute('data-filled')).toBe(String(filled));
    expect(await canvas.getAttribute('data-peak')).toBe('7');

    expect(await page.locator('#top-stores li').first().getAttribute('data-zone-id')).toBe('g-uniqlo');
    expect(await page.locator('#top-stores li').first().locator('.tz-pct').textContent()).toBe('2 visits');
    expect(await page.locator('#top-stores li').first().locator('.tz-sub').textContent()).toContain(
      '90.0 % sure of the zone',
    );
    const flows = await api('flows?from=2026-11-20&to=2026-11-20&limit=10');
    expect(await page.locator('#top-flows li').count()).toBe(flows.rows.length);
    expect(await page.locator('#top-flows li .tz-name').first().textContent()).toBe(
      `${flows.rows[0].fromZoneName} → ${flows.rows[0].toZoneName}`,
    );
    expect(await page.locator('#dwell-bars li[data-bucket="20m_1h"] .tz-pct').textContent()).toBe('2');

    // Staff apart; paths of the day: Uniqlo (v1, v2 in the evening), Apple (v2); frequency over
    // the 30 days: v1 and v3 once, v2 twice; peak hours: the occupancy of 10:00-11:30 on the 20th.
    expect(await page.locator('#hk-staff').textContent()).toBe('1');
    expect(await attrs(page.locator('#top-paths li'), 'data-path')).toEqual(['g-uniqlo', 'g-apple']);
    expect(await page.locator('#top-paths li').first().locator('.tz-pct').textContent()).toBe('2 visits');
    expect(await page.locator('#frequency-bars li[data-bucket="1"] .tz-pct').textContent()).toBe('2');
    expect(await page.locator('#frequency-bars li[data-bucket="2"] .tz-pct').textContent()).toBe('1');
    const peak = await api('peak-hours?from=2026-10-22&to=2026-11-20');
    expect(peak.peaks.at(-1)).toMatchObject({
      date: '2026-11-20',
      peakOccupancyHour: 10,
      peakVisitorsHour: 10,
    });
    expect(await attrs(page.locator('#peak-hours li'), 'data-hour')).toEqual(['10', '11', '14', '17']);
    expect(await page.locator('#peak-note').textContent()).toBe('Busiest hour: 10:00 on 1 of 30 days');
    expect(await page.locator('#csv-paths').getAttribute('href')).toBe(
      `/api/malls/${MALL}/history/paths?from=2026-11-20&to=2026-11-20&limit=200&format=csv`,
    );

    const csvHref = await page.locator('#csv-kpis').getAttribute('href');
    expect(csvHref).toBe(`/api/malls/${MALL}/history/kpis?from=2026-10-22&to=2026-11-20&format=csv`);
    const csv = await fetch(`${dashboard.url}${csvHref}`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\r\n').at(-2)).toBe(
      '2026-11-20,2026-11-19T16:00:00.000Z,2026-11-20T16:00:00.000Z,2,2,3,1,0.6667,1400000,1,1,3,live',
    );
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-history.png'), fullPage: true });

    await page.locator('#tab-live').click();
    expect(await page.locator('#history-view').isHidden()).toBe(true);
    expect(await page.locator('#kpi-total').textContent()).toBe('809');
    await expect.poll(() => page.locator('#conn').getAttribute('data-state')).toBe('live');
    expect(pageErrors).toEqual([]);
  });
});
