/**
 * Checksums: the 128-bit lane-sum representation, the accumulator used while descending, and
 * the public helpers to combine range checksums or compute one without a tree.
 */
import type { EncodedKey } from "@partita/core"
import { type Scalar, scalarCodec, utf8Length, type ValueCodec } from "./codec.ts"
import { HASH_OUT, hashItem } from "./hash.ts"
import type { Node } from "./node.ts"

/** Count, payload bytes and checksum of a set of items. */
export interface Summary {
  readonly count: number
  readonly bytes: number
  readonly checksum: Checksum
}

/**
 * A 128-bit order-independent content checksum as 32 lowercase hex digits: four 32-bit lanes,
 * each the sum mod 2^32 of that lane of every item's hash.
 */
export type Checksum = string

function u32hex(x: number): string {
  return (x >>> 0).toString(16).padStart(8, "0")
}

/** Renders four lanes as a `Checksum`. */
export function lanesToChecksum(a: number, b: number, c: number, d: number): Checksum {
  return u32hex(a) + u32hex(b) + u32hex(c) + u32hex(d)
}

/** Parses a `Checksum` into its four lanes. */
export function checksumToLanes(c: Checksum): [number, number, number, number] {
  if (!/^[0-9a-f]{32}$/.test(c)) throw new RangeError(`not a checksum: ${c}`)
  return [
    Number.parseInt(c.slice(0, 8), 16) | 0,
    Number.parseInt(c.slice(8, 16), 16) | 0,
    Number.parseInt(c.slice(16, 24), 16) | 0,
    Number.parseInt(c.slice(24, 32), 16) | 0,
  ]
}

/** Mutable accumulator of count, bytes and lanes. */
export class Acc {
  count = 0
  bytes = 0
  s0 = 0
  s1 = 0
  s2 = 0
  s3 = 0
  addNode(n: Node, sign: number): void {
    this.count += sign * n.count
    this.bytes += sign * n.bytes
    this.s0 = (this.s0 + sign * n.s0) | 0
    this.s1 = (this.s1 + sign * n.s1) | 0
    this.s2 = (this.s2 + sign * n.s2) | 0
    this.s3 = (this.s3 + sign * n.s3) | 0
  }
  addHash(sign: number, bytes: number): void {
    this.count += sign
    this.bytes += sign * bytes
    this.s0 = (this.s0 + sign * HASH_OUT[0]!) | 0
    this.s1 = (this.s1 + sign * HASH_OUT[1]!) | 0
    this.s2 = (this.s2 + sign * HASH_OUT[2]!) | 0
    this.s3 = (this.s3 + sign * HASH_OUT[3]!) | 0
  }
  summary(): Summary {
    return {
      count: this.count,
      bytes: this.bytes,
      checksum: lanesToChecksum(this.s0, this.s1, this.s2, this.s3),
    }
  }
}

/** The checksum of no items. */
export const EMPTY_CHECKSUM: Checksum = "0".repeat(32)

/** Checksum of the union of two disjoint item sets (lane-wise sum). */
export function addChecksums(a: Checksum, b: Checksum): Checksum {
  const x = checksumToLanes(a)
  const y = checksumToLanes(b)
  return lanesToChecksum((x[0] + y[0]) | 0, (x[1] + y[1]) | 0, (x[2] + y[2]) | 0, (x[3] + y[3]) | 0)
}

/** Checksum of `a` without the items of `b` (b a subset of a). */
export function subtractChecksums(a: Checksum, b: Checksum): Checksum {
  const x = checksumToLanes(a)
  const y = checksumToLanes(b)
  return lanesToChecksum((x[0] - y[0]) | 0, (x[1] - y[1]) | 0, (x[2] - y[2]) | 0, (x[3] - y[3]) | 0)
}

/**
 * Builds the same checksum as a tree holding the same items, without a tree (e.g. for a
 * reference rebuilt from a log). Items may be added and removed in any order.
 */
export class ChecksumAccumulator<V = Scalar> {
  private readonly acc = new Acc()
  private readonly codec: ValueCodec<V>
  constructor(codec?: ValueCodec<V>) {
    this.codec = codec ?? (scalarCodec as unknown as ValueCodec<V>)
  }
  /** Adds one item. */
  add(key: EncodedKey, value: V): void {
    hashItem(key, this.codec.digest(value))
    this.acc.addHash(1, utf8Length(key) + this.codec.sizeOf(value))
  }
  /** Removes one item previously added. */
  remove(key: EncodedKey, value: V): void {
    hashItem(key, this.codec.digest(value))
    this.acc.addHash(-1, utf8Length(key) + this.codec.sizeOf(value))
  }
  /** Count, bytes and checksum so far. */
  summary(): Summary {
    return this.acc.summary()
  }
  /** Checksum so far. */
  checksum(): Checksum {
    return this.summary().checksum
  }
}
