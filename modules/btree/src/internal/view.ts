/** The read half of the tree: lookups, ranges, checksums, statistics and checkpoint writing. */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import type { EncodedKey } from "@partita/core"
import { Effect } from "effect"
import { CHECKPOINT_PAGE_BYTES_DEFAULT, encodeCheckpoint } from "./checkpoint.ts"
import { Acc, type Checksum, lanesToChecksum, type Summary } from "./checksum.ts"
import { utf8Length, type ValueCodec } from "./codec.ts"
import { type DigestInput, HASH_OUT, hashItem } from "./hash.ts"
import { lowerBound, type Node } from "./node.ts"
import { type Page, type RangeOptions, RangeIterator, toBounds, Walker } from "./range.ts"

/** Options for writing a checkpoint. */
export interface CheckpointOptions {
  /** Page size in bytes (64..16 MiB). Default 64 KiB. */
  readonly pageBytes?: number
}

/** Shape figures of a tree. */
export interface BTreeStats {
  readonly size: number
  /** Payload bytes: UTF-8 key lengths plus `codec.sizeOf` of the values. */
  readonly bytes: number
  readonly nodes: number
  readonly leaves: number
  readonly height: number
  /** Rough heap estimate of the tree structure (not the keys and values themselves). */
  readonly heapBytesEstimate: number
}

/**
 * Read-only view of a tree: what `snapshot()` returns, and the read half of `BTree`.
 * Gets are O(log n), `checksum()` O(1), `rangeChecksum` O(log n).
 */
export class BTreeView<V> {
  /** @internal */
  _root: Node
  /** @internal bumped by every write; iterators fail fast when it moves. */
  _mod = 0
  /** How values are sized, hashed and encoded. */
  readonly codec: ValueCodec<V>
  /** Maximum entries per node. */
  readonly nodeEntriesMax: number
  protected readonly sizeOf: (v: V) => number
  protected readonly digest: (v: V) => DigestInput

  /** @internal */
  constructor(root: Node, codec: ValueCodec<V>, nodeEntriesMax: number) {
    this._root = root
    this.codec = codec
    this.nodeEntriesMax = nodeEntriesMax
    this.sizeOf = codec.sizeOf
    this.digest = codec.digest
  }

  /** Number of items. */
  get size(): number {
    return this._root.count
  }

  /** Payload bytes of all items (UTF-8 key length + `codec.sizeOf(value)`), kept incrementally. */
  get bytes(): number {
    return this._root.bytes
  }

