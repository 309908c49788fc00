// A deterministic agent-based mall: shoppers, passers-by and staff come and go by the clock,
// their phones probe for WiFi, some carry BLE tags, members weigh in on smart scales, and the
// sim records the ground truth of who was where, when, with which MAC. Pure: no I/O, no timers,
// no Math.random, no Date.now. Everything is a function of (layout, options, the sequence of
// `step`/`stepAll` calls) — and in fact not even of how time is sliced into steps (below).
//
// Who (persons; ids p000000, p000001, ... in order of creation):
//   staff      `staff` of them, created first: one shop each, there every day from before opening
//              (09:15-09:45) to after closing (22:05-22:25), universal (non-randomized) MACs.
//   regulars   a fixed pool of shoppers sized so that they make `returningShare` of all shopper
//              arrivals; each comes back every few days (same person id, same phone: the same
//              MAC if universal, a new one per visit if randomized).
//   members    `scaleMembers` regulars who include the store of "their" smart scale in each visit
//              and weigh in there (only when the layout has scale sensors in shops).
//   one-timers shoppers arriving by the hour-of-day curve (weekday or weekend), seen once.
//   passers-by people walking along an 'outside' zone in front of an entrance for 10-60 s who never
//              come in; at ~2x the shopper rate by a street-traffic curve. None without 'outside' zones.
//   initial    `initialShoppers` one-time shoppers already in the shops at the start (benchmarks).
//
// Opening hours (mall-hours.ts): local 10:00-22:00 in the layout's time zone. No shopper arrives
// in the last half hour and every shopper heads out in time to leave by closing. `alwaysOpen`
// gives the old round-the-clock mall with a flat arrival rate instead (live demos started at
// wall-clock time).
//
// One visit (one state machine per person, event-driven with millisecond resolution):
//
//   arrive ──> in zone Z until leaveZoneAtMs ──┬─ Z is not the target ──> next hop toward target
//    (outside the         (position drawn      ├─ Z is the target shop ──> next shop in the plan, or
//     entrance, 5-20 s,    at random in Z)     │     head for the exit once the plan is done or
//     if it has one)                           │     closing time is near
//                                              └─ Z is the exit (the outside zone of an entrance,
//                                                 or the entrance), leaving ──> visit over
//
//   Time spent in Z: the target shop → dwell (log-normal by category, capped to leave by closing;
//   staff: until their shift ends); an escalator or lift → ride/wait time; an outside zone → 5-20 s;
//   anything else → crossing time (zone size / walking speed), with a small chance of lingering in
//   a corridor or atrium.
//   After the visit a recurring person (staff, regular, member) is scheduled for their next one.
//
// Each phone, independently of the walk:
//   every probe interval (20-60 s, fixed per phone, ±10 % jitter) → a burst of 1-3 probe frames
//     20 ms apart, each heard by every WiFi sensor on the person's floor within range, subject to
//     loss; a share of phones (`silentPhoneShare`) go quiet for 10-40 min now and then.
//   randomized phones: new locally-administered MAC (and a fresh sequence number) every ~15 min
//     and at the start of every visit.
//   BLE (`bleShare` of shoppers): an iBeacon frame every 2-5 s from a tag (static address) or the
//     mall app (rotating address); major/minor carry the person number.
//
// Radio: rssi = tx@1m + sensor gain + phone offset - 10·n·log10(d) + walls + N(0, σ). Walls: -6 dB
// when the sensor is in another zone than the phone, a further -3 dB when neither of the two
// zones is a corridor or atrium (shop to shop, shop to outside). Floors are isolated: a sensor
// never hears a phone on another floor (concrete slabs; the small openings at escalators are not
// modelled), which is also what keeps the per-zone sensor lists short.
//
// Why per-person random streams: every person owns a generator seeded from (seed, person index),
// and processes its own events in time order. Persons never interact, so the output of
// step(t1); step(t2) equals that of step(t2) alone — the simulation does not depend on the
// caller's tick size, which keeps live runs and tests comparable. Arrivals come from one stream
// (thinned Poisson) and recurring persons from a schedule, both taken in time order.

import type { Layout, Zone, ZoneId } from '../../core/src/index.ts';
import { pointInPolygon } from '../../core/src/index.ts';
import { createLocalCalendar, DAY_MS, type LocalCalendar } from './local-time.ts';
import {
  arrivalHours,
  arrivalShare,
  CLOSE_MS_OF_DAY,
  categoryFactor,
  meanDailyArrivalShare,
  OPEN_MS_OF_DAY,
  streetShare,
} from './mall-hours.ts';
import type { Rng } from './rng.ts';
import {
  chance,
  createRng,
  deriveSeed,
  exponential,
  int,
  lognormal,
  normal,
  pickWeighted,
  uniform,
} from './rng.ts';
import type { GroundTruth, PersonKind, TruthInterval, TruthMac, TruthVisit } from './truth-model.ts';

/** One probe frame heard by one sensor, before the gateway: the MAC is still raw. */
export interface RawWifiSighting {
  sensorId: string;
  /** Epoch ms. */
  heardAt: number;
  /** Integer dBm. */
  rssiDbm: number;
  /** Raw transmitter MAC, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** 12-bit 802.11 sequence number (0-4095), per phone, incremented per frame. */
  frameSeq: number;
}

export interface IBeaconFrame {
  kind: 'ibeacon';
  uuid: string;
  major: number;
  minor: number;
  /** Calibrated RSSI at 1 m, as the frame announces it. */
  txPowerDbm: number;
}

/** An Eddystone-UID frame: a 10-byte namespace and a 6-byte instance, as hex. */
export interface EddystoneUidFrame {
  kind: 'eddystone-uid';
  namespace: string;
  instance: string;
}

/** One BLE advertisement heard by one 'wifi+ble' or 'ble' sensor. The beacon object is shared: read-only. */
export interface RawBleSighting {
  sensorId: string;
  heardAt: number;
  rssiDbm: number;
  /** Raw advertiser address, `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** The mall app advertises iBeacon; physical tags advertise Eddystone-UID. */
  beacon: IBeaconFrame | EddystoneUidFrame;
}

/** A stabilised weigh-in on a smart scale by a member who linked it. */
export interface RawScaleReading {
  sensorId: string;
  measuredAt: number;
  /** 0.1 kg resolution. */
  weightKg: number;
  /** Bioimpedance, whole ohms. */
  impedanceOhm: number;
  memberId: string;
}

export interface SimReadings {
  /** Sorted by heardAt, then mac, sensorId, frameSeq. */
  wifi: RawWifiSighting[];
  /** Sorted by heardAt, then mac, sensorId. */
  ble: RawBleSighting[];
  /** Sorted by measuredAt, then sensorId. */
  scale: RawScaleReading[];
}

/** Radio model: rssi = txDbmAt1m - 10·exponent·log10(max(d, 1 m)) + offsets + walls + N(0, noiseSigmaDb). */
export interface PathLossOptions {
  /** Received power at 1 m, dBm. */
  txDbmAt1m: number;
  /** Log-distance path-loss exponent (2 = free space; indoors 2.5-3.5). */
  exponent: number;
  noiseSigmaDb: number;
  /** Fixed per-sensor gain offset, drawn once from N(0, sensorOffsetSigmaDb). */
  sensorOffsetSigmaDb: number;
  /** Fixed per-phone transmit-power offset, drawn once from N(0, phoneOffsetSigmaDb). */
  phoneOffsetSigmaDb: number;
  /** Share of frames a sensor misses, 0-1. */
  lossRate: number;
  /** Sensitivity: weaker frames are not heard. */
  minRssiDbm: number;
  /** Sensors farther than this never hear the phone. */
  maxRangeM: number;
  /** Added when the sensor is in another zone than the phone (a wall or shop front), dB (<= 0). */
  wallDb: number;
  /** Added on top when neither zone is a corridor or atrium (two walls, or a facade), dB (<= 0). */
  extraWallDb: number;
}

export const DEFAULT_PATH_LOSS: Readonly<PathLossOptions> = Object.freeze({
  txDbmAt1m: -40,
  exponent: 2.8,
  noiseSigmaDb: 4,
  sensorOffsetSigmaDb: 2,
  phoneOffsetSigmaDb: 3,
  lossRate: 0.1,
  minRssiDbm: -92,
  maxRangeM: 35,
  wallDb: -6,
  extraWallDb: -3,
});

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

