import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ReadingSink, ReadingSource } from '../source.ts';
import { type CaptureDecoderOptions, type CaptureStats, createCaptureDecoder } from './capture-decoder.ts';

// The WiFi capture input: a pcap/pcapng file, standard input (`-`, e.g. `tcpdump -w - | ...`) or
// any Readable. A thin shell over the pure decoder: each chunk read is decoded, its readings are
// pushed to the sink, and the stream stays paused until `sink.whenWritable()` resolves, so a fast
// file never grows the gateway's memory.
//
// Lifecycle: idle → reading (start) → ended (input ended, or the decoder stopped on a non-capture)
//                               └──→ stopped (stop(): nothing is pushed after it resolves)
// `done` resolves when reading is over either way, and rejects on a read error.

export interface CaptureSourceOptions extends CaptureDecoderOptions {
  /** A file path, `-` for standard input, or a stream to read. */
  input: string | Readable;
  logger?: Logger;
}

export interface CaptureSource extends ReadingSource {
  start(sink: ReadingSink): Promise<void>;
  stop(): Promise<void>;
  stats(): CaptureStats & Record<string, number>;
  /** Why reading stopped early (`not-a-capture`, `unsupported-version`), if it did. */
  stopReason(): string | undefined;
  /** Resolves when the input ended (or the source was stopped); rejects if reading failed. */
  readonly done: Promise<void>;
}

export class CaptureInputError extends Error {
  readonly code = 'CAPTURE_INPUT_ERROR';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CaptureInputError';
  }
}

export function createCaptureSource(options: CaptureSourceOptions): CaptureSource {
  const decoder = createCaptureDecoder(options);
  const log = options.logger?.child({ source: 'capture' });
  let stream: Readable | undefined;
  /** We opened the stream (a file), so we close it; stdin and given streams stay open. */
  let ownStream = false;
  let stopped = false;
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Nobody may await `done` (the gateway process uses start/stop): a read error is still logged.
  done.catch((err: unknown) => log?.error({ err }, 'capture input failed'));

  function finish(err?: Error): void {
    const s = settle;
    if (!s) return;
    settle = undefined;
    if (stream) {
      stream.removeAllListeners('data');
      stream.removeAllListeners('end');
      if (ownStream) stream.destroy();
      else stream.pause();
    }
    log?.info({ ...decoder.stats(), stopReason: decoder.stopReason() ?? null }, 'capture input finished');
    if (err) s.reject(err);
    else s.resolve();
  }

  async function openInput(): Promise<Readable> {
    const input = options.input;
    if (typeof input !== 'string') return input;
    if (input === '-') return process.stdin;
    try {
      const handle = await open(input, 'r');
      ownStream = true;
      return handle.createReadStream();
    } catch (err) {
      throw new CaptureInputError(`cannot open capture file ${input}`, { cause: err });
    }
  }

  return {
    done,
    async start(sink) {
      if (stream) throw new CaptureInputError('capture source already started');
      let s: Readable;
      try {
        s = await openInput();
      } catch (err) {
        finish(err as Error);
        throw err;
      }
      if (stopped) {
        // stop() came while the file was opening: `done` is settled, only the file is left to close.
        if (ownStream) s.destroy();
        return;
      }
      stream = s;
      s.on('data', (chunk: Buffer | string) => {
        if (stopped) return;
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
        const readings = decoder.feed(bytes);
        if (readings.length > 0) sink.pushWifi(readings);
        if (decoder.stopReason() !== undefined) {
          log?.warn(
            { reason: decoder.stopReason() },
            'capture input is not a readable capture; stopped reading it',
          );
          finish();
          return;
        }
        // Pause between chunks until the gateway can take more.
        s.pause();
        sink.whenWritable().then(
          () => {
            if (!stopped && settle) s.resume();
          },
          (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
        );
      });
      s.once('end', () => {
        if (stopped) return;
        const readings = decoder.end();
        if (readings.length > 0) sink.pushWifi(readings);
        finish();
      });
      s.once('error', (err) => finish(new CaptureInputError('capture input read failed', { cause: err })));
    },
    async stop() {
      stopped = true;
      finish();
      await done.catch(() => {
        // The read error was reported through `done` and logged there; stop() itself succeeds.
      });
    },
    stats: () => ({ ...decoder.stats() }),
    stopReason: () => decoder.stopReason(),
  };
}
