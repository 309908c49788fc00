import { describe, expect, it } from 'vitest';
import { parseInstant } from '../../core/src/local-days.ts';

describe('parseInstant', () => {
  const SH = 'Asia/Shanghai';
  it.each<[string, boolean, number | undefined]>([
    ['2026-11-21', false, Date.UTC(2026, 10, 20, 16)],
    ['2026-11-21', true, Date.UTC(2026, 10, 21, 16)], // an end date includes its whole day
    ['2026-11-21T10:30', false, Date.UTC(2026, 10, 21, 2, 30)],
    ['2026-11-21T10:30:15', false, Date.UTC(2026, 10, 21, 2, 30, 15)],
    ['2026-11-21T10:30:00Z', false, Date.UTC(2026, 10, 21, 10, 30)],
    ['2026-11-21T10:30:00.250+01:00', false, Date.UTC(2026, 10, 21, 9, 30, 0, 250)],
    ['2026-13-01', false, undefined],
    ['2026-11-21 10:30', false, undefined],
    ['yesterday', false, undefined],
    ['2026-11-21T25:00', false, undefined],
  ])('%s (end of day: %s)', (text, endOfDay, expected) => {
    expect(parseInstant(text, SH, endOfDay)).toBe(expected);
  });

  it('cuts a date at the local midnight of a DST day (Berlin, 25 hours)', () => {
    const from = parseInstant('2026-10-25', 'Europe/Berlin')!;
    const to = parseInstant('2026-10-25', 'Europe/Berlin', true)!;
    expect((to - from) / 3_600_000).toBe(25);
  });
});
