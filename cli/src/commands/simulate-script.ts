import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { logLevelKey, resolveCommandConfig } from '../../../core/src/config.ts';
import { createLogger, EXIT_BAD_CONFIG, EXIT_OK, reportCommandConfig } from '../../../infra/src/process.ts';
import { loadStory, playStory, storyLayout } from '../../../testkit/src/story.ts';
import { useExternalBroker } from '../../../testkit/src/test-broker.ts';
import { startTestSystem } from '../../../testkit/src/test-system.ts';
import { createVirtualMall, type VirtualMall } from '../../../testkit/src/virtual-mall.ts';

const ScriptConfig = z.object({
  SCRIPT: z
    .string()
    .min(1)
    .describe('Story file (YAML): devices, then steps: move, leave, wait, screen, weigh'),
  MQTT_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'Publish to this broker; default: an in-process broker, analytics and database, whose conclusions are printed',
    ),
  GATEWAY_ID: z
    .string()
    .min(1)
    .optional()
    .describe('With MQTT_URL: the gateway account the story publishes with'),
  GATEWAY_PASSWORD: z.string().min(1).optional().describe('With MQTT_URL: its password'),
  SITE_SECRET: z
    .string()
    .min(16)
    .optional()
    .describe('HMAC key for pseudonyms; default: random for this run'),
  LOG_LEVEL: logLevelKey('warn'),
});

const SUMMARY =
  'Plays a story file on virtual devices and prints, one JSON line each, every batch published; without --mqtt-url it also runs analytics in-process and prints the zone stays and visits it concluded.';

function print(line: unknown): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function printSent(mall: VirtualMall): void {
  const sent = [...new Set(mall.gateways.values())].flatMap((g) => g.sent).sort((a, b) => a.seq - b.seq);
  for (const b of sent) print({ topic: b.topic, seq: b.seq, payload: JSON.parse(b.payload) });
}

/** `mallflow simulate --script story.yaml`. */
export async function runSimulateScript(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const resolved = resolveCommandConfig('simulate --script', SUMMARY, ScriptConfig, argv, env);
  const stop = reportCommandConfig(resolved, 'simulate');
  if (stop !== undefined || resolved.kind !== 'ok') return stop ?? EXIT_BAD_CONFIG;
  const config = resolved.config;
  const story = loadStory(config.SCRIPT);
  const layout = storyLayout(story);
  const logger = createLogger('simulate', config.LOG_LEVEL);
  const siteSecret = config.SITE_SECRET ?? randomBytes(16).toString('hex');

  if (config.MQTT_URL) {
    if (!config.GATEWAY_ID || !config.GATEWAY_PASSWORD) {
      process.stderr.write('mallflow simulate: --mqtt-url needs --gateway-id and --gateway-password\n');
      return EXIT_BAD_CONFIG;
    }
    const broker = useExternalBroker({
      url: config.MQTT_URL,
      gateways: [
        {
          mallId: layout.id,
          gatewayId: config.GATEWAY_ID,
          username: config.GATEWAY_ID,
          password: config.GATEWAY_PASSWORD,
        },
      ],
    });
    const mall = await createVirtualMall({
      layout,
      broker,
      siteSecret,
      start: story.start,
      seed: story.seed ?? 1,
      singleGatewayId: config.GATEWAY_ID,
      logger,
    });
    try {
      await playStory(story, mall);
      printSent(mall);
    } finally {
      await mall.close();
    }
    return EXIT_OK;
  }

  const system = await startTestSystem({ layout, logger, occupancy: {} });
  try {
    const mall = await system.mall({ start: story.start, seed: story.seed ?? 1 });
    const { phones, tags } = await playStory(story, mall);
    await system.settle(mall, { timeout: 30_000 });
    printSent(mall);
    const names = new Map<string, string>();
    for (const [id, p] of phones) for (const ps of p.pseudonyms) names.set(ps, id);
    for (const [id, t] of tags) names.set(t.pseudonym, id);
    const label = (device: string) => names.get(device) ?? device;
    print({
      conclusions: {
        zoneStays: (await system.read.zoneStays()).map((s) => ({ ...s, device: label(s.device) })),
        visits: (await system.read.visits()).map((v) => ({ ...v, device: label(v.device) })),
        occupancy: Object.fromEntries(await system.read.occupancy()),
      },
    });
  } finally {
    await system.close();
  }
  return EXIT_OK;
}
