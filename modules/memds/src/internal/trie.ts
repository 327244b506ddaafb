/**
 * The Perkle trie: a binary Patricia (crit-bit) trie over byte keys whose nodes carry 64-bit
 * Merkle hashes, laid out as structs-of-arrays in typed arrays (no object per node).
 *
 * Keys are read as a virtual bit string of 9 bits per byte: a "present" bit (1 while the key
 * has a byte at this index, 0 past its end) followed by the byte's 8 bits, most significant
 * first. Comparing those bit strings is exactly lexicographic byte order with "a prefix sorts
 * first", so the trie is ordered and handles keys that are prefixes of other keys.
 *
 * A crit-bit trie's shape depends only on its key set, so equal contents give equal Merkle
 * roots whatever order the updates arrived in. Internal node hash = H(crit position, child
 * hashes); leaf hash = H(key bytes, value hash). Value hashes are supplied by the caller, so a
 * layer above can hash a canonical form while storing a compact one.
 *
 * Node references: `ref >= 0` is an internal node index; `ref < 0` is the leaf slot `~ref`.
 */
import { fmix32, hashBytes, hashHex, mixA, mixB, out } from "./hash.ts"

/** Longest key accepted, in bytes (a table name, a 16-byte hash and a 1 KB sort key fit). */
export const KEY_BYTES_MAX = 4096
const EMPTY = 0x7fffffff
/** The ref `regionRef` returns for an empty region. */
export const EMPTY_REF = EMPTY
const POS_LEAF = 0x7fffffff
const LEAF_TAG = 0x1eaf
const GROW_INITIAL = 64

const bitAt = (q: Uint8Array, qlen: number, b: number, r: number): number =>
  b >= qlen ? 0 : r === 0 ? 1 : (q[b]! >> (8 - r)) & 1

/** Result of a diff: keys (copies) present on one side only or with different values, in order. */
export interface TrieDiff {
  readonly keys: Uint8Array[]
  /** Node pairs compared: a measure of how much of the two tries the diff had to visit. */
  readonly visited: number
}

export class CritbitTrie {
  // internal nodes
  private capI = 0
  private critByte = new Int32Array(0)
  private critR = new Uint8Array(0)
  private kids = new Int32Array(0)
  private ih = new Int32Array(0)
  private freeI = -1
  private usedI = 0
  // leaves
  private capL = 0
  private kOff = new Int32Array(0)
  private kLen = new Int32Array(0)
  private vOff = new Int32Array(0)
  private vLen = new Int32Array(0)
  private vh = new Int32Array(0)
  private lh = new Int32Array(0)
  private freeL = -1
  private usedL = 0
  // arenas
  private keyArena = new Uint8Array(0)
  private keyUsed = 0
  private keyGarbage = 0
  private valArena = new Uint8Array(0)
  private valUsed = 0
  private valGarbage = 0

  private root = EMPTY
  private count = 0
  private path = new Int32Array(GROW_INITIAL)
  private stack = new Int32Array(GROW_INITIAL)
  /** While true, puts skip hash maintenance; `rehashAll` restores it (bulk loads). */
  private deferHash = false

  get size(): number {
    return this.count
  }

  // ---------- allocation ----------

  private growI(): void {
    const cap = Math.max(GROW_INITIAL, this.capI * 2)
    const cb = new Int32Array(cap)
    cb.set(this.critByte)
    this.critByte = cb
    const cr = new Uint8Array(cap)
    cr.set(this.critR)
    this.critR = cr
    const k = new Int32Array(cap * 2)
    k.set(this.kids)
    this.kids = k
    const h = new Int32Array(cap * 2)
    h.set(this.ih)
    this.ih = h
    this.capI = cap
  }

  private allocI(b: number, r: number): number {
    let n: number
    if (this.freeI >= 0) {
      n = this.freeI
      this.freeI = this.kids[2 * n]!
    } else {
      if (this.usedI === this.capI) this.growI()
      n = this.usedI++
    }
    this.critByte[n] = b
    this.critR[n] = r
    return n
  }

  private freeInternal(n: number): void {
    this.kids[2 * n] = this.freeI
    this.freeI = n
  }

