import { Data } from "effect"
import type { Boundary } from "./types.ts"

/** The partition id is not in the map (stale id or wrong table). */
export class UnknownPartition extends Data.TaggedError("UnknownPartition")<{
  readonly partitionId: string
}> {}

/** The partition is below the split threshold; nothing to do. */
export class BelowThreshold extends Data.TaggedError("BelowThreshold")<{
  readonly partitionId: string
  /** What was compared: `"bytes"`, `"rcu"` or `"wcu"` (per second for throughput). */
  readonly measure: string
  readonly observed: number
  readonly threshold: number
}> {}

/** One item carries the traffic: no split can help it (DynamoDB does not split for it either). */
export class HotKey extends Data.TaggedError("HotKey")<{
  readonly partitionId: string
  readonly key: Boundary
  /** The item's share of the observed traffic, 0..1. */
  readonly share: number
}> {}

/** The traffic walks the key range in order: a split would only move the hot spot to the newer child. */
export class SequentialAccess extends Data.TaggedError("SequentialAccess")<{
  readonly partitionId: string
  /** Share of consecutive accesses whose key exceeded the previous key, 0..1. */
  readonly ascendingShare: number
}> {}

/** No key strictly inside the partition divides it (too few distinct keys, or a bad split key). */
export class NoSplitPoint extends Data.TaggedError("NoSplitPoint")<{
  readonly partitionId: string
  readonly reason: string
}> {}

/** Why a split was not made. */
export type SplitRefused = UnknownPartition | BelowThreshold | HotKey | SequentialAccess | NoSplitPoint

/** No assignment of three replicas in three distinct AZs fits the nodes' capacities. */
export class NoValidPlacement extends Data.TaggedError("NoValidPlacement")<{
  readonly partitionId: string
  readonly reason: string
}> {}
