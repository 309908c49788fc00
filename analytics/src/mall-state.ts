import type { Layout } from '../../core/src/layout.ts';
import {
  createOccupancyState,
  type OccupancyOptions,
  type OccupancyState,
} from '../../core/src/occupancy.ts';

/** What the worker keeps per mall: the sensor → zone map and the live occupancy state. */
export interface MallState {
  mallId: string;
  layout: Layout;
  zoneIds: string[];
  sensorZone: Map<string, string>;
  occupancy: OccupancyState;
  /** Newest `at` of a gateway heartbeat: everything heard before it has been sent. */
  heartbeatAtMs: number;
}

export function createMallStates(
  layouts: readonly Layout[],
  options: OccupancyOptions,
): Map<string, MallState> {
  return new Map(
    layouts.map((layout) => [
      layout.id,
      {
        mallId: layout.id,
        layout,
        zoneIds: layout.zones.map((z) => z.id),
        sensorZone: new Map(layout.sensors.map((s) => [s.id, s.zone])),
        occupancy: createOccupancyState(options, layout),
        heartbeatAtMs: 0,
      },
    ]),
  );
}
