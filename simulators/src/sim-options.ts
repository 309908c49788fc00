// What a caller can tune in the mall simulation: the options, their defaults (some sized to the
// layout's shop capacity), and the check that reports every bad option at once.

import type { Layout } from '../../core/src/index.ts';
import { createLocalCalendar } from './local-time.ts';
import type { PathLossOptions } from './radio-model.ts';

export interface MallSimOptions {
  /** A layout that passed core's validateLayout. */
  layout: Layout;
  /** Any integer up to 2^53; the same seed and inputs always give the same output. */
  seed: number;
  /** Simulated start time, epoch ms. No shopper is inside yet (see initialShoppers); staff on shift are. */
  startMs: number;
  /** Shopper arrivals in the busiest hour of the week (weekday peaks reach 0.8 of it). Default: `defaultArrivalsPerHour(layout)`. */
  arrivalsPerHour?: number;
  /** Passers-by in the busiest street hour. Default 2 × arrivalsPerHour; none without 'outside' zones. */
  passersByPerHour?: number;
  /** Staff, each in one shop every day. Default: `defaultStaff(layout)` (40 for joy-city). */
  staff?: number;
  /** Share of shopper arrivals that are regulars coming back on later days, 0-1. Default 0.3. */
  returningShare?: number;
  /** Share of shoppers carrying a BLE tag or the mall app, 0-1. Default 0.1. */
  bleShare?: number;
  /** Share of phones that go silent (no probes) for 10-40 min now and then, 0-1. Default 0.1. */
  silentPhoneShare?: number;
  /** Members who weigh in on the layout's scales. Default 60 when it has scales in shops, else 0. */
  scaleMembers?: number;
  /** One-time shoppers already in the shops at startMs (spread by shop capacity). Default 0. */
  initialShoppers?: number;
  /** Open round the clock with flat arrival and street rates, staff always in. Default false. */
  alwaysOpen?: boolean;
  /** Share of phones using rotating, locally-administered MACs, 0-1. Default 0.3. Staff phones never do. */
  randomizedMacShare?: number;
  /** Mean time between MAC rotations of a randomized phone (±20 % per rotation). Default 15 min. */
  macRotationMs?: number;
  pathLoss?: Partial<PathLossOptions>;
}

export class InvalidSimOptionsError extends Error {
  readonly code = 'INVALID_SIM_OPTIONS';
}

export const DEFAULT_RANDOMIZED_MAC_SHARE = 0.3;
export const DEFAULT_MAC_ROTATION_MS = 15 * 60_000;
export const DEFAULT_RETURNING_SHARE = 0.3;
export const DEFAULT_BLE_SHARE = 0.1;
export const DEFAULT_SILENT_PHONE_SHARE = 0.1;
export const DEFAULT_SCALE_MEMBERS = 60;

/** Places of shop capacity per member of staff (joy-city: 5136 / 128 = 40). */
const CAPACITY_PER_STAFF = 128;

/**
 * A default peak arrival rate sized to the layout: one arrival per hour for every 16 places of
 * shop capacity (joy-city: 5136 places, 321 arrivals in its busiest hour).
 */
export function defaultArrivalsPerHour(layout: Layout): number {
  return Math.max(1, Math.round(shopCapacity(layout) / 16));
}

/** One member of staff per 128 places of shop capacity: 40 for joy-city, 1 for small-store. */
export function defaultStaff(layout: Layout): number {
  return Math.round(shopCapacity(layout) / CAPACITY_PER_STAFF);
}

function shopCapacity(layout: Layout): number {
  let capacity = 0;
  for (const zone of layout.zones) if (zone.kind === 'store') capacity += zone.capacity;
  return capacity;
}

/** Every problem with the options, one `key: reason` each; empty when there is none. */
export function checkOptions(options: MallSimOptions): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(options.seed) || options.seed < 0)
    problems.push('seed: must be a non-negative safe integer');
  if (!Number.isFinite(options.startMs)) problems.push('startMs: must be a finite epoch-ms number');
  const rates = { arrivalsPerHour: options.arrivalsPerHour, passersByPerHour: options.passersByPerHour };
  for (const [key, rate] of Object.entries(rates)) {
    if (rate !== undefined && !(Number.isFinite(rate) && rate >= 0)) problems.push(`${key}: must be >= 0`);
  }
  const counts = {
    staff: options.staff,
    scaleMembers: options.scaleMembers,
    initialShoppers: options.initialShoppers,
  };
  for (const [key, count] of Object.entries(counts)) {
    if (count !== undefined && !(Number.isSafeInteger(count) && count >= 0))
      problems.push(`${key}: must be a non-negative integer`);
  }
  const shares = {
    randomizedMacShare: options.randomizedMacShare,
    returningShare: options.returningShare,
    bleShare: options.bleShare,
    silentPhoneShare: options.silentPhoneShare,
  };
  for (const [key, share] of Object.entries(shares)) {
    if (share !== undefined && !(share >= 0 && share <= 1)) problems.push(`${key}: must be within 0..1`);
  }
  const rot = options.macRotationMs;
  if (rot !== undefined && !(Number.isFinite(rot) && rot > 0)) problems.push('macRotationMs: must be > 0');
  const pl = options.pathLoss ?? {};
  for (const [key, value] of Object.entries(pl)) {
    if (value !== undefined && !Number.isFinite(value))
      problems.push(`pathLoss.${key}: must be a finite number`);
  }
  if (pl.lossRate !== undefined && !(pl.lossRate >= 0 && pl.lossRate <= 1)) {
    problems.push('pathLoss.lossRate: must be within 0..1');
  }
  const entrances = options.layout.zones.filter((z) => z.kind === 'entrance');
  if (entrances.length === 0) problems.push('layout: has no entrance zone');
  try {
    createLocalCalendar(options.layout.timezone);
  } catch (err) {
    problems.push(`layout.timezone: ${(err as Error).message}`);
  }
  return problems;
}
