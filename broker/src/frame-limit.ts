import { Duplex, pipeline, Transform, type TransformCallback } from 'node:stream';

// Aedes has no packet-size limit: its parser buffers a whole PUBLISH before any hook sees it,
// so a client announcing a 256 MiB packet makes the broker allocate 256 MiB. This module reads
// just the MQTT fixed headers as bytes stream past and kills the connection as soon as a header
// announces more than the limit, before the body arrives.
//
// Fixed header (MQTT 3.1.1 §2.2): 1 byte type/flags, then the "remaining length" in 1-4 bytes,
// 7 bits each, least significant first, high bit = "more bytes follow". Max 268,435,455.
//
// Scanner states (a header or length may be split across any chunk boundary):
//   type   -> expecting the type/flags byte of the next packet            -> length
//   length -> accumulating remaining-length bytes                         -> body | type (length 0)
//             a 5th length byte is malformed; a length over the limit is oversize (both: error)
//   body   -> skipping `remaining` bytes of the packet without looking     -> type

export class FrameTooLargeError extends Error {
  readonly code = 'MQTT_FRAME_TOO_LARGE';
  constructor(
    readonly packetBytes: number,
    readonly maxPacketBytes: number,
  ) {
    super(`MQTT packet of ${packetBytes} bytes exceeds the limit of ${maxPacketBytes} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

export class MalformedFrameError extends Error {
  readonly code = 'MQTT_FRAME_MALFORMED';
  constructor() {
    super('malformed MQTT remaining length (more than 4 bytes)');
    this.name = 'MalformedFrameError';
  }
}

const STATE_TYPE = 0;
const STATE_LENGTH = 1;
const STATE_BODY = 2;

/** Incremental MQTT fixed-header scanner. Feed it every chunk, in order. */
export class FrameScanner {
  #state = STATE_TYPE;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  constructor(readonly maxPacketBytes: number) {}

  /** Scans one chunk; returns the error that must end the connection, if any. */
  scan(chunk: Uint8Array): FrameTooLargeError | MalformedFrameError | undefined {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#state === STATE_BODY) {
        const skip = Math.min(this.#remaining, n - i);
        i += skip;
        this.#remaining -= skip;
        if (this.#remaining === 0) this.#state = STATE_TYPE;
      } else if (this.#state === STATE_TYPE) {
        i++;
        this.#state = STATE_LENGTH;
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else {
        const byte = chunk[i++]!;
        this.#length += (byte & 0x7f) * this.#multiplier;
        this.#lengthBytes++;
        if (this.#length > this.maxPacketBytes)
          return new FrameTooLargeError(this.#length, this.maxPacketBytes);
        if (byte & 0x80) {
          if (this.#lengthBytes === 4) return new MalformedFrameError();
          this.#multiplier *= 128;
        } else if (this.#length === 0) {
          this.#state = STATE_TYPE;
        } else {
          this.#remaining = this.#length;
          this.#state = STATE_BODY;
        }
      }
    }
    return undefined;
  }
}

/** Passes bytes through unchanged; errors (destroying itself) on an oversized or malformed packet. */
export class FrameLimit extends Transform {
  readonly #scanner: FrameScanner;

  constructor(maxPacketBytes: number) {
    super();
    this.#scanner = new FrameScanner(maxPacketBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const err = this.#scanner.scan(chunk);
    if (err) callback(err);
    else callback(null, chunk);
  }
}

/**
 * The stream handed to `aedes.handle`: reads come from `inner` through a `FrameLimit`, writes go
 * straight to `inner`. Writes are forwarded with `_writev` under cork, because mqtt-packet writes
 * each packet as several small chunks inside a cork: without it every chunk would be its own TCP
 * segment (sockets here run with Nagle off).
 *
 * When the limit trips, `inner` (the socket) is destroyed and this stream errors with the
 * `FrameTooLargeError`, which Aedes reports as a client or connection error and closes the client.
 */
export class FrameLimitedConnection extends Duplex {
  readonly #inner: Duplex;
  readonly #limit: FrameLimit;
  #pendingWrite: ((err?: Error | null) => void) | null = null;

  constructor(inner: Duplex, maxPacketBytes: number, onRefused?: (err: Error) => void) {
    super({ allowHalfOpen: false });
    this.#inner = inner;
    this.#limit = new FrameLimit(maxPacketBytes);
    // pipeline, not pipe: a socket that closes without 'end' (reset, destroyed) must end the
    // client too, or Aedes would never notice and never publish the last will.
    pipeline(inner, this.#limit, (err) => {
      if (!err) return;
      if (err instanceof FrameTooLargeError || err instanceof MalformedFrameError) onRefused?.(err);
      this.destroy(err);
    });
    this.#limit.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.#limit.pause();
    });
    this.#limit.on('end', () => this.push(null));
    inner.on('drain', () => {
      const callback = this.#pendingWrite;
      this.#pendingWrite = null;
      callback?.();
    });
  }

  override _read(): void {
    this.#limit.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#inner.write(chunk, encoding)) callback();
    else this.#pendingWrite = callback;
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (err?: Error | null) => void,
  ): void {
    const inner = this.#inner;
    let ok = true;
    inner.cork();
    for (const { chunk, encoding } of chunks) ok = inner.write(chunk, encoding);
    inner.uncork();
    if (ok) callback();
    else this.#pendingWrite = callback;
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#inner.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#pendingWrite = null;
    this.#limit.destroy();
    this.#inner.destroy();
    callback(err);
  }
}
