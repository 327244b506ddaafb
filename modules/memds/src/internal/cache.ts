/**
 * The router's routing cache, as a pure state machine, in two modes that share all code:
 *
 * - `constant-work`: every request does the local lookup AND sends one lookup to MemDS, hit or
 *   miss. A hit answers at once and the reply only refreshes the cache; a miss waits for the
 *   reply. MemDS therefore sees one lookup per request whatever the hit rate — through a full
 *   cache flush its load does not move, so there is no cold-cache surge to survive.
 * - `conventional`: a lookup only on a miss (or an expired entry, after a long TTL). MemDS load
 *   follows the miss rate: ~0 when warm, one per request after a flush.
 *
 * Outstanding lookups are bounded (`inFlightMax`): when MemDS is slow, hits still answer from
 * the cache and their refreshes are skipped (counted), misses queue (bounded by `waitersMax`)
 * or fail with `RoutingUnavailable`. The router remembers the highest MemDS version it has seen
 * and never accepts an older answer: it asks lookups for `minVersion`, rejects older replies
 * and retries another node. A storage node's epoch check reports stale routes: with the newer
 * membership (installed directly) or without (the range is dropped and MemDS asked again,
 * accepting only an epoch newer than the stale one).
 */
import { IdRing } from "@partita/core"
import type { FleetMsg } from "./fleet.ts"
import { compareBytes } from "./keys.ts"
import type { RouteRange } from "./store.ts"

/** Which cache discipline to run. */
export type CacheMode = "constant-work" | "conventional"

/** Bounds and mode of one router's cache. */
export interface RoutingCacheConfig {
  readonly mode: CacheMode
  /** MemDS nodes to ask, round-robin. */
  readonly memdsNodes: ReadonlyArray<string>
  /** Most MemDS lookups outstanding at once. */
  readonly inFlightMax?: number
  /** Most requests queued for a lookup slot after a miss. */
  readonly waitersMax?: number
  /** A lookup unanswered after this long is abandoned (and retried for a waiting miss). */
  readonly lookupTimeoutMs?: number
  /** Cached ranges older than this count as misses (the "long TTL" of the conventional cache). */
  readonly ttlMs?: number
  /** Extra MemDS attempts for one miss (behind, older version, timeout, still-stale epoch). */
  readonly retriesMax?: number
  /** Most ranges cached; over it, the oldest range not refreshed since eviction last passed it goes first (second chance). */
  readonly entriesMax?: number
}

/** Default: MemDS lookups outstanding at once, per router. */
export const IN_FLIGHT_MAX_DEFAULT = 1024
/** Default: requests queued for a lookup slot after a miss. */
export const WAITERS_MAX_DEFAULT = 4096
/** Default: a lookup unanswered this long is abandoned. */
export const LOOKUP_TIMEOUT_MS_DEFAULT = 1000
/** Default: age at which a cached range counts as a miss (the conventional cache's long TTL). */
export const TTL_MS_DEFAULT = 3_600_000
/** Default: extra MemDS attempts for one miss. */
export const RETRIES_MAX_DEFAULT = 3
/** Default: cached ranges per router. */
export const ENTRIES_MAX_DEFAULT = 1_000_000

/** The answer of a call with nothing for the router to do (shared, frozen). */
const NO_OUTPUT: ReadonlyArray<CacheOutput> = Object.freeze([])

/** Why a request could not be routed. */
export type RoutingFailure = "RoutingUnavailable" | "NoSuchPartition"

/** What the router must do next. */
export type CacheOutput =
  | {
      readonly type: "answer"
      readonly reqId: number
      readonly range: RouteRange
      readonly fromCache: boolean
    }
  | { readonly type: "fail"; readonly reqId: number; readonly reason: RoutingFailure }
  | { readonly type: "send"; readonly to: string; readonly msg: Extract<FleetMsg, { type: "lookup" }> }

/** The cache's counters. */
export interface CacheMetrics {
  readonly requests: number
  readonly hits: number
  readonly misses: number
  /** Lookups sent to MemDS (first attempts and retries). */
  readonly memdsLookups: number
  /** memdsLookups / requests. */
  readonly lookupsPerRequest: number
  readonly hitRate: number
  readonly outstanding: number
  readonly outstandingMax: number
  readonly stalenessDetected: number
  /** Constant-work refreshes not sent because `inFlightMax` lookups were outstanding. */
  readonly refreshesSkipped: number
  /** Replies older than the version already seen, discarded. */
  readonly olderRepliesRejected: number
  readonly retries: number
  readonly timeouts: number
  readonly failures: number
  readonly highestVersionSeen: number
}

