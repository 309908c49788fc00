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

// Where the model lives (each module takes the shared state, SimContext, from sim-context.ts):
//   sim-options.ts      the options, their defaults and their check
//   sim-readings.ts     the raw WiFi, BLE and scale readings, and their order
//   mall-zones.ts       zone tables and routes;   radio-model.ts  path loss, walls, sensor tables
//   visit-habits.ts     arrival times, days between visits, closing, dwell and appeal per category
//   sim-person.ts       person state and creation;   phone-macs.ts  the MACs phones and tags send
//   sim-cast.ts         staff, regulars, members and initial shoppers at startMs
//   arrival-stream.ts   new one-time shoppers and passers-by;   visit-schedule.ts  recurring visits
//   visit-start.ts      how each kind of visit begins;   visit-walk.ts  the walk, zone by zone
//   device-events.ts    probes, BLE advertisements, weigh-ins, MAC rotations
//   event-loop.ts       stepping the world;   truth-recorder.ts  the ground truth
//   sim-streams.ts      the random streams

import type { Layout, ZoneId } from '../../core/src/index.ts';
import { createArrivalStream } from './arrival-stream.ts';
import { stepAll } from './event-loop.ts';
import { createCast } from './sim-cast.ts';
import { createSimContext } from './sim-context.ts';
import { checkOptions, InvalidSimOptionsError, type MallSimOptions } from './sim-options.ts';
import { KIND_NAMES, SHOPPER } from './sim-person.ts';
import type { RawWifiSighting, SimReadings } from './sim-readings.ts';
import type { GroundTruth, PersonKind } from './truth-model.ts';
import { buildGroundTruth } from './truth-recorder.ts';

export type { PathLossOptions } from './radio-model.ts';
export { DEFAULT_PATH_LOSS } from './radio-model.ts';
export type { MallSimOptions } from './sim-options.ts';
export {
  DEFAULT_BLE_SHARE,
  DEFAULT_MAC_ROTATION_MS,
  DEFAULT_RANDOMIZED_MAC_SHARE,
  DEFAULT_RETURNING_SHARE,
  DEFAULT_SCALE_MEMBERS,
  DEFAULT_SILENT_PHONE_SHARE,
  defaultArrivalsPerHour,
  defaultStaff,
  InvalidSimOptionsError,
} from './sim-options.ts';
export type {
  EddystoneUidFrame,
  IBeaconFrame,
  RawBleSighting,
  RawScaleReading,
  RawWifiSighting,
  SimReadings,
} from './sim-readings.ts';

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

/**
 * Creates a mall simulation starting at `startMs`. Throws InvalidSimOptionsError (listing every
 * problem) on bad options.
 */
export function createMallSim(options: MallSimOptions): MallSim {
  const problems = checkOptions(options);
  if (problems.length > 0)
    throw new InvalidSimOptionsError(`invalid mall simulation options: ${problems.join('; ')}`);

  const ctx = createSimContext(options);
  const { layout, zoneTables } = ctx;
  const { zones, isOutside } = zoneTables;
  createCast(ctx, options);
  const arrivals = createArrivalStream(ctx, options);

  function presentByKind(): Record<PersonKind, number> {
    const present: Record<PersonKind, number> = { shopper: 0, 'passer-by': 0, staff: 0 };
    for (const p of ctx.active) if (p.active) present[KIND_NAMES[p.kind]!]++;
    return present;
  }

  return {
    layout,
    stepAll: (untilMs) => stepAll(ctx, arrivals, untilMs),
    step: (untilMs) => stepAll(ctx, arrivals, untilMs).wifi,
    nowMs: () => ctx.now,
    shoppersInside: () => {
      let inside = 0;
      for (const p of ctx.active) if (p.active && p.kind === SHOPPER && isOutside[p.zone] !== 1) inside++;
      return inside;
    },
    presentByKind,
    truthOccupancy: () => new Map(zones.map((z, i) => [z.id, ctx.counts[i]!])),
    truth: () => buildGroundTruth(ctx),
  };
}
