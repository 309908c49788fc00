import type { Layout } from './layout.ts';

// The layout as the zone estimator sees it: zones numbered 0..n-1, which of them people pass
// through rather than stay in, and the walking distance between any two in hops of the
// adjacency graph (escalator and lift links included; floors are joined only through them).
// Zones not in the layout (a sensor's zone the shell did not know, unit tests without a
// layout) are numbered on first sight and treated as one hop from every other zone: nothing
// is known about their walls, so nothing is ruled out.

/** Zone kinds people cross rather than stay in; their stays are expected to be short. */
export const TRANSIT_KINDS: ReadonlySet<string> = new Set([
  'corridor',
  'entrance',
  'escalator',
  'lift',
  'atrium',
  'outside',
]);

const NONE: readonly number[] = Object.freeze([]);

/** Hops between zones with no path (other building parts, or a disconnected layout). */
export const UNREACHABLE_HOPS = 255;

export interface ZoneGraph {
  /** Zone ids by index; grows when `zoneIndex` meets an unknown zone. */
  ids: string[];
  byId: Map<string, number>;
  /** Per index: 1 when the zone is a transit kind (see TRANSIT_KINDS). */
  transit: number[];
  /** Per index: 1 when the zone is an 'outside' zone (the street in front of an entrance). */
  outside: number[];
  /** Per index: 1 where people arrive: 'outside' and 'entrance' zones. */
  arrival: number[];
  /** Zones of the layout: `hops` covers indices below this. */
  layoutZones: number;
  /** layoutZones × layoutZones hop counts (UNREACHABLE_HOPS when there is no path). */
  hops: Uint8Array;
  /** Adjacent zones per index, ascending. */
  neighbours: number[][];
}

/** Builds the graph from a validated layout (breadth-first search from every zone), or an empty one. */
export function createZoneGraph(layout?: Pick<Layout, 'zones' | 'neighbours'>): ZoneGraph {
  const zones = layout?.zones ?? [];
  const n = zones.length;
  const byId = new Map(zones.map((z, i) => [z.id, i]));
  const hops = new Uint8Array(n * n).fill(UNREACHABLE_HOPS);
  const queue = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    hops[s * n + s] = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    while (head < tail) {
      const a = queue[head++]!;
      const next = hops[s * n + a]! + 1;
      for (const id of layout?.neighbours.get(zones[a]!.id) ?? []) {
        const b = byId.get(id);
        if (b === undefined || hops[s * n + b] !== UNREACHABLE_HOPS) continue;
        hops[s * n + b] = Math.min(next, UNREACHABLE_HOPS - 1);
        queue[tail++] = b;
      }
    }
  }
  return {
    ids: zones.map((z) => z.id),
    byId,
    transit: zones.map((z) => (TRANSIT_KINDS.has(z.kind) ? 1 : 0)),
    outside: zones.map((z) => (z.kind === 'outside' ? 1 : 0)),
    arrival: zones.map((z) => (z.kind === 'outside' || z.kind === 'entrance' ? 1 : 0)),
    layoutZones: n,
    hops,
    neighbours: zones.map((z) =>
      (layout?.neighbours.get(z.id) ?? [])
        .map((id) => byId.get(id))
        .filter((i): i is number => i !== undefined)
        .sort((a, b) => a - b),
    ),
  };
}

/** The index of `zoneId`, numbering it (as a non-transit zone of unknown walls) on first sight. */
export function zoneIndex(graph: ZoneGraph, zoneId: string): number {
  const known = graph.byId.get(zoneId);
  if (known !== undefined) return known;
  const index = graph.ids.length;
  graph.ids.push(zoneId);
  graph.byId.set(zoneId, index);
  graph.transit.push(0);
  graph.outside.push(0);
  graph.arrival.push(0);
  graph.neighbours.push([]);
  return index;
}

/** Hops from zone a to zone b: 0 for the same zone, 1 to or from a zone outside the layout. */
export function zoneHops(graph: ZoneGraph, a: number, b: number): number {
  if (a === b) return 0;
  const n = graph.layoutZones;
  if (a >= n || b >= n) return 1;
  return graph.hops[a * n + b]!;
}

/**
 * The zones strictly between a and b on a shortest walk (empty when they are adjacent, equal,
 * unknown to the layout or not connected). Among equally short walks the one through the lowest
 * zone indices is taken, so the answer never depends on anything but the layout.
 */
export function zonesBetween(graph: ZoneGraph, a: number, b: number): readonly number[] {
  const total = zoneHops(graph, a, b);
  if (total < 2 || total === UNREACHABLE_HOPS || a >= graph.layoutZones || b >= graph.layoutZones)
    return NONE;
  const between: number[] = [];
  let at = a;
  for (let left = total - 1; left > 0; left--) {
    const next = graph.neighbours[at]!.find((n) => zoneHops(graph, n, b) === left);
    if (next === undefined) return NONE;
    between.push(next);
    at = next;
  }
  return between;
}
