import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ScaleReading } from '../../core/src/messages.ts';
import { createBleSource } from '../../gateway/src/ble/ble-source.ts';
import type { RawBleInput } from '../../gateway/src/gateway.ts';
import type { ReadingSink } from '../../gateway/src/source.ts';
import { waitFor } from '../helpers/wait-for.ts';
import * as V from './gateway-ble-vectors.ts';

const NOW = 1_763_460_000_000;
const SCALE = 'F1:46:E3:55:15:C8';

interface RecordingSink extends ReadingSink {
  ble: RawBleInput[];
  scale: ScaleReading[];
  pushes: number;
}

function recordingSink(whenWritable: () => Promise<void> = () => Promise.resolve()): RecordingSink {
  const sink: RecordingSink = {
    ble: [],
    scale: [],
    pushes: 0,
    pushWifi() {
      throw new Error('a BLE source pushed WiFi readings');
    },
    pushBle(readings) {
      sink.ble.push(...readings);
      sink.pushes++;
    },
    pushScale(readings) {
      sink.scale.push(...readings);
      sink.pushes++;
    },
    whenWritable,
  };
  return sink;
}

const scaleLine = (adv: string, offsetMs: number) =>
  `{"mac":"${SCALE}","rssi":-80,"ts":${NOW + offsetMs},"adv":"${adv}"}`;

/** A scanner log with every line format, bad lines, CRLF, non-ASCII text and an over-long line. */
const CORPUS = [
  '# scanner log, café ☕ 体重秤',
  `{"mac":"6A:6B:C9:A2:3E:43","rssi":-77,"ts":${NOW},"adv":"${V.BLE_MONITOR_IBEACON}"}`,
  `${NOW / 1000} 4E:AF:83:1E:D6:2F -54 ${V.BLUECHARM_UID}\r`,
  `+BLESCAN:78:51:69:0a:fe:a0,-81,${V.RUUVI_URL},,1`,
  '{"id":"DE:AD:BE:EF:4B:49","rssi":-41,"servicedata":"20000c6f1e000002006d41db9ab6","servicedatauuid":"0xfeaa"}',
  `{"mac":"AA:BB:CC:DD:EE:01","rssi":-60,"adv":"${'02'.repeat(400)}"}`, // 800+ characters
  '{"mac":"AA:BB:CC:DD:EE:02","rssi":-60,"adv":"020106"',
  'garbage ☃',
  '{"id":"体重秤-7","rssi":-60}', // a non-MAC device key: its UTF-8 bytes are split across chunks
  ...[0, 250, 500, 750].map((t) => scaleLine(V.MIBCS_UNSETTLED, t)),
  ...[1000, 1250, 1500].map((t) => scaleLine(V.MIBCS_SETTLED_NO_IMPEDANCE, t)),
  ...[1750, 2000].map((t) => scaleLine(V.MIBCS_SETTLED, t)),
  ...[2250, 2500, 2750].map((t) => scaleLine(V.MIBCS_REMOVED, t)),
  '',
  `AA:BB:CC:DD:EE:03 -66 ${V.AIRLOCATE_IBEACON}`, // no newline at the end
].join('\n');

const OPTIONS = { sensorId: 'scanner-1', clock: { now: () => NOW }, maxLineChars: 512 };

