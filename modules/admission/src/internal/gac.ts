import {
  GAC_GRANT_VALID_MS,
  GAC_REPLENISH_INTERVAL_MS,
  GAC_REQUEST_TIMEOUT_MS,
  GAC_RING_VNODES,
  GAC_ROUTER_ACTIVE_MS,
  GAC_ROUTERS_PER_BUCKET_MAX,
  GAC_SWEEP_EVERY_REPORTS,
  GAC_WARMUP_MS,
  GAC_DEGRADED_PERMILLE,
  MILLI_PER_UNIT,
  ROUTER_BUCKET_CAPACITY_MS,
} from "./constants.ts"
import { TokenBucket } from "./TokenBucket.ts"

// ---------------------------------------------------------------------------------------------
// Messages

/** Router → GAC: what the router consumed and wanted for one table bucket since its last report. */
export interface GacReport {
  readonly _tag: "GacReport"
  readonly routerId: string
  /** GAC bucket key: table id and capacity kind, e.g. "orders/r". */
  readonly bucket: string
  /** The table's provisioned rate, milli-units/s (routers know it from metadata; GAC keeps no config). */
  readonly provisionedMilliPerSec: number
  /** Demand over the window (admitted + throttled by the router bucket), milli-units/s. */
  readonly demandMilliPerSec: number
  /** Rate the router holds now, milli-units/s (lets a restarted GAC server keep admitted traffic steady). */
  readonly heldMilliPerSec: number
  /** Routers the router last heard of for this bucket. */
  readonly knownRouters: number
  readonly seq: number
}

/** GAC → router: time-limited tokens, as a rate valid for `validForMs` after receipt. */
export interface GacGrant {
  readonly _tag: "GacGrant"
  readonly routerId: string
  readonly bucket: string
  readonly rateMilliPerSec: number
  readonly validForMs: number
  readonly activeRouters: number
  readonly seq: number
}

/** A message addressed to a GAC server. */
export interface GacOutbound {
  readonly to: string
  readonly report: GacReport
}

// ---------------------------------------------------------------------------------------------
// Hash ring

/** FNV-1a 32-bit with a murmur3 finaliser: a stable string hash for ring positions. */
export function hash32(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** GAC servers on a consistent-hash ring; a table bucket is owned by the first server clockwise. */
export class GacRing {
  private readonly points: number[] = []
  private readonly owners: string[] = []
  readonly servers: ReadonlyArray<string>

  constructor(servers: ReadonlyArray<string>, vnodes = GAC_RING_VNODES) {
    if (servers.length === 0) throw new RangeError("GacRing needs at least one server")
    this.servers = [...servers]
    const pts: Array<[number, string]> = []
    for (const s of servers) for (let v = 0; v < vnodes; v++) pts.push([hash32(`${s}#${v}`), s])
    pts.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
    for (const [p, s] of pts) {
      this.points.push(p)
      this.owners.push(s)
    }
  }

  /** Distinct servers in ring order from the bucket's position: owner first, then fail-over order. */
  preference(bucket: string): string[] {
    const h = hash32(bucket)
    let lo = 0
    let hi = this.points.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.points[mid]! < h) lo = mid + 1
      else hi = mid
    }
    const out: string[] = []
    for (let i = 0; i < this.points.length && out.length < this.servers.length; i++) {
      const s = this.owners[(lo + i) % this.points.length]!
      if (!out.includes(s)) out.push(s)
    }
    return out
  }
}

// ---------------------------------------------------------------------------------------------
// GAC server core

/** Tunables shared by GAC servers and routers. */
export interface GacOptions {
  readonly replenishIntervalMs: number
  readonly grantValidMs: number
  readonly routerActiveMs: number
  readonly warmupMs: number
  readonly requestTimeoutMs: number
  readonly routerBucketCapacityMs: number
}

/** The defaults from constants.ts. */
export const defaultGacOptions: GacOptions = {
  replenishIntervalMs: GAC_REPLENISH_INTERVAL_MS,
  grantValidMs: GAC_GRANT_VALID_MS,
  routerActiveMs: GAC_ROUTER_ACTIVE_MS,
  warmupMs: GAC_WARMUP_MS,
  requestTimeoutMs: GAC_REQUEST_TIMEOUT_MS,
  routerBucketCapacityMs: ROUTER_BUCKET_CAPACITY_MS,
}

