/**
 * One B+tree node. A single class for leaves and internal nodes keeps every property access
 * monomorphic for the JIT. `keys[i]` is the key of item i (leaf) or the largest key in child i
 * (internal); `kids[i]` is the value (leaf) or the child node (internal). Every node carries
 * the aggregate of its subtree: item count, payload bytes and the four 32-bit checksum lanes
 * (lane-wise sums mod 2^32 of the item hashes).
 */
export class Node {
  keys: string[]
  kids: any[]
  leaf: boolean
  /**
   * The writer that created this node. A tree writes a node in place only if it owns it;
   * `snapshot()` and `clone()` give the tree a fresh owner id, so every existing node becomes
   * copy-on-write in O(1), without touching any node.
   */
  owner: number
  count: number
  bytes: number
  s0: number
  s1: number
  s2: number
  s3: number
  /**
   * A leaf's item hashes, four lanes per entry (`storeItemHashes` trees only; null otherwise and in
   * internal nodes). An overwrite or delete then subtracts the stored hash instead of re-hashing
   * the old value, and a split or merge moves hashes instead of re-hashing the moved items.
   */
  hs: Int32Array | null

  constructor(leaf: boolean, keys: string[], kids: any[], owner: number) {
    this.keys = keys
    this.kids = kids
    this.leaf = leaf
    this.owner = owner
    this.count = 0
    this.bytes = 0
    this.s0 = 0
    this.s1 = 0
    this.s2 = 0
    this.s3 = 0
    this.hs = null
  }
}

/** Copy-on-write: a copy of `n` owned by `owner`; the children stay shared (and not owned). */
export function cloneNode(n: Node, owner: number): Node {
  const c = new Node(n.leaf, n.keys.slice(), n.kids.slice(), owner)
  c.count = n.count
  c.bytes = n.bytes
  c.s0 = n.s0
  c.s1 = n.s1
  c.s2 = n.s2
  c.s3 = n.s3
  c.hs = n.hs === null ? null : n.hs.slice()
  return c
}

/** Adds the aggregate of `from` to `to` (sign +1) or subtracts it (sign -1). */
export function addAggregate(to: Node, from: Node, sign: 1 | -1): void {
  to.count += sign * from.count
  to.bytes += sign * from.bytes
  if (sign === 1) {
    to.s0 = (to.s0 + from.s0) | 0
    to.s1 = (to.s1 + from.s1) | 0
    to.s2 = (to.s2 + from.s2) | 0
    to.s3 = (to.s3 + from.s3) | 0
  } else {
    to.s0 = (to.s0 - from.s0) | 0
    to.s1 = (to.s1 - from.s1) | 0
    to.s2 = (to.s2 - from.s2) | 0
    to.s3 = (to.s3 - from.s3) | 0
  }
}

/** Index of the first key `>= key` in a sorted array (its length if none). */
export function lowerBound(keys: string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (keys[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** A new empty leaf owned by `owner`, with room for `hashCap` hash lanes (0: none stored). */
export function emptyLeaf(owner: number, hashCap = 0): Node {
  const n = new Node(true, [], [], owner)
  if (hashCap > 0) n.hs = new Int32Array(hashCap)
  return n
}