  private growL(): void {
    const cap = Math.max(GROW_INITIAL, this.capL * 2)
    const grow = (a: Int32Array, m: number): Int32Array<ArrayBuffer> => {
      const x = new Int32Array(cap * m)
      x.set(a)
      return x
    }
    this.kOff = grow(this.kOff, 1)
    this.kLen = grow(this.kLen, 1)
    this.vOff = grow(this.vOff, 1)
    this.vLen = grow(this.vLen, 1)
    this.vh = grow(this.vh, 2)
    this.lh = grow(this.lh, 2)
    this.capL = cap
  }

  private ensureKeyArena(extra: number): void {
    if (this.keyUsed + extra <= this.keyArena.length) return
    if (this.keyGarbage > this.keyUsed / 2) this.compactKeys()
    if (this.keyUsed + extra <= this.keyArena.length) return
    const next = new Uint8Array(Math.max(1024, (this.keyUsed + extra) * 2))
    next.set(this.keyArena.subarray(0, this.keyUsed))
    this.keyArena = next
  }

  private ensureValArena(extra: number): void {
    if (this.valUsed + extra <= this.valArena.length) return
    if (this.valGarbage > this.valUsed / 2) this.compactVals()
    if (this.valUsed + extra <= this.valArena.length) return
    const next = new Uint8Array(Math.max(1024, (this.valUsed + extra) * 2))
    next.set(this.valArena.subarray(0, this.valUsed))
    this.valArena = next
  }

  private compactKeys(): void {
    const next = new Uint8Array(Math.max(1024, this.keyArena.length))
    let used = 0
    // (live bytes never exceed the current arena, so `next` is large enough)
    this.forEachSlot((s) => {
      const off = this.kOff[s]!
      const len = this.kLen[s]!
      next.set(this.keyArena.subarray(off, off + len), used)
      this.kOff[s] = used
      used += len
    })
    this.keyArena = next
    this.keyUsed = used
    this.keyGarbage = 0
  }

  private compactVals(): void {
    const next = new Uint8Array(Math.max(1024, this.valArena.length))
    let used = 0
    this.forEachSlot((s) => {
      const off = this.vOff[s]!
      const len = this.vLen[s]!
      next.set(this.valArena.subarray(off, off + len), used)
      this.vOff[s] = used
      used += len
    })
    this.valArena = next
    this.valUsed = used
    this.valGarbage = 0
  }

  private writeValue(s: number, val: Uint8Array, vA: number, vB: number): void {
    this.ensureValArena(val.length)
    this.valArena.set(val, this.valUsed)
    this.vOff[s] = this.valUsed
    this.vLen[s] = val.length
    this.valUsed += val.length
    this.vh[2 * s] = vA
    this.vh[2 * s + 1] = vB
    this.hashLeaf(s)
  }

  private allocL(key: Uint8Array, val: Uint8Array, vA: number, vB: number): number {
    let s: number
    if (this.freeL >= 0) {
      s = this.freeL
      this.freeL = this.kOff[s]!
    } else {
      if (this.usedL === this.capL) this.growL()
      s = this.usedL++
    }
    this.ensureKeyArena(key.length)
    this.keyArena.set(key, this.keyUsed)
    this.kOff[s] = this.keyUsed
    this.kLen[s] = key.length
    this.keyUsed += key.length
    this.writeValue(s, val, vA, vB)
    return s
  }

  private freeLeaf(s: number): void {
    this.keyGarbage += this.kLen[s]!
    this.valGarbage += this.vLen[s]!
    this.kLen[s] = -1
    this.kOff[s] = this.freeL
    this.freeL = s
  }

