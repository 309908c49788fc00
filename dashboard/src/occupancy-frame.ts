import type { Layout } from '../../core/src/layout.ts';

// The occupancy frame is the one shape both `GET /api/malls/:mall/occupancy` and the Socket.IO
// `occupancy` event carry, built by the same function from the same rows so REST and live agree.

export interface ZoneOccupancy {
  zoneId: string;
  devices: number;
  capacity: number;
  /** devices / capacity, rounded to 3 decimals; above 1 when a zone is over capacity. */
  ratio: number;
  /**
   * How sure the engine is that those devices are in this zone: the mean confidence of their zone
   * estimates, 0..1 to 3 decimals (null: nobody there, or not known).
   */
  confidence: number | null;
}

export interface OccupancyFrame {
  mallId: string;
  /** Newest `as_of` among the live rows of the layout's zones (ISO 8601), or null when there are none. */
  asOf: string | null;
  /** Devices in the mall now: every zone except those of kind 'outside'. */
  total: number;
  /** One entry per zone of the layout, in layout order; a zone with no live row reads 0. */
  zones: ZoneOccupancy[];
}

/** One `occupancy_live` row, translated to camelCase. */
export interface LiveRow {
  zoneId: string;
  devices: number;
  /** Mean confidence of the zone's devices' estimates (null: none); absent: not read. */
  confidence?: number | null;
  asOfMs: number;
}

/**
 * Builds the frame for `layout` from its live rows. Rows for zones the layout does not know
 * (a layout edited while analytics still writes the old zones) are left out of zones, total and asOf.
 */
export function buildOccupancyFrame(layout: Layout, rows: readonly LiveRow[]): OccupancyFrame {
  const devicesByZone = new Map<string, number>();
  const confidenceByZone = new Map<string, number>();
  let newestMs = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    if (!layout.zoneById.has(row.zoneId)) continue;
    devicesByZone.set(row.zoneId, row.devices);
    if (row.confidence !== null && row.confidence !== undefined && row.devices > 0) {
      confidenceByZone.set(row.zoneId, Math.round(row.confidence * 1000) / 1000);
    }
    if (row.asOfMs > newestMs) newestMs = row.asOfMs;
  }
  let total = 0;
  const zones: ZoneOccupancy[] = [];
  for (const zone of layout.zones) {
    const devices = devicesByZone.get(zone.id) ?? 0;
    if (zone.kind !== 'outside') total += devices;
    zones.push({
      zoneId: zone.id,
      devices,
      capacity: zone.capacity,
      ratio: Math.round((devices / zone.capacity) * 1000) / 1000,
      confidence: confidenceByZone.get(zone.id) ?? null,
    });
  }
  return {
    mallId: layout.id,
    asOf: Number.isFinite(newestMs) ? new Date(newestMs).toISOString() : null,
    total,
    zones,
  };
}
