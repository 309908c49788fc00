// Writes the example layouts shipped with the simulator:
//   simulators/layouts/joy-city.json    a four-floor Joy City-like mall (B1, L1-L3)
//   simulators/layouts/small-store.json one shop floor for quick tests
// Deterministic (no randomness at all): rerunning it rewrites identical files. Each layout is
// checked with core's validateLayout before anything is written.
//
//   npx tsx simulators/scripts/build-layouts.ts

import { writeFileSync } from 'node:fs';
import type { CATEGORIES, LayoutFile, Sensor, Zone } from '../../core/src/layout.ts';
import { validateLayout } from '../../core/src/layout.ts';

type Category = (typeof CATEGORIES)[number];
type Rect = { x0: number; y0: number; x1: number; y1: number };

const OUT_DIR = new URL('../layouts/', import.meta.url);

// ---------------------------------------------------------------------------------------------
// Joy City: every floor's building is 120 m x 50 m. A 10 m circulation band (y 20-30) runs east-west with a
// corridor either side of a central atrium; shops line both sides. Escalator and lift sit north
// of the atrium, stacked through every floor. L1 has the west, east and south (main) entrances.
//
//   y=50 +----------------------+-----+-----+----------------------+
//        |  north-west shops    | esc | lift|  north-east shops    |
//   y=30 +----------------------+-----+-----+----------------------+
//        |  corridor-w          |   atrium  |  corridor-e          |
//   y=20 +----------------------+-----------+----------------------+
//        |  south shops (L1: the main entrance in the middle)      |
//   y=0  +---------------------------------------------------------+
//        x=0                   50          70                   x=120
//
// L1 also holds the street in front of its doors: the building sits 8 m in from the west, east
// and south edges of a 136 m x 58 m plan, and each entrance opens onto an 'outside' zone (West
// Street, East Street, South Plaza) where passers-by walk without coming in. Each outside zone has
// an access point on the facade, 1 m outside its door. (L1's coordinates are therefore those of
// the other floors shifted by (8, 8); floors are separate plans and nothing lines them up.)

const FLOOR_W_M = 120;
const FLOOR_H_M = 50;
const BAND_Y0 = 20;
const BAND_Y1 = 30;
const ATRIUM_X0 = 50;
const ATRIUM_X1 = 70;
const ENTRANCE_W_M = 8;
/** Depth of the street / plaza strip around L1. */
const STREET_M = 8;

interface ShopSpec {
  name: string;
  brand?: string;
  category: Category;
  widthM: number;
}
/** A south-row slot that is the main entrance rather than a shop. */
interface EntranceSlot {
  entrance: string;
  widthM: number;
}

interface FloorSpec {
  id: string;
  name: string;
  level: number;
  /** L1 only: entrances at both ends of the circulation band, and the street outside. */
  bandEntrances: boolean;
  northWest: ShopSpec[];
  northEast: ShopSpec[];
  south: (ShopSpec | EntranceSlot)[];
}

const shop = (
  name: string,
  category: Category,
  widthM: number,
  brand: string | undefined = name,
): ShopSpec => (brand === undefined ? { name, category, widthM } : { name, brand, category, widthM });

