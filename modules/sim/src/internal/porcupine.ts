/**
 * Porcupine's linearizability search (Anish Athalye's porcupine, after Wing & Gong and Lowe): the
 * history is a doubly linked list of call and return entries sorted by time. Walking the list, a call
 * whose operation the model accepts in the current state is "lifted" (its call and return entries are
 * removed) and pushed on a stack; reaching a return entry means the operation it belongs to cannot be
 * linearized any later, so we backtrack. A cache of (linearized set, state) pairs already explored
 * (Lowe's memoisation) prunes revisits. The linearized set is a bitset with an incremental Zobrist hash.
 *
 * Arrays instead of node objects keep the inner loop allocation-free except for cache entries.
 */
import type { Operation } from "../History.ts"
import { Prng } from "../Prng.ts"
import { combine32 } from "./hash.ts"

/** Returned by a model's `step` when the operation cannot happen in that state. */
export const Illegal: unique symbol = Symbol.for("@partita/sim/Illegal")

/** Minimal model view used by the search. */
export interface SearchModel<S, I, O> {
  init(): S
  step(state: S, input: I, output: O): S | typeof Illegal
  equal(a: S, b: S): boolean
  hash(s: S): number
}

/** Shared step / time budget across the partitions of one check. */
export interface Budget {
  steps: number
  readonly stepsMax: number
  readonly deadline: number
  readonly now: () => number
}

/** Outcome of one partition. */
export interface SearchResult {
  readonly verdict: "ok" | "illegal" | "unknown"
  /** Indices (into the partition) of the longest linearizable prefix found, in linearization order. */
  readonly longest: readonly number[]
}

/**
 * The memo of explored (linearized bitset, state) pairs: a chained hash set whose bitsets live in one
 * growable Uint32Array pool, so an insert allocates nothing per entry (amortised).
 */
class StateCache<S> {
  private pool: Uint32Array
  private hashes: Int32Array
  private chain: Int32Array
  private table: Int32Array
  private mask: number
  private readonly states: S[] = []
  size = 0

  constructor(
    private readonly words: number,
    private readonly equal: (a: S, b: S) => boolean,
  ) {
    const cap = 1024
    this.pool = new Uint32Array(cap * words)
    this.hashes = new Int32Array(cap)
    this.chain = new Int32Array(cap)
    this.table = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
  }

  /** Is (bits with `op` set, s) present under `key`? If not, insert it and return false. */
  addIfAbsent(key: number, bits: Uint32Array, op: number, s: S): boolean {
    const words = this.words
    const w = op >>> 5
    const bitMask = 1 << (op & 31)
    const pool = this.pool
    for (let e = this.table[key & this.mask]!; e !== -1; e = this.chain[e]!) {
      if (this.hashes[e] !== key) continue
      const base = e * words
      let same = true
      for (let i = 0; i < words; i++) {
        const mine = i === w ? (bits[i]! | bitMask) >>> 0 : bits[i]!
        if (pool[base + i] !== mine) {
          same = false
          break
        }
      }
      if (same && this.equal(this.states[e]!, s)) return true
    }
    if (this.size === this.hashes.length) this.grow()
    const e = this.size++
    const base = e * words
    this.pool.set(bits, base)
    this.pool[base + w]! |= bitMask
    this.states.push(s)
    this.hashes[e] = key
    const slot = key & this.mask
    this.chain[e] = this.table[slot]!
    this.table[slot] = e
    return false
  }

  private grow(): void {
    const cap = this.hashes.length * 2
    const pool = new Uint32Array(cap * this.words)
    pool.set(this.pool)
    this.pool = pool
    const hashes = new Int32Array(cap)
    hashes.set(this.hashes)
    this.hashes = hashes
    this.chain = new Int32Array(cap)
    this.table = new Int32Array(cap).fill(-1)
    this.mask = cap - 1
    for (let e = 0; e < this.size; e++) {
      const slot = hashes[e]! & this.mask
      this.chain[e] = this.table[slot]!
      this.table[slot] = e
    }
  }
}

const TIME_CHECK_MASK = 0xfff

