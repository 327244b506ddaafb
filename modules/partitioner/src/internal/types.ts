import type { EncodedKey } from "@partita/core"
import type { HashName } from "./hash.ts"

/** A 128-bit hash position as 32 lowercase hex characters; `<` on these strings is numeric order. */
export type Position = string

/** The smallest position (start of the key space). */
export const positionMin: Position = "00000000000000000000000000000000"
/** The largest position. */
export const positionMax: Position = "ffffffffffffffffffffffffffffffff"

/**
 * A point in a table's key space: a hash position and, optionally, an encoded sort key.
 * `(h, undefined)` sorts before every `(h, s)`: it is the start of the item collection at `h`.
 */
export interface Boundary {
  readonly hash: Position
  readonly sortKey?: EncodedKey | undefined
}

/** Read and write capacity units per second. */
export interface Throughput {
  readonly rcu: number
  readonly wcu: number
}

/**
 * How a table's provisioned throughput becomes partition allocations.
 * - `even`: provisioned / partition count (splits for size halve the parent's share: dilution);
 * - `per-partition-limit`: each partition may use up to the partition maximum; the table-wide
 *   limit is enforced elsewhere (admission control).
 */
export type AllocationPolicy = "even" | "per-partition-limit"

/** One partition: a contiguous key range `[start, end)` with an epoch and a throughput allocation. */
export interface Partition {
  readonly id: string
  /** Bumped whenever the partition's range is created; children always exceed their parent. */
  readonly epoch: number
  readonly start: Boundary
  /** Exclusive end; `undefined` for the last partition (end of the key space). */
  readonly end: Boundary | undefined
  readonly allocation: Throughput
  /** The partition this one was split from, if any. */
  readonly parent: string | undefined
}

/** Per-table settings carried by a map. */
export interface TableConfig {
  readonly table: string
  readonly hash: HashName
  readonly policy: AllocationPolicy
  readonly provisioned: Throughput
  /** Per-partition maximum (DynamoDB: 3,000 RCU / 1,000 WCU). */
  readonly partitionLimit: Throughput
  /**
   * Put before every partition id of the table (`<idPrefix>p<n>`; default none). Partition ids
   * are unique within a table; a store holding partitions of several tables in one namespace
   * (replicas on a node, files on a disk) gives each table its own prefix.
   */
  readonly idPrefix?: string | undefined
}

/** The serializable content of a partition map (what the metadata service stores). */
export interface PartitionMapData extends TableConfig {
  readonly version: number
  /** Next number used to name a partition (`<idPrefix>p<n>`); ids are never reused. */
  readonly nextPartition: number
  readonly partitions: ReadonlyArray<Partition>
}

/** DynamoDB's documented per-partition ceilings. */
export const partitionLimitDefault: Throughput = { rcu: 3000, wcu: 1000 }

/** DynamoDB's partition size at which a split for size happens. */
export const splitSizeBytesDefault = 10 * 1024 * 1024 * 1024

/** Compares two boundaries: hash first, then sort key (`undefined` first). */
export function compareBoundary(a: Boundary, b: Boundary): number {
  if (a.hash !== b.hash) return a.hash < b.hash ? -1 : 1
  const x = a.sortKey
  const y = b.sortKey
  if (x === y) return 0
  if (x === undefined) return -1
  if (y === undefined) return 1
  return x < y ? -1 : 1
}
