/**
 * @partita/partitioner — DynamoDB's hash partitioner: key hashing, versioned partition maps with
 * epochs, splits by size and by consumption, throughput allocation, AZ-aware replica placement.
 *
 * The algorithms are plain functions over immutable values; `Partitioner` is the Effect service
 * wrapping them for the metadata service. The request path uses `PartitionMap.route` directly.
 */

/** Typed refusals and failures. */
export {
  BelowThreshold,
  HotKey,
  NoSplitPoint,
  NoValidPlacement,
  SequentialAccess,
  type SplitRefused,
  UnknownPartition,
} from "./internal/errors.ts"
/** Key hashing (MD5 and MurmurHash3 x86_128) into four big-endian 32-bit words. */
export {
  canonicalNumber,
  type HashName,
  hashKeyInto,
  hexToWords,
  type PartitionKeyInput,
  partitionKeyBytesMax,
  wordsToHex,
} from "./internal/hash.ts"
/** The partition map and its router. */
export { allocationFor, contains, PartitionMap, type SortKeyRange } from "./internal/map.ts"
/** Replica placement and membership-change planning. */
export {
  type Move,
  type NodeEvent,
  nodeScores,
  type PlacementOptions,
  type PlacementPlan,
  type PlacementState,
  type Placement,
  placeAll,
  placementViolations,
  planNodeEvent,
  type ReplicaDemand,
  rebalance,
  repair,
  replicasPerPartition,
  type StorageNode,
} from "./internal/placement.ts"
/** Decoding partition maps from outside input. */
export { decodePartitionMap, InvalidPartitionMap, PartitionMapDataSchema } from "./internal/schema.ts"
/** The Effect service. */
export {
  type CreateTable,
  layerPartitioner,
  makePartitioner,
  Partitioner,
  type PartitionerDefaults,
  PartitionerLive,
  type PartitionerService,
} from "./internal/service.ts"
/** Pure map transitions: splits and throughput changes. */
export {
  type ConsumptionSplitOptions,
  hashMidpoint,
  type MapChange,
  type MapUpdate,
  type MedianSplit,
  medianSplit,
  type SizeSample,
  type SizeSplitOptions,
  type SplitChange,
  type SplitReason,
  setProvisionedThroughput,
  splitAt,
  splitForConsumption,
  splitForSize,
  type ThroughputChange,
  type WeightedKey,
} from "./internal/split.ts"
/** Bounded per-partition access statistics for splits by consumption. */
export {
  type AccessSample,
  AccessStats,
  type AccessStatsOptions,
  statsSamplesDefault,
} from "./internal/stats.ts"
/** Shared value types and defaults. */
export {
  type AllocationPolicy,
  type Boundary,
  compareBoundary,
  type Partition,
  type PartitionMapData,
  type Position,
  partitionLimitDefault,
  positionMax,
  positionMin,
  splitSizeBytesDefault,
  type TableConfig,
  type Throughput,
} from "./internal/types.ts"
