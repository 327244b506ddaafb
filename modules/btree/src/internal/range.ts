/** Range bounds, the tree walker and the range iterator. */
import type { EncodedKey } from "@partita/core"
import { emptyLeaf, lowerBound, type Node } from "./node.ts"
import type { BTreeView } from "./view.ts"

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

/** Placeholder leaf of a fresh walker; never written. */
const NO_LEAF = emptyLeaf(0)

/** Normalised bounds: `lo`/`hi` undefined means unbounded. */
export interface Bounds {
  lo: string | undefined
  loInc: boolean
  hi: string | undefined
  hiInc: boolean
  reverse: boolean
  limit: number
}

export function toBounds(o: RangeOptions | undefined): Bounds {
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
export class Walker {
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
export class RangeIterator<V> implements IterableIterator<[EncodedKey, V]> {
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
