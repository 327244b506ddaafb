/**
 * AccessStats: a bounded summary of one partition's traffic over a window, cheap enough to update
 * on every request. It keeps
 * - exact totals of read and write units;
 * - a priority sample (Duffield, Lund, Thorup 2007) of at most `capacity` accesses: each access
 *   gets priority weight/u (u uniform from a seeded generator), the `capacity + 1` highest are
 *   kept in a min-heap, and each kept access estimates `max(weight, τ)` where τ is the smallest
 *   kept priority. Subset sums of the estimates are unbiased, so the weighted median of the
 *   sample estimates the key that halves the traffic;
 * - the share of consecutive accesses whose key is greater than the previous one (a sequential
 *   pattern shows as a share near 1; random access near 0.5).
 * Memory is fixed at construction: about 40 bytes per sample slot.
 */
import type { EncodedKey } from "@partita/core"
import { wordsToHex } from "./hash.ts"
import { type Boundary, partitionLimitDefault, type Throughput } from "./types.ts"

/** Default number of sampled accesses kept per partition. */
export const statsSamplesDefault = 1024

/** One sampled access with its weight estimate (in partition-limit seconds, see `AccessStats`). */
export interface AccessSample {
  readonly key: Boundary
  readonly weight: number
}

/** Options of an `AccessStats`. */
export interface AccessStatsOptions {
  /** Sample slots (bounded memory). Default 1,024. */
  readonly capacity?: number
  /** Seed of the sampler's generator (deterministic). Default 1. */
  readonly seed?: number
  /** Normalizes reads and writes: an access weighs rcu/limit.rcu + wcu/limit.wcu. Default 3,000/1,000. */
  readonly limit?: Throughput
}

/** Bounded per-partition access statistics; see the module comment. Mutable, for the request path. */
export class AccessStats {
  readonly capacity: number
  readonly limit: Throughput
  /** Total read units recorded since the last reset. */
  readUnits = 0
  /** Total write units recorded since the last reset. */
  writeUnits = 0
  /** Accesses recorded since the last reset. */
  accesses = 0
  /** Consecutive pairs (a, b) with key(b) > key(a). */
  ascendingPairs = 0

  private readonly seed: number
  private rng: number
  private size = 0
  private readonly prio: Float64Array
  private readonly weight: Float64Array
  private readonly words: Uint32Array
  private readonly sortKeys: Array<EncodedKey | undefined>
  private readonly prev = new Uint32Array(4)
  private prevSortKey: EncodedKey | undefined = undefined

  constructor(options: AccessStatsOptions = {}) {
    const capacity = options.capacity ?? statsSamplesDefault
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError("capacity must be an integer ≥ 2")
    this.capacity = capacity
    this.limit = options.limit ?? partitionLimitDefault
    this.seed = options.seed ?? 1
    this.rng = this.seed | 0 || 1
    const slots = capacity + 1
    this.prio = new Float64Array(slots)
    this.weight = new Float64Array(slots)
    this.words = new Uint32Array(slots * 4)
    this.sortKeys = []
    for (let i = 0; i < slots; i++) this.sortKeys.push(undefined)
  }

  /** Forgets everything (start of a new window); the generator restarts from the seed. */
  reset(): void {
    this.readUnits = 0
    this.writeUnits = 0
    this.accesses = 0
    this.ascendingPairs = 0
    this.size = 0
    this.rng = this.seed | 0 || 1
    this.prevSortKey = undefined
    this.sortKeys.fill(undefined)
  }

