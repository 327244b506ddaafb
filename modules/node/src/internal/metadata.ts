/**
 * The metadata service (DynamoDB's autoadmin + metadata tables, in one place): tables with key
 * schema and billing mode, their partition maps (`@partita/partitioner`), AZ-aware placement,
 * routing publication to MemDS, live splits (a fence through the parent's Paxos log), and failure
 * handling (a silent node's replicas are covered by log replicas).
 */
import {
  type AttributeDefinition,
  type CreateTableInput,
  type TableDescription,
  tableDescription,
} from "./model.ts"
import {
  LimitExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
  ValidationException,
} from "@partita/core"
import type { TableKeySchema } from "@partita/expressions"
import {
  allocationFor,
  type Boundary,
  type HashName,
  hashMidpoint,
  type Partition,
  PartitionMap,
  type PartitionMapData,
  placeAll,
  splitAt,
  splitForConsumption,
  splitForSize,
  type StorageNode as PlacementNode,
} from "@partita/partitioner"
import { isVoter, type Member } from "@partita/paxos"
import {
  ADAPTIVE_GAIN_PERMILLE,
  ADAPTIVE_INTERVAL_MS,
  type AdaptivePartition,
  adaptiveControl,
  MILLI_PER_UNIT,
  ON_DEMAND_INITIAL_RRU,
  ON_DEMAND_INITIAL_WRU,
  ON_DEMAND_PEAK_MULTIPLE,
  ON_DEMAND_WINDOW_MS,
  PARTITION_MAX_RCU,
  PARTITION_MAX_WCU,
} from "@partita/admission"
import type { ScrubEvent } from "@partita/scrubber"
import { Either } from "effect"
import type { SplitFence } from "./codec.ts"
import { boundaryKey, type Directory, routingEntry } from "./directory.ts"
import type { Runtime } from "./runtime.ts"
import type { Replica, ReplicaSpec } from "./replica.ts"
import type { StorageNode } from "./storageNode.ts"

/** Events kept by the metadata service. */
export const EVENTS_MAX = 10_000
/** A split fence not applied after this long is proposed again, ms. */
export const SPLIT_REPROPOSE_MS = 2000
/** Liveness probe period, ms. */
export const PING_MS = 250
/** A node silent this long is declared failed, ms. */
export const FAILURE_DETECT_MS_DEFAULT = 1500
/**
 * A node silent this long (it missed the last probes) is not given a new replica, even before it
 * is declared failed, ms: it may be cut off together with the replica being replaced, and adding
 * an unreachable member to a group makes its quorums harder to reach.
 */
export const HEAL_TARGET_SILENCE_MS_MAX = 3 * PING_MS
/** Default initial partitions of a new table. */
export const INITIAL_PARTITIONS_DEFAULT = 1
/** Most initial partitions a table may ask for (more come from splits). */
export const INITIAL_PARTITIONS_MAX = 256
/** Largest table name (DynamoDB: 255). */
export const TABLE_NAME_CHARS_MAX = 255

/** What routers need to know about a table. */
export interface TableInfo {
  readonly name: string
  readonly keySchema: TableKeySchema
  readonly hash: HashName
  readonly onDemand: boolean
  /**
   * The table's rate, units/s, as routers admit it: provisioned, or an on-demand table's current
   * allowance (twice its peak, `ON_DEMAND_PEAK_MULTIPLE`).
   */
  readonly provisioned: { readonly rcu: number; readonly wcu: number }
  /** Bumped when the rate changes (routers re-register their GAC buckets). */
  readonly version: number
}

/**
 * An on-demand table's allowance never exceeds this many units/s per kind (the largest rate a
 * router bucket holds); a table may set a lower maximum (`OnDemandThroughput`).
 */
export const ON_DEMAND_TABLE_UNITS_MAX = 1_000_000
/**
 * An on-demand table's allowance is raised once twice its new peak exceeds it by this much
 * (per-mille): each raise is a new GAC bucket, so small peaks above the last do not churn them.
 */
export const ON_DEMAND_RAISE_PERMILLE = 1100

interface TableState {
  info: TableInfo
  attributes: ReadonlyArray<AttributeDefinition>
  map: PartitionMap
  placement: Map<string, string[]>
  created: number
  /** On-demand: the highest rate consumed over a window so far, milli-units/s. */
  peak: { r: number; w: number }
  /** Consumed since the current on-demand window began, milli-units. */
  window: { r: number; w: number }
  /** On-demand: the most the allowance may reach, units/s. */
  max: { r: number; w: number }
}

/** What the storage replicas of one partition admitted and refused since the last adaptive run, milli-units. */
interface PartitionUsage {
  r: number
  w: number
  tr: number
  tw: number
}

/** A log replica that covers a failed storage replica. */
export interface HealEvent {
  readonly partitionId: string
  readonly failedNode: string
  logNode: string
  readonly detectedAt: number
  /** When the log replica had caught up (quorum restored), or undefined while pending. */
  coveredAt: number | undefined
  /** Node of the rebuilt storage replica, and when it had caught up and the log replica left. */
  storageNode: string | undefined
  rebuiltAt: number | undefined
}

/** Structured control-plane events (for logs and experiments). */
export type ClusterEvent =
  /** A scrubber finding (`scrub.ts`): `node` is the node whose scrubber reported it. */
  | { readonly type: "scrub"; readonly node: string; readonly event: ScrubEvent; readonly at: number }
  | {
      readonly type: "split"
      readonly table: string
      readonly parent: string
      readonly children: readonly [string, string]
      /** Why: sustained traffic, size, or a table rate its partitions could not carry (UpdateTable). */
      readonly reason: "size" | "consumption" | "throughput"
      readonly at: number
    }
  | { readonly type: "node-failed" | "node-recovered"; readonly node: string; readonly at: number }
  | { readonly type: "replica-lost"; readonly partition: string; readonly node: string; readonly at: number }
  | {
      readonly type: "log-replica-covered"
      readonly partition: string
      readonly failed: string
      readonly logNode: string
      readonly afterMs: number
      readonly at: number
    }
  | {
      readonly type: "storage-replica-rebuilt"
      readonly partition: string
      readonly node: string
      readonly afterMs: number
      readonly at: number
    }
  | {
      /**
       * Adaptive capacity wanted more for a partition than its leader's node has room for, and
       * moved its leadership to a member on a node that has it.
       */
      readonly type: "adaptive-move"
      readonly table: string
      readonly partition: string
      readonly kind: "read" | "write"
      readonly from: string
      readonly to: string
      readonly wantedMilliPerSec: number
      readonly at: number
    }
  | {
      /** Adaptive capacity changed a partition's allocation (milli-units/s). */
      readonly type: "adaptive-capacity"
      readonly table: string
      readonly partition: string
      readonly kind: "read" | "write"
      readonly fromMilliPerSec: number
      readonly toMilliPerSec: number
      readonly baseMilliPerSec: number
      readonly at: number
    }
  | {
      readonly type: "leader"
      readonly partition: string
      readonly node: string
      readonly leader: boolean
      readonly at: number
    }

/** Options of the metadata service. */
export interface MetadataOptions {
  /**
   * Receives the service's durable state (`exportState`, as JSON) after each change, to be kept
   * (`localClusterWithDataDir` writes it to a file, atomically, before going on).
   */
  readonly persist?: (state: string) => void
  readonly failureDetectMs?: number
  readonly nodeCapacity: { readonly bytes: number; readonly rcu: number; readonly wcu: number }
  /** Replace failed replicas with log replicas (default true). */
  readonly heal?: boolean
  /** Receives structured events. */
  readonly onEvent?: (e: ClusterEvent) => void
  /** Automatic splits: for consumption (sampled traffic over a window) and for size. */
  readonly autoSplit?: AutoSplitOptions
  /**
   * How provisioned tables' partitions are allocated: each at the partition maximum, the table's
   * rate enforced by GAC at the routers (`"partition-max"`, default), or the table's rate split
   * evenly over its partitions (`"even"`, DynamoDB before GAC: skew throttles a hot partition,
   * which adaptive capacity then boosts).
   */
  readonly partitionAllocation?: "partition-max" | "even"
  /** Adaptive capacity (`@partita/admission` `adaptiveControl`) over the partition buckets; `false`: off. */
  readonly adaptiveCapacity?: false | { readonly intervalMs?: number; readonly gainPermille?: number }
}

/** When the metadata service splits partitions on its own. */
export interface AutoSplitOptions {
  /** Split for consumption: window of sampled traffic, and the share of the partition limit. */
  readonly consumption?: { readonly windowMs: number; readonly thresholdShare?: number }
  /** Split for size above this many item bytes (DynamoDB: 10 GB). */
  readonly sizeBytes?: number
}

/** The metadata service. */
export class MetadataService {
  readonly id = "meta"
  private readonly tables = new Map<string, TableState>()
  private readonly lastPong = new Map<string, number>()
  private readonly failed = new Set<string>()
  /** Heals started, oldest first (the most recent EVENTS_MAX). */
  readonly heals: HealEvent[] = []
  private pingSeq = 0
  /**
   * `learnersHeldBack`: heals whose caught-up storage learner waited for the failed member's
   * removal before its promotion (see `removeFailedFirst`).
   */
  readonly counters = { splits: 0, tablesCreated: 0, nodesFailed: 0, learnersHeldBack: 0 }
  /** Tables created so far: names each table's partition ids (`t<n>.p<i>`). */
  private tableSeq = 0

  constructor(
    readonly runtime: Runtime,
    readonly dir: Directory,
    readonly nodes: ReadonlyMap<string, StorageNode>,
    readonly options: MetadataOptions,
  ) {
    runtime.transport.register(this.id, "control", (msg, from) => {
      if (msg.t === "pong") {
        this.lastPong.set(from, runtime.now())
        this.checkHosted(from, msg.hosted, runtime.now())
      }
    })
    const now = runtime.now()
    for (const id of nodes.keys()) this.lastPong.set(id, now)
    const loop = (): void => {
      this.probe()
      runtime.schedule(PING_MS, loop)
    }
    runtime.schedule(PING_MS, loop)
  }

  /** Every event so far (bounded: the oldest are dropped past EVENTS_MAX). */
  readonly events: ClusterEvent[] = []