export interface MallSim {
  readonly layout: Layout;
  /**
   * Advances the world to `untilMs` and returns the readings of [previous now, untilMs): WiFi,
   * BLE and scale, each sorted by time. A `untilMs` not after the current time returns empty
   * lists and changes nothing.
   */
  stepAll(untilMs: number): SimReadings;
  /** `stepAll(untilMs).wifi`: the WiFi sightings only (the BLE and scale readings are dropped). */
  step(untilMs: number): RawWifiSighting[];
  /** Current simulated time, epoch ms. */
  nowMs(): number;
  /** Shoppers in the mall right now (in any zone but the 'outside' ones). */
  shoppersInside(): number;
  /** Persons in the simulation right now, 'outside' zones included, by kind. */
  presentByKind(): Record<PersonKind, number>;
  /** Persons per zone right now (every kind; every zone of the layout, 0 when empty). */
  truthOccupancy(): Map<ZoneId, number>;
  /** Everything up to nowMs(); what is still going on is closed at nowMs() (intervals marked open). */
  truth(): GroundTruth;
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

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Receivers saturate: nothing reads stronger than this however close the phone. */
const MAX_RSSI_DBM = -20;
const WALK_SPEED_MPS = 1.2;
/** Screen on: phones scan for networks every 12-25 s; screen off: at their own slower rhythm (below). */
const SCREEN_ON_PROBE_MIN_MS = 12_000;
const SCREEN_ON_PROBE_MAX_MS = 25_000;
/** Share of visits that start with the screen on, and mean on / off spells. */
const SCREEN_ON_AT_START = 0.3;
const SCREEN_ON_MEAN_MS = 2 * 60_000;
const SCREEN_OFF_MEAN_MS = 6 * 60_000;
/** Eddystone namespace of the mall's tags (10 bytes, hex). */
const MALL_EDDYSTONE_NAMESPACE = 'a1b2c3d4e5f60718293a';
const PROBE_INTERVAL_MIN_MS = 20_000;
const PROBE_INTERVAL_MAX_MS = 60_000;
/** Gap between the frames of one probe burst (one per channel hop), ms. */
const FRAME_GAP_MS = 20;
/** A silent-prone phone is active this long on average between silences... */
const SILENCE_GAP_MEAN_MS = 20 * MINUTE_MS;
/** ...and silent for 10-40 min each time (a phone in deep sleep or with WiFi scanning off). */
const SILENCE_MIN_MS = 10 * MINUTE_MS;
const SILENCE_MAX_MS = 40 * MINUTE_MS;
const ESCALATOR_RIDE_MS = 30_000;
const LIFT_RIDE_MS = 15_000;
const LIFT_MEAN_WAIT_MS = 40_000;
const LIFT_MAX_WAIT_MS = 3 * MINUTE_MS;
/** Share of shoppers who take lifts rather than escalators. */
const LIFT_USER_SHARE = 0.12;
/** Chance that a shopper crossing a corridor or atrium stops for a while (window shopping, a bench). */
const LINGER_CHANCE = 0.08;
const LINGER_MEAN_MS = 3 * MINUTE_MS;
const MAX_DWELL_MS = 4 * HOUR_MS;
/** Mean number of shops visited beyond the first; capped at MAX_SHOPS_PER_VISIT. */
const EXTRA_SHOPS_MEAN = 1.8;
const MAX_SHOPS_PER_VISIT = 7;
/** Chance a shopper leaves by the entrance they came in through (else a random one). */
const SAME_EXIT_CHANCE = 0.7;
/** Shoppers walk from the street to the door, or away from it, for this long in an outside zone. */
const OUTSIDE_MIN_MS = 5_000;
const OUTSIDE_MAX_MS = 20_000;
const PASSER_MIN_MS = 10_000;
const PASSER_MAX_MS = 60_000;
/** Shoppers plan to be out this long before closing... */
const LEAVE_BEFORE_CLOSE_MS = 10 * MINUTE_MS;
/** ...allowing this factor on the nominal walk to the exit (slow walkers, detours) plus a minute. */
const EXIT_WALK_FACTOR = 2.6;
const EXIT_WALK_SLACK_MS = MINUTE_MS;
/** Staff arrive 15-45 min before opening and leave 5-25 min after closing. */
const STAFF_EARLY_MIN_MS = 15 * MINUTE_MS;
const STAFF_EARLY_MAX_MS = 45 * MINUTE_MS;
const STAFF_LATE_MIN_MS = 5 * MINUTE_MS;
const STAFF_LATE_MAX_MS = 25 * MINUTE_MS;
/** Places of shop capacity per member of staff (joy-city: 5136 / 128 = 40). */
const CAPACITY_PER_STAFF = 128;
/** Days between visits of a regular: 1 + floor(Exp(mean)), so 2.5 days on average; members 3.5. */
const REGULAR_GAP_MEAN_DAYS = 2;
const MEMBER_GAP_MEAN_DAYS = 3;
const MAX_GAP_DAYS = 30;
/** BLE: iBeacon frames' calibrated power at 1 m; tags and the app advertise every 2-5 s. */
const BLE_TX_AT_1M_DBM = -59;
const BLE_INTERVAL_MIN_MS = 2_000;
const BLE_INTERVAL_MAX_MS = 5_000;
const BLE_NOISE_SIGMA_DB = 5;
/** Scanners miss more advertisements than sniffers miss probes (they hop over three channels). */
const BLE_LOSS_RATE = 0.2;
const BLE_MIN_RSSI_DBM = -100;
const BLE_MAX_RANGE_M = 30;
/** The mall app's iBeacon UUID; tags use the same one, with major/minor per person. */
const MALL_BEACON_UUID = 'f7826da6-4fa2-4e98-8024-bc5b71e0893e';

/** Dwell per shop category: median minutes and log-normal sigma. Restaurants and films run long. */
const DWELL_BY_CATEGORY: Readonly<Record<string, { medianMin: number; sigma: number }>> = {
  fashion: { medianMin: 9, sigma: 0.6 },
  food: { medianMin: 22, sigma: 0.5 },
  cinema: { medianMin: 120, sigma: 0.12 },
  kids: { medianMin: 15, sigma: 0.6 },
  sports: { medianMin: 10, sigma: 0.6 },
  beauty: { medianMin: 8, sigma: 0.6 },
  electronics: { medianMin: 10, sigma: 0.6 },
  supermarket: { medianMin: 20, sigma: 0.45 },
  health: { medianMin: 7, sigma: 0.6 },
  services: { medianMin: 8, sigma: 0.7 },
};
const DEFAULT_DWELL = { medianMin: 8, sigma: 0.6 };

/** How likely a shop is to be on a shopper's list, relative to its size (before the time of day). */
const CATEGORY_APPEAL: Readonly<Record<string, number>> = {
  cinema: 0.35,
  supermarket: 1.4,
  food: 1.2,
};

/** OUIs of the kind phone vendors use; all universally administered (bits 0x02 and 0x01 clear). */
const PHONE_OUIS = [
  'a4:83:e7',
  'f0:18:98',
  '3c:22:fb',
  '8c:f5:a3',
  '64:cc:2e',
  'ac:bc:32',
  '98:09:cf',
  '40:4e:36',
];

const STREAM_ARRIVALS = 1;
const STREAM_SENSORS = 2;
const STREAM_PERSON = 3;
const STREAM_CAST = 4;

const SHOPPER = 0;
const PASSER = 1;
const STAFF = 2;
const KIND_NAMES: readonly PersonKind[] = ['shopper', 'passer-by', 'staff'];

const BLE_NONE = 0;
/** A tag with a static random address. */
const BLE_TAG = 1;
/** The mall app on the phone: resolvable private address, rotating. */
const BLE_APP = 2;

const EV_MOVE = 0;
const EV_PROBE = 1;
const EV_BLE = 2;
const EV_WEIGH = 3;
const EV_ROTATE = 4;

interface Member {
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
interface Person {
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

interface Routes {
  /** dist[i * n + j]: planning cost from zone i to zone j, seconds (Infinity when unreachable). */
  dist: Float64Array;
  /** nextHop[i * n + j]: the neighbour of i to walk into on the way to j (-1 when unreachable). */
  nextHop: Int32Array;
}

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

function bbox(zone: Zone): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (const [x, y] of zone.polygon) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { x0, y0, x1, y1 };
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

function stableMac(rng: Rng): string {
  const oui = PHONE_OUIS[Math.floor(rng.next() * PHONE_OUIS.length)]!;
  return `${oui}:${hex2(int(rng, 0, 255))}:${hex2(int(rng, 0, 255))}:${hex2(int(rng, 0, 255))}`;
}

/** The first octet given, the other five random. */
function macWithFirstOctet(rng: Rng, first: number): string {
  let mac = hex2(first);
  for (let i = 0; i < 5; i++) mac += `:${hex2(int(rng, 0, 255))}`;
  return mac;
}

/** Locally administered (0x02 set), unicast (0x01 clear), the rest random: what phones send. */
function randomMac(rng: Rng): string {
  return macWithFirstOctet(rng, (int(rng, 0, 255) & 0xfc) | 0x02);
}

/** BLE static random address (top bits 11); 0x02 clear, so the gateway treats it as stable. */
function bleStaticMac(rng: Rng): string {
  return macWithFirstOctet(rng, (int(rng, 0, 255) & 0x3c) | 0xc0);
}

/** BLE resolvable private address (top bits 01), marked locally administered: it rotates. */
function bleRotatingMac(rng: Rng): string {
  return macWithFirstOctet(rng, (int(rng, 0, 255) & 0x3c) | 0x42);
}

function personId(idx: number): string {
  return `p${String(idx).padStart(6, '0')}`;
}

function byHeardAt(a: RawWifiSighting, b: RawWifiSighting): number {
  if (a.heardAt !== b.heardAt) return a.heardAt - b.heardAt;
  if (a.mac !== b.mac) return a.mac < b.mac ? -1 : 1;
  if (a.sensorId !== b.sensorId) return a.sensorId < b.sensorId ? -1 : 1;
  return a.frameSeq - b.frameSeq;
}

function bleByHeardAt(a: RawBleSighting, b: RawBleSighting): number {
  if (a.heardAt !== b.heardAt) return a.heardAt - b.heardAt;
  if (a.mac !== b.mac) return a.mac < b.mac ? -1 : 1;
  if (a.sensorId !== b.sensorId) return a.sensorId < b.sensorId ? -1 : 1;
  return 0;
}

function scaleByMeasuredAt(a: RawScaleReading, b: RawScaleReading): number {
  if (a.measuredAt !== b.measuredAt) return a.measuredAt - b.measuredAt;
  if (a.sensorId !== b.sensorId) return a.sensorId < b.sensorId ? -1 : 1;
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

/** All-pairs shortest routes over the zone graph (Floyd-Warshall: zones number in the hundreds at most). */
function computeRoutes(
  layout: Layout,
  zoneIndex: ReadonlyMap<string, number>,
  costS: (i: number) => number,
): Routes {
  const n = layout.zones.length;
  const dist = new Float64Array(n * n).fill(Number.POSITIVE_INFINITY);
  const nextHop = new Int32Array(n * n).fill(-1);
  for (let i = 0; i < n; i++) {
    dist[i * n + i] = 0;
    nextHop[i * n + i] = i;
    for (const id of layout.neighbours.get(layout.zones[i]!.id) ?? []) {
      const j = zoneIndex.get(id);
      if (j === undefined) continue;
      dist[i * n + j] = (costS(i) + costS(j)) / 2;
      nextHop[i * n + j] = j;
    }
  }
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      const dik = dist[i * n + k]!;
      if (dik === Number.POSITIVE_INFINITY) continue;
      for (let j = 0; j < n; j++) {
        const d = dik + dist[k * n + j]!;
        if (d < dist[i * n + j]!) {
          dist[i * n + j] = d;
          nextHop[i * n + j] = nextHop[i * n + k]!;
        }
      }
    }
  }
  return { dist, nextHop };
}

/** A min-heap of (time, person index), ties by index: the schedule of recurring persons' visits. */
class Schedule {
  private readonly times: number[] = [];
  private readonly ids: number[] = [];

