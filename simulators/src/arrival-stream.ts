// New arrivals: one thinned Poisson stream of one-time shoppers and passers-by. Candidates come
// at the peak rate of both together; each is kept as a shopper or a passer-by with the share of
// that rate the hour-of-day curves (mall-hours.ts) give at its time, or thinned away.

import { arrivalShare, streetShare } from './mall-hours.ts';
import type { Rng } from './rng.ts';
import { createRng, deriveSeed, exponential } from './rng.ts';
import type { SimContext } from './sim-context.ts';
import type { MallSimOptions } from './sim-options.ts';
import { createPerson, PASSER, SHOPPER } from './sim-person.ts';
import { STREAM_ARRIVALS } from './sim-streams.ts';
import { startPasserBy, startShopperVisit } from './visit-start.ts';

const HOUR_MS = 3_600_000;

export interface ArrivalStream {
  readonly rng: Rng;
  readonly oneTimePerHour: number;
  readonly passersPerHour: number;
  readonly maxPerHour: number;
  readonly meanGapMs: number;
  /** Time of the next candidate arrival, epoch ms (Infinity: none ever). */
  nextMs: number;
}

export function createArrivalStream(ctx: SimContext, options: MallSimOptions): ArrivalStream {
  const { seed, startMs, arrivalsPerHour, returningShare } = ctx;
  const arrivalRng = createRng(deriveSeed(seed, STREAM_ARRIVALS));
  const oneTimePerHour = (1 - returningShare) * arrivalsPerHour;
  const passersPerHour =
    ctx.zoneTables.outsideIdx.length > 0 ? (options.passersByPerHour ?? 2 * arrivalsPerHour) : 0;
  const maxPerHour = oneTimePerHour + passersPerHour; // both curves peak at 1
  const meanGapMs = maxPerHour > 0 ? HOUR_MS / maxPerHour : Number.POSITIVE_INFINITY;
  const stream: ArrivalStream = {
    rng: arrivalRng,
    oneTimePerHour,
    passersPerHour,
    maxPerHour,
    meanGapMs,
    nextMs: Number.POSITIVE_INFINITY,
  };
  stream.nextMs = nextCandidate(stream, startMs);
  return stream;
}

function nextCandidate(stream: ArrivalStream, fromMs: number): number {
  return stream.maxPerHour > 0
    ? fromMs + Math.max(1, Math.round(exponential(stream.rng, stream.meanGapMs)))
    : Number.POSITIVE_INFINITY;
}

/**
 * The candidate arriving at atMs (stream.nextMs): a new one-time shopper or passer-by starts a
 * visit, or nobody (thinned away). Then draws the next candidate.
 */
export function takeArrival(ctx: SimContext, stream: ArrivalStream, atMs: number): void {
  const { calendar, alwaysOpen } = ctx;
  const { oneTimePerHour, passersPerHour } = stream;
  const u = stream.rng.next() * stream.maxPerHour;
  const msOfDay = calendar.msOfDay(atMs);
  const shoppers =
    oneTimePerHour * arrivalShare(calendar.weekday(calendar.dayIndex(atMs)), msOfDay, alwaysOpen);
  if (u < shoppers) startShopperVisit(ctx, createPerson(ctx, SHOPPER, false), atMs);
  else if (u < shoppers + passersPerHour * streetShare(msOfDay, alwaysOpen)) {
    startPasserBy(ctx, createPerson(ctx, PASSER, false), atMs);
  }
  stream.nextMs = nextCandidate(stream, atMs);
}
