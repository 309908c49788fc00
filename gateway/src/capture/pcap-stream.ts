import {
  createInterface,
  type PcapngInterface,
  setOffsetSeconds,
  setResolution,
  timestampMs,
} from './pcapng-interface.ts';

// An incremental reader for pcap and pcapng captures: bytes in by `feed(chunk)` in any sizes,
// packet records out through a callback, so a file and a live `tcpdump -w -` on standard input
// share one path and a record split across chunks is reassembled. Pure: no I/O, never throws on
// bad input (it counts, resynchronises or stops with a reason).
//
// Formats (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html and
// https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html):
// - pcap: 24-byte file header (magic a1b2c3d4 = µs, a1b23c4d = ns, in either byte order), then
//   16-byte record headers (ts seconds, ts fraction, captured length, original length) + data.
// - pcapng: blocks of (type, total length, body, total length again). A Section Header Block
//   (0x0A0D0D0A) sets the byte order by its byte-order magic and resets the interface list;
//   Interface Description Blocks give each interface its linktype, `if_tsresol`, `if_tsoffset`
//   and `if_name`; Enhanced (6) and obsolete (2) Packet Blocks carry packets; a Simple Packet
//   Block (3) has neither timestamp nor interface: it belongs to interface 0 and gets the last
//   timestamp seen in the section. Other blocks are skipped.
//
// States: magic → pcap-header → pcap-record ↺          (pcap)
//         magic → block ↺                              (pcapng)
//         pcap-record | block → resync → pcap-record | block   (a corrupt header: scan forward)
//         any → stopped (not a capture, unsupported version): the rest of the input is ignored.
//
// A record is never buffered beyond MAX_RECORD_BYTES: a larger length is corruption, so a bad
// length field cannot make the reader hold gigabytes waiting for a record that will not come.

/** Largest pcap record or pcapng block accepted (256 KiB = tcpdump's default snap length). */
export const MAX_RECORD_BYTES = 256 * 1024;

/** Packet records more than this far in time from the last good one are not taken as a resync point. */
const RESYNC_WINDOW_SEC = 86_400;

const PCAP_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;
const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_OPB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
/** Block types defined by the pcapng draft: what a resync accepts as the start of a block. */
const KNOWN_BLOCK_TYPES = new Set([BLOCK_SHB, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x0bad, 0x40000bad]);

/**
 * One packet record. The reader reuses this object for every record: read it inside the callback
 * and copy what you keep (`data` is only valid during the call).
 */
export interface CaptureRecord {
  data: Uint8Array;
  offset: number;
  capturedLength: number;
  originalLength: number;
  /** Capture time, epoch ms (floored); NaN when the record carries none (a Simple Packet Block first in its section). */
  timestampMs: number;
  linktype: number;
  interfaceId: number;
  /** The pcapng `if_name` of the interface, when given. */
  interfaceName: string | undefined;
}

export interface PcapStreamStats {
  bytesIn: number;
  /** Packet records handed to the callback. */
  records: number;
  sections: number;
  interfaces: number;
  /** pcapng Simple Packet Blocks (no timestamp, interface 0): included in `records`. */
  simplePackets: number;
  /** pcapng blocks of other types (statistics, name resolution, custom, ...), skipped. */
  skippedBlocks: number;
  /** Record headers or blocks with impossible lengths or fields: each starts a resync or is skipped. */
  corruptRecords: number;
  /** Bytes scanned past while looking for the next good record after a corrupt one. */
  resyncBytes: number;
  /** The input ended inside a record or block. */
  truncatedRecords: number;
  /** Packet blocks naming an interface their section did not describe: skipped. */
  unknownInterface: number;
  /** Bytes ignored after the reader stopped. */
  ignoredBytes: number;
}

export type PcapStopReason = 'not-a-capture' | 'unsupported-version';

export interface PcapStream {
  /** Takes the next bytes of the capture; calls `onRecord` for every record completed by them. */
  feed(chunk: Uint8Array): void;
  /** The input ended: counts a record cut short. Further `feed` calls are ignored. */
  end(): void;
  stats(): PcapStreamStats;
  /** `pcap` or `pcapng` once the magic is read. */
  format(): 'pcap' | 'pcapng' | undefined;
  /** Why the reader stopped reading, when it did. */
  stopReason(): PcapStopReason | undefined;
}

