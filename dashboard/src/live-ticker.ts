import type { Logger } from 'pino';
import type { OccupancyFrame } from './occupancy-frame.ts';

// The live ticker, a small state machine:
//   idle    — waiting for the next interval tick.
//   running — reading the watched malls one after another, one query per mall, and publishing
//             each frame. A tick that fires now is skipped (and counted): ticks never overlap and
//             never queue up behind a slow database, which the embedded one-connection pool needs.
//   stopped — stop() cleared the interval; it resolves once a running tick has finished, so the
//             caller can end the pool right after.
// Nobody watching means no query at all: `watchedMalls()` comes from the Socket.IO rooms.

const SUMMARY_INTERVAL_MS = 60_000;

export interface LiveTickerOptions {
  tickMs: number;
  /** Malls with at least one viewer now. */
  watchedMalls(): string[];
  /** Reads a mall's live rows (one query) and builds its frame. */
  readFrame(mallId: string): Promise<OccupancyFrame>;
  publish(mallId: string, frame: OccupancyFrame): void;
  logger: Logger;
}

export interface LiveTicker {
  /** Runs one tick now unless one is running; resolves when it is done. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function createLiveTicker(options: LiveTickerOptions): LiveTicker {
  const { logger: log } = options;
  let running: Promise<void> | undefined;
  let stopped = false;
  const counts = { ticks: 0, skipped: 0, frames: 0, failures: 0 };
  let lastSummaryMs = Date.now();
  let failing = false;
  let lastFailureLogMs = 0;

  async function runTick(): Promise<void> {
    counts.ticks++;
    for (const mallId of options.watchedMalls()) {
      if (stopped) return;
      try {
        const frame = await options.readFrame(mallId);
        if (stopped) return;
        options.publish(mallId, frame);
        counts.frames++;
        if (failing) {
          failing = false;
          log.info({ mallId }, 'live occupancy reads recovered');
        }
      } catch (err) {
        // Boundary: a failed read skips this mall's frame; the next tick retries. Viewers see
        // the frame's asOf age. Logged on the first failure, then at most once per interval.
        counts.failures++;
        const nowMs = Date.now();
        if (!failing || nowMs - lastFailureLogMs >= SUMMARY_INTERVAL_MS) {
          log.warn({ err, mallId, failures: counts.failures }, 'live occupancy read failed');
          lastFailureLogMs = nowMs;
        }
        failing = true;
      }
    }
    const nowMs = Date.now();
    if (nowMs - lastSummaryMs >= SUMMARY_INTERVAL_MS) {
      if (counts.frames > 0 || counts.failures > 0) log.info({ ...counts }, 'live occupancy summary');
      counts.ticks = counts.skipped = counts.frames = counts.failures = 0;
      lastSummaryMs = nowMs;
    }
  }

  function tick(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      counts.skipped++;
      return running;
    }
    running = runTick().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer = setInterval(() => {
    // runTick catches per mall; nothing else in it throws.
    void tick();
  }, options.tickMs);

  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
