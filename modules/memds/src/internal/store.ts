/**
 * PerkleStore: routing metadata (partition boundaries → routing entries) on a Perkle trie.
 *
 * Values are stored compactly: replica pairs `{nodeId, az}` are interned as atoms (a fleet has
 * thousands of nodes, a map has millions of entries), the partition id inline, integers as
 * varints. The Merkle value hash is computed from the canonical content (strings, not atom
 * ids), so two replicas that interned atoms in different orders still agree on every hash.
 */
import { Data, Either } from "effect"
import { deflateSync, inflateSync } from "fflate"
import { ByteReader, ByteWriter } from "./bytes.ts"
import { Hasher } from "./hash.ts"
import { compareBytes, hasPrefix, tablePrefix, toHex } from "./keys.ts"
import { CritbitTrie, type TrieDiff } from "./trie.ts"

/** One replica of a partition: the storage node and its availability zone. */
export interface Replica {
  readonly nodeId: string
  readonly az: string
}

/** Routing entry for one partition: what a router needs to send a request there. */
export interface RoutingEntry {
  readonly partitionId: string
  /** Membership epoch; storage nodes reject requests routed with an older one. */
  readonly epoch: number
  readonly replicas: ReadonlyArray<Replica>
  /** Node id of the replica believed to lead, or null when unknown. */
  readonly leaderHint: string | null
}

/** A stored boundary: its key (a copy) and entry. */
export interface Boundary {
  readonly key: Uint8Array
  readonly entry: RoutingEntry
}

/** A partition's key range as stored: [start, end) with end null for the table's last one. */
export interface RouteRange {
  readonly start: Uint8Array
  readonly end: Uint8Array | null
  readonly entry: RoutingEntry
}

/** A key region named by a representative key and a length in virtual bits (9 per byte). */
export interface Region {
  readonly rep: Uint8Array
  readonly pos: number
}

/** What a replica says about one region during Merkle anti-entropy. */
export interface RegionSummary extends Region {
  readonly hashA: number
  readonly hashB: number
  /** The region's boundaries, when few enough. */
  readonly entries?: ReadonlyArray<Boundary>
  /** Otherwise the two halves to compare next. */
  readonly children?: readonly [Region, Region]
}

/** A snapshot could not be decoded or did not match its Merkle root. */
export class SnapshotError extends Data.TaggedError("SnapshotError")<{ readonly reason: string }> {}

/** Most replicas one entry may list (storage replicas plus log replicas). */
export const REPLICAS_MAX = 16
/** Longest partition id, in UTF-16 code units. */
export const PARTITION_ID_CHARS_MAX = 1024
const VALUE_TAG = 0x7a1e
const LEADER_NONE = 0
const LEADER_OTHER = 0xff
const SNAPSHOT_MAGIC = 0x504b5331 // "PKS1"

const hasher = new Hasher()

/** Content hash lanes of a routing entry (independent of how it is stored). */
export const entryHash = (e: RoutingEntry): [number, number] => {
  const h = hasher.reset(VALUE_TAG).str(e.partitionId).int(e.epoch).int(e.replicas.length)
  for (const r of e.replicas) h.str(r.nodeId).str(r.az)
  if (e.leaderHint === null) h.int(0)
  else h.int(1).str(e.leaderHint)
  return [h.finishA(), h.finishB()]
}

const validate = (e: RoutingEntry): void => {
  if (!Number.isSafeInteger(e.epoch) || e.epoch < 0) throw new RangeError(`bad epoch ${e.epoch}`)
  if (e.replicas.length > REPLICAS_MAX) throw new RangeError(`more than ${REPLICAS_MAX} replicas`)
  if (e.partitionId.length > PARTITION_ID_CHARS_MAX) throw new RangeError("partition id too long")
}

/**
 * Read-optimised index of one table: its boundaries in key order as the first 64 bits of the
 * hash position (two Uint32 words side by side, one cache line per probe) plus the trie slot.
 * Kept up to date on every insert and delete; value updates keep their slot and need nothing.
 */
class TableIndex {
  n = 0
  words = new Uint32Array(16)
  slots = new Int32Array(8)
  constructor(
    readonly tableId: string,
    readonly prefix: Uint8Array,
  ) {}
}

/** Slots of `PerkleStore`'s memo of decoded routes (a power of two). */
const ROUTE_MEMO_SLOTS = 4096

