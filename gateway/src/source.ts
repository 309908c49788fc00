import type { RawBleInput, RawWifiInput } from './gateway.ts';

/** Where a gateway's raw readings come from: the simulator today, captures and scanners later. */
export interface ReadingSink {
  pushWifi(readings: readonly RawWifiInput[]): void;
  pushBle(readings: readonly RawBleInput[]): void;
}

export interface ReadingSource {
  start(sink: ReadingSink): void;
  stop(): void;
}
