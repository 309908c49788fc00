import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDashboard } from '../../dashboard/src/main.ts';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

const LAYOUT = {
  id: 'main-mall',
  name: 'Main Test Mall',
  floors: [{ id: 'g', name: 'Ground', level: 0, widthM: 20, heightM: 10 }],
  zones: [
    {
      id: 'door',
      floor: 'g',
      name: 'Door',
      kind: 'entrance',
      capacity: 10,
      polygon: [
        [0, 0],
        [4, 0],
        [4, 10],
        [0, 10],
      ],
    },
    {
      id: 'shop',
      floor: 'g',
      name: 'Shop',
      kind: 'store',
      category: 'fashion',
      capacity: 30,
      polygon: [
        [4, 0],
        [20, 0],
        [20, 10],
        [4, 10],
      ],
    },
  ],
  adjacency: [['door', 'shop']],
  sensors: [{ id: 's1', kind: 'wifi', floor: 'g', zone: 'shop', x: 10, y: 5 }],
};

function capture() {
  const lines: string[] = [];
  return { lines, write: (text: string) => void lines.push(text), text: () => lines.join('') };
}

describe('runDashboard', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mallflow-dashboard-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints help generated from the config schema', async () => {
    const out = capture();
    expect(await runDashboard(['--help'], {}, { stdout: out.write })).toBe(0);
    expect(out.text()).toContain('Usage: mallflow dashboard');
    for (const key of [
      'DASHBOARD_HOST',
      'DASHBOARD_PORT',
      'DATABASE_URL',
      'LAYOUT_FILES',
      'DASHBOARD_TICK_MS',
      'PG_POOL_MAX',
      'LOG_LEVEL',
    ]) {
      expect(out.text()).toContain(key);
    }
    expect(out.text()).toContain('[default: 8080]');
  });

  it('reports every config problem at once and exits 2', async () => {
    const err = capture();
    const code = await runDashboard(
      ['--dashboard-port', 'eighty'],
      { DASHBOARD_TICK_MS: '5' },
      { stderr: err.write },
    );
    expect(code).toBe(2);
    expect(err.text()).toMatch(/DASHBOARD_PORT \(--dashboard-port\).*got "eighty"/);
    expect(err.text()).toMatch(/DATABASE_URL \(--database-url\).*not set/);
    expect(err.text()).toMatch(/DASHBOARD_TICK_MS/);
  });

  it('refuses a layout that does not validate, naming the file, and exits 2', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...LAYOUT, zones: [{ ...LAYOUT.zones[1], floor: 'nowhere' }] }));
    const missing = join(dir, 'missing.json');
    const err = capture();
    const code = await runDashboard(
      [],
      { DATABASE_URL: 'postgres://127.0.0.1:1/none', LAYOUT_FILES: `${bad}, ${missing}` },
      { stderr: err.write },
    );
    expect(code).toBe(2);
    expect(err.text()).toContain(`${bad}: zones.shop: floor "nowhere" does not exist`);
    expect(err.text()).toContain(`${bad}: zones: the layout has no entrance zone`);
    expect(err.text()).toContain(`${missing}: ENOENT`);
  });

  describe('with a database', () => {
    let db: TestDb;
    beforeAll(async () => {
      db = await createTestDb('embedded');
    });
    afterAll(async () => {
      await db?.close();
    });

    it('serves until stopped, then closes and exits 0', async () => {
      const file = join(dir, 'mall.json');
      writeFileSync(file, JSON.stringify(LAYOUT));
      const out = capture();
      const stop = new AbortController();
      // The embedded database takes one connection: the test's own pool stays unused here.
      const running = runDashboard(
        ['--dashboard-port', '0'],
        { DATABASE_URL: db.url, LAYOUT_FILES: file, PG_POOL_MAX: '1' },
        { signal: stop.signal, stdout: out.write },
      );
      const url = await waitFor(
        () =>
          out.lines
            .map((l) => JSON.parse(l) as { msg: string; url?: string; component?: string })
            .find((l) => l.msg === 'dashboard listening')?.url,
        { what: 'the dashboard to log its URL', describe: () => out.lines },
      );
      const health = await fetch(`${url}/api/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', db: 'ok' });
      expect(await (await fetch(`${url}/api/malls`)).json()).toEqual([
        { id: 'main-mall', name: 'Main Test Mall' },
      ]);
      stop.abort();
      expect(await running).toBe(0);
      await expect(fetch(`${url}/api/health`)).rejects.toThrow();
      expect(JSON.parse(out.lines[0]!).component).toBe('dashboard');
    });
  });
});
