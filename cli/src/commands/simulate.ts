import { z } from 'zod';
import { resolveCommandConfig } from '../../../core/src/config.ts';
import { createGateway } from '../../../gateway/src/gateway.ts';
import { createLogger, EXIT_BAD_CONFIG, EXIT_OK, reportCommandConfig } from '../../../infra/src/process.ts';
import { loadLayoutFile } from '../../../simulators/src/load-layout.ts';
import { createSimSource } from '../sim-source.ts';

const SimulateConfig = z.object({
  MQTT_URL: z
    .string()
    .url()
    .default('mqtt://127.0.0.1:1884')
    .describe('Broker URL (a running `mallflow broker` or `mallflow start`)'),
  MALL_ID: z.string().min(1).default('joy-city').describe('Mall id; must match the layout'),
  GATEWAY_ID: z.string().min(1).describe('Gateway account the readings are published with'),
  GATEWAY_PASSWORD: z.string().min(1).describe('Its broker password'),
  SITE_SECRET: z.string().min(16).describe("HMAC key for MAC pseudonyms (the site's secret)"),
  LAYOUT_FILE: z.string().default('simulators/layouts/joy-city.json').describe('Mall layout to walk'),
  SIM_SEED: z.coerce.number().int().default(42).describe('Seed; the same seed gives the same readings'),
  SIM_SPEED: z.coerce.number().positive().max(3600).default(1).describe('Simulated seconds per real second'),
  SIM_DURATION_MIN: z.coerce.number().positive().default(10).describe('Simulated minutes to run'),
  SIM_WARMUP_MIN: z.coerce.number().min(0).default(0).describe('Simulated minutes run silently first'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('warn')
    .describe('Log level'),
});

const SUMMARY =
  "Simulates shoppers walking a mall and publishes their phones' probes through a gateway to a broker.";

export async function runSimulate(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const resolved = resolveCommandConfig('simulate', SUMMARY, SimulateConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'simulate');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const log = createLogger('simulate', config.LOG_LEVEL);
  const layout = loadLayoutFile(config.LAYOUT_FILE);
  const gateway = await createGateway({
    mqttUrl: config.MQTT_URL,
    mallId: config.MALL_ID,
    gatewayId: config.GATEWAY_ID,
    username: config.GATEWAY_ID,
    password: config.GATEWAY_PASSWORD,
    siteSecret: config.SITE_SECRET,
    maxBatchReadings: 500,
    flushIntervalMs: 250,
    logger: log,
  });
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
