import { describe, expect, it } from 'vitest';
import {
  addSighting,
  advanceClock,
  closeMinutes,
  createOccupancyState,
  type OccupancyOptions,
} from '../../core/src/occupancy.ts';
import {
  coveredAt,
  createSessionState,
  drainClosed,
  endVisit,
  estimateVisitors,
  expireSessions,
  linkDevice,
  type OpenSession,
  observeBurst,
  openSessions,
  restoreSession,
  type SessionOptions,
  watchMinute,
} from '../../core/src/sessions.ts';
import { countSignalBurst, DEFAULT_VISITOR_RULE, type SignalWindow } from '../../core/src/visitor-rule.ts';
import { createRng } from '../../simulators/src/rng.ts';

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const MIN = 60_000;
const IDLE = { visitIdleMs: 10 * MIN };

describe('observeBurst → zone stays and visits', () => {
  it.each<
    [string, [string, number][], { stays: [string, number, number][]; visits: [number, number, number][] }]
  >([
    [
      'one zone, then silence: one stay, one visit, from first to last burst',
      [
        ['a', 0],
        ['a', 6 * MIN],
        ['a', 12 * MIN],
      ],
      { stays: [['a', 0, 12 * MIN]], visits: [[0, 12 * MIN, 1]] },
    ],
    [
      'a move splits the stays at the midpoint between the last burst here and the first there',
      [
        ['a', 0],
        ['a', 6 * MIN],
        ['a', 12 * MIN],
        ['b', 12 * MIN + 40_000],
        ['b', 20 * MIN],
      ],
      {
        stays: [
          ['a', 0, 12 * MIN + 20_000],
          ['b', 12 * MIN + 20_000, 20 * MIN],
        ],
        visits: [[0, 20 * MIN, 2]],
      },
    ],
    [
      'silence longer than the idle gap starts a new visit',
      [
        ['a', 0],
        ['a', 5 * MIN],
        ['a', 16 * MIN],
      ],
      {
        stays: [
          ['a', 0, 5 * MIN],
          ['a', 16 * MIN, 16 * MIN],
        ],
        visits: [
          [0, 5 * MIN, 1],
          [16 * MIN, 16 * MIN, 1],
        ],
      },
    ],
  ])('%s', (_name, bursts, expected) => {
    const state = createSessionState();
    for (const [zone, t] of bursts) observeBurst(state, 'dev', zone, T0 + t, -60, IDLE);
    expireSessions(state, T0 + 24 * 60 * MIN, IDLE);
    const { stays, visits } = drainClosed(state);
    expect(stays.map((s) => [s.zoneId, s.startMs - T0, s.endMs - T0])).toEqual(expected.stays);
    expect(visits.map((v) => [v.startMs - T0, v.endMs - T0, v.stays])).toEqual(expected.visits);
    expect(state.open).toBe(0);
  });

  it('never closes a stay that held no time: two stays of a device never start together', () => {
    // A zone walked through unheard, then a burst elsewhere at that very time (seen with late
    // readings): storage keys stays on (device, start), so a zero-length stay would collide with
    // the next one in the same write.
    const state = createSessionState();
    observeBurst(state, 'dev', 'corridor', T0, 0, IDLE, 0, true);
    observeBurst(state, 'dev', 'store', T0, -60, IDLE);
    observeBurst(state, 'dev', 'store', T0 + MIN, -60, IDLE);
    expireSessions(state, T0 + 24 * 60 * MIN, IDLE);
    const { stays, visits } = drainClosed(state);
    expect(stays.map((s) => [s.zoneId, s.startMs - T0, s.endMs - T0, s.bursts])).toEqual([
      ['store', 0, MIN, 2],
    ]);
    expect(visits.map((v) => [v.startMs - T0, v.stays, v.bursts])).toEqual([[0, 1, 2]]);
  });

  it('keeps an open visit open until the watermark is past the idle gap', () => {
    const state = createSessionState();
    observeBurst(state, 'dev', 'a', T0, -60, IDLE);
    expireSessions(state, T0 + 10 * MIN, IDLE);
    expect(drainClosed(state).visits).toEqual([]);
    expireSessions(state, T0 + 10 * MIN + 1, IDLE);
    expect(drainClosed(state).visits).toHaveLength(1);
  });
});