  /** Records and forwards an event. */
  emit(e: ClusterEvent): void {
    this.events.push(e)
    if (this.events.length > EVENTS_MAX) this.events.splice(0, this.events.length - EVENTS_MAX)
    this.options.onEvent?.(e)
  }

  // ------------------------------------------------------------------------------------------
  // Tables

  /** CreateTable: validates, builds the partition map, places 3 replicas per partition in 3 AZs. */
  createTable(
    input: CreateTableInput,
  ): Either.Either<TableDescription, ValidationException | ResourceInUseException | LimitExceededException> {
    const name = input.TableName
    if (typeof name !== "string" || !/^[a-zA-Z0-9_.-]{3,255}$/.test(name))
      return Either.left(new ValidationException({ message: `Invalid table name: ${String(name)}` }))
    if (this.tables.has(name))
      return Either.left(new ResourceInUseException({ message: `Table already exists: ${name}` }))
    const ks = parseKeySchema(input)
    if (Either.isLeft(ks)) return Either.left(ks.left)
    const bm: unknown = input.BillingMode
    if (bm !== undefined && bm !== "PAY_PER_REQUEST" && bm !== "PROVISIONED")
      return Either.left(
        new ValidationException({
          message: `BillingMode must be PROVISIONED or PAY_PER_REQUEST (got ${JSON.stringify(bm)})`,
        }),
      )
    const onDemand = input.BillingMode === "PAY_PER_REQUEST"
    const pt = input.ProvisionedThroughput
    if (
      !onDemand &&
      (typeof pt !== "object" ||
        pt === null ||
        !isUnits(pt.ReadCapacityUnits) ||
        !isUnits(pt.WriteCapacityUnits))
    )
      return Either.left(
        new ValidationException({
          message: "ProvisionedThroughput must be given with whole units >= 1 for PROVISIONED tables",
        }),
      )
    // On-demand: partitions at the partition maximum, the table at twice its previous peak
    // (starting from DynamoDB's 12,000 read / 4,000 write request units of a new table, or its
    // warm throughput), up to its maximum on-demand throughput.
    const odMax = {
      r: bounded(input.OnDemandThroughput?.MaxReadRequestUnits, ON_DEMAND_TABLE_UNITS_MAX),
      w: bounded(input.OnDemandThroughput?.MaxWriteRequestUnits, ON_DEMAND_TABLE_UNITS_MAX),
    }
    const warm = input.WarmThroughput
    const provisioned = onDemand
      ? {
          rcu: Math.min(
            odMax.r,
            Math.max(ON_DEMAND_INITIAL_RRU, bounded(warm?.ReadUnitsPerSecond, 0, odMax.r)),
          ),
          wcu: Math.min(
            odMax.w,
            Math.max(ON_DEMAND_INITIAL_WRU, bounded(warm?.WriteUnitsPerSecond, 0, odMax.w)),
          ),
        }
      : { rcu: pt!.ReadCapacityUnits, wcu: pt!.WriteCapacityUnits }
    if (!onDemand) {
      const over = overTableQuota(provisioned.rcu, provisioned.wcu)
      if (over !== undefined) return Either.left(over)
    }
    const partitions = input.Partitions ?? INITIAL_PARTITIONS_DEFAULT
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > INITIAL_PARTITIONS_MAX)
      return Either.left(
        new ValidationException({
          message: `Partitions must be an integer from 1 to ${INITIAL_PARTITIONS_MAX}, got ${String(partitions)}`,
        }),
      )
    const policy = !onDemand && this.options.partitionAllocation === "even" ? "even" : "per-partition-limit"
    const map = PartitionMap.make(
      {
        table: name,
        // Partition ids are unique across tables (and across a table deleted and created again):
        // a node's replicas, its WAL files and the Paxos groups are named by them.
        idPrefix: `t${++this.tableSeq}.`,
        hash: "murmur3",
        policy,
        provisioned: onDemand
          ? { rcu: ON_DEMAND_TABLE_UNITS_MAX, wcu: ON_DEMAND_TABLE_UNITS_MAX }
          : provisioned,
      },
      partitions,
    )
    const info: TableInfo = { name, keySchema: ks.right, hash: "murmur3", onDemand, provisioned, version: 1 }
    const st: TableState = {
      info,
      attributes: input.AttributeDefinitions,
      map,
      placement: new Map(),
      // DynamoDB gives epoch seconds (real time); the simulation its own seconds.
      created: (this.runtime.continuingNow?.() ?? this.runtime.now()) / 1000,
      peak: {
        r: Math.floor((provisioned.rcu * MILLI_PER_UNIT) / ON_DEMAND_PEAK_MULTIPLE),
        w: Math.floor((provisioned.wcu * MILLI_PER_UNIT) / ON_DEMAND_PEAK_MULTIPLE),
      },
      window: { r: 0, w: 0 },
      max: odMax,
    }
    // The table's number is kept before its replicas exist: a restart after a kill in between
    // never gives those ids to another table (the replicas left behind are dropped then).
    this.persist()
    const placed = this.place(st, map.partitions)
    if (Either.isLeft(placed)) return Either.left(placed.left)
    this.tables.set(name, st)
    this.counters.tablesCreated++
    this.persist()
    return Either.right(this.describe(st))
  }

  private place(st: TableState, parts: ReadonlyArray<Partition>): Either.Either<void, ValidationException> {
    const cap = this.options.nodeCapacity
    const nodes: PlacementNode[] = [...this.nodes.values()]
      .filter((n) => n.isUp && !this.failed.has(n.nodeId))
      .map((n) => ({
        id: n.nodeId,
        az: n.az,
        capacityBytes: cap.bytes,
        capacityRcu: cap.rcu,
        capacityWcu: cap.wcu,
      }))
    const demands = parts.map((p) => ({
      partitionId: p.id,
      bytes: 0,
      rcu: p.allocation.rcu / 100,
      wcu: p.allocation.wcu / 100,
    }))
    const plan = placeAll(nodes, demands, { overcommit: 1e9 })
    if (Either.isLeft(plan))
      return Either.left(new ValidationException({ message: `no valid placement: ${plan.left.message}` }))
    for (const p of parts) {
      const where = [...(plan.right.state.placement.get(p.id) ?? [])]
      st.placement.set(p.id, where)
      for (const n of where) this.everHosted(p.id).add(n)
      const members: Member[] = where.map((n) => ({
        id: this.dir.replicaIdOf(n),
        role: "storage",
        zone: this.dir.azOf(n),
      }))
      for (const n of where)
        this.nodes.get(n)?.createReplica({
          table: st.info.name,
          keySchema: st.info.keySchema,
          hash: st.info.hash,
          partition: p,
          members,
          role: "storage",
        })
      // Start the first election at once instead of waiting for an election timeout.
      const first = this.nodes.get(where[0]!)?.replicas.get(p.id)
      first?.core.campaign()
      this.publish(st.info.name, p, where, where[0] ?? null)
    }
    return Either.right(undefined)
  }

  private publish(table: string, p: Partition, where: ReadonlyArray<string>, leader: string | null): void {
    if (this.dir.memdsSequencer === undefined) return
    this.runtime.transport.send(this.id, this.dir.memdsSequencer, {
      t: "memds",
      m: {
        type: "source",
        ops: [
          { kind: "put", key: boundaryKey(table, p.start), entry: routingEntry(this.dir, p, where, leader) },
        ],
      },
    })
  }

  /** DescribeTable. */
  describeTable(name: string): Either.Either<TableDescription, ResourceNotFoundException> {
    const st = this.tables.get(name)
    if (st === undefined)
      return Either.left(
        new ResourceNotFoundException({ message: `Requested resource not found: Table: ${name} not found` }),
      )
    return Either.right(this.describe(st))
  }

  /** ListTables (sorted names). */
  listTables(): string[] {
    return [...this.tables.keys()].sort()
  }

  /** DeleteTable: drops every replica and routing entry. */
  deleteTable(name: string): Either.Either<TableDescription, ResourceNotFoundException> {
    const st = this.tables.get(name)
    if (st === undefined)
      return Either.left(
        new ResourceNotFoundException({ message: `Requested resource not found: Table: ${name} not found` }),
      )
    this.tables.delete(name)
    // Kept before the replicas go: a restart never finds a table whose replicas were dropped.
    this.persist()
    const ops = st.map.partitions.map((p) => ({ kind: "delete" as const, key: boundaryKey(name, p.start) }))
    if (this.dir.memdsSequencer !== undefined)
      this.runtime.transport.send(this.id, this.dir.memdsSequencer, {
        t: "memds",
        m: { type: "source", ops },
      })
    for (const p of st.map.partitions) for (const n of this.nodes.values()) n.dropReplica(p.id)
    // And the parents of its splits still hosted.
    const prefix = st.map.idPrefix
    for (const rp of this.retiredParents.filter((x) => x.pid.startsWith(prefix)))
      for (const n of this.nodes.values()) n.dropReplica(rp.pid)
    const rest = this.retiredParents.filter((x) => !x.pid.startsWith(prefix))
    this.retiredParents.length = 0
    this.retiredParents.push(...rest)
    return Either.right({ ...this.describe(st), TableStatus: "DELETING" })
  }

  /** UpdateTable's throughput change (provisioned tables). */
  updateThroughput(
    name: string,
    rcu: number,
    wcu: number,
  ): Either.Either<
    TableDescription,
    ResourceNotFoundException | ValidationException | LimitExceededException | ResourceInUseException
  > {
    const st = this.tables.get(name)
    if (st === undefined)
      return Either.left(
        new ResourceNotFoundException({ message: `Requested resource not found: Table: ${name} not found` }),
      )
    if (!isUnits(rcu) || !isUnits(wcu))
      return Either.left(
        new ValidationException({
          message: "ReadCapacityUnits and WriteCapacityUnits must be whole numbers >= 1",
        }),
      )
    const over = overTableQuota(rcu, wcu)
    if (over !== undefined) return Either.left(over)
    // As DynamoDB: no new change while a table is UPDATING (its partitions still splitting for
    // the last one).
    if (this.needsThroughputSplit(st))
      return Either.left(
        new ResourceInUseException({
          message: `Attempt to change a resource which is still in use: Table is being updated: ${name}`,
        }),
      )
    st.info = { ...st.info, provisioned: { rcu, wcu }, version: st.info.version + 1 }
    // Even: each partition gets its share now; a share over the partition maximum is carried
    // once the partitions have split for it (`throughputSplits`, while the table is UPDATING).
    if (st.map.policy === "even") this.reallocateEvenly(st, { rcu, wcu })
    this.persist()
    return Either.right(this.describe(st))
  }

  /**
   * Whether a table whose rate is split evenly has too few partitions for it: DynamoDB splits
   * partitions when an UpdateTable raises the rate past what they can carry (a partition
   * serves at most 3,000 RCU and 1,000 WCU).
   */
  private needsThroughputSplit(st: TableState): boolean {
    if (st.map.policy !== "even") return false
    const want = st.info.provisioned
    const n = st.map.partitions.length
    const limit = st.map.partitionLimit
    return want.rcu / n > limit.rcu || want.wcu / n > limit.wcu
  }

  /**
   * Carries out the splits `needsThroughputSplit` asks for, live and one at a time per table, as
   * the other splits are: the widest partition splits at its hash midpoint, so a table doubles
   * (4 partitions at 6,000 WCU become 8 at 750 each, as `@partita/partitioner`'s
   * `setProvisionedThroughput` plans it).
   */
  private throughputSplits(): void {
    for (const st of this.tables.values()) {
      if (this.pendingSplits.has(st.info.name) || !this.needsThroughputSplit(st)) continue
      const widest = [...st.map.partitions].sort((a, b) => {
        const d = hashWidth(b) - hashWidth(a)
        return d > 0n ? 1 : d < 0n ? -1 : 0
      })
      for (const p of widest) {
        const key = hashMidpoint(p)
        if (key !== undefined && this.split(st.info.name, p.id, key, "throughput")) break
      }
    }
  }

  /**
   * A table whose rate is split evenly over its partitions (`partitionAllocation: "even"`, DynamoDB
   * before GAC) gets each partition's new share at once: a new map with the same partitions and
   * epochs (routing does not change), and every replica's bucket set to it. Adaptive capacity's
   * boosts were relative to the old share, so they are dropped and recomputed.
   */
  private reallocateEvenly(st: TableState, provisioned: { rcu: number; wcu: number }): void {
    const data = st.map.toData()
    const allocation = allocationFor({ ...data, provisioned }, data.partitions.length)
    st.map = PartitionMap.fromData({
      ...data,
      provisioned,
      version: data.version + 1,
      partitions: data.partitions.map((p) => ({ ...p, allocation })),
    })
    for (const p of st.map.partitions) this.boosts.delete(p.id)
    this.applyAllocations(st)
  }

  /** Sets every storage replica's buckets to its partition's allocation (or its boost). */
  private applyAllocations(st: TableState): void {
    for (const p of st.map.partitions)
      for (const n of this.nodes.values()) {
        const r = n.replicas.get(p.id)
        if (r === undefined || r.spec.role !== "storage") continue
        r.setAllocationMilli("r", this.allocationOf(p, "r"))
        r.setAllocationMilli("w", this.allocationOf(p, "w"))
      }
  }

  /** What routers need about a table. */
  tableInfo(name: string): TableInfo | undefined {
    return this.tables.get(name)?.info
  }

  /** The current partition map of a table. */
  partitionMap(name: string): PartitionMap | undefined {
    return this.tables.get(name)?.map
  }

  /** Nodes holding a partition's replicas. */
  placementOf(table: string, partitionId: string): ReadonlyArray<string> {
    return this.tables.get(table)?.placement.get(partitionId) ?? []
  }

  private describe(st: TableState): TableDescription {
    const d = tableDescription(st.info, st.attributes, st.map.partitions.length, st.created)
    // DynamoDB shows UPDATING until the partitions carry the table's new rate.
    return this.needsThroughputSplit(st) ? { ...d, TableStatus: "UPDATING" } : d
  }

  // ------------------------------------------------------------------------------------------
  // Splits

  /**
   * Splits a partition live: the fence goes through the parent's Paxos log; every replica applies
   * it at the same position and creates the children from its own state. The new map is adopted
   * once a replica has applied the fence (the fence is re-proposed until then). One split per
   * table at a time. Returns false when refused (unknown partition, no split point, a split
   * already pending, or no established leader now).
   */
  split(
    table: string,
    partitionId: string,
    at?: Boundary,
    reason: "size" | "consumption" | "throughput" = "consumption",
  ): boolean {
    const st = this.tables.get(table)
    if (st === undefined || this.pendingSplits.has(table)) return false
    const parent = st.map.get(partitionId)
    if (parent === undefined) return false
    const key = at ?? hashMidpoint(parent)
    if (key === undefined) return false
    const upd = splitAt(st.map, partitionId, key, reason)
    if (Either.isLeft(upd)) return false
    const [left, right] = upd.right.change.children
    const fence: SplitFence = { parentEpoch: parent.epoch, splitKey: key, left, right }
    // Kept before the fence is proposed: a restart that found the fence applied and no split
    // pending would never adopt the children (the parent stays retired).
    this.pendingSplits.set(table, {
      pid: partitionId,
      fence,
      map: upd.right.map,
      proposedAt: this.runtime.now(),
      reason,
    })
    this.persist()
    if (!this.proposeFence(st, partitionId, fence)) {
      this.pendingSplits.delete(table)
      this.persist()
      return false
    }
    return true
  }

  private readonly pendingSplits = new Map<
    string,
    {
      pid: string
      fence: SplitFence
      map: PartitionMap
      proposedAt: number
      reason: "size" | "consumption" | "throughput"
    }
  >()

  private proposeFence(st: TableState, pid: string, fence: SplitFence): boolean {
    const where = st.placement.get(pid) ?? []
    const leader = where.map((n) => this.nodes.get(n)?.replicas.get(pid)).find((r) => r?.isLeader())
    return leader?.proposeSplit(fence) === true
  }

  /**
   * A split child's group as a storage replica that applied the fence holds it: the live replica's
   * configuration, else (every such node down at the moment) the one its node's durable state was
   * created with. Without the second, a split adopted while its only holders were down created no
   * log-replica children: those members were hosted nowhere, and with one more loss the children
   * had no quorum for good (`lateDefer` stress seed 280715).
   */
  private childGroup(
    childId: string,
  ): { readonly spec: ReplicaSpec; readonly members: ReadonlyArray<Member> } | undefined {
    for (const n of this.nodes.values()) {
      const r = n.replicas.get(childId)
      if (r !== undefined) return { spec: r.spec, members: r.core.latestConfig().members }
    }
    for (const n of this.nodes.values()) {
      const d = n.disks.get(childId)
      if (d !== undefined && d.spec.members !== null) return { spec: d.spec, members: d.spec.members }
    }
    return undefined
  }

  /**
   * Log-replica children of a split that could not be created when it was adopted (their node was
   * down), by table. Without them a child whose other members are lost has no quorum, and nothing
   * else creates them without a leader of the child (stress seed 331580).
   */
  private readonly owedLogChildren: Array<{ table: string; node: string; spec: ReplicaSpec }> = []

  /** Nodes this service created a log replica of `pid` on (a split's log children, heals). */
  private logHostsOf(pid: string): Set<string> {
    return setIn(this.logHosts, pid)
  }
  private readonly logHosts = new Map<string, Set<string>>()

  /**
   * Creates the owed log children on nodes that are back. Only where this service never created
   * one before: such a replica has accepted nothing, so it may vote at once, as a group's first
   * members do. (A node that hosted the child and lost it is the heals' case: they recreate it
   * holding its votes through the leader's commit point.)
   */
  private progressOwedLogChildren(): void {
    if (this.owedLogChildren.length === 0) return
    const keep: typeof this.owedLogChildren = []
    for (const o of this.owedLogChildren) {
      const pid = o.spec.partition.id
      const node = this.nodes.get(o.node)
      const partition = this.tables.get(o.table)?.map.get(pid)
      if (partition === undefined || node === undefined || node.replicas.has(pid) || node.disks.has(pid))
        continue
      if (this.logHostsOf(pid).has(o.node)) continue
      if (!node.isUp || !this.healthy(o.node)) {
        keep.push(o)
        continue
      }
      // With the partition as it is now (a reallocation may have changed its rates).
      if (node.createReplica({ ...o.spec, partition }, "log") !== undefined) this.logHostsOf(pid).add(o.node)
      else keep.push(o)
    }
    this.owedLogChildren.length = 0
    this.owedLogChildren.push(...keep)
  }

  /** Adopts applied splits; re-proposes fences that were lost. */
  private progressSplits(now: number): void {
    for (const [table, ps] of this.pendingSplits) {
      const st = this.tables.get(table)
      if (st === undefined) {
        this.pendingSplits.delete(table)
        continue
      }
      const applied = [...this.nodes.values()].some(
        (n) => n.replicas.get(ps.pid)?.retired === true || n.disks.has(ps.fence.left.id),
      )
      if (applied) {
        const where = st.placement.get(ps.pid) ?? []
        // Log replicas hold no items and never apply the fence: create their children here, with
        // the configuration the storage replicas gave the children.
        for (const child of [ps.fence.left, ps.fence.right]) {
          const held = this.childGroup(child.id)
          if (held === undefined) continue
          const members = held.members
          for (const m of members) {
            if (m.role !== "log") continue
            const node = this.nodes.get(this.dir.nodeOf(m.id) ?? "")
            if (node === undefined || node.replicas.has(child.id)) continue
            const spec = { ...held.spec, partition: child, members }
            if (node.createReplica(spec, "log") !== undefined) this.logHostsOf(child.id).add(node.nodeId)
            else this.owedLogChildren.push({ table, node: node.nodeId, spec })
          }
        }
        st.map = ps.map
        // The split's map was made from the map before it: a rate changed meanwhile is re-applied.
        const want = st.info.provisioned
        if (st.map.policy === "even") {
          if (st.map.provisioned.rcu !== want.rcu || st.map.provisioned.wcu !== want.wcu)
            this.reallocateEvenly(st, want)
          // Other than for size (whose children halve their parent's share), an even split
          // re-divides the table's rate over all partitions: every replica's buckets follow.
          else this.applyAllocations(st)
        }
        st.placement.delete(ps.pid)
        for (const child of [ps.fence.left, ps.fence.right]) {
          // The children's storage replicas are the parent's storage members at the fence: with
          // a heal under way, that may differ from the parent's placement (a joining replica).
          const cfg = this.childGroup(child.id)?.members ?? []
          const nodesOf = (ms: ReadonlyArray<Member>): string[] =>
            ms.map((m) => this.dir.nodeOf(m.id)).filter((n): n is string => n !== undefined)
          const storage = nodesOf(cfg.filter((m) => m.role === "storage" && isVoter(m)))
          st.placement.set(child.id, storage.length === 0 ? [...where] : storage)
          for (const n of [...where, ...nodesOf(cfg)]) this.everHosted(child.id).add(n)
        }
        // Heals still running for the parent carry on for both children, with the nodes the
        // parent's heal chose (its log replica is a member of the children's groups if it had
        // joined before the fence: the children's heals remove it when done).
        for (const h of this.pendingHeal.filter((x) => x.pid === ps.pid && x.stage < HEAL_DONE)) {
          h.stage = HEAL_DONE
          for (const child of [ps.fence.left, ps.fence.right]) {
            const c = this.coverOne(st, child.id, h.failed, h.detectedAt)
            if (c === undefined || c.event !== undefined || h.logNode === undefined) continue
            c.logNode = h.logNode
            c.storageNode = h.storageNode
            // A replacement on the failed node itself (chosen once the failed member had left)
            // has the failed member's id: in the children's groups that id is the replacement,
            // not the failed member, which must not be removed again (stress seed 340155: the
            // child's heal removed its own replacement and left two replicas).
            if (h.storageNode === h.failed) c.failedRemoved = h.failedRemoved
            c.event = {
              partitionId: child.id,
              failedNode: h.failed,
              logNode: h.logNode,
              detectedAt: h.detectedAt,
              coveredAt: undefined,
              storageNode: h.storageNode,
              rebuiltAt: undefined,
            }
            this.heals.push(c.event)
          }
        }
        this.pendingSplits.delete(table)
        // The parent's replicas go once every member's node holds both children (`dropParents`).
        const members = [
          ...new Set(
            (this.childGroup(ps.fence.left.id)?.members ?? [])
              .map((m) => this.dir.nodeOf(m.id))
              .filter((n): n is string => n !== undefined),
          ),
        ]
        this.retiredParents.push({
          pid: ps.pid,
          children: [ps.fence.left.id, ps.fence.right.id],
          nodes: members,
        })
        this.counters.splits++
        this.emit({
          type: "split",
          table,
          parent: ps.pid,
          children: [ps.fence.left.id, ps.fence.right.id],
          reason: ps.reason,
          at: now,
        })
      } else if (now - ps.proposedAt >= SPLIT_REPROPOSE_MS && this.proposeFence(st, ps.pid, ps.fence))
        ps.proposedAt = now
    }
  }

  // ------------------------------------------------------------------------------------------
  // Capacity: on-demand allowances and adaptive capacity

  /** Replica counters as last read (a restarted replica is a new object, counting from zero). */
  private readonly seen = new WeakMap<Replica, PartitionUsage>()
  /** Per partition: admitted and refused since the last adaptive run. */
  private readonly usage = new Map<string, PartitionUsage>()
  private windowStart = 0
  private adaptiveLast = 0

  /**
   * Reads what every storage replica admitted and refused since the last probe, then, once per
   * `ON_DEMAND_WINDOW_MS`, raises on-demand tables' allowances to twice a new peak, and once per
   * adaptive interval runs adaptive capacity over provisioned tables.
   */
  private meter(now: number): void {
    for (const n of this.nodes.values())
      for (const [pid, r] of n.replicas) {
        if (r.spec.role !== "storage") continue
        const c = r.counters
        const last = this.seen.get(r)
        if (
          last !== undefined &&
          last.r === c.readMilli &&
          last.w === c.writeMilli &&
          last.tr === c.throttledReadMilli &&
          last.tw === c.throttledWriteMilli
        )
          continue
        const st = this.tables.get(r.spec.table)
        if (st === undefined) continue
        let u = this.usage.get(pid)
        if (u === undefined) {
          u = { r: 0, w: 0, tr: 0, tw: 0 }
          this.usage.set(pid, u)
        }
        const dr = c.readMilli - (last?.r ?? 0)
        const dw = c.writeMilli - (last?.w ?? 0)
        u.r += dr
        u.w += dw
        u.tr += c.throttledReadMilli - (last?.tr ?? 0)
        u.tw += c.throttledWriteMilli - (last?.tw ?? 0)
        st.window.r += dr
        st.window.w += dw
        this.seen.set(r, {
          r: c.readMilli,
          w: c.writeMilli,
          tr: c.throttledReadMilli,
          tw: c.throttledWriteMilli,
        })
      }
    if (now - this.windowStart >= ON_DEMAND_WINDOW_MS) {
      const elapsed = Math.max(ON_DEMAND_WINDOW_MS, now - this.windowStart)
      this.windowStart = now
      for (const st of this.tables.values()) {
        if (st.info.onDemand) this.raiseAllowance(st, elapsed)
        st.window = { r: 0, w: 0 }
      }
    }
    const adaptive = this.options.adaptiveCapacity
    const intervalMs = adaptive === false ? 0 : (adaptive?.intervalMs ?? ADAPTIVE_INTERVAL_MS)
    if (adaptive !== false && now - this.adaptiveLast >= intervalMs) {
      const windowMs = now - this.adaptiveLast
      this.adaptiveLast = now
      this.adaptCapacity(now, windowMs, adaptive?.gainPermille ?? ADAPTIVE_GAIN_PERMILLE)
      this.usage.clear()
    }
    this.applyBoosts()
  }

  /** On-demand: a window's rate above the peak is the new peak; the allowance is twice it. */
  private raiseAllowance(st: TableState, elapsedMs: number): void {
    const rate = (milli: number): number => Math.floor((milli * MILLI_PER_UNIT) / elapsedMs)
    st.peak.r = Math.max(st.peak.r, rate(st.window.r))
    st.peak.w = Math.max(st.peak.w, rate(st.window.w))
    const allowance = (peak: number, cur: number, max: number): number => {
      const want = Math.min(max, (peak * ON_DEMAND_PEAK_MULTIPLE) / MILLI_PER_UNIT)
      return want * 1000 > cur * ON_DEMAND_RAISE_PERMILLE || (want === max && want > cur)
        ? Math.floor(want)
        : cur
    }
    const rcu = allowance(st.peak.r, st.info.provisioned.rcu, st.max.r)
    const wcu = allowance(st.peak.w, st.info.provisioned.wcu, st.max.w)
    if (rcu !== st.info.provisioned.rcu || wcu !== st.info.provisioned.wcu)
      st.info = { ...st.info, provisioned: { rcu, wcu }, version: st.info.version + 1 }
  }

  /** Boosted allocations by partition id, milli-units/s (re-applied to every replica each probe). */
  private readonly boosts = new Map<string, { r: number; w: number }>()

  /** Adaptive capacity over every provisioned table and kind (`@partita/admission` `adaptiveControl`). */
  private adaptCapacity(now: number, windowMs: number, gainPermille: number): void {
    const nodeIds = [...this.nodes.keys()]
    for (const kind of ["r", "w"] as const) {
      const cap = kind === "r" ? this.options.nodeCapacity.rcu : this.options.nodeCapacity.wcu
      // Spare rate per node: its capacity less the allocations of the partitions it leads.
      const room = nodeIds.map(() => cap * MILLI_PER_UNIT)
      const leaders = new Map<string, number>()
      for (const st of this.tables.values())
        for (const p of st.map.partitions) {
          const i = nodeIds.findIndex((n) => this.nodes.get(n)?.replicas.get(p.id)?.isLeader() === true)
          if (i < 0) continue
          leaders.set(p.id, i)
          room[i] = room[i]! - this.allocationOf(p, kind)
        }
      for (const st of this.tables.values()) {
        if (st.info.onDemand) continue
        const parts = st.map.partitions.filter((p) => leaders.has(p.id))
        if (parts.length === 0) continue
        const input: AdaptivePartition[] = parts.map((p) => {
          const u = this.usage.get(p.id)
          return {
            baseMilliPerSec: (kind === "r" ? p.allocation.rcu : p.allocation.wcu) * MILLI_PER_UNIT,
            allocationMilliPerSec: this.allocationOf(p, kind),
            consumedMilli: (kind === "r" ? u?.r : u?.w) ?? 0,
            throttledMilli: (kind === "r" ? u?.tr : u?.tw) ?? 0,
            node: leaders.get(p.id)!,
          }
        })
        const rate = (kind === "r" ? st.info.provisioned.rcu : st.info.provisioned.wcu) * MILLI_PER_UNIT
        const max = (kind === "r" ? PARTITION_MAX_RCU : PARTITION_MAX_WCU) * MILLI_PER_UNIT
        const d = adaptiveControl(input, rate, windowMs, max, room, gainPermille)
        for (const mv of d.moves)
          this.moveLeadership(st, parts[mv.partition]!, kind, mv.wantedMilliPerSec, nodeIds, room, now)
        parts.forEach((p, i) => {
          const next = d.allocationMilliPerSec[i]!
          const base = input[i]!.baseMilliPerSec
          if (next === input[i]!.allocationMilliPerSec) return
          const b = this.boosts.get(p.id) ?? { r: 0, w: 0 }
          b[kind] = next === base ? 0 : next
          if (b.r === 0 && b.w === 0) this.boosts.delete(p.id)
          else this.boosts.set(p.id, b)
          // Back to its base: the replicas' buckets too (boosted ones are kept up by applyBoosts).
          if (next === base)
            for (const n of this.nodes.values()) n.replicas.get(p.id)?.setAllocationMilli(kind, base)
          this.emit({
            type: "adaptive-capacity",
            table: st.info.name,
            partition: p.id,
            kind: kind === "r" ? "read" : "write",
            fromMilliPerSec: input[i]!.allocationMilliPerSec,
            toMilliPerSec: next,
            baseMilliPerSec: base,
            at: now,
          })
        })
      }
    }
  }

  /** When a partition's leadership was last moved by adaptive capacity (ms). */
  private readonly movedAt = new Map<string, number>()

  /**
   * A boost that did not fit on the leader's node: the partition's leadership goes to a storage
   * member on the node with the most room that fits the rate wanted (DynamoDB moves the partition;
   * here its replicas stay and the leader, which serves its writes and strong reads, moves). At
   * most one move per partition per two adaptive intervals, so it does not flap.
   */
  private moveLeadership(
    st: TableState,
    p: Partition,
    kind: "r" | "w",
    wantedMilliPerSec: number,
    nodeIds: ReadonlyArray<string>,
    room: number[],
    now: number,
  ): void {
    const adaptive = this.options.adaptiveCapacity
    const intervalMs = (adaptive === false ? undefined : adaptive?.intervalMs) ?? ADAPTIVE_INTERVAL_MS
    const last = this.movedAt.get(p.id)
    if (last !== undefined && now - last < 2 * intervalMs) return
    const leaderNode = [...this.nodes.values()].find((n) => n.replicas.get(p.id)?.isLeader() === true)
    const leader = leaderNode?.replicas.get(p.id)
    if (leaderNode === undefined || leader === undefined) return
    const need = wantedMilliPerSec - this.allocationOf(p, kind)
    let best: { node: string; room: number; id: number } | undefined
    for (const m of leader.core.latestConfig().members) {
      if (m.role !== "storage" || !isVoter(m) || m.id === leader.replicaId) continue
      const node = this.dir.nodeOf(m.id)
      if (node === undefined || this.nodes.get(node)?.isUp !== true) continue
      const i = nodeIds.indexOf(node)
      const r = i < 0 ? 0 : room[i]!
      if (r >= need && (best === undefined || r > best.room)) best = { node, room: r, id: m.id }
    }
    if (best === undefined || !leader.core.transferLeadership(best.id)) return
    this.movedAt.set(p.id, now)
    const i = nodeIds.indexOf(best.node)
    if (i >= 0) room[i] = room[i]! - need
    this.emit({
      type: "adaptive-move",
      table: st.info.name,
      partition: p.id,
      kind: kind === "r" ? "read" : "write",
      from: leaderNode.nodeId,
      to: best.node,
      wantedMilliPerSec,
      at: now,
    })
  }

  /** A partition's allocation now (its boost, else its base), milli-units/s. */
  private allocationOf(p: Partition, kind: "r" | "w"): number {
    const b = this.boosts.get(p.id)?.[kind] ?? 0
    return b > 0 ? b : (kind === "r" ? p.allocation.rcu : p.allocation.wcu) * MILLI_PER_UNIT
  }

  /** Every storage replica of a boosted partition runs its buckets at the boosted rate. */
  private applyBoosts(): void {
    for (const [pid, b] of this.boosts)
      for (const n of this.nodes.values()) {
        const r = n.replicas.get(pid)
        if (r === undefined || r.spec.role !== "storage") continue
        if (b.r > 0) r.setAllocationMilli("r", b.r)
        if (b.w > 0) r.setAllocationMilli("w", b.w)
      }
  }

  /** Checks every partition's leader for sustained consumption or size over the thresholds. */
  private autoSplits(now: number): void {
    const auto = this.options.autoSplit
    if (auto === undefined) return
    for (const st of this.tables.values()) {
      if (this.pendingSplits.has(st.info.name)) continue
      for (const p of st.map.partitions) {
        const leader = (st.placement.get(p.id) ?? [])
          .map((n) => this.nodes.get(n)?.replicas.get(p.id))
          .find((r) => r?.isLeader())
        if (leader === undefined) continue
        const c = auto.consumption
        if (c !== undefined && now - leader.accessSince >= c.windowMs) {
          const r = splitForConsumption(st.map, p.id, leader.access, {
            windowMs: now - leader.accessSince,
            ...(c.thresholdShare === undefined ? {} : { thresholdShare: c.thresholdShare }),
          })
          leader.access.reset()
          leader.accessSince = now
          if (Either.isRight(r) && this.split(st.info.name, p.id, r.right.change.splitKey, "consumption"))
            break
        }
        if (auto.sizeBytes !== undefined && leader.bytes() > auto.sizeBytes) {
          const samples = leader.sizeSamples()
          const r = splitForSize(st.map, p.id, samples, { thresholdBytes: auto.sizeBytes })
          if (Either.isRight(r) && this.split(st.info.name, p.id, r.right.change.splitKey, "size")) break
        }
      }
    }
  }

  /** Heals still in progress. */
  pendingHealCount(): number {
    return this.pendingHeal.filter((h) => h.stage < HEAL_DONE).length
  }

  /** Splits not yet adopted, by table. */
  pendingSplitCount(): number {
    return this.pendingSplits.size
  }

  // ------------------------------------------------------------------------------------------
  // Failure handling

  private probe(): void {
    const now = this.runtime.now()
    const detectMs = this.options.failureDetectMs ?? FAILURE_DETECT_MS_DEFAULT
    const newlyFailed: string[] = []
    for (const id of this.nodes.keys()) {
      this.runtime.transport.send(this.id, id, { t: "ping", n: this.pingSeq })
      const last = this.lastPong.get(id) ?? now
      if (now - last > detectMs && !this.failed.has(id)) {
        this.failed.add(id)
        this.counters.nodesFailed++
        this.emit({ type: "node-failed", node: id, at: now })
        newlyFailed.push(id)
      } else if (now - last <= detectMs && this.failed.has(id)) {
        this.failed.delete(id)
        this.emit({ type: "node-recovered", node: id, at: now })
      }
    }
    // Cover only once every failure of this round is known: nodes that went silent together (an
    // AZ cut off) must not be chosen to replace each other.
    if (this.options.heal !== false) for (const id of newlyFailed) this.coverFailedNode(id, now)
    this.pingSeq++
    this.meter(now)
    this.throughputSplits()
    this.autoSplits(now)
    this.progressSplits(now)
    this.dropParents()
    this.progressOwedLogChildren()
    this.progressHeals(now)
    this.persist()
  }

  /**
   * Adopted splits whose parent replicas may still be hosted: dropped once every node of the
   * parent's group at the fence holds both children (it made them, from its parent replica or,
   * for a log member, from this service). Until then a lagging parent member still needs the
   * fence from the others, or its node never makes the children (dropping the retired ones as
   * soon as the up ones had all retired left a child with one replica: stress seed 627). A
   * member whose node lost its disk never will: those parents stay.
   */
  private readonly retiredParents: Array<{ pid: string; children: [string, string]; nodes: string[] }> = []

  private dropParents(): void {
    if (this.retiredParents.length === 0) return
    const keep: typeof this.retiredParents = []
    for (const rp of this.retiredParents) {
      // (No group known: the parents stay.)
      const done =
        rp.nodes.length > 0 &&
        rp.nodes.every((id) => {
          const n = this.nodes.get(id)
          return n !== undefined && rp.children.every((c) => n.disks.has(c))
        })
      if (!done) {
        keep.push(rp)
        continue
      }
      // Up nodes drop it now; a down one, when it is back (the entry stays until then).
      let left = false
      for (const n of this.nodes.values()) {
        if (!n.disks.has(rp.pid) && !n.replicas.has(rp.pid)) continue
        if (n.isUp) n.dropReplica(rp.pid)
        else left = true
      }
      if (left) keep.push(rp)
    }
    this.retiredParents.length = 0
    this.retiredParents.push(...keep)
  }

  // ------------------------------------------------------------------------------------------
  // Durable state (a cluster a new process opens again: `localClusterWithDataDir`)

  /** The last state handed to `options.persist` (unchanged states are not written again). */
  private persisted: string | undefined

  /** Hands the durable state to `options.persist` if it changed. */
  private persist(): void {
    const save = this.options.persist
    if (save === undefined) return
    const json = JSON.stringify(this.exportState())
    if (json === this.persisted) return
    save(json)
    this.persisted = json
  }

  /**
   * What this service must know again after a restart of the whole process: tables, partition
   * maps and placement, the nodes that ever hosted each partition (a reused node's replica holds
   * its votes), splits and heals under way. Probes, usage windows and adaptive boosts start
   * afresh; a node is taken to be alive until it misses the probes again.
   */
  exportState(): MetadataState {
    const sets = (m: Map<string, Set<string>>): Array<[string, string[]]> =>
      [...m].map(([k, v]) => [k, [...v]])
    return {
      v: 1,
      nodes: [...this.nodes.keys()],
      tableSeq: this.tableSeq,
      counters: { ...this.counters },
      tables: [...this.tables.values()].map((st) => ({
        info: st.info,
        attributes: st.attributes,
        map: st.map.toData(),
        placement: [...st.placement],
        created: st.created,
        peak: st.peak,
        max: st.max,
      })),
      hosted: sets(this.hosted),
      logHosts: sets(this.logHosts),
      heals: this.heals,
      pendingHeal: this.pendingHeal
        .filter((h) => h.stage < HEAL_DONE)
        .map((h) => ({ ...h, event: h.event === undefined ? -1 : this.heals.indexOf(h.event) })),
      pendingSplits: [...this.pendingSplits].map(([table, ps]) => ({ ...ps, table, map: ps.map.toData() })),
      owedLogChildren: this.owedLogChildren,
      retiredParents: this.retiredParents,
    }
  }

  /**
   * Whether a partition id belongs to a table this service has (by the id's table prefix,
   * `t<n>.`): a replica of another, found on a disk opened again, is left over from a table whose
   * creation or deletion the process did not finish. (A split's retired parent belongs to its
   * table and stays, as it does in a running cluster: a lagging parent member may still need its
   * fence.)
   */
  ownsPartitionId(pid: string): boolean {
    const prefix = pid.slice(0, pid.indexOf(".") + 1)
    for (const st of this.tables.values()) if (st.map.idPrefix === prefix) return true
    return false
  }

  /**
   * Restores a state from `exportState` (before the first probe). Throws on a state of another
   * version or for other nodes.
   */
  importState(state: MetadataState): void {
    if (state.v !== 1) throw new Error(`metadata state version ${String(state.v)} is not 1`)
    const nodes = [...this.nodes.keys()]
    if (JSON.stringify(state.nodes) !== JSON.stringify(nodes))
      throw new Error(
        `metadata state is for nodes ${state.nodes.join(",")}, this cluster has ${nodes.join(",")}`,
      )
    const now = this.runtime.now()
    this.tableSeq = state.tableSeq
    Object.assign(this.counters, state.counters)
    this.tables.clear()
    for (const t of state.tables)
      this.tables.set(t.info.name, {
        info: t.info,
        attributes: t.attributes,
        map: PartitionMap.fromData(t.map),
        placement: new Map(t.placement),
        created: t.created,
        peak: t.peak,
        window: { r: 0, w: 0 },
        max: t.max,
      })
    for (const [k, v] of state.hosted) this.hosted.set(k, new Set(v))
    for (const [k, v] of state.logHosts) this.logHosts.set(k, new Set(v))
    this.heals.length = 0
    this.heals.push(...state.heals)
    this.pendingHeal.length = 0
    for (const h of state.pendingHeal)
      this.pendingHeal.push({ ...h, event: h.event >= 0 ? this.heals[h.event] : undefined })
    this.pendingSplits.clear()
    for (const ps of state.pendingSplits)
      this.pendingSplits.set(ps.table, {
        pid: ps.pid,
        fence: ps.fence,
        map: PartitionMap.fromData(ps.map),
        proposedAt: now - SPLIT_REPROPOSE_MS,
        reason: ps.reason,
      })
    this.owedLogChildren.length = 0
    this.owedLogChildren.push(...state.owedLogChildren)
    this.retiredParents.length = 0
    this.retiredParents.push(...(state.retiredParents ?? []).map((r) => ({ ...r, nodes: [...r.nodes] })))
    this.persisted = JSON.stringify(this.exportState())
  }

  /**
   * A node that answers but no longer hosts a replica placed on it (it lost its disk) is treated
   * as failed for that partition once the replica has been missing for the detection time (a
   * lagging node creates split children a little later than the others).
   */
  private checkHosted(nodeId: string, hosted: ReadonlyArray<string>, now: number): void {
    const have = new Set(hosted)
    const detectMs = this.options.failureDetectMs ?? FAILURE_DETECT_MS_DEFAULT
    for (const st of this.tables.values()) {
      for (const [pid, where] of st.placement) {
        const key = `${nodeId}/${pid}`
        if (!where.includes(nodeId) || have.has(pid) || this.pendingSplits.get(st.info.name)?.pid === pid) {
          this.missingSince.delete(key)
          continue
        }
        const since = this.missingSince.get(key)
        if (since === undefined) this.missingSince.set(key, now)
        else if (now - since > detectMs && this.options.heal !== false) {
          this.missingSince.delete(key)
          this.emit({ type: "replica-lost", partition: pid, node: nodeId, at: now })
          this.coverOne(st, pid, nodeId, now)
        }
      }
    }
  }

  private readonly missingSince = new Map<string, number>()

  /** Nodes currently declared failed. */
  failedNodes(): string[] {
    return [...this.failed]
  }

  private coverFailedNode(nodeId: string, now: number): void {
    for (const st of this.tables.values()) {
      for (const [pid, where] of st.placement) if (where.includes(nodeId)) this.coverOne(st, pid, nodeId, now)
    }
  }

  /**
   * Queues a heal of `pid`'s replica on `nodeId` (its nodes are chosen when it starts); returns
   * it, or undefined when one is already pending.
   */
  private coverOne(st: TableState, pid: string, nodeId: string, now: number): PendingHeal | undefined {
    if (this.pendingHeal.some((h) => h.pid === pid && h.failed === nodeId && h.stage < HEAL_DONE))
      return undefined
    const h: PendingHeal = {
      table: st.info.name,
      pid,
      failed: nodeId,
      detectedAt: now,
      logNode: undefined,
      storageNode: undefined,
      stage: HEAL_ADD_LOG,
      joinSlot: 0,
      failedRemoved: false,
      storageAdded: false,
      learnerHolds: 0,
      event: undefined,
    }
    this.pendingHeal.push(h)
    return h
  }

  /**
   * An up, healthy node for a new replica of `pid` replacing the one on `failed`: not among
   * `where`, the members of the current configuration (`members`: replica ids) nor any heal's
   * target, and for a log replica not `failed` itself (the heal removes the failed node's id
   * after adding its log replica; a storage replica goes there only once that id has left). One
   * that never hosted the partition first (same AZ first), else one whose old replica has left
   * the group: its stale copy is wiped first, and the new replica must not vote before it holds
   * the log (`holdVotesThrough`: it reuses an old member's id).
   */
  private pickNode(
    pid: string,
    where: ReadonlyArray<string>,
    failed: string,
    members: ReadonlySet<number>,
    role: "log" | "storage",
  ): string | undefined {
    const az = this.dir.azOf(failed)
    const ever = this.everHosted(pid)
    const busy = new Set(
      this.pendingHeal
        .filter((h) => h.pid === pid && h.stage < HEAL_DONE)
        .flatMap((h) => [h.logNode ?? "", h.storageNode ?? ""]),
    )
    const ok = [...this.nodes.values()].filter(
      (n) =>
        n.isUp &&
        this.healthy(n.nodeId) &&
        (role === "storage" || n.nodeId !== failed) &&
        !where.includes(n.nodeId) &&
        !busy.has(n.nodeId) &&
        !members.has(this.dir.replicaIdOf(n.nodeId)),
    )
    const fresh = ok.filter((n) => !ever.has(n.nodeId))
    const reusable = ok.filter((n) => ever.has(n.nodeId))
    // Same AZ as the replica replaced; else an AZ none of the remaining replicas is in; else any.
    // Fresh nodes first at each level; a reused node's stale copy is wiped.
    const usedAzs = new Set(where.map((n) => this.dir.azOf(n)))
    const levels: Array<(n: StorageNode) => boolean> = [
      (n) => n.az === az,
      (n) => !usedAzs.has(n.az),
      () => true,
    ]
    for (const level of levels) {
      const f = fresh.find(level)
      if (f !== undefined) return f.nodeId
      const r = reusable.find(level)
      if (r !== undefined) {
        // A storage replica of this partition still there with its disk (a member removed while
        // its node was away, back now) is kept: its promises and accepted entries are intact, so
        // it may vote once promoted. Wiping it made a new incarnation that holds its votes; then
        // the group's last committed configuration still counted the old one, and with one more
        // member lost, its four voters could not elect a leader (stress seed 330321).
        const copy = r.replicas.get(pid)
        if (!(role === "storage" && copy?.spec.role === "storage" && !copy.retired)) r.dropReplica(pid)
        return r.nodeId
      }
    }
    return undefined
  }

  /** Answers the probes: not declared failed, and heard from within `HEAL_TARGET_SILENCE_MS_MAX`. */
  private healthy(nodeId: string): boolean {
    const now = this.runtime.now()
    return !this.failed.has(nodeId) && now - (this.lastPong.get(nodeId) ?? now) <= HEAL_TARGET_SILENCE_MS_MAX
  }

  private everHosted(pid: string): Set<string> {
    return setIn(this.hosted, pid)
  }

  private readonly hosted = new Map<string, Set<string>>()
  private readonly pendingHeal: PendingHeal[] = []

  /**
   * Heals, one membership change at a time (Paxos's rule), and one heal per partition at a time
   * (two heals interleaving their changes once left a partition with one storage member and two
   * log replicas: that member's disk was then the only copy). Stages: `HEAL_ADD_LOG` adds a log
   * replica (a learner until it has caught up, then promoted to a voter: the quorum is restored);
   * `HEAL_REMOVE_FAILED` removes the failed member, but only while at least
   * `HEAL_STORAGE_MEMBERS_MIN` other storage members are healthy and hold the data — else the
   * replacement storage replica is added first; `HEAL_ADD_STORAGE` adds a fresh storage replica
   * (a learner rebuilt from the leader's base, snapshot and log, promoted once caught up);
   * `HEAL_REMOVE_LOG` removes the log replica once both are done. Each replacement joins as a
   * learner so that the group never counts a member that cannot answer yet: a newcomer that voted
   * at once made four members of which three could vote, and one more loss left no quorum.
   */
  private progressHeals(now: number): void {
    // Heals of one partition run one after the other, oldest first.
    const active = new Set<string>()
    for (const h of this.pendingHeal) {
      if (h.stage >= HEAL_DONE) continue
      const st = this.tables.get(h.table)
      const where = st?.placement.get(h.pid)
      const p = st?.map.get(h.pid)
      if (st === undefined || where === undefined || p === undefined) {
        h.stage = HEAL_DONE
        continue
      }
      if (active.has(h.pid)) continue
      // A heal parked behind the quorum guard (it waits for other members to recover or be
      // replaced) lets the next heal of its partition go on.
      if (this.progressHeal(h, st, where, p, now)) active.add(h.pid)
    }
    // Finished heals leave the list (it was walked on every tick and grew with every heal of a
    // long-running cluster); their events stay in `heals`, the most recent EVENTS_MAX of them.
    if (this.pendingHeal.some((h) => h.stage >= HEAL_DONE)) {
      const open = this.pendingHeal.filter((h) => h.stage < HEAL_DONE)
      this.pendingHeal.length = 0
      this.pendingHeal.push(...open)
    }
    if (this.heals.length > EVENTS_MAX) this.heals.splice(0, this.heals.length - EVENTS_MAX)
  }

  /**
   * One step of one heal (see `progressHeals`). Returns false when the heal is parked (its failed
   * member cannot be removed yet, and its replacement is in), true while it holds its partition.
   */
  private progressHeal(h: PendingHeal, st: TableState, where: string[], p: Partition, now: number): boolean {
    const leaderNode = [...this.nodes.values()].find((n) => n.replicas.get(h.pid)?.isLeader())
    const leader = leaderNode?.replicas.get(h.pid)
    if (leader === undefined || leader.retired) return true
    const cfg = leader.core.latestConfig().members
    const ids = new Set(cfg.map((m) => m.id))
    if (h.event === undefined || h.logNode === undefined) {
      // Not started yet (an earlier heal of the partition ran first): the failed replica may
      // be back meanwhile, with its disk; then there is nothing to do.
      if (this.recovered(h, cfg)) {
        h.stage = HEAL_DONE
        return false
      }
      const target = this.pickNode(h.pid, where, h.failed, ids, "log")
      if (target === undefined) return true
      h.logNode = target
      h.event = {
        partitionId: h.pid,
        failedNode: h.failed,
        logNode: target,
        detectedAt: h.detectedAt,
        coveredAt: undefined,
        storageNode: undefined,
        rebuiltAt: undefined,
      }
      this.heals.push(h.event)
    }
    const event = h.event
    const logNode = h.logNode
    // Caught up: it has committed everything up to its own joining configuration entry.
    const caughtUp = (node: string | undefined): boolean => {
      const r = node === undefined ? undefined : this.nodes.get(node)?.replicas.get(h.pid)
      return (
        r !== undefined &&
        h.joinSlot > 0 &&
        r.core.commitIndex >= h.joinSlot &&
        (r.spec.role === "log" || r.applied >= h.joinSlot)
      )
    }
    const idOf = (n: string) => this.dir.replicaIdOf(n)
    const spec = (role: "storage" | "log") => ({
      table: h.table,
      keySchema: st.info.keySchema,
      hash: st.info.hash,
      partition: p,
      members: null,
      role,
    })
    const isLearner = (node: string): boolean => cfg.some((m) => m.id === idOf(node) && !isVoter(m))
    /**
     * A replacement joins as a learner, so the group's quorum never waits on it; caught up, it is
     * promoted to a voter (one membership change), and the heal waits for that to commit.
     */
    const promote = (node: string): void => {
      const id = idOf(node)
      const next = cfg.map((m) => (m.id === id ? { id: m.id, role: m.role, zone: m.zone } : m))
      if (leader.proposeConfig(next)) h.joinSlot = leader.core.lastIndex()
    }
    switch (h.stage) {
      case HEAL_ADD_LOG: {
        if (!cfg.some((m) => m.id === idOf(logNode))) {
          if (!this.healthy(logNode)) {
            // The chosen node went silent before joining (cut off, maybe with the failed one):
            // choose another rather than add a member the group may not reach. Its replica, if
            // created, stays: an earlier leader may have proposed it, and a later leader may
            // still recover that entry (its promises and accepted values must not be lost).
            const other = this.pickNode(h.pid, where, h.failed, ids, "log")
            if (other !== undefined) h.logNode = event.logNode = other
            return true
          }
          const t = this.nodes.get(logNode)
          // A joining log replica starts with the configuration that adds it (as a learner; it is
          // promoted to a voter once caught up), and it never leads itself.
          const joined = [
            ...cfg,
            { id: idOf(logNode), role: "log" as const, zone: this.dir.azOf(logNode), learner: true },
          ]
          if (t?.replicas.get(h.pid) === undefined) {
            const r = t?.createReplica({ ...spec("log"), members: joined }, "log")
            if (r !== undefined) this.logHostsOf(h.pid).add(logNode)
            // A reused node: an earlier member's id, whose promises are gone (see pickNode).
            if (this.everHosted(h.pid).has(logNode)) r?.holdVotesThrough(leader.core.commitIndex)
          }
          if (t?.replicas.get(h.pid) === undefined) {
            // The chosen node is down now: choose another before adding anyone to the group.
            const other = this.pickNode(h.pid, where, h.failed, ids, "log")
            if (other !== undefined) h.logNode = event.logNode = other
            return true
          }
          this.everHosted(h.pid).add(logNode)
          if (leader.proposeConfig(joined)) h.joinSlot = leader.core.lastIndex()
        } else if (h.joinSlot === 0) {
          // Already a member (a split child inherits its parent's log replicas): measure from now.
          h.joinSlot = Math.max(1, leader.core.commitIndex)
        } else if (this.healthy(logNode) && this.nodes.get(logNode)?.replicas.get(h.pid) === undefined) {
          // A member whose node hosts no replica of the group: it missed the split that made this
          // partition (down when its parent's log replica would have followed it), or lost its
          // disk. Create it there, as a new incarnation of that member id: no votes until it holds
          // the log through the commit point (a seeded stress run waited on it forever).
          const r = this.nodes.get(logNode)?.createReplica({ ...spec("log"), members: cfg }, "log")
          if (r !== undefined) this.logHostsOf(h.pid).add(logNode)
          r?.holdVotesThrough(leader.core.commitIndex)
        } else if (isLearner(logNode)) {
          if (caughtUp(logNode)) promote(logNode)
        } else if (caughtUp(logNode)) {
          event.coveredAt = now
          this.emit({
            type: "log-replica-covered",
            partition: h.pid,
            failed: h.failed,
            logNode: logNode,
            afterMs: now - event.detectedAt,
            at: now,
          })
          h.joinSlot = 0
          h.stage = HEAL_REMOVE_FAILED
        }
        return true
      }
      case HEAL_REMOVE_FAILED: {
        if (h.failedRemoved) {
          // Already out (a split child's heal carried on from its parent's, see `progressSplits`).
          h.joinSlot = 0
          h.stage = h.storageAdded ? HEAL_REMOVE_LOG : HEAL_ADD_STORAGE
          return true
        }
        if (leaderNode?.nodeId === h.failed) {
          if (!h.storageAdded && h.learnerHolds > 0) {
            // The "failed" replica came back and leads while its replacement waits as a learner:
            // promote the replacement first (then hand over to it, below).
            h.learnerHolds = 0
            h.joinSlot = 0
            h.stage = HEAL_ADD_STORAGE
            return true
          }
          if (h.storageAdded) {
            // The "failed" replica came back and leads, and its replacement is in: hand over to
            // the replacement, then remove the old member as planned.
            if (h.storageNode !== undefined) leader.core.transferLeadership(idOf(h.storageNode))
            return true
          }
          // The "failed" replica came back and leads: keep it, retire the log replica instead.
          h.joinSlot = 0
          h.stage = HEAL_REMOVE_LOG
          return true
        }
        if (cfg.some((m) => m.id === idOf(h.failed))) {
          if (this.storageMembersLeft(h, cfg) < HEAL_STORAGE_MEMBERS_MIN) {
            // Removing it would leave fewer storage members able to lead than a quorum of three
            // (their disks would be the only copy). If it is back with its disk, keep it and
            // retire the log replica; else add the replacement first, and with that in, park:
            // the other members must recover or be replaced (by the next heal) first. A
            // replacement waiting as a learner is promoted (the guard no longer holds with it).
            if (!h.storageAdded && h.learnerHolds > 0) {
              h.learnerHolds = 0
              h.joinSlot = 0
              h.stage = HEAL_ADD_STORAGE
              return true
            }
            if (this.recovered(h, cfg)) {
              h.joinSlot = 0
              h.stage = HEAL_REMOVE_LOG
              return true
            }
            if (h.storageAdded) return false
            h.stage = HEAL_ADD_STORAGE
            return true
          }
          if (leader.proposeConfig(cfg.filter((m) => m.id !== idOf(h.failed))))
            h.joinSlot = leader.core.lastIndex()
        } else if (leader.core.commitIndex >= h.joinSlot) {
          const i = where.indexOf(h.failed)
          if (i >= 0) where.splice(i, 1)
          h.failedRemoved = true
          h.joinSlot = 0
          // A member kept by an earlier heal (it came back) may already make up the three.
          const storage = cfg.filter((m) => m.role === "storage" && isVoter(m)).length
          // A replacement waiting as a learner is promoted now (HEAL_ADD_STORAGE).
          h.stage =
            !h.storageAdded && (h.learnerHolds > 0 || storage < REPLICAS_PER_PARTITION)
              ? HEAL_ADD_STORAGE
              : HEAL_REMOVE_LOG
        }
        return true
      }
      case HEAL_ADD_STORAGE: {
        if (h.storageNode === undefined) {
          h.storageNode = this.pickNode(h.pid, where, h.failed, ids, "storage")
          if (h.storageNode === undefined) return true
          event.storageNode = h.storageNode
        }
        const sn = h.storageNode
        if (!cfg.some((m) => m.id === idOf(sn))) {
          const t = this.nodes.get(sn)
          if (t?.replicas.get(h.pid) === undefined) {
            const r = t?.createReplica(spec("storage"), "storage")
            r?.installBase(leader.durable.base)
            // A reused node gives the new replica the id of an earlier member whose state is
            // gone: no votes until it holds the log past that member's removal (committed).
            if (this.everHosted(h.pid).has(sn)) r?.holdVotesThrough(leader.core.commitIndex)
          }
          if (t?.replicas.get(h.pid) === undefined) {
            h.storageNode = undefined
            return true
          }
          this.everHosted(h.pid).add(sn)
          const joined = { id: idOf(sn), role: "storage" as const, zone: this.dir.azOf(sn), learner: true }
          if (leader.proposeConfig([...cfg, joined])) h.joinSlot = leader.core.lastIndex()
        } else if (
          this.nodes.get(sn)?.isUp === true &&
          this.nodes.get(sn)?.replicas.get(h.pid) === undefined
        ) {
          // A member now, but its node lost the disk before the replica caught up: rebuild it
          // there, as a new incarnation of that member id (no votes until it holds the log
          // through the commit point; its predecessor's state is gone).
          const r = this.nodes.get(sn)?.createReplica(spec("storage"), "storage")
          r?.installBase(leader.durable.base)
          r?.holdVotesThrough(leader.core.commitIndex)
        } else if (h.joinSlot === 0) h.joinSlot = Math.max(1, leader.core.commitIndex)
        else if (isLearner(sn)) {
          if (!caughtUp(sn)) return true
          if (this.removeFailedFirst(h, cfg, leaderNode?.nodeId, sn)) {
            // Caught up: it holds the data. The failed member leaves before it votes, so the
            // group never has four voters of which the failed one is one: with the newcomer then
            // lost too (a crash, a wipe: it is rebuilt holding its votes), two of four voters
            // could answer, no leader could be elected, and no heal could start (stress seed
            // 330321). As a learner, its loss costs the group no vote.
            h.learnerHolds = h.joinSlot
            h.joinSlot = 0
            h.stage = HEAL_REMOVE_FAILED
            this.counters.learnersHeldBack++
          } else promote(sn)
        } else if (caughtUp(sn)) {
          where.push(sn)
          h.storageAdded = true
          h.joinSlot = 0
          h.stage = h.failedRemoved ? HEAL_REMOVE_LOG : HEAL_REMOVE_FAILED
        }
        return true
      }
      case HEAL_REMOVE_LOG: {
        if (cfg.some((m) => m.id === idOf(logNode))) {
          if (leader.proposeConfig(cfg.filter((m) => m.id !== idOf(logNode))))
            h.joinSlot = leader.core.lastIndex()
        } else if (h.joinSlot === 0 || leader.core.commitIndex < h.joinSlot) {
          // Until the removal is committed, the old configuration (with the log replica) may
          // still be the one a new leader must gather a quorum of: keep the replica until then.
          if (h.joinSlot === 0) h.joinSlot = leader.core.lastIndex()
        } else {
          this.nodes.get(logNode)?.dropReplica(h.pid)
          event.rebuiltAt = now
          this.emit({
            type: "storage-replica-rebuilt",
            partition: h.pid,
            node: h.storageNode ?? "?",
            afterMs: now - event.detectedAt,
            at: now,
          })
          h.stage = HEAL_DONE
          leaderNode?.publishRoute(h.table, p, leader, leaderNode.nodeId)
        }
        return true
      }
    }
    return true
  }

  /** The heal's failed member is back: a storage member of `cfg` on a healthy node hosting it. */
  private recovered(h: PendingHeal, cfg: ReadonlyArray<Member>): boolean {
    const id = this.dir.replicaIdOf(h.failed)
    const r = this.nodes.get(h.failed)?.replicas.get(h.pid)
    return (
      this.healthy(h.failed) &&
      r !== undefined &&
      r.spec.role === "storage" &&
      !r.retired &&
      cfg.some((m) => m.id === id && m.role === "storage" && isVoter(m))
    )
  }

  /**
   * Storage members of `cfg` other than the heal's failed one that can lead and hold the data:
   * on a healthy node (answering the probes) that hosts the replica.
   */
  private storageMembersLeft(h: PendingHeal, cfg: ReadonlyArray<Member>): number {
    let n = 0
    for (const m of cfg) {
      if (m.role !== "storage") continue
      const node = this.dir.nodeOf(m.id)
      if (node === undefined || node === h.failed || !this.healthy(node)) continue
      const r = this.nodes.get(node)?.replicas.get(h.pid)
      if (r === undefined || r.spec.role !== "storage" || r.retired) continue
      // A learner counts only as the heal's own replacement, caught up (see `learnerHolds`).
      if (isVoter(m) || (node === h.storageNode && h.learnerHolds > 0 && r.applied >= h.learnerHolds)) n++
    }
    return n
  }

  /**
   * Whether the heal's caught-up storage learner on `sn` should wait for the failed member's
   * removal before its promotion: the failed member is still in, does not lead, and with the
   * learner counted the removal's guard holds (see `storageMembersLeft`).
   */
  private removeFailedFirst(
    h: PendingHeal,
    cfg: ReadonlyArray<Member>,
    leaderNode: string | undefined,
    sn: string,
  ): boolean {
    if (h.failedRemoved || leaderNode === h.failed) return false
    const failedId = this.dir.replicaIdOf(h.failed)
    if (!cfg.some((m) => m.id === failedId)) return false
    const r = this.nodes.get(sn)?.replicas.get(h.pid)
    if (r === undefined || !this.healthy(sn)) return false
    const probe = { ...h, learnerHolds: Math.max(1, h.joinSlot) }
    return this.storageMembersLeft(probe, cfg) >= HEAL_STORAGE_MEMBERS_MIN
  }
}

