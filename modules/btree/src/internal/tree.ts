/** The writable tree: set, delete, splits and merges, copy-on-write, bulk and checkpoint loads. */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import type { EncodedKey } from "@partita/core"
import { Effect, Either } from "effect"
import { buildFromSorted } from "./build.ts"
import { decodeCheckpoint } from "./checkpoint.ts"
import { type ItemHashMemo, type Scalar, scalarCodec, utf8Length, type ValueCodec } from "./codec.ts"
import { CheckpointCorrupt } from "./errors.ts"
import { HASH_OUT, hashItem, hashKey, hashValue } from "./hash.ts"
import { addAggregate, cloneNode, emptyLeaf, lowerBound, Node } from "./node.ts"
import { BTreeView } from "./view.ts"

/** Default maximum items per leaf and children per internal node. */
export const NODE_ENTRIES_MAX_DEFAULT = 64
/** Smallest allowed node capacity (a quarter must be at least 2). */
export const NODE_ENTRIES_MIN_ALLOWED = 8
/** Largest allowed node capacity. */
export const NODE_ENTRIES_MAX_ALLOWED = 1024
/** Default fraction of a leaf filled by bulk loads (the same as sorted-btree's bulkLoad). */
export const BULK_LOAD_FILL_DEFAULT = 0.8

/** Options for a tree. */
export interface BTreeOptions<V> {
  /** How values are sized, hashed and checkpointed. Default: `scalarCodec` (string | number | Uint8Array). */
  readonly codec?: ValueCodec<V>
  /** Maximum items per leaf and children per internal node (8..1024). Default 64. */
  readonly nodeEntriesMax?: number
  /**
   * Keep each item's 128-bit hash in its leaf (16 bytes per item, allocated per leaf). An
   * overwrite or delete then never reads the old value, and splits and merges never re-hash: worth
   * it for large values (a replica's 1 KB items, whose old copy is cold in memory), not for small
   * ones. Checksums are the same either way. Default false.
   */
  readonly storeItemHashes?: boolean
}

