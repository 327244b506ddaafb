/**
 * The Effect shell: a `Partitioner` service for the metadata service. Each method suspends the
 * pure function of the same name; refusals become typed failures. The request path should use
 * `PartitionMap.route` directly (no Effect per request).
 */
import { Context, Effect, Layer } from "effect"
import type { NoValidPlacement, SplitRefused } from "./errors.ts"
import type { HashName } from "./hash.ts"
import { PartitionMap } from "./map.ts"
import {
  type NodeEvent,
  type PlacementOptions,
  type PlacementPlan,
  type PlacementState,
  planNodeEvent,
  placeAll,
  type ReplicaDemand,
  rebalance,
  repair,
  type StorageNode,
} from "./placement.ts"
import {
  type ConsumptionSplitOptions,
  type MapUpdate,
  type SizeSample,
  type SizeSplitOptions,
  type SplitChange,
  setProvisionedThroughput,
  splitForConsumption,
  splitForSize,
  type ThroughputChange,
} from "./split.ts"
import type { AccessStats } from "./stats.ts"
import type { AllocationPolicy, Throughput } from "./types.ts"

/** Settings a `Partitioner` applies when a caller leaves them out. */
export interface PartitionerDefaults {
  readonly hash: HashName
  readonly policy: AllocationPolicy
  readonly partitionLimit: Throughput
  readonly size: SizeSplitOptions
  readonly placement: PlacementOptions
}

/** A new table's settings for `Partitioner.createTable`. */
export interface CreateTable {
  readonly table: string
  readonly provisioned: Throughput
  readonly partitions?: number
  readonly hash?: HashName
  readonly policy?: AllocationPolicy
  readonly partitionLimit?: Throughput
}

/** What the metadata service asks of the partitioner. */
export interface PartitionerService {
  readonly defaults: PartitionerDefaults
  readonly createTable: (request: CreateTable) => Effect.Effect<PartitionMap>
  readonly splitForSize: (
    map: PartitionMap,
    partitionId: string,
    samples: ReadonlyArray<SizeSample>,
    options?: SizeSplitOptions,
  ) => Effect.Effect<MapUpdate<SplitChange>, SplitRefused>
  readonly splitForConsumption: (
    map: PartitionMap,
    partitionId: string,
    stats: AccessStats,
    options: ConsumptionSplitOptions,
  ) => Effect.Effect<MapUpdate<SplitChange>, SplitRefused>
  readonly setProvisionedThroughput: (
    map: PartitionMap,
    provisioned: Throughput,
  ) => Effect.Effect<MapUpdate<ThroughputChange>>
  readonly placeAll: (
    nodes: ReadonlyArray<StorageNode>,
    demands: ReadonlyArray<ReplicaDemand>,
  ) => Effect.Effect<PlacementPlan, NoValidPlacement>
  readonly repair: (state: PlacementState) => Effect.Effect<PlacementPlan, NoValidPlacement>
  readonly planNodeEvent: (
    state: PlacementState,
    event: NodeEvent,
  ) => Effect.Effect<PlacementPlan, NoValidPlacement>
  readonly rebalance: (state: PlacementState) => Effect.Effect<PlacementPlan>
}

/** The partitioner service tag. */
export class Partitioner extends Context.Tag("@partita/partitioner/Partitioner")<
  Partitioner,
  PartitionerService
>() {}

/** Builds the service from defaults (pure functions underneath, no state of its own). */
export function makePartitioner(overrides: Partial<PartitionerDefaults> = {}): PartitionerService {
  const defaults: PartitionerDefaults = {
    hash: "murmur3",
    policy: "per-partition-limit",
    partitionLimit: { rcu: 3000, wcu: 1000 },
    size: {},
    placement: {},
    ...overrides,
  }
  return {
    defaults,
    createTable: (r) =>
      Effect.sync(() =>
        PartitionMap.make(
          {
            table: r.table,
            hash: r.hash ?? defaults.hash,
            policy: r.policy ?? defaults.policy,
            provisioned: r.provisioned,
            partitionLimit: r.partitionLimit ?? defaults.partitionLimit,
          },
          r.partitions ?? 1,
        ),
      ),
    splitForSize: (map, id, samples, options) =>
      Effect.suspend(() => splitForSize(map, id, samples, { ...defaults.size, ...options })),
    splitForConsumption: (map, id, stats, options) =>
      Effect.suspend(() => splitForConsumption(map, id, stats, options)),
    setProvisionedThroughput: (map, provisioned) =>
      Effect.sync(() => setProvisionedThroughput(map, provisioned)),
    placeAll: (nodes, demands) => Effect.suspend(() => placeAll(nodes, demands, defaults.placement)),
    repair: (state) => Effect.suspend(() => repair(state, defaults.placement)),
    planNodeEvent: (state, event) => Effect.suspend(() => planNodeEvent(state, event, defaults.placement)),
    rebalance: (state) => Effect.sync(() => rebalance(state, defaults.placement)),
  }
}

/** A layer providing `Partitioner` with the given defaults. */
export function layerPartitioner(overrides: Partial<PartitionerDefaults> = {}): Layer.Layer<Partitioner> {
  return Layer.succeed(Partitioner, makePartitioner(overrides))
}

/** The `Partitioner` layer with default settings (murmur3, per-partition-limit, 3,000/1,000). */
export const PartitionerLive: Layer.Layer<Partitioner> = layerPartitioner()
