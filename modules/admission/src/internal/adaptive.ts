import { ADAPTIVE_GAIN_PERMILLE, MILLI_PER_UNIT } from "./constants.ts"

/** One partition of a table (one capacity kind) as the adaptive controller sees the last interval. */
export interface AdaptivePartition {
  /** Its allocation before any boost, milli-units/s (what a boost never cuts below). */
  readonly baseMilliPerSec: number
  /** Its allocation now, milli-units/s. */
  readonly allocationMilliPerSec: number
  /** Admitted over the interval, milli-units. */
  readonly consumedMilli: number
  /** Refused by its partition bucket over the interval, milli-units. */
  readonly throttledMilli: number
  /** Index of the node it is led from, in `nodeRoomMilliPerSec`. */
  readonly node: number
}

/** What the controller decided for one table and kind. */
export interface AdaptiveDecision {
  /** New allocation of each partition (same order as the input), milli-units/s. */
  readonly allocationMilliPerSec: ReadonlyArray<number>
  /** Partitions whose boost did not fit on their node, with the rate they wanted (to move them). */
  readonly moves: ReadonlyArray<{ readonly partition: number; readonly wantedMilliPerSec: number }>
}

/**
 * Adaptive capacity's proportional controller, one table and capacity kind, one interval: pure.
 * If the table throttled while consuming less than `tableRateMilliPerSec`, each throttled
 * partition's allocation grows by `gain × its throttled rate`, bounded by the partition maximum,
 * the table's rate and the room left on its node (`nodeRoomMilliPerSec`, spare rate per node,
 * used up in partition order); a boost that does not fit is a move. If the table consumed more
 * than its rate, boosted partitions shrink in proportion to their boost, never below their base.
 * (`AdaptiveStage` runs it over its topology; the node module over its storage nodes' buckets.)
 */
export function adaptiveControl(
  parts: ReadonlyArray<AdaptivePartition>,
  tableRateMilliPerSec: number,
  windowMs: number,
  partitionMaxMilliPerSec: number,
  nodeRoomMilliPerSec: ReadonlyArray<number>,
  gainPermille: number = ADAPTIVE_GAIN_PERMILLE,
): AdaptiveDecision {
  const window = Math.max(1, windowMs)
  const rateOf = (milli: number): number => Math.floor((milli * MILLI_PER_UNIT) / window)
  const alloc = parts.map((p) => p.allocationMilliPerSec)
  const moves: Array<{ partition: number; wantedMilliPerSec: number }> = []
  let consumed = 0
  for (const p of parts) consumed += p.consumedMilli
  const throttledRate = parts.map((p) => rateOf(p.throttledMilli))
  const consumedRate = rateOf(consumed)
  if (throttledRate.some((r) => r > 0) && consumedRate < tableRateMilliPerSec) {
    const room = [...nodeRoomMilliPerSec]
    parts.forEach((p, i) => {
      const want = Math.floor((throttledRate[i]! * gainPermille) / 1000)
      if (want <= 0) return
      const cur = alloc[i]!
      const spare = Math.max(0, room[p.node] ?? 0)
      const target = Math.min(cur + want, partitionMaxMilliPerSec, tableRateMilliPerSec)
      const next = Math.min(target, cur + spare)
      if (next > cur) {
        alloc[i] = next
        room[p.node] = spare - (next - cur)
      }
      if (next < target) moves.push({ partition: i, wantedMilliPerSec: target })
    })
  } else if (consumedRate > tableRateMilliPerSec) {
    const excess = consumedRate - tableRateMilliPerSec
    let boosted = 0
    parts.forEach((p, i) => {
      boosted += alloc[i]! - p.baseMilliPerSec
    })
    if (boosted > 0)
      parts.forEach((p, i) => {
        const extra = alloc[i]! - p.baseMilliPerSec
        if (extra <= 0) return
        const cut = Math.min(extra, Math.ceil((((excess * gainPermille) / 1000) * extra) / boosted))
        alloc[i] = alloc[i]! - cut
      })
  }
  return { allocationMilliPerSec: alloc, moves }
}