  /**
   * Drops garbage from the arenas and shrinks every array to what is in use (after a bulk load or
   * many deletes). The next insert grows them again by doubling.
   */
  trim(): void {
    if (this.keyGarbage > 0) this.compactKeys()
    if (this.valGarbage > 0) this.compactVals()
    const fitI = Math.max(1, this.usedI)
    const fitL = Math.max(1, this.usedL)
    this.critByte = this.critByte.slice(0, fitI)
    this.critR = this.critR.slice(0, fitI)
    this.kids = this.kids.slice(0, 2 * fitI)
    this.ih = this.ih.slice(0, 2 * fitI)
    this.capI = this.critByte.length
    this.kOff = this.kOff.slice(0, fitL)
    this.kLen = this.kLen.slice(0, fitL)
    this.vOff = this.vOff.slice(0, fitL)
    this.vLen = this.vLen.slice(0, fitL)
    this.vh = this.vh.slice(0, 2 * fitL)
    this.lh = this.lh.slice(0, 2 * fitL)
    this.capL = this.kOff.length
    this.keyArena = this.keyArena.slice(0, Math.max(1, this.keyUsed))
    this.valArena = this.valArena.slice(0, Math.max(1, this.valUsed))
  }

  // ---------- hashing ----------

  private hashLeaf(s: number): void {
    if (this.deferHash) return
    hashBytes(this.keyArena, this.kOff[s]!, this.kLen[s]!, LEAF_TAG)
    this.lh[2 * s] = fmix32(mixA(out[0]!, this.vh[2 * s]!))
    this.lh[2 * s + 1] = fmix32(mixB(out[1]!, this.vh[2 * s + 1]!))
  }

  private hashA(ref: number): number {
    return ref >= 0 ? this.ih[2 * ref]! : this.lh[2 * ~ref]!
  }
  private hashB(ref: number): number {
    return ref >= 0 ? this.ih[2 * ref + 1]! : this.lh[2 * ~ref + 1]!
  }

  private hashNode(n: number): void {
    const pos = this.critByte[n]! * 9 + this.critR[n]!
    const c0 = this.kids[2 * n]!
    const c1 = this.kids[2 * n + 1]!
    let a = mixA(mixA(mixA(0x1f3d5b79, pos), this.hashA(c0)), this.hashA(c1))
    let b = mixB(mixB(mixB(0x2c9277b5, pos), this.hashB(c0)), this.hashB(c1))
    a = fmix32(a)
    b = fmix32(b)
    this.ih[2 * n] = a
    this.ih[2 * n + 1] = b
  }

  private rehashPath(depth: number): void {
    if (this.deferHash) return
    for (let i = depth - 1; i >= 0; i--) this.hashNode(this.path[i]!)
  }

  /** Root hash as two lanes; the empty trie hashes to (0, 0). */
  rootLanes(): [number, number] {
    if (this.count === 0) return [0, 0]
    return [this.hashA(this.root), this.hashB(this.root)]
  }

  /** Root hash as 16 hex digits. */
  rootHex(): string {
    const [a, b] = this.rootLanes()
    return hashHex(a, b)
  }

  /** Starts a bulk load: hashes are computed once by `endBulk` instead of per put. */
  beginBulk(): void {
    this.deferHash = true
  }

  /** Ends a bulk load, hashing every leaf and internal node bottom-up. */
  endBulk(): void {
    this.deferHash = false
    if (this.count === 0) return
    this.forEachSlot((s) => this.hashLeaf(s))
    // post-order over internal nodes with an explicit stack (child before parent)
    if (this.root < 0) return
    const order: number[] = []
    const todo: number[] = [this.root]
    while (todo.length > 0) {
      const n = todo.pop()!
      order.push(n)
      const c0 = this.kids[2 * n]!
      const c1 = this.kids[2 * n + 1]!
      if (c0 >= 0) todo.push(c0)
      if (c1 >= 0) todo.push(c1)
    }
    for (let i = order.length - 1; i >= 0; i--) this.hashNode(order[i]!)
  }

  // ---------- descent helpers ----------

  private pushPath(depth: number, n: number): void {
    if (depth >= this.path.length) {
      const p = new Int32Array(this.path.length * 2)
      p.set(this.path)
      this.path = p
    }
    this.path[depth] = n
  }

  private findLeaf(q: Uint8Array, qlen: number): number {
    let node = this.root
    const kids = this.kids
    const cb = this.critByte
    const cr = this.critR
    while (node >= 0) {
      const b = cb[node]!
      const r = cr[node]!
      const bit = b >= qlen ? 0 : r === 0 ? 1 : (q[b]! >> (8 - r)) & 1
      node = kids[2 * node + bit]!
    }
    return ~node
  }

