import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isRandomizedMac, pseudonymize, WifiReading } from '../../core/src/index.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';
import type { MallSimOptions, RawWifiSighting } from '../../simulators/src/mall-sim.ts';
import { createMallSim } from '../../simulators/src/mall-sim.ts';

const JOY_CITY = loadShippedLayout('joy-city');
const START_MS = Date.UTC(2025, 5, 7, 2, 0, 0); // 10:00 in Shanghai
const MINUTE_MS = 60_000;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Runs the sim for `minutes`, stepping every `stepMs`, and returns every sighting. */
function run(options: Partial<MallSimOptions>, minutes: number, stepMs = MINUTE_MS): RawWifiSighting[] {
  const sim = createMallSim({ layout: JOY_CITY, seed: 7, startMs: START_MS, ...options });
  const out: RawWifiSighting[] = [];
  const endMs = START_MS + minutes * MINUTE_MS;
  for (let t = START_MS + stepMs; t < endMs + stepMs; t += stepMs) {
    for (const s of sim.step(Math.min(t, endMs))) out.push(s);
  }
  return out;
}

describe('mall simulation determinism', () => {
  const first = run({ seed: 7 }, 30);

  it('produces a plausible number of sightings', () => {
    expect(first.length).toBeGreaterThan(10_000);
  });

  it('gives identical output for the same seed', () => {
    expect(JSON.stringify(run({ seed: 7 }, 30))).toBe(JSON.stringify(first));
  });

  it('does not depend on how time is sliced into steps', () => {
    const oneStep = run({ seed: 7 }, 30, 30 * MINUTE_MS);
    const oddSteps = run({ seed: 7 }, 30, 7_777);
    expect(JSON.stringify(oneStep)).toBe(JSON.stringify(first));
    expect(JSON.stringify(oddSteps)).toBe(JSON.stringify(first));
  });

  it('gives different output for a different seed', () => {
    const other = run({ seed: 8 }, 30);
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(first));
  });

  it('returns sightings sorted by heardAt, each step exactly its window', () => {
    const outOfOrder = first.filter((s, i) => i > 0 && s.heardAt < first[i - 1]!.heardAt);
    expect(outOfOrder).toEqual([]);
    expect(first[0]!.heardAt).toBeGreaterThanOrEqual(START_MS);
    expect(first.at(-1)!.heardAt).toBeLessThan(START_MS + 30 * MINUTE_MS);
    const sim = createMallSim({ layout: JOY_CITY, seed: 7, startMs: START_MS });
    for (let t = START_MS + 7_777; t < START_MS + 10 * MINUTE_MS; t += 7_777) {
      const from = sim.nowMs();
      const out = sim.stepAll(t);
      for (const s of [...out.wifi, ...out.ble]) {
        expect(s.heardAt).toBeGreaterThanOrEqual(from);
        expect(s.heardAt).toBeLessThan(t);
      }
    }
  });

  it('emits integer RSSI within [-95, -20], known sensors and 12-bit frame sequence numbers', () => {
    const sensorIds = new Set(JOY_CITY.sensors.filter((s) => s.kind !== 'scale').map((s) => s.id));
    const bad = first.filter(
      (s) =>
        !Number.isInteger(s.rssiDbm) ||
        s.rssiDbm < -95 ||
        s.rssiDbm > -20 ||
        !Number.isInteger(s.frameSeq) ||
        s.frameSeq < 0 ||
        s.frameSeq > 4095 ||
        !sensorIds.has(s.sensorId),
    );
    expect(bad).toEqual([]);
    // The radio model spreads readings over the range rather than piling up at a clamp.
    const rssi = first.map((s) => s.rssiDbm);
    expect(Math.min(...rssi)).toBeLessThan(-85);
    expect(Math.max(...rssi)).toBeGreaterThan(-45);
  });

  it('increments frameSeq by one per frame of a MAC', () => {
    const lastByMac = new Map<string, { heardAt: number; frameSeq: number }>();
    let checked = 0;
    const badGaps: string[] = [];
    for (const s of first) {
      const last = lastByMac.get(s.mac);
      if (last && last.heardAt === s.heardAt) continue; // the same frame, heard by another sensor
      if (last) {
        // A later frame carries the next seq, unless every sensor missed the frames in between.
        const gap = (s.frameSeq - last.frameSeq + 4096) % 4096;
        if (gap < 1 || gap > 6) badGaps.push(`${s.mac} at ${s.heardAt}: +${gap}`);
        checked++;
      }
      lastByMac.set(s.mac, { heardAt: s.heardAt, frameSeq: s.frameSeq });
    }
    expect(badGaps).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('formats MACs as raw lower-case colon hex, with the configured share randomized', () => {
    // A rotation period longer than the run: one MAC per phone, so distinct MACs count phones.
    // No staff: their phones are never randomized.
    const sightings = run({ seed: 11, macRotationMs: 24 * 3_600_000, staff: 0 }, 30);
    const macs = new Set(sightings.map((s) => s.mac));
    for (const mac of macs) {
      expect(mac).toMatch(MAC);
      expect(Number.parseInt(mac.slice(0, 2), 16) & 0x01).toBe(0); // unicast
    }
    const randomized = [...macs].filter((mac) => isRandomizedMac(mac)).length;
    expect(macs.size).toBeGreaterThan(100);
    expect(randomized / macs.size).toBeGreaterThan(0.2);
    expect(randomized / macs.size).toBeLessThan(0.4);
  });

  it('rotates randomized MACs and keeps universal ones stable', () => {
    // Shoppers only: passers-by stay seconds, too short to rotate.
    const only = { staff: 0, passersByPerHour: 0 };
    const stable = run({ seed: 3, randomizedMacShare: 0, ...only }, 30);
    expect(stable.some((s) => isRandomizedMac(s.mac))).toBe(false);
    const rotatingMacs = new Set(
      run({ seed: 3, randomizedMacShare: 1, macRotationMs: 5 * MINUTE_MS, ...only }, 30).map((s) => s.mac),
    );
    const stableMacs = new Set(stable.map((s) => s.mac));
    expect([...rotatingMacs].every((mac) => isRandomizedMac(mac))).toBe(true);
    // Same arrivals (same seed), but each randomized phone shows several MACs over 30 minutes.
    expect(rotatingMacs.size).toBeGreaterThan(stableMacs.size * 2);
  });

  it('maps onto core WifiReading payloads once pseudonymized', () => {
    for (const s of first.slice(0, 500)) {
      const reading = {
        sensorId: s.sensorId,
        heardAt: s.heardAt,
        rssiDbm: s.rssiDbm,
        device: pseudonymize(s.mac, 'test-secret'),
        randomized: isRandomizedMac(s.mac),
        frameSeq: s.frameSeq,
      };
      expect(WifiReading.safeParse(reading).success).toBe(true);
    }
  });
});

/** Every reading and the ground truth of a run, hashed: the runs below are tens of megabytes of JSON. */
function fingerprint(
  options: Partial<MallSimOptions>,
  minutes: number,
  stepMs: number,
): { hashes: Record<string, string>; counts: Record<string, number> } {
  const sim = createMallSim({ layout: JOY_CITY, seed: 7, startMs: NOON_MS, scaleMembers: 2000, ...options });
  // One hash per kind, so that the readings count and not where the step boundaries fell.
  const hashes = { wifi: createHash('sha256'), ble: createHash('sha256'), scale: createHash('sha256') };
  const counts = { wifi: 0, ble: 0, scale: 0, intervals: 0 };
  const endMs = NOON_MS + minutes * MINUTE_MS;
  for (let t = NOON_MS + stepMs; t < endMs + stepMs; t += stepMs) {
    const out = sim.stepAll(Math.min(t, endMs));
    for (const kind of ['wifi', 'ble', 'scale'] as const) {
      for (const r of out[kind]) hashes[kind].update(`${JSON.stringify(r)}\n`);
      counts[kind] += out[kind].length;
    }
  }
  const truth = sim.truth();
  counts.intervals = truth.intervals.length;
  return {
    hashes: {
      wifi: hashes.wifi.digest('hex'),
      ble: hashes.ble.digest('hex'),
      scale: hashes.scale.digest('hex'),
      truth: createHash('sha256').update(JSON.stringify(truth)).digest('hex'),
    },
    counts,
  };
}
/** Saturday 2025-06-07, 11:30 in Shanghai: the lunch rush, with members weighing in. */
const NOON_MS = Date.UTC(2025, 5, 7, 3, 30);

describe('stepAll and truth determinism', () => {
  const base = fingerprint({}, 90, MINUTE_MS);

  it('produces WiFi, BLE and scale readings and a ground truth', () => {
    expect(base.counts.wifi).toBeGreaterThan(50_000);
    expect(base.counts.ble).toBeGreaterThan(5_000);
    expect(base.counts.scale).toBeGreaterThan(0);
    expect(base.counts.intervals).toBeGreaterThan(1_000);
  });

  it('is byte-identical for the same seed, however time is sliced', () => {
    expect(fingerprint({}, 90, MINUTE_MS)).toEqual(base);
    expect(fingerprint({}, 90, 7_777)).toEqual(base);
    expect(fingerprint({}, 90, 90 * MINUTE_MS)).toEqual(base);
  });

  it('differs for a different seed', () => {
    const other = fingerprint({ seed: 8 }, 90, MINUTE_MS).hashes;
    for (const key of ['wifi', 'ble', 'scale', 'truth']) expect(other[key]).not.toBe(base.hashes[key]);
  });
});

describe('probe intervals follow the screen', () => {
  it("bursts come faster while the screen is on than the phone's screen-off rhythm allows", async () => {
    const { createMallSim } = await import('../../simulators/src/mall-sim.ts');
    const { loadShippedLayout } = await import('../../simulators/src/load-layout.ts');
    const layout = loadShippedLayout('joy-city');
    const start = Date.UTC(2026, 10, 18, 3, 0, 0); // 11:00 in Shanghai, a Wednesday
    const sim = createMallSim({ layout, seed: 11, startMs: start });
    const sightings = sim.step(start + 2 * 3_600_000);
    // Gaps between bursts (first frames) of each MAC.
    const bursts = new Map<string, number[]>();
    for (const s of sightings) {
      const list = bursts.get(s.mac) ?? [];
      if (list.length === 0 || s.heardAt - list[list.length - 1]! > 1_000) list.push(s.heardAt);
      bursts.set(s.mac, list);
    }
    const gaps = [...bursts.values()].flatMap((l) => l.slice(1).map((t, i) => t - l[i]!));
    const short = gaps.filter((g) => g < 18_000).length; // only a screen-on phone probes this often
    expect(short / gaps.length).toBeGreaterThan(0.05);
    expect(short / gaps.length).toBeLessThan(0.6);
  });
});