interface CachedRange {
  readonly tableId: string
  readonly start: Uint8Array
  readonly end: Uint8Array | null
  range: RouteRange
  fetchedMs: number
  /** Refreshed since eviction last passed over it (a second chance: CLOCK, not strict LRU). */
  used: boolean
}

interface Waiter {
  readonly reqId: number
  readonly tableId: string
  readonly key: Uint8Array
  /** Reject answers whose epoch is not above this (after a stale-route error); -1 = none. */
  readonly staleEpoch: number
  attempts: number
}

interface InFlight {
  readonly tableId: string
  readonly key: Uint8Array
  readonly sentMs: number
  readonly waiter: Waiter | null
}

/** The routing cache of one router: a pure state machine (see the module comment). */
export class RoutingCacheCore {
  readonly mode: CacheMode
  private readonly nodes: ReadonlyArray<string>
  private readonly inFlightMax: number
  private readonly waitersMax: number
  private readonly timeoutMs: number
  private readonly ttlMs: number
  private readonly retriesMax: number
  private readonly entriesMax: number

  private readonly tables = new Map<string, CachedRange[]>()
  private readonly age = new Set<CachedRange>()
  // By lookup id. A ring, not a Map: one lookup per request in constant-work mode, and a Map set
  // and deleted that often made every young collection mark the finished lookups (see `IdRing`).
  private readonly inFlight = new IdRing<InFlight>()
  private readonly queue: Waiter[] = []
  private nextLookupId = 1
  private nodeCursor = 0
  private seenVersion = 0

  private nRequests = 0
  private nHits = 0
  private nMisses = 0
  private nLookups = 0
  private nOutstandingMax = 0
  private nStale = 0
  private nSkipped = 0
  private nOlder = 0
  private nRetries = 0
  private nTimeouts = 0
  private nFailures = 0

  constructor(config: RoutingCacheConfig) {
    this.mode = config.mode
    this.nodes = config.memdsNodes
    this.inFlightMax = config.inFlightMax ?? IN_FLIGHT_MAX_DEFAULT
    this.waitersMax = config.waitersMax ?? WAITERS_MAX_DEFAULT
    this.timeoutMs = config.lookupTimeoutMs ?? LOOKUP_TIMEOUT_MS_DEFAULT
    this.ttlMs = config.ttlMs ?? TTL_MS_DEFAULT
    this.retriesMax = config.retriesMax ?? RETRIES_MAX_DEFAULT
    this.entriesMax = config.entriesMax ?? ENTRIES_MAX_DEFAULT
    if (this.nodes.length === 0) throw new RangeError("at least one MemDS node")
    if (this.inFlightMax < 1 || this.entriesMax < 1) throw new RangeError("bounds must be >= 1")
  }

  // ---------- the request path ----------

  /** Routes one request for `key` (a routing key of `tableId`). */
  request(now: number, reqId: number, tableId: string, key: Uint8Array): CacheOutput[] {
    this.nRequests++
    const out: CacheOutput[] = []
    const hit = this.local(now, tableId, key)
    if (hit !== undefined) {
      this.nHits++
      out.push({ type: "answer", reqId, range: hit.range, fromCache: true })
      // the constant-work rule: the lookup a miss would make is made anyway
      if (this.mode === "constant-work") {
        if (this.inFlight.size < this.inFlightMax) this.send(now, tableId, key, null, out)
        else this.nSkipped++
      }
      return out
    }
    this.nMisses++
    this.wait(now, { reqId, tableId, key, staleEpoch: -1, attempts: 0 }, out)
    return out
  }

  /**
   * A storage node rejected the route for request `reqId` (wrong epoch). With `newer` (the node
   * knew the current membership) it is installed and answered; otherwise the cached range is
   * dropped and MemDS is asked again for an epoch above `staleEpoch`.
   */
  staleRoute(
    now: number,
    reqId: number,
    tableId: string,
    key: Uint8Array,
    staleEpoch: number,
    newer?: RouteRange,
  ): CacheOutput[] {
    this.nStale++
    const out: CacheOutput[] = []
    if (newer !== undefined && newer.entry.epoch > staleEpoch) {
      this.install(now, tableId, newer)
      out.push({ type: "answer", reqId, range: newer, fromCache: false })
      return out
    }
    this.drop(tableId, key)
    this.wait(now, { reqId, tableId, key, staleEpoch, attempts: 0 }, out)
    return out
  }

