import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { CaptureInputError, createCaptureSource } from '../../gateway/src/capture/capture-source.ts';
import type { RawWifiInput } from '../../gateway/src/gateway.ts';
import type { ReadingSink } from '../../gateway/src/source.ts';
import { createRng, makeSyntheticCapture, writePcap, writePcapng } from '../helpers/capture-writer.ts';
import { waitFor } from '../helpers/wait-for.ts';

const dir = mkdtempSync(join(tmpdir(), 'mallflow-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

interface RecordingSink extends ReadingSink {
  readings: RawWifiInput[];
  pushes: number;
  /** While set, whenWritable() waits on it. */
  gate: Promise<void> | undefined;
}

function createRecordingSink(): RecordingSink {
  const sink: RecordingSink = {
    readings: [],
    pushes: 0,
    gate: undefined,
    pushWifi(r) {
      sink.pushes++;
      sink.readings.push(...r);
    },
    pushBle: () => undefined,
    pushScale: () => undefined,
    whenWritable: () => sink.gate ?? Promise.resolve(),
  };
  return sink;
}

const capture = makeSyntheticCapture(600, 21);
const pcapBytes = writePcap(capture.packets);

async function readAll(input: string | Readable) {
  const sink = createRecordingSink();
  const source = createCaptureSource({ input, sensorId: 'sniffer-1' });
  onTestFinished(() => source.stop());
  await source.start(sink);
  await source.done;
  return { readings: sink.readings, stats: source.stats(), source };
}

describe('capture source', () => {
  it('reads a pcap file and pushes every probe request', async () => {
    const { readings, stats } = await readAll(writeTemp('a.pcap', pcapBytes));
    expect(readings.map((r) => [r.mac, r.heardAt, r.rssiDbm, r.frameSeq])).toEqual(
      capture.expected.map((e) => [e.mac, e.heardAtMs, e.rssiDbm, e.seq]),
    );
    expect(stats).toMatchObject({ records: 600, probes: capture.counts.probes, bytesIn: pcapBytes.length });
  });

  it('gives the same readings from a stream fed in small random chunks', async () => {
    const file = await readAll(writeTemp('b.pcap', pcapBytes));
    const input = new PassThrough();
    const rng = createRng(5);
    const feeding = (async () => {
      for (let i = 0; i < pcapBytes.length; ) {
        const n = 1 + Math.floor(rng() * 300);
        if (!input.write(pcapBytes.subarray(i, i + n))) await new Promise((r) => input.once('drain', r));
        i += n;
      }
      input.end();
    })();
    const streamed = await readAll(input);
    await feeding;
    expect(streamed.readings).toEqual(file.readings);
    expect(streamed.stats).toEqual(file.stats);
  });

  it('reads standard input (`-`) in a child process fed through a pipe, same as the file', async () => {
    const file = await readAll(writeTemp('c.pcap', pcapBytes));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../helpers/capture-stdin-child.ts')],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    onTestFinished(() => {
      child.kill();
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const rng = createRng(9);
    for (let i = 0; i < pcapBytes.length; ) {
      const n = 1 + Math.floor(rng() * 2000);
      child.stdin.write(pcapBytes.subarray(i, i + n));
      i += n;
      if (rng() < 0.1) await new Promise((r) => setTimeout(r, 1));
    }
    child.stdin.end();
    expect(await exited).toBe(0);
    const result = JSON.parse(out) as { readings: RawWifiInput[]; stats: Record<string, number> };
    expect(result.readings).toEqual(file.readings.map((r) => ({ ...r, sensorId: 'stdin-sniffer' })));
    expect(result.stats).toEqual(file.stats);
  });

  it('reads pcapng with sensors per interface', async () => {
    const blocks = capture.packets.map((p, i) => ({
      kind: 'epb' as const,
      interfaceId: i % 2,
      timeNs: p.timeNs,
      data: p.data,
    }));
    const path = writeTemp(
      'd.pcapng',
      writePcapng([
        {
          interfaces: [
            { linktype: 127, name: 'wlan0mon' },
            { linktype: 127, name: 'wlan1mon', tsresol: 9 },
          ],
          blocks,
        },
      ]),
    );
    const sink = createRecordingSink();
    const source = createCaptureSource({
      input: path,
      sensorId: 'fallback',
      sensorByInterface: { wlan0mon: 'north', wlan1mon: 'south' },
    });
    onTestFinished(() => source.stop());
    await source.start(sink);
    await source.done;
    expect(sink.readings.map((r) => [r.mac, r.heardAt])).toEqual(
      capture.expected.map((e) => [e.mac, e.heardAtMs]),
    );
    expect(new Set(sink.readings.map((r) => r.sensorId))).toEqual(new Set(['north', 'south']));
  });

  it('stops reading while the sink is not writable, and reads on when it is', async () => {
    const big = makeSyntheticCapture(12_000, 4);
    const bytes = writePcap(big.packets);
    expect(bytes.length).toBeGreaterThan(1_000_000);
    const sink = createRecordingSink();
    let open!: () => void;
    sink.gate = new Promise((resolve) => {
      open = resolve;
    });
    const source = createCaptureSource({ input: writeTemp('big.pcap', bytes), sensorId: 'sniffer-1' });
    onTestFinished(() => source.stop());
    await source.start(sink);
    await waitFor(() => sink.pushes > 0, { what: 'the first chunk' });
    const readAtPause = source.stats().bytesIn;
    // Time for the file stream to deliver many more chunks if nothing held it (it reads ~1 GB/s).
    await new Promise((r) => setTimeout(r, 300));
    expect(source.stats().bytesIn).toBe(readAtPause);
    expect(readAtPause).toBeLessThanOrEqual(64 * 1024);
    expect(sink.pushes).toBe(1);
    sink.gate = undefined;
    open();
    await source.done;
    expect(source.stats().bytesIn).toBe(bytes.length);
    expect(sink.readings).toHaveLength(big.counts.probes);
  });

  it('pushes nothing after stop() resolves', async () => {
    const input = new PassThrough();
    const sink = createRecordingSink();
    const source = createCaptureSource({ input, sensorId: 'sniffer-1' });
    await source.start(sink);
    input.write(pcapBytes.subarray(0, 4000));
    await waitFor(() => sink.pushes > 0, { what: 'the first push' });
    await source.stop();
    const pushed = sink.readings.length;
    input.write(pcapBytes.subarray(4000));
    input.end();
    await new Promise((r) => setImmediate(r));
    expect(sink.readings).toHaveLength(pushed);
    await expect(source.done).resolves.toBeUndefined();
  });

  it('reads nothing when stopped while the file is still opening', async () => {
    const sink = createRecordingSink();
    const source = createCaptureSource({ input: writeTemp('e.pcap', pcapBytes), sensorId: 'sniffer-1' });
    const starting = source.start(sink);
    await source.stop();
    await starting;
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.pushes).toBe(0);
    expect(source.stats().bytesIn).toBe(0);
  });

  it('rejects start() for a missing file, and stops with a reason on a file that is not a capture', async () => {
    const missing = createCaptureSource({ input: join(dir, 'nope.pcap'), sensorId: 'sniffer-1' });
    await expect(missing.start(createRecordingSink())).rejects.toBeInstanceOf(CaptureInputError);
    await expect(missing.done).rejects.toBeInstanceOf(CaptureInputError);

    const text = await readAll(writeTemp('notes.txt', Buffer.from('shopping list: milk, eggs\n'.repeat(50))));
    expect(text.readings).toEqual([]);
    expect(text.source.stopReason()).toBe('not-a-capture');
  });
});