const JOY_CITY_FLOORS: FloorSpec[] = [
  {
    id: 'b1',
    name: 'B1 Market & Food',
    level: -1,
    bandEntrances: false,
    northWest: [
      shop('Pop Mart', 'kids', 10),
      shop('Watsons', 'health', 14),
      shop('BreadTalk', 'food', 12),
      shop('Luckin Coffee', 'food', 14),
    ],
    northEast: [
      shop('Food Court', 'food', 30, undefined),
      shop('Heytea', 'food', 8),
      shop('Yoshinoya', 'food', 12),
    ],
    south: [
      shop('Ole Supermarket', 'supermarket', 50, 'Ole'),
      shop('Guardian Pharmacy', 'health', 12, 'Guardian'),
      shop('China Mobile', 'services', 10),
      shop('Ajisen Ramen', 'food', 14),
      shop('Tous les Jours', 'food', 12),
      shop('CoCo Tea', 'food', 8, 'CoCo'),
      shop('Miniso', 'beauty', 14),
    ],
  },
  {
    id: 'l1',
    name: 'L1 Fashion & Beauty',
    level: 0,
    bandEntrances: true,
    northWest: [
      shop('Uniqlo', 'fashion', 20),
      shop('Sephora', 'beauty', 14),
      shop('Innisfree', 'beauty', 8),
      shop('Starbucks', 'food', 8),
    ],
    northEast: [
      shop('MAC Cosmetics', 'beauty', 8, 'MAC'),
      shop('Swarovski', 'fashion', 8),
      shop('Pandora', 'fashion', 6),
      shop('Lancome', 'beauty', 10),
      shop('Apple Store', 'electronics', 18, 'Apple'),
    ],
    south: [
      shop('Zara', 'fashion', 24),
      shop('H&M', 'fashion', 20),
      shop('Mango', 'fashion', 11),
      { entrance: 's', widthM: 10 },
      shop('Muji', 'fashion', 16),
      shop('Estee Lauder', 'beauty', 9),
      shop('Chow Tai Fook', 'fashion', 10),
      shop('Godiva', 'food', 8),
      shop('Adidas Originals', 'fashion', 12, 'Adidas'),
    ],
  },
  {
    id: 'l2',
    name: 'L2 Sports & Kids',
    level: 1,
    bandEntrances: false,
    northWest: [
      shop('Nike', 'sports', 16),
      shop('Anta', 'sports', 12),
      shop('Li-Ning', 'sports', 10),
      shop('Skechers', 'sports', 12),
    ],
    northEast: [shop('Decathlon', 'sports', 30), shop('Fitness Lab', 'health', 20, undefined)],
    south: [
      shop('Toys R Us', 'kids', 24),
      shop('LEGO', 'kids', 14),
      shop('Balabala', 'kids', 12),
      shop('Kids Play Park', 'kids', 20, undefined),
      shop('Mothercare', 'kids', 12),
      shop('Vision Express', 'health', 10),
      shop('Toni & Guy Salon', 'services', 12, 'Toni & Guy'),
      shop('The North Face', 'sports', 16),
    ],
  },
  {
    id: 'l3',
    name: 'L3 Dining & Cinema',
    level: 2,
    bandEntrances: false,
    northWest: [
      shop('Haidilao Hot Pot', 'food', 20, 'Haidilao'),
      shop('Din Tai Fung', 'food', 16),
      shop('Xibei', 'food', 14),
    ],
    northEast: [
      shop('Xiaomi', 'electronics', 12),
      shop('Huawei', 'electronics', 12),
      shop('Pizza Hut', 'food', 14),
      shop('Nail Bar', 'beauty', 6, undefined),
      shop('Barber Shop', 'services', 6, undefined),
    ],
    south: [
      shop('CGV Cinemas', 'cinema', 44, 'CGV'),
      shop("Tom's World Arcade", 'kids', 20, "Tom's World"),
      shop('Green Tea Restaurant', 'food', 16, 'Green Tea'),
      shop('Nanjing Impressions', 'food', 14),
      shop('Sisyphe Books', 'services', 14, 'Sisyphe'),
      shop('Dairy Queen', 'food', 12),
    ],
  },
];

/** Floor area per person at capacity, m²: restaurants and cinemas pack people denser than shops. */
const M2_PER_PERSON: Record<Category, number> = {
  fashion: 5,
  food: 2.5,
  cinema: 1.5,
  kids: 4,
  sports: 5,
  beauty: 4,
  electronics: 4,
  supermarket: 4,
  health: 5,
  services: 4,
};

/** Zones wider than this get a second access point. */
const WIDE_SHOP_M = 30;

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function rectPolygon(r: Rect): [number, number][] {
  return [
    [r.x0, r.y0],
    [r.x1, r.y0],
    [r.x1, r.y1],
    [r.x0, r.y1],
  ];
}

function rectOf(zone: Zone): Rect {
  const xs = zone.polygon.map((p) => p[0]);
  const ys = zone.polygon.map((p) => p[1]);
  return { x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}

/** Length of the edge two axis-aligned rectangles share (0 when they only meet at a corner or not at all). */
function sharedEdgeM(a: Rect, b: Rect): number {
  const overlapX = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const overlapY = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if ((a.y1 === b.y0 || b.y1 === a.y0) && overlapX > 0) return overlapX;
  if ((a.x1 === b.x0 || b.x1 === a.x0) && overlapY > 0) return overlapY;
  return 0;
}

const isCirculation = (zone: Zone): boolean => zone.kind === 'corridor' || zone.kind === 'atrium';

/**
 * Same-floor adjacency: zones that share at least `minEdgeM` of wall, where one of them is a
 * corridor or atrium. Shops, entrances and escalators open onto circulation, never into each other.
 */
function adjacencyByTouch(zones: readonly Zone[], minEdgeM: number): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < zones.length; i++) {
    for (let j = i + 1; j < zones.length; j++) {
      const a = zones[i]!;
      const b = zones[j]!;
      if (a.floor !== b.floor || !(isCirculation(a) || isCirculation(b))) continue;
      if (sharedEdgeM(rectOf(a), rectOf(b)) >= minEdgeM) pairs.push([a.id, b.id]);
    }
  }
  return pairs;
}

