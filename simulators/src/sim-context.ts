// The shared state of one mall simulation: the options resolved against their defaults, the
// tables built once from the layout (zones, routes, sensors), the world state the event loop
// updates in place (time, zone counts, persons, the schedule of recurring visits) and the truth
// recorded so far. Every module of the sim takes it as its first argument.

import type { Layout } from '../../core/src/index.ts';
import { createLocalCalendar, type LocalCalendar } from './local-time.ts';
import { arrivalHours } from './mall-hours.ts';
import type { ZoneTables } from './mall-zones.ts';
import { buildZoneTables } from './mall-zones.ts';
import type { PathLossOptions, SensorTables } from './radio-model.ts';
import { buildSensorTables, DEFAULT_PATH_LOSS } from './radio-model.ts';
import { createRng, deriveSeed } from './rng.ts';
import type { MallSimOptions } from './sim-options.ts';
import {
  DEFAULT_BLE_SHARE,
  DEFAULT_MAC_ROTATION_MS,
  DEFAULT_RANDOMIZED_MAC_SHARE,
  DEFAULT_RETURNING_SHARE,
  DEFAULT_SILENT_PHONE_SHARE,
  defaultArrivalsPerHour,
} from './sim-options.ts';
import type { Person } from './sim-person.ts';
import { STREAM_SENSORS } from './sim-streams.ts';
import type { TruthLog } from './truth-recorder.ts';
import { createTruthLog } from './truth-recorder.ts';
import { Schedule } from './visit-schedule.ts';

export interface SimContext {
  readonly layout: Layout;
  readonly seed: number;
  readonly startMs: number;
  readonly radio: PathLossOptions;
  readonly alwaysOpen: boolean;
  readonly arrivalsPerHour: number;
  readonly randomizedShare: number;
  readonly macRotationMs: number;
  readonly returningShare: number;
  readonly bleShare: number;
  readonly silentShare: number;
  readonly calendar: LocalCalendar;
  /** arrivalHours(weekday, alwaysOpen) for weekdays 0 (Sunday) .. 6. */
  readonly hoursByWeekday: readonly ReturnType<typeof arrivalHours>[];
  readonly zoneTables: ZoneTables;
  readonly sensorTables: SensorTables;
  // ---- World state ----
  /** Simulated time, epoch ms: everything before it has happened. */
  now: number;
  /** Persons per zone right now. */
  readonly counts: Int32Array;
  /** Kind of every person created so far, by person index. */
  readonly kindOf: number[];
  /** Recurring persons, by person index. */
  readonly residents: Person[];
  readonly schedule: Schedule;
  /** Persons on a visit (and ones that left since the last step: `listed` but not `active`). */
  active: Person[];
  readonly truth: TruthLog;
}

/** Resolves the options (already checked) and builds the tables; the world starts empty at startMs. */
export function createSimContext(options: MallSimOptions): SimContext {
  const { layout, seed } = options;
  const radio: PathLossOptions = { ...DEFAULT_PATH_LOSS, ...options.pathLoss };
  const alwaysOpen = options.alwaysOpen ?? false;
  const zoneTables = buildZoneTables(layout);
  return {
    layout,
    seed,
    startMs: options.startMs,
    radio,
    alwaysOpen,
    arrivalsPerHour: options.arrivalsPerHour ?? defaultArrivalsPerHour(layout),
    randomizedShare: options.randomizedMacShare ?? DEFAULT_RANDOMIZED_MAC_SHARE,
    macRotationMs: options.macRotationMs ?? DEFAULT_MAC_ROTATION_MS,
    returningShare: options.returningShare ?? DEFAULT_RETURNING_SHARE,
    bleShare: options.bleShare ?? DEFAULT_BLE_SHARE,
    silentShare: options.silentPhoneShare ?? DEFAULT_SILENT_PHONE_SHARE,
    calendar: createLocalCalendar(layout.timezone),
    hoursByWeekday: [0, 1, 2, 3, 4, 5, 6].map((wd) => arrivalHours(wd, alwaysOpen)),
    zoneTables,
    sensorTables: buildSensorTables(layout, zoneTables, radio, createRng(deriveSeed(seed, STREAM_SENSORS))),
    now: options.startMs,
    counts: new Int32Array(zoneTables.n),
    kindOf: [],
    residents: [],
    schedule: new Schedule(),
    active: [],
    truth: createTruthLog(),
  };
}
