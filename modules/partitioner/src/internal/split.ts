/**
 * Pure map transitions: every function takes a map and returns a new map plus a description of
 * the change (or a typed refusal). Partitions never merge. Every change bumps the map version;
 * children of a split get epoch `maxEpoch + 1`, above their parent's.
 */
import type { EncodedKey } from "@partita/core"
import { Either } from "effect"
import {
  BelowThreshold,
  HotKey,
  NoSplitPoint,
  SequentialAccess,
  type SplitRefused,
  UnknownPartition,
} from "./errors.ts"
import { bigIntToHex, hexToBigInt } from "./hash.ts"
import { allocationFor, PartitionMap, partitionId as partitionIdOf, strictlyInside } from "./map.ts"
import type { AccessStats } from "./stats.ts"
import {
  type Boundary,
  compareBoundary,
  type Partition,
  splitSizeBytesDefault,
  type Throughput,
} from "./types.ts"

/** Why a split happened. */
export type SplitReason = "size" | "consumption" | "throughput"

/** One split: the parent range and the two children that replace it. */
export interface SplitChange {
  readonly _tag: "Split"
  readonly reason: SplitReason
  readonly parent: Partition
  readonly children: readonly [Partition, Partition]
  readonly splitKey: Boundary
  /** Observed share of the traffic (consumption) or bytes (size) that went to the left child. */
  readonly leftShare: number | undefined
}

/** A change of the table's provisioned throughput (and so, perhaps, of every allocation). */
export interface ThroughputChange {
  readonly _tag: "Throughput"
  readonly previous: Throughput
  readonly provisioned: Throughput
  /** Splits made because `provisioned / partitions` exceeded the per-partition limit. */
  readonly splits: ReadonlyArray<SplitChange>
}

/** A description of one map change. */
export type MapChange = SplitChange | ThroughputChange

/** A new map and what changed. */
export interface MapUpdate<C extends MapChange = MapChange> {
  readonly map: PartitionMap
  readonly change: C
}

/** A key with a weight (bytes for size splits, estimated traffic for consumption splits). */
export interface WeightedKey {
  readonly key: Boundary
  readonly weight: number
}

/** Where to split a weighted key set so both sides weigh about the same. */
export interface MedianSplit {
  /** First key of the right side. */
  readonly key: Boundary
  readonly leftWeight: number
  readonly totalWeight: number
  /** The heaviest single key and its share of the total. */
  readonly heaviest: Boundary
  readonly heaviestShare: number
  readonly distinctKeys: number
}

/**
 * The key that best halves the weight of `samples` inside partition `p` (the split is
 * `[p.start, key)` / `[key, p.end)`), or `undefined` when fewer than two distinct keys carry weight.
 */
export function medianSplit(p: Partition, samples: ReadonlyArray<WeightedKey>): MedianSplit | undefined {
  const inside = samples.filter(
    (s) =>
      s.weight > 0 &&
      compareBoundary(p.start, s.key) <= 0 &&
      (p.end === undefined || compareBoundary(s.key, p.end) < 0),
  )
  if (inside.length === 0) return undefined
  inside.sort((a, b) => compareBoundary(a.key, b.key))
  const keys: Boundary[] = []
  const weights: number[] = []
  for (const s of inside) {
    const last = keys.length - 1
    if (last >= 0 && compareBoundary(keys[last]!, s.key) === 0) weights[last] = weights[last]! + s.weight
    else {
      keys.push(s.key)
      weights.push(s.weight)
    }
  }
  let total = 0
  let heaviest = 0
  for (let i = 0; i < weights.length; i++) {
    total += weights[i]!
    if (weights[i]! > weights[heaviest]!) heaviest = i
  }
  const base = {
    totalWeight: total,
    heaviest: keys[heaviest]!,
    heaviestShare: weights[heaviest]! / total,
    distinctKeys: keys.length,
  }
  if (keys.length < 2) return { key: keys[0]!, leftWeight: 0, ...base }
  // Split before key j (j ≥ 1, and key j must lie strictly after p.start); left = Σ weights[< j].
  let best = -1
  let bestGap = Number.POSITIVE_INFINITY
  let bestLeft = 0
  let left = weights[0]!
  for (let j = 1; j < keys.length; j++) {
    const gap = Math.abs(2 * left - total)
    if (gap < bestGap && compareBoundary(p.start, keys[j]!) < 0) {
      best = j
      bestGap = gap
      bestLeft = left
    }
    left += weights[j]!
  }
  if (best < 0) return undefined
  return { key: keys[best]!, leftWeight: bestLeft, ...base }
}

function childAllocations(map: PartitionMap, parent: Partition, reason: SplitReason): Throughput {
  if (map.policy === "per-partition-limit") return map.partitionLimit
  if (reason === "size") return { rcu: parent.allocation.rcu / 2, wcu: parent.allocation.wcu / 2 }
  return allocationFor(map, map.size + 1)
}