/** Opaque handle on one table's read index (from `PerkleStore.tableHandle`). */
export type TableHandle = { readonly tableId: string; readonly prefix: Uint8Array }

const word = (k: Uint8Array, o: number): number =>
  ((k[o]! << 24) | (k[o + 1]! << 16) | (k[o + 2]! << 8) | k[o + 3]!) >>> 0

/** Routing metadata of every table: boundaries → routing entries, with Merkle hashes. */
export class PerkleStore {
  private readonly trie = new CritbitTrie()
  private readonly tables = new Map<string, TableIndex>()
  private lastTable: TableIndex | undefined
  private readonly atomIds = new Map<string, number>()
  private readonly atoms: Replica[] = []
  private readonly w = new ByteWriter(64)

  /** Number of boundaries stored. */
  get size(): number {
    return this.trie.size
  }

  /** Merkle root as 16 hex digits ("0000000000000000" when empty). */
  get root(): string {
    return this.trie.rootHex()
  }

  private atom(nodeId: string, az: string): number {
    const k = nodeId + "\u0000" + az
    let id = this.atomIds.get(k)
    if (id === undefined) {
      id = this.atoms.length
      this.atoms.push(Object.freeze({ nodeId, az }))
      this.atomIds.set(k, id)
    }
    return id
  }

  private encode(e: RoutingEntry): Uint8Array {
    const w = this.w
    w.len = 0
    w.varint(e.epoch)
    w.str(e.partitionId)
    w.u8(e.replicas.length)
    let leader = LEADER_NONE
    for (let i = 0; i < e.replicas.length; i++) {
      const r = e.replicas[i]!
      w.varint(this.atom(r.nodeId, r.az))
      if (leader === LEADER_NONE && r.nodeId === e.leaderHint) leader = i + 1
    }
    if (e.leaderHint !== null && leader === LEADER_NONE) {
      w.u8(LEADER_OTHER)
      w.varint(this.atom(e.leaderHint, ""))
    } else w.u8(leader)
    return w.buf.subarray(0, w.len)
  }

  private decodeAt(a: Uint8Array, p: number, _len: number): RoutingEntry {
    // hand-inlined reader: this runs once per routed lookup
    let epoch = 0
    let mul = 1
    let b = a[p++]!
    while (b >= 0x80) {
      epoch += (b & 0x7f) * mul
      mul *= 0x80
      b = a[p++]!
    }
    epoch += b * mul
    let n = a[p++]!
    if (n >= 0x80) n = (n & 0x7f) | (a[p++]! << 7)
    let partitionId = ""
    for (let i = 0; i < n; i++) {
      let c = a[p++]!
      if (c >= 0x80) {
        c &= 0x7f
        let sh = 7
        let x: number
        do {
          x = a[p++]!
          c |= (x & 0x7f) << sh
          sh += 7
        } while (x >= 0x80)
      }
      partitionId += String.fromCharCode(c)
    }
    const count = a[p++]!
    const replicas = new Array<Replica>(count)
    for (let i = 0; i < count; i++) {
      let id = a[p++]!
      if (id >= 0x80) {
        id &= 0x7f
        let sh = 7
        let x: number
        do {
          x = a[p++]!
          id |= (x & 0x7f) << sh
          sh += 7
        } while (x >= 0x80)
      }
      replicas[i] = this.atoms[id]!
    }
    const l = a[p++]!
    let leaderHint: string | null = null
    if (l === LEADER_OTHER) {
      const r = new ByteReader(a.subarray(p))
      leaderHint = this.atoms[r.varint()]!.nodeId
    } else if (l !== LEADER_NONE) leaderHint = replicas[l - 1]!.nodeId
    return { partitionId, epoch, replicas, leaderHint }
  }

  // ---------- updates ----------

  /** Inserts or replaces the entry at `key`. */
  put(key: Uint8Array, entry: RoutingEntry): void {
    validate(entry)
    const ti = this.indexFor(key, true)!
    const [a, b] = entryHash(entry)
    const before = this.trie.size
    const s = this.trie.put(key, this.encode(entry), a, b)
    this.routeMemoSlot.fill(-1)
    if (this.trie.size !== before) this.indexInsert(ti, key, s)
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: Uint8Array): boolean {
    const s = this.trie.getSlot(key)
    if (s < 0) return false
    const ti = this.indexFor(key, false)!
    const p = this.indexPos(ti, key)
    ti.words.copyWithin(2 * p, 2 * p + 2, 2 * ti.n)
    ti.slots.copyWithin(p, p + 1, ti.n)
    ti.n--
    this.trie.delete(key)
    this.routeMemoSlot.fill(-1)
    return true
  }