/** Search one partition. */
export const searchPartition = <S, I, O>(
  model: SearchModel<S, I, O>,
  ops: ReadonlyArray<Operation<I, O>>,
  budget: Budget,
  wantLongest: boolean,
): SearchResult => {
  const n = ops.length
  if (n === 0) return { verdict: "ok", longest: [] }
  const m = 2 * n
  const head = m
  // entry e < m: op = e >> 1, call when (e & 1) === 0. Sort by time, calls before returns at equal time.
  const order = new Int32Array(m)
  for (let e = 0; e < m; e++) order[e] = e
  const time = (e: number): number => {
    const op = ops[e >> 1]!
    return (e & 1) === 0 ? op.call : op.return
  }
  const sorted = Array.from(order).sort((a, b) => {
    const ta = time(a)
    const tb = time(b)
    if (ta !== tb) return ta < tb ? -1 : 1
    const ka = a & 1
    const kb = b & 1
    if (ka !== kb) return ka - kb
    return a - b
  })
  const next = new Int32Array(m + 1)
  const prev = new Int32Array(m + 1)
  let p = head
  for (const e of sorted) {
    next[p] = e
    prev[e] = p
    p = e
  }
  next[p] = -1
  prev[head] = -1
  for (let i = 0; i < n; i++) {
    const op = ops[i]!
    if (!(op.call <= op.return))
      throw new RangeError(`operation ${i} returns (${op.return}) before its call (${op.call})`)
  }

  const zob = new Uint32Array(n)
  const zp = new Prng(0x5eed)
  for (let i = 0; i < n; i++) zob[i] = zp.nextU32()
  const words = (n + 31) >>> 5
  const bits = new Uint32Array(words)
  let bitsHash = 0
  const cache = new StateCache<S>(words, (x, y) => model.equal(x, y))
  const stackEntry = new Int32Array(n)
  const stackState: S[] = new Array(n)
  let depth = 0
  let longest: number[] = []
  let state = model.init()
  let entry = next[head]!

  const lift = (e: number): void => {
    next[prev[e]!] = next[e]!
    prev[next[e]!] = prev[e]!
    const r = e + 1
    next[prev[r]!] = next[r]!
    if (next[r] !== -1) prev[next[r]!] = prev[r]!
  }
  const unlift = (e: number): void => {
    const r = e + 1
    next[prev[r]!] = r
    if (next[r] !== -1) prev[next[r]!] = r
    prev[next[e]!] = e
    next[prev[e]!] = e
  }
  while (next[head] !== -1) {
    if (++budget.steps > budget.stepsMax) return { verdict: "unknown", longest }
    if ((budget.steps & TIME_CHECK_MASK) === 0 && budget.now() > budget.deadline) {
      return { verdict: "unknown", longest }
    }
    if ((entry & 1) === 0) {
      const op = entry >> 1
      const o = ops[op]!
      const ns = model.step(state, o.input, o.output)
      if (ns !== Illegal) {
        const h = (bitsHash ^ zob[op]!) >>> 0
        const key = combine32(h, model.hash(ns)) | 0
        if (!cache.addIfAbsent(key, bits, op, ns)) {
          stackEntry[depth] = entry
          stackState[depth] = state
          depth++
          if (wantLongest && depth > longest.length) {
            longest = Array.from(stackEntry.subarray(0, depth), (e) => e >> 1)
          }
          state = ns
          bits[op >>> 5]! |= 1 << (op & 31)
          bitsHash = h
          lift(entry)
          entry = next[head]!
          continue
        }
      }
      entry = next[entry]!
    } else {
      if (depth === 0) return { verdict: "illegal", longest }
      depth--
      entry = stackEntry[depth]!
      state = stackState[depth]!
      const op = entry >> 1
      bits[op >>> 5]! &= ~(1 << (op & 31))
      bitsHash = (bitsHash ^ zob[op]!) >>> 0
      unlift(entry)
      entry = next[entry]!
    }
  }
  return {
    verdict: "ok",
    longest: wantLongest ? Array.from(stackEntry.subarray(0, depth), (e) => e >> 1) : [],
  }
}
