import { z } from 'zod';
import { resolveCommandConfig } from '../../../core/src/config.ts';
import { EXIT_BAD_CONFIG, EXIT_OK, reportCommandConfig } from '../../../infra/src/process.ts';
import { loadLayoutFile } from '../../../simulators/src/load-layout.ts';
import { createMallSim } from '../../../simulators/src/mall-sim.ts';
import { writeReadingsFiles } from '../../../simulators/src/write-readings.ts';

const FilesConfig = z.object({
  WRITE_DIR: z
    .string()
    .min(1)
    .describe('Directory for wifi/ble/scale .ndjson replay files and the ground truth CSVs'),
  LAYOUT_FILE: z.string().default('simulators/layouts/joy-city.json').describe('Mall layout to walk'),
  SIM_SEED: z.coerce.number().int().default(42).describe('Seed; the same seed gives byte-identical files'),
  SIM_START: z
    .string()
    .refine((s) => Number.isFinite(Date.parse(s)), { message: 'expected an ISO time' })
    .default('2026-11-18T10:00:00+08:00')
    .describe('Simulated start time (the mall starts empty)'),
  SIM_DURATION_MIN: z.coerce.number().positive().default(60).describe('Simulated minutes to write'),
});

const SUMMARY =
  "Writes a simulated mall to replay files instead of publishing: the sensors' raw readings (raw MACs: the input side of a gateway) and the ground truth.";

/** `mallflow simulate --write-dir DIR`. */
export async function runSimulateFiles(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const resolved = resolveCommandConfig('simulate --write-dir', SUMMARY, FilesConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'simulate');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const layout = loadLayoutFile(config.LAYOUT_FILE);
  const startMs = Date.parse(config.SIM_START);
  const sim = createMallSim({ layout, seed: config.SIM_SEED, startMs });
  const untilMs = startMs + config.SIM_DURATION_MIN * 60_000;
  const written = writeReadingsFiles(config.WRITE_DIR, sim, untilMs, 60_000);
  process.stdout.write(
    `${JSON.stringify({ dir: config.WRITE_DIR, simulatedMin: config.SIM_DURATION_MIN, ...written })}\n`,
  );
  return EXIT_OK;
}
