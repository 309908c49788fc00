// The imperative shell around a simulation: paces `sim.step` against a wall clock with
// setInterval and hands each batch of sightings to a sink. All modelling lives in the sim.
//
// Pacing: simulated time = simulated start + (wall now - wall start) * speed, read from the
// clock on every tick. So each tick advances by about tickMs * speed, and a tick that fires late
// (a busy event loop) catches up instead of letting simulated time drift behind.

import type { RawWifiSighting } from './mall-sim.ts';

export interface Clock {
  /** Milliseconds; only differences are used, so a monotonic clock is best. */
  now(): number;
}

/** What the runner needs from a simulation (MallSim satisfies it). */
export interface SteppableSim {
  step(untilMs: number): RawWifiSighting[];
  nowMs(): number;
}

export interface RunSimulationOptions {
  sim: SteppableSim;
  /** Simulated ms per wall ms; 1 = real time, 60 = an hour a minute. */
  speed: number;
  /** Wall ms between steps. Default 250. */
  tickMs?: number;
  /** Wall clock. Default `performance` (monotonic). */
  clock?: Clock;
  /** Called once per tick with that tick's sightings, sorted by heardAt; not called for an empty tick. */
  onSightings(batch: RawWifiSighting[]): void;
}

export interface LiveRun {
  /** Stops stepping; idempotent. */
  stop(): void;
  simulatedNowMs(): number;
}

export const DEFAULT_TICK_MS = 250;

export class InvalidRunOptionsError extends Error {
  readonly code = 'INVALID_RUN_OPTIONS';
}

/**
 * Starts stepping `sim` every `tickMs` of wall time. If `onSightings` throws, the run stops and
 * the error propagates out of the timer callback (an uncaught exception: the process decides).
 */
export function runSimulation(options: RunSimulationOptions): LiveRun {
  const { sim, speed, onSightings } = options;
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  const clock = options.clock ?? performance;
  if (!(Number.isFinite(speed) && speed > 0))
    throw new InvalidRunOptionsError('speed: must be a positive number');
  if (!(Number.isFinite(tickMs) && tickMs > 0))
    throw new InvalidRunOptionsError('tickMs: must be a positive number');

  const wallStartMs = clock.now();
  const simStartMs = sim.nowMs();
  let stopped = false;

  const onTick = (): void => {
    if (stopped) return;
    const targetMs = Math.floor(simStartMs + (clock.now() - wallStartMs) * speed);
    if (targetMs <= sim.nowMs()) return;
    let batch: RawWifiSighting[];
    try {
      batch = sim.step(targetMs);
      if (batch.length > 0) onSightings(batch);
    } catch (err) {
      stop();
      throw err;
    }
  };
  const timer = setInterval(onTick, tickMs);

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
  }

  return { stop, simulatedNowMs: () => sim.nowMs() };
}
