// Group commit: messages are taken in as they arrive and committed together, one transaction for
// many, so the database sees few large writes instead of one small transaction per message, and
// reading, decoding and validating the next messages overlaps the commit of the last ones.
//
// An entry is pending (taken, not committed) → committing (in a transaction being written) →
// settled (committed: `onCommitted` applied it, then its MQTT message is acknowledged). Up to
// `maxCommitsInFlight` transactions run at once, on their own connections: while one waits for
// the worker (a round trip it has not read yet, the engine busy), the database writes another.
// Whatever order they commit in, groups settle in the order they were taken; a group that
// committed early waits for those before it.
// Bounded: while `maxPendingEntries` entries or `maxPendingRows` rows are pending or committing,
// `take` does not resolve, so the source stops reading and backpressure reaches the broker and the
// gateways instead of memory growing here. A commit that fails for good goes to `onFatal` once the
// groups before it have settled; it and everything after it stay unacknowledged, so the broker
// keeps their messages.

export interface QueueEntry {
  /** Rows the entry writes (for the bound). */
  rows: number;
  /** Acknowledges the entry's MQTT message. */
  ack(): void;
}

export interface CommitQueueOptions<E extends QueueEntry> {
  maxPendingEntries: number;
  maxPendingRows: number;
  /** Most rows written by one transaction; a larger backlog is committed in several. */
  maxRowsPerCommit: number;
  /**
   * Transactions at once (default 1). Beyond the first, one starts only with a quarter of
   * `maxRowsPerCommit` pending or when an earlier one finishes: not for every message.
   */
  maxCommitsInFlight?: number;
  /** Writes the entries in one transaction (retrying what can be retried). */
  commit(entries: readonly E[]): Promise<void>;
  /** After the commit, in order: applies what the entries concluded. */
  onCommitted(entries: readonly E[]): void;
  onFatal(err: unknown): void;
}

export interface CommitQueue<E extends QueueEntry> {
  /** Queues an entry; resolves once the queue has room for the next one. */
  take(entry: E): Promise<void>;
  /** Resolves once everything taken so far is committed and acknowledged. */
  drain(): Promise<void>;
  /** Entries taken and not yet settled. */
  inHand(): number;
}

interface Flight<E> {
  group: E[];
  rows: number;
  /** Resolves true once committed, false if the commit failed for good (`error`). */
  done: Promise<boolean>;
  error?: unknown;
}

export function createCommitQueue<E extends QueueEntry>(options: CommitQueueOptions<E>): CommitQueue<E> {
  const maxInFlight = options.maxCommitsInFlight ?? 1;
  const overlapRows = options.maxRowsPerCommit / 4;
  let pending: E[] = [];
  let pendingRows = 0;
  let committingEntries = 0;
  let committingRows = 0;
  /** Transactions started and not yet settled, in the order their groups were taken. */
  const flights: Flight<E>[] = [];
  let settling: Promise<void> | undefined;
  let launchScheduled = false;
  /** A commit failed for good: nothing more starts, settles or is acknowledged after it. */
  let failed = false;
  let fatal = false;
  let roomWaiters: (() => void)[] = [];
  let drainWaiters: (() => void)[] = [];

  const full = () =>
    pending.length + committingEntries >= options.maxPendingEntries ||
    pendingRows + committingRows >= options.maxPendingRows;

  function wake(): void {
    if (!full() && roomWaiters.length > 0) {
      const waiters = roomWaiters;
      roomWaiters = [];
      for (const w of waiters) w();
    }
    if (fatal || (pending.length === 0 && committingEntries === 0)) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  function nextGroup(): Flight<E> {
    let rows = 0;
    let n = 0;
    while (n < pending.length && (n === 0 || rows + (pending[n] as E).rows <= options.maxRowsPerCommit)) {
      rows += (pending[n] as E).rows;
      n++;
    }
    const group = pending.slice(0, n);
    pending = pending.slice(n);
    pendingRows -= rows;
    committingEntries += group.length;
    committingRows += rows;
    const flight: Flight<E> = { group, rows, done: Promise.resolve(true) };
    flight.done = options.commit(group).then(
      () => true,
      (err: unknown) => {
        failed = true; // no new commit starts; those already running finish and settle in order
        flight.error = err;
        return false;
      },
    );
    return flight;
  }

  /** Starts commits while there is room; beyond the first only with enough pending (`overlapRows`). */
  function launch(force: boolean): void {
    while (!failed && pending.length > 0 && flights.length < maxInFlight) {
      if (!force && flights.length > 0 && pendingRows < overlapRows) return;
      flights.push(nextGroup());
      force = false;
    }
    if (flights.length > 0 && !settling) settling = settle();
  }

  async function settle(): Promise<void> {
    while (flights.length > 0) {
      const head = flights[0] as Flight<E>;
      const ok = await head.done;
      if (!ok) {
        fatal = true; // the broker keeps this group and every one after it
        options.onFatal(head.error);
        wake();
        settling = undefined;
        return;
      }
      flights.shift();
      // The next group's transaction starts before this one is applied, so the database writes it
      // while the worker applies this one (the engine): the two overlap instead of taking turns.
      launch(true);
      options.onCommitted(head.group);
      for (const e of head.group) e.ack();
      committingEntries -= head.group.length;
      committingRows -= head.rows;
      wake();
    }
    settling = undefined;
    if (pending.length > 0) schedule();
  }

  function schedule(): void {
    if (launchScheduled || failed) return;
    launchScheduled = true;
    // Give messages already read from the socket a turn to join this commit.
    setImmediate(() => {
      launchScheduled = false;
      launch(flights.length === 0);
    });
  }

  return {
    take(entry) {
      // After a fatal error nothing is committed any more: stop the source reading.
      if (failed) return new Promise<void>(() => undefined);
      pending.push(entry);
      pendingRows += entry.rows;
      if (flights.length < maxInFlight) schedule();
      if (!full()) return Promise.resolve();
      return new Promise((resolve) => roomWaiters.push(resolve));
    },
    drain() {
      if (fatal || (pending.length === 0 && committingEntries === 0)) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
    inHand: () => pending.length + committingEntries,
  };
}
