/**
 * The request ids a replica has applied, for idempotent retries: a set with first-in-first-out
 * eviction past a bound, and of ids older than a window of time.
 *
 * Time is the leader's clock as stamped in each write's log entry, so every replica evicts the
 * same ids at the same log position (their sets must agree: whether a write applies depends on
 * them). An id stamped more than `windowMs` before the newest stamp applied is forgotten: a router
 * retries a write only until its deadline, so the window is a few times the routers' deadline.
 * Stamps are taken as the running maximum (a new leader whose clock is behind never makes ids
 * expire sooner); an id without a stamp (a log from before stamps) expires by count only.
 *
 * A router's ids are `<router>:<sequence>`. Those are kept as numbers (the router's index in a small
 * table times 2^36, plus the sequence), not strings: a replica remembers up to
 * `DEDUPE_ENTRIES_MAX` of them, and as strings they were the largest population of objects on the
 * heap (three per write across the replicas), which every full collection had to mark. Any other
 * id is kept as the string itself. The mapping is one-to-one, and `toArray` gives back the
 * original strings in the order they were added.
 */

/** Sequences below this fit beside the router's index in a double's 53 exact bits. */
const SEQ_LIMIT = 2 ** 36
/** Prefixes looked up by scanning (more go through the map). */
const SCAN_PREFIXES_MAX = 8
/** Distinct router prefixes kept as numbers; ids with other prefixes stay strings. */
const PREFIXES_MAX = 1 << 16

/** Ids held with their stamps, oldest first (NaN: no stamp). */
export interface RequestIds {
  readonly ids: string[]
  readonly stamps: number[]
}

/** Evicted slots at the front of the arrays before they are trimmed (and at least half). */
const TRIM_MIN = 1024

export class RequestIdSet {
  private readonly set = new Set<number | string>()
  /** Ids in the order added, from `head`. Only appended to; trimming replaces the array. */
  private order: Array<number | string> = []
  /** Each id's stamp (the running maximum when added; NaN: none), beside `order`. */
  private stamps: number[] = []
  private head = 0
  /** The newest stamp added (-Infinity: none yet). */
  private horizon = Number.NEGATIVE_INFINITY
  private readonly prefixes: string[] = []
  private readonly prefixIndex = new Map<string, number>()

  constructor(
    readonly max: number,
    /** Ids stamped more than this before the newest stamp are forgotten (ms). */
    readonly windowMs: number = Number.POSITIVE_INFINITY,
  ) {
    if (!(max >= 1)) throw new RangeError("RequestIdSet: max must be >= 1")
    if (!(windowMs > 0)) throw new RangeError("RequestIdSet: windowMs must be > 0")
  }

  /** Ids held. */
  get size(): number {
    return this.set.size
  }

  has(id: string): boolean {
    return this.set.has(this.key(id, false))
  }

  /** The newest stamp added (-Infinity: none yet). */
  get newestStamp(): number {
    return this.horizon
  }

  /** Adds `id` (no-op when held); see `addIfAbsent`. */
  add(id: string, stamp?: number): void {
    this.addIfAbsent(id, stamp)
  }

  /**
   * Adds `id` unless held; returns whether it was added (one parse of the id for both). Then
   * forgets the oldest ids past `max`, and those stamped more than `windowMs` before the newest.
   */
  addIfAbsent(id: string, stamp?: number): boolean {
    const k = this.key(id, true)
    if (this.set.has(k)) return false
    this.set.add(k)
    this.order.push(k)
    let t = Number.NaN
    if (stamp !== undefined && !Number.isNaN(stamp)) {
      t = Math.max(stamp, this.horizon)
      this.horizon = t
    } else if (this.horizon !== Number.NEGATIVE_INFINITY) t = this.horizon
    this.stamps.push(t)
    const oldest = this.horizon - this.windowMs
    // (NaN < x is false: an id without a stamp waits for the count bound.)
    while (this.order.length - this.head > this.max || this.stamps[this.head]! < oldest)
      this.set.delete(this.order[this.head++]!)
    if (this.head >= TRIM_MIN && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head)
      this.stamps = this.stamps.slice(this.head)
      this.head = 0
    }
    return true
  }

  /** Forgets every id. */
  clear(): void {
    this.set.clear()
    this.order = []
    this.stamps = []
    this.head = 0
    this.horizon = Number.NEGATIVE_INFINITY
  }

  /** The ids, oldest first. */
  toArray(): string[] {
    return this.idsOf(this.order, this.head, this.order.length)
  }

  /** The ids with their stamps, oldest first. */
  entries(): RequestIds {
    return { ids: this.toArray(), stamps: this.stamps.slice(this.head) }
  }

  /** The ids held now with their stamps, copied only when the returned function is called (O(1)). */
  view(): () => RequestIds {
    const order = this.order
    const stamps = this.stamps
    const from = this.head
    const to = order.length
    return () => ({ ids: this.idsOf(order, from, to), stamps: stamps.slice(from, to) })
  }

  /** Adds `ids` with their stamps (absent or NaN: none), in order. */
  addAll(ids: ReadonlyArray<string>, stamps?: ReadonlyArray<number | null>): void {
    for (let i = 0; i < ids.length; i++) this.addIfAbsent(ids[i]!, stamps?.[i] ?? undefined)
  }

  private idsOf(order: ReadonlyArray<number | string>, from: number, to: number): string[] {
    const out: string[] = []
    for (let i = from; i < to; i++) {
      const k = order[i]!
      if (typeof k === "string") out.push(k)
      else {
        const p = Math.floor(k / SEQ_LIMIT)
        out.push(`${this.prefixes[p]!}:${k - p * SEQ_LIMIT}`)
      }
    }
    return out
  }

  /** The stored form of `id`: a number for `<prefix>:<canonical decimal>`, else the string. */
  private key(id: string, intern: boolean): number | string {
    const colon = id.lastIndexOf(":")
    const digits = id.length - colon - 1
    if (colon < 0 || digits < 1 || digits > 11) return id
    if (digits > 1 && id.charCodeAt(colon + 1) === 0x30) return id // leading zero: not canonical
    let n = 0
    for (let i = colon + 1; i < id.length; i++) {
      const d = id.charCodeAt(i) - 0x30
      if (d < 0 || d > 9) return id
      n = n * 10 + d
    }
    if (n >= SEQ_LIMIT) return id
    // A few routers: compare in place (slicing the prefix and hashing it cost more than the rest).
    const ps = this.prefixes
    let p: number | undefined
    if (ps.length <= SCAN_PREFIXES_MAX) {
      for (let i = 0; i < ps.length; i++) {
        const q = ps[i]!
        if (q.length === colon && id.startsWith(q)) {
          p = i
          break
        }
      }
    } else p = this.prefixIndex.get(id.slice(0, colon))
    if (p === undefined) {
      const prefix = id.slice(0, colon)
      // The table only grows: once full, a new prefix's ids are kept as strings for good.
      if (this.prefixes.length >= PREFIXES_MAX) return id
      // Never interned, so no id with this prefix was added: a key nothing is stored under.
      if (!intern) return -1
      p = this.prefixes.length
      this.prefixes.push(prefix)
      this.prefixIndex.set(prefix, p)
    }
    return p * SEQ_LIMIT + n
  }
}