interface RouterEntry {
  demand: number
  lastMs: number
  /** The rate last granted to this router, milli-units/s. */
  granted: number
}

interface ServerBucket {
  readonly createdMs: number
  readonly routers: Map<string, RouterEntry>
}

/**
 * One GAC server: a pure function of the reports it has seen recently. It keeps no configuration
 * and nothing durable, so a restart (a fresh instance) only loses what the next round of reports
 * rebuilds; during warm-up it grants each router the rate it already holds.
 */
export class GacServerCore {
  private readonly buckets = new Map<string, ServerBucket>()
  /** Reports handled and grants issued since start. */
  readonly stats = { reports: 0, grants: 0 }

  private readonly owned = new Map<string, boolean>()

  /** `ring` (optional) tells the server which buckets it owns; without it, it owns every bucket. */
  constructor(
    readonly serverId: string,
    readonly startedMs: number,
    readonly options: GacOptions = defaultGacOptions,
    readonly ring?: GacRing,
  ) {}

  private owns(bucket: string): boolean {
    if (this.ring === undefined) return true
    let o = this.owned.get(bucket)
    if (o === undefined) {
      o = this.ring.preference(bucket)[0] === this.serverId
      this.owned.set(bucket, o)
    }
    return o
  }

  /** Handles one report and answers with the router's grant. */
  onReport(r: GacReport, nowMs: number): GacGrant {
    this.stats.reports++
    if (this.stats.reports % GAC_SWEEP_EVERY_REPORTS === 0) this.sweep(nowMs)
    let b = this.buckets.get(r.bucket)
    if (b === undefined) {
      b = { createdMs: nowMs, routers: new Map() }
      this.buckets.set(r.bucket, b)
    }
    let e = b.routers.get(r.routerId)
    if (e === undefined) {
      if (b.routers.size >= GAC_ROUTERS_PER_BUCKET_MAX) this.prune(b, nowMs)
      e = { demand: 0, lastMs: nowMs, granted: r.heldMilliPerSec }
      b.routers.set(r.routerId, e)
    }
    e.demand = r.demandMilliPerSec
    e.lastMs = nowMs
    this.prune(b, nowMs)
    const R = r.provisionedMilliPerSec
    const n = b.routers.size
    let rate: number
    // Uninformed: a fresh bucket (new table, restart) has not heard from every router yet, and a
    // fail-over server only hears from the few routers that could not reach the owner. Both keep
    // each router at the rate it already holds, so admitted traffic does not move.
    const age = nowMs - Math.max(b.createdMs, this.startedMs)
    const warm = age < this.options.warmupMs || !this.owns(r.bucket)
    if (warm) {
      // Ephemeral state: we do not yet know the other routers, so keep what this one holds.
      rate =
        r.heldMilliPerSec > 0 ? Math.min(r.heldMilliPerSec, R) : Math.floor(R / Math.max(1, r.knownRouters))
    } else {
      // Never promise more than what the other routers' live grants leave of R: grants computed
      // from stale demands would otherwise add up to more than the table's rate. But never less
      // than half of min(share, R/n) either, so a newcomer is not starved while the others shrink.
      let others = 0
      for (const [id, o] of b.routers) if (id !== r.routerId) others += o.granted
      const fair = share(b, r.routerId, R)
      const floor = Math.floor(Math.min(fair, R / n) / 2)
      rate = Math.min(fair, Math.max(floor, R - others))
    }
    e.granted = rate
    this.stats.grants++
    return {
      _tag: "GacGrant",
      routerId: r.routerId,
      bucket: r.bucket,
      rateMilliPerSec: rate,
      validForMs: this.options.grantValidMs,
      activeRouters: warm ? r.knownRouters : n,
      seq: r.seq,
    }
  }

  /** Forgets silent routers everywhere and buckets nobody reports to (bounded memory). */
  sweep(nowMs: number): void {
    for (const [key, b] of this.buckets) {
      this.prune(b, nowMs)
      if (b.routers.size === 0) this.buckets.delete(key)
    }
  }

  /** Table buckets currently tracked. */
  get bucketCount(): number {
    return this.buckets.size
  }

