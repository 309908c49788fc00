import { createCaptureSource } from '../../gateway/src/capture/capture-source.ts';
import type { RawWifiInput } from '../../gateway/src/gateway.ts';

// Child process for the standard-input test: reads a capture from stdin (`-`) as the gateway
// would behind `tcpdump -w - | mallflow gateway`, then prints what it decoded as one JSON line.

const readings: RawWifiInput[] = [];
const source = createCaptureSource({ input: '-', sensorId: 'stdin-sniffer' });
await source.start({
  pushWifi: (r) => readings.push(...r),
  pushBle: () => undefined,
  pushScale: () => undefined,
  whenWritable: () => Promise.resolve(),
});
await source.done;
process.stdout.write(`${JSON.stringify({ readings, stats: source.stats() })}\n`);
