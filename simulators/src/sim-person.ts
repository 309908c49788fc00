// The persons of the mall simulation: their kinds, the state each one carries (fixed phone and
// tag traits, plus the running visit's), and their creation with a random stream of their own.

import type { Routes } from './mall-zones.ts';
import { WALK_SPEED_MPS } from './mall-zones.ts';
import { bleStaticMac, stableMac } from './phone-macs.ts';
import { BLE_INTERVAL_MAX_MS, BLE_INTERVAL_MIN_MS, BLE_TX_AT_1M_DBM } from './radio-model.ts';
import type { Rng } from './rng.ts';
import { chance, createRng, deriveSeed, int, normal, uniform } from './rng.ts';
import type { SimContext } from './sim-context.ts';
import type { EddystoneUidFrame, IBeaconFrame } from './sim-readings.ts';
import { STREAM_PERSON } from './sim-streams.ts';
import type { PersonKind } from './truth-model.ts';

/** Share of shoppers who take lifts rather than escalators. */
const LIFT_USER_SHARE = 0.12;
const PROBE_INTERVAL_MIN_MS = 20_000;
const PROBE_INTERVAL_MAX_MS = 60_000;
/** Eddystone namespace of the mall's tags (10 bytes, hex). */
const MALL_EDDYSTONE_NAMESPACE = 'a1b2c3d4e5f60718293a';
/** The mall app's iBeacon UUID; tags use the same one, with major/minor per person. */
const MALL_BEACON_UUID = 'f7826da6-4fa2-4e98-8024-bc5b71e0893e';

export const SHOPPER = 0;
export const PASSER = 1;
export const STAFF = 2;
export const KIND_NAMES: readonly PersonKind[] = ['shopper', 'passer-by', 'staff'];

export const BLE_NONE = 0;
/** A tag with a static random address. */
export const BLE_TAG = 1;
/** The mall app on the phone: resolvable private address, rotating. */
export const BLE_APP = 2;

export interface Member {
  memberId: string;
  sensorId: string;
  zone: number;
  baseKg: number;
  trendKgPerDay: number;
  bodyFatPct: number;
}

/**
 * Per-person state; numbers only besides the rng, MACs and tables, updated in place. The phone
 * (and tag) fields are fixed for the person; the rest is reset at each visit.
 */
export interface Person {
  idx: number;
  kind: number;
  rng: Rng;
  /** Comes back after each visit (staff, regulars, members). */
  recurring: boolean;
  /** Staff: their shop's zone index; -1 otherwise. */
  homeZone: number;
  member: Member | undefined;
  speedMps: number;
  liftUser: boolean;
  // Phone
  randomized: boolean;
  /** The universal MAC ('' for a randomized phone). */
  phoneMac: string;
  txOffsetDb: number;
  probeIntervalMs: number;
  silentProne: boolean;
  // BLE
  bleKind: number;
  bleMac: string;
  bleIntervalMs: number;
  bleOffsetDb: number;
  beacon: IBeaconFrame | EddystoneUidFrame | undefined;
  // Screen: probes come faster while the screen is on.
  screenOn: boolean;
  screenToggleAtMs: number;
  // Visit
  active: boolean;
  /** In the `active` list (it may have left since). */
  listed: boolean;
  zone: number;
  x: number;
  y: number;
  /** Passers-by walk along the street: position = (x, y) + (vx, vy)·(t - movedAtMs)/1000. */
  moving: boolean;
  vx: number;
  vy: number;
  movedAtMs: number;
  leaveZoneAtMs: number;
  /** Zone the person is heading for (a shop in the plan, or the exit). */
  target: number;
  plan: Int32Array;
  planIdx: number;
  routes: Routes;
  exitZone: number;
  leaving: boolean;
  /** Shoppers head out in time to be gone by this (Infinity: no closing). */
  leaveByMs: number;
  /** Staff: leave their shop at this time. */
  shiftEndMs: number;
  mac: string;
  macRotateAtMs: number;
  nextProbeMs: number;
  burstStartMs: number;
  framesLeft: number;
  frameSeq: number;
  silentUntilMs: number;
  nextSilenceMs: number;
  nextBleMs: number;
  bleRotateAtMs: number;
  weighAtMs: number;
  // Truth of the running visit
  visitStartMs: number;
  intervalStartMs: number;
  macFromMs: number;
}