  /** First differing virtual-bit position between q and the key in slot s, or -1 if equal. */
  private firstDiff(q: Uint8Array, qlen: number, s: number): number {
    const ka = this.keyArena
    const off = this.kOff[s]!
    const len = this.kLen[s]!
    const m = Math.min(qlen, len)
    for (let i = 0; i < m; i++) {
      const x = q[i]! ^ ka[off + i]!
      if (x !== 0) return i * 9 + (Math.clz32(x) - 23)
    }
    return qlen === len ? -1 : m * 9
  }

  private maxLeaf(ref: number): number {
    const kids = this.kids
    while (ref >= 0) ref = kids[2 * ref + 1]!
    return ~ref
  }

  private minLeaf(ref: number): number {
    const kids = this.kids
    while (ref >= 0) ref = kids[2 * ref]!
    return ~ref
  }

  // ---------- updates ----------

  /**
   * Inserts or replaces. Returns the leaf slot. `vA`/`vB` are the value's hash lanes.
   * A replace with identical bytes and hash is a no-op.
   */
  put(key: Uint8Array, val: Uint8Array, vA: number, vB: number): number {
    const qlen = key.length
    if (qlen > KEY_BYTES_MAX) throw new RangeError(`key of ${qlen} bytes exceeds KEY_BYTES_MAX`)
    if (this.count === 0) {
      const s = this.allocL(key, val, vA, vB)
      this.root = ~s
      this.count = 1
      return s
    }
    const leaf = this.findLeaf(key, qlen)
    const d = this.firstDiff(key, qlen, leaf)
    if (d < 0) {
      if (this.vh[2 * leaf] === vA && this.vh[2 * leaf + 1] === vB && this.sameValue(leaf, val)) return leaf
      this.valGarbage += this.vLen[leaf]!
      this.writeValue(leaf, val, vA, vB)
      this.rehashPath(this.recordPath(key, qlen, POS_LEAF))
      return leaf
    }
    const depth = this.recordPath(key, qlen, d)
    const node = depth === 0 ? this.root : this.childToward(this.path[depth - 1]!, key, qlen)
    const db = (d / 9) | 0
    const dr = d - db * 9
    const s = this.allocL(key, val, vA, vB)
    const n = this.allocI(db, dr)
    const dir = bitAt(key, qlen, db, dr)
    this.kids[2 * n + dir] = ~s
    this.kids[2 * n + 1 - dir] = node
    if (depth === 0) this.root = n
    else {
      const p = this.path[depth - 1]!
      this.kids[2 * p + bitAt(key, qlen, this.critByte[p]!, this.critR[p]!)] = n
    }
    this.pushPath(depth, n)
    this.rehashPath(depth + 1)
    this.count++
    return s
  }

  private sameValue(s: number, val: Uint8Array): boolean {
    if (this.vLen[s] !== val.length) return false
    const off = this.vOff[s]!
    const va = this.valArena
    for (let i = 0; i < val.length; i++) if (va[off + i] !== val[i]) return false
    return true
  }

  private childToward(n: number, q: Uint8Array, qlen: number): number {
    return this.kids[2 * n + bitAt(q, qlen, this.critByte[n]!, this.critR[n]!)]!
  }

  /** Records the internal nodes on q's path whose crit position is below `limit`; returns depth. */
  private recordPath(q: Uint8Array, qlen: number, limit: number): number {
    let node = this.root
    let depth = 0
    while (node >= 0) {
      const b = this.critByte[node]!
      const r = this.critR[node]!
      if (b * 9 + r > limit) break
      this.pushPath(depth++, node)
      node = this.kids[2 * node + bitAt(q, qlen, b, r)]!
    }
    return depth
  }