  /** Routers currently tracked for a bucket (for tests and metrics). */
  activeRouters(bucket: string): number {
    return this.buckets.get(bucket)?.routers.size ?? 0
  }

  private prune(b: ServerBucket, nowMs: number): void {
    // A silent router keeps counting until its last grant has expired: it may still be using it.
    const keepMs = Math.max(this.options.routerActiveMs, this.options.grantValidMs)
    for (const [id, e] of b.routers) if (nowMs - e.lastMs > keepMs) b.routers.delete(id)
  }
}

/**
 * The router's share of rate R: its demand plus an equal part of the headroom when the table is
 * under R; otherwise a max-min fair (water-filling) share, so a small router always gets its demand
 * up to R/n and no router with demand starves.
 */
function share(b: ServerBucket, routerId: string, R: number): number {
  const me = b.routers.get(routerId)!
  let D = 0
  for (const e of b.routers.values()) D += e.demand
  const n = b.routers.size
  if (D <= R) return me.demand + Math.floor((R - D) / n)
  const demands: number[] = []
  for (const e of b.routers.values()) demands.push(e.demand)
  demands.sort((x, y) => x - y)
  let remaining = R
  let k = n
  for (const d of demands) {
    const level = remaining / k
    if (d > level) return Math.floor(Math.min(me.demand, level))
    remaining -= d
    k--
  }
  return me.demand
}

// ---------------------------------------------------------------------------------------------
// Router side

/** The router's state for one table bucket (table id + kind). */
export interface RouterSlot {
  readonly bucketKey: string
  readonly provisionedMilliPerSec: number
  readonly preference: ReadonlyArray<string>
  readonly bucket: TokenBucket
  grantMilliPerSec: number
  expiresMs: number
  /** True once the last grant expired and the bucket fell back to the conservative rate. */
  degraded: boolean
  knownRouters: number
  windowStartMs: number
  admittedMilli: number
  throttledMilli: number
  nextReportMs: number
  seq: number
  /** The unanswered report, re-sent to the next server on the ring after a timeout. */
  pending: GacReport | null
  pendingSentMs: number
  attempt: number
  appliedSeq: number
  grants: number
}

/**
 * A request router's admission state: one local token bucket per table bucket, refilled at the
 * rate GAC grants. Pure: `tick` returns the reports to send, `onGrant` applies an answer.
 * When grants stop (GAC unreachable) the router keeps its rate until the grant expires, then falls
 * back to `min(last grant, provisioned / known routers)`, which keeps the table at or under its rate.
 */
export class RouterAdmissionCore {
  readonly slots: RouterSlot[] = []
  private readonly byKey = new Map<string, number>()

  constructor(
    readonly routerId: string,
    readonly ring: GacRing,
    readonly options: GacOptions = defaultGacOptions,
  ) {}

  /**
   * Registers a table bucket and returns its slot number; starts at `provisioned / routerHint`.
   * The first report goes out at `firstReportMs` (default now; routers may stagger their reports).
   */
  addBucket(
    bucketKey: string,
    provisionedMilliPerSec: number,
    nowMs: number,
    routerHint = 1,
    firstReportMs = nowMs,
  ): number {
    const existing = this.byKey.get(bucketKey)
    if (existing !== undefined) return existing
    const start = Math.floor(provisionedMilliPerSec / Math.max(1, routerHint))
    const slot: RouterSlot = {
      bucketKey,
      provisionedMilliPerSec,
      preference: this.ring.preference(bucketKey),
      bucket: new TokenBucket(start, this.capacityFor(start), nowMs),
      grantMilliPerSec: start,
      expiresMs: nowMs + this.options.grantValidMs,
      degraded: false,
      knownRouters: Math.max(1, routerHint),
      windowStartMs: nowMs,
      admittedMilli: 0,
      throttledMilli: 0,
      nextReportMs: firstReportMs,
      seq: 0,
      pending: null,
      pendingSentMs: 0,
      attempt: 0,
      appliedSeq: 0,
      grants: 0,
    }
    this.slots.push(slot)
    this.byKey.set(bucketKey, this.slots.length - 1)
    return this.slots.length - 1
  }

  /** Slot number of a registered bucket. */
  slotOf(bucketKey: string): number | undefined {
    return this.byKey.get(bucketKey)
  }

