// Stepping the world: each person on a visit runs their own events (probe, advertisement,
// weigh-in, MAC rotation, moving on) in time order up to the step's end; then arrivals and
// scheduled visits start in time order, and each new visitor runs up to the step's end too.
// Persons never interact, so how time is sliced into steps does not change the output (see the
// header of mall-sim.ts).

import type { ArrivalStream } from './arrival-stream.ts';
import { takeArrival } from './arrival-stream.ts';
import { advertise, probe, rotateMac, weigh } from './device-events.ts';
import type { SimContext } from './sim-context.ts';
import type { Person } from './sim-person.ts';
import { STAFF } from './sim-person.ts';
import type { SimReadings } from './sim-readings.ts';
import { bleByHeardAt, byHeardAt, scaleByMeasuredAt } from './sim-readings.ts';
import { startShopperVisit, startStaffShift } from './visit-start.ts';
import { move } from './visit-walk.ts';

const EV_MOVE = 0;
const EV_PROBE = 1;
const EV_BLE = 2;
const EV_WEIGH = 3;
const EV_ROTATE = 4;

/** Runs one person's events with time < untilMs, in time order. */
function advance(ctx: SimContext, p: Person, untilMs: number, out: SimReadings): void {
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
        rotateMac(ctx, p, t);
        break;
      case EV_PROBE:
        probe(ctx, p, t, out.wifi);
        break;
      case EV_BLE:
        advertise(ctx, p, t, out.ble);
        break;
      case EV_WEIGH:
        weigh(ctx, p, t, out.scale);
        break;
      default:
        move(ctx, p, t);
    }
  }
}

/** Advances the world to untilMs: the readings of [ctx.now, untilMs), each kind sorted by time. */
export function stepAll(ctx: SimContext, arrivals: ArrivalStream, untilMs: number): SimReadings {
  const out: SimReadings = { wifi: [], ble: [], scale: [] };
  if (!(untilMs > ctx.now)) return out;
  const { schedule, residents, kindOf } = ctx;
  const already = ctx.active.length;
  for (let i = 0; i < already; i++) advance(ctx, ctx.active[i]!, untilMs, out);
  // Arrivals and scheduled visits in time order (a visit ending above may have scheduled one).
  for (;;) {
    const tSchedule = schedule.peekMs();
    const t = Math.min(tSchedule, arrivals.nextMs);
    if (!(t < untilMs)) break;
    let p: Person;
    if (tSchedule <= arrivals.nextMs) {
      p = residents[schedule.pop()]!;
      if (p.kind === STAFF) startStaffShift(ctx, p, t);
      else startShopperVisit(ctx, p, t);
    } else {
      const before = kindOf.length;
      takeArrival(ctx, arrivals, t);
      if (kindOf.length === before) continue; // thinned away
      p = ctx.active[ctx.active.length - 1]!;
    }
    advance(ctx, p, untilMs, out);
  }
  if (ctx.active.some((p) => !p.active)) {
    ctx.active = ctx.active.filter((p) => {
      if (!p.active) p.listed = false;
      return p.active;
    });
  }
  ctx.now = untilMs;
  out.wifi.sort(byHeardAt);
  out.ble.sort(bleByHeardAt);
  out.scale.sort(scaleByMeasuredAt);
  return out;
}