function shopZone(floorId: string, spec: ShopSpec, r: Rect): Zone {
  const areaM2 = (r.x1 - r.x0) * (r.y1 - r.y0);
  return {
    id: `${floorId}-${slug(spec.name)}`,
    floor: floorId,
    name: spec.name,
    kind: 'store',
    category: spec.category,
    ...(spec.brand === undefined ? {} : { brand: spec.brand }),
    capacity: Math.round(areaM2 / M2_PER_PERSON[spec.category]),
    polygon: rectPolygon(r),
  };
}

function plainZone(
  floorId: string,
  suffix: string,
  name: string,
  kind: Zone['kind'],
  r: Rect,
  capacity?: number,
): Zone {
  const areaM2 = (r.x1 - r.x0) * (r.y1 - r.y0);
  return {
    id: `${floorId}-${suffix}`,
    floor: floorId,
    name,
    kind,
    capacity: capacity ?? Math.round(areaM2 / 2),
    polygon: rectPolygon(r),
  };
}

function buildJoyCityFloor(spec: FloorSpec): Zone[] {
  const zones: Zone[] = [];
  const f = spec.id;

  let x = 0;
  for (const s of spec.northWest) {
    zones.push(shopZone(f, s, { x0: x, y0: BAND_Y1, x1: x + s.widthM, y1: FLOOR_H_M }));
    x += s.widthM;
  }
  if (x !== ATRIUM_X0) throw new Error(`${f}: north-west shops end at x=${x}, not ${ATRIUM_X0}`);
  const mid = (ATRIUM_X0 + ATRIUM_X1) / 2;
  zones.push(
    plainZone(
      f,
      'escalator',
      `${spec.name.slice(0, 2)} Escalators`,
      'escalator',
      { x0: ATRIUM_X0, y0: BAND_Y1, x1: mid, y1: FLOOR_H_M },
      40,
    ),
  );
  zones.push(
    plainZone(
      f,
      'lift',
      `${spec.name.slice(0, 2)} Lifts`,
      'lift',
      { x0: mid, y0: BAND_Y1, x1: ATRIUM_X1, y1: FLOOR_H_M },
      20,
    ),
  );
  x = ATRIUM_X1;
  for (const s of spec.northEast) {
    zones.push(shopZone(f, s, { x0: x, y0: BAND_Y1, x1: x + s.widthM, y1: FLOOR_H_M }));
    x += s.widthM;
  }
  if (x !== FLOOR_W_M) throw new Error(`${f}: north-east shops end at x=${x}, not ${FLOOR_W_M}`);

  const bandX0 = spec.bandEntrances ? ENTRANCE_W_M : 0;
  const bandX1 = spec.bandEntrances ? FLOOR_W_M - ENTRANCE_W_M : FLOOR_W_M;
  if (spec.bandEntrances) {
    zones.push(
      plainZone(f, 'entrance-w', 'West Entrance', 'entrance', {
        x0: 0,
        y0: BAND_Y0,
        x1: bandX0,
        y1: BAND_Y1,
      }),
    );
    zones.push(
      plainZone(f, 'entrance-e', 'East Entrance', 'entrance', {
        x0: bandX1,
        y0: BAND_Y0,
        x1: FLOOR_W_M,
        y1: BAND_Y1,
      }),
    );
  }
  zones.push(
    plainZone(f, 'corridor-w', `${spec.name.slice(0, 2)} West Mall`, 'corridor', {
      x0: bandX0,
      y0: BAND_Y0,
      x1: ATRIUM_X0,
      y1: BAND_Y1,
    }),
  );
  zones.push(
    plainZone(f, 'atrium', `${spec.name.slice(0, 2)} Atrium`, 'atrium', {
      x0: ATRIUM_X0,
      y0: BAND_Y0,
      x1: ATRIUM_X1,
      y1: BAND_Y1,
    }),
  );
  zones.push(
    plainZone(f, 'corridor-e', `${spec.name.slice(0, 2)} East Mall`, 'corridor', {
      x0: ATRIUM_X1,
      y0: BAND_Y0,
      x1: bandX1,
      y1: BAND_Y1,
    }),
  );

  x = 0;
  for (const s of spec.south) {
    const r = { x0: x, y0: 0, x1: x + s.widthM, y1: BAND_Y0 };
    zones.push(
      'entrance' in s
        ? plainZone(f, `entrance-${s.entrance}`, 'Main Entrance', 'entrance', r)
        : shopZone(f, s, r),
    );
    x += s.widthM;
  }
  if (x !== FLOOR_W_M) throw new Error(`${f}: south shops end at x=${x}, not ${FLOOR_W_M}`);
  if (!spec.bandEntrances) return zones;

  // The street: shift the building in and wrap it on three sides.
  const shifted = zones.map((z) => ({
    ...z,
    polygon: z.polygon.map(([px, py]): [number, number] => [px + STREET_M, py + STREET_M]),
  }));
  const outside = (suffix: string, name: string, r: Rect): Zone => plainZone(f, suffix, name, 'outside', r);
  const planW = FLOOR_W_M + 2 * STREET_M;
  const planH = FLOOR_H_M + STREET_M;
  shifted.push(outside('outside-w', 'West Street', { x0: 0, y0: 0, x1: STREET_M, y1: planH }));
  shifted.push(outside('outside-e', 'East Street', { x0: planW - STREET_M, y0: 0, x1: planW, y1: planH }));
  shifted.push(
    outside('outside-s', 'South Plaza', { x0: STREET_M, y0: 0, x1: planW - STREET_M, y1: STREET_M }),
  );
  return shifted;
}