  peekMs(): number {
    return this.times.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY;
  }

  private less(i: number, j: number): boolean {
    const ti = this.times[i]!;
    const tj = this.times[j]!;
    return ti < tj || (ti === tj && this.ids[i]! < this.ids[j]!);
  }

  private swap(i: number, j: number): void {
    const t = this.times[i]!;
    this.times[i] = this.times[j]!;
    this.times[j] = t;
    const id = this.ids[i]!;
    this.ids[i] = this.ids[j]!;
    this.ids[j] = id;
  }

  push(atMs: number, id: number): void {
    this.times.push(atMs);
    this.ids.push(id);
    let i = this.times.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the earliest entry and returns its person index. */
  pop(): number {
    const top = this.ids[0]!;
    const lastT = this.times.pop()!;
    const lastId = this.ids.pop()!;
    if (this.times.length > 0) {
      this.times[0] = lastT;
      this.ids[0] = lastId;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.times.length && this.less(l, m)) m = l;
        if (r < this.times.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

function checkOptions(options: MallSimOptions): string[] {
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

/**
 * Creates a mall simulation starting at `startMs`. Throws InvalidSimOptionsError (listing every
 * problem) on bad options.
 */
export function createMallSim(options: MallSimOptions): MallSim {
  const problems = checkOptions(options);
  if (problems.length > 0)
    throw new InvalidSimOptionsError(`invalid mall simulation options: ${problems.join('; ')}`);

  const { layout, seed } = options;
  const startMs = options.startMs;
  const radio: PathLossOptions = { ...DEFAULT_PATH_LOSS, ...options.pathLoss };
  const alwaysOpen = options.alwaysOpen ?? false;
  const arrivalsPerHour = options.arrivalsPerHour ?? defaultArrivalsPerHour(layout);
  const randomizedShare = options.randomizedMacShare ?? DEFAULT_RANDOMIZED_MAC_SHARE;
  const macRotationMs = options.macRotationMs ?? DEFAULT_MAC_ROTATION_MS;
  const returningShare = options.returningShare ?? DEFAULT_RETURNING_SHARE;
  const bleShare = options.bleShare ?? DEFAULT_BLE_SHARE;
  const silentShare = options.silentPhoneShare ?? DEFAULT_SILENT_PHONE_SHARE;
  const calendar: LocalCalendar = createLocalCalendar(layout.timezone);
  const maxRange2 = radio.maxRangeM * radio.maxRangeM;
  const bleMaxRange2 = BLE_MAX_RANGE_M * BLE_MAX_RANGE_M;
  // 10·n·log10(d) = (10·n/2)·log10(d²): no square root per sensor.
  const halfSlope = 5 * radio.exponent;

  // ---- Zone tables (index-based, built once) ----
  const zones = layout.zones;
  const n = zones.length;
  const zoneIndex = new Map<string, number>(zones.map((z, i) => [z.id, i]));
  const floorIds = [...new Set(zones.map((z) => z.floor))];
  const zoneFloor = new Int32Array(n);
  const zx0 = new Float64Array(n);
  const zy0 = new Float64Array(n);
  const zw = new Float64Array(n);
  const zh = new Float64Array(n);
  const crossM = new Float64Array(n);
  const isRect = new Uint8Array(n);
  const isStore = new Uint8Array(n);
  const isOutside = new Uint8Array(n);
  const isCirculation = new Uint8Array(n);
  zones.forEach((zone, i) => {
    const b = bbox(zone);
    zoneFloor[i] = floorIds.indexOf(zone.floor);
    zx0[i] = b.x0;
    zy0[i] = b.y0;
    zw[i] = b.x1 - b.x0;
    zh[i] = b.y1 - b.y0;
    crossM[i] = (zw[i]! + zh[i]!) / 2;
    isStore[i] = zone.kind === 'store' ? 1 : 0;
    isOutside[i] = zone.kind === 'outside' ? 1 : 0;
    isCirculation[i] = zone.kind === 'corridor' || zone.kind === 'atrium' ? 1 : 0;
    const corners = new Set(zone.polygon.map(([x, y]) => `${x},${y}`));
    isRect[i] =
      zone.polygon.length === 4 &&
      corners.has(`${b.x0},${b.y0}`) &&
      corners.has(`${b.x1},${b.y0}`) &&
      corners.has(`${b.x1},${b.y1}`) &&
      corners.has(`${b.x0},${b.y1}`)
        ? 1
        : 0;
  });

  /** Nominal seconds to pass through zone i, for route planning. */
  const transitCostS = (i: number, preferLift: boolean): number => {
    const kind = zones[i]!.kind;
    // A lift user (pram, wheelchair, luggage) avoids escalators unless there is no other way.
    if (kind === 'escalator') return (ESCALATOR_RIDE_MS / 1000) * (preferLift ? 20 : 1);
    if (kind === 'lift') return (LIFT_RIDE_MS + LIFT_MEAN_WAIT_MS) / 1000;
    // Cutting through a shop is possible (small-store areas open into each other) but unattractive.
    return (crossM[i]! / WALK_SPEED_MPS) * (kind === 'store' ? 3 : 1);
  };
  const routes = computeRoutes(layout, zoneIndex, (i) => transitCostS(i, false));
  const liftRoutes = computeRoutes(layout, zoneIndex, (i) => transitCostS(i, true));

  const entranceIdx: number[] = [];
  const entranceWeight: number[] = [];
  const shopIdx: number[] = [];
  const outsideIdx: number[] = [];
  const outsideWeight: number[] = [];
  zones.forEach((zone, i) => {
    if (zone.kind === 'entrance') {
      entranceIdx.push(i);
      entranceWeight.push(zone.capacity);
    } else if (zone.kind === 'store') shopIdx.push(i);
    else if (zone.kind === 'outside') {
      outsideIdx.push(i);
      outsideWeight.push(zone.capacity);
    }
  });
  // The outside zone in front of each entrance (-1: none), and where its door is.
  const outsideOf = new Int32Array(n).fill(-1);
  const doorX = new Float64Array(n);
  const doorY = new Float64Array(n);
  for (const e of entranceIdx) {
    for (const id of layout.neighbours.get(zones[e]!.id) ?? []) {
      const o = zoneIndex.get(id);
      if (o === undefined || isOutside[o] !== 1) continue;
      outsideOf[e] = o;
      // The point of the outside zone's box nearest the entrance's centre: the door, roughly.
      const ex = zx0[e]! + zw[e]! / 2;
      const ey = zy0[e]! + zh[e]! / 2;
      doorX[o] = Math.min(Math.max(ex, zx0[o]!), zx0[o]! + zw[o]!);
      doorY[o] = Math.min(Math.max(ey, zy0[o]!), zy0[o]! + zh[o]!);
      break;
    }
  }
  const shopAppeal = shopIdx.map(
    (i) => Math.sqrt(zones[i]!.capacity) * (CATEGORY_APPEAL[zones[i]!.category ?? ''] ?? 1),
  );
  const shopCategory = shopIdx.map((i) => zones[i]!.category);
  const shopCapacityWeight = shopIdx.map((i) => zones[i]!.capacity);
  const dwellMu = new Float64Array(n);
  const dwellSigma = new Float64Array(n);
  zones.forEach((zone, i) => {
    const d = DWELL_BY_CATEGORY[zone.category ?? ''] ?? DEFAULT_DWELL;
    dwellMu[i] = Math.log(d.medianMin * 60_000);
    dwellSigma[i] = d.sigma;
  });

  // ---- Sensors: per phone zone, the sensors that can hear it (same floor, within range of the
  // zone's box), each with its base level for that zone: tx + fixed gain + walls. ----
  const sensorRng = createRng(deriveSeed(seed, STREAM_SENSORS));
  const wifiStart = new Int32Array(n + 1);
  const bleStart = new Int32Array(n + 1);
  const wifiIds: string[] = [];
  const wifiXs: number[] = [];
  const wifiYs: number[] = [];
  const wifiBases: number[] = [];
  const bleIds: string[] = [];
  const bleXs: number[] = [];
  const bleYs: number[] = [];
  const bleBases: number[] = [];
  const sensorGain = layout.sensors.map(() => normal(sensorRng, 0, radio.sensorOffsetSigmaDb)); // every sensor: stable offsets
  const wallDb = (phoneZone: number, sensorZone: number | undefined): number => {
    if (sensorZone === phoneZone) return 0;
    const circulation = sensorZone !== undefined && isCirculation[sensorZone] === 1;
    return radio.wallDb + (circulation || isCirculation[phoneZone] === 1 ? 0 : radio.extraWallDb);
  };
  for (let z = 0; z < n; z++) {
    wifiStart[z] = wifiIds.length;
    bleStart[z] = bleIds.length;
    const floor = zones[z]!.floor;
    layout.sensors.forEach((sensor, s) => {
      if (sensor.floor !== floor) return; // floors are isolated (see the header)
      const dx = Math.max(zx0[z]! - sensor.x, 0, sensor.x - (zx0[z]! + zw[z]!));
      const dy = Math.max(zy0[z]! - sensor.y, 0, sensor.y - (zy0[z]! + zh[z]!));
      const d2 = dx * dx + dy * dy;
      const walls = wallDb(z, zoneIndex.get(sensor.zone));
      if ((sensor.kind === 'wifi' || sensor.kind === 'wifi+ble') && d2 <= maxRange2) {
        wifiIds.push(sensor.id);
        wifiXs.push(sensor.x);
        wifiYs.push(sensor.y);
        wifiBases.push(radio.txDbmAt1m + sensorGain[s]! + walls);
      }
      if ((sensor.kind === 'ble' || sensor.kind === 'wifi+ble') && d2 <= bleMaxRange2) {
        bleIds.push(sensor.id);
        bleXs.push(sensor.x);
        bleYs.push(sensor.y);
        bleBases.push(BLE_TX_AT_1M_DBM + sensorGain[s]! + walls);
      }
    });
  }
  wifiStart[n] = wifiIds.length;
  bleStart[n] = bleIds.length;
  const wifiX = Float64Array.from(wifiXs);
  const wifiY = Float64Array.from(wifiYs);
  const wifiBase = Float64Array.from(wifiBases);
  const bleX = Float64Array.from(bleXs);
  const bleY = Float64Array.from(bleYs);
  const bleBase = Float64Array.from(bleBases);

  // Scales standing in shops: members weigh in on them.
  const scales = layout.sensors
    .filter((s) => s.kind === 'scale')
    .map((s) => ({ sensorId: s.id, zone: zoneIndex.get(s.zone) ?? -1 }))
    .filter((s) => s.zone >= 0 && isStore[s.zone] === 1);

  // ---- Calendar helpers ----
  const hoursByWeekday = [0, 1, 2, 3, 4, 5, 6].map((wd) => arrivalHours(wd, alwaysOpen));
  /** A visit's start on local day `day`, drawn from that day's arrival curve; Infinity if none. */
  function sampleArrivalMs(rng: Rng, day: number): number {
    const hours = hoursByWeekday[calendar.weekday(day)]!;
    const h = pickWeighted(rng, hours.weights);
    if (h < 0) return Number.POSITIVE_INFINITY;
    return calendar.utcOf(day, h * HOUR_MS + Math.floor(uniform(rng, 0, hours.spanMs[h]!)));
  }
  const gapDays = (rng: Rng, meanDays: number): number =>
    1 + Math.min(MAX_GAP_DAYS - 1, Math.floor(exponential(rng, meanDays)));
  /** Expected days between visits for gapDays(mean): 1 + Σ_k≥1 e^(-k/mean). */
  const meanGapDays = (meanDays: number): number => {
    const q = Math.exp(-1 / meanDays);
    return 1 + q / (1 - q);
  };

  // ---- World state ----
  let now = startMs;
  const counts = new Int32Array(n);
  const kindOf: number[] = [];
  const residents: Person[] = [];
  const schedule = new Schedule();
  let active: Person[] = [];
  // Closed truth records, as parallel arrays (materialised by truth()).
  const ivPerson: number[] = [];
  const ivZone: number[] = [];
  const ivStart: number[] = [];
  const ivEnd: number[] = [];
  const macPerson: number[] = [];
  const macValue: string[] = [];
  const macFrom: number[] = [];
  const macTo: number[] = [];
  const visitPerson: number[] = [];
  const visitStart: number[] = [];
  const visitEnd: number[] = [];

  function createPerson(kind: number, recurring: boolean): Person {
    const idx = kindOf.length;
    kindOf.push(kind);
    const rng = createRng(deriveSeed(seed, STREAM_PERSON, idx));
    const randomized = kind !== STAFF && chance(rng, randomizedShare);
    const bleKind =
      kind === SHOPPER && chance(rng, bleShare) ? (chance(rng, 0.5) ? BLE_TAG : BLE_APP) : BLE_NONE;
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
      silentProne: chance(rng, silentShare),
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
      routes,
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
    if (recurring) residents[idx] = p;
    return p;
  }

  function placeIn(p: Person, z: number): void {
    const rng = p.rng;
    const x0 = zx0[z]!;
    const y0 = zy0[z]!;
    if (isOutside[z] === 1 && p.kind !== PASSER) {
      // Walking up to (or away from) the door: within a few metres of it.
      p.x = Math.min(Math.max(doorX[z]! + uniform(rng, -6, 6), x0 + 0.5), x0 + zw[z]! - 0.5);
      p.y = Math.min(Math.max(doorY[z]! + uniform(rng, -6, 6), y0 + 0.5), y0 + zh[z]! - 0.5);
      return;
    }
    // Keep a metre off the walls where the zone is big enough, so positions read as "inside".
    const mx = zw[z]! > 4 ? 1 : 0;
    const my = zh[z]! > 4 ? 1 : 0;
    if (isRect[z] === 1) {
      p.x = uniform(rng, x0 + mx, x0 + zw[z]! - mx);
      p.y = uniform(rng, y0 + my, y0 + zh[z]! - my);
      return;
    }
    const polygon = zones[z]!.polygon;
    for (let tries = 0; tries < 32; tries++) {
      const x = uniform(rng, x0, x0 + zw[z]!);
      const y = uniform(rng, y0, y0 + zh[z]!);
      if (pointInPolygon(x, y, polygon)) {
        p.x = x;
        p.y = y;
        return;
      }
    }
    p.x = x0 + zw[z]! / 2; // a sliver of a polygon: fall back to its box centre
    p.y = y0 + zh[z]! / 2;
  }

  /** Nominal time to walk from zone z to the exit, generously (slow walkers), ms. */
  function exitWalkMs(p: Person, z: number): number {
    return p.routes.dist[z * n + p.exitZone]! * 1000 * EXIT_WALK_FACTOR + EXIT_WALK_SLACK_MS;
  }

  /** Milliseconds spent in zone z before moving on, drawn on entering it. */
  function stayMs(p: Person, z: number, atMs: number): number {
    const rng = p.rng;
    if (isOutside[z] === 1) return uniform(rng, OUTSIDE_MIN_MS, OUTSIDE_MAX_MS);
    const kind = zones[z]!.kind;
    if (z === p.target && kind === 'store' && !p.leaving) {
      if (p.kind === STAFF) return p.shiftEndMs - atMs;
      let ms = Math.min(MAX_DWELL_MS, lognormal(rng, dwellMu[z]!, dwellSigma[z]!));
      ms = Math.min(ms, p.leaveByMs - atMs - exitWalkMs(p, z));
      if (p.member !== undefined && z === p.member.zone && ms > 0) {
        p.weighAtMs = atMs + Math.max(1, Math.round(ms * uniform(rng, 0.2, 0.7)));
      }
      return ms;
    }
    if (kind === 'escalator') return ESCALATOR_RIDE_MS * uniform(rng, 0.8, 1.2);
    if (kind === 'lift')
      return LIFT_RIDE_MS + Math.min(LIFT_MAX_WAIT_MS, exponential(rng, LIFT_MEAN_WAIT_MS));
    let ms = (crossM[z]! / p.speedMps) * 1000 * uniform(rng, 0.7, 1.3);
    if (
      p.kind === SHOPPER &&
      !p.leaving &&
      (kind === 'corridor' || kind === 'atrium') &&
      chance(rng, LINGER_CHANCE)
    ) {
      ms += Math.min(exponential(rng, LINGER_MEAN_MS), Math.max(0, p.leaveByMs - atMs - exitWalkMs(p, z)));
    }
    return ms;
  }

  function closeInterval(p: Person, atMs: number): void {
    ivPerson.push(p.idx);
    ivZone.push(p.zone);
    ivStart.push(p.intervalStartMs);
    ivEnd.push(atMs);
  }

  function closeMac(p: Person, atMs: number): void {
    macPerson.push(p.idx);
    macValue.push(p.mac);
    macFrom.push(p.macFromMs);
    macTo.push(atMs);
  }

  function enter(p: Person, z: number, atMs: number): void {
    closeInterval(p, atMs);
    counts[p.zone]!--;
    p.zone = z;
    p.intervalStartMs = atMs;
    counts[z]!++;
    placeIn(p, z);
    p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(p, z, atMs)));
  }

  /** Starts a visit in zone z at atMs: phone and tag state, truth, the active list. */
  function beginVisit(p: Person, z: number, atMs: number): void {
    const rng = p.rng;
    p.active = true;
    if (!p.listed) {
      p.listed = true;
      active.push(p);
    }
    p.visitStartMs = atMs;
    p.intervalStartMs = atMs;
    p.zone = z;
    counts[z]!++;
    p.moving = false;
    p.leaving = false;
    p.planIdx = 0;
    p.weighAtMs = Number.POSITIVE_INFINITY;
    placeIn(p, z);
    if (p.randomized) {
      // A randomized phone shows a new MAC per visit; its rotation cycle began before.
      p.mac = randomMac(rng);
      p.frameSeq = int(rng, 0, 4095);
      p.macRotateAtMs = atMs + 1 + Math.round(uniform(rng, 0, macRotationMs));
    } else {
      p.mac = p.phoneMac;
      p.macRotateAtMs = Number.POSITIVE_INFINITY;
    }
    p.macFromMs = atMs;
    p.framesLeft = 0;
    p.screenOn = chance(rng, SCREEN_ON_AT_START);
    p.screenToggleAtMs =
      atMs + Math.round(exponential(rng, p.screenOn ? SCREEN_ON_MEAN_MS : SCREEN_OFF_MEAN_MS));
    p.nextProbeMs = atMs + Math.round(uniform(rng, 0, p.probeIntervalMs));
    p.silentUntilMs = Number.NEGATIVE_INFINITY;
    p.nextSilenceMs = p.silentProne
      ? atMs + Math.round(exponential(rng, SILENCE_GAP_MEAN_MS))
      : Number.POSITIVE_INFINITY;
    if (p.bleKind !== BLE_NONE) {
      p.nextBleMs = atMs + Math.round(uniform(rng, 0, p.bleIntervalMs));
      if (p.bleKind === BLE_APP) {
        p.bleMac = bleRotatingMac(rng);
        p.bleRotateAtMs = atMs + Math.round(uniform(rng, 0, macRotationMs));
      }
    }
  }

  function endVisit(p: Person, atMs: number): void {
    closeInterval(p, atMs);
    closeMac(p, atMs);
    visitPerson.push(p.idx);
    visitStart.push(p.visitStartMs);
    visitEnd.push(atMs);
    counts[p.zone]!--;
    p.active = false;
    p.nextProbeMs = Number.POSITIVE_INFINITY;
    p.nextBleMs = Number.POSITIVE_INFINITY;
    p.weighAtMs = Number.POSITIVE_INFINITY;
    p.macRotateAtMs = Number.POSITIVE_INFINITY;
    if (p.recurring) scheduleNextVisit(p, atMs);
  }

  function scheduleNextVisit(p: Person, endMs: number): void {
    const startDay = calendar.dayIndex(p.visitStartMs);
    if (p.kind === STAFF) {
      const day = startDay + 1;
      const t = calendar.utcOf(
        day,
        OPEN_MS_OF_DAY - Math.round(uniform(p.rng, STAFF_EARLY_MIN_MS, STAFF_EARLY_MAX_MS)),
      );
      schedule.push(Math.max(t, endMs + 1), p.idx);
      return;
    }
    const meanDays = p.member !== undefined ? MEMBER_GAP_MEAN_DAYS : REGULAR_GAP_MEAN_DAYS;
    let day = startDay + gapDays(p.rng, meanDays);
    let t = sampleArrivalMs(p.rng, day);
    while (t <= endMs) t = sampleArrivalMs(p.rng, ++day); // a visit running past midnight (alwaysOpen)
    if (t < Number.POSITIVE_INFINITY) schedule.push(t, p.idx);
  }

  /** Chooses the shops of a shopper's visit from zone `from` and orders them nearest-first. */
  function planShops(p: Person, from: number, atMs: number, first: number): Int32Array {
    const rng = p.rng;
    const dist = p.routes.dist;
    const msOfDay = calendar.msOfDay(atMs);
    const wanted = 1 + Math.min(MAX_SHOPS_PER_VISIT - 1, Math.floor(exponential(rng, EXTRA_SHOPS_MEAN)));
    const weights = shopAppeal.map((w, k) =>
      dist[from * n + shopIdx[k]!]! < Number.POSITIVE_INFINITY
        ? w * categoryFactor(shopCategory[k], msOfDay, alwaysOpen)
        : 0,
    );
    const chosen: number[] = [];
    const forced = first >= 0 ? first : (p.member?.zone ?? -1);
    if (forced >= 0) {
      chosen.push(forced);
      const k = shopIdx.indexOf(forced);
      if (k >= 0) weights[k] = 0;
    }
    while (chosen.length < wanted) {
      const k = pickWeighted(rng, weights);
      if (k < 0) break;
      weights[k] = 0;
      chosen.push(shopIdx[k]!);
    }
    // Greedy nearest-first, so the walk looks like a route rather than a random tour; a shop the
    // shopper starts in (`first`) comes first.
    const plan = new Int32Array(chosen.length);
    let at = from;
    for (let q = 0; q < plan.length; q++) {
      let best = 0;
      for (let c = 1; c < chosen.length; c++) {
        if (dist[at * n + chosen[c]!]! < dist[at * n + chosen[best]!]!) best = c;
      }
      plan[q] = chosen[best]!;
      at = chosen[best]!;
      chosen.splice(best, 1);
    }
    return plan;
  }

  /** The exit of a visit that came in by `entrance`: the outside zone of the exit entrance, or the entrance. */
  function chooseExit(p: Person, entrance: number): number {
    const other = chance(p.rng, SAME_EXIT_CHANCE)
      ? entrance
      : entranceIdx[pickWeighted(p.rng, entranceWeight)]!;
    // Entrances in separate parts of a layout (each validly reachable from its own door): come back out the same way.
    const exit = p.routes.dist[entrance * n + other]! < Number.POSITIVE_INFINITY ? other : entrance;
    return outsideOf[exit]! >= 0 ? outsideOf[exit]! : exit;
  }

  function leaveByFor(atMs: number): number {
    if (alwaysOpen) return Number.POSITIVE_INFINITY;
    return calendar.utcOf(calendar.dayIndex(atMs), CLOSE_MS_OF_DAY) - LEAVE_BEFORE_CLOSE_MS;
  }

  /** A shopper walks up to an entrance (through its outside zone, if any) at atMs. */
  function startShopperVisit(p: Person, atMs: number): void {
    const rng = p.rng;
    const entrance = entranceIdx[pickWeighted(rng, entranceWeight)]!;
    p.routes = p.liftUser ? liftRoutes : routes;
    p.plan = planShops(p, entrance, atMs, -1);
    p.exitZone = chooseExit(p, entrance);
    p.leaveByMs = leaveByFor(atMs);
    const startZone = outsideOf[entrance]! >= 0 ? outsideOf[entrance]! : entrance;
    beginVisit(p, startZone, atMs);
    p.target = p.plan.length > 0 ? p.plan[0]! : p.exitZone;
    p.leaving = p.plan.length === 0;
    p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(p, startZone, atMs)));
  }

  /** A member of staff arrives for the shift of the local day of atMs. */
  function startStaffShift(p: Person, atMs: number): void {
    const rng = p.rng;
    const day = calendar.dayIndex(atMs);
    const entrance = entranceIdx[pickWeighted(rng, entranceWeight)]!;
    p.routes = routes;
    p.plan = Int32Array.of(p.homeZone);
    p.exitZone = outsideOf[entrance]! >= 0 ? outsideOf[entrance]! : entrance;
    p.leaveByMs = Number.POSITIVE_INFINITY;
    p.shiftEndMs = alwaysOpen
      ? Number.POSITIVE_INFINITY
      : calendar.utcOf(day, CLOSE_MS_OF_DAY + Math.round(uniform(rng, STAFF_LATE_MIN_MS, STAFF_LATE_MAX_MS)));
    beginVisit(p, p.exitZone, atMs);
    p.target = p.homeZone;
    p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(p, p.exitZone, atMs)));
  }

