/**
 * @partita/admission — DynamoDB's admission control, every historical stage of it.
 *
 * Units: capacity in milli-units (1 RCU/WCU = 1000), rates in milli-units per second, time in
 * integer milliseconds passed in by the caller. Hot-path checks are plain functions returning
 * small integer decisions; errors appear only at the Effect boundary.
 */

/** Bounds and tunables, with their units in the names. */
export * from "./internal/constants.ts"
/** Integer token bucket with lazy refill and debt. */
export { TokenBucket } from "./internal/TokenBucket.ts"
/** Allocated + burst bucket of one partition (300 s of unused capacity). */
export { BurstBucket } from "./internal/BurstBucket.ts"
/** Capacity accounting (RCU/WCU in exact milli-units) and ConsumedCapacity. */
export {
  type ConsumedCapacity,
  type ConsumedCapacityMilli,
  type ReadMode,
  batchGetCostMilli,
  batchWriteCostMilli,
  type CapacityRequest,
  consumedCapacity,
  queryCostMilli,
  readCostMilli,
  toConsumedCapacity,
  writeCostMilli,
} from "./internal/capacity.ts"
/** Topology the stages run over. */
export {
  type Kind,
  type NodeSpec,
  type PartitionSpec,
  READ,
  type TableSpec,
  type Topology,
  WRITE,
} from "./internal/topology.ts"
/** Per table, partition, node and router counters. */
export type { AdmissionMetrics, Counters, KindCounters } from "./internal/metrics.ts"
/** Adaptive capacity's controller as a pure function (used by `AdaptiveStage` and the node module). */
export { type AdaptiveDecision, type AdaptivePartition, adaptiveControl } from "./internal/adaptive.ts"
/** The switchable stages and their decisions. */
export {
  ADMITTED,
  ADMITTED_BURST,
  type AdmissionStage,
  AdaptiveStage,
  BurstStage,
  type Decision,
  GacStage,
  isAdmitted,
  makeStage,
  type MoveRequest,
  OnDemandStage,
  type StageName,
  type StageOptions,
  StaticStage,
  THROTTLED_NODE,
  THROTTLED_PARTITION,
  THROTTLED_TABLE,
} from "./internal/stages.ts"
/** The pure GAC core: servers, router side, hash ring, messages. */
export {
  defaultGacOptions,
  type GacGrant,
  type GacOptions,
  type GacOutbound,
  type GacReport,
  GacRing,
  GacServerCore,
  hash32,
  RouterAdmissionCore,
  type RouterSlot,
} from "./internal/gac.ts"
/** DynamoDB's throttling errors and the decision → error mapping. */
export { ProvisionedThroughputExceededException, ThrottlingException, throttleError } from "./errors.ts"
/** Effect services: GlobalAdmission (router side) and GacTransport. */
export {
  GacTransport,
  type GacTransportService,
  GacUnreachable,
  GlobalAdmission,
  type GlobalAdmissionConfig,
  type GlobalAdmissionService,
  type InProcessGac,
  makeInProcessGac,
  type TableRates,
} from "./GlobalAdmission.ts"
