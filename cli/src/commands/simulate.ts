import { z } from 'zod';
import { logLevelKey, resolveCommandConfig } from '../../../core/src/config.ts';
import { GatewayConfig } from '../../../gateway/src/config.ts';
import { createGatewayFromConfig } from '../../../gateway/src/main.ts';
import { createLogger, EXIT_BAD_CONFIG, EXIT_OK, reportCommandConfig } from '../../../infra/src/process.ts';
import { loadLayoutFile } from '../../../simulators/src/load-layout.ts';
import { createSimSource } from '../sim-source.ts';
import { runSimulateFiles } from './simulate-files.ts';
import { runSimulateScript } from './simulate-script.ts';

// The gateway's own settings, plus how long to run; LAYOUT_FILE, SIM_SEED and SIM_SPEED come with them.
const SimulateConfig = GatewayConfig.extend({
  SIM_DURATION_MIN: z.coerce.number().positive().default(10).describe('Simulated minutes to run'),
  SIM_WARMUP_MIN: z.coerce.number().min(0).default(0).describe('Simulated minutes run silently first'),
  QUEUE_DIR: z
    .string()
    .default('')
    .describe('Disk outbox for the simulated gateway; empty (the default) = memory only'),
  LOG_LEVEL: logLevelKey('warn'),
});

const SUMMARY =
  "Simulates shoppers walking a mall and publishes their phones' probes through a gateway to a broker.";

export async function runSimulate(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.some((a) => a === '--script' || a.startsWith('--script='))) return runSimulateScript(argv, env);
  if (argv.some((a) => a === '--write-dir' || a.startsWith('--write-dir=')))
    return runSimulateFiles(argv, env);
  const resolved = resolveCommandConfig('simulate', SUMMARY, SimulateConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'simulate');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const log = createLogger('simulate', config.LOG_LEVEL);
  const layout = loadLayoutFile(config.LAYOUT_FILE);
  const gateway = await createGatewayFromConfig(config, log);
  const source = createSimSource({
    layout,
    seed: config.SIM_SEED,
    speed: config.SIM_SPEED,
    warmupMs: config.SIM_WARMUP_MIN * 60_000,
  });
  const startMs = source.sim.nowMs();
  const endMs = startMs + config.SIM_DURATION_MIN * 60_000;
  source.start(gateway);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const done = Math.min(1, (source.sim.nowMs() - startMs) / (endMs - startMs));
      const width = 30;
      const bar = '#'.repeat(Math.round(done * width)).padEnd(width, '.');
      process.stderr.write(
        `\r[${bar}] ${(done * 100).toFixed(0).padStart(3)}%  ${source.sim.shoppersInside()} shoppers inside, ${gateway.stats().readingsPublished} readings published`,
      );
      if (source.sim.nowMs() >= endMs) {
        clearInterval(timer);
        resolve();
      }
    }, 250);
  });
  source.stop();
  await gateway.close();
  const s = gateway.stats();
  process.stderr.write('\n');
  process.stdout.write(
    `${JSON.stringify({ simulatedMin: config.SIM_DURATION_MIN, batches: s.batchesPublished, readings: s.readingsPublished, lastSeq: s.lastSeq, shoppersInside: source.sim.shoppersInside() })}\n`,
  );
  return EXIT_OK;
}