  /** Puts a member of staff straight into their shop at startMs (the sim starts mid-shift). */
  function startStaffInShop(p: Person, shiftEndMs: number): void {
    const entrance = entranceIdx[pickWeighted(p.rng, entranceWeight)]!;
    p.routes = routes;
    p.plan = Int32Array.of(p.homeZone);
    p.exitZone = outsideOf[entrance]! >= 0 ? outsideOf[entrance]! : entrance;
    p.leaveByMs = Number.POSITIVE_INFINITY;
    p.shiftEndMs = shiftEndMs;
    beginVisit(p, p.homeZone, startMs);
    p.target = p.homeZone;
    p.leaveZoneAtMs = startMs + Math.max(1, Math.round(stayMs(p, p.homeZone, startMs)));
  }

  /** A passer-by walks along an outside zone for 10-60 s, never coming in. */
  function startPasserBy(p: Person, atMs: number): void {
    const rng = p.rng;
    const z = outsideIdx[pickWeighted(rng, outsideWeight)]!;
    const durationMs = Math.round(uniform(rng, PASSER_MIN_MS, PASSER_MAX_MS));
    beginVisit(p, z, atMs);
    // Along the zone's long side, a metre off its edges; slow down if the strip is short.
    const alongX = zw[z]! >= zh[z]!;
    const lo = (alongX ? zx0[z]! : zy0[z]!) + 1;
    const length = Math.max(0, (alongX ? zw[z]! : zh[z]!) - 2);
    const walkM = Math.min(length, p.speedMps * (durationMs / 1000));
    const from = uniform(rng, lo, lo + length - walkM);
    const forward = chance(rng, 0.5);
    const v = (walkM / (durationMs / 1000)) * (forward ? 1 : -1);
    const across = alongX
      ? uniform(rng, zy0[z]! + Math.min(1, zh[z]! / 2), zy0[z]! + zh[z]! - Math.min(1, zh[z]! / 2))
      : uniform(rng, zx0[z]! + Math.min(1, zw[z]! / 2), zx0[z]! + zw[z]! - Math.min(1, zw[z]! / 2));
    const start = forward ? from : from + walkM;
    p.moving = true;
    p.movedAtMs = atMs;
    p.x = alongX ? start : across;
    p.y = alongX ? across : start;
    p.vx = alongX ? v : 0;
    p.vy = alongX ? 0 : v;
    p.plan = new Int32Array(0);
    p.target = z;
    p.exitZone = z;
    p.leaving = true;
    p.leaveZoneAtMs = atMs + durationMs;
  }

