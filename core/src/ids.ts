import { z } from 'zod';

/** Mall, gateway, sensor and zone ids: safe in an MQTT topic level and a URL path segment. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const Id = z
  .string()
  .regex(ID_PATTERN, 'must be 1-63 chars of a-z, 0-9, "_" or "-", starting with a letter or digit');

/** A keyed device pseudonym: the first 128 bits of HMAC-SHA-256(siteSecret, mac), in hex. */
export const PSEUDONYM_PATTERN = /^[0-9a-f]{32}$/;
export const Pseudonym = z.string().regex(PSEUDONYM_PATTERN, 'must be a 32-hex-digit pseudonym, never a MAC');

export type MallId = string;
export type GatewayId = string;
export type SensorId = string;
export type ZoneId = string;
export type DeviceId = string;
