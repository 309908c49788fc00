import { ID_PATTERN, PSEUDONYM_PATTERN } from './ids.ts';
import { MAX_READINGS_PER_BATCH, type WifiBatch } from './messages.ts';

// The WiFi batch schema checked by hand, for the ingest's hot path: the zod schema takes about
// twice JSON.parse's time on a batch and copies every reading (measured in `npm run bench`'s
// ingest profile). This check only ever accepts: anything it is not sure of (a failed check, a
// key the schema does not know) is left to the zod schema, which decides and names the reason.
// Accepted means `WifiBatch.parse` returns an equal object (tests/unit/wifi-batch-check.test.ts
// compares the two on generated and mutated batches). Keep it in step with `messages.ts`.

const EPOCH_MS_MIN = 946_684_800_000;
const EPOCH_MS_MAX = 4_102_444_800_000;
const FINGERPRINT_PATTERN = /^[0-9a-f]{16}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isEpochMs = (v: unknown): boolean =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= EPOCH_MS_MIN && v <= EPOCH_MS_MAX;

function keyCount(o: object): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k)) n++;
  return n;
}

function isPlainWifiReading(r: unknown): boolean {
  if (!isObject(r)) return false;
  const { sensorId, heardAt, rssiDbm, device, randomized, frameSeq, ieFingerprint } = r;
  if (typeof sensorId !== 'string' || !ID_PATTERN.test(sensorId)) return false;
  if (!isEpochMs(heardAt)) return false;
  if (typeof rssiDbm !== 'number' || !Number.isSafeInteger(rssiDbm) || rssiDbm < -127 || rssiDbm > 20)
    return false;
  if (typeof device !== 'string' || !PSEUDONYM_PATTERN.test(device)) return false;
  if (typeof randomized !== 'boolean') return false;
  let keys = 5;
  if (frameSeq !== undefined) {
    if (typeof frameSeq !== 'number' || !Number.isSafeInteger(frameSeq) || frameSeq < 0 || frameSeq > 4095)
      return false;
    keys++;
  }
  if (ieFingerprint !== undefined) {
    if (typeof ieFingerprint !== 'string' || !FINGERPRINT_PATTERN.test(ieFingerprint)) return false;
    keys++;
  }
  return keyCount(r) === keys;
}

/** True only if `json` is a valid WiFi batch with no key the schema would drop. */
export function isPlainWifiBatch(json: unknown): json is WifiBatch {
  if (!isObject(json)) return false;
  const { v, gw, seq, sentAt, readings } = json;
  if (v !== 1 || typeof gw !== 'string' || !ID_PATTERN.test(gw)) return false;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return false;
  if (!isEpochMs(sentAt)) return false;
  if (!Array.isArray(readings) || readings.length < 1 || readings.length > MAX_READINGS_PER_BATCH)
    return false;
  if (keyCount(json) !== 5) return false;
  for (const r of readings) if (!isPlainWifiReading(r)) return false;
  return true;
}
