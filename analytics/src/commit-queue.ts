// Group commit: messages are taken in as they arrive and committed together, one transaction for
// all that arrived while the previous one was committing, so the database sees few large writes
// instead of one small transaction per message, and reading, decoding and validating the next
// messages overlaps the commit of the last ones.
//
// An entry is pending (taken, not committed) → committing (in the transaction being written) →
// settled (committed: `onCommitted` applied it, then its MQTT message is acknowledged). Commits run
// one at a time, in arrival order, and entries settle in that order; a group is applied while the
// next one commits.
// Bounded: while `maxPendingEntries` entries or `maxPendingRows` rows are pending or committing,
// `take` does not resolve, so the source stops reading and backpressure reaches the broker and the
// gateways instead of memory growing here. A commit that fails for good goes to `onFatal`; the
// entries stay unacknowledged, so the broker keeps their messages.

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

export function createCommitQueue<E extends QueueEntry>(options: CommitQueueOptions<E>): CommitQueue<E> {
  let pending: E[] = [];
  let pendingRows = 0;
  let committingEntries = 0;
  let committingRows = 0;
  let running: Promise<void> | undefined;
  let failed = false;
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
    if (pending.length === 0 && committingEntries === 0 && drainWaiters.length > 0) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  function nextGroup(): E[] {
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
    return group;
  }

  async function run(): Promise<void> {
    let group = nextGroup();
    let committing = options.commit(group);
    while (!failed) {
      try {
        await committing;
      } catch (err) {
        failed = true; // nothing more is committed or acknowledged: the broker keeps it all
        options.onFatal(err);
        for (const w of drainWaiters.splice(0)) w();
        return;
      }
      const done = group;
      // The next group's transaction starts before this one is applied, so the database writes it
      // while the worker applies this one (the engine): the two overlap instead of taking turns.
      // Groups are still applied and acknowledged in commit order.
      const next = pending.length > 0 ? nextGroup() : undefined;
      if (next) committing = options.commit(next);
      options.onCommitted(done);
      for (const e of done) e.ack();
      committingEntries -= done.length;
      committingRows -= done.reduce((n, e) => n + e.rows, 0);
      wake();
      if (!next) return;
      group = next;
    }
  }

  function schedule(): void {
    if (running || failed) return;
    // Give messages already read from the socket a turn to join this commit.
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(run).finally(() => {
      running = undefined;
      if (pending.length > 0 && !failed) schedule();
      wake();
    });
  }

  return {
    take(entry) {
      // After a fatal error nothing is committed any more: stop the source reading.
      if (failed) return new Promise<void>(() => undefined);
      pending.push(entry);
      pendingRows += entry.rows;
      schedule();
      if (!full()) return Promise.resolve();
      return new Promise((resolve) => roomWaiters.push(resolve));
    },
    drain() {
      if (failed || (pending.length === 0 && committingEntries === 0)) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
    inHand: () => pending.length + committingEntries,
  };
}
