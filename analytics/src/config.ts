import { z } from 'zod';
import { logLevelKey } from '../../core/src/config.ts';
import { type OccupancyOptions, SILENCE_BRIDGE_MS } from '../../core/src/occupancy.ts';
import { DEFAULT_STAFF_RULE, type StaffRule } from '../../core/src/staff-rule.ts';
import { DEFAULT_VISITOR_RULE } from '../../core/src/visitor-rule.ts';

/** Occupancy settings, shared with `mallflow start`, which runs this worker in-process. */
export const OCCUPANCY_KEYS = {
  VISIT_IDLE_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(600_000)
    .describe('A visit (and its last zone stay) ends after this much silence'),
  SILENCE_BRIDGE_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(SILENCE_BRIDGE_MS)
    .describe(
      'A phone that falls silent inside the mall and is heard again inside (not at an entrance) within this long keeps its visit; minutes are final this long after their end (0 = VISIT_IDLE_MS)',
    ),
  PRESENCE_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(180_000)
    .describe('A device is present this long after its last sighting'),
  ALLOWED_LATENESS_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(5_000)
    .describe('How late a reading may arrive and still count in its minute'),
  VISITOR_MIN_BURSTS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_VISITOR_RULE.minBursts)
    .describe('Visitor rule: probe bursts a visit needs within VISITOR_WINDOW_MS (fewer: a passer-by)'),
  VISITOR_WINDOW_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_VISITOR_RULE.windowMs)
    .describe('Visitor rule: the window those bursts must fall in'),
  VISITOR_FIRST_RSSI_DBM: z.coerce
    .number()
    .int()
    .min(-120)
    .max(0)
    .default(DEFAULT_VISITOR_RULE.firstRssiDbm)
    .describe('Visitor rule: the first counted burst is at least this strong (dBm)'),
  VISITOR_RSSI_DBM: z.coerce
    .number()
    .int()
    .min(-120)
    .max(0)
    .default(DEFAULT_VISITOR_RULE.rssiDbm)
    .describe('Visitor rule: the later counted bursts are at least this strong (dBm)'),
  VISITOR_MIN_INSIDE_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(DEFAULT_VISITOR_RULE.minInsideMs)
    .describe("Visitor rule: time a visit needs in zones that are not 'outside'"),
};

type OccupancyConfig = { [K in keyof typeof OCCUPANCY_KEYS]: z.infer<(typeof OCCUPANCY_KEYS)[K]> };

/** The engine's options from the parsed OCCUPANCY_KEYS (live worker, `mallflow start`). */
export function occupancyOptionsFrom(config: OccupancyConfig): OccupancyOptions {
  return {
    presenceMs: config.PRESENCE_MS,
    allowedLatenessMs: config.ALLOWED_LATENESS_MS,
    visitIdleMs: config.VISIT_IDLE_MS,
    silenceBridgeMs: config.SILENCE_BRIDGE_MS,
    visitor: {
      minBursts: config.VISITOR_MIN_BURSTS,
      windowMs: config.VISITOR_WINDOW_MS,
      firstRssiDbm: config.VISITOR_FIRST_RSSI_DBM,
      rssiDbm: config.VISITOR_RSSI_DBM,
      minInsideMs: config.VISITOR_MIN_INSIDE_MS,
    },
  };
}

/** Storage maintenance settings, shared with `mallflow start`. */
export const MAINTENANCE_KEYS = {
  RAW_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .default(30)
    .describe('Raw sightings older than this are dropped; hourly rollups and sessions are kept'),
  COMPRESS_AFTER_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .default(2)
    .describe('Raw sighting chunks older than this are compressed (TimescaleDB)'),
  MAINTENANCE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(900_000)
    .describe('How often rollups are refreshed and compression and retention applied; 0 = never'),
  STAFF_MIN_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_STAFF_RULE.minDays)
    .describe(
      'Staff rule: qualifying days within STAFF_WINDOW_DAYS that make a device staff (more than the window: nobody)',
    ),
  STAFF_WINDOW_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(31)
    .default(DEFAULT_STAFF_RULE.windowDays)
    .describe('Staff rule: the consecutive local days those qualifying days must fall in'),
  STAFF_MIN_HOURS: z.coerce
    .number()
    .positive()
    .max(24)
    .default(DEFAULT_STAFF_RULE.minPresenceMs / 3_600_000)
    .describe('Staff rule: hours of presence (visits starting that day, summed) that make a day qualify'),
};

type MaintenanceConfig = { [K in keyof typeof MAINTENANCE_KEYS]: z.infer<(typeof MAINTENANCE_KEYS)[K]> };

/** The staff rule from the parsed MAINTENANCE_KEYS (live worker, `mallflow start`). */
export function staffRuleFrom(config: MaintenanceConfig): StaffRule {
  return {
    minDays: config.STAFF_MIN_DAYS,
    windowDays: config.STAFF_WINDOW_DAYS,
    minPresenceMs: Math.round(config.STAFF_MIN_HOURS * 3_600_000),
  };
}

export const AnalyticsConfig = z.object({
  DATABASE_URL: z.string().url().describe('PostgreSQL/TimescaleDB connection URL'),
  PG_POOL_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(4)
    .describe('Database connections (1 for the embedded database)'),
  MQTT_URL: z.string().url().default('mqtt://127.0.0.1:1884').describe('Broker URL (mqtt:// or ws://)'),
  MQTT_USERNAME: z.string().min(1).default('analytics').describe('Broker account with the analytics role'),
  MQTT_PASSWORD: z.string().min(1).describe('Password of that account'),
  MQTT_CLIENT_ID: z
    .string()
    .min(1)
    .default('mallflow-analytics')
    .describe('Client id; fixed so the broker keeps the session'),
  LAYOUT_FILES: z
    .string()
    .min(1)
    .default('simulators/layouts/joy-city.json')
    .describe('Comma-separated mall layout files; a batch for a mall without one is dead-lettered'),
  ...OCCUPANCY_KEYS,
  LIVE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(1_000)
    .describe('How often live occupancy and closed minutes are written'),
  CHECKPOINT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60_000)
    .describe('How often the live engine state is checkpointed (also at shutdown); 0 = only at shutdown'),
  ...MAINTENANCE_KEYS,
  LOG_LEVEL: logLevelKey('info'),
});
export type AnalyticsConfig = z.infer<typeof AnalyticsConfig>;

export const ANALYTICS_SUMMARY =
  'Subscribes to gateway batches, validates and stores them, and writes live and per-minute occupancy.';