/** The set under `key` in `map`, created empty on first use. */
const setIn = <K, V>(map: Map<K, Set<V>>, key: K): Set<V> => {
  let s = map.get(key)
  if (s === undefined) {
    s = new Set()
    map.set(key, s)
  }
  return s
}

/** The metadata service's durable state (`MetadataService.exportState`), as JSON. */
export interface MetadataState {
  readonly v: number
  readonly nodes: ReadonlyArray<string>
  readonly tableSeq: number
  readonly counters: MetadataService["counters"]
  readonly tables: ReadonlyArray<{
    readonly info: TableInfo
    readonly attributes: ReadonlyArray<AttributeDefinition>
    readonly map: PartitionMapData
    readonly placement: ReadonlyArray<[string, string[]]>
    readonly created: number
    readonly peak: { r: number; w: number }
    readonly max: { r: number; w: number }
  }>
  readonly hosted: ReadonlyArray<[string, string[]]>
  readonly logHosts: ReadonlyArray<[string, string[]]>
  readonly heals: ReadonlyArray<HealEvent>
  /** `event`: index into `heals` (-1: none yet). */
  readonly pendingHeal: ReadonlyArray<Omit<PendingHeal, "event"> & { readonly event: number }>
  readonly pendingSplits: ReadonlyArray<{
    readonly table: string
    readonly pid: string
    readonly fence: SplitFence
    readonly map: PartitionMapData
    readonly proposedAt: number
    readonly reason: "size" | "consumption" | "throughput"
  }>
  readonly owedLogChildren: ReadonlyArray<{ table: string; node: string; spec: ReplicaSpec }>
  /** Adopted splits whose parent replicas may still be hosted (absent in older files). */
  readonly retiredParents?: ReadonlyArray<{ pid: string; children: [string, string]; nodes: string[] }>
}