  /** Deletes a key; returns whether it was present. */
  delete(key: Uint8Array): boolean {
    if (this.count === 0) return false
    const qlen = key.length
    const depth = this.recordPath(key, qlen, POS_LEAF)
    const leafRef = depth === 0 ? this.root : this.childToward(this.path[depth - 1]!, key, qlen)
    const s = ~leafRef
    if (this.firstDiff(key, qlen, s) >= 0) return false
    if (depth === 0) {
      this.root = EMPTY
    } else {
      const p = this.path[depth - 1]!
      const dir = bitAt(key, qlen, this.critByte[p]!, this.critR[p]!)
      const sibling = this.kids[2 * p + 1 - dir]!
      if (depth === 1) this.root = sibling
      else {
        const g = this.path[depth - 2]!
        this.kids[2 * g + bitAt(key, qlen, this.critByte[g]!, this.critR[g]!)] = sibling
      }
      this.freeInternal(p)
      this.rehashPath(depth - 1)
    }
    this.freeLeaf(s)
    this.count--
    if (this.count === 0) this.root = EMPTY
    return true
  }

  // ---------- lookups ----------

  /** Slot holding exactly `key`, or -1. */
  getSlot(key: Uint8Array): number {
    if (this.count === 0) return -1
    const s = this.findLeaf(key, key.length)
    return this.firstDiff(key, key.length, s) < 0 ? s : -1
  }

  /** Slot of the largest key <= q, or -1. */
  floorSlot(q: Uint8Array): number {
    if (this.count === 0) return -1
    const qlen = q.length
    const leaf = this.findLeaf(q, qlen)
    const d = this.firstDiff(q, qlen, leaf)
    if (d < 0) return leaf
    const kids = this.kids
    const cb = this.critByte
    const cr = this.critR
    let node = this.root
    let lastLeft = EMPTY
    while (node >= 0) {
      const b = cb[node]!
      const r = cr[node]!
      if (b * 9 + r > d) break
      const bit = b >= qlen ? 0 : r === 0 ? 1 : (q[b]! >> (8 - r)) & 1
      if (bit === 1) lastLeft = kids[2 * node]!
      node = kids[2 * node + bit]!
    }
    const db = (d / 9) | 0
    if (bitAt(q, qlen, db, d - db * 9) === 1) return this.maxLeaf(node)
    return lastLeft === EMPTY ? -1 : this.maxLeaf(lastLeft)
  }

  /** Slot of the smallest key >= q, or -1. */
  ceilingSlot(q: Uint8Array): number {
    if (this.count === 0) return -1
    const qlen = q.length
    const leaf = this.findLeaf(q, qlen)
    const d = this.firstDiff(q, qlen, leaf)
    if (d < 0) return leaf
    const kids = this.kids
    let node = this.root
    let lastRight = EMPTY
    while (node >= 0) {
      const b = this.critByte[node]!
      const r = this.critR[node]!
      if (b * 9 + r > d) break
      const bit = bitAt(q, qlen, b, r)
      if (bit === 0) lastRight = kids[2 * node + 1]!
      node = kids[2 * node + bit]!
    }
    const db = (d / 9) | 0
    if (bitAt(q, qlen, db, d - db * 9) === 0) return this.minLeaf(node)
    return lastRight === EMPTY ? -1 : this.minLeaf(lastRight)
  }

  /** Slot of the smallest key > q, or -1. */
  higherSlot(q: Uint8Array): number {
    const s = this.ceilingSlot(q)
    if (s < 0 || this.firstDiff(q, q.length, s) >= 0) return s
    // q is present: the successor is the min of the nearest right subtree on q's path
    let node = this.root
    let lastRight = EMPTY
    while (node >= 0) {
      const bit = bitAt(q, q.length, this.critByte[node]!, this.critR[node]!)
      if (bit === 0) lastRight = this.kids[2 * node + 1]!
      node = this.kids[2 * node + bit]!
    }
    return lastRight === EMPTY ? -1 : this.minLeaf(lastRight)
  }

  /** Slot of the largest key < q, or -1. */
  lowerSlot(q: Uint8Array): number {
    const s = this.floorSlot(q)
    if (s < 0 || this.firstDiff(q, q.length, s) >= 0) return s
    // q is present: the predecessor is the max of the nearest left subtree on q's path
    let node = this.root
    let lastLeft = EMPTY
    while (node >= 0) {
      const bit = bitAt(q, q.length, this.critByte[node]!, this.critR[node]!)
      if (bit === 1) lastLeft = this.kids[2 * node]!
      node = this.kids[2 * node + bit]!
    }
    return lastLeft === EMPTY ? -1 : this.maxLeaf(lastLeft)
  }

