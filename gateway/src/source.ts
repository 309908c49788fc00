import type { ScaleReading } from '../../core/src/messages.ts';
import type { RawBleInput, RawWifiInput } from './gateway.ts';

/** Where a gateway's raw readings come from: the simulator, captures, scanners, receivers. */
export interface ReadingSink {
  pushWifi(readings: readonly RawWifiInput[]): void;
  pushBle(readings: readonly RawBleInput[]): void;
  pushScale(readings: readonly ScaleReading[]): void;
  /** Resolves when the gateway can take more; sources that can pause await it between chunks. */
  whenWritable(): Promise<void>;
}

export interface ReadingSource {
  /** Starts delivering; resolves once the source is listening or reading. */
  start(sink: ReadingSink): void | Promise<void>;
  /** Stops taking input; resolves once nothing more will be pushed. */
  stop(): void | Promise<void>;
  /** What the source counted (frames, lines or posts read, skipped by reason, ...). */
  stats?(): Record<string, number>;
  /** For finite inputs (a file, standard input): resolves when the input ended. */
  readonly done?: Promise<void>;
}
