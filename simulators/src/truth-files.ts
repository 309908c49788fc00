// Shell: writes the ground truth CSV files (rendered purely by truth-model.ts) into a directory.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GroundTruth, renderTruthFiles } from './truth-model.ts';

/**
 * Writes intervals.csv, macs.csv, visits.csv, occupancy-minute.csv, transitions.csv and
 * persons-per-day.csv into `dir` (created if missing; existing files are replaced). The format is
 * in simulators/GROUND_TRUTH.md.
 */
export function writeTruthFiles(dir: string, truth: GroundTruth, zoneIds: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of renderTruthFiles(truth, zoneIds)) writeFileSync(join(dir, name), text);
}
