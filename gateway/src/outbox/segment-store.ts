import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { acquireLockFile } from '../../../infra/src/lock-file.ts';

// Where the outbox keeps its batches: on disk in append-only segment files, or in memory.
//
// On disk, `seg-<n>.log` holds one batch per line: `seq \t readings \t topic \t payload \n` (the
// payload is JSON, which never holds a raw tab or newline). `seg-<n>.ack` lists the seqs the
// broker acknowledged. A segment whose batches are all acknowledged is deleted; the outbox drops
// the oldest segment whole when the store is over its size bound. A crash can tear the last line
// of a segment: it is cut off on load and counted (that batch was never handed to the broker, as
// it is written before it is sent). Writes are not fsynced: a power loss can lose the last
// batches, a process crash cannot.

export interface StoredBatch {
  seq: number;
  readings: number;
  topic: string;
  segment: number;
  /** Bytes the batch takes in its segment. */
  bytes: number;
}

export interface LoadResult {
  /** Unacknowledged batches, oldest first. */
  batches: StoredBatch[];
  tornLines: number;
  corruptLines: number;
}

export interface OutboxStore {
  readonly durable: boolean;
  load(): LoadResult;
  /** Stores a batch; returns it with its segment. */
  append(seq: number, readings: number, topic: string, payload: string): StoredBatch;
  payloadOf(batch: StoredBatch): string;
  /** Records the broker's acknowledgement; a segment with nothing left unacknowledged is deleted. */
  ack(batch: StoredBatch): void;
  /** Deletes the oldest segment; returns its number, or undefined when there is none to drop. */
  dropOldestSegment(): number | undefined;
  totalBytes(): number;
  close(): void;
}

export class OutboxLockedError extends Error {
  readonly code = 'OUTBOX_LOCKED';
}

interface Segment {
  id: number;
  bytes: number;
  unacked: number;
  fd?: number;
  ackFd?: number;
  /** Memory store only. */
  payloads?: Map<number, string>;
}

const SEGMENT_FILE = /^seg-(\d+)\.log$/;

function sumBytes(segments: ReadonlyMap<number, Segment>): number {
  let total = 0;
  for (const s of segments.values()) total += s.bytes;
  return total;
}

/** Segment size: small enough that dropping one loses little, large enough to be few files. */
export function segmentBytesFor(maxBytes: number): number {
  return Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(maxBytes / 16)));
}

