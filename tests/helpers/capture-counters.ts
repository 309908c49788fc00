import type { CaptureStats } from '../../gateway/src/capture/capture-decoder.ts';

/** The frame counters summed: the decoder puts every record in exactly one, so this equals `records`. */
export function countedFrames(s: CaptureStats): number {
  return (
    s.probes +
    s.otherFrames +
    s.truncated +
    s.badFcs +
    s.noSignal +
    s.rssiOutOfRange +
    s.corrupt +
    s.unsupportedLinktype +
    s.badTimestamp
  );
}
