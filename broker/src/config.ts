import { z } from 'zod';
import { logLevelKey } from '../../core/src/config.ts';

/** Standalone broker settings (`mallflow broker`); env keys, or the matching `--flags`. */
export const BrokerConfig = z.object({
  BROKER_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface the broker listens on (0.0.0.0 for all)'),
  BROKER_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(1884)
    .describe('MQTT over TCP port, 0 = ephemeral (1883 is left to Mosquitto on these machines)'),
  BROKER_WS_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8884)
    .describe('MQTT over WebSocket port, 0 = ephemeral'),
  BROKER_ACCOUNTS_FILE: z
    .string({ error: 'is required: the path of the JSON accounts file' })
    .min(1)
    .describe('JSON array of { username, passwordHash, role, mallId?, gatewayId? }'),
  BROKER_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(262_144)
    .describe('Largest PUBLISH payload accepted; bigger packets close the connection'),
  LOG_LEVEL: logLevelKey('info'),
});
export type BrokerConfig = z.infer<typeof BrokerConfig>;
