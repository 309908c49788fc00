import { describe, expect, it } from 'vitest';
import { createCommitQueue, type QueueEntry } from '../../analytics/src/commit-queue.ts';

// The group commit's order and bounds, with a commit whose completion the test controls.

interface E extends QueueEntry {
  id: number;
}

function harness(
  opts: {
    maxPendingEntries?: number;
    maxPendingRows?: number;
    maxRowsPerCommit?: number;
    maxCommitsInFlight?: number;
  } = {},
) {
  const log: string[] = [];
  const commits: { ids: number[]; finish: (err?: unknown) => void }[] = [];
  const fatal: unknown[] = [];
  const queue = createCommitQueue<E>({
    maxPendingEntries: opts.maxPendingEntries ?? 100,
    maxPendingRows: opts.maxPendingRows ?? 1_000,
    maxRowsPerCommit: opts.maxRowsPerCommit ?? 1_000,
    ...(opts.maxCommitsInFlight === undefined ? {} : { maxCommitsInFlight: opts.maxCommitsInFlight }),
    commit: (entries) =>
      new Promise<void>((resolve, reject) => {
        const ids = entries.map((e) => e.id);
        log.push(`commit ${ids.join(',')}`);
        commits.push({ ids, finish: (err) => (err ? reject(err) : resolve()) });
      }),
    onCommitted: (entries) => log.push(`apply ${entries.map((e) => e.id).join(',')}`),
    onFatal: (err) => fatal.push(err),
  });
  const entry = (id: number, rows = 1): E => ({ id, rows, ack: () => log.push(`ack ${id}`) });
  const settle = () => new Promise((r) => setImmediate(r));
  return { queue, log, commits, fatal, entry, settle };
}

describe('commit queue', () => {
  it('groups what arrived while the previous commit ran, and applies then acknowledges in order', async () => {
    const h = harness();
    void h.queue.take(h.entry(1));
    await h.settle();
    expect(h.log).toEqual(['commit 1']);
    void h.queue.take(h.entry(2));
    void h.queue.take(h.entry(3));
    h.commits[0]?.finish();
    await h.settle();
    // The next group's commit starts before the first group is applied: the two overlap.
    expect(h.log).toEqual(['commit 1', 'commit 2,3', 'apply 1', 'ack 1']);
    h.commits[1]?.finish();
    await h.queue.drain();
    expect(h.log.slice(4)).toEqual(['apply 2,3', 'ack 2', 'ack 3']);
    expect(h.queue.inHand()).toBe(0);
  });

  it('starts one commit at a time', async () => {
    const h = harness({ maxRowsPerCommit: 1 });
    for (const id of [1, 2, 3]) void h.queue.take(h.entry(id));
    await h.settle();
    expect(h.commits.map((c) => c.ids)).toEqual([[1]]);
    h.commits[0]?.finish();
    await h.settle();
    expect(h.commits.map((c) => c.ids)).toEqual([[1], [2]]);
    h.commits[1]?.finish();
    await h.settle();
    h.commits[2]?.finish();
    await h.queue.drain();
    expect(h.log.filter((l) => l.startsWith('ack'))).toEqual(['ack 1', 'ack 2', 'ack 3']);
  });

  it('holds the source back while the bound is reached, counting the entries being committed', async () => {
    const h = harness({ maxPendingRows: 10 });
    let roomFor2 = false;
    void h.queue.take(h.entry(1, 6));
    await h.settle(); // entry 1 is committing
    void h.queue.take(h.entry(2, 6)).then(() => {
      roomFor2 = true;
    });
    await h.settle();
    expect(roomFor2).toBe(false);
    h.commits[0]?.finish(); // 1 settles while 2 commits: 6 rows in hand
    await h.settle();
    expect(roomFor2).toBe(true);
    expect(h.queue.inHand()).toBe(1);
    h.commits[1]?.finish();
    await h.queue.drain();
    expect(h.queue.inHand()).toBe(0);
  });

  it('after a failed commit acknowledges nothing more and stops taking', async () => {
    const h = harness();
    void h.queue.take(h.entry(1));
    await h.settle();
    void h.queue.take(h.entry(2));
    h.commits[0]?.finish();
    await h.settle();
    h.commits[1]?.finish(new Error('disk full'));
    await h.queue.drain();
    expect(h.fatal).toEqual([new Error('disk full')]);
    expect(h.log.filter((l) => l.startsWith('ack'))).toEqual(['ack 1']);
    let taken = false;
    void h.queue.take(h.entry(3)).then(() => {
      taken = true;
    });
    await h.settle();
    expect(taken).toBe(false);
    expect(h.commits).toHaveLength(2);
  });

  describe('two commits in flight', () => {
    // maxRowsPerCommit 100: a second transaction starts with 25 rows pending.
    const two = () => harness({ maxRowsPerCommit: 100, maxCommitsInFlight: 2 });
    /** Groups [1] and [2] committing at once (30 rows each). */
    const bothCommitting = async () => {
      const h = two();
      void h.queue.take(h.entry(1, 30));
      await h.settle();
      void h.queue.take(h.entry(2, 30));
      await h.settle();
      expect(h.commits.map((c) => c.ids)).toEqual([[1], [2]]);
      return h;
    };

    it('starts a second transaction while the first runs once enough is pending, not for one message', async () => {
      const h = two();
      void h.queue.take(h.entry(1, 10));
      await h.settle();
      void h.queue.take(h.entry(2, 10));
      await h.settle();
      expect(h.commits.map((c) => c.ids)).toEqual([[1]]); // 10 rows pending: not worth a transaction
      void h.queue.take(h.entry(3, 20));
      await h.settle();
      expect(h.commits.map((c) => c.ids)).toEqual([[1], [2, 3]]);
      void h.queue.take(h.entry(4, 30));
      await h.settle();
      expect(h.commits).toHaveLength(2); // both connections busy
      h.commits[0]?.finish();
      await h.settle();
      expect(h.commits.map((c) => c.ids)).toEqual([[1], [2, 3], [4]]);
    });

    it('settles groups in the order they were taken, whichever commits first', async () => {
      const h = await bothCommitting();
      h.commits[1]?.finish(); // the later group commits first: it waits
      await h.settle();
      expect(h.log).toEqual(['commit 1', 'commit 2']);
      h.commits[0]?.finish();
      await h.queue.drain();
      expect(h.log).toEqual(['commit 1', 'commit 2', 'apply 1', 'ack 1', 'apply 2', 'ack 2']);
      expect(h.queue.inHand()).toBe(0);
    });

    it('a later group failing for good still lets the one before it settle, then stops', async () => {
      const h = await bothCommitting();
      h.commits[1]?.finish(new Error('disk full'));
      void h.queue.take(h.entry(3, 30));
      await h.settle();
      expect(h.commits).toHaveLength(2); // nothing starts after a failure
      expect(h.fatal).toEqual([]); // not before the group ahead of it has settled
      h.commits[0]?.finish();
      await h.queue.drain();
      expect(h.log.filter((l) => !l.startsWith('commit'))).toEqual(['apply 1', 'ack 1']);
      expect(h.fatal).toEqual([new Error('disk full')]);
      expect(h.queue.inHand()).toBe(2);
    });
  });
});