  /** Handles a MemDS reply. */
  reply(now: number, msg: FleetMsg): ReadonlyArray<CacheOutput> {
    if (msg.type !== "lookup-reply" && msg.type !== "behind") return NO_OUTPUT
    const f = this.inFlight.take(msg.id)
    if (f === undefined) return NO_OUTPUT // timed out already, or a duplicate
    if (
      msg.type === "lookup-reply" &&
      f.waiter === null &&
      msg.version >= this.seenVersion &&
      this.queue.length === 0
    ) {
      // A constant-work refresh (one per request served from the cache): install, nothing to send.
      this.seenVersion = msg.version
      if (msg.range !== null) this.install(now, f.tableId, msg.range)
      return NO_OUTPUT
    }
    const out: CacheOutput[] = []
    if (msg.type === "behind" || msg.version < this.seenVersion) {
      // never go back in time: this node is older than what we have already seen
      if (msg.type === "lookup-reply") this.nOlder++
      if (f.waiter !== null) this.retry(now, f.waiter, out)
    } else {
      this.seenVersion = msg.version
      const range = msg.range
      if (range !== null) this.install(now, f.tableId, range)
      const w = f.waiter
      if (w !== null) {
        if (range === null) {
          this.nFailures++
          out.push({ type: "fail", reqId: w.reqId, reason: "NoSuchPartition" })
        } else if (range.entry.epoch <= w.staleEpoch) this.retry(now, w, out)
        else out.push({ type: "answer", reqId: w.reqId, range, fromCache: false })
      }
    }
    this.pump(now, out)
    return out
  }

  /** Abandons lookups older than the timeout, retrying the misses that wait on them. */
  tick(now: number): CacheOutput[] {
    const out: CacheOutput[] = []
    this.inFlight.forEachOldest((id, f) => {
      if (now - f.sentMs < this.timeoutMs) return true
      this.inFlight.delete(id)
      this.nTimeouts++
      if (f.waiter !== null) this.retry(now, f.waiter, out)
      return true
    })
    this.pump(now, out)
    return out
  }

  /** Drops every cached range (the cold-cache event the constant-work design is immune to). */
  flush(): void {
    this.tables.clear()
    this.age.clear()
  }

  /** Number of cached ranges. */
  get cachedRanges(): number {
    return this.age.size
  }

  /** The ranges cached for a table, in key order (for inspection and tests). */
  cached(tableId: string): ReadonlyArray<RouteRange> {
    return (this.tables.get(tableId) ?? []).map((c) => c.range)
  }

  /** Current counters. */
  metrics(): CacheMetrics {
    return {
      requests: this.nRequests,
      hits: this.nHits,
      misses: this.nMisses,
      memdsLookups: this.nLookups,
      lookupsPerRequest: this.nRequests === 0 ? 0 : this.nLookups / this.nRequests,
      hitRate: this.nRequests === 0 ? 0 : this.nHits / this.nRequests,
      outstanding: this.inFlight.size,
      outstandingMax: this.nOutstandingMax,
      stalenessDetected: this.nStale,
      refreshesSkipped: this.nSkipped,
      olderRepliesRejected: this.nOlder,
      retries: this.nRetries,
      timeouts: this.nTimeouts,
      failures: this.nFailures,
      highestVersionSeen: this.seenVersion,
    }
  }

  /** Zeroes the counters (not the cache): for measuring one phase of an experiment. */
  resetMetrics(): void {
    this.nRequests = this.nHits = this.nMisses = this.nLookups = 0
    this.nStale = this.nSkipped = this.nOlder = this.nRetries = this.nTimeouts = this.nFailures = 0
    this.nOutstandingMax = this.inFlight.size
  }

  // ---------- machinery ----------

  private wait(now: number, w: Waiter, out: CacheOutput[]): void {
    if (this.inFlight.size < this.inFlightMax) this.send(now, w.tableId, w.key, w, out)
    else if (this.queue.length < this.waitersMax) this.queue.push(w)
    else {
      this.nFailures++
      out.push({ type: "fail", reqId: w.reqId, reason: "RoutingUnavailable" })
    }
  }

