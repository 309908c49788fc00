import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutbox } from '../../gateway/src/outbox/outbox.ts';
import { createDiskStore, OutboxLockedError } from '../../gateway/src/outbox/segment-store.ts';

// The outbox's disk format on its own: what survives a crash, what a torn write leaves, and who
// may open it. Sending is driven by hand here (`canSend` and the send promises).

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mallflow-outbox-store-'));
  dirs.push(d);
  return d;
};

function outboxOn(
  dir: string,
  send: (topic: string, payload: string) => Promise<void>,
  online: () => boolean,
) {
  return createOutbox({
    store: createDiskStore(dir, 1024 * 1024),
    maxBytes: 1024 * 1024,
    windowBatches: 4,
    send,
    canSend: online,
    onSendError: () => undefined,
  });
}

describe('gateway outbox on disk', () => {
  it('keeps unacknowledged batches across a crash and forgets acknowledged ones', async () => {
    const dir = tempDir();
    const sent: string[] = [];
    let online = true;
    const a = outboxOn(
      dir,
      async (_t, p) => {
        sent.push(p);
      },
      () => online,
    );
    expect(a.load()).toBe(0);
    a.enqueue(1, 2, 'mallflow/v1/m/gw/g/wifi', '{"seq":1}');
    a.enqueue(2, 3, 'mallflow/v1/m/gw/g/wifi', '{"seq":2}');
    await a.whenSettled(2);
    online = false;
    a.enqueue(3, 4, 'mallflow/v1/m/gw/g/ble', '{"seq":3}');
    a.enqueue(4, 5, 'mallflow/v1/m/gw/g/wifi', '{"seq":4}');
    expect(a.stats()).toMatchObject({ ackedBatches: 2, queuedBatches: 2, unackedReadings: 9 });
    a.close(); // the process "crashes": nothing more is written

    const replayed: string[] = [];
    const b = outboxOn(
      dir,
      async (t, p) => {
        replayed.push(`${t} ${p}`);
      },
      () => true,
    );
    expect(b.load()).toBe(4);
    expect(b.stats()).toMatchObject({ replayedBatches: 2, unackedReadings: 9 });
    b.pump();
    await b.whenSettled(4);
    expect(replayed).toEqual(['mallflow/v1/m/gw/g/ble {"seq":3}', 'mallflow/v1/m/gw/g/wifi {"seq":4}']);
    expect(sent).toEqual(['{"seq":1}', '{"seq":2}']);
    b.close();
  });

  it('cuts a torn last line, skips a corrupt one, and sends the rest', async () => {
    const dir = tempDir();
    const a = outboxOn(
      dir,
      async () => undefined,
      () => false,
    );
    a.load();
    a.enqueue(10, 1, 't/a', '{"seq":10}');
    a.enqueue(11, 1, 't/a', '{"seq":11}');
    a.close();
    const log = readdirSync(dir).find((f) => f.endsWith('.log')) as string;
    appendFileSync(join(dir, log), 'garbage line\n12\t1\tt/a\t{"seq":1');
    const replayed: string[] = [];
    const b = outboxOn(
      dir,
      async (_t, p) => {
        replayed.push(p);
      },
      () => true,
    );
    expect(b.load()).toBe(11);
    expect(b.stats()).toMatchObject({ tornLines: 1, corruptLines: 1, replayedBatches: 2 });
    expect(readFileSync(join(dir, log), 'utf8').endsWith('garbage line\n')).toBe(true);
    b.pump();
    await b.whenSettled(11);
    expect(replayed).toEqual(['{"seq":10}', '{"seq":11}']);
    b.close();
  });

  it('refuses a second gateway on the same directory with a clear message', () => {
    const dir = tempDir();
    const store = createDiskStore(dir, 1024 * 1024);
    expect(() => createDiskStore(dir, 1024 * 1024)).toThrow(OutboxLockedError);
    expect(() => createDiskStore(dir, 1024 * 1024)).toThrow(/in use by process \d+.*own QUEUE_DIR/);
    store.close();
    createDiskStore(dir, 1024 * 1024).close();
  });

  it('a failed send goes back to the queue and is sent again in order', async () => {
    const dir = tempDir();
    let fail = true;
    const delivered: string[] = [];
    const o = outboxOn(
      dir,
      async (_t, p) => {
        if (fail && p === '{"seq":2}') {
          fail = false;
          throw new Error('connection closed');
        }
        delivered.push(p);
      },
      () => true,
    );
    o.load();
    for (const seq of [1, 2, 3]) o.enqueue(seq, 1, 't/a', `{"seq":${seq}}`);
    await new Promise((r) => setImmediate(r));
    expect(o.stats().sendErrors).toBe(1);
    o.pump();
    await o.whenSettled(3);
    expect(delivered.sort()).toEqual(['{"seq":1}', '{"seq":2}', '{"seq":3}']);
    expect(o.stats()).toMatchObject({ ackedBatches: 3, unackedReadings: 0 });
    o.close();
  });
});