  /** Calls fn for every slot whose key starts with `prefix`, in key order. */
  forEachPrefix(prefix: Uint8Array, fn: (slot: number) => void): void {
    if (this.count === 0) return
    const plen = prefix.length
    let node = this.root
    while (node >= 0 && this.critByte[node]! < plen) node = this.childToward(node, prefix, plen)
    const probe = node >= 0 ? this.minLeaf(node) : ~node
    if (this.kLen[probe]! < plen) return
    const off = this.kOff[probe]!
    for (let i = 0; i < plen; i++) if (this.keyArena[off + i] !== prefix[i]) return
    this.forEachUnder(node, fn)
  }

  /** Calls fn for every slot, in key order. */
  forEachSlot(fn: (slot: number) => void): void {
    if (this.count === 0) return
    this.forEachUnder(this.root, fn)
  }

  private forEachUnder(ref: number, fn: (slot: number) => void): void {
    let sp = 0
    let stack = this.stack
    stack[sp++] = ref
    while (sp > 0) {
      const n = stack[--sp]!
      if (n < 0) {
        fn(~n)
        continue
      }
      if (sp + 2 > stack.length) {
        const x = new Int32Array(stack.length * 2)
        x.set(stack)
        stack = this.stack = x
      }
      stack[sp++] = this.kids[2 * n + 1]!
      stack[sp++] = this.kids[2 * n]!
    }
  }

  // ---------- slot accessors ----------

  /** A copy of the key in slot s. */
  keyOf(s: number): Uint8Array {
    const off = this.kOff[s]!
    return this.keyArena.slice(off, off + this.kLen[s]!)
  }

  /** The arena and offset/length of slot s's value (valid until the next update). */
  valueArena(): Uint8Array {
    return this.valArena
  }
  valueOffset(s: number): number {
    return this.vOff[s]!
  }
  valueLength(s: number): number {
    return this.vLen[s]!
  }
  keyArenaView(): Uint8Array {
    return this.keyArena
  }
  keyOffset(s: number): number {
    return this.kOff[s]!
  }
  keyLength(s: number): number {
    return this.kLen[s]!
  }
  valueHashA(s: number): number {
    return this.vh[2 * s]!
  }
  valueHashB(s: number): number {
    return this.vh[2 * s + 1]!
  }

  /** Bytes held by the typed arrays (capacity, i.e. what the process actually pays). */
  allocatedBytes(): number {
    return (
      this.critByte.byteLength +
      this.critR.byteLength +
      this.kids.byteLength +
      this.ih.byteLength +
      this.kOff.byteLength +
      this.kLen.byteLength +
      this.vOff.byteLength +
      this.vLen.byteLength +
      this.vh.byteLength +
      this.lh.byteLength +
      this.keyArena.byteLength +
      this.valArena.byteLength +
      this.path.byteLength +
      this.stack.byteLength
    )
  }

  // ---------- regions (Merkle anti-entropy over the network) ----------

  /**
   * The node holding exactly the keys whose first `pos` virtual bits equal rep's, or EMPTY_REF.
   * Its hash depends only on that key set, so two replicas can compare a region by its hash.
   */
  regionRef(rep: Uint8Array, pos: number): number {
    if (this.count === 0) return EMPTY
    let node = this.root
    while (node >= 0) {
      const b = this.critByte[node]!
      const r = this.critR[node]!
      if (b * 9 + r >= pos) break
      node = this.kids[2 * node + bitAt(rep, rep.length, b, r)]!
    }
    const leaf = node >= 0 ? this.minLeaf(node) : ~node
    const d = this.firstDiff(rep, rep.length, leaf)
    return d >= 0 && d < pos ? EMPTY : node
  }

  /** Hash lanes of a ref ((0, 0) for EMPTY_REF). */
  refHash(ref: number): [number, number] {
    return ref === EMPTY ? [0, 0] : [this.hashA(ref), this.hashB(ref)]
  }

