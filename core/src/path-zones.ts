import type { Layout } from './layout.ts';

/**
 * The zones a visit's path is made of (issue 4, path sequences): the stores. Corridors, atria,
 * escalators, lifts, entrances and the street are walked through, not visited, and drop out.
 */
export function storeZoneIds(layout: Pick<Layout, 'zones'>): string[] {
  return layout.zones.filter((z) => z.kind === 'store').map((z) => z.id);
}
