import { ID_PATTERN } from '../../../core/src/ids.ts';
import type { RawWifiInput } from '../gateway.ts';
import {
  createIeFingerprinter,
  createProbeRequestInfo,
  FRAME_CORRUPT,
  FRAME_OTHER,
  FRAME_TRUNCATED,
  parseProbeRequest,
} from './ieee80211.ts';
import {
  type CaptureRecord,
  createPcapStream,
  type PcapStopReason,
  type PcapStreamStats,
} from './pcap-stream.ts';
import {
  createRadiotapInfo,
  FLAG_BAD_FCS,
  FLAG_FCS_AT_END,
  parseRadiotap,
  RADIOTAP_CORRUPT,
  RADIOTAP_TRUNCATED,
} from './radiotap.ts';

// Capture bytes in, probe-request readings out: the pcap/pcapng reader, then per record the
// radiotap header, the FCS flags and the 802.11 frame. Pure (no I/O); every record lands in
// exactly one of the frame counters, so
//   records = probes + otherFrames + truncated + badFcs + noSignal + rssiOutOfRange + corrupt
//             + unsupportedLinktype + badTimestamp.
// The readings carry the raw transmitter MAC for the gateway to pseudonymize; nothing here logs
// or keeps one.

/** LINKTYPE_IEEE802_11_RADIOTAP: radiotap header, then the 802.11 frame. */
export const LINKTYPE_RADIOTAP = 127;
/** LINKTYPE_IEEE802_11: the bare 802.11 frame, no signal information. */
export const LINKTYPE_IEEE802_11 = 105;

const FCS_BYTES = 4;
const MIN_RSSI_DBM = -127;
const MAX_RSSI_DBM = 20;
/** `WifiReading.heardAt` bounds: 2000-01-01 .. 2100-01-01. */
const MIN_EPOCH_MS = 946_684_800_000;
const MAX_EPOCH_MS = 4_102_444_800_000;

export interface CaptureDecoderOptions {
  /** Sensor id of the sniffer that made the capture. */
  sensorId: string;
  /** pcapng interface name (`if_name`) → sensor id, for a capture merged from several sniffers. */
  sensorByInterface?: Readonly<Record<string, string>>;
}

export interface FrameCounters {
  /** Probe requests turned into readings. */
  probes: number;
  /** Valid frames of other types and subtypes (beacons, probe responses, data, ...). */
  otherFrames: number;
  /** Frames cut short: a radiotap header or 802.11 header longer than the bytes, an element running past the end. */
  truncated: number;
  /** Frames the receiver flagged with a bad FCS (radiotap flag 0x40). */
  badFcs: number;
  /** Probe requests without a dBm antenna signal (no radiotap field 5, or linktype 105). */
  noSignal: number;
  /** Probe requests whose signal is outside -127..20 dBm. */
  rssiOutOfRange: number;
  /** Frames with a bad radiotap header or an unknown 802.11 protocol version. */
  corrupt: number;
  /** Records of a linktype other than 127 (radiotap) or 105 (802.11). */
  unsupportedLinktype: number;
  /** Probe requests with no timestamp or one outside 2000..2100. */
  badTimestamp: number;
  /** Radiotap walks that stopped at an unknown field (the frame was still used). */
  radiotapUnknownField: number;
  /** Probes whose radiotap header had several antenna signals (multi-chain): the first was used. */
  multiChainSignal: number;
}

export type CaptureStats = PcapStreamStats & FrameCounters;

export interface CaptureDecoder {
  /** Decodes the next bytes of the capture; returns the probe requests they completed. */
  feed(chunk: Uint8Array): RawWifiInput[];
  /** The input ended; returns nothing new today but keeps `feed`'s shape for callers. */
  end(): RawWifiInput[];
  stats(): CaptureStats;
  stopReason(): PcapStopReason | undefined;
}

