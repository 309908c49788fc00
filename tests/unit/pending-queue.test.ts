import { describe, expect, it } from 'vitest';
import {
  comparePending,
  createPendingQueue,
  pendingSightings,
  pushPending,
  readyOrder,
  removeBefore,
} from '../../core/src/pending-queue.ts';
import { createRng } from '../../simulators/src/rng.ts';

// The queue hands sightings over in application order however they arrived: in order, out of
// order within an instant only (a frame reported by several sensors), or anyhow.

const T0 = Date.UTC(2026, 10, 21, 10);

function arrivals(seed: number, shuffle: 'none' | 'instants' | 'any', perInstant: number) {
  const rng = createRng(seed);
  const hex = (n: number) => n.toString(16).padStart(32, '0');
  const xs = Array.from({ length: 600 }, (_, i) => ({
    device: rng.next() < 0.2 ? `d${i % 7}` : hex(Math.floor(rng.next() * 12) * 0x1000000000000),
    zone: `z${Math.floor(rng.next() * 4)}`,
    rssi: -40 - Math.floor(rng.next() * 5),
    t: T0 + Math.floor(i / perInstant) * 1000,
    sensor: rng.next() < 0.1 ? undefined : `s${Math.floor(rng.next() * 5)}`,
  }));
  const swap = (i: number, j: number) => {
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  };
  for (let i = xs.length - 1; i > 0 && shuffle !== 'none'; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    if (shuffle === 'any' || xs[i]!.t === xs[j]!.t) swap(i, j);
  }
  return xs;
}

/** What any arrival order must become: a full sort by the queue's own comparison. */
function expected(q: ReturnType<typeof createPendingQueue>, watermarkMs: number) {
  const all = Array.from({ length: q.size }, (_, i) => i).filter((i) => q.heardAtMs[i]! < watermarkMs);
  return all.sort((a, b) => comparePending(q, a, b)).map((i) => key(q, i));
}
const key = (q: ReturnType<typeof createPendingQueue>, i: number) =>
  `${q.heardAtMs[i]} ${q.device[i]} ${q.zoneId[i]} ${q.rssiDbm[i]} ${q.sensorId[i]}`;

describe('pending queue', () => {
  it.each([
    ['in order', 'none', 3],
    ['out of order within instants', 'instants', 5],
    ['out of order within large instants (a coarse clock)', 'instants', 100],
    ['out of order anyhow', 'any', 5],
  ] as const)('hands over readings %s in application order, each once', (_name, shuffle, perInstant) => {
    for (const seed of [1, 2, 3]) {
      const q = createPendingQueue();
      const handed: string[] = [];
      const wanted: string[] = [];
      const xs = arrivals(seed, shuffle, perInstant);
      for (let step = 0; step < xs.length; step += 97) {
        for (const x of xs.slice(step, step + 97))
          pushPending(q, x.device, x.zone, x.rssi, x.t, false, x.sensor);
        const watermarkMs = T0 + (step / perInstant) * 1000 - 4_000;
        wanted.push(...expected(q, watermarkMs));
        const order = readyOrder(q, watermarkMs);
        handed.push(...Array.from(order, (i) => key(q, i)));
        removeBefore(q, watermarkMs);
      }
      const rest = pendingSightings(q).length;
      expect(handed).toEqual(wanted);
      expect(handed.length + rest).toBe(xs.length);
      expect(new Set(handed).size).toBeGreaterThan(handed.length / 2);
    }
  });

  it('shrinks back after a backlog, keeping what still waits', () => {
    const q = createPendingQueue();
    for (let i = 0; i < 20_000; i++) pushPending(q, `d${i % 50}`, 'z', -60, T0 + i, i % 2 === 0, 's');
    expect(q.heardAtMs.length).toBeGreaterThanOrEqual(20_000);
    const watermarkMs = T0 + 19_990;
    removeBefore(q, watermarkMs);
    expect(q.heardAtMs.length).toBeLessThanOrEqual(1024);
    expect(pendingSightings(q)).toEqual(
      Array.from({ length: 10 }, (_, k) => ({
        device: `d${(19_990 + k) % 50}`,
        zoneId: 'z',
        rssiDbm: -60,
        heardAtMs: T0 + 19_990 + k,
        randomized: k % 2 === 0,
        sensorId: 's',
      })),
    );
  });

  it('keeps its columns while it holds a steady stream (no shrinking and growing back each call)', () => {
    const q = createPendingQueue();
    let t = T0;
    const sizes = new Set<number>();
    for (let call = 0; call < 50; call++) {
      for (let i = 0; i < 1_500; i++) pushPending(q, `d${i % 40}`, 'z', -60, t++, false, 's');
      if (call > 2) sizes.add(q.heardAtMs.length);
      removeBefore(q, t - 400); // the last 400 wait for the watermark
      if (call > 2) sizes.add(q.heardAtMs.length);
    }
    expect(sizes.size).toBe(1);
  });
});
