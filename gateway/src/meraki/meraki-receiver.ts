import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyError, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { BleReading } from '../../../core/src/messages.ts';
import { redactMacs } from '../../../core/src/privacy.ts';
import type { ReadingSink, ReadingSource } from '../source.ts';
import { parseApMap } from './ap-map.ts';
import { createMerakiCounts, readMerakiPost, toMerakiSightings } from './meraki-v3.ts';
import { createRecentRecords } from './recent-records.ts';

// The Meraki Scanning API v3 receiver: an HTTP endpoint Meraki's cloud posts observations to,
// as a ReadingSource. A thin shell around meraki-v3.ts.
//
//   GET  <path>  → 200 text/plain: the validator string (Meraki checks it before posting)
//   POST <path>  → 403 when the secret is missing or wrong (compared in constant time)
//                  400 with the reason when the body is not a v3 post
//                  413 when the body is larger than `bodyLimitBytes`
//                  503 when the gateway stayed backed up for `writableTimeoutMs` (nothing pushed;
//                      Meraki re-sends the recent records with its next post)
//                  202 once the sightings are in the gateway's buffer
// Nothing here logs a request or a body: problems are counted, and an invalid post's reason is
// logged at most once per LOG_INTERVAL_MS, through redactMacs.

export interface MerakiReceiverOptions {
  /** Interface to listen on. Default 127.0.0.1 (put a TLS proxy in front: Meraki posts HTTPS). */
  host?: string;
  /** 0 = an ephemeral port. */
  port: number;
  /** Default `/meraki`. */
  path?: string;
  /** The validator string the Meraki dashboard shows for the network. */
  validator: string;
  /** The shared secret configured in the Meraki dashboard. */
  secret: string;
  /** Normalized AP MAC → sensor id (see `parseApMap`). Records from other APs are skipped. */
  apSensors: ReadonlyMap<string, string>;
  /** Largest POST body accepted. Default 32 MiB: a busy network's post is several MB. */
  bodyLimitBytes?: number;
  /** How long a record is remembered against Meraki's repeats. Default 10 min. */
  dedupWindowMs?: number;
  /** Most records remembered. Default 500,000. */
  maxRememberedRecords?: number;
  /** Longest wait for the gateway to take more before answering 503. Default 10 s. */
  writableTimeoutMs?: number;
  decodeBeacon?: (rawDataHex: string) => BleReading['beacon'] | undefined;
  clock?: { now(): number };
  logger: Logger;
}

export interface MerakiReceiver extends ReadingSource {
  /** `http://host:port/path`, once started. */
  url(): string;
  stats(): Record<string, number>;
}

export class MerakiReceiverError extends Error {
  constructor(
    readonly code: 'MERAKI_BAD_OPTIONS' | 'MERAKI_AP_MAP_INVALID' | 'MERAKI_NOT_STARTED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULT_PATH = '/meraki';
const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
const DEFAULT_WRITABLE_TIMEOUT_MS = 10_000;
const LOG_INTERVAL_MS = 10_000;

/** Reads and checks an AP map file; throws one error listing every problem with its line. */
export function readApMapFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MerakiReceiverError('MERAKI_AP_MAP_INVALID', `cannot read the AP map ${path}`, { cause: err });
  }
  const { apSensors, problems } = parseApMap(text);
  if (problems.length > 0)
    throw new MerakiReceiverError('MERAKI_AP_MAP_INVALID', `${path}:\n  ${problems.join('\n  ')}`);
  if (apSensors.size === 0) throw new MerakiReceiverError('MERAKI_AP_MAP_INVALID', `${path} maps no AP`);
  return apSensors;
}

function resolvesWithin(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}

