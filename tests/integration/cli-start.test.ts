import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.ts';

// The README's promise: `npm start` runs everything on the embedded database, prints the dashboard
// URL, shows non-zero occupancy within a minute, and stops cleanly on Ctrl-C.

const ROOT = resolve(import.meta.dirname, '../..');

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/mallflow.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => {
    out.stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out.stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, exited };
}

/** `start` on free ports with its own data dir. */
const START = (dataDir: string): string[] => [
  'start',
  '--data-dir',
  dataDir,
  '--broker-port',
  '0',
  '--broker-ws-port',
  '0',
  '--dashboard-port',
  '0',
];

describe('mallflow start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mallflow-start-'));
  let child: ChildProcess | undefined;

  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves live non-zero occupancy on the embedded database and stops cleanly on SIGINT', async () => {
    const p = run(START(dataDir), {
      SIM_SPEED: '5',
      OPEN_BROWSER: 'false',
    });
    child = p.child;
    const url = await waitFor(() => /dashboard\s+(http:\/\/\S+?)\/\?mall=/.exec(p.out.stderr)?.[1], {
      timeoutMs: 60_000,
      what: 'the dashboard URL in the banner',
      describe: () => p.out.stderr.slice(-2000),
    });
    const total = await waitFor(
      async () => {
        const res = await fetch(`${url}/api/malls/joy-city/occupancy`);
        const body = (await res.json()) as { total: number };
        return body.total > 0 ? body.total : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'non-zero occupancy from the API' },
    );
    expect(total).toBeGreaterThan(0);
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);

    p.child.kill('SIGINT');
    const code = await p.exited;
    child = undefined;
    expect(code).toBe(0);
    expect(p.out.stdout).toContain('"msg":"stopped cleanly"');
    expect(p.out.stdout).not.toContain('did not take every batch');
    expect(p.out.stdout).toContain('"component":"broker"');
  });

  it('refuses a second process on the same embedded database with a clear message', async () => {
    const first = run(START(dataDir), {
      OPEN_BROWSER: 'false',
    });
    child = first.child;
    await waitFor(() => first.out.stderr.includes('dashboard'), {
      timeoutMs: 60_000,
      what: 'the first process to start',
    });
    const second = run(START(dataDir));
    expect(await second.exited).toBe(1);
    expect(second.out.stderr).toMatch(/already open in process \d+/);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    child = undefined;
  });

  it('names the bad key and exits 2 on a bad option', async () => {
    const p = run(['start', '--dashboard-port', 'eighty']);
    expect(await p.exited).toBe(2);
    expect(p.out.stderr).toMatch(/DASHBOARD_PORT \(--dashboard-port\): .*got "eighty"/);
  });
});
