import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LayoutFile } from '../../core/src/index.ts';
import { pointInPolygon, validateLayout } from '../../core/src/index.ts';
import { SHIPPED_LAYOUTS } from '../../simulators/src/load-layout.ts';

function readLayout(name: keyof typeof SHIPPED_LAYOUTS): LayoutFile {
  return JSON.parse(readFileSync(SHIPPED_LAYOUTS[name], 'utf8')) as LayoutFile;
}

function errorsOf(input: unknown): string[] {
  const result = validateLayout(input);
  return result.ok ? [] : result.errors;
}

type Rect = { x0: number; y0: number; x1: number; y1: number };
function rectOf(polygon: readonly (readonly [number, number])[]): Rect {
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}

describe('shipped layouts', () => {
  it.each(Object.keys(SHIPPED_LAYOUTS) as (keyof typeof SHIPPED_LAYOUTS)[])('%s validates', (name) => {
    expect(errorsOf(readLayout(name))).toEqual([]);
  });

  const joy = readLayout('joy-city');

  it('joy-city is a multi-floor mall of the promised size', () => {
    expect(joy.floors.length).toBeGreaterThanOrEqual(3);
    expect(joy.zones.length).toBeGreaterThanOrEqual(60);
    expect(joy.sensors.length).toBeGreaterThanOrEqual(80);
    expect(joy.zones.filter((z) => z.kind === 'entrance').length).toBeGreaterThanOrEqual(2);
    expect(joy.sensors.filter((s) => s.kind === 'scale').length).toBeGreaterThanOrEqual(2);
    expect(
      new Set(joy.zones.filter((z) => z.kind === 'store').map((z) => z.category)).size,
    ).toBeGreaterThanOrEqual(8);
  });

  it('joy-city has an outside zone in front of each entrance, with a sensor of its own, reached only through it', () => {
    const entrances = joy.zones.filter((z) => z.kind === 'entrance');
    const outside = joy.zones.filter((z) => z.kind === 'outside');
    expect(outside.map((z) => z.id).sort()).toEqual(['l1-outside-e', 'l1-outside-s', 'l1-outside-w']);
    for (const zone of outside) {
      const links = joy.adjacency
        .filter((pair) => pair.includes(zone.id))
        .map(([a, b]) => (a === zone.id ? b : a));
      expect(links).toHaveLength(1);
      expect(entrances.map((e) => e.id)).toContain(links[0]);
      expect(joy.sensors.filter((s) => s.zone === zone.id && s.kind === 'wifi+ble')).toHaveLength(1);
    }
    expect(new Set(outside.map((z) => z.id))).toHaveProperty('size', entrances.length);
  });

  it('keeps the ids other components rely on', () => {
    const scales = joy.sensors.filter((s) => s.kind === 'scale');
    expect(scales.map((s) => [s.id, s.floor])).toEqual([
      ['l2-decathlon-scale1', 'l2'],
      ['l2-fitness-lab-scale1', 'l2'],
    ]);
    const small = readLayout('small-store');
    expect(small.zones.map((z) => z.id)).toEqual([
      'g-entrance',
      'g-aisle',
      'g-fashion',
      'g-beauty',
      'g-kids',
      'g-checkout',
    ]);
    expect(small.sensors.map((s) => s.id)).toContain('g-kids-ap1');
  });

  it('joy-city has an escalator and a lift on every floor, linked to the floors above and below', () => {
    const byLevel = [...joy.floors].sort((a, b) => a.level - b.level);
    for (const floor of byLevel) {
      const kinds = joy.zones.filter((z) => z.floor === floor.id).map((z) => z.kind);
      expect(kinds).toContain('escalator');
      expect(kinds).toContain('lift');
    }
    const floorOf = new Map(joy.zones.map((z) => [z.id, z.floor]));
    const crossLinks = joy.adjacency.filter(([a, b]) => floorOf.get(a) !== floorOf.get(b));
    expect(crossLinks.length).toBe(2 * (byLevel.length - 1));
  });

  it.each(Object.keys(SHIPPED_LAYOUTS) as (keyof typeof SHIPPED_LAYOUTS)[])(
    '%s: zones tile each floor without overlap and every sensor sits inside its zone',
    (name) => {
      const layout = readLayout(name);
      for (const floor of layout.floors) {
        const rects = layout.zones.filter((z) => z.floor === floor.id).map((z) => rectOf(z.polygon));
        const area = rects.reduce((sum, r) => sum + (r.x1 - r.x0) * (r.y1 - r.y0), 0);
        expect(area).toBeCloseTo(floor.widthM * floor.heightM);
        for (let i = 0; i < rects.length; i++) {
          for (let j = i + 1; j < rects.length; j++) {
            const a = rects[i]!;
            const b = rects[j]!;
            const overlap =
              Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) *
              Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
            expect(overlap).toBe(0);
          }
        }
      }
      const zoneById = new Map(layout.zones.map((z) => [z.id, z]));
      for (const sensor of layout.sensors) {
        expect(pointInPolygon(sensor.x, sensor.y, zoneById.get(sensor.zone)!.polygon), sensor.id).toBe(true);
      }
    },
  );
});