  /** The value stored at `key`, or undefined. */
  get(key: EncodedKey): V | undefined {
    let node = this._root
    while (!node.leaf) {
      const keys = node.keys
      let lo = 0
      let hi = keys.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (keys[mid]! < key) lo = mid + 1
        else hi = mid
      }
      node = node.kids[lo] as Node
    }
    const keys = node.keys
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (keys[mid]! < key) lo = mid + 1
      else hi = mid
    }
    return lo < keys.length && keys[lo] === key ? (node.kids[lo] as V) : undefined
  }

  /** Whether `key` is present. */
  has(key: EncodedKey): boolean {
    let node = this._root
    while (!node.leaf) {
      const keys = node.keys
      let lo = 0
      let hi = keys.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (keys[mid]! < key) lo = mid + 1
        else hi = mid
      }
      node = node.kids[lo] as Node
    }
    const keys = node.keys
    const i = lowerBound(keys, key)
    return i < keys.length && keys[i] === key
  }

  /** How many keys are `< key`, O(log n) (node counts; no key is hashed). */
  rank(key: EncodedKey): number {
    let node = this._root
    let r = 0
    while (!node.leaf) {
      const keys = node.keys
      const kids = node.kids
      const j = lowerBound(keys, key)
      if (j === keys.length) return r + node.count
      for (let c = 0; c < j; c++) r += (kids[c] as Node).count
      node = kids[j] as Node
    }
    return r + lowerBound(node.keys, key)
  }

  /** The item at position `index` (0-based, key order), or undefined when out of range. O(log n). */
  at(index: number): [EncodedKey, V] | undefined {
    let node = this._root
    if (!Number.isInteger(index) || index < 0 || index >= node.count) return undefined
    let i = index
    while (!node.leaf) {
      const kids = node.kids
      let c = 0
      for (; c < kids.length - 1; c++) {
        const n = (kids[c] as Node).count
        if (i < n) break
        i -= n
      }
      node = kids[c] as Node
    }
    return [node.keys[i]!, node.kids[i] as V]
  }

  /** Smallest key, or undefined when empty. */
  minKey(): EncodedKey | undefined {
    let node = this._root
    while (!node.leaf) node = node.kids[0] as Node
    return node.keys[0]
  }

  /** Largest key, or undefined when empty. */
  maxKey(): EncodedKey | undefined {
    const keys = this._root.keys
    return keys[keys.length - 1]
  }

  /** Items in key order (or reverse), bounded, as `[key, value]` pairs. */
  range(options?: RangeOptions): IterableIterator<[EncodedKey, V]> {
    return new RangeIterator(this, toBounds(options), this._mod)
  }

  /** All items in key order. */
  [Symbol.iterator](): IterableIterator<[EncodedKey, V]> {
    return this.range()
  }

  /**
   * Calls `f(key, value)` for each item of the range, in order; `f` returning `false` stops.
   * Returns how many items were visited. Faster than `range`; `f` must not write to the tree.
   */
  forRange(options: RangeOptions | undefined, f: (key: EncodedKey, value: V) => unknown): number {
    const b = toBounds(options)
    const w = new Walker()
    if (
      b.lo !== undefined &&
      b.hi !== undefined &&
      (b.lo > b.hi || (b.lo === b.hi && !(b.loInc && b.hiInc)))
    ) {
      return 0
    }
    let n = 0
    const limit = b.limit
    if (limit <= 0) return 0
    if (!b.reverse) {
      w.seekForward(this._root, b.lo, b.loInc)
      const hi = b.hi
      const hiInc = b.hiInc
      while (!w.done) {
        const keys = w.leaf.keys
        const kids = w.leaf.kids
        for (let i = w.i; i < keys.length; i++) {
          const k = keys[i]!
          if (hi !== undefined && (k > hi || (!hiInc && k === hi))) return n
          n++
          if (f(k, kids[i] as V) === false || n >= limit) return n
        }
        w.nextLeaf()
      }
      return n
    }
    w.seekBackward(this._root, b.hi, b.hiInc)
    const lo = b.lo
    const loInc = b.loInc
    while (!w.done) {
      const keys = w.leaf.keys
      const kids = w.leaf.kids
      for (let i = w.i; i >= 0; i--) {
        const k = keys[i]!
        if (lo !== undefined && (k < lo || (!loInc && k === lo))) return n
        n++
        if (f(k, kids[i] as V) === false || n >= limit) return n
      }
      w.prevLeaf()
    }
    return n
  }

  /**
   * One page of a range, DynamoDB style: at most `limit` items, and `lastEvaluatedKey` when more
   * remain (pass it back as `after`).
   */
  page(options: RangeOptions & { readonly limit: number }): Page<V> {
    const items: Array<[EncodedKey, V]> = []
    const limit = options.limit
    let more = false
    this.forRange({ ...options, limit: limit + 1 }, (k, v) => {
      if (items.length === limit) {
        more = true
        return false
      }
      items.push([k, v])
      return true
    })
    const last = items[items.length - 1]
    return more && last !== undefined ? { items, lastEvaluatedKey: last[0] } : { items }
  }

  /** Checksum of the whole content, O(1). Equal content gives an equal checksum, whatever the history. */
  checksum(): Checksum {
    const r = this._root
    return lanesToChecksum(r.s0, r.s1, r.s2, r.s3)
  }

  /**
   * Checksum of the items with `lo <= key < hi` (either bound may be undefined), O(log n) nodes.
   * Checksums of adjacent ranges add up (`addChecksums`) to the checksum of their union.
   */
  rangeChecksum(lo?: EncodedKey, hi?: EncodedKey): Checksum {
    return this.rangeSummary(lo, hi).checksum
  }

  /** Count, payload bytes and checksum of the items with `lo <= key < hi`, O(log n) nodes. */
  rangeSummary(lo?: EncodedKey, hi?: EncodedKey): Summary {
    const acc = new Acc()
    if (lo !== undefined && hi !== undefined && lo >= hi) return acc.summary()
    if (hi === undefined) acc.addNode(this._root, 1)
    else this.prefix(hi, acc, 1)
    if (lo !== undefined) this.prefix(lo, acc, -1)
    return acc.summary()
  }

  /** Adds (sign 1) or subtracts the aggregate of all items with key < bound. */
  private prefix(bound: string, acc: Acc, sign: number): void {
    let node = this._root
    while (!node.leaf) {
      const keys = node.keys
      const j = lowerBound(keys, bound)
      if (j === keys.length) {
        acc.addNode(node, sign)
        return
      }
      const kids = node.kids
      for (let c = 0; c < j; c++) acc.addNode(kids[c] as Node, sign)
      node = kids[j] as Node
    }
    const keys = node.keys
    const kids = node.kids
    const i = lowerBound(keys, bound)
    const digest = this.digest
    const sizeOf = this.sizeOf
    if (i <= keys.length >> 1) {
      for (let c = 0; c < i; c++) {
        const k = keys[c]!
        hashItem(k, digest(kids[c] as V))
        acc.addHash(sign, utf8Length(k) + sizeOf(kids[c] as V))
      }
    } else {
      acc.addNode(node, sign)
      for (let c = i; c < keys.length; c++) {
        const k = keys[c]!
        hashItem(k, digest(kids[c] as V))
        acc.addHash(-sign, utf8Length(k) + sizeOf(kids[c] as V))
      }
    }
  }

  /**
   * The first key at which the running payload bytes (in key order) reach `offset`; with
   * `offset = bytes / 2` this is a split point by size. O(log n) nodes. Undefined when empty.
   */
  keyAtByteOffset(offset: number): EncodedKey | undefined {
    let node = this._root
    if (node.count === 0) return undefined
    let acc = 0
    while (!node.leaf) {
      const kids = node.kids
      let c = 0
      for (; c < kids.length - 1; c++) {
        const b = (kids[c] as Node).bytes
        if (acc + b >= offset) break
        acc += b
      }
      node = kids[c] as Node
    }
    const keys = node.keys
    for (let c = 0; c < keys.length; c++) {
      const k = keys[c]!
      acc += utf8Length(k) + this.sizeOf(node.kids[c] as V)
      if (acc >= offset) return k
    }
    return keys[keys.length - 1]
  }

  /** Node count, height and a heap estimate; walks every node (O(n / nodeEntriesMax)). */
  stats(): BTreeStats {
    let nodes = 0
    let leaves = 0
    let heap = 0
    let height = 1
    for (let n = this._root; !n.leaf; n = n.kids[0] as Node) height++
    const stack: Node[] = [this._root]
    while (stack.length > 0) {
      const n = stack.pop()!
      nodes++
      // object header + 10 fields, two arrays (header + 8 bytes per slot, capacity ~ length)
      heap += 96 + 2 * (32 + 8 * n.keys.length)
      if (n.leaf) leaves++
      else for (const k of n.kids) stack.push(k as Node)
    }
    return { size: this.size, bytes: this.bytes, nodes, leaves, height, heapBytesEstimate: heap }
  }

  /** An O(1) read-only view of the current content that later writes never change. */
  snapshot(): BTreeView<V> {
    this.disown()
    return new BTreeView(this._root, this.codec, this.nodeEntriesMax)
  }

  /** A writer stops owning its nodes (views own none). */
  protected disown(): void {}

  /** The checkpoint file's bytes for the current content (see the README for the format). */
  toCheckpointBytes(options?: CheckpointOptions): Uint8Array {
    const root = this._root
    const encode = this.codec.encode
    return encodeCheckpoint(
      (f) => {
        this.forRange(undefined, (k, v) => {
          f(k, encode(v))
        })
      },
      { itemCount: root.count, payloadBytes: root.bytes, lanes: [root.s0, root.s1, root.s2, root.s3] },
      options?.pageBytes ?? CHECKPOINT_PAGE_BYTES_DEFAULT,
      root.bytes + 4 * root.count + 1024,
    )
  }

  /**
   * Writes a checkpoint of the current content to `path` (via `path.tmp`, fsync, rename), so a
   * crash leaves either the old file or the new one. Content is captured when the effect runs.
   */
  checkpoint(
    path: string,
    options?: CheckpointOptions,
  ): Effect.Effect<void, PlatformError, FileSystem.FileSystem> {
    return Effect.gen(this, function* () {
      const fs = yield* FileSystem.FileSystem
      const bytes = this.toCheckpointBytes(options)
      const tmp = `${path}.tmp`
      yield* Effect.scoped(
        Effect.gen(function* () {
          const file = yield* fs.open(tmp, { flag: "w" })
          yield* file.writeAll(bytes)
          yield* file.sync
        }),
      )
      yield* fs.rename(tmp, path)
    })
  }

  /** Throws unless the tree's invariants hold (ordering, fill, aggregates). For tests; O(n). */
  checkInvariants(): void {
    const root = this._root
    const min = this.nodeEntriesMax >> 2
    let leafDepth = -1
    let prev: string | undefined
    const visit = (n: Node, depth: number, isRoot: boolean): void => {
      if (n.keys.length !== n.kids.length) throw new Error("keys/kids length mismatch")
      if (n.keys.length > this.nodeEntriesMax) throw new Error("node overfull")
      if (!isRoot && n.keys.length < min) throw new Error(`node underfull: ${n.keys.length} < ${min}`)
      if (!n.leaf && n.keys.length < (isRoot ? 2 : 1))
        throw new Error("internal node without enough children")
      const acc = new Acc()
      if (n.leaf) {
        if (leafDepth === -1) leafDepth = depth
        else if (leafDepth !== depth) throw new Error("leaves at different depths")
        for (let i = 0; i < n.keys.length; i++) {
          const k = n.keys[i]!
          if (prev !== undefined && !(prev < k)) throw new Error(`keys out of order at ${k}`)
          prev = k
          hashItem(k, this.digest(n.kids[i] as V))
          const hs = n.hs
          if (
            hs !== null &&
            (hs[4 * i] !== HASH_OUT[0] ||
              hs[4 * i + 1] !== HASH_OUT[1] ||
              hs[4 * i + 2] !== HASH_OUT[2] ||
              hs[4 * i + 3] !== HASH_OUT[3])
          )
            throw new Error(`stored item hash wrong at ${k}`)
          acc.addHash(1, utf8Length(k) + this.sizeOf(n.kids[i] as V))
        }
      } else {
        for (let i = 0; i < n.kids.length; i++) {
          const kid = n.kids[i] as Node
          visit(kid, depth + 1, false)
          if (n.keys[i] !== kid.keys[kid.keys.length - 1])
            throw new Error("separator is not the child's max key")
          acc.addNode(kid, 1)
        }
      }
      if (acc.count !== n.count || acc.bytes !== n.bytes) throw new Error("count/bytes aggregate wrong")
      if (acc.s0 !== n.s0 || acc.s1 !== n.s1 || acc.s2 !== n.s2 || acc.s3 !== n.s3) {
        throw new Error("checksum aggregate wrong")
      }
    }
    visit(root, 0, true)
  }
}