  /** The person's stay in its zone ended at atMs: pick what comes next. */
  function move(p: Person, atMs: number): void {
    if (p.zone === p.target) {
      if (p.leaving) {
        endVisit(p, atMs);
        return;
      }
      p.planIdx++;
      if (p.planIdx < p.plan.length && atMs + exitWalkMs(p, p.zone) < p.leaveByMs) {
        p.target = p.plan[p.planIdx]!;
      } else {
        p.leaving = true;
        p.target = p.exitZone;
      }
      if (p.zone === p.target) {
        // Already standing in the exit (an entrance without an outside zone): cross it, then go.
        p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(p, p.zone, atMs)));
        return;
      }
    } else if (!p.leaving && atMs + exitWalkMs(p, p.zone) >= p.leaveByMs) {
      // Closing time is near: head out from wherever the shopper is.
      p.leaving = true;
      p.target = p.exitZone;
      if (p.zone === p.target) {
        p.leaveZoneAtMs = atMs + Math.max(1, Math.round(stayMs(p, p.zone, atMs)));
        return;
      }
    }
    // Always >= 0: plans only hold shops reachable from the entrance, and the exit is reachable too.
    enter(p, p.routes.nextHop[p.zone * n + p.target]!, atMs);
  }

  /** Time to the next probe burst: short while the screen is on. */
  function probeGapMs(p: Person, rng: Rng): number {
    const gap = p.screenOn
      ? uniform(rng, SCREEN_ON_PROBE_MIN_MS, SCREEN_ON_PROBE_MAX_MS)
      : p.probeIntervalMs * uniform(rng, 0.9, 1.1);
    return Math.max(1, Math.round(gap));
  }

  /** One probe frame (the first of a burst decides screen state, silence and the burst's size). */
  function probe(p: Person, atMs: number, out: RawWifiSighting[]): void {
    const rng = p.rng;
    if (p.framesLeft === 0) {
      p.burstStartMs = atMs;
      while (atMs >= p.screenToggleAtMs) {
        p.screenOn = !p.screenOn;
        p.screenToggleAtMs += Math.max(
          1,
          Math.round(exponential(rng, p.screenOn ? SCREEN_ON_MEAN_MS : SCREEN_OFF_MEAN_MS)),
        );
      }
      if (atMs >= p.nextSilenceMs) {
        p.silentUntilMs = p.nextSilenceMs + Math.round(uniform(rng, SILENCE_MIN_MS, SILENCE_MAX_MS));
        p.nextSilenceMs = p.silentUntilMs + Math.round(exponential(rng, SILENCE_GAP_MEAN_MS));
      }
      if (atMs < p.silentUntilMs) {
        p.nextProbeMs = atMs + probeGapMs(p, rng);
        return;
      }
      p.framesLeft = int(rng, 1, 3);
    }
    p.frameSeq = (p.frameSeq + 1) & 0xfff;
    let px = p.x;
    let py = p.y;
    if (p.moving) {
      const dtS = (atMs - p.movedAtMs) / 1000;
      px += p.vx * dtS;
      py += p.vy * dtS;
    }
    const end = wifiStart[p.zone + 1]!;
    for (let i = wifiStart[p.zone]!; i < end; i++) {
      const dx = wifiX[i]! - px;
      const dy = wifiY[i]! - py;
      const d2 = dx * dx + dy * dy;
      if (d2 > maxRange2) continue;
      if (rng.next() < radio.lossRate) continue;
      const rssi = Math.round(
        wifiBase[i]! +
          p.txOffsetDb -
          (d2 > 1 ? halfSlope * Math.log10(d2) : 0) +
          normal(rng, 0, radio.noiseSigmaDb),
      );
      if (rssi < radio.minRssiDbm) continue;
      out.push({
        sensorId: wifiIds[i]!,
        heardAt: atMs,
        rssiDbm: rssi < MAX_RSSI_DBM ? rssi : MAX_RSSI_DBM,
        mac: p.mac,
        frameSeq: p.frameSeq,
      });
    }
    p.framesLeft--;
    p.nextProbeMs = p.framesLeft > 0 ? atMs + FRAME_GAP_MS : p.burstStartMs + probeGapMs(p, rng);
  }

  function advertise(p: Person, atMs: number, out: RawBleSighting[]): void {
    const rng = p.rng;
    if (atMs >= p.bleRotateAtMs) {
      p.bleMac = bleRotatingMac(rng);
      p.bleRotateAtMs = atMs + Math.round(macRotationMs * uniform(rng, 0.8, 1.2));
    }
    const end = bleStart[p.zone + 1]!;
    for (let i = bleStart[p.zone]!; i < end; i++) {
      const dx = bleX[i]! - p.x;
      const dy = bleY[i]! - p.y;
      const d2 = dx * dx + dy * dy;
      if (d2 > bleMaxRange2) continue;
      if (rng.next() < BLE_LOSS_RATE) continue;
      const rssi = Math.round(
        bleBase[i]! +
          p.bleOffsetDb -
          (d2 > 1 ? halfSlope * Math.log10(d2) : 0) +
          normal(rng, 0, BLE_NOISE_SIGMA_DB),
      );
      if (rssi < BLE_MIN_RSSI_DBM) continue;
      out.push({
        sensorId: bleIds[i]!,
        heardAt: atMs,
        rssiDbm: rssi < MAX_RSSI_DBM ? rssi : MAX_RSSI_DBM,
        mac: p.bleMac,
        beacon: p.beacon!,
      });
    }
    p.nextBleMs = atMs + Math.max(1, Math.round(p.bleIntervalMs * uniform(rng, 0.9, 1.1)));
  }

  /**
   * A member's weigh-in: weight follows the member's slow trend with day-to-day noise (±0.4 kg);
   * body fat moves with weight, and bioimpedance rises with body fat (~400 Ω lean, ~600 Ω at 40 %).
   */
  function weigh(p: Person, atMs: number, out: RawScaleReading[]): void {
    p.weighAtMs = Number.POSITIVE_INFINITY;
    const m = p.member!;
    const rng = p.rng;
    const days = (atMs - startMs) / DAY_MS;
    const noiseKg = Math.max(-0.4, Math.min(0.4, normal(rng, 0, 0.2)));
    const weightKg = m.baseKg + m.trendKgPerDay * days + noiseKg;
    const fatPct = m.bodyFatPct + (weightKg - m.baseKg) * 0.4;
    const impedance = 400 + ((fatPct - 10) * 200) / 30 + normal(rng, 0, 6);
    out.push({
      sensorId: m.sensorId,
      measuredAt: atMs,
      weightKg: Math.round(weightKg * 10) / 10,
      impedanceOhm: Math.round(Math.max(350, Math.min(650, impedance))),
      memberId: m.memberId,
    });
  }

  /** Runs one person's events with time < untilMs, in time order. */
  function advance(p: Person, untilMs: number, out: SimReadings): void {
    while (p.active) {
      // Ties: a MAC rotation first, then probe, advertisement, weigh-in, and the move last.
      let t = p.leaveZoneAtMs;
      let ev = EV_MOVE;
      if (p.weighAtMs <= t) {
        t = p.weighAtMs;
        ev = EV_WEIGH;
      }
      if (p.nextBleMs <= t) {
        t = p.nextBleMs;
        ev = EV_BLE;
      }
      if (p.nextProbeMs <= t) {
        t = p.nextProbeMs;
        ev = EV_PROBE;
      }
      if (p.macRotateAtMs <= t) {
        t = p.macRotateAtMs;
        ev = EV_ROTATE;
      }
      if (t >= untilMs) return;
      switch (ev) {
        case EV_ROTATE:
          closeMac(p, t);
          p.mac = randomMac(p.rng);
          p.macFromMs = t;
          p.frameSeq = int(p.rng, 0, 4095); // phones reset the sequence counter with the MAC
          p.macRotateAtMs = t + Math.round(macRotationMs * uniform(p.rng, 0.8, 1.2));
          break;
        case EV_PROBE:
          probe(p, t, out.wifi);
          break;
        case EV_BLE:
          advertise(p, t, out.ble);
          break;
        case EV_WEIGH:
          weigh(p, t, out.scale);
          break;
        default:
          move(p, t);
      }
    }
  }

  // ---- The cast: staff, regulars and members (recurring), then the shoppers already inside ----
  const castRng = createRng(deriveSeed(seed, STREAM_CAST));
  const staffCount = shopIdx.length > 0 ? (options.staff ?? defaultStaff(layout)) : 0;
  const startDay = calendar.dayIndex(startMs);
  for (let k = 0; k < staffCount; k++) {
    const p = createPerson(STAFF, true);
    p.homeZone = shopIdx[pickWeighted(castRng, shopCapacityWeight)]!;
    if (alwaysOpen) {
      startStaffInShop(p, Number.POSITIVE_INFINITY);
      continue;
    }
    const arriveMs = calendar.utcOf(
      startDay,
      OPEN_MS_OF_DAY - Math.round(uniform(p.rng, STAFF_EARLY_MIN_MS, STAFF_EARLY_MAX_MS)),
    );
    const leaveMs = calendar.utcOf(
      startDay,
      CLOSE_MS_OF_DAY + Math.round(uniform(p.rng, STAFF_LATE_MIN_MS, STAFF_LATE_MAX_MS)),
    );
    if (startMs < arriveMs) schedule.push(arriveMs, p.idx);
    else if (startMs < leaveMs) startStaffInShop(p, leaveMs);
    else {
      const next = calendar.utcOf(
        startDay + 1,
        OPEN_MS_OF_DAY - Math.round(uniform(p.rng, STAFF_EARLY_MIN_MS, STAFF_EARLY_MAX_MS)),
      );
      schedule.push(next, p.idx);
    }
  }

  /** The first visit of a recurring shopper: a random phase within their rhythm, not before startMs. */
  function scheduleFirstVisit(p: Person, meanDays: number): void {
    let day = startDay + Math.floor(uniform(p.rng, 0, meanGapDays(meanDays)));
    let t = sampleArrivalMs(p.rng, day);
    while (t < startMs) {
      day += gapDays(p.rng, meanDays);
      t = sampleArrivalMs(p.rng, day);
    }
    if (t < Number.POSITIVE_INFINITY) schedule.push(t, p.idx);
  }

  const dailyArrivals = arrivalsPerHour * meanDailyArrivalShare(alwaysOpen);
  const regularCount = Math.round(returningShare * dailyArrivals * meanGapDays(REGULAR_GAP_MEAN_DAYS));
  for (let k = 0; k < regularCount; k++)
    scheduleFirstVisit(createPerson(SHOPPER, true), REGULAR_GAP_MEAN_DAYS);

  const memberCount = scales.length > 0 ? (options.scaleMembers ?? DEFAULT_SCALE_MEMBERS) : 0;
  for (let k = 0; k < memberCount; k++) {
    const p = createPerson(SHOPPER, true);
    const scale = scales[k % scales.length]!;
    const baseKg = Math.max(45, Math.min(130, normal(p.rng, 72, 12)));
    p.member = {
      memberId: `m${String(k + 1).padStart(4, '0')}`,
      sensorId: scale.sensorId,
      zone: scale.zone,
      baseKg,
      trendKgPerDay: uniform(p.rng, -0.1, 0.05),
      bodyFatPct: Math.max(10, Math.min(40, normal(p.rng, 25, 6))),
    };
    scheduleFirstVisit(p, MEMBER_GAP_MEAN_DAYS);
  }

  for (let k = 0; k < (options.initialShoppers ?? 0) && shopIdx.length > 0; k++) {
    const p = createPerson(SHOPPER, false);
    const shop = shopIdx[pickWeighted(castRng, shopCapacityWeight)]!;
    const entrance = entranceIdx[pickWeighted(p.rng, entranceWeight)]!;
    p.routes = p.liftUser ? liftRoutes : routes;
    p.plan = planShops(p, shop, startMs, shop);
    p.exitZone = chooseExit(p, entrance);
    p.leaveByMs = leaveByFor(startMs);
    beginVisit(p, shop, startMs);
    p.target = shop;
    // Part-way through their stay in the shop.
    p.leaveZoneAtMs = startMs + Math.max(1, Math.round(stayMs(p, shop, startMs) * p.rng.next()));
  }

  // ---- New arrivals: one thinned Poisson stream of one-time shoppers and passers-by ----
  const arrivalRng = createRng(deriveSeed(seed, STREAM_ARRIVALS));
  const oneTimePerHour = (1 - returningShare) * arrivalsPerHour;
  const passersPerHour = outsideIdx.length > 0 ? (options.passersByPerHour ?? 2 * arrivalsPerHour) : 0;
  const maxPerHour = oneTimePerHour + passersPerHour; // both curves peak at 1
  const meanGapMs = maxPerHour > 0 ? HOUR_MS / maxPerHour : Number.POSITIVE_INFINITY;
  const nextCandidate = (fromMs: number): number =>
    maxPerHour > 0
      ? fromMs + Math.max(1, Math.round(exponential(arrivalRng, meanGapMs)))
      : Number.POSITIVE_INFINITY;
  let nextArrivalMs = nextCandidate(startMs);

  function arrive(atMs: number): void {
    const u = arrivalRng.next() * maxPerHour;
    const msOfDay = calendar.msOfDay(atMs);
    const shoppers =
      oneTimePerHour * arrivalShare(calendar.weekday(calendar.dayIndex(atMs)), msOfDay, alwaysOpen);
    if (u < shoppers) startShopperVisit(createPerson(SHOPPER, false), atMs);
    else if (u < shoppers + passersPerHour * streetShare(msOfDay, alwaysOpen)) {
      startPasserBy(createPerson(PASSER, false), atMs);
    }
  }

  function stepAll(untilMs: number): SimReadings {
    const out: SimReadings = { wifi: [], ble: [], scale: [] };
    if (!(untilMs > now)) return out;
    const already = active.length;
    for (let i = 0; i < already; i++) advance(active[i]!, untilMs, out);
    // Arrivals and scheduled visits in time order (a visit ending above may have scheduled one).
    for (;;) {
      const tSchedule = schedule.peekMs();
      const t = Math.min(tSchedule, nextArrivalMs);
      if (!(t < untilMs)) break;
      let p: Person;
      if (tSchedule <= nextArrivalMs) {
        p = residents[schedule.pop()]!;
        if (p.kind === STAFF) startStaffShift(p, t);
        else startShopperVisit(p, t);
      } else {
        const before = kindOf.length;
        arrive(t);
        nextArrivalMs = nextCandidate(t);
        if (kindOf.length === before) continue; // thinned away
        p = active[active.length - 1]!;
      }
      advance(p, untilMs, out);
    }
    if (active.some((p) => !p.active)) {
      active = active.filter((p) => {
        if (!p.active) p.listed = false;
        return p.active;
      });
    }
    now = untilMs;
    out.wifi.sort(byHeardAt);
    out.ble.sort(bleByHeardAt);
    out.scale.sort(scaleByMeasuredAt);
    return out;
  }

  function truth(): GroundTruth {
    const intervals: TruthInterval[] = [];
    const intervalIdx: number[] = [];
    for (let i = 0; i < ivPerson.length; i++) {
      intervals.push({
        person: personId(ivPerson[i]!),
        zoneId: zones[ivZone[i]!]!.id,
        startMs: ivStart[i]!,
        endMs: ivEnd[i]!,
      });
      intervalIdx.push(ivPerson[i]!);
    }
    const macs: TruthMac[] = [];
    const macIdx: number[] = [];
    for (let i = 0; i < macPerson.length; i++) {
      macs.push({ person: personId(macPerson[i]!), mac: macValue[i]!, fromMs: macFrom[i]!, toMs: macTo[i]! });
      macIdx.push(macPerson[i]!);
    }
    const visits: TruthVisit[] = [];
    const visitIdx: number[] = [];
    const pushVisit = (idx: number, fromMs: number, toMs: number): void => {
      visits.push({
        person: personId(idx),
        kind: KIND_NAMES[kindOf[idx]!]!,
        startMs: fromMs,
        endMs: toMs,
        day: calendar.dayString(calendar.dayIndex(fromMs)),
      });
      visitIdx.push(idx);
    };
    for (let i = 0; i < visitPerson.length; i++) pushVisit(visitPerson[i]!, visitStart[i]!, visitEnd[i]!);
    for (const p of active) {
      if (!p.active) continue;
      intervals.push({
        person: personId(p.idx),
        zoneId: zones[p.zone]!.id,
        startMs: p.intervalStartMs,
        endMs: now,
        open: true,
      });
      intervalIdx.push(p.idx);
      macs.push({ person: personId(p.idx), mac: p.mac, fromMs: p.macFromMs, toMs: now });
      macIdx.push(p.idx);
      pushVisit(p.idx, p.visitStartMs, now);
    }
    // Recording order depends on how time was sliced into steps; the sorted order does not.
    const sortBy = <T>(
      items: T[],
      idx: number[],
      startOf: (item: T) => number,
      tie: (a: T, b: T) => number,
    ) => {
      const order = items.map((_, i) => i);
      order.sort(
        (a, b) => startOf(items[a]!) - startOf(items[b]!) || idx[a]! - idx[b]! || tie(items[a]!, items[b]!),
      );
      return order.map((i) => items[i]!);
    };
    return {
      startMs,
      endMs: now,
      intervals: sortBy(
        intervals,
        intervalIdx,
        (iv) => iv.startMs,
        (a, b) => a.endMs - b.endMs || (a.zoneId < b.zoneId ? -1 : a.zoneId > b.zoneId ? 1 : 0),
      ),
      macs: sortBy(
        macs,
        macIdx,
        (m) => m.fromMs,
        (a, b) => a.toMs - b.toMs,
      ),
      visits: sortBy(
        visits,
        visitIdx,
        (v) => v.startMs,
        (a, b) => a.endMs - b.endMs,
      ),
    };
  }

  function presentByKind(): Record<PersonKind, number> {
    const present: Record<PersonKind, number> = { shopper: 0, 'passer-by': 0, staff: 0 };
    for (const p of active) if (p.active) present[KIND_NAMES[p.kind]!]++;
    return present;
  }

  return {
    layout,
    stepAll,
    step: (untilMs) => stepAll(untilMs).wifi,
    nowMs: () => now,
    shoppersInside: () => {
      let inside = 0;
      for (const p of active) if (p.active && p.kind === SHOPPER && isOutside[p.zone] !== 1) inside++;
      return inside;
    },
    presentByKind,
    truthOccupancy: () => new Map(zones.map((z, i) => [z.id, counts[i]!])),
    truth,
  };
}