/**
 * Splits partition `partitionId` at `key` (which must lie strictly inside it). Pure.
 * Allocation: `per-partition-limit` gives both children the partition maximum; under `even`, a
 * split for size halves the parent's allocation (throughput dilution), a split for consumption
 * or throughput re-spreads the table's provisioned throughput over all partitions.
 */
export function splitAt(
  map: PartitionMap,
  partitionId: string,
  key: Boundary,
  reason: SplitReason,
  leftShare?: number,
): Either.Either<MapUpdate<SplitChange>, UnknownPartition | NoSplitPoint> {
  const index = map.indexOf(partitionId)
  if (index < 0) return Either.left(new UnknownPartition({ partitionId }))
  const parent = map.partitions[index]!
  if (!strictlyInside(parent, key)) {
    return Either.left(
      new NoSplitPoint({ partitionId, reason: "split key is not strictly inside the partition" }),
    )
  }
  const allocation = childAllocations(map, parent, reason)
  const epoch = map.maxEpoch + 1
  const splitKey: Boundary =
    key.sortKey === undefined ? { hash: key.hash } : { hash: key.hash, sortKey: key.sortKey }
  const left: Partition = {
    id: partitionIdOf(map.idPrefix, map.nextPartition),
    epoch,
    start: parent.start,
    end: splitKey,
    allocation,
    parent: parent.id,
  }
  const right: Partition = {
    id: partitionIdOf(map.idPrefix, map.nextPartition + 1),
    epoch,
    start: splitKey,
    end: parent.end,
    allocation,
    parent: parent.id,
  }
  let partitions = [...map.partitions.slice(0, index), left, right, ...map.partitions.slice(index + 1)]
  if (map.policy === "even" && reason !== "size") {
    partitions = partitions.map((p) => (p.allocation === allocation ? p : { ...p, allocation }))
  }
  const next = PartitionMap.fromData({
    ...map.toData(),
    version: map.version + 1,
    nextPartition: map.nextPartition + 2,
    partitions,
  })
  return Either.right({
    map: next,
    change: { _tag: "Split", reason, parent, children: [left, right], splitKey, leftShare },
  })
}

/** A stored key and its size, as reported by a storage node (all items, or a sample of them). */
export interface SizeSample {
  readonly hash: string
  readonly sortKey?: EncodedKey | undefined
  readonly bytes: number
}

/** Options of `splitForSize`. */
export interface SizeSplitOptions {
  /** Split above this many bytes. Default 10 GiB (DynamoDB's partition size). */
  readonly thresholdBytes?: number
  /** The partition's size when known exactly; default: the sum of the samples. */
  readonly partitionBytes?: number
}

/** Splits a partition larger than the threshold at its median key by bytes. Pure. */
export function splitForSize(
  map: PartitionMap,
  partitionId: string,
  samples: ReadonlyArray<SizeSample>,
  options: SizeSplitOptions = {},
): Either.Either<MapUpdate<SplitChange>, SplitRefused> {
  const parent = map.get(partitionId)
  if (parent === undefined) return Either.left(new UnknownPartition({ partitionId }))
  const threshold = options.thresholdBytes ?? splitSizeBytesDefault
  const bytes = options.partitionBytes ?? samples.reduce((sum, s) => sum + s.bytes, 0)
  if (bytes <= threshold) {
    return Either.left(new BelowThreshold({ partitionId, measure: "bytes", observed: bytes, threshold }))
  }
  const median = medianSplit(
    parent,
    samples.map((s) => ({ key: { hash: s.hash, sortKey: s.sortKey }, weight: s.bytes })),
  )
  if (median === undefined || median.distinctKeys < 2) {
    return Either.left(new NoSplitPoint({ partitionId, reason: "fewer than two distinct keys carry bytes" }))
  }
  return splitAt(map, partitionId, median.key, "size", median.leftWeight / median.totalWeight)
}

/** Options of `splitForConsumption`. */
export interface ConsumptionSplitOptions {
  /** Length of the window the statistics cover, in milliseconds. */
  readonly windowMs: number
  /** Split when consumption exceeds this share of the partition limit (reads or writes). Default 0.8. */
  readonly thresholdShare?: number
  /** Report a hot key instead of splitting when one item has at least this share. Default 0.5. */
  readonly hotKeyShareMin?: number
  /** Report sequential access when this share of consecutive accesses ascend. Default 0.8; 1.1 disables. */
  readonly sequentialShareMin?: number
  /** Minimum accesses in the sample to decide anything. Default 32. */
  readonly samplesMin?: number
}

/**
 * Splits a partition whose sustained consumption over the window exceeds `thresholdShare` of the
 * partition limit, at the key that divides the observed traffic in half (not the space). Refuses
 * with `HotKey` when one item carries the traffic and `SequentialAccess` when keys are walked in
 * order, since a split helps neither. Pure.
 */