export function createMerakiReceiver(options: MerakiReceiverOptions): MerakiReceiver {
  if (options.validator.length === 0 || options.secret.length === 0)
    throw new MerakiReceiverError('MERAKI_BAD_OPTIONS', 'the Meraki validator and secret must not be empty');
  const path = options.path ?? DEFAULT_PATH;
  if (!path.startsWith('/')) throw new MerakiReceiverError('MERAKI_BAD_OPTIONS', 'path must start with "/"');
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? Date;
  const log = options.logger.child({ source: 'meraki' });
  const writableTimeoutMs = options.writableTimeoutMs ?? DEFAULT_WRITABLE_TIMEOUT_MS;
  const recent = createRecentRecords({
    windowMs: options.dedupWindowMs,
    maxEntries: options.maxRememberedRecords,
  });
  const counts = createMerakiCounts();
  const http = {
    validatorRequests: 0,
    posts: 0,
    accepted: 0,
    badSecret: 0,
    invalid: 0,
    tooLarge: 0,
    busy: 0,
  };
  let lastInvalidLogMs = Number.NEGATIVE_INFINITY;
  let sink: ReadingSink | undefined;
  let listeningUrl: string | undefined;

  const fastifyLog: FastifyBaseLogger = log;
  const app = Fastify({
    loggerInstance: fastifyLog,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
  });
  // The body is read as text whatever its content type, and parsed by meraki-v3.ts, so that
  // every failure is counted and answered the same way.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  function noteInvalid(reason: string): void {
    http.invalid++;
    const now = clock.now();
    if (now - lastInvalidLogMs < LOG_INTERVAL_MS) return;
    lastInvalidLogMs = now;
    log.warn({ reason: redactMacs(reason), invalid: http.invalid }, 'refused an invalid Meraki post');
  }

  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (err.statusCode === 413) {
      http.tooLarge++;
      return reply.code(413).type('text/plain').send('body too large');
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      noteInvalid(err.code ?? 'bad request');
      return reply.code(err.statusCode).type('text/plain').send(redactMacs(err.message));
    }
    log.error({ err }, 'Meraki receiver request failed');
    return reply.code(500).type('text/plain').send('internal error');
  });

  app.get(path, (_request, reply) => {
    http.validatorRequests++;
    return reply.type('text/plain').send(options.validator);
  });

  app.post(path, async (request, reply) => {
    http.posts++;
    const text = typeof request.body === 'string' ? request.body : '';
    const read = readMerakiPost(text, options.secret);
    if (read.kind === 'badSecret') {
      http.badSecret++;
      return reply.code(403).type('text/plain').send('wrong secret');
    }
    if (read.kind === 'invalid') {
      noteInvalid(read.reason);
      return reply.code(400).type('text/plain').send(read.reason);
    }
    const target = sink;
    if (!target) return reply.code(503).type('text/plain').send('not started');
    if (!(await resolvesWithin(target.whenWritable(), writableTimeoutMs))) {
      http.busy++;
      return reply.code(503).type('text/plain').send('gateway busy, retry later');
    }
    const { wifi, ble } = toMerakiSightings(
      read.post,
      { apSensors: options.apSensors, recent, nowMs: clock.now(), decodeBeacon: options.decodeBeacon },
      counts,
    );
    if (wifi.length > 0) target.pushWifi(wifi);
    if (ble.length > 0) target.pushBle(ble);
    http.accepted++;
    return reply.code(202).send();
  });

  return {
    async start(s) {
      sink = s;
      await app.listen({ host, port: options.port });
      const address = app.server.address() as AddressInfo;
      const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      listeningUrl = `http://${urlHost}:${address.port}${path}`;
      log.info({ url: listeningUrl, aps: options.apSensors.size }, 'Meraki receiver listening');
    },
    async stop() {
      // Waits for requests in progress: after this nothing more is pushed.
      await app.close();
      sink = undefined;
    },
    url() {
      if (!listeningUrl)
        throw new MerakiReceiverError('MERAKI_NOT_STARTED', 'the Meraki receiver is not started');
      return listeningUrl;
    },
    stats: () => ({ ...http, ...counts, rememberedRecords: recent.size(), evictedRecords: recent.evicted() }),
  };
}
