import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import type { ReadingSink, ReadingSource } from '../source.ts';
import { type BleDecoderOptions, createBleDecoder, DEFAULT_SCALE_HOLD_MS } from './ble-decoder.ts';

// The BLE scanner input as a gateway reading source: lines from a file, standard input or a given
// stream, decoded by ble-decoder.ts. A thin shell: split chunks into lines (a line may span chunks,
// a UTF-8 character too), decode, push what a chunk produced, then wait for `whenWritable()` before
// reading on, so a fast file never outruns the gateway.
//
// States: idle → reading (chunk loop) → ended (end of input: pending weigh-ins flushed) or
// stopped (stop(): the stream is destroyed, pending weigh-ins flushed, nothing pushed after).
// While the loop waits for input longer than the scale hold time (a quiet live feed), pending
// weigh-ins are expired on a timer as if that time had passed since the last line.

export interface BleSourceOptions extends BleDecoderOptions {
  /** A file path, `-` for standard input, or a readable stream of scanner lines. */
  input: string | Readable;
  /** Time for lines without their own (the gateway's clock). Default `Date`. */
  clock?: { now(): number };
  /** Lines longer than this (characters) are counted and skipped. Default 16,384. */
  maxLineChars?: number;
  /** Standard input, for `-` (tests pass their own). Default `process.stdin`. */
  stdin?: Readable;
  logger?: Logger;
}

export interface BleSource extends ReadingSource {
  start(sink: ReadingSink): Promise<void>;
  stop(): Promise<void>;
  stats(): Record<string, number>;
  /** Resolves when the input has ended (or stop() was called) and all of it was pushed; rejects on a read error. */
  readonly done: Promise<void>;
}

export const DEFAULT_MAX_LINE_CHARS = 16_384;

export function createBleSource(options: BleSourceOptions): BleSource {
  const clock = options.clock ?? Date;
  const maxLineChars = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const holdMs = options.scaleHoldMs ?? DEFAULT_SCALE_HOLD_MS;
  const decoder = createBleDecoder(options);
  const counters = { chunks: 0, lineTooLong: 0, readErrors: 0 };
  let stream: Readable | undefined;
  let sink: ReadingSink | undefined;
  let stopping = false;
  let onStop = () => {};
  // Resolves on stop(): a reader held by whenWritable() (a gateway that cannot send) must not
  // hold up shutdown.
  const stopped = new Promise<void>((resolve) => {
    onStop = resolve;
  });
  let finished = false;
  let run: Promise<void> = Promise.resolve();
  let readError: unknown;
  let waitingSinceMs: number | undefined;
  let idleTimer: NodeJS.Timeout | undefined;

  function pushOut(): void {
    const { ble, scale } = decoder.take();
    if (!sink || finished) return;
    if (ble.length > 0) sink.pushBle(ble);
    if (scale.length > 0) sink.pushScale(scale);
  }

  function onLine(line: string): void {
    if (line.length > maxLineChars) {
      counters.lineTooLong++;
      return;
    }
    decoder.pushLine(line.endsWith('\r') ? line.slice(0, -1) : line, clock.now());
  }

  async function readAll(input: Readable, target: ReadingSink): Promise<void> {
    const text = new StringDecoder('utf8');
    let carry = '';
    // Set while discarding the rest of an over-long line.
    let skipping = false;
    waitingSinceMs = clock.now();
    for await (const chunk of input) {
      waitingSinceMs = undefined;
      if (stopping) break;
      counters.chunks++;
      const piece = carry + (typeof chunk === 'string' ? chunk : text.write(chunk as Buffer));
      let start = 0;
      for (let nl = piece.indexOf('\n'); nl >= 0; nl = piece.indexOf('\n', start)) {
        if (skipping) skipping = false;
        else onLine(piece.slice(start, nl));
        start = nl + 1;
      }
      carry = piece.slice(start);
      if (carry.length > maxLineChars) {
        if (!skipping) counters.lineTooLong++;
        carry = '';
        skipping = true;
      }
      pushOut();
      await Promise.race([target.whenWritable(), stopped]);
      waitingSinceMs = clock.now();
    }
    waitingSinceMs = undefined;
    if (!stopping) {
      carry += text.end();
      if (carry !== '' && !skipping) onLine(carry);
    }
  }

  function checkIdle(): void {
    if (waitingSinceMs === undefined || finished) return;
    const idleMs = clock.now() - waitingSinceMs;
    if (idleMs < holdMs) return;
    decoder.expireIdle(idleMs);
    pushOut();
  }

  return {
    async start(target) {
      sink = target;
      if (typeof options.input !== 'string') stream = options.input;
      else if (options.input === '-') stream = options.stdin ?? process.stdin;
      else stream = (await open(options.input, 'r')).createReadStream();
      const input = stream;
      idleTimer = setInterval(checkIdle, Math.max(100, Math.floor(holdMs / 2)));
      idleTimer.unref();
      run = readAll(input, target)
        .catch((err: unknown) => {
          // A stream destroyed by stop() may end its iteration with a premature-close error.
          if (stopping) return;
          readError = err;
          counters.readErrors++;
          options.logger?.error({ err }, 'ble input read failed');
        })
        .finally(() => {
          clearInterval(idleTimer);
          decoder.flush();
          pushOut();
          finished = true;
        });
      options.logger?.info(
        { input: typeof options.input === 'string' ? options.input : 'stream' },
        'ble input open',
      );
    },
    async stop() {
      stopping = true;
      onStop();
      stream?.destroy();
      await run;
    },
    stats: () => ({ ...decoder.stats(), ...counters }),
    // A fresh promise per read, so one that nobody awaits never surfaces as an unhandled rejection.
    get done() {
      return (async () => {
        await run;
        if (readError !== undefined) throw readError;
      })();
    },
  };
}
