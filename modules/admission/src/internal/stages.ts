import { type AdaptivePartition, adaptiveControl } from "./adaptive.ts"
import { BurstBucket } from "./BurstBucket.ts"
import {
  ADAPTIVE_GAIN_PERMILLE,
  ADAPTIVE_INTERVAL_MS,
  MILLI_PER_UNIT,
  NODE_BUCKET_CAPACITY_MS,
  ON_DEMAND_INITIAL_RRU,
  ON_DEMAND_INITIAL_WRU,
  ON_DEMAND_PEAK_MULTIPLE,
  ON_DEMAND_WINDOW_MS,
  PARTITION_BUCKET_CAPACITY_MS,
  PARTITION_MAX_RCU,
  PARTITION_MAX_WCU,
  PEER_CAPACITY_COLLECT_INTERVAL_MS,
} from "./constants.ts"
import { type GacOptions, GacRing, GacServerCore, RouterAdmissionCore, defaultGacOptions } from "./gac.ts"
import { type AdmissionMetrics, type KindCounters, counters } from "./metrics.ts"
import { TokenBucket } from "./TokenBucket.ts"
import { type Compiled, type Kind, READ, type Topology, WRITE, compile } from "./topology.ts"

/** Outcome of one admission decision: a small integer, so the hot path allocates nothing. */
export type Decision = 0 | 1 | 2 | 3 | 4
/** Admitted within the allocation (or the router's GAC tokens). */
export const ADMITTED: Decision = 0
/** Admitted from burst credit. */
export const ADMITTED_BURST: Decision = 1
/** Throttled at table level (GAC router bucket, on-demand allowance). */
export const THROTTLED_TABLE: Decision = 2
/** Throttled by the partition's bucket (allocation and burst exhausted, or partition maximum). */
export const THROTTLED_PARTITION: Decision = 3
/** Throttled because the node (or a replica's node) had no spare capacity for a burst. */
export const THROTTLED_NODE: Decision = 4

/** True for the two admitted decisions. */
export function isAdmitted(d: Decision): boolean {
  return d <= ADMITTED_BURST
}

/** Names of the switchable stages, in historical order. */
export type StageName = "static" | "burst" | "adaptive" | "gac" | "on-demand"

/** A partition adaptive capacity boosted beyond what its node has room for. */
export interface MoveRequest {
  readonly partition: string
  readonly node: string
  readonly kind: "read" | "write"
  readonly wantedMilliPerSec: number
  readonly atMs: number
}

/** One admission policy over a topology: decide requests, run background work on `tick`. */
export interface AdmissionStage {
  readonly name: StageName
  readonly metrics: AdmissionMetrics
  /**
   * Decides one request of `costMilli` milli-units for partition `partition` (global index),
   * arriving through router `router`. Admitted requests take their tokens; throttled ones change
   * nothing but counters.
   */
  admit(router: number, partition: number, kind: Kind, costMilli: number, nowMs: number): Decision
  /**
   * Charges `costMilli` more to a request already admitted (charge-after: a Query or Scan whose size
   * is known only once read). Never refused; buckets may go into debt, and requests to an indebted
   * bucket are throttled until it has refilled.
   */
  charge(router: number, partition: number, kind: Kind, costMilli: number, nowMs: number): void
  /** Background work due at `now`: controllers, peer-capacity collection, GAC exchanges. */
  tick(nowMs: number): void
  /** Current allocation of a partition, milli-units/s (the partition bucket's rate). */
  allocation(partition: number, kind: Kind): number
}

/** Options shared by the stage factories. */
export interface StageOptions {
  readonly gac?: Partial<GacOptions>
  /** GAC server ids (default: three servers). */
  readonly gacServers?: ReadonlyArray<string>
  readonly adaptiveIntervalMs?: number
  readonly adaptiveGainPermille?: number
  readonly peerCollectIntervalMs?: number
  /** Initial burst credit per partition, in seconds of its allocation (default 0). */
  readonly initialBurstSeconds?: number
}

function partitionMaxMilli(kind: Kind): number {
  return (kind === READ ? PARTITION_MAX_RCU : PARTITION_MAX_WCU) * MILLI_PER_UNIT
}

function bucketCap(rate: number, ms: number): number {
  return Math.floor((rate * ms) / MILLI_PER_UNIT)
}

