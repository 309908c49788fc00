import { describe, expect, it } from 'vitest';
import { decodeGatewayMessage } from '../../core/src/decode.ts';
import { WifiBatch } from '../../core/src/messages.ts';
import { isPlainWifiBatch } from '../../core/src/wifi-batch-check.ts';
import { createRng } from '../../simulators/src/rng.ts';

// The hand check must agree with the zod schema: it accepts exactly the batches the schema
// accepts without dropping anything (so the ingest gets the same object either way), and
// everything else is left to the schema, which names the reason.

const T = Date.UTC(2026, 10, 21, 10, 0, 0);
const rng = createRng(20261121);
const pick = <V>(values: readonly V[]): V => values[Math.floor(rng.next() * values.length)] as V;
const hex = (n: number) => Array.from({ length: n }, () => pick([...'0123456789abcdef'])).join('');

function validReading(): Record<string, unknown> {
  const r: Record<string, unknown> = {
    sensorId: pick(['s-1', 'l1-atrium', 'a', `x_${hex(4)}`]),
    heardAt: T + Math.floor(rng.next() * 86_400_000),
    rssiDbm: -127 + Math.floor(rng.next() * 148),
    device: hex(32),
    randomized: rng.next() < 0.3,
  };
  if (rng.next() < 0.5) r.frameSeq = Math.floor(rng.next() * 4096);
  if (rng.next() < 0.3) r.ieFingerprint = hex(16);
  return r;
}

function validBatch(): Record<string, unknown> {
  const readings = Array.from({ length: 1 + Math.floor(rng.next() * 5) }, validReading);
  return { v: 1, gw: pick(['gw-1', 'gw-l2', 'g']), seq: Math.floor(rng.next() * 1e12), sentAt: T, readings };
}

/** Values to put in a field: valid edges, wrong types, out of range, malformed strings. */
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  true,
  0,
  -0,
  1,
  -1,
  0.5,
  -127,
  -128,
  20,
  21,
  4095,
  4096,
  946_684_800_000,
  946_684_799_999,
  4_102_444_800_000,
  4_102_444_800_001,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  1e300,
  '',
  '1',
  '-61',
  'gw-1',
  'A',
  'a/b',
  '-a',
  'aa:bb:cc:dd:ee:ff',
  '65483338ba669acf4e21376484390738',
  '65483338BA669ACF4E21376484390738',
  '0123456789abcdef',
  '0123456789abcdeg',
  [],
  [1],
  {},
];
const BATCH_KEYS = ['v', 'gw', 'seq', 'sentAt', 'readings', 'extra'];
const READING_KEYS = [
  'sensorId',
  'heardAt',
  'rssiDbm',
  'device',
  'randomized',
  'frameSeq',
  'ieFingerprint',
  'x',
];

function mutants(): unknown[] {
  const out: unknown[] = [null, [], 'batch', 1, { ...validBatch(), readings: [] }];
  out.push({ ...validBatch(), readings: Array.from({ length: 5001 }, validReading) });
  out.push({ ...validBatch(), readings: Array.from({ length: 5000 }, validReading) });
  for (const key of BATCH_KEYS)
    for (const value of ODD_VALUES) {
      const b = validBatch();
      if (value === undefined) delete b[key];
      else b[key] = value;
      out.push(b);
    }
  for (const key of READING_KEYS)
    for (const value of ODD_VALUES) {
      const b = validBatch();
      const readings = b.readings as Record<string, unknown>[];
      const r = readings[Math.floor(rng.next() * readings.length)] as Record<string, unknown>;
      if (value === undefined) delete r[key];
      else r[key] = value;
      out.push(b);
    }
  const b = validBatch();
  (b.readings as unknown[]).push('not a reading');
  out.push(b);
  out.push(JSON.parse('{"v":1,"gw":"g","seq":1,"sentAt":1763719200000,"__proto__":{},"readings":[]}'));
  return out;
}

function schemaTakesAsIs(x: unknown): boolean {
  const parsed = WifiBatch.safeParse(x);
  if (!parsed.success) return false;
  try {
    expect(parsed.data).toStrictEqual(x);
    return true;
  } catch {
    return false; // the schema dropped or changed something
  }
}

describe('isPlainWifiBatch', () => {
  it('accepts generated valid batches, as the schema does', () => {
    for (let i = 0; i < 500; i++) {
      const b = JSON.parse(JSON.stringify(validBatch()));
      expect(isPlainWifiBatch(b)).toBe(true);
      expect(WifiBatch.parse(b)).toStrictEqual(b);
    }
  });

  it('agrees with the schema on every mutated batch (accepts exactly what it takes as it is)', () => {
    const cases = mutants();
    let accepted = 0;
    let rejected = 0;
    for (const m of cases) {
      const x = m === undefined ? m : JSON.parse(JSON.stringify(m));
      const fast = isPlainWifiBatch(x);
      expect({ batch: x, fast }).toEqual({ batch: x, fast: schemaTakesAsIs(x) });
      if (fast) accepted++;
      else rejected++;
    }
    // Both sides are exercised: boundary values that are valid, and many that are not.
    expect(accepted).toBeGreaterThan(30);
    expect(rejected).toBeGreaterThan(200);
  });

  it('leaves a batch with a key the schema drops to the schema', () => {
    const b = { ...validBatch(), note: 'x' };
    expect(isPlainWifiBatch(b)).toBe(false);
    expect(WifiBatch.safeParse(b).success).toBe(true);
  });
});

describe('decodeGatewayMessage with the hand check', () => {
  it('gives the same batch as the schema, and the schema reason for a bad one', () => {
    const topic = 'mallflow/v1/joy/gw/gw-1/wifi';
    const b: Record<string, unknown> = { ...validBatch(), gw: 'gw-1' };
    const d = decodeGatewayMessage(topic, JSON.stringify(b));
    expect(d.ok && 'batch' in d && d.batch).toStrictEqual(WifiBatch.parse(b));
    (b.readings as Record<string, unknown>[])[0]!.rssiDbm = -300;
    const bad = decodeGatewayMessage(topic, JSON.stringify(b));
    expect(bad.ok === false && bad.reason).toMatch(/readings\.0\.rssiDbm/);
  });
});