export class InvalidCaptureOptionsError extends Error {
  readonly code = 'INVALID_CAPTURE_OPTIONS';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCaptureOptionsError';
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function formatMac(b: Uint8Array, o: number): string {
  return `${HEX[b[o]!]}:${HEX[b[o + 1]!]}:${HEX[b[o + 2]!]}:${HEX[b[o + 3]!]}:${HEX[b[o + 4]!]}:${HEX[b[o + 5]!]}`;
}

function checkSensorId(id: string, what: string): void {
  if (!ID_PATTERN.test(id)) throw new InvalidCaptureOptionsError(`${what} "${id}" is not a valid sensor id`);
}

export function createCaptureDecoder(options: CaptureDecoderOptions): CaptureDecoder {
  checkSensorId(options.sensorId, 'sensorId');
  const sensorByInterface = new Map(Object.entries(options.sensorByInterface ?? {}));
  for (const [name, id] of sensorByInterface) checkSensorId(id, `sensor of interface ${name}`);
  const counters: FrameCounters = {
    probes: 0,
    otherFrames: 0,
    truncated: 0,
    badFcs: 0,
    noSignal: 0,
    rssiOutOfRange: 0,
    corrupt: 0,
    unsupportedLinktype: 0,
    badTimestamp: 0,
    radiotapUnknownField: 0,
    multiChainSignal: 0,
  };
  const radiotap = createRadiotapInfo();
  const probe = createProbeRequestInfo();
  const fingerprinter = createIeFingerprinter();
  let out: RawWifiInput[] = [];

  function onRecord(r: CaptureRecord): void {
    let start = r.offset;
    let length = r.capturedLength;
    let signalDbm = Number.NaN;
    if (r.linktype === LINKTYPE_RADIOTAP) {
      parseRadiotap(r.data, start, length, radiotap);
      if (radiotap.status === RADIOTAP_TRUNCATED) {
        counters.truncated++;
        return;
      }
      if (radiotap.status === RADIOTAP_CORRUPT) {
        counters.corrupt++;
        return;
      }
      if (radiotap.stoppedAtUnknown) counters.radiotapUnknownField++;
      if (radiotap.flags & FLAG_BAD_FCS) {
        counters.badFcs++;
        return;
      }
      start += radiotap.headerLength;
      length -= radiotap.headerLength;
      // The FCS is the last 4 bytes of the frame: in the capture only when nothing was cut off.
      if (radiotap.flags & FLAG_FCS_AT_END && r.capturedLength === r.originalLength) {
        length -= FCS_BYTES;
        if (length < 0) {
          counters.truncated++;
          return;
        }
      }
      signalDbm = radiotap.signalDbm;
    } else if (r.linktype !== LINKTYPE_IEEE802_11) {
      counters.unsupportedLinktype++;
      return;
    }
    const kind = parseProbeRequest(r.data, start, length, probe);
    if (kind === FRAME_OTHER) {
      counters.otherFrames++;
      return;
    }
    if (kind === FRAME_TRUNCATED) {
      counters.truncated++;
      return;
    }
    if (kind === FRAME_CORRUPT) {
      counters.corrupt++;
      return;
    }
    if (Number.isNaN(signalDbm)) {
      counters.noSignal++;
      return;
    }
    const rssiDbm = Math.round(signalDbm);
    if (rssiDbm < MIN_RSSI_DBM || rssiDbm > MAX_RSSI_DBM) {
      counters.rssiOutOfRange++;
      return;
    }
    const heardAt = r.timestampMs;
    if (!(heardAt >= MIN_EPOCH_MS && heardAt < MAX_EPOCH_MS)) {
      counters.badTimestamp++;
      return;
    }
    if (radiotap.signalFields > 1) counters.multiChainSignal++;
    counters.probes++;
    const sensorId =
      r.interfaceName === undefined
        ? options.sensorId
        : (sensorByInterface.get(r.interfaceName) ?? options.sensorId);
    const reading: RawWifiInput = {
      sensorId,
      heardAt,
      rssiDbm,
      mac: formatMac(r.data, probe.transmitterOffset),
      frameSeq: probe.sequence,
    };
    const fp = fingerprinter.fingerprint(r.data, probe.elementsStart, probe.elementsEnd);
    if (fp !== undefined) reading.ieFingerprint = fp;
    out.push(reading);
  }

  const stream = createPcapStream(onRecord);

  function take(): RawWifiInput[] {
    const readings = out;
    out = [];
    return readings;
  }

  return {
    feed(chunk) {
      stream.feed(chunk);
      return take();
    },
    end() {
      stream.end();
      return take();
    },
    stats: () => ({ ...stream.stats(), ...counters }),
    stopReason: () => stream.stopReason(),
  };
}