/** A heal in progress (see `MetadataService.progressHeals`). */
interface PendingHeal {
  readonly table: string
  readonly pid: string
  readonly failed: string
  readonly detectedAt: number
  /** Chosen when the heal starts (heals of one partition run one after the other). */
  logNode: string | undefined
  storageNode: string | undefined
  stage: number
  /** Log slot of the configuration entry that added the joining replica (or removed a member). */
  joinSlot: number
  /** The failed member has left the configuration. */
  failedRemoved: boolean
  /** The replacement storage replica is a member and has caught up. */
  storageAdded: boolean
  /**
   * Nonzero: the replacement storage replica, still a learner, had applied the log through this
   * slot when the heal chose to remove the failed member before promoting it (it then holds the
   * data, so it counts for `storageMembersLeft`).
   */
  learnerHolds: number
  /** Public record, from the start (`MetadataService.heals`). */
  event: HealEvent | undefined
}

/** Storage replicas a partition is healed back to. */
export const REPLICAS_PER_PARTITION = 3
/** Heal stages. */
const HEAL_ADD_LOG = 0
const HEAL_REMOVE_FAILED = 1
const HEAL_ADD_STORAGE = 2
const HEAL_REMOVE_LOG = 3
/**
 * A failed storage member is removed only while this many other storage members can lead and
 * hold the data (a quorum of the usual three); otherwise its replacement is added first.
 */