  /** The table index a routing key belongs to (created on demand when `create`). */
  private indexFor(key: Uint8Array, create: boolean): TableIndex | undefined {
    // consecutive operations usually stay in one table: its prefix (with the NUL) decides
    const last = this.lastTable
    if (
      last !== undefined &&
      hasPrefix(key, last.prefix) &&
      key.length >= last.prefix.length + 16 &&
      (key.length - last.prefix.length) % 2 === 0
    )
      return last
    const ti = this.findIndex(key, create)
    if (ti !== undefined) this.lastTable = ti
    return ti
  }

  private findIndex(key: Uint8Array, create: boolean): TableIndex | undefined {
    const nul = key.indexOf(0)
    if (nul <= 0 || key.length < nul + 17 || (key.length - nul - 17) % 2 !== 0)
      throw new RangeError("not a routing key (tableId NUL hash16 [sortKey])")
    let id = ""
    for (let i = 0; i < nul; i++) id += String.fromCharCode(key[i]!)
    let ti = this.tables.get(id)
    if (ti === undefined && create) {
      ti = new TableIndex(id, key.slice(0, nul + 1))
      this.tables.set(id, ti)
    }
    return ti
  }

  /** Compares the stored key in `slot` with q (-1, 0, 1). */
  private cmpSlot(slot: number, q: Uint8Array): number {
    const ka = this.trie.keyArenaView()
    const off = this.trie.keyOffset(slot)
    const len = this.trie.keyLength(slot)
    const m = Math.min(len, q.length)
    for (let i = 0; i < m; i++) {
      const x = ka[off + i]!
      const y = q[i]!
      if (x !== y) return x < y ? -1 : 1
    }
    return len === q.length ? 0 : len < q.length ? -1 : 1
  }