describe('sessions from sightings through the occupancy engine', () => {
  const options: OccupancyOptions = { presenceMs: 3 * MIN, allowedLatenessMs: 5_000, visitIdleMs: 10 * MIN };

  it('a burst heard by several sensors is one placement, at its strongest sensor, not a zone flip', () => {
    const state = createOccupancyState(options);
    for (let i = 0; i <= 36; i++) {
      const t = T0 + i * 20_000; // a probe burst every 20 s for 12 minutes
      addSighting(state, 'dev', 'corridor', -80, t);
      addSighting(state, 'dev', 'store-a', -55, t + 300);
    }
    for (let i = 0; i <= 24; i++) {
      const t = T0 + 12 * MIN + 20_000 + i * 20_000; // then 8 minutes in store B
      addSighting(state, 'dev', 'store-a', -85, t);
      addSighting(state, 'dev', 'store-b', -52, t + 200);
    }
    advanceClock(state, T0 + 60 * MIN);
    closeMinutes(state, []);
    const { stays, visits } = drainClosed(state.sessions);
    // Store A's stay begins half a probe interval (10 s) before its first burst: the phone was
    // there before it was first heard. Store B's, the visit's last, goes on for the zone model's
    // median remaining store stay (ln 2 × 5 min = 208 s) after its last burst: heard there
    // before, it fell silent there rather than walked out unheard.
    expect(stays.map((s) => [s.zoneId, Math.round((s.endMs - s.startMs) / 1000)])).toEqual([
      ['store-a', 10 + 12 * 60 + 10],
      ['store-b', 8 * 60 + 10 + 208],
    ]);
    expect(visits).toHaveLength(1);
    expect(Math.round((visits[0]!.endMs - visits[0]!.startMs) / 1000)).toBe(10 + 20 * 60 + 20 + 208);
  });

  it('a randomized phone that rotates its MAC in place stays one visit under its first MAC', () => {
    const state = createOccupancyState(options);
    const probe = (mac: string, t: number, rssi: number) => {
      addSighting(state, mac, 'store-a', rssi, t, true);
      addSighting(state, mac, 'corridor', rssi - 20, t + 20, true);
    };
    for (let t = 0; t < 10 * MIN; t += 30_000) probe('old-mac', T0 + t, -55);
    for (let t = 10 * MIN; t < 20 * MIN; t += 30_000) probe('new-mac', T0 + t, -56);
    advanceClock(state, T0 + 60 * MIN);
    closeMinutes(state, []);
    const { stays, visits } = drainClosed(state.sessions);
    expect(visits.map((v) => [v.device, v.devices, v.passerBy])).toEqual([['old-mac', 2, false]]);
    // Each MAC keeps its own stays (they are what was heard), split where the rotation fell.
    expect(stays.map((s) => [s.device, s.zoneId, s.visitDevice])).toEqual([
      ['old-mac', 'store-a', 'old-mac'],
      ['new-mac', 'store-a', 'old-mac'],
    ]);
    expect(stays[0]!.endMs).toBe(T0 + 10 * MIN - 15_000);
    expect(stays[1]!.startMs).toBe(stays[0]!.endMs);
  });

  it('a new randomized MAC elsewhere, out of rhythm, is someone else', () => {
    const state = createOccupancyState(options);
    for (let t = 0; t < 10 * MIN; t += 30_000) addSighting(state, 'old-mac', 'store-a', -55, T0 + t, true);
    // 7 s after the old MAC's last burst, at another rhythm: not a rotation of it.
    for (let t = 10 * MIN - 23_000; t < 20 * MIN; t += 13_000)
      addSighting(state, 'other', 'store-b', -70, T0 + t, true);
    advanceClock(state, T0 + 60 * MIN);
    closeMinutes(state, []);
    const { visits } = drainClosed(state.sessions);
    expect(visits.map((v) => [v.device, v.devices]).sort()).toEqual([
      ['old-mac', 1],
      ['other', 1],
    ]);
  });
});

