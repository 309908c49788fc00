// Free wall time: how long the worker had no message in hand. A quiet mall's event clock follows
// this rather than the wall clock. While the database is away the worker holds one message
// (unacknowledged: the rest queue at the broker and in the gateways), and while the backlog drains
// it is busy all the time, so a quiet mall's clock does not run ahead of readings that are still
// queued. If it did, they would arrive late and miss the minutes they belong to.
//
// States: free (since `freeSinceMs`) ⇄ busy (`inHand` > 0). `take` hands over the free time
// accumulated since the last `take`.

export interface FreeTime {
  /** A message was taken in. */
  begin(nowMs: number): void;
  /** A message was done with (stored, skipped or failed). */
  end(nowMs: number): void;
  /** Free wall ms since the previous call. */
  take(nowMs: number): number;
  readonly inHand: number;
}

export function createFreeTime(startMs: number): FreeTime {
  let inHand = 0;
  let freeSinceMs = startMs;
  let freeMs = 0;
  return {
    begin(nowMs) {
      if (inHand === 0) freeMs += Math.max(0, nowMs - freeSinceMs);
      inHand++;
    },
    end(nowMs) {
      inHand--;
      if (inHand === 0) freeSinceMs = nowMs;
    },
    take(nowMs) {
      if (inHand === 0) {
        freeMs += Math.max(0, nowMs - freeSinceMs);
        freeSinceMs = Math.max(freeSinceMs, nowMs);
      }
      const taken = freeMs;
      freeMs = 0;
      return taken;
    },
    get inHand() {
      return inHand;
    },
  };
}
