import { isRandomizedMac, normalizeMac, pseudonymize } from '../../core/src/privacy.ts';

// HMAC per reading costs microseconds; phones repeat, so remember recent MACs. Bounded: the map
// is cleared when full (cheap, and a cold miss only costs one HMAC).
const MAX_ENTRIES = 200_000;

export interface DeviceIdentity {
  device: string;
  randomized: boolean;
}

export interface Pseudonymizer {
  /** The pseudonym of a MAC, or undefined when the input is not a MAC. */
  identify(mac: string): DeviceIdentity | undefined;
  /** The pseudonym of a non-MAC device identifier (case-insensitive), or undefined when empty. */
  identifyKey(key: string): DeviceIdentity | undefined;
}

// Keys live in their own namespace so that no key can ever collide with a MAC's pseudonym.
const KEY_NAMESPACE = 'key:';
const MAX_KEY_LENGTH = 256;

export function createPseudonymizer(siteSecret: string): Pseudonymizer {
  const cache = new Map<string, DeviceIdentity>();
  const keyCache = new Map<string, DeviceIdentity>();
  return {
    identify(mac) {
      const hit = cache.get(mac);
      if (hit) return hit;
      const normalized = normalizeMac(mac);
      if (!normalized) return undefined;
      const identity = {
        device: pseudonymize(normalized, siteSecret),
        randomized: isRandomizedMac(normalized),
      };
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(mac, identity);
      return identity;
    },
    identifyKey(key) {
      const normalized = key.trim().toLowerCase();
      if (normalized.length === 0 || normalized.length > MAX_KEY_LENGTH) return undefined;
      const hit = keyCache.get(normalized);
      if (hit) return hit;
      const identity = { device: pseudonymize(KEY_NAMESPACE + normalized, siteSecret), randomized: false };
      if (keyCache.size >= MAX_ENTRIES) keyCache.clear();
      keyCache.set(normalized, identity);
      return identity;
    },
  };
}