/** Owner ids for copy-on-write; 0 is owned by no writer. */
let nextOwner = 1

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
  /** Int32 slots of a leaf's hash array (four per entry, one spare entry), or 0: none stored. */
  private readonly hashCap: number
  private owner: number
  private readonly pn: Node[] = []
  private readonly pi: number[] = []
  private readonly memoOf: ((value: V) => ItemHashMemo | undefined) | undefined

  /** An empty tree. */
  constructor(options?: BTreeOptions<V>) {
    const max = checkNodeEntriesMax(options?.nodeEntriesMax ?? NODE_ENTRIES_MAX_DEFAULT)
    const hashCap = options?.storeItemHashes === true ? 4 * (max + 1) : 0
    super(emptyLeaf(0, hashCap), options?.codec ?? (scalarCodec as unknown as ValueCodec<V>), max)
    this.hashCap = hashCap
    this.memoOf = this.codec.hashMemo
    this.max = max
    this.min = max >> 2
    this.owner = nextOwner++
  }

  /**
   * `hashItem(key, digest(value))` for a value being stored, through the codec's memo when it has
   * one: a value already hashed under this key is not read again.
   */
  private hashNew(key: EncodedKey, value: V): void {
    const m = this.memoOf === undefined ? undefined : this.memoOf(value)
    if (m !== undefined && m.memoKey === key) {
      HASH_OUT[0] = m.memo0
      HASH_OUT[1] = m.memo1
      HASH_OUT[2] = m.memo2
      HASH_OUT[3] = m.memo3
      HASH_OUT[4] = m.memoAscii
      return
    }
    hashItem(key, this.digest(value))
    if (m !== undefined) {
      m.memoKey = key
      m.memo0 = HASH_OUT[0]!
      m.memo1 = HASH_OUT[1]!
      m.memo2 = HASH_OUT[2]!
      m.memo3 = HASH_OUT[3]!
      m.memoAscii = HASH_OUT[4]!
    }
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
    t._root = buildFromSorted(keys, values, t.codec, t.max, fill, t.owner, t.hashCap)
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
    t._root = buildFromSorted(d.keys, values, t.codec, t.max, BULK_LOAD_FILL_DEFAULT, t.owner, t.hashCap)
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
    this._root = buildFromSorted(
      keys,
      values,
      this.codec,
      this.max,
      BULK_LOAD_FILL_DEFAULT,
      this.owner,
      this.hashCap,
    )
    this._mod++
    return this
  }

  /** A writable copy sharing all nodes with this tree (copy-on-write), O(1). */
  clone(): BTree<V> {
    const t = new BTree<V>({
      codec: this.codec,
      nodeEntriesMax: this.max,
      storeItemHashes: this.hashCap > 0,
    })
    this.disown()
    t._root = this._root
    return t
  }

  protected override disown(): void {
    this.owner = nextOwner++
  }

  /** Removes every item. */
  clear(): void {
    this._root = emptyLeaf(this.owner, this.hashCap)
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
      let d0: number
      let d1: number
      let d2: number
      let d3: number
      const hs = node.hs
      if (hs !== null) {
        // The old value's hash is stored: its bytes are never read.
        const at = 4 * lo
        this.hashNew(key, value)
        d0 = (HASH_OUT[0]! - hs[at]!) | 0
        d1 = (HASH_OUT[1]! - hs[at + 1]!) | 0
        d2 = (HASH_OUT[2]! - hs[at + 2]!) | 0
        d3 = (HASH_OUT[3]! - hs[at + 3]!) | 0
        hs[at] = HASH_OUT[0]!
        hs[at + 1] = HASH_OUT[1]!
        hs[at + 2] = HASH_OUT[2]!
        hs[at + 3] = HASH_OUT[3]!
      } else {
        hashKey(key)
        hashValue(digest(old))
        d0 = -HASH_OUT[0]!
        d1 = -HASH_OUT[1]!
        d2 = -HASH_OUT[2]!
        d3 = -HASH_OUT[3]!
        hashValue(digest(value))
        d0 = (d0 + HASH_OUT[0]!) | 0
        d1 = (d1 + HASH_OUT[1]!) | 0
        d2 = (d2 + HASH_OUT[2]!) | 0
        d3 = (d3 + HASH_OUT[3]!) | 0
      }
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
    this.hashNew(key, value)
    const d0 = HASH_OUT[0]!
    const d1 = HASH_OUT[1]!
    const d2 = HASH_OUT[2]!
    const d3 = HASH_OUT[3]!
    const db = (HASH_OUT[4] === 1 ? key.length : utf8Length(key)) + this.sizeOf(value)
    const hs = node.hs
    if (hs !== null) {
      const at = 4 * lo
      if (lo < keys.length) hs.copyWithin(at + 4, at, 4 * keys.length)
      hs[at] = d0
      hs[at + 1] = d1
      hs[at + 2] = d2
      hs[at + 3] = d3
    }
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
    const len = n.keys.length
    const right = new Node(n.leaf, n.keys.splice(at), n.kids.splice(at), this.owner)
    const hs = n.hs
    if (hs !== null) {
      const rh = new Int32Array(this.hashCap)
      rh.set(hs.subarray(4 * at, 4 * len))
      right.hs = rh
    }
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
    const hs = src.hs
    if (src.leaf && hs !== null) {
      const sizeOf = this.sizeOf
      for (let i = from; i < to; i++) {
        const k = keys[i]!
        s0 = (s0 + hs[4 * i]!) | 0
        s1 = (s1 + hs[4 * i + 1]!) | 0
        s2 = (s2 + hs[4 * i + 2]!) | 0
        s3 = (s3 + hs[4 * i + 3]!) | 0
        bytes += utf8Length(k) + sizeOf(kids[i] as V)
      }
      count = to - from
    } else if (src.leaf) {
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
    let d0: number
    let d1: number
    let d2: number
    let d3: number
    let db: number
    const hs = node.hs
    if (hs !== null) {
      const at = 4 * i
      d0 = hs[at]!
      d1 = hs[at + 1]!
      d2 = hs[at + 2]!
      d3 = hs[at + 3]!
      hs.copyWithin(at, at + 4, 4 * keys.length)
      db = utf8Length(key) + this.sizeOf(old)
    } else {
      hashItem(key, this.digest(old))
      d0 = HASH_OUT[0]!
      d1 = HASH_OUT[1]!
      d2 = HASH_OUT[2]!
      d3 = HASH_OUT[3]!
      db = (HASH_OUT[4] === 1 ? key.length : utf8Length(key)) + this.sizeOf(old)
    }
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
      if (left.hs !== null && right.hs !== null) left.hs.set(right.hs.subarray(0, 4 * rn), 4 * ln)
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
      if (left.hs !== null && right.hs !== null) {
        right.hs.copyWithin(4 * (ln - from), 0, 4 * rn)
        right.hs.set(left.hs.subarray(4 * from, 4 * ln), 0)
      }
      const mk = left.keys.splice(from)
      const mv = left.kids.splice(from)
      right.keys.unshift(...mk)
      right.kids.unshift(...mv)
      addAggregate(left, moved, -1)
      addAggregate(right, moved, 1)
    } else {
      const take = (rn - ln) >> 1
      this.aggregateInto(right, 0, take, moved)
      if (left.hs !== null && right.hs !== null) {
        left.hs.set(right.hs.subarray(0, 4 * take), 4 * ln)
        right.hs.copyWithin(0, 4 * take, 4 * rn)
      }
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