export function createDiskStore(dir: string, maxBytes: number): OutboxStore {
  mkdirSync(dir, { recursive: true });
  const release = acquireLockFile(
    join(dir, 'outbox.lock'),
    (pid) =>
      new OutboxLockedError(
        `the gateway outbox ${dir} is in use by process ${pid}; two gateways on one outbox would send each other's batches. Give each gateway its own QUEUE_DIR.`,
      ),
  );
  const segmentBytes = segmentBytesFor(maxBytes);
  const segments = new Map<number, Segment>();
  let active: Segment | undefined;
  let nextId = 1;
  const logPath = (id: number) => join(dir, `seg-${id}.log`);
  const ackPath = (id: number) => join(dir, `seg-${id}.ack`);

  function deleteSegment(segment: Segment): void {
    if (segment.fd !== undefined) closeSync(segment.fd);
    if (segment.ackFd !== undefined) closeSync(segment.ackFd);
    rmSync(logPath(segment.id), { force: true });
    rmSync(ackPath(segment.id), { force: true });
    segments.delete(segment.id);
    if (active === segment) active = undefined;
  }

  function openActive(): Segment {
    if (active && active.bytes < segmentBytes) return active;
    if (active?.unacked === 0) deleteSegment(active);
    const id = nextId++;
    const segment: Segment = {
      id,
      bytes: 0,
      unacked: 0,
      fd: openSync(logPath(id), 'a'),
      ackFd: openSync(ackPath(id), 'a'),
    };
    segments.set(id, segment);
    active = segment;
    return segment;
  }

  // Offsets of batches in the segments, so a payload can be read back when it is sent.
  const offsets = new Map<number, number>();

  return {
    durable: true,
    load() {
      const ids = readdirSync(dir)
        .map((name) => SEGMENT_FILE.exec(name)?.[1])
        .filter((id): id is string => id !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
      const batches: StoredBatch[] = [];
      let tornLines = 0;
      let corruptLines = 0;
      for (const id of ids) {
        nextId = Math.max(nextId, id + 1);
        const text = readFileSync(logPath(id), 'utf8');
        const acked = new Set(
          existsSync(ackPath(id))
            ? readFileSync(ackPath(id), 'utf8').split('\n').filter(Boolean).map(Number)
            : [],
        );
        const segment: Segment = { id, bytes: Buffer.byteLength(text), unacked: 0 };
        let offset = 0;
        const lastNewline = text.lastIndexOf('\n');
        if (lastNewline < text.length - 1) {
          tornLines++;
          const keep = Buffer.byteLength(text.slice(0, lastNewline + 1));
          const fd = openSync(logPath(id), 'r+');
          ftruncateSync(fd, keep);
          closeSync(fd);
          segment.bytes = keep;
        }
        for (const line of text.slice(0, lastNewline + 1).split('\n')) {
          if (line === '') continue;
          const bytes = Buffer.byteLength(line) + 1;
          const [seqText, readingsText, topic, payload] = line.split('\t', 4);
          const seq = Number(seqText);
          const readings = Number(readingsText);
          if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(readings) || !topic || !payload) {
            corruptLines++;
          } else if (!acked.has(seq)) {
            offsets.set(seq, offset);
            batches.push({ seq, readings, topic, segment: id, bytes });
            segment.unacked++;
          }
          offset += bytes;
        }
        segments.set(id, segment);
        if (segment.unacked === 0) deleteSegment(segment);
        else segment.ackFd = openSync(ackPath(id), 'a');
      }
      return { batches, tornLines, corruptLines };
    },
    append(seq, readings, topic, payload) {
      const segment = openActive();
      const line = `${seq}\t${readings}\t${topic}\t${payload}\n`;
      const bytes = Buffer.byteLength(line);
      writeSync(segment.fd as number, line);
      offsets.set(seq, segment.bytes);
      segment.bytes += bytes;
      segment.unacked++;
      return { seq, readings, topic, segment: segment.id, bytes };
    },
    payloadOf(batch) {
      const offset = offsets.get(batch.seq);
      if (offset === undefined) throw new Error(`outbox has no batch ${batch.seq}`);
      const fd = openSync(logPath(batch.segment), 'r');
      try {
        const buf = Buffer.alloc(batch.bytes);
        readSync(fd, buf, 0, batch.bytes, offset);
        const line = buf.toString('utf8', 0, batch.bytes - 1);
        let cut = 0;
        for (let i = 0; i < 3; i++) cut = line.indexOf('\t', cut) + 1;
        return line.slice(cut);
      } finally {
        closeSync(fd);
      }
    },
    ack(batch) {
      offsets.delete(batch.seq);
      const segment = segments.get(batch.segment);
      if (!segment) return; // dropped while the batch was in flight
      segment.unacked--;
      if (segment.unacked === 0 && segment !== active) deleteSegment(segment);
      else if (segment.ackFd !== undefined) writeSync(segment.ackFd, `${batch.seq}\n`);
    },
    dropOldestSegment() {
      const oldest = Math.min(...segments.keys());
      const segment = segments.get(oldest);
      if (!segment) return undefined;
      deleteSegment(segment);
      return oldest;
    },
    totalBytes: () => sumBytes(segments),
    close() {
      for (const s of segments.values()) {
        if (s.fd !== undefined) closeSync(s.fd);
        if (s.ackFd !== undefined) closeSync(s.ackFd);
        s.fd = undefined;
        s.ackFd = undefined;
      }
      release();
    },
  };
}

/** The same queue without a disk: bounded the same way, lost when the process ends. */
export function createMemoryStore(maxBytes: number): OutboxStore {
  const segmentBytes = segmentBytesFor(maxBytes);
  const segments = new Map<number, Segment>();
  let active: Segment | undefined;
  let nextId = 1;
  return {
    durable: false,
    load: () => ({ batches: [], tornLines: 0, corruptLines: 0 }),
    append(seq, readings, topic, payload) {
      if (!active || active.bytes >= segmentBytes) {
        if (active?.unacked === 0) segments.delete(active.id);
        active = { id: nextId++, bytes: 0, unacked: 0, payloads: new Map() };
        segments.set(active.id, active);
      }
      const bytes = payload.length + topic.length + 24;
      active.payloads?.set(seq, payload);
      active.bytes += bytes;
      active.unacked++;
      return { seq, readings, topic, segment: active.id, bytes };
    },
    payloadOf(batch) {
      const payload = segments.get(batch.segment)?.payloads?.get(batch.seq);
      if (payload === undefined) throw new Error(`outbox has no batch ${batch.seq}`);
      return payload;
    },
    ack(batch) {
      const segment = segments.get(batch.segment);
      if (!segment) return;
      segment.payloads?.delete(batch.seq);
      segment.unacked--;
      if (segment.unacked === 0 && segment !== active) segments.delete(segment.id);
    },
    dropOldestSegment() {
      const oldest = Math.min(...segments.keys());
      if (!segments.delete(oldest)) return undefined;
      if (active?.id === oldest) active = undefined;
      return oldest;
    },
    totalBytes: () => sumBytes(segments),
    close() {
      segments.clear();
    },
  };
}
