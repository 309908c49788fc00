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
}

export function createPseudonymizer(siteSecret: string): Pseudonymizer {
  const cache = new Map<string, DeviceIdentity>();
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
  };
}