export const HEAL_STORAGE_MEMBERS_MIN = 2

/** The last heal stage. */
const HEAL_DONE = 4

/** A positive whole number of units no larger than `max`, or `absent` when absent or invalid. */
const bounded = (units: number | undefined, absent: number, max = absent): number =>
  units === undefined || !Number.isFinite(units) || units < 1 ? absent : Math.min(max, Math.floor(units))

/** A key attribute's name as DynamoDB allows it: 1 to 255 characters. */
const isAttributeName = (n: unknown): n is string => typeof n === "string" && n.length >= 1 && n.length <= 255

/** A positive whole number of capacity units (outside input: a string "5" must not pass as 5). */
const isUnits = (u: unknown): u is number => typeof u === "number" && Number.isInteger(u) && u >= 1

const parseKeySchema = (input: CreateTableInput): Either.Either<TableKeySchema, ValidationException> => {
  // Outside input: every level is checked before it is used (arbitrary values once threw here).
  const ks: unknown = input.KeySchema
  const entries = Array.isArray(ks) ? (ks as unknown[]) : []
  const isKey = (k: unknown, type: string): k is { AttributeName: string; KeyType: string } =>
    typeof k === "object" && k !== null && (k as { KeyType?: unknown }).KeyType === type
  const hash = entries.find((k) => isKey(k, "HASH"))
  const range = entries.find((k) => isKey(k, "RANGE"))
  if (
    hash === undefined ||
    entries.length > 2 ||
    (entries.length === 2 && range === undefined) ||
    !isKey(hash, "HASH") ||
    !isAttributeName(hash.AttributeName) ||
    (range !== undefined && !(isKey(range, "RANGE") && isAttributeName(range.AttributeName))) ||
    (range !== undefined && range.AttributeName === hash.AttributeName)
  )
    return Either.left(
      new ValidationException({
        message:
          "KeySchema must hold one HASH key and at most one RANGE key, each { AttributeName (1-255 characters), KeyType }, with different names",
      }),
    )
  const defs: unknown = input.AttributeDefinitions
  const defList = Array.isArray(defs) ? (defs as unknown[]) : []
  const typeOf = (n: string): unknown => {
    const d = defList.find(
      (a) => typeof a === "object" && a !== null && (a as { AttributeName?: unknown }).AttributeName === n,
    )
    return d === undefined ? undefined : (d as { AttributeType?: unknown }).AttributeType
  }
  const ht = typeOf(hash.AttributeName)
  const rt = range === undefined ? undefined : typeOf(range.AttributeName)
  if (ht === undefined || (range !== undefined && rt === undefined))
    return Either.left(
      new ValidationException({ message: "Every key attribute needs an AttributeDefinition" }),
    )
  const isKeyType = (t: unknown): t is "S" | "N" | "B" => t === "S" || t === "N" || t === "B"
  if (!isKeyType(ht) || (range !== undefined && !isKeyType(rt)))
    return Either.left(
      new ValidationException({
        message: `A key attribute's AttributeType must be S, N or B (got ${JSON.stringify(range !== undefined && !isKeyType(rt) ? rt : ht)})`,
      }),
    )
  return Either.right({
    partitionKey: { name: hash.AttributeName, type: ht },
    sortKey: range === undefined ? undefined : { name: range.AttributeName, type: rt as "S" | "N" | "B" },
  })
}

/** DynamoDB's default quota of a provisioned table, units per second of each kind. */
export const TABLE_UNITS_MAX = 40_000

/** The quota error for a rate over `TABLE_UNITS_MAX` (DynamoDB's LimitExceededException). */
const overTableQuota = (rcu: number, wcu: number): LimitExceededException | undefined => {
  if (rcu <= TABLE_UNITS_MAX && wcu <= TABLE_UNITS_MAX) return undefined
  const [units, kind] = wcu > TABLE_UNITS_MAX ? [wcu, "write"] : [rcu, "read"]
  return new LimitExceededException({
    message: `Subscriber limit exceeded: Provisioned throughput for a single table cannot exceed ${TABLE_UNITS_MAX} ${kind} capacity units (asked ${units})`,
  })
}

/** The size of a partition's hash range. */
const hashWidth = (p: Partition): bigint =>
  (p.end === undefined ? 1n << 128n : BigInt(`0x${p.end.hash}`)) - BigInt(`0x${p.start.hash}`)
