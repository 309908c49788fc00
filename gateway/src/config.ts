import { z } from 'zod';
import { logLevelKey } from '../../core/src/config.ts';
import { ID_PATTERN } from '../../core/src/ids.ts';
import { parseSensorPairs } from './sensor-pairs.ts';

export const SOURCES = ['simulator', 'capture', 'ble', 'meraki', 'espresense'] as const;

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
    .enum(SOURCES)
    .default('simulator')
    .describe(
      'Where readings come from: simulator | capture (pcap/pcapng, radiotap) | ble (scanner lines) | meraki (Scanning API v3 receiver) | espresense (MQTT bridge)',
    ),
  SENSOR_ID: z
    .string()
    .regex(ID_PATTERN, 'must be a sensor id: a-z, 0-9, "_" or "-"')
    .optional()
    .describe('Sensor id of the sniffer (capture) or scanner (ble) this gateway reads'),
  CAPTURE_INPUT: z
    .string()
    .default('-')
    .describe('pcap/pcapng file to read, or - for standard input (tcpdump -U -w - | mallflow gateway)'),
  CAPTURE_INTERFACE_SENSORS: z
    .string()
    .optional()
    .describe(
      'pcapng interface=sensor pairs (wlan0mon=entrance-a,wlan1mon=food-court); others use SENSOR_ID',
    ),
  BLE_INPUT: z.string().default('-').describe('BLE scanner lines: a file path, or - for standard input'),
  BLE_SCALE_SENSORS: z
    .string()
    .default('')
    .describe('Scale MAC=sensor id pairs (c8:47:8c:c0:95:89=scale-entrance); other scales use SENSOR_ID'),
  BLE_SCALE_CLOCK_OFFSET_MIN: z.coerce
    .number()
    .int()
    .min(-840)
    .max(840)
    .default(0)
    .describe('Minutes to add to scale clocks to get UTC (-480 for scales set to UTC+8)'),
  BLE_SCALE_HOLD_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe('How long a settled weigh-in waits for its impedance or body-composition packet'),
  MERAKI_HOST: z
    .string()
    .default('127.0.0.1')
    .describe('Interface the Meraki receiver listens on (Meraki posts HTTPS: put a TLS proxy in front)'),
  MERAKI_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8088)
    .describe('Port of the Meraki receiver'),
  MERAKI_PATH: z
    .string()
    .startsWith('/')
    .default('/meraki')
    .describe('URL path configured as the POST URL in the Meraki dashboard'),
  MERAKI_VALIDATOR: z.string().min(1).optional().describe('Validator string from the Meraki dashboard'),
  MERAKI_SECRET: z.string().min(1).optional().describe('Shared secret set in the Meraki dashboard'),
  MERAKI_AP_MAP_FILE: z
    .string()
    .optional()
    .describe('File mapping AP MACs to sensor ids: CSV or JSON lines of apMac,sensorId'),
  ESPRESENSE_URL: z.string().url().optional().describe('ESPresense MQTT broker (mqtt://host:1883)'),
  ESPRESENSE_USERNAME: z.string().optional().describe('Login on the ESPresense broker'),
  ESPRESENSE_PASSWORD: z.string().optional().describe('Password on the ESPresense broker'),
  ESPRESENSE_TOPIC_PREFIX: z.string().min(1).default('espresense').describe('ESPresense topic prefix'),
  ESPRESENSE_ROOMS: z
    .string()
    .default('')
    .describe('room=sensorId pairs; other rooms are their own sensor id when valid as one'),
  LAYOUT_FILE: z
    .string()
    .default('simulators/layouts/joy-city.json')
    .describe('Layout the simulator source walks'),
  SIM_SEED: z.coerce.number().int().default(42).describe('Simulator seed'),
  SIM_SPEED: z.coerce.number().positive().default(1).describe('Simulated seconds per real second'),
  LOG_LEVEL: logLevelKey('info'),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

/** Keys each source needs, and the pair lists checked before anything starts. */
const REQUIRED_BY_SOURCE: Record<(typeof SOURCES)[number], (keyof GatewayConfig)[]> = {
  simulator: [],
  capture: ['SENSOR_ID'],
  ble: ['SENSOR_ID'],
  meraki: ['MERAKI_VALIDATOR', 'MERAKI_SECRET', 'MERAKI_AP_MAP_FILE'],
  espresense: ['ESPRESENSE_URL'],
};

/** `mallflow gateway`'s config: the keys above, and what the chosen SOURCE requires. */
export const GatewayProcessConfig = GatewayConfig.superRefine((c, ctx) => {
  for (const key of REQUIRED_BY_SOURCE[c.SOURCE]) {
    if (c[key] === undefined)
      ctx.addIssue({ code: 'custom', path: [key], message: `is required with SOURCE=${c.SOURCE}` });
  }
  const pairs: [keyof GatewayConfig, string][] = [
    ['CAPTURE_INTERFACE_SENSORS', 'interface'],
    ['ESPRESENSE_ROOMS', 'room'],
    ['BLE_SCALE_SENSORS', 'scale MAC'],
  ];
  for (const [key, what] of pairs) {
    const value = c[key];
    if (typeof value !== 'string') continue;
    for (const problem of parseSensorPairs(value, what).problems) {
      ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
  }
});

export const GATEWAY_SUMMARY =
  'Pseudonymizes readings at the edge, batches them and publishes them to the broker (QoS 1).\n' +
  '`mallflow gateway opt-out < macs.txt` prints the OPT_OUT_FILE lines for a list of MACs.';
