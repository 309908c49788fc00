import { z } from 'zod';
import { Id, Pseudonym } from './ids.ts';

// Wire field names follow DESIGN.md's envelope (`sentAt`), so readings use camelCase too,
// one convention per message rather than a mix.

/** Epoch milliseconds; bounded to 2000-01-01 .. 2100-01-01 so a seconds-vs-ms mix-up is caught. */
const EpochMs = z
  .number()
  .int()
  .min(946_684_800_000, 'must be epoch milliseconds after 2000-01-01')
  .max(4_102_444_800_000, 'must be epoch milliseconds before 2100-01-01');

const RssiDbm = z.number().int().min(-127).max(20);

/** A WiFi probe request heard by one sensor. `device` is the pseudonym of the transmitter MAC. */
export const WifiReading = z.object({
  sensorId: Id,
  heardAt: EpochMs,
  rssiDbm: RssiDbm,
  device: Pseudonym,
  /** The MAC was locally administered (randomized by the phone). */
  randomized: z.boolean(),
  /** 802.11 sequence number of the frame, when the sniffer reports it. */
  frameSeq: z.number().int().min(0).max(4095).optional(),
  /**
   * Fingerprint of the probe request's information elements (first 64 bits of SHA-256 over the
   * IEs that do not change between probes, hex). Phones that rotate their MAC usually keep it,
   * so it helps tell one phone from many without any identifier.
   */
  ieFingerprint: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
});
export type WifiReading = z.infer<typeof WifiReading>;

const IBeacon = z.object({
  kind: z.literal('ibeacon'),
  uuid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
  major: z.number().int().min(0).max(65535),
  minor: z.number().int().min(0).max(65535),
  txPowerDbm: z.number().int().min(-127).max(20),
});
const EddystoneUid = z.object({
  kind: z.literal('eddystone-uid'),
  namespace: z.string().regex(/^[0-9a-f]{20}$/),
  instance: z.string().regex(/^[0-9a-f]{12}$/),
});
const EddystoneUrl = z.object({
  kind: z.literal('eddystone-url'),
  url: z.string().min(1).max(256),
  txPowerDbm: z.number().int().min(-127).max(20),
});
/** Eddystone telemetry (unencrypted TLM): the tag's battery, temperature and counters. */
const EddystoneTlm = z.object({
  kind: z.literal('eddystone-tlm'),
  batteryMv: z.number().int().min(0).max(65535).optional(),
  temperatureC: z.number().min(-128).max(128).optional(),
  advCount: z.number().int().min(0),
  uptimeSec: z.number().min(0),
});

/** A BLE advertisement heard by one sensor: a tag, a beacon or the mall app. */
export const BleReading = z.object({
  sensorId: Id,
  heardAt: EpochMs,
  rssiDbm: RssiDbm,
  device: Pseudonym,
  randomized: z.boolean(),
  beacon: z.discriminatedUnion('kind', [IBeacon, EddystoneUid, EddystoneUrl, EddystoneTlm]).optional(),
});
export type BleReading = z.infer<typeof BleReading>;

/** A stabilised weigh-in from a smart scale. */
export const ScaleReading = z.object({
  sensorId: Id,
  measuredAt: EpochMs,
  weightKg: z.number().min(2).max(400),
  impedanceOhm: z.number().min(0).max(3000).optional(),
  /** Body fat the scale itself reported (Body Composition Measurement 0x2A9C), percent. */
  bodyFatPct: z.number().min(0).max(100).optional(),
  /** Member id, present only when the member consented to link this scale. */
  memberId: Id.optional(),
});
export type ScaleReading = z.infer<typeof ScaleReading>;

export const READING_KINDS = ['wifi', 'ble', 'scale'] as const;
export type ReadingKind = (typeof READING_KINDS)[number];

/** Largest number of readings one batch may carry (the gateway flushes well before this). */
export const MAX_READINGS_PER_BATCH = 5000;

function batchOf<T extends z.ZodType>(reading: T) {
  return z.object({
    v: z.literal(1),
    gw: Id,
    /** Strictly increasing per gateway across restarts; `(gw, seq)` identifies the batch. */
    seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    sentAt: EpochMs,
    readings: z.array(reading).min(1).max(MAX_READINGS_PER_BATCH),
  });
}

export const WifiBatch = batchOf(WifiReading);
export const BleBatch = batchOf(BleReading);
export const ScaleBatch = batchOf(ScaleReading);
export type WifiBatch = z.infer<typeof WifiBatch>;
export type BleBatch = z.infer<typeof BleBatch>;
export type ScaleBatch = z.infer<typeof ScaleBatch>;

/** Retained gateway status; the broker publishes the `offline` one as the gateway's last will. */
export const GatewayStatus = z.object({
  v: z.literal(1),
  gw: Id,
  state: z.enum(['online', 'offline']),
  at: EpochMs.optional(),
});
export type GatewayStatus = z.infer<typeof GatewayStatus>;

/** The topic-kind → payload contract. Publishers and consumers both type against this map. */
export const MESSAGES = {
  wifi: WifiBatch,
  ble: BleBatch,
  scale: ScaleBatch,
  status: GatewayStatus,
} as const;
export type MessageKind = keyof typeof MESSAGES;
export type MessageOf<K extends MessageKind> = z.infer<(typeof MESSAGES)[K]>;
export type AnyBatch = WifiBatch | BleBatch | ScaleBatch;