describe('validateLayout names the item at fault', () => {
  const base = readLayout('small-store');
  const mutate = (change: (layout: LayoutFile) => void): LayoutFile => {
    const copy = structuredClone(base);
    change(copy);
    return copy;
  };

  it.each<[string, (layout: LayoutFile) => void, RegExp]>([
    [
      'an unreachable zone',
      (l) => {
        l.zones.push({ ...structuredClone(l.zones[2]!), id: 'g-stockroom', name: 'Stockroom' });
      },
      /^zones\.g-stockroom: not reachable from any entrance/,
    ],
    [
      'a sensor outside its floor',
      (l) => {
        l.sensors[0]!.x = 999;
      },
      /^sensors\.g-entrance-ap1: position \(999, .*\) lies outside floor "g"/,
    ],
    [
      'a zone on a missing floor',
      (l) => {
        l.zones[1]!.floor = 'l9';
      },
      /^zones\.g-aisle: floor "l9" does not exist/,
    ],
    [
      'a sensor on a missing floor',
      (l) => {
        l.sensors[1]!.floor = 'l9';
      },
      /^sensors\.g-aisle-ap1: floor "l9" does not exist/,
    ],
    [
      'a cross-floor link that is not an escalator or lift',
      (l) => {
        l.floors.push({ id: 'g2', name: 'Upper', level: 1, widthM: 30, heightM: 20 });
        l.zones.push({
          id: 'g2-loft',
          floor: 'g2',
          name: 'Loft',
          kind: 'store',
          category: 'fashion',
          capacity: 20,
          polygon: [
            [0, 0],
            [10, 0],
            [10, 10],
            [0, 10],
          ],
        });
        l.adjacency.push(['g-aisle', 'g2-loft']);
      },
      /^adjacency: \[g-aisle, g2-loft\] crosses floors but is not an escalator or lift link/,
    ],
    [
      'a time zone that does not exist',
      (l) => {
        l.timezone = 'Asia/Beijing';
      },
      /^timezone: must be an IANA time zone/,
    ],
  ])('%s', (_name, change, expected) => {
    const errors = errorsOf(mutate(change));
    expect(
      errors.some((e) => expected.test(e)),
      errors.join('\n'),
    ).toBe(true);
  });

  it('leaves the original untouched (mutations work on deep copies)', () => {
    expect(errorsOf(base)).toEqual([]);
  });
});

describe('parseLayoutText', () => {
  it('names the file in every problem, and reports JSON it cannot read', async () => {
    const { parseLayoutText } = await import('../../core/src/layout.ts');
    const bad = parseLayoutText('{"id": "x"', 'malls/x.json');
    expect(bad.ok === false && bad.errors).toEqual([
      expect.stringMatching(/^malls\/x\.json: cannot read JSON: /),
    ]);
    const invalid = parseLayoutText('{"id": "x"}', 'malls/x.json');
    expect(invalid.ok).toBe(false);
    if (!invalid.ok) expect(invalid.errors.every((e) => e.startsWith('malls/x.json: '))).toBe(true);
  });
});