const State = {
  Magic: 0,
  PcapHeader: 1,
  PcapRecord: 2,
  PcapResync: 3,
  Block: 4,
  BlockResync: 5,
  Stopped: 6,
} as const;
type State = (typeof State)[keyof typeof State];

function readU16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

function readU32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function createPcapStream(onRecord: (record: CaptureRecord) => void): PcapStream {
  const stats: PcapStreamStats = {
    bytesIn: 0,
    records: 0,
    sections: 0,
    interfaces: 0,
    simplePackets: 0,
    skippedBlocks: 0,
    corruptRecords: 0,
    resyncBytes: 0,
    truncatedRecords: 0,
    unknownInterface: 0,
    ignoredBytes: 0,
  };
  const record: CaptureRecord = {
    data: new Uint8Array(0),
    offset: 0,
    capturedLength: 0,
    originalLength: 0,
    timestampMs: Number.NaN,
    linktype: 0,
    interfaceId: 0,
    interfaceName: undefined,
  };
  let state: State = State.Magic;
  let format: 'pcap' | 'pcapng' | undefined;
  let stopReason: PcapStopReason | undefined;
  let ended = false;
  // Bytes received and not yet consumed, and how many the parser needs before it can move on.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let need = 4;

  // pcap file state
  let le = true;
  let nanos = false;
  let pcapLinktype = 0;
  let lastTsSec = -1;
  // pcapng section state
  let interfaces: PcapngInterface[] = [];
  let lastSectionTsMs = Number.NaN;

  function stop(reason: PcapStopReason): void {
    state = State.Stopped;
    stopReason = reason;
  }

  function emit(data: Uint8Array, offset: number, capLen: number, origLen: number, ts: number, itf: number) {
    record.data = data;
    record.offset = offset;
    record.capturedLength = capLen;
    record.originalLength = origLen;
    record.timestampMs = ts;
    record.interfaceId = itf;
    stats.records++;
    onRecord(record);
  }

  /** A pcap record header that could be real: lengths within bounds, fraction below one second. */
  function plausiblePcapHeader(b: Uint8Array, o: number): boolean {
    const frac = readU32(b, o + 4, le);
    const capLen = readU32(b, o + 8, le);
    const origLen = readU32(b, o + 12, le);
    return capLen <= MAX_RECORD_BYTES && capLen <= origLen && frac < (nanos ? 1e9 : 1e6);
  }

  function nearLastTs(b: Uint8Array, o: number): boolean {
    if (lastTsSec < 0) return true;
    return Math.abs(readU32(b, o, le) - lastTsSec) <= RESYNC_WINDOW_SEC;
  }

  /** The byte order of the block at `o`: an SHB says it by its byte-order magic (undefined if bad). */
  function blockByteOrder(b: Uint8Array, o: number, sectionLe: boolean): boolean | undefined {
    if (readU32(b, o, true) !== BLOCK_SHB) return sectionLe;
    const bom = readU32(b, o + 8, true);
    if (bom === 0x1a2b3c4d) return true;
    if (bom === 0x4d3c2b1a) return false;
    return undefined;
  }

  /** The total length of the block at `o` when its header is acceptable, else -1 (needs 12 bytes). */
  function plausibleBlock(b: Uint8Array, o: number, blockLe: boolean | undefined): number {
    if (blockLe === undefined) return -1;
    const type = readU32(b, o, blockLe);
    if (!KNOWN_BLOCK_TYPES.has(type)) return -1;
    const len = readU32(b, o + 4, blockLe);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD_BYTES) return -1;
    if (type === BLOCK_SHB && len < 28) return -1;
    return len;
  }

  function parseIdb(b: Uint8Array, o: number, len: number): void {
    if (len < 20) {
      stats.corruptRecords++;
      return;
    }
    const itf = createInterface(readU16(b, o + 8, le), readU32(b, o + 12, le));
    let p = o + 16;
    const end = o + len - 4;
    while (p + 4 <= end) {
      const code = readU16(b, p, le);
      const optLen = readU16(b, p + 2, le);
      const v = p + 4;
      if (code === 0 || v + optLen > end) break;
      if (code === 2) itf.name = Buffer.from(b.buffer, b.byteOffset + v, optLen).toString('utf8');
      else if (code === 9 && optLen >= 1) setResolution(itf, b[v]!);
      else if (code === 14 && optLen >= 8) {
        // if_tsoffset: signed 64-bit seconds added to every timestamp of the interface.
        const hi = readU32(b, le ? v + 4 : v, le) | 0;
        const lo = readU32(b, le ? v : v + 4, le);
        setOffsetSeconds(itf, hi, lo);
      }
      p = v + ((optLen + 3) & ~3);
    }
    interfaces.push(itf);
    stats.interfaces++;
  }

  function parsePacketBlock(b: Uint8Array, o: number, len: number, type: number): void {
    if (type === BLOCK_SPB) {
      const itf = interfaces[0];
      if (!itf || len < 16) {
        if (!itf) stats.unknownInterface++;
        else stats.corruptRecords++;
        return;
      }
      const origLen = readU32(b, o + 8, le);
      let capLen = Math.min(origLen, len - 16);
      if (itf.snaplen > 0) capLen = Math.min(capLen, itf.snaplen);
      stats.simplePackets++;
      record.linktype = itf.linktype;
      record.interfaceName = itf.name;
      emit(b, o + 12, capLen, origLen, lastSectionTsMs, 0);
      return;
    }
    if (len < 32) {
      stats.corruptRecords++;
      return;
    }
    const id = type === BLOCK_EPB ? readU32(b, o + 8, le) : readU16(b, o + 8, le);
    const itf = interfaces[id];
    if (!itf) {
      stats.unknownInterface++;
      return;
    }
    const capLen = readU32(b, o + 20, le);
    const origLen = readU32(b, o + 24, le);
    if (28 + capLen > len - 4) {
      stats.corruptRecords++;
      return;
    }
    const ts = timestampMs(itf, readU32(b, o + 12, le), readU32(b, o + 16, le));
    lastSectionTsMs = ts;
    record.linktype = itf.linktype;
    record.interfaceName = itf.name;
    emit(b, o + 28, capLen, origLen, ts, id);
  }

  /** Parses what `b` holds from `pos`; returns the position of the first unconsumed byte and sets `need`. */
  function run(b: Uint8Array, pos: number): number {
    const n = b.length;
    for (;;) {
      const avail = n - pos;
      switch (state) {
        case State.Stopped:
          stats.ignoredBytes += avail;
          return n;
        case State.Magic: {
          if (avail < 4) {
            need = 4;
            return pos;
          }
          const m = readU32(b, pos, true);
          if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) {
            format = 'pcap';
            le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
            nanos = m === 0xa1b23c4d || m === 0x4d3cb2a1;
            state = State.PcapHeader;
          } else if (m === BLOCK_SHB) {
            format = 'pcapng';
            state = State.Block;
          } else {
            stop('not-a-capture');
          }
          continue;
        }
        case State.PcapHeader: {
          if (avail < PCAP_HEADER_BYTES) {
            need = PCAP_HEADER_BYTES;
            return pos;
          }
          if (readU16(b, pos + 4, le) !== 2) {
            stop('unsupported-version');
            continue;
          }
          // The low 26 bits are the linktype; the top bits may carry FCS-length information.
          pcapLinktype = readU32(b, pos + 20, le) & 0x03ffffff;
          record.linktype = pcapLinktype;
          record.interfaceName = undefined;
          stats.sections++;
          stats.interfaces++;
          pos += PCAP_HEADER_BYTES;
          state = State.PcapRecord;
          continue;
        }
        case State.PcapRecord: {
          if (avail < PCAP_RECORD_HEADER_BYTES) {
            need = PCAP_RECORD_HEADER_BYTES;
            return pos;
          }
          if (!plausiblePcapHeader(b, pos)) {
            stats.corruptRecords++;
            stats.resyncBytes++;
            pos++;
            state = State.PcapResync;
            continue;
          }
          const capLen = readU32(b, pos + 8, le);
          const total = PCAP_RECORD_HEADER_BYTES + capLen;
          if (avail < total) {
            need = total;
            return pos;
          }
          const sec = readU32(b, pos, le);
          const frac = readU32(b, pos + 4, le);
          lastTsSec = sec;
          record.linktype = pcapLinktype;
          emit(
            b,
            pos + 16,
            capLen,
            readU32(b, pos + 12, le),
            sec * 1000 + Math.floor(frac / (nanos ? 1e6 : 1e3)),
            0,
          );
          pos += total;
          continue;
        }
        case State.PcapResync: {
          // A candidate must look like a record header near the last good time, and so must the
          // header right after it (or the input must end exactly there).
          if (avail < PCAP_RECORD_HEADER_BYTES) {
            need = PCAP_RECORD_HEADER_BYTES;
            if (!ended) return pos;
            stats.resyncBytes += avail;
            return n;
          }
          if (plausiblePcapHeader(b, pos) && nearLastTs(b, pos)) {
            const next = pos + PCAP_RECORD_HEADER_BYTES + readU32(b, pos + 8, le);
            if (next + PCAP_RECORD_HEADER_BYTES <= n) {
              if (plausiblePcapHeader(b, next) && nearLastTs(b, next)) {
                state = State.PcapRecord;
                continue;
              }
            } else if (ended) {
              if (next === n) {
                state = State.PcapRecord;
                continue;
              }
            } else {
              need = next + PCAP_RECORD_HEADER_BYTES - pos;
              return pos;
            }
          }
          stats.resyncBytes++;
          pos++;
          continue;
        }
        case State.Block: {
          if (avail < 12) {
            need = 12;
            return pos;
          }
          const blockLe = blockByteOrder(b, pos, le);
          const len = plausibleBlock(b, pos, blockLe);
          if (len > 0 && avail < len) {
            need = len;
            return pos;
          }
          if (len < 0 || readU32(b, pos + len - 4, blockLe!) !== len) {
            if (stats.sections === 0) {
              stop('not-a-capture');
              continue;
            }
            stats.corruptRecords++;
            stats.resyncBytes++;
            pos++;
            state = State.BlockResync;
            continue;
          }
          le = blockLe!;
          const type = readU32(b, pos, le);
          if (type === BLOCK_SHB) {
            if (readU16(b, pos + 12, le) !== 1) {
              stop('unsupported-version');
              continue;
            }
            stats.sections++;
            interfaces = [];
            lastSectionTsMs = Number.NaN;
          } else if (type === BLOCK_IDB) parseIdb(b, pos, len);
          else if (type === BLOCK_EPB || type === BLOCK_OPB || type === BLOCK_SPB) {
            parsePacketBlock(b, pos, len, type);
          } else stats.skippedBlocks++;
          pos += len;
          continue;
        }
        case State.BlockResync: {
          if (avail < 12) {
            need = 12;
            if (!ended) return pos;
            stats.resyncBytes += avail;
            return n;
          }
          const blockLe = blockByteOrder(b, pos, le);
          const len = plausibleBlock(b, pos, blockLe);
          if (len > 0) {
            if (avail >= len) {
              if (readU32(b, pos + len - 4, blockLe!) === len) {
                state = State.Block;
                continue;
              }
            } else if (!ended) {
              need = len;
              return pos;
            }
          }
          stats.resyncBytes++;
          pos++;
          continue;
        }
      }
    }
  }

  function drain(): void {
    const b = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const pos = run(b, 0);
    if (pos >= b.length) {
      pending = [];
      pendingBytes = 0;
    } else {
      const rest = b.subarray(pos);
      pending = [rest];
      pendingBytes = rest.length;
    }
  }

  return {
    feed(chunk) {
      stats.bytesIn += chunk.length;
      if (ended || state === State.Stopped) {
        stats.ignoredBytes += chunk.length;
        return;
      }
      if (chunk.length === 0) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      // Small chunks wait until the record they belong to is complete: one copy, not one per chunk.
      if (pendingBytes >= need) drain();
    },
    end() {
      if (ended) return;
      ended = true;
      if (pendingBytes > 0 && state !== State.Stopped) drain();
      if (pendingBytes > 0) {
        if (state === State.PcapRecord || state === State.Block || state === State.PcapHeader) {
          stats.truncatedRecords++;
        } else if (state === State.Magic) {
          stop('not-a-capture');
        }
        pending = [];
        pendingBytes = 0;
      }
    },
    stats: () => ({ ...stats }),
    format: () => format,
    stopReason: () => stopReason,
  };
}