/** The outside zones of a floor, each with the entrance it lies in front of. */
function streetDoors(zones: readonly Zone[]): { outside: Zone; entrance: Zone }[] {
  const doors: { outside: Zone; entrance: Zone }[] = [];
  for (const outside of zones.filter((z) => z.kind === 'outside')) {
    const entrance = zones.find(
      (z) =>
        z.kind === 'entrance' && z.floor === outside.floor && sharedEdgeM(rectOf(z), rectOf(outside)) > 0,
    );
    if (!entrance) throw new Error(`${outside.id}: no entrance opens onto it`);
    doors.push({ outside, entrance });
  }
  return doors;
}

/** An access point on the facade, 1 m outside the middle of the door, for each outside zone. */
function doorSensorsFor(zones: readonly Zone[]): Sensor[] {
  return streetDoors(zones).map(({ outside, entrance }) => {
    const o = rectOf(outside);
    const e = rectOf(entrance);
    // The door is the edge the two share; step 1 m from it into the outside zone.
    let x = (Math.max(o.x0, e.x0) + Math.min(o.x1, e.x1)) / 2;
    let y = (Math.max(o.y0, e.y0) + Math.min(o.y1, e.y1)) / 2;
    if (o.x1 === e.x0) x = o.x1 - 1;
    else if (o.x0 === e.x1) x = o.x0 + 1;
    else if (o.y1 === e.y0) y = o.y1 - 1;
    else y = o.y0 + 1;
    return { id: `${outside.id}-ap1`, kind: 'wifi+ble', floor: outside.floor, zone: outside.id, x, y };
  });
}

/**
 * Access points: one per shop at its centre (two for wide shops), one per entrance, escalator
 * and lift, and one every ~15 m along corridors and atria, mid-aisle.
 */
function sensorsFor(zones: readonly Zone[]): Sensor[] {
  const sensors: Sensor[] = [];
  const add = (zone: Zone, n: number, x: number, y: number): void => {
    sensors.push({ id: `${zone.id}-ap${n}`, kind: 'wifi+ble', floor: zone.floor, zone: zone.id, x, y });
  };
  for (const zone of zones) {
    if (zone.kind === 'outside') continue; // see doorSensorsFor
    const r = rectOf(zone);
    const w = r.x1 - r.x0;
    const cy = (r.y0 + r.y1) / 2;
    if (isCirculation(zone)) {
      const count = Math.max(1, Math.round(w / 15));
      for (let i = 0; i < count; i++) add(zone, i + 1, r.x0 + (w * (i + 0.5)) / count, cy);
    } else if (zone.kind === 'store' && w >= WIDE_SHOP_M) {
      add(zone, 1, r.x0 + w / 3, cy);
      add(zone, 2, r.x0 + (2 * w) / 3, cy);
    } else add(zone, 1, (r.x0 + r.x1) / 2, cy);
  }
  return sensors;
}

/** Smart scales: one by the fitting rooms of the sports megastore, one in the gym. */
function scalesFor(zones: readonly Zone[], zoneIds: readonly string[]): Sensor[] {
  return zoneIds.map((id) => {
    const zone = zones.find((z) => z.id === id);
    if (!zone) throw new Error(`scale zone ${id} missing`);
    const r = rectOf(zone);
    return { id: `${id}-scale1`, kind: 'scale', floor: zone.floor, zone: id, x: r.x1 - 3, y: r.y1 - 3 };
  });
}

