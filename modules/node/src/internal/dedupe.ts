/**
 * The request ids a replica has applied, for idempotent retries: a set with first-in-first-out
 * eviction past a bound.
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

export class RequestIdSet {
  private readonly set = new Set<number | string>()
  /** Ids in the order added, from `head`. Only appended to; trimming replaces the array. */
  private order: Array<number | string> = []
  private head = 0
  private readonly prefixes: string[] = []
  private readonly prefixIndex = new Map<string, number>()

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError("RequestIdSet: max must be >= 1")
  }

  /** Ids held. */
  get size(): number {
    return this.set.size
  }

  has(id: string): boolean {
    return this.set.has(this.key(id, false))
  }

  /** Adds `id` (no-op when held); past `max`, the oldest id is forgotten. */
  add(id: string): void {
    this.addIfAbsent(id)
  }

  /** Adds `id` unless held; returns whether it was added (one parse of the id for both). */
  addIfAbsent(id: string): boolean {
    const k = this.key(id, true)
    if (this.set.has(k)) return false
    this.set.add(k)
    this.order.push(k)
    if (this.order.length - this.head > this.max) {
      this.set.delete(this.order[this.head++]!)
      if (this.head > this.max) {
        this.order = this.order.slice(this.head)
        this.head = 0
      }
    }
    return true
  }

  /** Forgets every id. */
  clear(): void {
    this.set.clear()
    this.order = []
    this.head = 0
  }

  /** The ids, oldest first. */
  toArray(): string[] {
    return this.idsOf(this.order, this.head, this.order.length)
  }

  /** The ids held now, oldest first, copied only when the returned function is called (O(1)). */
  view(): () => string[] {
    const order = this.order
    const from = this.head
    const to = order.length
    return () => this.idsOf(order, from, to)
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