  private retry(now: number, w: Waiter, out: CacheOutput[]): void {
    if (w.attempts >= this.retriesMax) {
      this.nFailures++
      out.push({ type: "fail", reqId: w.reqId, reason: "RoutingUnavailable" })
      return
    }
    w.attempts++
    this.nRetries++
    this.wait(now, w, out)
  }

  /** Sends queued misses while lookup slots are free. */
  private pump(now: number, out: CacheOutput[]): void {
    while (this.queue.length > 0 && this.inFlight.size < this.inFlightMax) {
      const w = this.queue.shift()!
      this.send(now, w.tableId, w.key, w, out)
    }
  }

  private send(
    now: number,
    tableId: string,
    key: Uint8Array,
    waiter: Waiter | null,
    out: CacheOutput[],
  ): void {
    const id = this.nextLookupId++
    // a retry goes to the next node: the last one was behind, slow or gone
    const to = this.nodes[this.nodeCursor++ % this.nodes.length]!
    this.inFlight.set(id, { tableId, key, sentMs: now, waiter })
    if (this.inFlight.size > this.nOutstandingMax) this.nOutstandingMax = this.inFlight.size
    this.nLookups++
    out.push({ type: "send", to, msg: { type: "lookup", id, key, minVersion: this.seenVersion } })
  }

  /** Index of the last cached range starting at or before key, or -1. */
  private floorIndex(list: CachedRange[], key: Uint8Array): number {
    let lo = 0
    let hi = list.length - 1
    let i = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (compareBytes(list[mid]!.start, key) <= 0) {
        i = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return i
  }

  private local(now: number, tableId: string, key: Uint8Array): CachedRange | undefined {
    const list = this.tables.get(tableId)
    if (list === undefined) return undefined
    const i = this.floorIndex(list, key)
    if (i < 0) return undefined
    const c = list[i]!
    if (c.end !== null && compareBytes(key, c.end) >= 0) return undefined
    if (now - c.fetchedMs >= this.ttlMs) return undefined
    return c
  }

  private drop(tableId: string, key: Uint8Array): void {
    const list = this.tables.get(tableId)
    if (list === undefined) return
    const i = this.floorIndex(list, key)
    if (i < 0) return
    const c = list[i]!
    if (c.end !== null && compareBytes(key, c.end) >= 0) return
    list.splice(i, 1)
    this.age.delete(c)
  }

  /** Caches a range, replacing any cached ranges it overlaps (it is at least as new). */
  private install(now: number, tableId: string, range: RouteRange): void {
    let list = this.tables.get(tableId)
    if (list === undefined) {
      list = []
      this.tables.set(tableId, list)
    }
    const start = range.start
    const end = range.end
    let i = this.floorIndex(list, start)
    const prev = i >= 0 ? list[i]! : undefined
    if (prev !== undefined && compareBytes(prev.start, start) === 0 && sameEnd(prev.end, end)) {
      prev.range = range
      prev.fetchedMs = now
      // Marked, not moved to the back of `age`: under constant work every request refreshes its
      // range, and a Set delete + add per request cost more than the rest of the install.
      prev.used = true
      return
    }
    // remove overlaps: a predecessor reaching past start, and successors starting before end
    if (prev !== undefined && (prev.end === null || compareBytes(prev.end, start) > 0)) {
      list.splice(i, 1)
      this.age.delete(prev)
      i--
    }
    const j = i + 1
    while (j < list.length && (end === null || compareBytes(list[j]!.start, end) < 0)) {
      this.age.delete(list[j]!)
      list.splice(j, 1)
    }
    const c: CachedRange = { tableId, start, end, range, fetchedMs: now, used: false }
    list.splice(i + 1, 0, c)
    this.age.add(c)
    while (this.age.size > this.entriesMax) {
      const oldest = this.age.values().next().value!
      this.age.delete(oldest)
      if (oldest.used) {
        // refreshed since it was last passed over: keep it, at the back
        oldest.used = false
        this.age.add(oldest)
        continue
      }
      const l = this.tables.get(oldest.tableId)
      if (l !== undefined) {
        const k = this.floorIndex(l, oldest.start)
        if (k >= 0 && l[k] === oldest) l.splice(k, 1)
      }
    }
  }
}

const sameEnd = (a: Uint8Array | null, b: Uint8Array | null): boolean =>
  a === null || b === null ? a === b : compareBytes(a, b) === 0