function buildJoyCity(): LayoutFile {
  const floorsByLevel = [...JOY_CITY_FLOORS].sort((a, b) => a.level - b.level);
  const zones = floorsByLevel.flatMap(buildJoyCityFloor);
  const adjacency = adjacencyByTouch(zones, 2);
  for (const { outside, entrance } of streetDoors(zones)) adjacency.push([entrance.id, outside.id]);
  for (let i = 1; i < floorsByLevel.length; i++) {
    const below = floorsByLevel[i - 1]!.id;
    const above = floorsByLevel[i]!.id;
    adjacency.push([`${below}-escalator`, `${above}-escalator`]);
    adjacency.push([`${below}-lift`, `${above}-lift`]);
  }
  return {
    id: 'joy-city',
    name: 'Joy City (example mall)',
    timezone: 'Asia/Shanghai',
    floors: floorsByLevel.map((f) => ({
      id: f.id,
      name: f.name,
      level: f.level,
      widthM: FLOOR_W_M + (f.bandEntrances ? 2 * STREET_M : 0),
      heightM: FLOOR_H_M + (f.bandEntrances ? STREET_M : 0),
    })),
    zones,
    adjacency,
    sensors: [
      ...sensorsFor(zones),
      ...doorSensorsFor(zones),
      ...scalesFor(zones, ['l2-decathlon', 'l2-fitness-lab']),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Small store: one 30 m x 20 m shop floor. Entrance strip on the west, a central aisle, three
// merchandise areas and the checkout by the door.
//
//   y=20 +------+-----------+-----------+
//        |      | fashion   | beauty    |
//   y=12 | ent- +-----------+-----------+
//        | ran- |  aisle                |
//   y=8  | ce   +-----------+-----------+
//        |      | checkout  | kids      |
//   y=0  +------+-----------+-----------+
//        x=0    6           18          30

function buildSmallStore(): LayoutFile {
  const f = 'g';
  const area = (suffix: string, name: string, category: Category, r: Rect): Zone => ({
    ...shopZone(f, { name, category, widthM: r.x1 - r.x0 }, r),
    id: `${f}-${suffix}`,
  });
  const zones: Zone[] = [
    plainZone(f, 'entrance', 'Entrance', 'entrance', { x0: 0, y0: 0, x1: 6, y1: 20 }, 30),
    plainZone(f, 'aisle', 'Main Aisle', 'corridor', { x0: 6, y0: 8, x1: 30, y1: 12 }, 40),
    area('fashion', 'Fashion Area', 'fashion', { x0: 6, y0: 12, x1: 18, y1: 20 }),
    area('beauty', 'Beauty Area', 'beauty', { x0: 18, y0: 12, x1: 30, y1: 20 }),
    area('kids', 'Kids Area', 'kids', { x0: 18, y0: 0, x1: 30, y1: 8 }),
    area('checkout', 'Checkout', 'services', { x0: 6, y0: 0, x1: 18, y1: 8 }),
  ];
  return {
    id: 'small-store',
    name: 'Small Store (test layout)',
    timezone: 'UTC',
    floors: [{ id: f, name: 'Ground', level: 0, widthM: 30, heightM: 20 }],
    zones,
    adjacency: [
      ['g-entrance', 'g-aisle'],
      ['g-entrance', 'g-checkout'],
      ['g-aisle', 'g-fashion'],
      ['g-aisle', 'g-beauty'],
      ['g-aisle', 'g-kids'],
      ['g-aisle', 'g-checkout'],
    ],
    sensors: sensorsFor(zones),
  };
}

/** JSON with two-space indent, but points and adjacency pairs kept on one line each. */
function formatLayout(layout: LayoutFile): string {
  return `${JSON.stringify(layout, null, 2)
    .replace(/\[\s+(-?[\d.]+),\s+(-?[\d.]+)\s+\]/g, '[$1, $2]')
    .replace(/\[\s+("[^"]+"),\s+("[^"]+")\s+\]/g, '[$1, $2]')}\n`;
}

function main(): void {
  let failed = false;
  for (const [file, layout] of [
    ['joy-city.json', buildJoyCity()],
    ['small-store.json', buildSmallStore()],
  ] as const) {
    const result = validateLayout(layout);
    if (!result.ok) {
      failed = true;
      console.error(`${file}: invalid layout\n  ${result.errors.join('\n  ')}`);
      continue;
    }
    writeFileSync(new URL(file, OUT_DIR), formatLayout(layout));
    console.log(
      `${file}: ${layout.floors.length} floors, ${layout.zones.length} zones, ${layout.adjacency.length} links, ${layout.sensors.length} sensors`,
    );
  }
  if (failed) process.exit(1);
}

main();