abstract class StageBase implements AdmissionStage {
  abstract readonly name: StageName
  readonly metrics: AdmissionMetrics
  protected readonly c: Compiled
  // Flat views of the counters for the hot path: [kind][index].
  protected readonly tableK: [KindCounters[], KindCounters[]]
  protected readonly partK: [KindCounters[], KindCounters[]]
  protected readonly nodeK: [KindCounters[], KindCounters[]]
  protected readonly routerK: [KindCounters[], KindCounters[]]

  constructor(topology: Topology) {
    this.c = compile(topology)
    const m: AdmissionMetrics = {
      tables: this.c.tableIds.map(counters),
      partitions: this.c.partitionIds.map(counters),
      nodes: this.c.nodeIds.map(counters),
      routers: topology.routers.map(counters),
    }
    this.metrics = m
    this.tableK = [m.tables.map((x) => x.read), m.tables.map((x) => x.write)]
    this.partK = [m.partitions.map((x) => x.read), m.partitions.map((x) => x.write)]
    this.nodeK = [m.nodes.map((x) => x.read), m.nodes.map((x) => x.write)]
    this.routerK = [m.routers.map((x) => x.read), m.routers.map((x) => x.write)]
  }

  abstract admit(router: number, partition: number, kind: Kind, costMilli: number, nowMs: number): Decision
  abstract charge(router: number, partition: number, kind: Kind, costMilli: number, nowMs: number): void
  abstract allocation(partition: number, kind: Kind): number
  tick(_nowMs: number): void {}

  protected countCharge(router: number, p: number, kind: Kind, n: number): void {
    this.tableK[kind][this.c.partitionTable[p]!]!.consumedMilli += n
    this.partK[kind][p]!.consumedMilli += n
    this.nodeK[kind][this.c.partitionLeader[p]!]!.consumedMilli += n
    const rc = this.routerK[kind][router]
    if (rc !== undefined) rc.consumedMilli += n
  }

  protected count(router: number, p: number, kind: Kind, n: number, d: Decision): Decision {
    const t = this.tableK[kind][this.c.partitionTable[p]!]!
    const pc = this.partK[kind][p]!
    const nc = this.nodeK[kind][this.c.partitionLeader[p]!]!
    const rc = this.routerK[kind][router]
    if (d <= ADMITTED_BURST) {
      t.admitted++
      t.consumedMilli += n
      pc.admitted++
      pc.consumedMilli += n
      nc.admitted++
      nc.consumedMilli += n
      if (rc !== undefined) {
        rc.admitted++
        rc.consumedMilli += n
      }
      if (d === ADMITTED_BURST) {
        t.burstMilli += n
        pc.burstMilli += n
        nc.burstMilli += n
      }
    } else {
      t.throttled++
      t.throttledMilli += n
      pc.throttled++
      pc.throttledMilli += n
      nc.throttled++
      nc.throttledMilli += n
      if (rc !== undefined) {
        rc.throttled++
        rc.throttledMilli += n
      }
    }
    return d
  }
}

// ---------------------------------------------------------------------------------------------

/** Stage 1: each partition may use only its allocated share (one bucket per partition and kind). */
export class StaticStage extends StageBase {
  readonly name: StageName = "static"
  protected readonly buckets: [TokenBucket[], TokenBucket[]]

  constructor(topology: Topology, nowMs = 0) {
    super(topology)
    const mk = (k: Kind) =>
      this.c.partitionAllocMilli[k].map(
        (r) => new TokenBucket(r, bucketCap(r, PARTITION_BUCKET_CAPACITY_MS), nowMs),
      )
    this.buckets = [mk(READ), mk(WRITE)]
  }

  admit(router: number, p: number, kind: Kind, n: number, nowMs: number): Decision {
    const ok = this.buckets[kind][p]!.tryTake(n, nowMs)
    return this.count(router, p, kind, n, ok ? ADMITTED : THROTTLED_PARTITION)
  }

  charge(router: number, p: number, kind: Kind, n: number, nowMs: number): void {
    this.buckets[kind][p]!.charge(n, nowMs)
    this.countCharge(router, p, kind, n)
  }

