import { describe, expect, it } from 'vitest';
import {
  addSighting,
  advanceClock,
  closeMinutes,
  createOccupancyState,
  type OccupancyOptions,
} from '../../core/src/occupancy.ts';
import { createSessionState, drainClosed, expireSessions, observeBurst } from '../../core/src/sessions.ts';

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
    for (const [zone, t] of bursts) observeBurst(state, 'dev', zone, T0 + t, IDLE);
    expireSessions(state, T0 + 24 * 60 * MIN, IDLE);
    const { stays, visits } = drainClosed(state);
    expect(stays.map((s) => [s.zoneId, s.startMs - T0, s.endMs - T0])).toEqual(expected.stays);
    expect(visits.map((v) => [v.startMs - T0, v.endMs - T0, v.stays])).toEqual(expected.visits);
    expect(state.devices.size).toBe(0);
  });

  it('keeps an open visit open until the watermark is past the idle gap', () => {
    const state = createSessionState();
    observeBurst(state, 'dev', 'a', T0, IDLE);
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
    expect(stays.map((s) => [s.zoneId, Math.round((s.endMs - s.startMs) / 1000)])).toEqual([
      ['store-a', 12 * 60 + 10],
      ['store-b', 8 * 60 + 10],
    ]);
    expect(visits).toHaveLength(1);
    expect(visits[0]!.endMs - visits[0]!.startMs).toBe(20 * MIN + 20_000);
  });
});
