import { type Layout, validateLayout } from '../../core/src/layout.ts';

// A small mall for the history tests: a street (outside) in front of a gate, a hall, two shops on
// the ground floor, a cinema upstairs by escalator; a sensor in every zone so a virtual phone in
// any of them is placed there.

type Rect = [number, number, number, number];
const rect = ([x0, y0, x1, y1]: Rect): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

export function historyLayout(id: string, timezone: string): Layout {
  const zones: [string, string, string, string, number, Rect, string?][] = [
    ['street', 'g', 'Street', 'outside', 500, [0, 12, 40, 20]],
    ['gate', 'g', 'Main Gate', 'entrance', 50, [0, 8, 4, 12]],
    ['hall', 'g', 'Hall', 'corridor', 200, [4, 8, 36, 12]],
    ['cafe', 'g', 'Cafe "Roma", ground floor', 'store', 40, [4, 0, 20, 8], 'food'],
    ['shoes', 'g', 'Shoes', 'store', 20, [20, 0, 36, 8], 'fashion'],
    ['esc-1', 'g', 'Escalator', 'escalator', 10, [36, 8, 40, 12]],
    ['esc-2', 'u', 'Escalator', 'escalator', 10, [36, 8, 40, 12]],
    ['cinema', 'u', 'Cinema', 'store', 300, [0, 0, 36, 20], 'cinema'],
  ];
  const result = validateLayout({
    id,
    name: `History ${id}`,
    timezone,
    floors: [
      { id: 'g', name: 'Ground', level: 1, widthM: 40, heightM: 20 },
      { id: 'u', name: 'Upper', level: 2, widthM: 40, heightM: 20 },
    ],
    zones: zones.map(([zid, floor, name, kind, capacity, box, category]) => ({
      id: zid,
      floor,
      name,
      kind,
      capacity,
      polygon: rect(box),
      ...(category ? { category } : {}),
    })),
    adjacency: [
      ['street', 'gate'],
      ['gate', 'hall'],
      ['hall', 'cafe'],
      ['hall', 'shoes'],
      ['hall', 'esc-1'],
      ['esc-1', 'esc-2'],
      ['esc-2', 'cinema'],
    ],
    sensors: zones.map(([zid, floor, , , , [x0, y0, x1, y1]]) => ({
      id: `s-${zid}`,
      kind: 'wifi',
      floor,
      zone: zid,
      x: (x0 + x1) / 2,
      y: (y0 + y1) / 2,
    })),
  });
  if (!result.ok) throw new Error(`history test layout is invalid: ${result.errors.join('; ')}`);
  return result.layout;
}
