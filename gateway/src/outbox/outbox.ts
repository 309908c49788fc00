import type { OutboxStore, StoredBatch } from './segment-store.ts';

// Store-and-forward: every batch is stored before it is sent, and stays stored until the broker
// acknowledges it, so a broker outage or a gateway restart loses nothing.
//
// A batch is queued → sent (handed to MQTT, at most `windowBatches` at a time, oldest first) →
// acknowledged (removed). While the broker is unreachable nothing is sent and batches pile up in
// the store; MQTT re-sends the in-flight ones itself after a reconnect. A failed send puts the
// batch back in the queue. Over `maxBytes`, the oldest segment is dropped whole and its batches
// are counted as dropped. Batches keep their original seq, so a batch the broker saw before a
// crash is recognised as a duplicate by analytics.

export interface OutboxOptions {
  store: OutboxStore;
  maxBytes: number;
  windowBatches: number;
  /** Hands one batch to MQTT; resolves on PUBACK. */
  send(topic: string, payload: string): Promise<void>;
  /** False while the broker is unreachable: nothing is handed to MQTT then. */
  canSend(): boolean;
  onSendError(err: unknown, seq: number): void;
  /** Called whenever batches were acknowledged or dropped (room for more). */
  onProgress?(): void;
}

export interface OutboxStats {
  queuedBatches: number;
  /** Readings stored and not yet acknowledged (queued or in flight). */
  unackedReadings: number;
  inFlightBatches: number;
  storeBytes: number;
  ackedBatches: number;
  ackedReadings: number;
  droppedBatches: number;
  droppedReadings: number;
  /** Batches found unacknowledged in the store at start, to be sent again. */
  replayedBatches: number;
  tornLines: number;
  corruptLines: number;
  sendErrors: number;
}

interface Entry {
  batch: StoredBatch;
  state: 'queued' | 'sent' | 'acked' | 'dropped';
}

export interface Outbox {
  /** Loads what a previous run left; returns the highest stored seq (0 when empty). */
  load(): number;
  enqueue(seq: number, readings: number, topic: string, payload: string): void;
  /** Sends what the window allows; call it when the broker becomes reachable. */
  pump(): void;
  /** Resolves when every batch up to `seq` is acknowledged or dropped. */
  whenSettled(seq: number): Promise<void>;
  /** Readings stored and not yet acknowledged. */
  pendingReadings(): number;
  readonly durable: boolean;
  stats(): OutboxStats;
  close(): void;
}

export function createOutbox(options: OutboxOptions): Outbox {
  const { store } = options;
  const queue: Entry[] = [];
  let head = 0; // entries before `head` are acknowledged or dropped
  let cursor = 0; // entries before `cursor` were handed to MQTT
  let inFlight = 0;
  let pending = 0;
  const stats = {
    ackedBatches: 0,
    ackedReadings: 0,
    droppedBatches: 0,
    droppedReadings: 0,
    replayedBatches: 0,
    tornLines: 0,
    corruptLines: 0,
    sendErrors: 0,
  };
  let settleWaiters: { seq: number; resolve: () => void }[] = [];

  function advanceHead(): void {
    while (head < queue.length) {
      const state = (queue[head] as Entry).state;
      if (state !== 'acked' && state !== 'dropped') break;
      head++;
    }
    if (cursor < head) cursor = head;
    options.onProgress?.();
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      cursor -= head;
      head = 0;
    }
    if (settleWaiters.length === 0) return;
    const oldest = queue[head]?.batch.seq ?? Number.POSITIVE_INFINITY;
    const ready = settleWaiters.filter((w) => w.seq < oldest);
    if (ready.length === 0) return;
    settleWaiters = settleWaiters.filter((w) => w.seq >= oldest);
    for (const w of ready) w.resolve();
  }

  function settle(entry: Entry, state: 'acked' | 'dropped'): void {
    if (entry.state === 'sent') inFlight--;
    pending -= entry.batch.readings;
    entry.state = state;
  }

  function dropOldest(): boolean {
    const dropped = store.dropOldestSegment();
    if (dropped === undefined) return false;
    for (let i = head; i < queue.length; i++) {
      const entry = queue[i] as Entry;
      if (entry.batch.segment !== dropped) break;
      if (entry.state === 'acked' || entry.state === 'dropped') continue;
      stats.droppedBatches++;
      stats.droppedReadings += entry.batch.readings;
      settle(entry, 'dropped');
    }
    advanceHead();
    return true;
  }

  function sendEntry(entry: Entry): void {
    entry.state = 'sent';
    inFlight++;
    const { batch } = entry;
    options.send(batch.topic, store.payloadOf(batch)).then(
      () => {
        if (entry.state !== 'sent') return; // dropped while in flight
        settle(entry, 'acked');
        stats.ackedBatches++;
        stats.ackedReadings += batch.readings;
        store.ack(batch);
        advanceHead();
        pump();
      },
      (err: unknown) => {
        if (entry.state !== 'sent') return;
        stats.sendErrors++;
        options.onSendError(err, batch.seq);
        entry.state = 'queued';
        inFlight--;
        const index = queue.indexOf(entry, head);
        if (index >= 0 && index < cursor) cursor = index;
      },
    );
  }

  function pump(): void {
    while (inFlight < options.windowBatches && cursor < queue.length && options.canSend()) {
      const entry = queue[cursor++] as Entry;
      if (entry.state === 'queued') sendEntry(entry);
    }
  }

  return {
    load() {
      const loaded = store.load();
      stats.tornLines += loaded.tornLines;
      stats.corruptLines += loaded.corruptLines;
      stats.replayedBatches += loaded.batches.length;
      let maxSeq = 0;
      for (const batch of loaded.batches) {
        queue.push({ batch, state: 'queued' });
        pending += batch.readings;
        maxSeq = Math.max(maxSeq, batch.seq);
      }
      return maxSeq;
    },
    enqueue(seq, readings, topic, payload) {
      const batch = store.append(seq, readings, topic, payload);
      queue.push({ batch, state: 'queued' });
      pending += readings;
      while (store.totalBytes() > options.maxBytes && dropOldest()) {
        // dropped the oldest segment; check the bound again
      }
      pump();
    },
    pump,
    whenSettled(seq) {
      const oldest = queue[head]?.batch.seq;
      if (oldest === undefined || oldest > seq) return Promise.resolve();
      return new Promise((resolve) => settleWaiters.push({ seq, resolve }));
    },
    pendingReadings: () => pending,
    durable: store.durable,
    stats() {
      let queuedBatches = 0;
      for (let i = head; i < queue.length; i++) if ((queue[i] as Entry).state === 'queued') queuedBatches++;
      return {
        ...stats,
        queuedBatches,
        unackedReadings: pending,
        inFlightBatches: inFlight,
        storeBytes: store.totalBytes(),
      };
    },
    close() {
      store.close();
    },
  };
}
