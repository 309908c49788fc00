// What a person's devices do while on a visit, apart from walking: the phone's probe bursts
// (faster with the screen on, none during a silence), its MAC rotations, BLE advertisements from
// a tag or the mall app, and a member's weigh-in on a smart scale.

import { DAY_MS } from './local-time.ts';
import { bleRotatingMac, randomMac } from './phone-macs.ts';
import { hearAdvertisement, hearProbeFrame } from './radio-model.ts';
import type { Rng } from './rng.ts';
import { exponential, int, normal, uniform } from './rng.ts';
import type { SimContext } from './sim-context.ts';
import type { Person } from './sim-person.ts';
import type { RawBleSighting, RawScaleReading, RawWifiSighting } from './sim-readings.ts';
import { closeMac } from './truth-recorder.ts';

const MINUTE_MS = 60_000;
/** Screen on: phones scan for networks every 12-25 s; screen off: at their own slower rhythm (below). */
const SCREEN_ON_PROBE_MIN_MS = 12_000;
const SCREEN_ON_PROBE_MAX_MS = 25_000;
/** Share of visits that start with the screen on, and mean on / off spells. */
export const SCREEN_ON_AT_START = 0.3;
export const SCREEN_ON_MEAN_MS = 2 * 60_000;
export const SCREEN_OFF_MEAN_MS = 6 * 60_000;
/** Gap between the frames of one probe burst (one per channel hop), ms. */
const FRAME_GAP_MS = 20;
/** A silent-prone phone is active this long on average between silences... */
export const SILENCE_GAP_MEAN_MS = 20 * MINUTE_MS;
/** ...and silent for 10-40 min each time (a phone in deep sleep or with WiFi scanning off). */
const SILENCE_MIN_MS = 10 * MINUTE_MS;
const SILENCE_MAX_MS = 40 * MINUTE_MS;

/** Time to the next probe burst: short while the screen is on. */
function probeGapMs(p: Person, rng: Rng): number {
  const gap = p.screenOn
    ? uniform(rng, SCREEN_ON_PROBE_MIN_MS, SCREEN_ON_PROBE_MAX_MS)
    : p.probeIntervalMs * uniform(rng, 0.9, 1.1);
  return Math.max(1, Math.round(gap));
}

/** One probe frame (the first of a burst decides screen state, silence and the burst's size). */
export function probe(ctx: SimContext, p: Person, atMs: number, out: RawWifiSighting[]): void {
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
  hearProbeFrame(ctx.sensorTables, ctx.radio, p, px, py, atMs, out);
  p.framesLeft--;
  p.nextProbeMs = p.framesLeft > 0 ? atMs + FRAME_GAP_MS : p.burstStartMs + probeGapMs(p, rng);
}

/** One BLE advertisement (rotating the app's address when due). */
export function advertise(ctx: SimContext, p: Person, atMs: number, out: RawBleSighting[]): void {
  const rng = p.rng;
  if (atMs >= p.bleRotateAtMs) {
    p.bleMac = bleRotatingMac(rng);
    p.bleRotateAtMs = atMs + Math.round(ctx.macRotationMs * uniform(rng, 0.8, 1.2));
  }
  hearAdvertisement(ctx.sensorTables, p, atMs, out);
  p.nextBleMs = atMs + Math.max(1, Math.round(p.bleIntervalMs * uniform(rng, 0.9, 1.1)));
}

/**
 * A member's weigh-in: weight follows the member's slow trend with day-to-day noise (±0.4 kg);
 * body fat moves with weight, and bioimpedance rises with body fat (~400 Ω lean, ~600 Ω at 40 %).
 */
export function weigh(ctx: SimContext, p: Person, atMs: number, out: RawScaleReading[]): void {
  p.weighAtMs = Number.POSITIVE_INFINITY;
  const m = p.member!;
  const rng = p.rng;
  const days = (atMs - ctx.startMs) / DAY_MS;
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

/** A randomized phone takes a new MAC at atMs. */
export function rotateMac(ctx: SimContext, p: Person, atMs: number): void {
  closeMac(ctx.truth, p, atMs);
  p.mac = randomMac(p.rng);
  p.macFromMs = atMs;
  p.frameSeq = int(p.rng, 0, 4095); // phones reset the sequence counter with the MAC
  p.macRotateAtMs = atMs + Math.round(ctx.macRotationMs * uniform(p.rng, 0.8, 1.2));
}