export function splitForConsumption(
  map: PartitionMap,
  partitionId: string,
  stats: AccessStats,
  options: ConsumptionSplitOptions,
): Either.Either<MapUpdate<SplitChange>, SplitRefused> {
  const parent = map.get(partitionId)
  if (parent === undefined) return Either.left(new UnknownPartition({ partitionId }))
  if (!(options.windowMs > 0)) throw new RangeError("windowMs must be positive")
  const share = options.thresholdShare ?? 0.8
  const seconds = options.windowMs / 1000
  const rcuRate = stats.readUnits / seconds
  const wcuRate = stats.writeUnits / seconds
  const rcuLimit = share * map.partitionLimit.rcu
  const wcuLimit = share * map.partitionLimit.wcu
  if (rcuRate <= rcuLimit && wcuRate <= wcuLimit) {
    const reads = rcuRate / rcuLimit >= wcuRate / wcuLimit
    return Either.left(
      new BelowThreshold({
        partitionId,
        measure: reads ? "rcu" : "wcu",
        observed: reads ? rcuRate : wcuRate,
        threshold: reads ? rcuLimit : wcuLimit,
      }),
    )
  }
  const samplesMin = options.samplesMin ?? 32
  if (stats.sampled < samplesMin) {
    return Either.left(
      new NoSplitPoint({ partitionId, reason: `only ${stats.sampled} sampled accesses (< ${samplesMin})` }),
    )
  }
  const ascending = stats.ascendingShare
  if (ascending >= (options.sequentialShareMin ?? 0.8)) {
    return Either.left(new SequentialAccess({ partitionId, ascendingShare: ascending }))
  }
  const median = medianSplit(parent, stats.samples())
  if (median === undefined) {
    return Either.left(new NoSplitPoint({ partitionId, reason: "no sampled access inside the partition" }))
  }
  if (median.heaviestShare >= (options.hotKeyShareMin ?? 0.5)) {
    return Either.left(new HotKey({ partitionId, key: median.heaviest, share: median.heaviestShare }))
  }
  return splitAt(map, partitionId, median.key, "consumption", median.leftWeight / median.totalWeight)
}

/** The middle of a partition's hash range, if it lies strictly inside the partition. */
export function hashMidpoint(p: Partition): Boundary | undefined {
  const lo = hexToBigInt(p.start.hash)
  const hi = p.end === undefined ? 1n << 128n : hexToBigInt(p.end.hash)
  const mid = (lo + hi + 1n) / 2n
  if (mid >= 1n << 128n) return undefined
  const key: Boundary = { hash: bigIntToHex(mid) }
  return strictlyInside(p, key) ? key : undefined
}

/**
 * Changes the table's provisioned throughput. Under `even`, while provisioned / partitions
 * exceeds the per-partition limit, every partition splits at its hash midpoint (DynamoDB's
 * doubling: 4 partitions at 6,000 WCU become 8 at 750); then every partition gets
 * provisioned / partitions. Under `per-partition-limit`, allocations stay at the limit. Pure.
 */
export function setProvisionedThroughput(
  map: PartitionMap,
  provisioned: Throughput,
): MapUpdate<ThroughputChange> {
  if (!(provisioned.rcu >= 0 && provisioned.wcu >= 0)) throw new RangeError("throughput must be ≥ 0")
  const splits: SplitChange[] = []
  let partitions: Partition[] = [...map.partitions]
  let nextPartition = map.nextPartition
  let epoch = map.maxEpoch
  const limit = map.partitionLimit
  const tooFew = (n: number) => provisioned.rcu / n > limit.rcu || provisioned.wcu / n > limit.wcu
  while (map.policy === "even" && tooFew(partitions.length)) {
    epoch++
    const next: Partition[] = []
    let progressed = false
    for (const parent of partitions) {
      const key = hashMidpoint(parent)
      if (key === undefined) {
        next.push(parent)
        continue
      }
      progressed = true
      const left: Partition = {
        ...parent,
        id: partitionIdOf(map.idPrefix, nextPartition),
        epoch,
        end: key,
        parent: parent.id,
      }
      const right: Partition = {
        ...parent,
        id: partitionIdOf(map.idPrefix, nextPartition + 1),
        epoch,
        start: key,
        parent: parent.id,
      }
      nextPartition += 2
      next.push(left, right)
      splits.push({
        _tag: "Split",
        reason: "throughput",
        parent,
        children: [left, right],
        splitKey: key,
        leftShare: 0.5,
      })
    }
    partitions = next
    if (!progressed) break
  }
  const allocation = allocationFor({ ...map, provisioned }, partitions.length)
  const allocated = new Map<string, Partition>()
  partitions = partitions.map((p) => {
    const q = { ...p, allocation }
    allocated.set(q.id, q)
    return q
  })
  // Report children with their final allocation (an intermediate child may have split again).
  const reported = splits.map((s) => ({
    ...s,
    children: s.children.map((c) => allocated.get(c.id) ?? { ...c, allocation }) as unknown as readonly [
      Partition,
      Partition,
    ],
  }))
  const next = PartitionMap.fromData({
    ...map.toData(),
    provisioned,
    version: map.version + 1,
    nextPartition,
    partitions,
  })
  return {
    map: next,
    change: { _tag: "Throughput", previous: map.provisioned, provisioned, splits: reported },
  }
}
