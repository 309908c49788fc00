import { z } from 'zod';
import { Id } from './ids.ts';

// The mall layout model: floors, zones (with polygons in metres on their floor), zone adjacency
// (including escalator/lift links between floors) and sensors with positions. Loaded from a JSON
// file by the component that needs it; validated here, purely.

const Point = z.tuple([z.number(), z.number()]);

export const ZONE_KINDS = [
  'store',
  'corridor',
  'entrance',
  'escalator',
  'lift',
  'atrium',
  'outside',
] as const;
export const CATEGORIES = [
  'fashion',
  'food',
  'cinema',
  'kids',
  'sports',
  'beauty',
  'electronics',
  'supermarket',
  'health',
  'services',
] as const;

export const Floor = z.object({
  id: Id,
  name: z.string().min(1),
  level: z.number().int(),
  widthM: z.number().positive(),
  heightM: z.number().positive(),
});

export const Zone = z.object({
  id: Id,
  floor: Id,
  name: z.string().min(1),
  kind: z.enum(ZONE_KINDS),
  category: z.enum(CATEGORIES).optional(),
  brand: z.string().optional(),
  capacity: z.number().int().positive(),
  polygon: z.array(Point).min(3),
});

export const Sensor = z.object({
  id: Id,
  kind: z.enum(['wifi', 'ble', 'wifi+ble', 'scale']),
  floor: Id,
  zone: Id,
  x: z.number(),
  y: z.number(),
});

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false; // RangeError: not a time zone Intl knows
  }
}

export const LayoutFile = z.object({
  id: Id,
  name: z.string().min(1),
  /** IANA time zone of the mall: its local days (history, daily rollups) and opening hours. */
  timezone: z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone such as "Asia/Shanghai"'),
  floors: z.array(Floor).min(1),
  zones: z.array(Zone).min(1),
  /** Undirected pairs of zones a person can walk between directly. */
  adjacency: z.array(z.tuple([Id, Id])),
  sensors: z.array(Sensor).min(1),
});

export type Floor = z.infer<typeof Floor>;
export type Zone = z.infer<typeof Zone>;
export type Sensor = z.infer<typeof Sensor>;
export type LayoutFile = z.infer<typeof LayoutFile>;

/** A validated layout with lookup maps built once. */
export interface Layout extends LayoutFile {
  zoneById: ReadonlyMap<string, Zone>;
  sensorById: ReadonlyMap<string, Sensor>;
  neighbours: ReadonlyMap<string, readonly string[]>;
}

export type LayoutResult = { ok: true; layout: Layout } | { ok: false; errors: string[] };

/** Point-in-polygon by ray casting; points on an edge may fall either way. */
export function pointInPolygon(
  x: number,
  y: number,
  polygon: readonly (readonly [number, number])[],
): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function polygonCentroid(polygon: readonly (readonly [number, number])[]): [number, number] {
  let x = 0;
  let y = 0;
  for (const [px, py] of polygon) {
    x += px;
    y += py;
  }
  return [x / polygon.length, y / polygon.length];
}

function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const id of ids) (seen.has(id) ? dup : seen).add(id);
  return [...dup];
}

/**
 * Validates a parsed layout file: shape (zod), then references and geometry. Every problem is
 * reported, each naming the path or id at fault, so a layout author can fix them in one pass.
 */
export function validateLayout(input: unknown): LayoutResult {
  const parsed = LayoutFile.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  }
  const file = parsed.data;
  const errors: string[] = [];
  const floorById = new Map(file.floors.map((f) => [f.id, f]));
  const zoneById = new Map(file.zones.map((z) => [z.id, z]));
  const sensorById = new Map(file.sensors.map((s) => [s.id, s]));

  for (const id of duplicates(file.floors.map((f) => f.id)))
    errors.push(`floors: duplicate floor id "${id}"`);
  for (const id of duplicates(file.zones.map((z) => z.id))) errors.push(`zones: duplicate zone id "${id}"`);
  for (const id of duplicates(file.sensors.map((s) => s.id)))
    errors.push(`sensors: duplicate sensor id "${id}"`);

  for (const zone of file.zones) {
    const floor = floorById.get(zone.floor);
    if (!floor) {
      errors.push(`zones.${zone.id}: floor "${zone.floor}" does not exist`);
      continue;
    }
    for (const [x, y] of zone.polygon) {
      if (x < 0 || y < 0 || x > floor.widthM || y > floor.heightM) {
        errors.push(`zones.${zone.id}: polygon point (${x}, ${y}) lies outside floor "${floor.id}"`);
        break;
      }
    }
    if (zone.kind === 'store' && !zone.category) errors.push(`zones.${zone.id}: a store needs a category`);
  }

  const neighbours = new Map<string, string[]>(file.zones.map((z) => [z.id, []]));
  for (const [a, b] of file.adjacency) {
    const za = zoneById.get(a);
    const zb = zoneById.get(b);
    if (!za || !zb) {
      errors.push(`adjacency: [${a}, ${b}] names a zone that does not exist`);
      continue;
    }
    if (a === b) errors.push(`adjacency: [${a}, ${b}] links a zone to itself`);
    const linksFloors = za.floor !== zb.floor;
    const isVertical = (k: string) => k === 'escalator' || k === 'lift';
    if (linksFloors && !(isVertical(za.kind) && isVertical(zb.kind))) {
      errors.push(`adjacency: [${a}, ${b}] crosses floors but is not an escalator or lift link`);
    }
    neighbours.get(a)?.push(b);
    neighbours.get(b)?.push(a);
  }

  for (const sensor of file.sensors) {
    const floor = floorById.get(sensor.floor);
    if (!floor) {
      errors.push(`sensors.${sensor.id}: floor "${sensor.floor}" does not exist`);
      continue;
    }
    if (sensor.x < 0 || sensor.y < 0 || sensor.x > floor.widthM || sensor.y > floor.heightM) {
      errors.push(
        `sensors.${sensor.id}: position (${sensor.x}, ${sensor.y}) lies outside floor "${floor.id}"`,
      );
    }
    const zone = zoneById.get(sensor.zone);
    if (!zone) errors.push(`sensors.${sensor.id}: zone "${sensor.zone}" does not exist`);
    else if (zone.floor !== sensor.floor) {
      errors.push(
        `sensors.${sensor.id}: zone "${zone.id}" is on floor "${zone.floor}", not "${sensor.floor}"`,
      );
    }
  }

  const entrances = file.zones.filter((z) => z.kind === 'entrance').map((z) => z.id);
  if (entrances.length === 0) errors.push('zones: the layout has no entrance zone');
  else {
    const reached = new Set<string>(entrances);
    const queue = [...entrances];
    while (queue.length > 0) {
      const id = queue.pop()!;
      for (const n of neighbours.get(id) ?? []) {
        if (!reached.has(n)) {
          reached.add(n);
          queue.push(n);
        }
      }
    }
    for (const zone of file.zones) {
      if (!reached.has(zone.id) && zone.kind !== 'outside') {
        errors.push(`zones.${zone.id}: not reachable from any entrance through the adjacency`);
      }
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, layout: { ...file, zoneById, sensorById, neighbours } };
}

/**
 * Parses and validates a layout file's text, so a loader only has to read the file and hand the
 * text in. With `source` (the file name), every error is prefixed with it.
 */
export function parseLayoutText(text: string, source?: string): LayoutResult {
  const prefix = source === undefined ? '' : `${source}: `;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`${prefix}cannot read JSON: ${(err as Error).message}`] };
  }
  const result = validateLayout(json);
  return result.ok ? result : { ok: false, errors: result.errors.map((e) => `${prefix}${e}`) };
}
