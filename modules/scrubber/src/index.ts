/**
 * @partita/scrubber — continuous verification of a partition's replicas against each other and
 * against a reference rebuilt from the archived write-ahead log.
 *
 * - Narrowing (`narrow`, `Narrowing`): a pure state machine that turns "the checksums differ"
 *   into the exact differing keys with O(differences × log n) range checksums exchanged.
 * - Visits (`PartitionVisit`): local WAL check, archive verification and reference rebuild
 *   (checkpoint + archived segments), reference comparison, replica comparison at a common log
 *   position via O(1) snapshots, repair; every finding a structured `ScrubEvent`.
 * - Scheduling (`ScrubberCore`, `decide`/`charge`): partitions in rotation, a token bucket on
 *   bytes, yielding to foreground work; `Scrubber` is the Effect service around it.
 * - `SimPartition` and the fault injectors drive tests, benchmarks and experiments.
 */

/** The narrowing core and its participants. */
export {
  type KeyDifference,
  type KeyRange,
  type NarrowAnswer,
  type NarrowRequest,
  type NarrowResult,
  Narrowing,
  type RangeSource,
  type RangeSummary,
  answerRequest,
  narrow,
  successorKey,
  summariesAgree,
  viewSource,
} from "./internal/narrow.ts"

/** The state machine a reference is rebuilt with, and the default key-value one. */
export {
  type KvCommand,
  type StateMachine,
  applyCommand,
  decodeCommand,
  encodeCommand,
  kvStateMachine,
  toBase64,
} from "./internal/command.ts"

/** What the scrubber needs from partitions and replicas. */
export { type KeyFix, type PartitionPort, type ReplicaPort, partitionName } from "./internal/ports.ts"

/** Events. */
export type { ScrubCause, ScrubEvent, ScrubEventType } from "./internal/events.ts"

/** One visit to one partition, slice by slice. */
export {
  PartitionVisit,
  type ReferenceCache,
  type StepOutcome,
  type VisitOptions,
  type VisitStats,
} from "./internal/visit.ts"

/** Scheduling: token bucket on bytes, yielding to the foreground. */
export {
  RATE_LIMIT_DEFAULT,
  type RateLimit,
  type SchedulerDecision,
  type SchedulerState,
  charge,
  decide,
  initialScheduler,
} from "./internal/scheduler.ts"

/** The scrubber core: rotation, events, metrics. */
export {
  ScrubberCore,
  type ScrubMetrics,
  type ScrubberOptions,
  type TickOutcome,
} from "./internal/scrubber.ts"

/** The Effect service. */
export { Scrubber, ScrubberLive, type ScrubberService, makeScrubber } from "./internal/service.ts"

/** Archive layout used by the reference builder (checkpoints next to the WAL segments). */
export { checkpointKey, checkpointPrefix, listCheckpoints, walPrefix } from "./internal/layout.ts"

/** Simulated partitions for tests, benchmarks and experiments. */
export { SimPartition, type SimPartitionOptions, SimReplica } from "./internal/sim.ts"

/** Fault injection. */
export {
  type FaultKind,
  type InjectedFault,
  applyNextAddTwice,
  flipArchivedSegmentBit,
  flipCheckpointBit,
  flipValueBit,
  flipWalRecordBit,
  loseNextWrite,
  rotStoredBytes,
} from "./internal/faults.ts"

/** Bounds, with units in their names. */
export {
  CHECKPOINT_EVERY_SEGMENTS_DEFAULT,
  CHECKPOINT_PAGES_PER_SLICE,
  CHECKPOINTS_VERIFIED,
  DEEP_ITEMS_PER_SLICE,
  NARROW_DEPTH_MAX,
  NARROW_DIFFS_MAX,
  REPAIR_KEYS_MAX,
  SCRUB_BURST_BYTES_DEFAULT,
  SCRUB_BYTES_PER_SEC_DEFAULT,
  SNAPSHOT_WAIT_TICKS_MAX,
  SUMMARY_WIRE_BYTES,
  VERIFY_BYTES_PER_SLICE,
} from "./internal/constants.ts"