  /** True if the slot's bucket can admit `n` milli-units at `now` (changes nothing but expiry). */
  canTake(slot: number, n: number, nowMs: number): boolean {
    const s = this.slots[slot]!
    if (nowMs > s.expiresMs && !s.degraded) this.degrade(s, nowMs)
    // A request larger than the bucket can ever hold is admitted from a full bucket and leaves it in
    // debt, so small grants never starve large items; otherwise the bucket must hold all of it.
    const b = s.bucket
    const a = b.available(nowMs)
    return a > 0 && a >= Math.min(n, b.capacityMilli)
  }

  /** Takes `n` after a successful `canTake` and counts it as consumption. */
  take(slot: number, n: number, nowMs: number): void {
    const s = this.slots[slot]!
    s.bucket.charge(n, nowMs)
    s.admittedMilli += n
  }

  /** Counts a request the router bucket refused (it is part of the demand GAC sees). */
  noteThrottled(slot: number, n: number): void {
    this.slots[slot]!.throttledMilli += n
  }

  /** Reports due at `now`: periodic ones, and re-sends of unanswered ones to the next server. */
  tick(nowMs: number): GacOutbound[] {
    const out: GacOutbound[] = []
    for (const s of this.slots) {
      if (nowMs > s.expiresMs && !s.degraded) this.degrade(s, nowMs)
      if (s.pending !== null && nowMs - s.pendingSentMs >= this.options.requestTimeoutMs) {
        s.attempt++
        s.pendingSentMs = nowMs
        // Retry the owner once (a lost message is likelier than a dead server), then fail over.
        out.push({ to: s.preference[(s.attempt >> 1) % s.preference.length]!, report: s.pending })
      }
      if (nowMs < s.nextReportMs) continue
      const spanMs = Math.max(1, nowMs - s.windowStartMs)
      s.seq++
      s.pending = {
        _tag: "GacReport",
        routerId: this.routerId,
        bucket: s.bucketKey,
        provisionedMilliPerSec: s.provisionedMilliPerSec,
        demandMilliPerSec: Math.floor(((s.admittedMilli + s.throttledMilli) * MILLI_PER_UNIT) / spanMs),
        heldMilliPerSec: s.bucket.rateMilliPerSec,
        knownRouters: s.knownRouters,
        seq: s.seq,
      }
      s.pendingSentMs = nowMs
      s.attempt = 0
      s.nextReportMs = nowMs + this.options.replenishIntervalMs
      s.windowStartMs = nowMs
      s.admittedMilli = 0
      s.throttledMilli = 0
      out.push({ to: s.preference[0]!, report: s.pending })
    }
    return out
  }

  /** Applies a grant (late or duplicate grants older than the newest applied one are ignored). */
  onGrant(g: GacGrant, nowMs: number): boolean {
    const i = this.byKey.get(g.bucket)
    if (i === undefined) return false
    const s = this.slots[i]!
    if (g.seq <= s.appliedSeq) return false
    s.appliedSeq = g.seq
    if (s.pending !== null && g.seq >= s.pending.seq) s.pending = null
    s.grantMilliPerSec = g.rateMilliPerSec
    s.expiresMs = nowMs + g.validForMs
    s.degraded = false
    s.knownRouters = Math.max(1, g.activeRouters)
    s.bucket.setRate(g.rateMilliPerSec, this.capacityFor(g.rateMilliPerSec), nowMs)
    s.grants++
    return true
  }

  /** The rate this router may use for a slot at present, milli-units/s. */
  rateOf(slot: number): number {
    return this.slots[slot]!.bucket.rateMilliPerSec
  }

  private degrade(s: RouterSlot, nowMs: number): void {
    // GAC stops counting us once the grant has expired, so we fall to half our fair share at most:
    // the table can exceed its rate by at most R / (2n) per router cut off from GAC.
    const fair = Math.floor(s.provisionedMilliPerSec / Math.max(1, s.knownRouters))
    const rate = Math.floor((Math.min(s.grantMilliPerSec, fair) * GAC_DEGRADED_PERMILLE) / 1000)
    s.degraded = true
    s.bucket.setRate(rate, this.capacityFor(rate), nowMs)
  }

  private capacityFor(rate: number): number {
    return Math.floor((rate * this.options.routerBucketCapacityMs) / MILLI_PER_UNIT)
  }
}