  /** Up to `limit` slots under a ref, in key order (limit + 1 found means "more"). */
  slotsUnder(ref: number, limit: number): number[] {
    const slots: number[] = []
    if (ref === EMPTY) return slots
    let sp = 0
    const stack: number[] = [ref]
    sp = 1
    while (sp > 0 && slots.length <= limit) {
      const n = stack[--sp]!
      if (n < 0) {
        slots.push(~n)
        continue
      }
      stack[sp++] = this.kids[2 * n + 1]!
      stack[sp++] = this.kids[2 * n]!
    }
    return slots
  }

  /** The two child regions of an internal ref: (representative key, bit length) each. */
  childRegions(ref: number): [[Uint8Array, number], [Uint8Array, number]] {
    const pos = this.critByte[ref]! * 9 + this.critR[ref]! + 1
    // only the bytes holding the first `pos` virtual bits name the region
    const bytes = Math.ceil(pos / 9)
    return [
      [this.keyOf(this.minLeaf(this.kids[2 * ref]!)).subarray(0, bytes), pos],
      [this.keyOf(this.minLeaf(this.kids[2 * ref + 1]!)).subarray(0, bytes), pos],
    ]
  }

  // ---------- diff ----------

  private posOf(ref: number): number {
    return ref >= 0 ? this.critByte[ref]! * 9 + this.critR[ref]! : POS_LEAF
  }

  private bitOfSlot(s: number, pos: number): number {
    const b = (pos / 9) | 0
    const r = pos - b * 9
    const len = this.kLen[s]!
    return b >= len ? 0 : r === 0 ? 1 : (this.keyArena[this.kOff[s]! + b]! >> (8 - r)) & 1
  }

  private emitAll(ref: number, outKeys: Uint8Array[]): void {
    this.forEachUnder(ref, (s) => outKeys.push(this.keyOf(s)))
  }

  /**
   * Keys whose presence or value differs between this trie and `other`, in key order. Descends
   * only into subtree pairs whose Merkle hashes differ.
   */
  diff(other: CritbitTrie): TrieDiff {
    const keys: Uint8Array[] = []
    let visited = 0
    const a0 = this.count === 0 ? EMPTY : this.root
    const b0 = other.count === 0 ? EMPTY : other.root
    if (a0 === EMPTY && b0 === EMPTY) return { keys, visited }
    if (a0 === EMPTY) {
      other.emitAll(b0, keys)
      return { keys, visited }
    }
    if (b0 === EMPTY) {
      this.emitAll(a0, keys)
      return { keys, visited }
    }
    const B = other
    const go = (a: number, b: number): void => {
      visited++
      if (this.hashA(a) === B.hashA(b) && this.hashB(a) === B.hashB(b)) return
      const pa = this.posOf(a)
      const pb = B.posOf(b)
      const ra = this.minLeaf(a)
      const rb = B.minLeaf(b)
      const ka = this.keyArena.subarray(this.kOff[ra]!, this.kOff[ra]! + this.kLen[ra]!)
      const d = B.firstDiff(ka, ka.length, rb)
      const m = Math.min(pa, pb)
      if (d >= 0 && d < m) {
        // disjoint key sets: emit in order
        if (this.bitOfSlot(ra, d) === 0) {
          this.emitAll(a, keys)
          B.emitAll(b, keys)
        } else {
          B.emitAll(b, keys)
          this.emitAll(a, keys)
        }
        return
      }
      if (pa === POS_LEAF && pb === POS_LEAF) {
        keys.push(this.keyOf(ra))
        return
      }
      if (pa === pb) {
        go(this.kids[2 * a]!, B.kids[2 * b]!)
        go(this.kids[2 * a + 1]!, B.kids[2 * b + 1]!)
      } else if (pa < pb) {
        if (B.bitOfSlot(rb, pa) === 0) {
          go(this.kids[2 * a]!, b)
          this.emitAll(this.kids[2 * a + 1]!, keys)
        } else {
          this.emitAll(this.kids[2 * a]!, keys)
          go(this.kids[2 * a + 1]!, b)
        }
      } else {
        if (this.bitOfSlot(ra, pb) === 0) {
          go(a, B.kids[2 * b]!)
          B.emitAll(B.kids[2 * b + 1]!, keys)
        } else {
          B.emitAll(B.kids[2 * b]!, keys)
          go(a, B.kids[2 * b + 1]!)
        }
      }
    }
    go(a0, b0)
    return { keys, visited }
  }
}
