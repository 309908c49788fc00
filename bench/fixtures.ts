import type { WifiReading } from '../core/src/messages.ts';
import { pseudonymize } from '../core/src/privacy.ts';

/**
 * Deterministic readings for benchmarks: `devices` phones heard by `sensors` sensors. A phone stays
 * near one sensor for 20,000 readings (~74 s of event time) and then moves on, as shoppers dwell:
 * a phone that changed zone at every reading would make every reading a zone stay of its own.
 */
export function makeReadings(
  count: number,
  sensors: readonly string[],
  devices = 5_000,
  startMs = Date.UTC(2026, 10, 21, 10),
): WifiReading[] {
  const pseudonyms = Array.from({ length: devices }, (_, i) =>
    pseudonymize(
      `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      'bench-secret-0001',
    ),
  );
  const readings: WifiReading[] = new Array(count);
  for (let i = 0; i < count; i++) {
    readings[i] = {
      sensorId: sensors[(((i * 7919) % devices) * 31 + Math.floor(i / 20_000)) % sensors.length]!,
      heardAt: startMs + Math.floor(i / 10) * 37,
      rssiDbm: -40 - (i % 50),
      device: pseudonyms[(i * 7919) % devices]!,
      randomized: i % 3 === 0,
    };
  }
  return readings;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
