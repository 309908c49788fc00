import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { recordBroker, startTestBroker } from 'mallflow/testkit';
import { describe, expect, it } from 'vitest';

// `mallflow simulate --script`: the same stories as the TypeScript kit, from a file.

const ROOT = resolve(import.meta.dirname, '../..');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/mallflow.js'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((r) => child.on('exit', (code) => r({ code, stdout, stderr })));
}

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('mallflow simulate --script', () => {
  it('plays the example story in-process and prints the batches and what analytics concluded', async () => {
    const { code, stdout, stderr } = await run(['simulate', '--script', 'examples/story.yaml']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = lines(stdout);
    const batches = out.filter((l) => l.topic);
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((b) => b.topic === 'mallflow/v1/small-store/gw/gw-g/wifi')).toBe(true);
    const { conclusions } = out.at(-1);
    const alice = conclusions.zoneStays.filter((s: { device: string }) => s.device === 'alice');
    // She walked in, between the two stores and out through the aisle, heard there or not.
    expect(alice.map((s: { zoneId: string }) => s.zoneId)).toEqual([
      'g-entrance',
      'g-aisle',
      'g-fashion',
      'g-aisle',
      'g-beauty',
      'g-aisle',
      'g-entrance',
    ]);
    expect(conclusions.visits.filter((v: { device: string }) => v.device === 'alice')).toHaveLength(1);
  });

  it('publishes to an external broker with a gateway account, and prints what it published', async () => {
    const broker = await startTestBroker();
    try {
      const login = await broker.addGateway('small-store', 'gw-story');
      const recorder = await recordBroker(broker.url, await broker.addObserver());
      const { code, stdout } = await run([
        'simulate',
        '--script',
        'examples/story.yaml',
        '--mqtt-url',
        broker.url,
        '--gateway-id',
        'gw-story',
        '--gateway-password',
        login.password,
      ]);
      expect(code).toBe(0);
      const printed = lines(stdout);
      const received = recorder.messages.filter((m) => m.topic.endsWith('/wifi'));
      expect(printed.map((b) => b.seq)).toEqual(received.map((m) => (m.payload as { seq: number }).seq));
      expect(printed.every((b) => b.topic === 'mallflow/v1/small-store/gw/gw-story/wifi')).toBe(true);
      await recorder.close();
    } finally {
      await broker.close();
    }
  });

  it('--write-dir writes replay files and ground truth, byte-identical for a seed', async () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'replay-a-')), mkdtempSync(join(tmpdir(), 'replay-b-'))];
    for (const dir of dirs) {
      const { code, stdout } = await run([
        'simulate',
        '--write-dir',
        dir,
        '--sim-duration-min',
        '10',
        '--sim-seed',
        '5',
      ]);
      expect(code).toBe(0);
      expect(JSON.parse(stdout).wifi).toBeGreaterThan(1_000);
    }
    for (const f of [
      'wifi.ndjson',
      'ble.ndjson',
      'scale.ndjson',
      'intervals.csv',
      'visits.csv',
      'occupancy-minute.csv',
    ]) {
      expect(readFileSync(join(dirs[0]!, f)).equals(readFileSync(join(dirs[1]!, f))), f).toBe(true);
    }
  });

  it('names the step at fault in a bad story, and exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'story-'));
    const path = join(dir, 'bad.yaml');
    writeFileSync(
      path,
      [
        'mall: small-store',
        'start: 2026-11-21T10:00:00Z',
        'devices:',
        '  a: { type: phone }',
        'steps:',
        '  - wait: soon',
        '  - jump: { a: x }',
      ].join('\n'),
    );
    const { code, stderr } = await run(['simulate', '--script', path]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/invalid story/);
    expect(stderr).toMatch(/steps\.0\.wait: expected a duration/);
    expect(stderr).toMatch(/steps\.1/);
  });
});