/** The corpus cut into chunks of 1, 2, 3, 5, 7, 11, ... bytes, splitting lines and UTF-8 characters. */
function oddChunks(text: string): Buffer[] {
  const all = Buffer.from(text, 'utf8');
  const sizes = [1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47];
  const chunks: Buffer[] = [];
  for (let i = 0, k = 0; i < all.length; k++) {
    const size = sizes[k % sizes.length] ?? 1;
    chunks.push(all.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

function tempFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ble-source-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'scan.log');
  writeFileSync(path, content);
  return path;
}

describe('ble source', () => {
  it('reads a file and the same bytes as a stream in odd-sized chunks into identical output', async () => {
    const fromFile = recordingSink();
    const fileSource = createBleSource({ ...OPTIONS, input: tempFile(CORPUS) });
    await fileSource.start(fromFile);
    await fileSource.done;
    const { chunks: fileChunks, ...fileStats } = fileSource.stats();
    expect(fileChunks).toBe(1);

    const bytes = Buffer.from(CORPUS, 'utf8');
    const singleBytes = Array.from(bytes, (b) => Buffer.of(b));
    for (const chunking of [oddChunks(CORPUS), singleBytes]) {
      const fromStream = recordingSink();
      const streamSource = createBleSource({ ...OPTIONS, input: Readable.from(chunking) });
      await streamSource.start(fromStream);
      await streamSource.done;
      expect(fromStream.ble).toEqual(fromFile.ble);
      expect(fromStream.scale).toEqual(fromFile.scale);
      const { chunks: streamChunks, ...streamStats } = streamSource.stats();
      expect(streamStats).toEqual(fileStats);
      expect(streamChunks).toBe(chunking.length);
    }

    // And the output is the right one.
    expect(fromFile.ble.map((r) => [r.mac ?? r.deviceKey, r.beacon?.kind])).toEqual([
      ['6a:6b:c9:a2:3e:43', 'ibeacon'],
      ['4e:af:83:1e:d6:2f', 'eddystone-uid'],
      ['78:51:69:0a:fe:a0', 'eddystone-url'],
      ['de:ad:be:ef:4b:49', 'eddystone-tlm'],
      ['体重秤-7', undefined],
      ['aa:bb:cc:dd:ee:03', 'ibeacon'],
    ]);
    expect(fromFile.scale).toEqual([
      { sensorId: 'scanner-1', measuredAt: NOW + 1000, weightKg: 95.2, impedanceOhm: 486 },
    ]);
    expect(fileStats).toMatchObject({
      lines: 22, // decoded lines; the over-long one is counted apart
      blankLines: 2,
      lineTooLong: 1,
      badJson: 1,
      badFormat: 1,
      sightings: 6,
      scaleWeighIns: 1,
      readErrors: 0,
    });
  });

  it('reads standard input for "-"', async () => {
    const sink = recordingSink();
    const source = createBleSource({ ...OPTIONS, input: '-', stdin: Readable.from([Buffer.from(CORPUS)]) });
    await source.start(sink);
    await source.done;
    expect(sink.ble).toHaveLength(6);
    expect(sink.scale).toHaveLength(1);
  });

  it('stops reading while whenWritable() is held and resumes when it resolves', async () => {
    const lines = Array.from(
      { length: 40 },
      (_, i) => `AA:BB:CC:DD:EE:${(i + 16).toString(16)} -60 020106\n`,
    );
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const sink = recordingSink(() => (++calls === 1 ? held : Promise.resolve()));
    const source = createBleSource({ ...OPTIONS, input: Readable.from(lines.map((l) => Buffer.from(l))) });
    await source.start(sink);
    await waitFor(() => sink.ble.length === 1, { what: 'the first chunk pushed' });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.ble).toHaveLength(1);
    expect(source.stats().chunks).toBe(1);
    release();
    await source.done;
    expect(sink.ble).toHaveLength(40);
    expect(source.stats().chunks).toBe(40);
  });

  it('stop() ends a live stream, publishes the weigh-in it held and pushes nothing after', async () => {
    const input = new PassThrough();
    const sink = recordingSink();
    const source = createBleSource({ ...OPTIONS, input });
    await source.start(sink);
    input.write(
      `${scaleLine(V.MIBCS_SETTLED_NO_IMPEDANCE, 0)}\n${scaleLine(V.MIBCS_SETTLED_NO_IMPEDANCE, 250)}\n`,
    );
    input.write(`AA:BB:CC:DD:EE:04 -66 ${V.AIRLOCATE_IBEACON}\n`);
    await waitFor(() => sink.ble.length === 1, { what: 'the sighting' });
    expect(sink.scale).toEqual([]);
    await source.stop();
    expect(sink.scale).toEqual([{ sensorId: 'scanner-1', measuredAt: NOW, weightKg: 95.2 }]);
    const pushes = sink.pushes;
    await source.done;
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.pushes).toBe(pushes);
    expect(input.destroyed).toBe(true);
  });

  it('stop() returns while whenWritable() never resolves (a gateway that cannot send)', async () => {
    const sink = recordingSink(() => new Promise<void>(() => {}));
    const source = createBleSource({
      ...OPTIONS,
      input: Readable.from([
        Buffer.from(`${scaleLine(V.MIBCS_SETTLED_NO_IMPEDANCE, 0)}\n`),
        Buffer.from('x\n'),
      ]),
    });
    await source.start(sink);
    await waitFor(() => source.stats().lines === 1, { what: 'the first chunk read' });
    await source.stop();
    expect(source.stats().lines).toBe(1);
    expect(sink.scale).toEqual([{ sensorId: 'scanner-1', measuredAt: NOW, weightKg: 95.2 }]);
  });

  it('publishes a held weigh-in when a live feed stays quiet for the hold time', async () => {
    let wallMs = NOW;
    const input = new PassThrough();
    onTestFinished(() => {
      input.destroy();
    });
    const sink = recordingSink();
    const source = createBleSource({
      ...OPTIONS,
      clock: { now: () => wallMs },
      scaleHoldMs: 200,
      input,
    });
    await source.start(sink);
    onTestFinished(() => source.stop());
    input.write(`${scaleLine(V.MIBCS_SETTLED_NO_IMPEDANCE, 0)}\n`);
    await waitFor(() => source.stats().lines === 1, { what: 'the line read' });
    expect(sink.scale).toEqual([]);
    wallMs += 250; // the gateway's clock moves on; no more lines arrive
    await waitFor(() => sink.scale.length === 1, { what: 'the weigh-in published on the idle timer' });
    expect(sink.scale[0]).toMatchObject({ weightKg: 95.2, measuredAt: NOW });
  });

  it('rejects start() for a file that does not exist', async () => {
    const source = createBleSource({ ...OPTIONS, input: join(tmpdir(), 'no-such-dir-ble', 'scan.log') });
    await expect(source.start(recordingSink())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
