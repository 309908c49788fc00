import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEval } from '../../eval/src/main.ts';

// `npm run eval` end to end on a short window of the small store: the simulator's readings go
// through gateways, Aedes, analytics and the embedded database, and get scored.

describe('npm run eval', () => {
  it('scores a simulated window against the ground truth and writes the report, plot and truth files', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mallflow-eval-test-'));
    const code = await runEval(
      [
        '--layout-file',
        'simulators/layouts/small-store.json',
        '--eval-from',
        '11:00',
        '--eval-hours',
        '0.5',
        '--out-dir',
        out,
      ],
      {},
    );
    expect(code).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
      key: string;
      value: number;
    }[];
    expect(metrics.map((m) => m.key)).toEqual([
      'zoneMinute',
      'occupancyNmae',
      'dwellError',
      'flowCorrelation',
      'uniqueVisitors',
      'confidenceCalibration',
      'visitorsVsPassersBy',
    ]);
    const byKey = Object.fromEntries(metrics.map((m) => [m.key, m.value]));
    // Not the accuracy bars (that is the analytics' job), but the pipeline must have worked:
    // analytics placed most person-minutes and counted people where they were.
    expect(byKey.zoneMinute).toBeGreaterThan(0.3);
    expect(byKey.occupancyNmae).toBeLessThan(1);
    // The stays read back from the database carry their confidence.
    expect(byKey.confidenceCalibration).toBeGreaterThanOrEqual(0);
    expect(byKey.confidenceCalibration).toBeLessThan(0.5);
    expect(readFileSync(join(out, 'eval.md'), 'utf8')).toMatch(/\| Zone-minute accuracy \| \d+\.\d %/);
    expect(readFileSync(join(out, 'occupancy.svg'), 'utf8')).toMatch(/^<svg/);
    for (const f of [
      'intervals.csv',
      'macs.csv',
      'visits.csv',
      'occupancy-minute.csv',
      'transitions.csv',
      'persons-per-day.csv',
    ]) {
      expect(existsSync(join(out, 'truth', f))).toBe(true);
    }
  });
});
