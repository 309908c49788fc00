import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
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

async function setLive(db: TestDb, devicesByZone: Record<string, number>, asOf: string): Promise<void> {
  const zones = Object.keys(devicesByZone);
  await db.pool.query(
    `INSERT INTO occupancy_live (mall_id, zone_id, devices, as_of)
     SELECT $1, z, d, $4 FROM unnest($2::text[], $3::int[]) AS t(z, d)
     ON CONFLICT (mall_id, zone_id) DO UPDATE SET devices = EXCLUDED.devices, as_of = EXCLUDED.as_of`,
    [MALL, zones, zones.map((z) => devicesByZone[z]), asOf],
  );
}

const zoneAttr = (page: Page, zoneId: string, name: string) =>
  page.locator(`[data-zone-id="${zoneId}"]`).getAttribute(name);

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
    await setLive(db, { 'g-uniqlo': 118, 'g-zara': 30, 'f1-cgv-cinema': 20 }, '2026-11-21T10:00:30Z');
    await page.locator('[data-zone-id="g-uniqlo"][data-devices="118"]').waitFor();
    await expect.poll(() => page.locator('#kpi-total').textContent()).toBe('809');
    expect(await zoneAttr(page, 'g-uniqlo', 'fill')).not.toBe(before);
    expect(await zoneAttr(page, 'g-zara', 'fill')).not.toBe(zaraBefore);
    expect(await page.locator('#kpi-over').textContent()).toBe('5');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