describe('linkDevice, passers-by and coverage', () => {
  const OUTSIDE: SessionOptions = { visitIdleMs: 10 * MIN, outsideZones: new Set(['street']) };
  /** The same, with a visitor rule three bursts meet (the linking tests are not about it). */
  const OUTSIDE_3: SessionOptions = { ...OUTSIDE, visitor: { ...DEFAULT_VISITOR_RULE, minBursts: 3 } };

  it('a linked successor continues the visit; a doubtful link is counted', () => {
    const state = createSessionState();
    observeBurst(state, 'm1', 'shop', T0, -60, OUTSIDE_3, 15_000);
    observeBurst(state, 'm1', 'shop', T0 + 5 * MIN, -60, OUTSIDE_3, 15_000);
    expect(linkDevice(state, 'm1', 'm2', true)).toBe(true);
    expect(linkDevice(state, 'm1', 'm3', false)).toBe(false); // m1 has handed its visit on
    observeBurst(state, 'm2', 'shop', T0 + 6 * MIN, -60, OUTSIDE_3, 15_000);
    expireSessions(state, T0 + 60 * MIN, OUTSIDE_3);
    const { stays, visits } = drainClosed(state);
    expect(visits).toEqual([
      {
        device: 'm1',
        startMs: T0,
        endMs: T0 + 6 * MIN + 15_000,
        stays: 2,
        bursts: 3,
        devices: 2,
        doubtfulLinks: 1,
        insideMs: 6 * MIN + 15_000,
        passerBy: false,
        orphan: false,
      },
    ]);
    expect(stays.map((s) => [s.device, s.startMs - T0, s.endMs - T0])).toEqual([
      ['m1', 0, 5.5 * MIN],
      ['m2', 5.5 * MIN, 6 * MIN + 15_000],
    ]);
  });

  // Default rule: ≥ 5 bursts within 20 min, the first ≥ −75 dBm, the rest ≥ −80 dBm; ≥ 60 s inside.
  const inside = (n: number, everyS: number, rssiDbm = -60): [string, number, number][] =>
    Array.from({ length: n }, (_, i) => ['shop', 60_000 + i * everyS * 1000, rssiDbm]);
  it.each<[string, [string, number, number][], boolean]>([
    ['only the street, heard strongly', [...Array(8)].map((_, i) => ['street', i * 20_000, -50]), true],
    [
      'a burst at the door',
      [
        ['street', 0, -60],
        ['entrance', 20_000, -60],
      ],
      true,
    ],
    ['five strong bursts over four minutes inside', [['street', 0, -70], ...inside(5, 60)], false],
    ['four bursts in twenty minutes', inside(4, 300), true],
    ['five bursts, but not within twenty minutes of each other', inside(5, 330), true],
    ['heard weakly throughout (−82 dBm)', inside(10, 30, -82), true],
    [
      'a weak first burst does not open the window; the strong one after it does',
      [
        ['shop', 0, -78],
        ...inside(5, 30, -70).map(([z, t], i): [string, number, number] => [z, t, i === 0 ? -70 : -79]),
      ],
      false,
    ],
    [
      'a burst below −80 dBm after the first does not count',
      [
        ['shop', 0, -70],
        ['shop', 30_000, -79],
        ['shop', 60_000, -81],
        ['shop', 90_000, -79],
        ['shop', 120_000, -79],
      ],
      true,
    ],
    [
      'five strong bursts, but under a minute inside',
      [
        ['street', 0, -60],
        ['entrance', 10_000, -60],
        ['entrance', 20_000, -60],
        ['street', 40_000, -60],
        ['street', 60_000, -60],
        ['street', 80_000, -60],
      ],
      true,
    ],
  ])('passer-by or visitor: %s', (_name, bursts, passerBy) => {
    const state = createSessionState();
    for (const [zone, t, rssi] of bursts) observeBurst(state, 'd', zone, T0 + t, rssi, OUTSIDE, 10_000);
    expireSessions(state, T0 + 120 * MIN, OUTSIDE);
    expect(drainClosed(state).visits.map((v) => v.passerBy)).toEqual([passerBy]);
  });

  it('the visitor rule is configurable: three weak bursts make a visitor under a laxer rule', () => {
    const lax: SessionOptions = {
      ...OUTSIDE,
      visitor: { minBursts: 3, windowMs: 5 * MIN, firstRssiDbm: -85, rssiDbm: -90, minInsideMs: 30_000 },
    };
    const state = createSessionState();
    for (const [zone, t, rssi] of inside(3, 30, -84))
      observeBurst(state, 'd', zone, T0 + t, rssi, lax, 10_000);
    expireSessions(state, T0 + 60 * MIN, lax);
    expect(drainClosed(state).visits.map((v) => v.passerBy)).toEqual([false]);
  });

  it('classes a visit as visitor-rule.ts does, whether its signal window fits inline or not', () => {
    // Sessions keep up to four bursts of the window inline, as whole dBm; a stricter rule or an
    // RSSI that is not whole takes the other path. Both must agree with countSignalBurst.
    const rng = createRng(7);
    for (let run = 0; run < 2_000; run++) {
      const rule = { ...DEFAULT_VISITOR_RULE, minBursts: 2 + (run % 7), windowMs: 3 * MIN, minInsideMs: 0 };
      const options: SessionOptions = { ...OUTSIDE, visitor: rule };
      const fractional = run % 3 === 0;
      const window: SignalWindow = { atMs: [], rssiDbm: [] };
      let met = false;
      const state = createSessionState();
      let t = 0;
      for (let b = 0; b < 20; b++) {
        t += Math.floor(rng.next() * 80_000);
        const rssi = -73 - Math.floor(rng.next() * 8) - (fractional ? 0.5 : 0);
        if (!met) met = countSignalBurst(window, T0 + t, rssi, rule);
        observeBurst(state, 'd', 'shop', T0 + t, rssi, options, 10_000);
      }
      expireSessions(state, T0 + 120 * MIN, options);
      expect(drainClosed(state).visits.map((v) => v.passerBy)).toEqual([!met]);
    }
  });

  it('an inferred burst places a stay but counts no burst', () => {
    const state = createSessionState();
    observeBurst(state, 'd', 'a', T0, -60, IDLE, 0);
    observeBurst(state, 'd', 'corridor', T0 + 20_000, -60, IDLE, 0, true);
    observeBurst(state, 'd', 'b', T0 + 40_000, -60, IDLE, 0);
    expireSessions(state, T0 + 60 * MIN, IDLE);
    const { stays, visits } = drainClosed(state);
    expect(stays.map((s) => [s.zoneId, s.bursts])).toEqual([
      ['a', 1],
      ['corridor', 0],
      ['b', 1],
    ]);
    expect(visits[0]!.bursts).toBe(2);
  });

  it("a stay's confidence is the mean of its bursts heard; a stay walked through unheard has none", () => {
    const state = createSessionState();
    observeBurst(state, 'd', 'a', T0, -60, IDLE, 0, false, 0.9);
    observeBurst(state, 'd', 'a', T0 + 20_000, -60, IDLE, 0, false, 0.5);
    observeBurst(state, 'd', 'corridor', T0 + 40_000, 0, IDLE, 0, true, 0.1); // inferred: its confidence is not a decision's
    observeBurst(state, 'd', 'b', T0 + 60_000, -60, IDLE, 0, false, 0.8);
    // A restored stay whose snapshot had no confidences (before they were kept): unknown, not 0.
    const [[device, open]] = openSessions(state) as [[string, OpenSession]];
    const restored = createSessionState();
    restoreSession(restored, device, { ...open, stayConfidence: undefined });
    observeBurst(restored, 'd', 'b', T0 + 80_000, -60, IDLE, 0, false, 1);
    expireSessions(state, T0 + 60 * MIN, IDLE);
    endVisit(restored, 'd', IDLE);
    const stays = drainClosed(state).stays;
    expect(stays.map((x) => x.zoneId)).toEqual(['a', 'corridor', 'b']);
    // Summed in a Float32 column: equal to 6 digits.
    expect(stays[0]!.confidence).toBeCloseTo(0.7, 6);
    expect(stays[1]!.confidence).toBeNull();
    expect(stays[2]!.confidence).toBeCloseTo(0.8, 6);
    expect(drainClosed(restored).stays.map((x) => [x.zoneId, x.bursts, x.confidence])).toEqual([
      ['b', 2, null],
    ]);
  });

  it('counts the stays covering a watched instant, closed and open', () => {
    const state = createSessionState();
    watchMinute(state, T0 + 2 * MIN);
    observeBurst(state, 'x', 'a', T0, -60, IDLE, 0);
    observeBurst(state, 'x', 'b', T0 + 3 * MIN, -60, IDLE, 0); // a covers 0..1:30, b from 1:30
    observeBurst(state, 'y', 'a', T0 + MIN, -60, IDLE, 0); // open, began before 2:00
    observeBurst(state, 'z', 'a', T0 + 2 * MIN + 1, -60, IDLE, 0); // began after
    expect(Object.fromEntries(coveredAt(state, T0 + 2 * MIN))).toEqual({ b: 1, a: 1 });
    expect(state.coverage.size).toBe(0);
  });
});

describe('estimateVisitors', () => {
  it('counts each visit device once, leaves passers-by out, and brackets the linker’s doubts', () => {
    const v = (device: string, passerBy = false, orphan = false, doubtfulLinks = 0) => ({
      device,
      passerBy,
      orphan,
      doubtfulLinks,
    });
    expect(
      estimateVisitors([v('a'), v('a'), v('b', false, true), v('c', false, false, 2), v('p', true, true)]),
    ).toEqual({ visitors: 3, low: 2, high: 5 });
  });
});
