// The ground truth contract the evaluation consumes: the record (types), the pure queries on it
// and the CSV file writer. The record and queries live in truth-model.ts (pure); the writer in
// truth-files.ts (the only part that touches the file system). Format: simulators/GROUND_TRUTH.md.
// MallSim.truth() (mall-sim.ts) produces the record.

export { writeTruthFiles } from './truth-files.ts';
export type { GroundTruth, PersonKind, TruthInterval, TruthMac, TruthVisit } from './truth-model.ts';
export {
  renderTruthFiles,
  truthOccupancyPerMinute,
  truthPersonsPerDay,
  truthTransitions,
} from './truth-model.ts';
