import { describe, expect, it } from 'vitest';
import { createRadioMap, scoreZone } from '../../core/src/radio-map.ts';
import {
  addStep,
  createZoneTrack,
  DEFAULT_ZONE_ESTIMATOR,
  decideOldest,
  type ZoneTrack,
} from '../../core/src/zone-estimator.ts';
import {
  createZoneGraph,
  UNREACHABLE_HOPS,
  type ZoneGraph,
  zoneHops,
  zoneIndex,
  zonesBetween,
} from '../../core/src/zone-graph.ts';
import { loadShippedLayout } from '../../simulators/src/load-layout.ts';

const small = loadShippedLayout('small-store');
const joy = loadShippedLayout('joy-city');

describe('zone graph', () => {
  const g = createZoneGraph(small);
  const i = (id: string) => g.byId.get(id)!;

  it('counts hops along the adjacency: stores meet only through the aisle', () => {
    expect(zoneHops(g, i('g-fashion'), i('g-fashion'))).toBe(0);
    expect(zoneHops(g, i('g-fashion'), i('g-aisle'))).toBe(1);
    expect(zoneHops(g, i('g-fashion'), i('g-beauty'))).toBe(2);
    expect(zoneHops(g, i('g-entrance'), i('g-beauty'))).toBe(2);
  });

  it('fills in the zones of the shortest walk between two zones', () => {
    expect(zonesBetween(g, i('g-fashion'), i('g-beauty')).map((z) => g.ids[z])).toEqual(['g-aisle']);
    expect(zonesBetween(g, i('g-fashion'), i('g-aisle'))).toEqual([]);
  });

  it('floors join only through escalators and lifts', () => {
    const j = createZoneGraph(joy);
    const hops = zoneHops(j, j.byId.get('b1-pop-mart')!, j.byId.get('l1-outside-w')!);
    expect(hops).toBeGreaterThan(3);
    expect(hops).toBeLessThan(UNREACHABLE_HOPS);
    const path = zonesBetween(j, j.byId.get('b1-pop-mart')!, j.byId.get('l1-outside-w')!).map(
      (z) => j.ids[z]!,
    );
    expect(path.some((id) => id.includes('escalator') || id.includes('lift'))).toBe(true);
  });

  it('numbers zones it does not know and puts them one hop from everything', () => {
    const e = createZoneGraph();
    const a = zoneIndex(e, 'a');
    const b = zoneIndex(e, 'b');
    expect([a, b, zoneIndex(e, 'a')]).toEqual([0, 1, 0]);
    expect(zoneHops(e, a, b)).toBe(1);
    expect(zonesBetween(e, a, b)).toEqual([]);
  });
});

describe('radio map', () => {
  const map = createRadioMap(small);
  const sensors = small.sensors.filter((s) => s.kind !== 'scale');
  const zone = (id: string) => small.zones.findIndex((z) => z.id === id);

  it('a burst fits the zone it came from better than its neighbours', () => {
    // Heard by fashion's own sensor 15 dB above the aisle's nearer one and far above the rest.
    const ids = ['g-fashion-ap1', 'g-aisle-ap1', 'g-aisle-ap2', 'g-beauty-ap1', 'g-checkout-ap1'];
    const rssi = [-50, -65, -78, -82, -80];
    const idx = ids.map((id) => map.sensorIndex.get(id)!);
    const fashion = scoreZone(map, zone('g-fashion'), idx, rssi);
    for (const other of ['g-aisle', 'g-beauty', 'g-checkout', 'g-entrance']) {
      expect(fashion).toBeGreaterThan(scoreZone(map, zone(other), idx, rssi));
    }
    expect(fashion).toBeLessThanOrEqual(0);
  });

  it('a zone out of range of a sensor that heard the burst cannot have sent it', () => {
    const j = createRadioMap(joy);
    const idx = [j.sensorIndex.get('b1-pop-mart-ap1')!];
    expect(
      scoreZone(
        j,
        joy.zones.findIndex((z) => z.id === 'l1-outside-w'),
        idx,
        [-60],
      ),
    ).toBe(Number.NEGATIVE_INFINITY);
  });

  it('knows every WiFi sensor of the layout, not the scales', () => {
    expect(map.sensorIndex.size).toBe(sensors.length);
  });
});

