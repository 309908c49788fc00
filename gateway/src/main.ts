import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveCommandConfig } from '../../core/src/config.ts';
import {
  createLogger,
  EXIT_BAD_CONFIG,
  EXIT_FAILURE,
  EXIT_OK,
  reportCommandConfig,
  waitForShutdownSignal,
} from '../../infra/src/process.ts';
import { GATEWAY_SUMMARY, type GatewayConfig, GatewayProcessConfig } from './config.ts';
import { createGateway, type Gateway } from './gateway.ts';
import { runOptOut } from './opt-out-command.ts';
import type { ReadingSource } from './source.ts';
import { REAL_SOURCES, type SourceFactory } from './source-factories.ts';

/** The sources the CLI adds to the gateway's own (the simulator lives outside the gateway). */
export type SourceFactories = Record<
  Exclude<GatewayConfig['SOURCE'], keyof typeof REAL_SOURCES>,
  SourceFactory
>;

export function readOptOutFile(path: string | undefined): Set<string> {
  if (!path) return new Set();
  return new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim().toLowerCase())
      .filter((l) => /^[0-9a-f]{32}$/.test(l)),
  );
}

/** A gateway connected as its config says (shared by `mallflow gateway` and `mallflow simulate`). */
export function createGatewayFromConfig(config: GatewayConfig, log: Logger): Promise<Gateway> {
  return createGateway({
    mqttUrl: config.MQTT_URL,
    mallId: config.MALL_ID,
    gatewayId: config.GATEWAY_ID,
    username: config.GATEWAY_ID,
    password: config.GATEWAY_PASSWORD,
    siteSecret: config.SITE_SECRET,
    optOut: readOptOutFile(config.OPT_OUT_FILE),
    maxBatchReadings: config.BATCH_MAX_READINGS,
    flushIntervalMs: config.FLUSH_INTERVAL_MS,
    outboxDir: config.QUEUE_DIR === '' ? undefined : join(config.QUEUE_DIR, config.GATEWAY_ID),
    outboxMaxBytes: config.QUEUE_MAX_BYTES,
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
    logger: log,
  });
}

/** `mallflow gateway`: one edge gateway as its own process. */
export async function runGateway(
  argv: string[],
  env: NodeJS.ProcessEnv,
  sources: SourceFactories,
): Promise<number> {
  if (argv[0] === 'opt-out') {
    return runOptOut(argv.slice(1), env, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
    });
  }
  const resolved = resolveCommandConfig('gateway', GATEWAY_SUMMARY, GatewayProcessConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'gateway');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const log = createLogger('gateway', config.LOG_LEVEL);
  const gateway = await createGatewayFromConfig(config, log);
  const factories: Record<GatewayConfig['SOURCE'], SourceFactory> = { ...REAL_SOURCES, ...sources };
  let source: ReadingSource;
  try {
    source = factories[config.SOURCE](config, log);
    await source.start(gateway);
  } catch (err) {
    log.error({ err, source: config.SOURCE }, 'the reading source could not start');
    await gateway.close();
    return EXIT_FAILURE;
  }
  const summary = setInterval(
    () => log.info({ ...gateway.stats(), source: source.stats?.() }, 'gateway summary'),
    10_000,
  );
  log.info({ gatewayId: config.GATEWAY_ID, source: config.SOURCE }, 'gateway running');
  // A file (or a closed standard input) ends the run by itself; live sources run until a signal.
  const ended = await Promise.race([
    waitForShutdownSignal(log).then(() => 'signal' as const),
    ...(source.done ? [source.done.then(() => 'input ended' as const)] : []),
  ]).catch((err: unknown) => {
    log.error({ err }, 'the reading source failed');
    return 'source failed' as const;
  });
  clearInterval(summary);
  await source.stop();
  await gateway.close();
  log.info({ ...gateway.stats(), source: source.stats?.(), ended }, 'gateway stopped');
  return ended === 'source failed' ? EXIT_FAILURE : EXIT_OK;
}