  /** Index position of the last boundary <= q in the table, or -1. */
  private floorPos(ti: TableIndex, q: Uint8Array): number {
    const o = ti.prefix.length
    const qh = word(q, o)
    const ql = word(q, o + 4)
    const w = ti.words
    let lo = 0
    let hi = ti.n - 1
    let i = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const mh = w[2 * mid]!
      if (mh < qh || (mh === qh && w[2 * mid + 1]! <= ql)) {
        i = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    // a run of equal 64-bit words (sort-key boundaries): settle it on full keys
    while (i >= 0 && w[2 * i] === qh && w[2 * i + 1] === ql && this.cmpSlot(ti.slots[i]!, q) > 0) i--
    return i
  }

  /** Index position where `key` is (or would be inserted). */
  private indexPos(ti: TableIndex, key: Uint8Array): number {
    const i = this.floorPos(ti, key)
    return i >= 0 && this.cmpSlot(ti.slots[i]!, key) === 0 ? i : i + 1
  }

  private indexInsert(ti: TableIndex, key: Uint8Array, slot: number): void {
    const p = this.indexPos(ti, key)
    if (ti.n === ti.slots.length) {
      const w = new Uint32Array(ti.words.length * 2)
      w.set(ti.words)
      ti.words = w
      const sl = new Int32Array(ti.slots.length * 2)
      sl.set(ti.slots)
      ti.slots = sl
    }
    ti.words.copyWithin(2 * p + 2, 2 * p, 2 * ti.n)
    ti.slots.copyWithin(p + 1, p, ti.n)
    const o = ti.prefix.length
    ti.words[2 * p] = word(key, o)
    ti.words[2 * p + 1] = word(key, o + 4)
    ti.slots[p] = slot
    ti.n++
  }

  /** A handle on one table's read index, for the allocation-free hot path `floorInTable`. */
  tableHandle(tableId: string): TableHandle {
    const prefix = tablePrefix(tableId)
    let id = ""
    for (let i = 0; i < prefix.length - 1; i++) id += String.fromCharCode(prefix[i]!)
    let ti = this.tables.get(id)
    if (ti === undefined) {
      ti = new TableIndex(id, prefix)
      this.tables.set(id, ti)
    }
    return ti
  }

  /**
   * Slot of the boundary whose range holds `key` (a routing key of the handle's table), or -1:
   * a binary search over the table's 64-bit words, no trie descent, no allocation.
   */
  floorInTable(handle: TableHandle, key: Uint8Array): number {
    const ti = handle as TableIndex
    const i = this.floorPos(ti, key)
    return i < 0 ? -1 : ti.slots[i]!
  }

  // ---------- slot-level hot path ----------

  /** Slot of the largest key <= `key`, or -1 (no allocation). */
  floorSlot(key: Uint8Array): number {
    return this.trie.floorSlot(key)
  }

  /** Slot of the smallest key >= `key`, or -1. */
  ceilingSlot(key: Uint8Array): number {
    return this.trie.ceilingSlot(key)
  }

  /** Decodes the entry in a slot returned by a `*Slot` lookup (valid until the next update). */
  entryAt(slot: number): RoutingEntry {
    return this.decodeAt(this.trie.valueArena(), this.trie.valueOffset(slot), this.trie.valueLength(slot))
  }

  /** The epoch in a slot, without decoding the rest. */
  epochAt(slot: number): number {
    return new ByteReader(this.trie.valueArena().subarray(this.trie.valueOffset(slot))).varint()
  }

  /** A copy of the key in a slot. */
  keyAt(slot: number): Uint8Array {
    return this.trie.keyOf(slot)
  }

  // ---------- lookups ----------

  /** The entry stored at exactly `key`. */
  get(key: Uint8Array): RoutingEntry | undefined {
    const s = this.trie.getSlot(key)
    return s < 0 ? undefined : this.entryAt(s)
  }

  /** The boundary with the largest key <= `key`. */
  floor(key: Uint8Array): Boundary | undefined {
    const s = this.trie.floorSlot(key)
    return s < 0 ? undefined : { key: this.trie.keyOf(s), entry: this.entryAt(s) }
  }

  /** The boundary with the smallest key >= `key`. */
  ceiling(key: Uint8Array): Boundary | undefined {
    const s = this.trie.ceilingSlot(key)
    return s < 0 ? undefined : { key: this.trie.keyOf(s), entry: this.entryAt(s) }
  }

  /** The boundary with the largest key < `key` (the paper's `lessThan`). */
  lower(key: Uint8Array): Boundary | undefined {
    const s = this.trie.lowerSlot(key)
    return s < 0 ? undefined : { key: this.trie.keyOf(s), entry: this.entryAt(s) }
  }

  /** The boundary with the smallest key > `key` (the paper's `greaterThan`). */
  higher(key: Uint8Array): Boundary | undefined {
    const s = this.trie.higherSlot(key)
    return s < 0 ? undefined : { key: this.trie.keyOf(s), entry: this.entryAt(s) }
  }

  /** Boundaries with `from <= key < to`, in key order, at most `limit` of them. */
  between(from: Uint8Array, to: Uint8Array, limit = Number.POSITIVE_INFINITY): Boundary[] {
    const outB: Boundary[] = []
    let s = this.trie.ceilingSlot(from)
    while (s >= 0 && outB.length < limit) {
      const key = this.trie.keyOf(s)
      if (compareBytes(key, to) >= 0) break
      outB.push({ key, entry: this.entryAt(s) })
      s = this.trie.higherSlot(key)
    }
    return outB
  }

  /**
   * The partition whose range holds `key`: floor within the key's table, with the range's end
   * (the next boundary of the same table, or null). Pass the table's handle to skip finding it.
   */
  route(key: Uint8Array, handle?: TableHandle): RouteRange | undefined {
    const ti = (handle as TableIndex | undefined) ?? this.indexFor(key, false)
    if (ti === undefined || !hasPrefix(key, ti.prefix)) return undefined
    const i = this.floorPos(ti, key)
    if (i < 0) return undefined
    const s = ti.slots[i]!
    const m = s & (ROUTE_MEMO_SLOTS - 1)
    if (this.routeMemoSlot[m] === s) return this.routeMemo[m]
    const end = i + 1 < ti.n ? this.trie.keyOf(ti.slots[i + 1]!) : null
    const r: RouteRange = { start: this.trie.keyOf(s), end, entry: this.entryAt(s) }
    this.routeMemoSlot[m] = s
    this.routeMemo[m] = r
    return r
  }

  /**
   * Routes answered lately, by trie slot (direct-mapped: slot `s` in `s mod ROUTE_MEMO_SLOTS`),
   * all forgotten at any update. Every request a router serves looks its route up here (constant
   * work), and decoding it each time (two key copies, the partition id, the replica list) was
   * about a dozen objects per request. A route is immutable, so one object serves every lookup.
   */
  private readonly routeMemo = new Array<RouteRange | undefined>(ROUTE_MEMO_SLOTS)
  private readonly routeMemoSlot = new Int32Array(ROUTE_MEMO_SLOTS).fill(-1)

  /** All boundaries whose key starts with `prefix`, in key order. */
  prefix(prefix: Uint8Array): Boundary[] {
    const outB: Boundary[] = []
    this.trie.forEachPrefix(prefix, (s) => outB.push({ key: this.trie.keyOf(s), entry: this.entryAt(s) }))
    return outB
  }

  /** All boundaries of one table, in key order. */
  table(tableId: string): Boundary[] {
    return this.prefix(tablePrefix(tableId))
  }

  /** All boundaries, in key order. */
  entries(): Boundary[] {
    const outB: Boundary[] = []
    this.trie.forEachSlot((s) => outB.push({ key: this.trie.keyOf(s), entry: this.entryAt(s) }))
    return outB
  }

  /**
   * Summary of one key region (keys sharing the first `pos` virtual bits of `rep`) for Merkle
   * anti-entropy: its hash and, when it holds at most `entriesMax` boundaries, the boundaries
   * themselves; otherwise its two child regions to descend into.
   */
  regionSummary(rep: Uint8Array, pos: number, entriesMax: number): RegionSummary {
    const ref = this.trie.regionRef(rep, pos)
    const [a, b] = this.trie.refHash(ref)
    const slots = this.trie.slotsUnder(ref, entriesMax)
    if (slots.length <= entriesMax)
      return {
        rep,
        pos,
        hashA: a,
        hashB: b,
        entries: slots.map((s) => ({ key: this.trie.keyOf(s), entry: this.entryAt(s) })),
      }
    const [c0, c1] = this.trie.childRegions(ref)
    return {
      rep,
      pos,
      hashA: a,
      hashB: b,
      children: [
        { rep: c0[0], pos: c0[1] },
        { rep: c1[0], pos: c1[1] },
      ],
    }
  }

  /** Hash lanes of a key region (see `regionSummary`). */
  regionHash(rep: Uint8Array, pos: number): [number, number] {
    return this.trie.refHash(this.trie.regionRef(rep, pos))
  }

  /**
   * Makes a region hold exactly `entries` (a peer's content for it); returns how many
   * boundaries were written or removed.
   */
  replaceRegion(rep: Uint8Array, pos: number, entries: ReadonlyArray<Boundary>): number {
    const ref = this.trie.regionRef(rep, pos)
    const mine = this.trie.slotsUnder(ref, Number.POSITIVE_INFINITY).map((s) => this.trie.keyOf(s))
    const theirs = new Set(entries.map((e) => toHex(e.key)))
    let changed = 0
    for (const k of mine)
      if (!theirs.has(toHex(k))) {
        this.delete(k)
        changed++
      }
    for (const e of entries) {
      const cur = this.trie.getSlot(e.key)
      const [a, b] = entryHash(e.entry)
      if (cur >= 0 && this.trie.valueHashA(cur) === a && this.trie.valueHashB(cur) === b) continue
      this.put(e.key, e.entry)
      changed++
    }
    return changed
  }

  /**
   * One step of Merkle anti-entropy towards a peer: compares the peer's summary of a region with
   * this store's, and when they differ either takes the peer's entries for the region or drops
   * this store's keys that the peer's children cannot cover (keys inside the region but off the
   * peer's common prefix) and returns the children to descend into. Driving this from the root
   * until no region is left makes this store's content equal to the peer's.
   */
  applyRegion(summary: RegionSummary): { readonly changed: number; readonly next: ReadonlyArray<Region> } {
    const [a, b] = this.regionHash(summary.rep, summary.pos)
    if (a === summary.hashA && b === summary.hashB) return { changed: 0, next: [] }
    if (summary.entries !== undefined)
      return { changed: this.replaceRegion(summary.rep, summary.pos, summary.entries), next: [] }
    const children = summary.children
    if (children === undefined) return { changed: 0, next: [] }
    const [c0] = children
    const off = this.trie.keysOffPrefix(this.trie.regionRef(summary.rep, summary.pos), c0.rep, c0.pos - 1)
    for (const k of off) this.delete(k)
    return { changed: off.length, next: children }
  }

  /** Keys that differ (missing on one side or different entry) between this store and `other`. */
  diff(other: PerkleStore): TrieDiff {
    return this.trie.diff(other.trie)
  }

  /** Shrinks every array to its contents (after a bulk load); growth resumes on the next insert. */
  trim(): void {
    this.routeMemoSlot.fill(-1)
    this.trie.trim()
    for (const t of this.tables.values()) {
      t.words = t.words.slice(0, Math.max(2, 2 * t.n))
      t.slots = t.slots.slice(0, Math.max(1, t.n))
    }
  }

  /** Bytes held by the store's typed arrays plus an estimate for the interned atoms. */
  allocatedBytes(): number {
    let atomBytes = 0
    for (const a of this.atoms) atomBytes += 64 + 2 * (a.nodeId.length + a.az.length)
    let idx = 0
    for (const t of this.tables.values()) idx += t.words.byteLength + t.slots.byteLength + 64
    return this.trie.allocatedBytes() + atomBytes + idx
  }

  // ---------- snapshots ----------

  /**
   * Compressed snapshot: keys delta-encoded in order, entries column by column, atoms renumbered
   * by first use (so equal contents give byte-identical snapshots), the Merkle root and a
   * caller-chosen version in the header, deflated with fflate.
   */
  snapshot(version = 0, level: 1 | 6 | 9 = 6): Uint8Array {
    const head = new ByteWriter(64)
    const keysW = new ByteWriter(1 << 16)
    const valsW = new ByteWriter(1 << 16)
    const atomsW = new ByteWriter(1024)
    const local = new Map<number, number>()
    let atomCount = 0
    const localAtom = (id: number): number => {
      let l = local.get(id)
      if (l === undefined) {
        l = atomCount++
        local.set(id, l)
        const a = this.atoms[id]!
        atomsW.str(a.nodeId)
        atomsW.str(a.az)
      }
      return l
    }
    let prev: Uint8Array = new Uint8Array(0)
    const ka = this.trie.keyArenaView()
    const va = this.trie.valueArena()
    this.trie.forEachSlot((s) => {
      const off = this.trie.keyOffset(s)
      const key = ka.subarray(off, off + this.trie.keyLength(s))
      writeKeyDelta(keysW, prev, key)
      prev = key
      const r = new ByteReader(
        va.subarray(this.trie.valueOffset(s), this.trie.valueOffset(s) + this.trie.valueLength(s)),
      )
      valsW.varint(r.varint())
      valsW.str(r.str())
      const n = r.u8()
      valsW.u8(n)
      for (let i = 0; i < n; i++) valsW.varint(localAtom(r.varint()))
      const l = r.u8()
      valsW.u8(l)
      if (l === LEADER_OTHER) valsW.varint(localAtom(r.varint()))
    })
    const [ra, rb] = this.trie.rootLanes()
    head.varint(SNAPSHOT_MAGIC)
    head.varint(version)
    head.varint(ra >>> 0)
    head.varint(rb >>> 0)
    head.varint(this.size)
    head.varint(atomCount)
    const body = new ByteWriter(head.len + atomsW.len + keysW.len + valsW.len + 16)
    body.bytes(head.buf.subarray(0, head.len))
    body.bytes(atomsW.buf.subarray(0, atomsW.len))
    body.bytes(keysW.buf.subarray(0, keysW.len))
    body.bytes(valsW.buf.subarray(0, valsW.len))
    return deflateSync(body.buf.subarray(0, body.len), { level })
  }

  /** Decodes a snapshot and verifies the rebuilt store's Merkle root against its header. */
  static fromSnapshot(
    bytes: Uint8Array,
  ): Either.Either<{ store: PerkleStore; version: number }, SnapshotError> {
    try {
      const r = new ByteReader(inflateSync(bytes))
      if (r.varint() !== SNAPSHOT_MAGIC) return Either.left(new SnapshotError({ reason: "bad magic" }))
      const version = r.varint()
      const ra = r.varint() | 0
      const rb = r.varint() | 0
      const count = r.varint()
      const atomCount = r.varint()
      const store = new PerkleStore()
      const ids: number[] = []
      for (let i = 0; i < atomCount; i++) {
        const nodeId = r.str()
        const az = r.str()
        ids.push(store.atom(nodeId, az))
      }
      const keys: Uint8Array[] = new Array(count)
      let prev: Uint8Array = new Uint8Array(0)
      for (let i = 0; i < count; i++) {
        prev = readKeyDelta(r, prev)
        keys[i] = prev
      }
      const trie = store.trie
      trie.beginBulk()
      const w = new ByteWriter(64)
      const h = new Hasher()
      for (let i = 0; i < count; i++) {
        w.len = 0
        const epoch = r.varint()
        const pid = r.str()
        const n = r.u8()
        if (n > REPLICAS_MAX) throw new RangeError("too many replicas")
        w.varint(epoch)
        w.str(pid)
        w.u8(n)
        h.reset(VALUE_TAG).str(pid).int(epoch).int(n)
        let nodes: Replica[] | undefined
        for (let j = 0; j < n; j++) {
          const id = ids[r.varint()]
          if (id === undefined) throw new RangeError("bad atom")
          w.varint(id)
          const a = store.atoms[id]!
          h.str(a.nodeId).str(a.az)
          ;(nodes ??= []).push(a)
        }
        const l = r.u8()
        w.u8(l)
        if (l === LEADER_NONE) h.int(0)
        else if (l === LEADER_OTHER) {
          const id = ids[r.varint()]
          if (id === undefined) throw new RangeError("bad atom")
          w.varint(id)
          h.int(1).str(store.atoms[id]!.nodeId)
        } else {
          const a = nodes?.[l - 1]
          if (a === undefined) throw new RangeError("bad leader index")
          h.int(1).str(a.nodeId)
        }
        trie.put(keys[i]!, w.buf.subarray(0, w.len), h.finishA(), h.finishB())
      }
      trie.endBulk()
      for (const k of keys) {
        const ti = store.indexFor(k, true)!
        store.indexInsert(ti, k, trie.getSlot(k))
      }
      const [ca, cb] = trie.rootLanes()
      store.trim()
      if (trie.size !== count) return Either.left(new SnapshotError({ reason: "duplicate keys" }))
      if (ca !== ra || cb !== rb) return Either.left(new SnapshotError({ reason: "Merkle root mismatch" }))
      return Either.right({ store, version })
    } catch (e) {
      return Either.left(new SnapshotError({ reason: e instanceof Error ? e.message : String(e) }))
    }
  }
}

/** Key delta: shared prefix with the previous key; equal-length tails of ≤16 bytes as a difference. */
const writeKeyDelta = (w: ByteWriter, prev: Uint8Array, key: Uint8Array): void => {
  const m = Math.min(prev.length, key.length)
  let shared = 0
  while (shared < m && prev[shared] === key[shared]) shared++
  const tail = key.length - shared
  if (key.length === prev.length && tail > 0 && tail <= 16) {
    // key > prev in order, so the tail difference is positive; write it big-endian, trimmed
    const d = new Uint8Array(tail)
    let borrow = 0
    for (let i = key.length - 1; i >= shared; i--) {
      let v = key[i]! - prev[i]! - borrow
      borrow = v < 0 ? 1 : 0
      if (v < 0) v += 256
      d[i - shared] = v
    }
    let z = 0
    while (z < tail && d[z] === 0) z++
    w.varint(shared * 2 + 1)
    w.varint(tail - z)
    w.bytes(d.subarray(z))
  } else {
    w.varint(shared * 2)
    w.varint(tail)
    w.bytes(key.subarray(shared))
  }
}

const readKeyDelta = (r: ByteReader, prev: Uint8Array): Uint8Array => {
  const h = r.varint()
  const shared = Math.floor(h / 2)
  if (shared > prev.length) throw new RangeError("bad key delta")
  if (h % 2 === 0) {
    const tail = r.bytes(r.varint())
    const k = new Uint8Array(shared + tail.length)
    k.set(prev.subarray(0, shared))
    k.set(tail, shared)
    return k
  }
  const n = r.varint()
  const d = r.bytes(n)
  const k = prev.slice()
  let carry = 0
  for (let i = k.length - 1, j = n - 1; i >= shared; i--, j--) {
    const v = k[i]! + (j >= 0 ? d[j]! : 0) + carry
    k[i] = v & 0xff
    carry = v >> 8
  }
  return k
}