  /**
   * Records one access to key `(hash[at..at+4), sortKey)` that consumed `rcu` read units and
   * `wcu` write units. No allocation; O(log capacity) when the access enters the sample.
   */
  record(hash: Uint32Array, at: number, sortKey: EncodedKey | undefined, rcu: number, wcu: number): void {
    const w0 = hash[at]! >>> 0
    const w1 = hash[at + 1]! >>> 0
    const w2 = hash[at + 2]! >>> 0
    const w3 = hash[at + 3]! >>> 0
    if (this.accesses > 0 && this.greaterThanPrev(w0, w1, w2, w3, sortKey)) this.ascendingPairs++
    const p = this.prev
    p[0] = w0
    p[1] = w1
    p[2] = w2
    p[3] = w3
    this.prevSortKey = sortKey
    this.accesses++
    this.readUnits += rcu
    this.writeUnits += wcu
    const weight = rcu / this.limit.rcu + wcu / this.limit.wcu
    if (!(weight > 0)) return
    // xorshift32 → u in (0, 1].
    let x = this.rng
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.rng = x
    const u = ((x >>> 0) + 1) / 4294967296
    const priority = weight / u
    const slots = this.capacity + 1
    if (this.size < slots) {
      this.siftUp(this.size++, priority, weight, w0, w1, w2, w3, sortKey)
    } else if (priority > this.prio[0]!) {
      this.siftDown(priority, weight, w0, w1, w2, w3, sortKey)
    }
  }

  /** Share of consecutive accesses with an increasing key (0 when fewer than two accesses). */
  get ascendingShare(): number {
    return this.accesses < 2 ? 0 : this.ascendingPairs / (this.accesses - 1)
  }

  /** Number of accesses currently in the sample (≤ capacity). */
  get sampled(): number {
    return Math.min(this.size, this.capacity)
  }

  /** The sample with unbiased weight estimates (allocates; for planning, not the request path). */
  samples(): AccessSample[] {
    const out: AccessSample[] = []
    const full = this.size > this.capacity
    // Slot 0 is the heap minimum: with a full heap it is the threshold τ, not a sample.
    const tau = full ? this.prio[0]! : 0
    for (let i = full ? 1 : 0; i < this.size; i++) {
      const w = this.weight[i]!
      out.push({
        key: { hash: wordsToHex(this.words, i * 4), sortKey: this.sortKeys[i] },
        weight: Math.max(w, tau),
      })
    }
    return out
  }

  private greaterThanPrev(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    sk: EncodedKey | undefined,
  ): boolean {
    const p = this.prev
    if (w0 !== p[0]) return w0 > p[0]!
    if (w1 !== p[1]) return w1 > p[1]!
    if (w2 !== p[2]) return w2 > p[2]!
    if (w3 !== p[3]) return w3 > p[3]!
    const q = this.prevSortKey
    if (sk === undefined || sk === q) return false
    return q === undefined || sk > q
  }

  private put(
    i: number,
    priority: number,
    weight: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    sk: EncodedKey | undefined,
  ): void {
    this.prio[i] = priority
    this.weight[i] = weight
    const j = i * 4
    this.words[j] = w0
    this.words[j + 1] = w1
    this.words[j + 2] = w2
    this.words[j + 3] = w3
    this.sortKeys[i] = sk
  }

  private move(from: number, to: number): void {
    this.prio[to] = this.prio[from]!
    this.weight[to] = this.weight[from]!
    this.words.copyWithin(to * 4, from * 4, from * 4 + 4)
    this.sortKeys[to] = this.sortKeys[from]
  }

  private siftUp(
    i: number,
    priority: number,
    weight: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    sk: EncodedKey | undefined,
  ): void {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.prio[parent]! <= priority) break
      this.move(parent, i)
      i = parent
    }
    this.put(i, priority, weight, w0, w1, w2, w3, sk)
  }

  /** Replaces the minimum (slot 0) with a new entry and restores the heap. */
  private siftDown(
    priority: number,
    weight: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    sk: EncodedKey | undefined,
  ): void {
    const n = this.size
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.prio[r]! < this.prio[l]! ? r : l
      if (this.prio[c]! >= priority) break
      this.move(c, i)
      i = c
    }
    this.put(i, priority, weight, w0, w1, w2, w3, sk)
  }
}