  allocation(p: number, kind: Kind): number {
    return this.buckets[kind][p]!.rateMilliPerSec
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Stage 2: bursting. Per partition an allocated bucket and a burst bucket (unused allocation,
 * up to 300 s of it); per node a node bucket. Within its allocation a request takes partition
 * tokens and is charged to the node; past it, the request needs burst credit *and* spare node
 * tokens, and a burst write also needs spare capacity on every other replica's node, as last
 * collected by the leader (collected every `PEER_CAPACITY_COLLECT_INTERVAL_MS`, and debited
 * locally by each burst write until the next collection).
 */
export class BurstStage extends StageBase {
  readonly name: StageName = "burst"
  protected readonly parts: [BurstBucket[], BurstBucket[]]
  protected readonly nodes: [TokenBucket[], TokenBucket[]]
  /** Leader's view of the smallest spare write capacity among each partition's peer nodes. */
  protected readonly peerSpareMilli: number[]
  private readonly collectMs: number
  private nextCollectMs: number

  constructor(topology: Topology, nowMs = 0, options: StageOptions = {}) {
    super(topology)
    const burst0 = options.initialBurstSeconds ?? 0
    const mkP = (k: Kind) =>
      this.c.partitionAllocMilli[k].map((r) => new BurstBucket(r, nowMs, Math.floor(r * burst0)))
    const mkN = (k: Kind) =>
      this.c.nodeRateMilli[k].map((r) => new TokenBucket(r, bucketCap(r, NODE_BUCKET_CAPACITY_MS), nowMs))
    this.parts = [mkP(READ), mkP(WRITE)]
    this.nodes = [mkN(READ), mkN(WRITE)]
    this.peerSpareMilli = this.c.partitionIds.map(() => 0)
    this.collectMs = options.peerCollectIntervalMs ?? PEER_CAPACITY_COLLECT_INTERVAL_MS
    this.nextCollectMs = nowMs
    this.collectPeers(nowMs)
  }

  admit(router: number, p: number, kind: Kind, n: number, nowMs: number): Decision {
    const b = this.parts[kind][p]!
    const node = this.nodes[kind][this.c.partitionLeader[p]!]!
    b.probe(nowMs)
    // In debt after a charge-after: refused until the allocation has refilled.
    if (b.pAlloc < 0) return this.count(router, p, kind, n, THROTTLED_PARTITION)
    if (b.pAlloc >= n) {
      b.commit()
      b.allocMilli -= n
      node.charge(n, nowMs)
      if (kind === WRITE) this.chargePeers(p, n, nowMs)
      return this.count(router, p, kind, n, ADMITTED)
    }
    if (b.pBurst < n) return this.count(router, p, kind, n, THROTTLED_PARTITION)
    const spare = node.available(nowMs)
    if (spare < n) return this.count(router, p, kind, n, THROTTLED_NODE)
    if (kind === WRITE && this.peerSpareMilli[p]! < n) return this.count(router, p, kind, n, THROTTLED_NODE)
    b.commit()
    b.burstMilli -= n
    node.charge(n, nowMs)
    if (kind === WRITE) {
      this.peerSpareMilli[p] = this.peerSpareMilli[p]! - n
      this.chargePeers(p, n, nowMs)
    }
    return this.count(router, p, kind, n, ADMITTED_BURST)
  }

  charge(router: number, p: number, kind: Kind, n: number, nowMs: number): void {
    const b = this.parts[kind][p]!
    b.probe(nowMs)
    b.commit()
    b.allocMilli -= n
    this.nodes[kind][this.c.partitionLeader[p]!]!.charge(n, nowMs)
    if (kind === WRITE) this.chargePeers(p, n, nowMs)
    this.countCharge(router, p, kind, n)
  }

  override tick(nowMs: number): void {
    if (nowMs >= this.nextCollectMs) this.collectPeers(nowMs)
  }

  allocation(p: number, kind: Kind): number {
    return this.parts[kind][p]!.rateMilliPerSec
  }

  /** Burst credit a partition holds at `now`, milli-units. */
  burstCredit(p: number, kind: Kind, nowMs: number): number {
    const b = this.parts[kind][p]!
    b.probe(nowMs)
    return b.pBurst
  }

  private chargePeers(p: number, n: number, nowMs: number): void {
    // Replicas apply every write, so their nodes pay for it too.
    for (const peer of this.c.partitionPeers[p]!) this.nodes[WRITE][peer]!.charge(n, nowMs)
  }

  private collectPeers(nowMs: number): void {
    this.nextCollectMs = nowMs + this.collectMs
    for (let p = 0; p < this.peerSpareMilli.length; p++) {
      let spare = Number.POSITIVE_INFINITY
      for (const peer of this.c.partitionPeers[p]!)
        spare = Math.min(spare, this.nodes[WRITE][peer]!.available(nowMs))
      this.peerSpareMilli[p] = spare === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : spare
    }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Stage 3: bursting plus adaptive capacity. Every `ADAPTIVE_INTERVAL_MS` a proportional controller
 * looks at each table: if it throttled while consuming less than provisioned, each throttled
 * partition's allocation grows by gain × its throttled rate, bounded by the partition maximum, the
 * table's rate and the room left on its node (a boost that does not fit is reported as a move);
 * if the table consumed more than provisioned, boosted partitions shrink back toward their base.
 */
export class AdaptiveStage extends BurstStage {
  override readonly name: StageName = "adaptive"
  readonly moves: MoveRequest[] = []
  private readonly base: [number[], number[]]
  private readonly prevConsumed: [number[], number[]]
  private readonly prevThrottled: [number[], number[]]
  private readonly intervalMs: number
  private readonly gainPermille: number
  private nextRunMs: number
  private lastRunMs: number

  constructor(topology: Topology, nowMs = 0, options: StageOptions = {}) {
    super(topology, nowMs, options)
    this.base = [[...this.c.partitionAllocMilli[READ]], [...this.c.partitionAllocMilli[WRITE]]]
    this.prevConsumed = [this.c.partitionIds.map(() => 0), this.c.partitionIds.map(() => 0)]
    this.prevThrottled = [this.c.partitionIds.map(() => 0), this.c.partitionIds.map(() => 0)]
    this.intervalMs = options.adaptiveIntervalMs ?? ADAPTIVE_INTERVAL_MS
    this.gainPermille = options.adaptiveGainPermille ?? ADAPTIVE_GAIN_PERMILLE
    this.nextRunMs = nowMs + this.intervalMs
    this.lastRunMs = nowMs
  }

  override tick(nowMs: number): void {
    super.tick(nowMs)
    if (nowMs < this.nextRunMs) return
    const windowMs = Math.max(1, nowMs - this.lastRunMs)
    this.lastRunMs = nowMs
    this.nextRunMs = nowMs + this.intervalMs
    for (let t = 0; t < this.c.tableIds.length; t++) {
      this.control(t, READ, windowMs, nowMs)
      this.control(t, WRITE, windowMs, nowMs)
    }
  }

  private control(t: number, kind: Kind, windowMs: number, nowMs: number): void {
    const parts = this.c.tablePartitions[t]!
    const input: AdaptivePartition[] = parts.map((p) => {
      const pc = this.partK[kind][p]!
      const x: AdaptivePartition = {
        baseMilliPerSec: this.base[kind][p]!,
        allocationMilliPerSec: this.allocation(p, kind),
        consumedMilli: pc.consumedMilli - this.prevConsumed[kind][p]!,
        throttledMilli: pc.throttledMilli - this.prevThrottled[kind][p]!,
        node: this.c.partitionLeader[p]!,
      }
      this.prevConsumed[kind][p] = pc.consumedMilli
      this.prevThrottled[kind][p] = pc.throttledMilli
      return x
    })
    // Spare rate per node: its rate less the allocations of the partitions it leads.
    const room = this.c.nodeIds.map((_, n) => {
      let used = 0
      for (let q = 0; q < this.c.partitionIds.length; q++)
        if (this.c.partitionLeader[q] === n) used += this.allocation(q, kind)
      return this.c.nodeRateMilli[kind][n]! - used
    })
    const d = adaptiveControl(
      input,
      this.c.tableRateMilli[kind][t]!,
      windowMs,
      partitionMaxMilli(kind),
      room,
      this.gainPermille,
    )
    parts.forEach((p, i) => {
      const next = d.allocationMilliPerSec[i]!
      if (next !== this.allocation(p, kind)) this.parts[kind][p]!.setRate(next, nowMs)
    })
    for (const m of d.moves) {
      const p = parts[m.partition]!
      this.moves.push({
        partition: this.c.partitionIds[p]!,
        node: this.c.nodeIds[this.c.partitionLeader[p]!]!,
        kind: kind === READ ? "read" : "write",
        wantedMilliPerSec: m.wantedMilliPerSec,
        atMs: nowMs,
      })
    }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Stage 4: global admission control. Each router holds a local bucket per table and kind, refilled
 * at the rate an in-process GAC ring grants every replenish interval; behind it each partition has a
 * bucket at the partition maximum (3,000 RCU / 1,000 WCU), so a partition may always burst up to
 * the maximum. A request must pass both; a refused one takes nothing from either.
 */
export class GacStage extends StageBase {
  readonly name: StageName = "gac"
  readonly ring: GacRing
  readonly servers = new Map<string, GacServerCore>()
  readonly down = new Set<string>()
  readonly routers: RouterAdmissionCore[]
  protected readonly parts: [TokenBucket[], TokenBucket[]]
  private readonly opts: GacOptions

  constructor(topology: Topology, nowMs = 0, options: StageOptions = {}) {
    super(topology)
    this.opts = { ...defaultGacOptions, ...options.gac }
    const ids = options.gacServers ?? ["gac-0", "gac-1", "gac-2"]
    this.ring = new GacRing(ids)
    for (const id of ids)
      this.servers.set(id, new GacServerCore(id, nowMs - this.opts.warmupMs, this.opts, this.ring))
    const nRouters = Math.max(1, topology.routers.length)
    this.routers = topology.routers.map((r) => {
      const core = new RouterAdmissionCore(r, this.ring, this.opts)
      this.c.tableIds.forEach((t, ti) => {
        core.addBucket(`${t}/r`, this.c.tableRateMilli[READ][ti]!, nowMs, nRouters)
        core.addBucket(`${t}/w`, this.c.tableRateMilli[WRITE][ti]!, nowMs, nRouters)
      })
      return core
    })
    const mk = (k: Kind) =>
      this.c.partitionIds.map(() => {
        const r = partitionMaxMilli(k)
        return new TokenBucket(r, bucketCap(r, PARTITION_BUCKET_CAPACITY_MS), nowMs)
      })
    this.parts = [mk(READ), mk(WRITE)]
  }

  admit(router: number, p: number, kind: Kind, n: number, nowMs: number): Decision {
    const r = this.routers[router]!
    const slot = this.c.partitionTable[p]! * 2 + kind
    if (!r.canTake(slot, n, nowMs)) {
      r.noteThrottled(slot, n)
      return this.count(router, p, kind, n, THROTTLED_TABLE)
    }
    const pb = this.parts[kind][p]!
    if (!pb.tryTake(n, nowMs)) return this.count(router, p, kind, n, THROTTLED_PARTITION)
    r.take(slot, n, nowMs)
    return this.count(router, p, kind, n, ADMITTED)
  }

  charge(router: number, p: number, kind: Kind, n: number, nowMs: number): void {
    this.routers[router]!.take(this.c.partitionTable[p]! * 2 + kind, n, nowMs)
    this.parts[kind][p]!.charge(n, nowMs)
    this.countCharge(router, p, kind, n)
  }

  /** Exchanges reports and grants with the in-process GAC servers (synchronously, no loss). */
  override tick(nowMs: number): void {
    this.routers.forEach((r, ri) => {
      for (const o of r.tick(nowMs)) {
        const server = this.servers.get(o.to)
        if (server === undefined || this.down.has(o.to)) continue
        const g = server.onReport(o.report, nowMs)
        if (r.onGrant(g, nowMs)) {
          const k = o.report.bucket.endsWith("/r") ? READ : WRITE
          this.routerK[k][ri]!.gacGrants++
          const ti = this.c.tableIds.indexOf(o.report.bucket.slice(0, -2))
          if (ti >= 0) this.tableK[k][ti]!.gacGrants++
        }
      }
    })
  }

  /** Replaces a GAC server by a fresh instance (its ephemeral state is lost). */
  restartServer(id: string, nowMs: number): void {
    this.servers.set(id, new GacServerCore(id, nowMs, this.opts, this.ring))
  }

  allocation(p: number, kind: Kind): number {
    return this.parts[kind][p]!.rateMilliPerSec
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Stage 5: on-demand. No provisioned rate: every table's allowance is twice its previous peak
 * (measured over `ON_DEMAND_WINDOW_MS` windows; the first "previous peak" is half the initial
 * 12,000 RRU / 4,000 WRU, or the table's configured units if set), available at once, and it grows
 * with every new peak. Partitions keep buckets at the partition maximum.
 */
export class OnDemandStage extends StageBase {
  readonly name: StageName = "on-demand"
  private readonly tables: [TokenBucket[], TokenBucket[]]
  private readonly peakMilli: [number[], number[]]
  private readonly windowMilli: [number[], number[]]
  private readonly parts: [TokenBucket[], TokenBucket[]]
  private windowStartMs: number

  constructor(topology: Topology, nowMs = 0) {
    super(topology)
    const initial = (k: Kind) => (k === READ ? ON_DEMAND_INITIAL_RRU : ON_DEMAND_INITIAL_WRU) * MILLI_PER_UNIT
    const peak = (k: Kind) =>
      this.c.tableRateMilli[k].map((r) => (r > 0 ? r : Math.floor(initial(k) / ON_DEMAND_PEAK_MULTIPLE)))
    this.peakMilli = [peak(READ), peak(WRITE)]
    const mkT = (k: Kind) =>
      this.peakMilli[k].map((pk) => {
        const r = pk * ON_DEMAND_PEAK_MULTIPLE
        return new TokenBucket(r, bucketCap(r, ON_DEMAND_WINDOW_MS), nowMs)
      })
    this.tables = [mkT(READ), mkT(WRITE)]
    this.windowMilli = [this.c.tableIds.map(() => 0), this.c.tableIds.map(() => 0)]
    const mkP = (k: Kind) =>
      this.c.partitionIds.map(() => {
        const r = partitionMaxMilli(k)
        return new TokenBucket(r, bucketCap(r, PARTITION_BUCKET_CAPACITY_MS), nowMs)
      })
    this.parts = [mkP(READ), mkP(WRITE)]
    this.windowStartMs = nowMs
  }

  admit(router: number, p: number, kind: Kind, n: number, nowMs: number): Decision {
    if (nowMs >= this.windowStartMs + ON_DEMAND_WINDOW_MS) this.roll(nowMs)
    const t = this.c.partitionTable[p]!
    const tb = this.tables[kind][t]!
    if (tb.available(nowMs) < n) return this.count(router, p, kind, n, THROTTLED_TABLE)
    if (!this.parts[kind][p]!.tryTake(n, nowMs)) return this.count(router, p, kind, n, THROTTLED_PARTITION)
    tb.charge(n, nowMs)
    this.windowMilli[kind][t] = this.windowMilli[kind][t]! + n
    return this.count(router, p, kind, n, ADMITTED)
  }

  charge(router: number, p: number, kind: Kind, n: number, nowMs: number): void {
    const t = this.c.partitionTable[p]!
    this.tables[kind][t]!.charge(n, nowMs)
    this.parts[kind][p]!.charge(n, nowMs)
    this.windowMilli[kind][t] = this.windowMilli[kind][t]! + n
    this.countCharge(router, p, kind, n)
  }

  override tick(nowMs: number): void {
    if (nowMs >= this.windowStartMs + ON_DEMAND_WINDOW_MS) this.roll(nowMs)
  }

  /** The table's current allowance, milli-units/s (twice the previous peak). */
  allowance(table: number, kind: Kind): number {
    return this.tables[kind][table]!.rateMilliPerSec
  }

  allocation(p: number, kind: Kind): number {
    return this.parts[kind][p]!.rateMilliPerSec
  }

  private roll(nowMs: number): void {
    const elapsed = nowMs - this.windowStartMs
    for (const k of [READ, WRITE] as const) {
      for (let t = 0; t < this.c.tableIds.length; t++) {
        const rate = Math.floor(
          (this.windowMilli[k][t]! * MILLI_PER_UNIT) / Math.max(elapsed, ON_DEMAND_WINDOW_MS),
        )
        this.windowMilli[k][t] = 0
        if (rate > this.peakMilli[k][t]!) {
          this.peakMilli[k][t] = rate
          const r = rate * ON_DEMAND_PEAK_MULTIPLE
          this.tables[k][t]!.setRate(r, bucketCap(r, ON_DEMAND_WINDOW_MS), nowMs)
        }
      }
    }
    this.windowStartMs = nowMs
  }
}

/** Builds the named stage over a topology, starting at `now`. */
export function makeStage(
  name: StageName,
  topology: Topology,
  nowMs = 0,
  options: StageOptions = {},
): AdmissionStage {
  switch (name) {
    case "static":
      return new StaticStage(topology, nowMs)
    case "burst":
      return new BurstStage(topology, nowMs, options)
    case "adaptive":
      return new AdaptiveStage(topology, nowMs, options)
    case "gac":
      return new GacStage(topology, nowMs, options)
    case "on-demand":
      return new OnDemandStage(topology, nowMs)
  }
}
