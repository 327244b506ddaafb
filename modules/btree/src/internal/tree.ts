import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import type { EncodedKey } from "@partita/core"
import { Effect, Either } from "effect"
import { CHECKPOINT_PAGE_BYTES_DEFAULT, decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts"
import { type Scalar, scalarCodec, utf8Length, type ValueCodec } from "./codec.ts"
import { type DigestInput, HASH_OUT, hashItem, hashKey, hashValue } from "./hash.ts"
import { CheckpointCorrupt } from "./errors.ts"
import { addAggregate, cloneNode, lowerBound, Node } from "./node.ts"

/** Default maximum items per leaf and children per internal node. */
export const NODE_ENTRIES_MAX_DEFAULT = 64
/** Smallest allowed node capacity (a quarter must be at least 2). */
export const NODE_ENTRIES_MIN_ALLOWED = 8
/** Largest allowed node capacity. */
export const NODE_ENTRIES_MAX_ALLOWED = 1024
/** Default fraction of a leaf filled by bulk loads (the same as sorted-btree's bulkLoad). */
export const BULK_LOAD_FILL_DEFAULT = 0.8

/** Options for writing a checkpoint. */
export interface CheckpointOptions {
  /** Page size in bytes (64..16 MiB). Default 64 KiB. */
  readonly pageBytes?: number
}

/** Options for a tree. */
export interface BTreeOptions<V> {
  /** How values are sized, hashed and checkpointed. Default: `scalarCodec` (string | number | Uint8Array). */
  readonly codec?: ValueCodec<V>
  /** Maximum items per leaf and children per internal node (8..1024). Default 64. */
  readonly nodeEntriesMax?: number
}

/** Range bounds and direction. At most one of `gt`/`gte` and of `lt`/`lte`. */
export interface RangeOptions {
  /** Keys strictly greater than this. */
  readonly gt?: EncodedKey
  /** Keys greater than or equal to this. */
  readonly gte?: EncodedKey
  /** Keys strictly less than this. */
  readonly lt?: EncodedKey
  /** Keys less than or equal to this. */
  readonly lte?: EncodedKey
  /** Descending order. */
  readonly reverse?: boolean
  /** Stop after this many items. */
  readonly limit?: number
  /**
   * Resume strictly after this key in the direction of travel (DynamoDB's `ExclusiveStartKey`):
   * the `lastEvaluatedKey` of the previous page.
   */
  readonly after?: EncodedKey
}

/** One page of a paged range read. */
export interface Page<V> {
  readonly items: Array<[EncodedKey, V]>
  /** Present when more items remain: pass it as `after` to read the next page. */
  readonly lastEvaluatedKey?: EncodedKey
}

/** Count, payload bytes and checksum of a set of items. */
export interface Summary {
  readonly count: number
  readonly bytes: number
  readonly checksum: Checksum
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
class Acc {
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

function emptyLeaf(owner: number): Node {
  return new Node(true, [], [], owner)
}

/** Owner ids for copy-on-write; 0 is owned by no writer. */
let nextOwner = 1

/** Placeholder leaf of a fresh walker; never written. */
const NO_LEAF = emptyLeaf(0)

/** Normalised bounds: `lo`/`hi` undefined means unbounded. */
interface Bounds {
  lo: string | undefined
  loInc: boolean
  hi: string | undefined
  hiInc: boolean
  reverse: boolean
  limit: number
}

function toBounds(o: RangeOptions | undefined): Bounds {
  const b: Bounds = {
    lo: undefined,
    loInc: true,
    hi: undefined,
    hiInc: true,
    reverse: false,
    limit: Infinity,
  }
  if (o === undefined) return b
  if (o.gt !== undefined && o.gte !== undefined) throw new RangeError("range: give gt or gte, not both")
  if (o.lt !== undefined && o.lte !== undefined) throw new RangeError("range: give lt or lte, not both")
  if (o.gt !== undefined) {
    b.lo = o.gt
    b.loInc = false
  } else if (o.gte !== undefined) b.lo = o.gte
  if (o.lt !== undefined) {
    b.hi = o.lt
    b.hiInc = false
  } else if (o.lte !== undefined) b.hi = o.lte
  b.reverse = o.reverse === true
  if (o.limit !== undefined) {
    if (!(o.limit >= 0)) throw new RangeError("range: limit must be >= 0")
    b.limit = o.limit
  }
  const after = o.after
  if (after !== undefined) {
    if (!b.reverse) {
      if (b.lo === undefined || after >= b.lo) {
        b.lo = after
        b.loInc = false
      }
    } else if (b.hi === undefined || after <= b.hi) {
      b.hi = after
      b.hiInc = false
    }
  }
  return b
}

/** Position in the tree: the path of internal nodes and the current leaf slot. */
class Walker {
  nodes: Node[] = []
  idx: number[] = []
  depth = 0
  leaf: Node = NO_LEAF
  i = 0
  done = false

  /** First item with key >= k (inclusive) or > k. */
  seekForward(root: Node, k: string | undefined, inclusive: boolean): void {
    let node = root
    let d = 0
    while (!node.leaf) {
      let j = 0
      if (k !== undefined) {
        j = lowerBound(node.keys, k)
        if (j === node.keys.length) {
          this.done = true
          return
        }
      }
      this.nodes[d] = node
      this.idx[d] = j
      d++
      node = node.kids[j] as Node
    }
    this.depth = d
    this.leaf = node
    let i = 0
    if (k !== undefined) {
      const keys = node.keys
      i = lowerBound(keys, k)
      if (!inclusive && i < keys.length && keys[i] === k) i++
    }
    this.i = i
    if (i >= node.keys.length) this.nextLeaf()
  }

  /** Last item with key <= k (inclusive) or < k. */
  seekBackward(root: Node, k: string | undefined, inclusive: boolean): void {
    let node = root
    let d = 0
    while (!node.leaf) {
      const last = node.keys.length - 1
      let j = last
      if (k !== undefined) {
        j = lowerBound(node.keys, k)
        if (j > last) j = last
      }
      this.nodes[d] = node
      this.idx[d] = j
      d++
      node = node.kids[j] as Node
    }
    this.depth = d
    this.leaf = node
    const keys = node.keys
    let i = keys.length - 1
    if (k !== undefined) {
      i = lowerBound(keys, k)
      if (!(inclusive && i < keys.length && keys[i] === k)) i--
    }
    this.i = i
    if (i < 0) this.prevLeaf()
  }

  nextLeaf(): void {
    const nodes = this.nodes
    const idx = this.idx
    let d = this.depth - 1
    while (d >= 0 && idx[d] === nodes[d]!.kids.length - 1) d--
    if (d < 0) {
      this.done = true
      return
    }
    const j = idx[d]! + 1
    idx[d] = j
    let node = nodes[d]!.kids[j] as Node
    d++
    while (!node.leaf) {
      nodes[d] = node
      idx[d] = 0
      d++
      node = node.kids[0] as Node
    }
    this.leaf = node
    this.i = 0
    if (node.keys.length === 0) this.done = true
  }

  prevLeaf(): void {
    const nodes = this.nodes
    const idx = this.idx
    let d = this.depth - 1
    while (d >= 0 && idx[d] === 0) d--
    if (d < 0) {
      this.done = true
      return
    }
    const j = idx[d]! - 1
    idx[d] = j
    let node = nodes[d]!.kids[j] as Node
    d++
    while (!node.leaf) {
      const last = node.kids.length - 1
      nodes[d] = node
      idx[d] = last
      d++
      node = node.kids[last] as Node
    }
    this.leaf = node
    this.i = node.keys.length - 1
    if (this.i < 0) this.done = true
  }
}

/** Iterator over a range; fails fast if the live tree it reads is written meanwhile. */
class RangeIterator<V> implements IterableIterator<[EncodedKey, V]> {
  private readonly w = new Walker()
  private left: number
  constructor(
    private readonly src: BTreeView<V>,
    private readonly b: Bounds,
    private readonly mod: number,
  ) {
    this.left = b.limit
    const empty =
      b.lo !== undefined && b.hi !== undefined && (b.lo > b.hi || (b.lo === b.hi && !(b.loInc && b.hiInc)))
    if (empty || this.left <= 0) this.w.done = true
    else if (b.reverse) this.w.seekBackward(src._root, b.hi, b.hiInc)
    else this.w.seekForward(src._root, b.lo, b.loInc)
  }

  [Symbol.iterator](): IterableIterator<[EncodedKey, V]> {
    return this
  }

  next(): IteratorResult<[EncodedKey, V]> {
    const w = this.w
    if (w.done) return { done: true, value: undefined }
    if (this.src._mod !== this.mod) {
      throw new Error("BTree written during iteration: iterate a snapshot() to read while writing")
    }
    const b = this.b
    const leaf = w.leaf
    const k = leaf.keys[w.i]!
    if (!b.reverse) {
      if (b.hi !== undefined && (k > b.hi || (!b.hiInc && k === b.hi))) {
        w.done = true
        return { done: true, value: undefined }
      }
      const v = leaf.kids[w.i] as V
      if (++w.i >= leaf.keys.length) w.nextLeaf()
      if (--this.left <= 0) w.done = true
      return { done: false, value: [k, v] }
    }
    if (b.lo !== undefined && (k < b.lo || (!b.loInc && k === b.lo))) {
      w.done = true
      return { done: true, value: undefined }
    }
    const v = leaf.kids[w.i] as V
    if (--w.i < 0) w.prevLeaf()
    if (--this.left <= 0) w.done = true
    return { done: false, value: [k, v] }
  }
}

/** Builds a tree bottom-up from sorted arrays; computes every aggregate once. */
function buildFromSorted<V>(
  keys: readonly string[],
  values: readonly V[],
  codec: ValueCodec<V>,
  max: number,
  fill: number,
  owner: number,
): Node {
  const n = keys.length
  if (n === 0) return emptyLeaf(owner)
  const target = Math.max(2, Math.min(max, Math.ceil(max * fill)))
  const leafCount = Math.ceil(n / target)
  let level: Node[] = new Array(leafCount)
  const sizeOf = codec.sizeOf
  const digest = codec.digest
  let pos = 0
  let prev: string | undefined
  for (let l = 0; l < leafCount; l++) {
    const end = Math.floor(((l + 1) * n) / leafCount)
    const ks = keys.slice(pos, end)
    const vs = values.slice(pos, end)
    const leaf = new Node(true, ks, vs, owner)
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    let bytes = 0
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i]!
      const v = vs[i] as V
      // Checked here, not in a separate pass: each key's characters are touched once.
      if (prev !== undefined && !(prev < k)) {
        throw new RangeError(`bulkLoad: keys not strictly ascending at index ${pos + i}`)
      }
      prev = k
      hashItem(k, digest(v))
      s0 = (s0 + HASH_OUT[0]!) | 0
      s1 = (s1 + HASH_OUT[1]!) | 0
      s2 = (s2 + HASH_OUT[2]!) | 0
      s3 = (s3 + HASH_OUT[3]!) | 0
      bytes += (HASH_OUT[4] === 1 ? k.length : utf8Length(k)) + sizeOf(v)
    }
    leaf.count = ks.length
    leaf.bytes = bytes
    leaf.s0 = s0
    leaf.s1 = s1
    leaf.s2 = s2
    leaf.s3 = s3
    level[l] = leaf
    pos = end
  }
  while (level.length > 1) {
    const m = level.length
    const parents = Math.ceil(m / target)
    const next: Node[] = new Array(parents)
    let p = 0
    for (let l = 0; l < parents; l++) {
      const end = Math.floor(((l + 1) * m) / parents)
      const kids = level.slice(p, end)
      const ks = new Array<string>(kids.length)
      const node = new Node(false, ks, kids, owner)
      for (let i = 0; i < kids.length; i++) {
        const kid = kids[i]!
        ks[i] = kid.keys[kid.keys.length - 1]!
        addAggregate(node, kid, 1)
      }
      next[l] = node
      p = end
    }
    level = next
  }
  return level[0]!
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

function checkNodeEntriesMax(n: number): number {
  if (!Number.isInteger(n) || n < NODE_ENTRIES_MIN_ALLOWED || n > NODE_ENTRIES_MAX_ALLOWED) {
    throw new RangeError(
      `nodeEntriesMax must be an integer in [${NODE_ENTRIES_MIN_ALLOWED}, ${NODE_ENTRIES_MAX_ALLOWED}]`,
    )
  }
  return n
}

/**
 * An ordered map from encoded keys to opaque values: a B+tree with copy-on-write snapshots and
 * incrementally maintained counts, payload bytes and 128-bit checksums in every node.
 */
export class BTree<V = Scalar> extends BTreeView<V> {
  private readonly max: number
  private readonly min: number
  private owner: number
  private readonly pn: Node[] = []
  private readonly pi: number[] = []

  /** An empty tree. */
  constructor(options?: BTreeOptions<V>) {
    const max = checkNodeEntriesMax(options?.nodeEntriesMax ?? NODE_ENTRIES_MAX_DEFAULT)
    super(emptyLeaf(0), options?.codec ?? (scalarCodec as unknown as ValueCodec<V>), max)
    this.max = max
    this.min = max >> 2
    this.owner = nextOwner++
  }

  /** A tree holding `keys[i] -> values[i]`; keys strictly ascending. O(n), much faster than `set`. */
  static fromSorted<V = Scalar>(
    keys: readonly EncodedKey[],
    values: readonly V[],
    options?: BTreeOptions<V> & { readonly fill?: number },
  ): BTree<V> {
    if (keys.length !== values.length) throw new RangeError("fromSorted: keys and values differ in length")
    const t = new BTree<V>(options)
    const fill = options?.fill ?? BULK_LOAD_FILL_DEFAULT
    if (!(fill >= 0.5 && fill <= 1)) throw new RangeError("fromSorted: fill must be in [0.5, 1]")
    t._root = buildFromSorted(keys, values, t.codec, t.max, fill, t.owner)
    return t
  }

  /**
   * Rebuilds a tree from checkpoint bytes. Fails with `CheckpointCorrupt` naming the page for
   * any damage (every flipped bit is caught by the page CRCs; the footer's count and checksum
   * are compared with the rebuilt tree as well). `path` only labels the error.
   */
  static fromCheckpointBytes<V = Scalar>(
    bytes: Uint8Array,
    options?: BTreeOptions<V>,
    path = "<bytes>",
  ): Either.Either<BTree<V>, CheckpointCorrupt> {
    const d = decodeCheckpoint(bytes)
    if (!("keys" in d)) return Either.left(new CheckpointCorrupt({ path, page: d.page, reason: d.reason }))
    const t = new BTree<V>(options)
    const footerPage = d.dataPages + 1
    const values = new Array<V>(d.keys.length)
    const decode = t.codec.decode
    try {
      for (let i = 0; i < values.length; i++) values[i] = decode(d.encodedValues[i]!)
    } catch (e) {
      return Either.left(
        new CheckpointCorrupt({ path, page: footerPage, reason: `value decode failed: ${String(e)}` }),
      )
    }
    t._root = buildFromSorted(d.keys, values, t.codec, t.max, BULK_LOAD_FILL_DEFAULT, t.owner)
    const r = t._root
    const [l0, l1, l2, l3] = d.footer.lanes
    if (r.count !== d.footer.itemCount || r.s0 !== l0 || r.s1 !== l1 || r.s2 !== l2 || r.s3 !== l3) {
      return Either.left(
        new CheckpointCorrupt({ path, page: footerPage, reason: "content checksum differs from the footer" }),
      )
    }
    if (r.bytes !== d.footer.payloadBytes) {
      return Either.left(
        new CheckpointCorrupt({
          path,
          page: footerPage,
          reason: "payload bytes differ from the footer (codec changed?)",
        }),
      )
    }
    return Either.right(t)
  }

  /** Reads a checkpoint written by `checkpoint(path)`; fails with `CheckpointCorrupt` on any damage. */
  static load<V = Scalar>(
    path: string,
    options?: BTreeOptions<V>,
  ): Effect.Effect<BTree<V>, CheckpointCorrupt | PlatformError, FileSystem.FileSystem> {
    return Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const bytes = yield* fs.readFile(path)
      return yield* BTree.fromCheckpointBytes<V>(bytes, options, path)
    })
  }

  /**
   * Loads sorted entries (keys strictly ascending) into this tree, which must be empty.
   * O(n) and several times faster than repeated `set`.
   */
  bulkLoad(sortedEntries: Iterable<readonly [EncodedKey, V]>): this {
    if (this.size !== 0) throw new RangeError("bulkLoad: the tree must be empty")
    const keys: string[] = []
    const values: V[] = []
    for (const [k, v] of sortedEntries) {
      keys.push(k)
      values.push(v)
    }
    this._root = buildFromSorted(keys, values, this.codec, this.max, BULK_LOAD_FILL_DEFAULT, this.owner)
    this._mod++
    return this
  }

  /** A writable copy sharing all nodes with this tree (copy-on-write), O(1). */
  clone(): BTree<V> {
    const t = new BTree<V>({ codec: this.codec, nodeEntriesMax: this.max })
    this.disown()
    t._root = this._root
    return t
  }

  protected override disown(): void {
    this.owner = nextOwner++
  }

  /** Removes every item. */
  clear(): void {
    this._root = emptyLeaf(this.owner)
    this._mod++
  }

  /** Stores `value` at `key`; returns the previous value or undefined. O(log n). */
  set(key: EncodedKey, value: V): V | undefined {
    this._mod++
    let node = this._root
    const owner = this.owner
    if (node.owner !== owner) node = this._root = cloneNode(node, owner)
    const pn = this.pn
    const pi = this.pi
    let depth = 0
    while (!node.leaf) {
      const keys = node.keys
      let lo = 0
      let hi = keys.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (keys[mid]! < key) lo = mid + 1
        else hi = mid
      }
      // A key above the subtree's max is new: it becomes the last child's max.
      if (lo === keys.length - 1 && keys[lo]! < key) keys[lo] = key
      let child = node.kids[lo] as Node
      if (child.owner !== owner) {
        child = cloneNode(child, owner)
        node.kids[lo] = child
      }
      pn[depth] = node
      pi[depth] = lo
      depth++
      node = child
    }
    const keys = node.keys
    const kids = node.kids
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (keys[mid]! < key) lo = mid + 1
      else hi = mid
    }
    const digest = this.digest
    if (lo < keys.length && keys[lo] === key) {
      const old = kids[lo] as V
      kids[lo] = value
      if (Object.is(old, value)) return old
      hashKey(key)
      hashValue(digest(old))
      let d0 = -HASH_OUT[0]!
      let d1 = -HASH_OUT[1]!
      let d2 = -HASH_OUT[2]!
      let d3 = -HASH_OUT[3]!
      hashValue(digest(value))
      d0 = (d0 + HASH_OUT[0]!) | 0
      d1 = (d1 + HASH_OUT[1]!) | 0
      d2 = (d2 + HASH_OUT[2]!) | 0
      d3 = (d3 + HASH_OUT[3]!) | 0
      const db = this.sizeOf(value) - this.sizeOf(old)
      if (db !== 0) {
        node.bytes += db
        for (let d = 0; d < depth; d++) pn[d]!.bytes += db
      }
      node.s0 = (node.s0 + d0) | 0
      node.s1 = (node.s1 + d1) | 0
      node.s2 = (node.s2 + d2) | 0
      node.s3 = (node.s3 + d3) | 0
      for (let d = 0; d < depth; d++) {
        const p = pn[d]!
        p.s0 = (p.s0 + d0) | 0
        p.s1 = (p.s1 + d1) | 0
        p.s2 = (p.s2 + d2) | 0
        p.s3 = (p.s3 + d3) | 0
      }
      return old
    }
    hashItem(key, digest(value))
    const d0 = HASH_OUT[0]!
    const d1 = HASH_OUT[1]!
    const d2 = HASH_OUT[2]!
    const d3 = HASH_OUT[3]!
    const db = (HASH_OUT[4] === 1 ? key.length : utf8Length(key)) + this.sizeOf(value)
    if (lo === keys.length) {
      keys.push(key)
      kids.push(value)
    } else {
      keys.splice(lo, 0, key)
      kids.splice(lo, 0, value)
    }
    node.count++
    node.bytes += db
    node.s0 = (node.s0 + d0) | 0
    node.s1 = (node.s1 + d1) | 0
    node.s2 = (node.s2 + d2) | 0
    node.s3 = (node.s3 + d3) | 0
    for (let d = 0; d < depth; d++) {
      const p = pn[d]!
      p.count++
      p.bytes += db
      p.s0 = (p.s0 + d0) | 0
      p.s1 = (p.s1 + d1) | 0
      p.s2 = (p.s2 + d2) | 0
      p.s3 = (p.s3 + d3) | 0
    }
    if (keys.length > this.max) this.splitUp(node, depth, lo === keys.length - 1)
    return undefined
  }

  /** Splits an overfull node and every ancestor that overflows in turn. */
  private splitUp(node: Node, depth: number, appending: boolean): void {
    const pn = this.pn
    const pi = this.pi
    let child = node
    let d = depth
    while (child.keys.length > this.max) {
      // Appending at the right edge (ascending loads) keeps the left node nearly full.
      const isRightEdge = appending && (d === 0 || pi[d - 1] === pn[d - 1]!.kids.length - 1)
      const at = isRightEdge ? child.keys.length - this.min : child.keys.length >> 1
      const right = this.splitNode(child, at)
      if (d === 0) {
        const root = new Node(
          false,
          [child.keys[child.keys.length - 1]!, right.keys[right.keys.length - 1]!],
          [child, right],
          this.owner,
        )
        addAggregate(root, child, 1)
        addAggregate(root, right, 1)
        this._root = root
        return
      }
      d--
      const parent = pn[d]!
      const i = pi[d]!
      parent.keys[i] = child.keys[child.keys.length - 1]!
      parent.keys.splice(i + 1, 0, right.keys[right.keys.length - 1]!)
      parent.kids.splice(i + 1, 0, right)
      child = parent
    }
  }

  /** Moves entries [at, end) of `n` into a new right sibling, moving their aggregate too. */
  private splitNode(n: Node, at: number): Node {
    const right = new Node(n.leaf, n.keys.splice(at), n.kids.splice(at), this.owner)
    this.aggregateInto(right, 0, right.keys.length, right)
    addAggregate(n, right, -1)
    return right
  }

  /** Sets `target`'s aggregate to that of entries [from, to) of `src`. */
  private aggregateInto(src: Node, from: number, to: number, target: Node): void {
    let count = 0
    let bytes = 0
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    const keys = src.keys
    const kids = src.kids
    if (src.leaf) {
      const digest = this.digest
      const sizeOf = this.sizeOf
      for (let i = from; i < to; i++) {
        const k = keys[i]!
        const v = kids[i] as V
        hashItem(k, digest(v))
        s0 = (s0 + HASH_OUT[0]!) | 0
        s1 = (s1 + HASH_OUT[1]!) | 0
        s2 = (s2 + HASH_OUT[2]!) | 0
        s3 = (s3 + HASH_OUT[3]!) | 0
        bytes += (HASH_OUT[4] === 1 ? k.length : utf8Length(k)) + sizeOf(v)
      }
      count = to - from
    } else {
      for (let i = from; i < to; i++) {
        const c = kids[i] as Node
        count += c.count
        bytes += c.bytes
        s0 = (s0 + c.s0) | 0
        s1 = (s1 + c.s1) | 0
        s2 = (s2 + c.s2) | 0
        s3 = (s3 + c.s3) | 0
      }
    }
    target.count = count
    target.bytes = bytes
    target.s0 = s0
    target.s1 = s1
    target.s2 = s2
    target.s3 = s3
  }

  /** Removes `key`; returns the removed value or undefined. O(log n). */
  delete(key: EncodedKey): V | undefined {
    let node = this._root
    const rootKeys = node.keys
    if (rootKeys.length === 0 || rootKeys[rootKeys.length - 1]! < key) return undefined
    this._mod++
    const owner = this.owner
    if (node.owner !== owner) node = this._root = cloneNode(node, owner)
    const pn = this.pn
    const pi = this.pi
    let depth = 0
    while (!node.leaf) {
      const keys = node.keys
      let lo = 0
      let hi = keys.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (keys[mid]! < key) lo = mid + 1
        else hi = mid
      }
      let child = node.kids[lo] as Node
      if (child.owner !== owner) {
        child = cloneNode(child, owner)
        node.kids[lo] = child
      }
      pn[depth] = node
      pi[depth] = lo
      depth++
      node = child
    }
    const keys = node.keys
    const kids = node.kids
    const i = lowerBound(keys, key)
    if (i === keys.length || keys[i] !== key) return undefined
    const old = kids[i] as V
    hashItem(key, this.digest(old))
    const d0 = HASH_OUT[0]!
    const d1 = HASH_OUT[1]!
    const d2 = HASH_OUT[2]!
    const d3 = HASH_OUT[3]!
    const db = (HASH_OUT[4] === 1 ? key.length : utf8Length(key)) + this.sizeOf(old)
    if (i === keys.length - 1) {
      keys.pop()
      kids.pop()
    } else {
      keys.splice(i, 1)
      kids.splice(i, 1)
    }
    node.count--
    node.bytes -= db
    node.s0 = (node.s0 - d0) | 0
    node.s1 = (node.s1 - d1) | 0
    node.s2 = (node.s2 - d2) | 0
    node.s3 = (node.s3 - d3) | 0
    const removedMax = i === keys.length
    for (let d = depth - 1; d >= 0; d--) {
      const p = pn[d]!
      p.count--
      p.bytes -= db
      p.s0 = (p.s0 - d0) | 0
      p.s1 = (p.s1 - d1) | 0
      p.s2 = (p.s2 - d2) | 0
      p.s3 = (p.s3 - d3) | 0
    }
    if (depth > 0 && keys.length < this.min) this.rebalanceUp(node, depth)
    if (removedMax && depth > 0) this.fixSeparators(key)
    return old
  }

  /**
   * After removing the largest key of a leaf, the separators on its path still name it. The
   * path of the removed key leads to exactly those separators; every node on it was copied
   * by the delete (or by a merge), so it is writable.
   */
  private fixSeparators(key: string): void {
    const pn = this.pn
    const pi = this.pi
    let node = this._root
    let depth = 0
    while (!node.leaf) {
      const keys = node.keys
      let j = lowerBound(keys, key)
      if (j === keys.length) j = keys.length - 1
      pn[depth] = node
      pi[depth] = j
      depth++
      node = node.kids[j] as Node
    }
    for (let d = depth - 1; d >= 0; d--) {
      const p = pn[d]!
      const j = pi[d]!
      const ck = (p.kids[j] as Node).keys
      const m = ck[ck.length - 1]
      if (m !== undefined && p.keys[j] !== m) {
        if (p.owner !== this.owner) throw new Error("BTree internal error: separator fix on a shared node")
        p.keys[j] = m
      }
    }
  }

  /** Merges or refills underfull nodes from the leaf's parent up; collapses a one-child root. */
  private rebalanceUp(leaf: Node, depth: number): void {
    const pn = this.pn
    const pi = this.pi
    for (let d = depth - 1; d >= 0; d--) {
      const x = d === depth - 1 ? leaf : pn[d + 1]!
      if (x.keys.length >= this.min) break
      this.fixChild(pn[d]!, pi[d]!)
    }
    let root = this._root
    while (!root.leaf && root.kids.length === 1) root = root.kids[0] as Node
    this._root = root
  }

  /** Child `i` of `parent` is underfull: merge it with a sibling or take entries from one. */
  private fixChild(parent: Node, i: number): void {
    const pk = parent.kids
    if (pk.length < 2) return
    const j = i > 0 ? i - 1 : i + 1
    const l = Math.min(i, j)
    const r = l + 1
    let left = pk[l] as Node
    let right = pk[r] as Node
    if (left.owner !== this.owner) pk[l] = left = cloneNode(left, this.owner)
    if (right.owner !== this.owner) pk[r] = right = cloneNode(right, this.owner)
    const ln = left.keys.length
    const rn = right.keys.length
    if (ln + rn <= this.max) {
      for (let c = 0; c < rn; c++) {
        left.keys.push(right.keys[c]!)
        left.kids.push(right.kids[c])
      }
      addAggregate(left, right, 1)
      parent.keys.splice(r, 1)
      pk.splice(r, 1)
      parent.keys[l] = left.keys[left.keys.length - 1]!
      return
    }
    const moved = new Node(left.leaf, [], [], 0)
    if (ln > rn) {
      const from = (ln + rn + 1) >> 1
      this.aggregateInto(left, from, ln, moved)
      const mk = left.keys.splice(from)
      const mv = left.kids.splice(from)
      right.keys.unshift(...mk)
      right.kids.unshift(...mv)
      addAggregate(left, moved, -1)
      addAggregate(right, moved, 1)
    } else {
      const take = (rn - ln) >> 1
      this.aggregateInto(right, 0, take, moved)
      const mk = right.keys.splice(0, take)
      const mv = right.kids.splice(0, take)
      for (let c = 0; c < take; c++) {
        left.keys.push(mk[c]!)
        left.kids.push(mv[c])
      }
      addAggregate(right, moved, -1)
      addAggregate(left, moved, 1)
    }
    parent.keys[l] = left.keys[left.keys.length - 1]!
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
