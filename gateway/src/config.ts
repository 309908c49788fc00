import { z } from 'zod';
import { logLevelKey } from '../../core/src/config.ts';

export const GatewayConfig = z.object({
  MQTT_URL: z.string().url().default('mqtt://127.0.0.1:1884').describe('Broker URL (mqtt:// or ws://)'),
  MALL_ID: z.string().min(1).default('joy-city').describe('Mall this gateway serves'),
  GATEWAY_ID: z.string().min(1).describe("This gateway's id (its topic prefix and broker account)"),
  GATEWAY_PASSWORD: z.string().min(1).describe('Broker password of the gateway account'),
  SITE_SECRET: z
    .string()
    .min(16)
    .describe('Per-site HMAC key for MAC pseudonyms (at least 16 characters; keep it secret)'),
  OPT_OUT_FILE: z
    .string()
    .optional()
    .describe('File of opted-out device pseudonyms, one per line (made by `mallflow gateway opt-out`)'),
  BATCH_MAX_READINGS: z.coerce
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(500)
    .describe('Readings per batch before it is sent'),
  FLUSH_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(250)
    .describe('Longest time a reading waits in a batch'),
  QUEUE_DIR: z
    .string()
    .default('data/gateway-outbox')
    .describe(
      'Disk outbox (store-and-forward): batches wait here, per gateway id, until the broker acknowledges them; empty = memory only, lost on exit',
    ),
  QUEUE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(256 * 1024 * 1024)
    .describe('Size bound of the outbox; beyond it the oldest batches are dropped and counted'),
  MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .default(262_144)
    .describe("The broker's payload limit (BROKER_MAX_PAYLOAD_BYTES): larger batches are split"),
  SOURCE: z
    .enum(['simulator'])
    .default('simulator')
    .describe('Where readings come from (only the simulator so far)'),
  LAYOUT_FILE: z
    .string()
    .default('simulators/layouts/joy-city.json')
    .describe('Layout the simulator source walks'),
  SIM_SEED: z.coerce.number().int().default(42).describe('Simulator seed'),
  SIM_SPEED: z.coerce.number().positive().default(1).describe('Simulated seconds per real second'),
  LOG_LEVEL: logLevelKey('info'),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const GATEWAY_SUMMARY =
  'Pseudonymizes readings at the edge, batches them and publishes them to the broker (QoS 1).\n' +
  '`mallflow gateway opt-out < macs.txt` prints the OPT_OUT_FILE lines for a list of MACs.';