export function personId(idx: number): string {
  return `p${String(idx).padStart(6, '0')}`;
}

/** A new person of `kind` (SHOPPER, PASSER or STAFF), numbered in order of creation; not in the mall yet. */
export function createPerson(ctx: SimContext, kind: number, recurring: boolean): Person {
  const { radio } = ctx;
  const idx = ctx.kindOf.length;
  ctx.kindOf.push(kind);
  const rng = createRng(deriveSeed(ctx.seed, STREAM_PERSON, idx));
  const randomized = kind !== STAFF && chance(rng, ctx.randomizedShare);
  const bleKind =
    kind === SHOPPER && chance(rng, ctx.bleShare) ? (chance(rng, 0.5) ? BLE_TAG : BLE_APP) : BLE_NONE;
  const p: Person = {
    idx,
    kind,
    rng,
    recurring,
    homeZone: -1,
    member: undefined,
    speedMps: Math.min(1.8, Math.max(0.6, normal(rng, WALK_SPEED_MPS, 0.2))),
    liftUser: chance(rng, LIFT_USER_SHARE),
    randomized,
    phoneMac: randomized ? '' : stableMac(rng),
    txOffsetDb: normal(rng, 0, radio.phoneOffsetSigmaDb),
    probeIntervalMs: Math.round(uniform(rng, PROBE_INTERVAL_MIN_MS, PROBE_INTERVAL_MAX_MS)),
    silentProne: chance(rng, ctx.silentShare),
    bleKind,
    bleMac: bleKind === BLE_TAG ? bleStaticMac(rng) : '',
    bleIntervalMs: Math.round(uniform(rng, BLE_INTERVAL_MIN_MS, BLE_INTERVAL_MAX_MS)),
    bleOffsetDb: normal(rng, 0, radio.phoneOffsetSigmaDb),
    screenOn: false,
    screenToggleAtMs: Number.POSITIVE_INFINITY,
    beacon:
      bleKind === BLE_NONE
        ? undefined
        : bleKind === BLE_TAG
          ? {
              kind: 'eddystone-uid',
              namespace: MALL_EDDYSTONE_NAMESPACE,
              instance: idx.toString(16).padStart(12, '0'),
            }
          : {
              kind: 'ibeacon',
              uuid: MALL_BEACON_UUID,
              major: Math.floor(idx / 65_536) & 0xffff,
              minor: idx % 65_536,
              txPowerDbm: BLE_TX_AT_1M_DBM,
            },
    active: false,
    listed: false,
    zone: 0,
    x: 0,
    y: 0,
    moving: false,
    vx: 0,
    vy: 0,
    movedAtMs: 0,
    leaveZoneAtMs: 0,
    target: 0,
    plan: new Int32Array(0),
    planIdx: 0,
    routes: ctx.zoneTables.routes,
    exitZone: 0,
    leaving: false,
    leaveByMs: Number.POSITIVE_INFINITY,
    shiftEndMs: Number.POSITIVE_INFINITY,
    mac: '',
    macRotateAtMs: Number.POSITIVE_INFINITY,
    nextProbeMs: Number.POSITIVE_INFINITY,
    burstStartMs: 0,
    framesLeft: 0,
    frameSeq: int(rng, 0, 4095),
    silentUntilMs: Number.NEGATIVE_INFINITY,
    nextSilenceMs: Number.POSITIVE_INFINITY,
    nextBleMs: Number.POSITIVE_INFINITY,
    bleRotateAtMs: Number.POSITIVE_INFINITY,
    weighAtMs: Number.POSITIVE_INFINITY,
    visitStartMs: 0,
    intervalStartMs: 0,
    macFromMs: 0,
  };
  if (recurring) ctx.residents[idx] = p;
  return p;
}