describe('zone track (fixed-lag Viterbi)', () => {
  const g: ZoneGraph = createZoneGraph(small);
  const i = (id: string) => g.byId.get(id)!;
  const o = DEFAULT_ZONE_ESTIMATOR;
  /** A burst heard in the given zones at those strengths (no radio map: per-zone rule). */
  const step = (track: ZoneTrack, atMs: number, heard: [string, number][]) =>
    addStep(
      track,
      g,
      o,
      {
        zones: heard.map(([z]) => i(z)),
        rssiDbm: heard.map(([, r]) => r),
        count: heard.length,
        sensors: [],
        sensorRssiDbm: [],
        sensorCount: 0,
      },
      atMs,
    );
  const decideAll = (track: ZoneTrack) => {
    const out: string[] = [];
    while (track.stepMs.length > 0) out.push(g.ids[decideOldest(track, g, o)]!);
    return out;
  };
  /** Decides every step: each decision's zone and confidence. */
  const decideAllSure = (track: ZoneTrack) => {
    const zones: string[] = [];
    const c: number[] = [];
    while (track.stepMs.length > 0) {
      zones.push(g.ids[decideOldest(track, g, o)]!);
      c.push(track.confidence);
    }
    return { zones, c };
  };
  const confidences = (track: ZoneTrack) => decideAllSure(track).c;
  /** A burst from the fashion store, heard in the aisle too. */
  const IN_FASHION: [string, number][] = [
    ['g-fashion', -55],
    ['g-aisle', -70],
  ];

  it('a lone burst pointing to a store across the aisle does not make the device jump there', () => {
    const track = createZoneTrack();
    for (let k = 0; k < 6; k++)
      step(track, k * 30_000, [
        ['g-fashion', -55],
        ['g-aisle', -70],
      ]);
    step(track, 6 * 30_000, [
      ['g-beauty', -60],
      ['g-fashion', -62],
    ]);
    step(track, 7 * 30_000, [
      ['g-fashion', -55],
      ['g-aisle', -70],
    ]);
    expect(decideAll(track)).toEqual(Array(8).fill('g-fashion'));
  });

  it('decides a burst with the ones after it: the move is dated to the first burst that showed it', () => {
    const track = createZoneTrack();
    for (let k = 0; k < 6; k++)
      step(track, k * 30_000, [
        ['g-fashion', -55],
        ['g-aisle', -70],
      ]);
    // A burst a little stronger in the aisle: on its own, not enough to leave fashion...
    step(track, 180_000, [
      ['g-aisle', -57],
      ['g-fashion', -60],
    ]);
    expect(g.ids[track.filtered]).toBe('g-fashion');
    // ...but the bursts after it show the walk on to beauty.
    step(track, 200_000, [
      ['g-aisle', -50],
      ['g-beauty', -62],
    ]);
    step(track, 220_000, [
      ['g-beauty', -50],
      ['g-aisle', -68],
    ]);
    step(track, 240_000, [
      ['g-beauty', -50],
      ['g-aisle', -68],
    ]);
    expect(decideAll(track)).toEqual([
      ...Array(6).fill('g-fashion'),
      'g-aisle',
      'g-aisle',
      'g-beauty',
      'g-beauty',
    ]);
  });

  it('every decided move is to the same or an adjacent zone when the bursts are close in time', () => {
    const track = createZoneTrack();
    const zones = ['g-fashion', 'g-beauty', 'g-kids', 'g-checkout', 'g-entrance'];
    for (let k = 0; k < 40; k++)
      step(track, k * 6_000, [
        [zones[(k * 7) % 5]!, -50],
        ['g-aisle', -70],
      ]);
    const decided = decideAll(track).map(i);
    for (let k = 1; k < decided.length; k++) {
      expect(zoneHops(g, decided[k - 1]!, decided[k]!)).toBeLessThanOrEqual(1);
    }
  });

  it('a step with one candidate is certain; a tie between n zones is 1/n', () => {
    const lone = createZoneTrack();
    step(lone, 0, [['g-fashion', -60]]);
    expect(confidences(lone)).toEqual([1]);
    // First bursts, nothing after them within the lag: the readings alone decide (no arrival zone).
    const two = createZoneTrack();
    step(two, 0, [
      ['g-fashion', -60],
      ['g-aisle', -60],
    ]);
    expect(confidences(two)).toEqual([0.5]);
    const three = createZoneTrack();
    step(three, 0, [
      ['g-fashion', -60],
      ['g-aisle', -60],
      ['g-beauty', -60],
    ]);
    expect(confidences(three)[0]).toBeCloseTo(1 / 3, 12);
  });

  it('steady bursts in one zone are near certain; a lone burst louder in the aisle next to it is doubtful', () => {
    const track = createZoneTrack();
    for (let k = 0; k < 6; k++) step(track, k * 30_000, IN_FASHION);
    step(track, 6 * 30_000, [
      ['g-aisle', -50],
      ['g-fashion', -62],
    ]);
    for (let k = 7; k < 10; k++) step(track, k * 30_000, IN_FASHION);
    const { zones, c } = decideAllSure(track);
    expect(zones).toEqual(Array(10).fill('g-fashion'));
    for (const k of [1, 2, 3, 4, 8, 9]) expect(c[k]).toBeGreaterThan(0.98);
    // Fashion, since the device was back there 30 s later, but the aisle explains it nearly as well.
    expect(c[6]).toBeGreaterThan(0.5);
    expect(c[6]).toBeLessThan(0.9);
  });

  it('the bursts after a step within the lag weigh in on its confidence', () => {
    const walk = (onToBeauty: boolean) => {
      const track = createZoneTrack();
      for (let k = 0; k < 6; k++) step(track, k * 30_000, IN_FASHION);
      // Stronger in the aisle, but not enough on its own to leave fashion.
      step(track, 180_000, [
        ['g-aisle', -57],
        ['g-fashion', -60],
      ]);
      const after: [string, number][] = onToBeauty
        ? [
            ['g-beauty', -50],
            ['g-aisle', -68],
          ]
        : IN_FASHION;
      for (const atMs of [200_000, 220_000, 240_000]) step(track, atMs, after);
      const { zones, c } = decideAllSure(track);
      return { zone: zones[6], confidence: c[6]! };
    };
    const stayed = walk(false);
    const walkedOn = walk(true);
    // Back in fashion afterwards: the aisle reading was noise, and fashion is near certain.
    expect(stayed.zone).toBe('g-fashion');
    expect(stayed.confidence).toBeGreaterThan(0.9);
    // On to beauty afterwards: the step was the walk out through the aisle.
    expect(walkedOn.zone).toBe('g-aisle');
    expect(walkedOn.confidence).toBeGreaterThan(0.5);
    expect(walkedOn.confidence).toBeLessThan(stayed.confidence);
  });
});
