import { describe, expect, it } from 'vitest';
import {
  burstDistanceDb,
  createLinkerState,
  DEFAULT_LINKER,
  findPredecessor,
  type LinkCandidate,
  noteRandomizedBurst,
} from '../../core/src/device-linker.ts';
import { createZoneGraph } from '../../core/src/zone-graph.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';

const layout = loadShippedLayout('joy-city');
const g = createZoneGraph(layout);
const z = (id: string) => g.byId.get(id)!;
const o = DEFAULT_LINKER;
const RETAIN_MS = 10 * 60_000;

/** Randomized devices that stopped at `lastStepMs` in `zone`, with their rhythm and last burst. */
function world(candidates: LinkCandidate[]) {
  const state = createLinkerState();
  for (const c of [...candidates].sort((a, b) => a.lastStepMs - b.lastStepMs)) {
    noteRandomizedBurst(state, c.device, c.lastStepMs, RETAIN_MS);
  }
  const byDevice = new Map(candidates.map((c) => [c.device, c]));
  return { state, candidateOf: (d: string) => byDevice.get(d) };
}

const shop = z('l1-uniqlo');
const burst = { zones: [shop, z('l1-corridor-w')], rssiDbm: [-58, -71] };
const candidate = (
  device: string,
  lastStepMs: number,
  zone = shop,
  gapMs = 30_000,
  rssiDbm = burst.rssiDbm,
) => ({
  device,
  lastStepMs,
  lastZone: zone,
  gapMs,
  zones: zone === shop ? burst.zones : [zone],
  rssiDbm: zone === shop ? rssiDbm : [-60],
});
const successor = (firstMs: number, zone = shop, gapMs = 30_000) => ({
  device: 'new',
  firstMs,
  firstZone: zone,
  gapMs,
  zones: burst.zones,
  rssiDbm: [-57, -72],
});

describe('findPredecessor', () => {
  it('links the MAC that fell silent one probe interval before, in the same place', () => {
    const { state, candidateOf } = world([
      candidate('rotated', 100_000),
      candidate('still-going', 95_000, shop, 13_000), // another rhythm
      candidate('far', 101_000, z('b1-food-court')),
    ]);
    expect(findPredecessor(state, g, o, successor(130_000), candidateOf)).toEqual({
      device: 'rotated',
      doubtful: false,
    });
    expect(state.links).toBe(1);
  });

  it('a rhythm that changed with the screen still links (either device’s rhythm may fit)', () => {
    const { state, candidateOf } = world([candidate('rotated', 100_000, shop, 50_000)]);
    expect(findPredecessor(state, g, o, successor(115_000, shop, 15_000), candidateOf)?.device).toBe(
      'rotated',
    );
  });

  it('does not link a MAC heard again after the new one appeared, nor one silent too long', () => {
    const heardSince = { ...candidate('busy', 100_000), lastStepMs: 140_000 };
    const { state, candidateOf } = world([candidate('old', 100_000 - o.maxGapMs), heardSince]);
    expect(findPredecessor(state, g, o, successor(130_000), candidateOf)).toBeUndefined();
    expect(state.unlinked).toBe(1);
  });

  it('does not link across the mall: a zone too far to walk in the gap', () => {
    const { state, candidateOf } = world([candidate('elsewhere', 100_000, z('l3-corridor-w'))]);
    expect(findPredecessor(state, g, o, successor(130_000), candidateOf)).toBeUndefined();
  });

  it('never links on the street in front of the mall: someone left, someone else arrived', () => {
    const street = z('l1-outside-w');
    const { state, candidateOf } = world([candidate('leaving', 100_000, street)]);
    expect(findPredecessor(state, g, o, successor(130_000, street), candidateOf)).toBeUndefined();
  });

  it('two equally good predecessors make the link doubtful', () => {
    const { state, candidateOf } = world([candidate('a', 100_000), candidate('b', 100_000)]);
    const link = findPredecessor(state, g, o, successor(130_000), candidateOf);
    expect(link).toEqual({ device: 'a', doubtful: true }); // ties go to the smaller id
    expect(state.doubtfulLinks).toBe(1);
  });
});

describe('burstDistanceDb', () => {
  it('is the mean difference over the zones either burst heard, a missing zone reading 5 dB under the weakest', () => {
    expect(burstDistanceDb([1, 2], [-50, -70], [1, 2], [-52, -70])).toBe(1);
    expect(burstDistanceDb([1], [-50], [1, 2], [-50, -60])).toBe((0 + Math.abs(-60 - -55)) / 2);
  });
});

describe('noteRandomizedBurst', () => {
  it('keeps a burst that completed late in time order, so it can still be linked', () => {
    const state = createLinkerState();
    noteRandomizedBurst(state, 'other', 150_000, RETAIN_MS);
    noteRandomizedBurst(state, 'rotated', 100_000, RETAIN_MS); // late: older than the one before
    expect(state.recentMs.slice(state.head)).toEqual([100_000, 150_000]);
    const byDevice = new Map([['rotated', candidate('rotated', 100_000)]]);
    expect(findPredecessor(state, g, o, successor(130_000), (d) => byDevice.get(d))?.device).toBe('rotated');
  });
});
