/**
 * One replica of one partition on a storage node: a Paxos group member (`@partita/paxos`'s pure
 * core) whose committed entries are applied to a B-tree (`@partita/btree`). Writes are decided on
 * the leader with the expressions module's `plan*` operations over a planning view (committed
 * items shadowed by the leader's own pending proposals) and replicated as item images, so every
 * replica installs the same bytes. Plain TypeScript: this is the hot path.
 */
import {
  MILLI_PER_UNIT,
  PARTITION_BUCKET_CAPACITY_MS,
  PARTITION_MAX_RCU,
  PARTITION_MAX_WCU,
  readCostMilli,
  TokenBucket,
  writeCostMilli,
} from "@partita/admission"
import { BTree, type BTreeView } from "@partita/btree"
import {
  type AttributeValue,
  ChurnMap,
  type EncodedKey,
  encodeKeyValue,
  IdRing,
  type Item,
  itemSize,
} from "@partita/core"
import {
  ConditionalCheckFailedException,
  getItem,
  planDeleteItem,
  planPutItem,
  planUpdateItem,
  query,
  scan,
  type TableKeySchema,
  type WriteOutput,
} from "@partita/expressions"
import {
  AccessStats,
  compareBoundary,
  type HashName,
  hashKeyInto,
  hexToWords,
  type Partition,
  positionMin as POSITION_MIN,
  wordsToHex,
} from "@partita/partitioner"
import {
  ENTRY_COMMAND,
  ENTRY_CONFIG,
  type Entry,
  type HardState,
  type Member,
  type Membership,
  type Message,
  PaxosCore,
  type Ready,
  type Snapshot,
  Archiver,
  archiveSegment,
  listSegments,
  ObjectStore,
  type ObjectStoreService,
  type SealedSegment,
  decodeMembership,
} from "@partita/paxos"
import { Effect, Either, Exit, Schedule } from "effect"
import {
  type Command,
  decodeCommandShared,
  encodeSplit,
  encodeWriteShared,
  isSplitCommand,
  itemToText,
  type SplitFence,
  type StoredItem,
} from "./codec.ts"
import type { DataError, DataRequest, DataResponse, RequestHeader } from "./messages.ts"
import { encodedKeyOf, makeTree, PlanningStore, replicaTreeOptions, TreeItemStore } from "./store.ts"
import type { ReplicaWal } from "./wal.ts"
import { type RequestIds, RequestIdSet } from "./dedupe.ts"

/** Request ids remembered per partition for idempotent retries (FIFO, bounded). */
export const DEDUPE_ENTRIES_MAX = 100_000
/**
 * Default window of the request ids a replica remembers (ms of the leaders' clock, `dedupe.ts`):
 * three times the routers' default deadline (`REQUEST_DEADLINE_MS_DEFAULT`, 10 s), past which no
 * router retries a write. A cluster whose routers wait longer widens it (`cluster.ts`).
 */
export const DEDUPE_WINDOW_MS_DEFAULT = 30_000
/** Unused partition capacity kept as burst credit (DynamoDB: up to 300 s). */
export const BURST_CREDIT_S = 300

/** Retries of an archive upload to an object store with real I/O. */
export const ARCHIVE_RETRIES = 5

/** Writes queued behind one key's in-flight write. */
export const KEY_QUEUE_MAX = 1024
/** Strong reads waiting for their read index, per replica. */
export const READ_WAITERS_MAX = 100_000

/** Timing of the Paxos cores (ms). */
export interface PaxosTiming {
  readonly electionTimeoutMs: number
  readonly heartbeatMs: number
  readonly leaseMs: number
  /** Compact the log (snapshot of the B-tree) every this many applied entries. */
  readonly compactEntries?: number
  /** Request ids are remembered this long (ms), see `DEDUPE_WINDOW_MS_DEFAULT`. */
  readonly dedupeWindowMs?: number
}

/** Default compaction period, in applied entries. */
export const COMPACT_ENTRIES_DEFAULT = 4096
/**
 * Compaction by size too: once the log since the last snapshot holds this many times the bytes of
 * the B-tree (and at least `COMPACT_BYTES_MIN`), compact even before `compactEntries`. Without it a
 * table of many small partitions kept every 1 KB write three times until its partition reached
 * 4,096 entries (≈ 800 MB of log at 64 partitions), and the collector's work grew with it.
 * Shorter logs (2x and 256 KiB) were measured once compaction became O(1): the heap was smaller,
 * but each snapshot makes the next writes copy the B-tree nodes on their path, and both the
 * closed-loop write rate and the open-loop p99 were worse.
 */
export const COMPACT_LOG_TO_TREE = 8
/** Smallest log (bytes since the snapshot) that the size rule compacts. */
export const COMPACT_BYTES_MIN = 1024 * 1024
/**
 * Committed entries a log replica keeps behind its compaction point (see `maybeCompact`): about
 * ten heartbeats of a partition at its 1,000 writes/s ceiling, far more than a storage member's
 * knowledge of the commit index lags.
 */
export const LOG_REPLICA_KEEP_ENTRIES = 1024
/** Fewest entries the size rule compacts (a snapshot is never taken for a handful of writes). */
export const COMPACT_ENTRIES_MIN = 64
/**
 * A storage replica that has applied nothing for this long compacts a log of at least
 * `COMPACT_ENTRIES_MIN` entries. Compaction otherwise happens only as writes arrive, so a
 * partition whose writes stopped kept up to `COMPACT_BYTES_MIN` of log for good: after a burst of
 * writes over 128 partitions, over 100 MB the collector marked at every full collection.
 */
export const IDLE_COMPACT_MS = 1000

/** What a storage node needs to host a replica. */
export interface ReplicaSpec {
  readonly table: string
  readonly keySchema: TableKeySchema
  /** The table's partition-key hash (children of a split re-hash items to filter them). */
  readonly hash: HashName
  readonly partition: Partition
  readonly role: "storage" | "log"
  /** The group's configuration at creation (null: joining an existing group). */
  readonly members: ReadonlyArray<Member> | null
}

/** The persistent state of a replica (its "disk"): survives a node crash. */
export interface DurableLog {
  hard: HardState
  /** entries[slot - offset]; later writes of a slot supersede earlier ones. */
  entries: Entry[]
  /** First slot held in `entries` (1 until the first compaction). */
  offset: number
  /** The latest snapshot (compaction point), if any; it supersedes `base`. */
  snapshot?: Snapshot | undefined
  /**
   * The state the group started from (a split child inherits its parent's items at the fence):
   * an immutable B-tree snapshot and the request ids applied before it. Log slot 1 applies on it.
   */
  base?: ReplicaBase | undefined
  /** No votes until the log holds the group's history through this slot (`holdVotesThrough`). */
  holdVotesThrough?: number | undefined
  /** Set by a WAL recovery that found corruption: no votes until repaired through this slot. */
  repairThrough?: number | undefined
  /** The WAL file's length at its last fsync (`wal.ts`; a file system keeps it across a crash). */
  walSyncedBytes?: number | undefined
}

/** A replica group's starting state. */
export interface ReplicaBase {
  readonly tree: BTreeView<StoredItem>
  readonly dedupe: ReadonlyArray<string>
  /** The ids' stamps (`dedupe.ts`), beside `dedupe`; absent: none. */
  readonly dedupeStamps?: ReadonlyArray<number>
}

/** Per-replica counters. */
export interface ReplicaCounters {
  applied: number
  proposals: number
  reads: number
  throttled: number
  /** Capacity the partition buckets refused, milli-units (adaptive capacity's input). */
  throttledReadMilli: number
  throttledWriteMilli: number
  leaderTerms: number
  compactions: number
  /** Capacity admitted by the partition buckets, milli-units. */
  readMilli: number
  writeMilli: number
  /** Writes refused because they needed burst credit and a member's node had no spare capacity. */
  burstRefused: number
}

/** The host a replica runs on (a storage node). */
export interface ReplicaHost {
  readonly nodeId: string
  now(): number
  sendPaxos(partitionId: string, m: Message): void
  markDirty(r: Replica): void
  nodeOfReplica(id: number): string | undefined
  /** Node-level bucket check (burst capacity shared by every replica on the node). */
  takeNode(kind: "r" | "w", milli: number, now: number): boolean
  /**
   * The spare write capacity another node last reported (its node bucket's tokens, milli-units;
   * undefined when it has not reported lately). A host without it lets every burst through.
   */
  peerSpareWrite?(nodeId: string, now: number): number | undefined
  /** A split fence was applied here: create the children from this replica's state. */
  onSplit(parent: Replica, fence: SplitFence): void
  /** The WAL archive (an object store), if archiving is on. */
  readonly archive?:
    | { readonly store: ObjectStoreService; readonly entriesPerSegment: number; readonly async?: boolean }
    | undefined
  /** Leadership gained or lost (for routing updates and metrics). */
  onLeaderChange(r: Replica, leader: boolean): void
  /** The replica's WAL failed an fsync: it has stopped, and its log must not be used again. */
  onWalFailed?(r: Replica): void
  /** The replica's base or vote hold changed (a host that keeps them in files writes them). */
  onDurableMeta?(r: Replica, what: "base" | "hold"): void
  /** The clock of a write's stamp, when it is not `now` (see `Runtime.continuingNow`). */
  stampNow?(): number | undefined
}

/**
 * Observes a storage replica's applied entries and sealed WAL segments: the scrubber's tap
 * (`scrub.ts` keeps boundary snapshots, the recent log and the sealed segments through it).
 */
export interface ReplicaTap {
  /** Applies `e` by calling `apply` (once), observing the state before and after. */
  apply(r: Replica, e: Entry, apply: (e: Entry) => void): void
  /** A WAL segment this replica sealed (the canonical archive framing it uploads). */
  sealed(r: Replica, seg: SealedSegment): void
}

type Reply = (r: DataResponse) => void

const err = (kind: DataError["kind"], message?: string, leaderNode?: string): DataError => ({
  ok: false,
  kind,
  message,
  leaderNode,
})

/** A replica of one partition. */
export class Replica {
  readonly core: PaxosCore
  tree: BTree<StoredItem>
  readonly committed: TreeItemStore
  readonly planning: PlanningStore
  applied = 0
  epoch: number
  retired = false
  readonly counters: ReplicaCounters = {
    applied: 0,
    proposals: 0,
    reads: 0,
    throttled: 0,
    throttledReadMilli: 0,
    throttledWriteMilli: 0,
    leaderTerms: 0,
    compactions: 0,
    readMilli: 0,
    writeMilli: 0,
    burstRefused: 0,
  }
  private readonly dedupe: RequestIdSet
  // Set and deleted per write: `ChurnMap`s, not Maps (see there: young collections).
  private readonly writeWaiters = new ChurnMap<string, { reply: Reply; out: WriteOutput; key: EncodedKey }>()
  private readonly keyQueue = new ChurnMap<
    EncodedKey,
    Array<{ req: Exclude<DataRequest, { consistent: boolean }>; reply: Reply }>
  >()
  /** Strong reads waiting for their read index, by read id (a ring: see `IdRing`). */
  private readonly readWaiters = new IdRing<{ req: DataRequest; reply: Reply }>()
  private readonly readsAfterApply: Array<{ index: number; req: DataRequest; reply: Reply }> = []
  private readonly compactEntries: number
  /** Bytes of entry data applied since the last snapshot was taken (for the size rule). */
  private logBytesSinceSnapshot = 0
  /** When a tick last saw `applied` move, and the value it saw (idle compaction). */
  private lastAppliedAt = 0
  private appliedAtTick = 0
  private pendingCompaction:
    | { index: number; view: BTreeView<StoredItem>; dedupe: () => RequestIds }
    | undefined
  /** Seals committed entries into WAL archive segments (storage replicas, when archiving is on). */
  readonly archiver: Archiver | undefined
  /** Archive uploads that failed or found a differing archived copy. */
  archiveErrors = 0
  private nextReadId = 1
  /** The scrubber's tap, if one is attached (volatile: a restarted replica starts without). */
  tap: ReplicaTap | undefined
  /** The log on the node's disk, when the node has one (`wal.ts`); else `durable` is the disk. */
  wal: ReplicaWal | undefined
  private readonly applyEntry = (e: Entry): void => this.apply(e)
  private proposedSinceDrain = false
  private leaderBallot = -1
  /** The ballot of the term in which this leader has applied everything committed (`isLeader`). */
  private caughtUpBallot = -1
  /** Sampled accesses on the leader (split-for-consumption input); reset by the metadata service. */
  readonly access: AccessStats
  /** When `access` was last reset (ms). */
  accessSince: number
  private readonly hashWords = new Uint32Array(4)
  /** The current request's partition-key hash (set by `owns`, reused by `recordAccess`). */
  private readonly keyHash = new Uint32Array(4)
  /** The key value `keyHash` holds the hash of (identity), or undefined. */
  private keyHashOf: AttributeValue | undefined = undefined
  /** This replica's range as hash words, for `owns`. */
  private bounds:
    | {
        readonly partition: Partition
        readonly start: Uint32Array
        readonly startSk: EncodedKey | undefined
        readonly end: Uint32Array | undefined
        readonly endSk: EncodedKey | undefined
      }
    | undefined = undefined
  private readonly readBucket: TokenBucket
  private readonly writeBucket: TokenBucket
  /** The partition maximum (3,000 RCU / 1,000 WCU), one second deep: no burst credit above it. */
  /** The partition's write rate, one second deep: a write it cannot cover spends burst credit. */
  private readonly writeSteady: TokenBucket
  private readonly readCeiling: TokenBucket
  private readonly writeCeiling: TokenBucket

  constructor(
    readonly host: ReplicaHost,
    readonly replicaId: number,
    readonly spec: ReplicaSpec,
    readonly durable: DurableLog,
    timing: PaxosTiming,
    jitterSeed: number,
  ) {
    this.epoch = spec.partition.epoch
    const now = host.now()
    const config: Membership | null = spec.members === null ? null : { members: spec.members }
    const recovered =
      durable.entries.length > 0 || durable.hard.promised > 0 || durable.snapshot !== undefined
        ? {
            hardState: durable.hard,
            snapshot: durable.snapshot ?? null,
            entries: durable.entries.filter((e) => e !== undefined),
            repairThrough: durable.repairThrough ?? 0,
          }
        : undefined
    this.compactEntries = timing.compactEntries ?? COMPACT_ENTRIES_DEFAULT
    this.dedupe = new RequestIdSet(DEDUPE_ENTRIES_MAX, timing.dedupeWindowMs ?? DEDUPE_WINDOW_MS_DEFAULT)
    this.archiver =
      host.archive !== undefined && spec.role === "storage"
        ? new Archiver({ table: spec.table, partition: spec.partition.id }, host.archive.entriesPerSegment)
        : undefined
    this.core = new PaxosCore(
      {
        id: replicaId,
        role: spec.role,
        initialConfig: config,
        electionTimeoutMs: timing.electionTimeoutMs,
        heartbeatMs: timing.heartbeatMs,
        leaseMs: timing.leaseMs,
        jitterSeed,
      },
      recovered,
    )
    if (durable.holdVotesThrough !== undefined) this.core.holdVotesThrough(durable.holdVotesThrough)
    this.access = new AccessStats({ seed: jitterSeed + 1 })
    this.accessSince = now
    this.tree = makeTree()
    this.committed = new TreeItemStore(spec.keySchema, this.tree)
    this.planning = new PlanningStore(this.committed)
    const a = spec.partition.allocation
    const rMilli = Math.max(1, Math.round(a.rcu * 1000))
    const wMilli = Math.max(1, Math.round(a.wcu * 1000))
    this.readBucket = new TokenBucket(rMilli, rMilli * BURST_CREDIT_S, now, rMilli)
    this.writeBucket = new TokenBucket(wMilli, wMilli * BURST_CREDIT_S, now, wMilli)
    this.writeSteady = new TokenBucket(wMilli, wMilli, now)
    const ceiling = (units: number): TokenBucket => {
      const rate = units * MILLI_PER_UNIT
      return new TokenBucket(rate, (rate * PARTITION_BUCKET_CAPACITY_MS) / 1000, now)
    }
    this.readCeiling = ceiling(PARTITION_MAX_RCU)
    this.writeCeiling = ceiling(PARTITION_MAX_WCU)
    const snap = durable.snapshot
    if (snap !== undefined && snap.data !== null && spec.role === "storage")
      this.installSnapshotData(snap.index, snap.data)
    else if (durable.base !== undefined && spec.role === "storage") this.loadBase(durable.base)
    if (snap !== undefined) this.applied = snap.index
    // Recovery: replay what was committed before the crash on the snapshot (or base).
    if (recovered !== undefined && spec.role === "storage") {
      const replayed: Entry[] = []
      for (let s = this.applied + 1; s <= this.core.commitIndex; s++) {
        const e = durable.entries[s - durable.offset]
        if (e !== undefined) {
          this.apply(e)
          replayed.push(e)
        }
      }
      this.resumeArchive(replayed)
    }
    this.core.tick(now)
  }

  private loadBase(base: ReplicaBase): void {
    this.tree.bulkLoad(base.tree.range())
    this.dedupe.addAll(base.dedupe, base.dedupeStamps)
  }

  /**
   * Gives a new, empty replica its group's starting state (before it has applied anything), so
   * that replaying the group's log from slot 1 rebuilds exactly the other replicas' state.
   */
  installBase(base: ReplicaBase | undefined): void {
    if (base === undefined || this.applied > 0) return
    this.durable.base = base
    if (this.spec.role === "storage") this.loadBase(base)
    this.host.onDurableMeta?.(this, "base")
  }

  /**
   * A new replica on a node that hosted an earlier member of this group (same replica id, state
   * gone) votes only once it holds the group's history through `slot` (kept on its disk).
   */
  holdVotesThrough(slot: number): void {
    this.durable.holdVotesThrough = Math.max(slot, this.durable.holdVotesThrough ?? 0)
    this.core.holdVotesThrough(slot)
    this.host.onDurableMeta?.(this, "hold")
  }

  /** Freezes the current (just created) state as the group's base. */
  freezeBase(): void {
    const d = this.dedupeSnapshot()
    this.durable.base = { tree: this.tree.snapshot(), dedupe: d.ids, dedupeStamps: d.stamps }
    this.host.onDurableMeta?.(this, "base")
  }

  get partitionId(): string {
    return this.spec.partition.id
  }

  /** True on the established leader (its opening no-op committed and applied). */
  isLeader(): boolean {
    return this.core.isEstablished() && this.applied >= this.core.commitIndex
  }

  /**
   * Whether this leader decides writes and strong reads now: it is established, and it has applied,
   * at least once in this term, everything committed (every earlier leader's entries and its no-op).
   *
   * Only that first catch-up is required. Whatever commits later in the term is this leader's own
   * proposals, and until each is applied its effect is in the planning overlay (`planning.pending`)
   * and its id in `writeWaiters`; strong reads wait for their read index to be applied. Requiring
   * `isLeader()` (applied >= commitIndex) at every request, as before, turned away with "leader not
   * established", and a backoff, any request that arrived between a commit and its apply: on real
   * time, where the transport delivers a batch of messages before the nodes' deferred flushes run,
   * about 4 % of writes at 25,000/s, which decided their p99.
   *
   * The metadata service keeps the strict `isLeader()` for its own steps (heals, splits, adaptive
   * capacity), which have no latency to lose.
   */
  private decides(): boolean {
    if (!this.core.isEstablished()) return false
    const b = this.core.ballot
    if (this.caughtUpBallot === b) return true
    // Caught up only in a term whose role change `checkRole` has seen (the overlay was reset).
    if (this.leaderBallot !== b || this.applied < this.core.commitIndex) return false
    this.caughtUpBallot = b
    return true
  }

  /** Node id of the replica this one believes leads. */
  leaderNode(): string | undefined {
    const l = this.core.leaderId
    return l === null ? undefined : this.host.nodeOfReplica(l)
  }

  // ---------------------------------------------------------------------------------------
  // Inputs

  /** One Paxos message from a peer. */
  step(m: Message): void {
    this.core.step(m)
    this.host.markDirty(this)
  }

  /** The node's periodic tick. */
  tick(now: number): void {
    this.core.tick(now)
    if (this.core.hasReady()) this.host.markDirty(this)
    this.checkRole()
    // Idle means nothing applied since an earlier tick (no clock read per applied entry).
    if (this.applied !== this.appliedAtTick) {
      this.appliedAtTick = this.applied
      this.lastAppliedAt = now
    }
    if (
      this.spec.role === "storage" &&
      now - this.lastAppliedAt >= IDLE_COMPACT_MS &&
      this.applied - (this.core.currentSnapshot()?.index ?? 0) >= COMPACT_ENTRIES_MIN
    )
      this.maybeCompact(true)
  }

  /** Handles a data request from a router. */
  handle(h: RequestHeader, req: DataRequest, reply: Reply): void {
    if (this.retired || h.epoch !== this.epoch) {
      reply(err("StaleEpoch", `partition ${this.partitionId} epoch ${this.epoch}`))
      return
    }
    if (this.spec.role === "log") {
      reply(err("Unavailable", "log replica holds no items"))
      return
    }
    // The epoch is not enough: a router whose cache has not seen a split yet routes a key of the
    // right child to the left one (same epoch, the parent's old range). Check the key's position.
    if (!this.owns(h, req)) {
      reply({
        ok: false,
        kind: "StaleEpoch",
        message: `key outside partition ${this.partitionId}`,
        outOfRange: true,
      })
      return
    }
    const now = this.host.now()
    switch (req.op) {
      case "get":
      case "query":
      case "scan": {
        const cost = readCostMilli(0, req.consistent ? "strong" : "eventual")
        if (!this.admit("r", cost, now)) {
          reply(err("PartitionThrottled"))
          return
        }
        if (req.op === "get") this.recordAccess(req.input.Key, cost / 1000, 0)
        if (!req.consistent) {
          reply(this.read(req))
          return
        }
        if (this.core.state !== "leader") {
          reply(err("NotLeader", undefined, this.leaderNode()))
          return
        }
        if (!this.decides()) {
          reply(err("Unavailable", "leader not established"))
          return
        }
        // Under a valid lease with everything committed applied, the read index would be the
        // commit index and already applied: answer now, not after the node's deferred flush
        // (the same check and the same state `requestRead` and its answer would use).
        if (this.applied >= this.core.commitIndex && this.core.canServeReads()) {
          reply(this.read(req))
          return
        }
        const id = this.nextReadId++
        const st = this.core.requestRead(id)
        if (st === "not-leader") {
          reply(err("NotLeader", undefined, this.leaderNode()))
          return
        }
        if (st === "no-lease") {
          reply(err("Unavailable", "leader lease not held yet"))
          return
        }
        if (this.readWaiters.size >= READ_WAITERS_MAX) {
          reply(err("Unavailable", "too many reads waiting"))
          return
        }
        this.readWaiters.set(id, { req, reply })
        this.host.markDirty(this)
        return
      }
      default:
        this.write(req, reply, now)
        return
    }
  }

  /** Whether the request's key lies in this partition's range (scans are not keyed). */
  private owns(h: RequestHeader, req: DataRequest): boolean {
    const p = this.spec.partition
    this.keyHashOf = undefined
    if (p.start.hash === POSITION_MIN && p.end === undefined) return true
    if (req.op === "query" || req.op === "scan") {
      const pos = h.position
      if (pos === undefined) return true
      return compareBoundary(pos, p.start) >= 0 && (p.end === undefined || compareBoundary(pos, p.end) < 0)
    }
    const key = req.op === "put" ? req.input.Item : req.input.Key
    const ks = this.spec.keySchema
    const pk = key?.[ks.partitionKey.name]
    if (pk === undefined) return true // the operation reports the missing key
    const w = this.keyHash
    try {
      hashKeyInto(this.spec.hash, pk, w, 0)
    } catch {
      return true
    }
    this.keyHashOf = pk
    const sk = ks.sortKey === undefined ? undefined : key?.[ks.sortKey.name]
    const skEnc = sk === undefined ? undefined : encodeKeyValue(sk)
    // Compare as words (the hex boundary is the same four big-endian words): no string per request.
    let b = this.bounds
    if (b === undefined || b.partition !== p) {
      const s = new Uint32Array(4)
      hexToWords(p.start.hash, s)
      let e: Uint32Array | undefined
      if (p.end !== undefined) {
        e = new Uint32Array(4)
        hexToWords(p.end.hash, e)
      }
      b = { partition: p, start: s, startSk: p.start.sortKey, end: e, endSk: p.end?.sortKey }
      this.bounds = b
    }
    if (comparePosition(w, skEnc, b.start, b.startSk) < 0) return false
    return b.end === undefined || comparePosition(w, skEnc, b.end, b.endSk) < 0
  }

  /** Samples one access for split-for-consumption (the key's hash position and sort key). */
  private recordAccess(key: Item | undefined, rcu: number, wcu: number): void {
    if (key === undefined || key === null || typeof key !== "object") return
    const ks = this.spec.keySchema
    const pk: AttributeValue | undefined = key[ks.partitionKey.name]
    if (pk === undefined) return
    const sk = ks.sortKey === undefined ? undefined : key[ks.sortKey.name]
    try {
      // `owns` hashed this very key value for this request: reuse it.
      if (this.keyHashOf !== pk) hashKeyInto(this.spec.hash, pk, this.keyHash, 0)
      this.access.record(this.keyHash, 0, sk === undefined ? undefined : encodeKeyValue(sk), rcu, wcu)
    } catch {
      // malformed keys are rejected by the operation itself
    }
  }

  /**
   * Admits `cost` milli-units: the partition's bucket (its allocation, with burst credit), the
   * partition maximum and the node's bucket must all hold it; a refusal takes nothing.
   */
  private admit(kind: "r" | "w", cost: number, now: number): boolean {
    const b = kind === "r" ? this.readBucket : this.writeBucket
    const ceil = kind === "r" ? this.readCeiling : this.writeCeiling
    // A write over the partition's rate spends burst credit, and DynamoDB lets it only when the
    // other members' nodes have spare capacity too (they must apply it as well).
    let steady = false
    let admitted = false
    if (kind === "w") {
      steady = this.writeSteady.tryTake(cost, now)
      if (!steady && !this.membersHaveSpare(cost, now)) this.counters.burstRefused++
      else admitted = this.take(b, ceil, kind, cost, now)
    } else admitted = this.take(b, ceil, kind, cost, now)
    if (admitted) return true
    if (steady) this.writeSteady.refund(cost, now)
    this.counters.throttled++
    if (kind === "r") this.counters.throttledReadMilli += cost
    else this.counters.throttledWriteMilli += cost
    return false
  }

  /** Takes `cost` from the partition maximum, the partition bucket and the node bucket, or none. */
  private take(b: TokenBucket, ceil: TokenBucket, kind: "r" | "w", cost: number, now: number): boolean {
    if (ceil.tryTake(cost, now)) {
      if (b.tryTake(cost, now)) {
        if (this.host.takeNode(kind, cost, now)) {
          if (kind === "r") this.counters.readMilli += cost
          else this.counters.writeMilli += cost
          return true
        }
        b.refund(cost, now)
      }
      ceil.refund(cost, now)
    }
    return false
  }

  /**
   * Whether every other storage member's node last reported at least `cost` of spare write
   * capacity (`ReplicaHost.peerSpareWrite`). Log replicas hold no items and are not asked.
   */
  private membersHaveSpare(cost: number, now: number): boolean {
    const spare = this.host.peerSpareWrite
    if (spare === undefined) return true
    for (const m of this.core.latestConfig().members) {
      if (m.role !== "storage" || m.id === this.core.id) continue
      const node = this.host.nodeOfReplica(m.id)
      if (node === undefined || node === this.host.nodeId) continue
      const s = spare.call(this.host, node, now)
      if (s === undefined || s < cost) return false
    }
    return true
  }

  /**
   * Charges a read's cost beyond the estimate it was admitted with, once its size is known
   * (charge-after: the buckets may go into debt, and refuse until it is repaid).
   */
  private chargeRead(extraMilli: number): void {
    if (extraMilli <= 0) return
    const now = this.host.now()
    this.readBucket.charge(extraMilli, now)
    this.readCeiling.charge(extraMilli, now)
    this.counters.readMilli += extraMilli
  }

  /** The partition bucket's rate, milli-units/s (its allocation, or adaptive capacity's boost). */
  allocationMilli(kind: "r" | "w"): number {
    return (kind === "r" ? this.readBucket : this.writeBucket).rateMilliPerSec
  }

  /** Sets the partition bucket's rate (adaptive capacity), keeping `BURST_CREDIT_S` of it as credit. */
  setAllocationMilli(kind: "r" | "w", milliPerSec: number): void {
    const rate = Math.max(1, Math.floor(milliPerSec))
    const b = kind === "r" ? this.readBucket : this.writeBucket
    if (b.rateMilliPerSec !== rate) b.setRate(rate, rate * BURST_CREDIT_S, this.host.now())
    if (kind === "w" && this.writeSteady.rateMilliPerSec !== rate)
      this.writeSteady.setRate(rate, rate, this.host.now())
  }

  private read(req: DataRequest): DataResponse {
    this.counters.reads++
    const node = this.host.nodeId
    const mode = "consistent" in req && req.consistent ? "strong" : "eventual"
    const estimate = readCostMilli(0, mode)
    if (req.op === "get") {
      const r = getItem(this.committed, req.input)
      if (Either.isLeft(r)) return err("Validation", r.left.message)
      this.chargeRead(readCostMilli(r.right.consumedBytes, mode) - estimate)
      return { ok: true, item: r.right.Item, consumedBytes: r.right.consumedBytes, node }
    }
    if (req.op === "query" || req.op === "scan") {
      const opts = { pageBytes: req.pageBytes }
      const r =
        req.op === "query" ? query(this.committed, req.input, opts) : scan(this.committed, req.input, opts)
      if (Either.isLeft(r)) return err("Validation", r.left.message)
      const p = r.right
      this.chargeRead(readCostMilli(p.consumedBytes, mode) - estimate)
      return {
        ok: true,
        items: p.Items,
        count: p.Count,
        scannedCount: p.ScannedCount,
        lastEvaluatedKey: p.LastEvaluatedKey,
        consumedBytes: p.consumedBytes,
        node,
        ...(req.op === "query"
          ? { partition: { start: this.spec.partition.start, end: this.spec.partition.end } }
          : {}),
      }
    }
    return err("Validation", "not a read")
  }

  private write(req: Exclude<DataRequest, { consistent: boolean }>, reply: Reply, now: number): void {
    if (this.core.state !== "leader") {
      reply(err("NotLeader", undefined, this.leaderNode()))
      return
    }
    if (!this.decides()) {
      reply(err("Unavailable", "leader not established"))
      return
    }
    const rid = req.requestId
    if (this.dedupe.has(rid)) {
      reply({ ok: true, consumedBytes: 0, node: this.host.nodeId })
      return
    }
    if (this.writeWaiters.has(rid)) {
      reply(err("Unavailable", "request already in flight"))
      return
    }
    // A decision that reads the key's item (a condition, an update expression, returned values)
    // waits until the key's pending proposals are applied, so that it rests on committed state
    // only. Decided against a proposal that was never committed, its entry could still be chosen
    // in a later term without that proposal: a CAS decided against a pending put was committed
    // while the put's slot got another leader's no-op, and the acknowledged CAS then left the
    // value it was conditioned on (stress seed 200081, not linearizable). Plain puts and deletes
    // depend on nothing before them and keep pipelining.
    if (readsItem(req)) {
      const k0 = this.requestKey(req)
      if (k0 !== undefined && this.planning.pending.has(k0)) {
        this.queueOnKey(k0, req, reply)
        return
      }
    }
    const planned =
      req.op === "put"
        ? planPutItem(this.planning, req.input)
        : req.op === "update"
          ? planUpdateItem(this.planning, req.input)
          : planDeleteItem(this.planning, req.input)
    if (Either.isLeft(planned)) {
      const e = planned.left
      if (e instanceof ConditionalCheckFailedException) {
        // A failed condition is answered at once, so it must not rest on a proposal that is not
        // committed yet: while the key has pending writes, wait for them and decide again.
        // (Successful decisions pipeline: they are answered only once applied, in log order.)
        const k0 = this.requestKey(req)
        if (k0 !== undefined && this.planning.pending.has(k0)) {
          this.queueOnKey(k0, req, reply)
          return
        }
        // Answered without the log, so only under a valid lease: a deposed leader that does not
        // know it yet (cut off with a router in its AZ) must not fail a condition from stale state.
        if (!this.core.canServeReads()) {
          reply(err("Unavailable", "leader lease not held"))
          return
        }
        reply({
          ok: false,
          kind: "ConditionalCheckFailed",
          message: e.message,
          item: e.item as Item | undefined,
        })
        return
      }
      reply(err("Validation", e.message))
      return
    }
    const out = planned.right
    const wMilli = writeCostMilli(out.consumedBytes)
    if (!this.admit("w", wMilli, now)) {
      reply(err("PartitionThrottled"))
      return
    }
    this.recordAccess(out.write.key, 0, wMilli / 1000)
    const key = encodedKeyOf(this.spec.keySchema, out.write.key)
    const image = out.write.image
    // The leader's clock, in the entry: every replica forgets the request id at the same point.
    // (One that goes on across processes where there is one: a directory opened again compares
    // its stamps with the earlier process's.)
    const t = this.host.stampNow?.() ?? now
    const stamp = t > 0 ? Math.floor(t) : 0
    const r = this.core.propose(
      image === undefined
        ? encodeWriteShared(rid, key, undefined, undefined, stamp)
        : encodeWriteShared(rid, key, itemToText(image), itemSize(image), stamp),
    )
    if (!r.ok) {
      reply(err(r.reason === "not-leader" ? "NotLeader" : "Unavailable", r.reason))
      return
    }
    this.counters.proposals++
    this.proposedSinceDrain = true
    this.planning.propose(key, image)
    this.writeWaiters.set(rid, { reply, out, key })
    this.host.markDirty(this)
  }

  private requestKey(req: Exclude<DataRequest, { consistent: boolean }>): EncodedKey | undefined {
    const ks = this.spec.keySchema
    const src = req.op === "put" ? req.input.Item : req.input.Key
    if (src === undefined || src === null || typeof src !== "object") return undefined
    if (src[ks.partitionKey.name] === undefined) return undefined
    if (ks.sortKey !== undefined && src[ks.sortKey.name] === undefined) return undefined
    try {
      return encodedKeyOf(ks, src)
    } catch {
      return undefined
    }
  }

  /** Queues a write behind the key's pending proposals (run again by `releaseKey`). */
  private queueOnKey(k: EncodedKey, req: Exclude<DataRequest, { consistent: boolean }>, reply: Reply): void {
    const q = this.keyQueue.get(k)
    if (q === undefined) this.keyQueue.set(k, [{ req, reply }])
    else if (q.length >= KEY_QUEUE_MAX) reply(err("Unavailable", "too many writes queued on one key"))
    else q.push({ req, reply })
  }

  /** Runs the writes queued behind a key once its last proposal is applied. */
  private releaseKey(k: EncodedKey): void {
    if (this.planning.pending.has(k)) return
    const q = this.keyQueue.get(k)
    if (q === undefined) return
    this.keyQueue.delete(k)
    const now = this.host.now()
    for (const w of q) this.write(w.req, w.reply, now)
  }

  /** Proposes the split fence (leader only). */
  proposeSplit(fence: SplitFence): boolean {
    if (!this.isLeader() || this.retired) return false
    const ok = this.core.propose(encodeSplit(fence)).ok
    if (ok) {
      this.proposedSinceDrain = true
      this.host.markDirty(this)
    }
    return ok
  }

  /** Proposes a membership change (leader only). */
  proposeConfig(members: ReadonlyArray<Member>): boolean {
    if (this.core.state !== "leader") return false
    const r = this.core.proposeConfig({ members })
    if (r.ok) {
      this.proposedSinceDrain = true
      this.host.markDirty(this)
    }
    return r.ok
  }

  // ---------------------------------------------------------------------------------------
  // The Ready loop

  /** Persists, sends, applies and answers everything the core has ready. */
  drain(): void {
    const core = this.core
    if (this.proposedSinceDrain) {
      this.proposedSinceDrain = false
      core.flush()
    }
    let rounds = 0
    while (core.hasReady() && rounds++ < 64) {
      if (core.state === "stopped") return
      const r: Ready = core.readyOutputs()
      // The node may crash in the middle of the write (a disk fault): then nothing is sent.
      if (!this.persist(r)) return
      if (r.snapshot !== null) this.installSnapshot(r.snapshot)
      for (const m of r.messages) this.host.sendPaxos(this.partitionId, m)
      if (this.tap === undefined) for (const e of r.committed) this.apply(e)
      else for (const e of r.committed) this.tap.apply(this, e, this.applyEntry)
      if (this.archiver !== undefined && r.committed.length > 0)
        this.archiveOut(this.archiver.offer(r.committed))
      for (const rd of r.reads) this.answerRead(rd.id, rd.index)
      core.advance()
    }
    this.maybeCompact()
    this.checkRole()
  }

  /** Makes a Ready's state durable before anything is sent; false if the node crashed meanwhile. */
  private persist(r: Ready): boolean {
    const d = this.durable
    const promisedBefore = d.hard.promised
    if (r.snapshot !== null) {
      d.snapshot = r.snapshot
      this.trimDurable(r.snapshot.index)
    }
    for (const e of r.entries) if (e.slot >= d.offset) d.entries[e.slot - d.offset] = e
    if (r.hardState !== null) d.hard = r.hardState
    const wal = this.wal
    if (wal === undefined) return true
    const ok =
      r.snapshot !== null
        ? wal.rewrite(d)
        : wal.append(
            d,
            r.entries.filter((e) => e.slot >= d.offset),
            r.hardState,
            promisedBefore,
          )
    if (!ok && wal.failed) this.walFailed()
    return ok
  }

  /**
   * An fsync of the WAL failed. Like a database after a failed fsync, the replica does not retry:
   * it stops (nothing that rested on the write was sent) and its node gives it up, so the
   * metadata service replaces it as it would a lost disk.
   */
  private walFailed(): void {
    this.stop()
    this.host.onWalFailed?.(this)
  }

  /** Uploads sealed WAL segments (idempotent; a differing archived copy is an error). */
  private archiveOut(segs: ReadonlyArray<SealedSegment>): void {
    const a = this.host.archive
    if (a === undefined || this.archiver === undefined) return
    const archiver = this.archiver
    const id = { table: this.spec.table, partition: this.spec.partition.id }
    for (const seg of segs) {
      this.tap?.sealed(this, seg)
      const eff = archiveSegment(id, seg).pipe(Effect.provideService(ObjectStore, a.store))
      const done = (ok: boolean): void => {
        if (ok) archiver.archivedThrough = Math.max(archiver.archivedThrough, seg.manifest.lastPosition)
        else this.archiveErrors++
      }
      // A store with real I/O (files) completes later; the in-memory store (simulation) at once.
      // Replicas upload the same segment concurrently: one may read the other's object half
      // written, so a failed check is retried after a short pause before it counts as an error.
      if (a.async === true)
        void Effect.runPromiseExit(
          Effect.retry(eff, { times: ARCHIVE_RETRIES, schedule: Schedule.spaced("50 millis") }),
        ).then((x) => done(Exit.isSuccess(x)))
      else done(Exit.isSuccess(Effect.runSyncExit(eff)))
    }
  }

  /**
   * After a restart the archiver resumes at the first position the object store does not hold
   * yet (the segment being filled when the node crashed was lost from memory), re-offering what
   * this replica still has in its log; positions it no longer has are left to the other replicas.
   */
  private resumeArchive(replayed: ReadonlyArray<Entry>): void {
    const a = this.host.archive
    const archiver = this.archiver
    if (a === undefined || archiver === undefined) return
    const id = { table: this.spec.table, partition: this.spec.partition.id }
    const listed = Effect.runSyncExit(listSegments(id).pipe(Effect.provideService(ObjectStore, a.store)))
    let next = 1
    if (Exit.isSuccess(listed))
      for (const m of listed.value) if (m.firstPosition === next) next = m.lastPosition + 1
    archiver.archivedThrough = next - 1
    const first = replayed[0]?.slot ?? this.applied + 1
    archiver.skipTo(next < first ? this.segmentStart(first) : next)
    this.archiveOut(archiver.offer(replayed))
  }

  /** The first position of the next whole segment at or after `pos` (segments are aligned, so
   * every replica seals the same ranges and their uploads check each other). */
  private segmentStart(pos: number): number {
    const n = this.host.archive?.entriesPerSegment ?? 1
    return Math.ceil((pos - 1) / n) * n + 1
  }

  /** Drops durable entries up to `index` (they are in the snapshot). */
  private trimDurable(index: number): void {
    const d = this.durable
    if (index < d.offset) return
    d.entries = d.entries.slice(index + 1 - d.offset)
    d.offset = index + 1
  }

  /** A snapshot from the leader replaces this replica's state. */
  private installSnapshot(snap: Snapshot): void {
    if (snap.index <= this.applied) return
    if (this.spec.role === "storage" && snap.data !== null) this.installSnapshotData(snap.index, snap.data)
    this.applied = snap.index
    this.archiver?.skipTo(this.segmentStart(snap.index + 1))
    this.planning.clear()
  }

  private installSnapshotData(_index: number, data: Uint8Array): void {
    const { tree, dedupe } = decodeSnapshot(data)
    this.tree = tree
    this.committed.tree = tree
    this.dedupe.clear()
    this.inheritDedupe(dedupe)
  }

  /**
   * Compacts the log behind a snapshot of the B-tree every `compactEntries` applied entries. With
   * an archive, the snapshot (an O(1) copy-on-write view) waits until the archive has caught up
   * with it, so the log is never truncated past what is archived.
   */
  /** Is a compaction due after `entries` entries since the snapshot (count or size rule)? */
  private compactionDue(entries: number, idle = false): boolean {
    if (entries >= this.compactEntries) return true
    if (entries < COMPACT_ENTRIES_MIN) return false
    if (idle) return true
    const limit = Math.max(COMPACT_BYTES_MIN, COMPACT_LOG_TO_TREE * this.tree.bytes)
    return this.logBytesSinceSnapshot >= limit
  }

  private maybeCompact(idle = false): void {
    const snapIndex = this.core.currentSnapshot()?.index ?? 0
    if (this.spec.role === "storage") {
      if (this.retired) return
      if (this.pendingCompaction === undefined && this.compactionDue(this.applied - snapIndex, idle)) {
        this.logBytesSinceSnapshot = 0
        this.pendingCompaction = {
          index: this.applied,
          view: this.tree.snapshot(),
          dedupe: this.dedupeView(),
        }
      }
      const p = this.pendingCompaction
      if (p === undefined) return
      if (this.archiver !== undefined && this.archiver.archivedThrough < p.index) return
      this.pendingCompaction = undefined
      if (p.index <= snapIndex) return
      // Encoded only if the snapshot is ever read (a lagging follower, a restart): the view is
      // an immutable copy-on-write snapshot of the tree, so encoding later gives the same bytes.
      this.core.compact(p.index, () => encodeSnapshot(p.view, p.dedupe()))
    } else {
      // A log replica keeps its newest LOG_REPLICA_KEEP_ENTRIES committed entries. A storage member
      // can hold entries without having learned that they are committed; if this replica
      // compacted past that member's commit index, it would answer the member's pre-vote with
      // "behind", and it has no snapshot to catch the member up. If the other members could not
      // lead either, the group had no leader and never got one: a failed-fsync sweep found this.
      const upTo = this.core.commitIndex - LOG_REPLICA_KEEP_ENTRIES
      if (upTo <= snapIndex || !this.compactionDue(upTo - snapIndex)) return
      this.logBytesSinceSnapshot = 0
      this.core.compact(upTo, null)
    }
    const snap = this.core.currentSnapshot()
    if (snap !== null && snap.index > snapIndex) {
      this.durable.snapshot = snap
      this.trimDurable(snap.index)
      if (this.wal !== undefined && !this.wal.rewrite(this.durable) && this.wal.failed) {
        this.walFailed()
        return
      }
      this.counters.compactions++
    }
  }

  private answerRead(id: number, index: number): void {
    const w = this.readWaiters.take(id)
    if (w === undefined) return
    if (this.applied >= index) w.reply(this.read(w.req))
    else this.readsAfterApply.push({ index, req: w.req, reply: w.reply })
  }

  private apply(e: Entry): void {
    if (e.slot <= this.applied) return
    this.applied = e.slot
    this.logBytesSinceSnapshot += e.data.length
    if (e.kind === ENTRY_CONFIG) {
      this.onConfig(decodeMembership(e.data).members)
      return
    }
    if (e.kind !== ENTRY_COMMAND) return
    // Log replicas skip writes but follow splits.
    if (this.spec.role !== "storage" && !isSplitCommand(e.data)) return
    const c: Command = decodeCommandShared(e.data)
    if (c.kind === "split") {
      if (!this.retired) {
        this.retired = true
        this.failAllWaiters("StaleEpoch")
        this.host.onSplit(this, c.fence)
      }
      return
    }
    const w = this.writeWaiters.get(c.requestId)
    if (w !== undefined) {
      this.writeWaiters.delete(c.requestId)
      this.planning.settle(w.key)
    }
    if (this.retired) {
      // Entries after the fence belong to no partition: never acknowledged, never applied.
      w?.reply(err("StaleEpoch", "partition split"))
      return
    }
    // Remembered before it is applied: one parse of the id for the check and the record.
    if (!this.dedupe.addIfAbsent(c.requestId, c.stamp)) {
      if (w !== undefined) {
        w.reply({ ok: true, consumedBytes: 0, node: this.host.nodeId })
        this.releaseKey(w.key)
      }
      return
    }
    if (c.deletes) this.tree.delete(c.key)
    else this.tree.set(c.key, c.stored()!)
    this.counters.applied++
    if (w !== undefined) {
      w.reply({
        ok: true,
        item: w.out.Attributes,
        consumedBytes: w.out.consumedBytes,
        node: this.host.nodeId,
      })
      if (this.keyQueue.has(w.key)) this.releaseKey(w.key)
    }
    if (this.readsAfterApply.length > 0) {
      const ready = this.readsAfterApply.filter((x) => x.index <= this.applied)
      if (ready.length > 0) {
        const rest = this.readsAfterApply.filter((x) => x.index > this.applied)
        this.readsAfterApply.length = 0
        this.readsAfterApply.push(...rest)
        for (const x of ready) x.reply(this.read(x.req))
      }
    }
  }

  private onConfig(_members: ReadonlyArray<Member>): void {
    // Membership lives in the core; the node learns replica placement from the metadata service.
  }

  /** Copies the request ids applied so far, with their stamps (children of a split inherit them). */
  dedupeSnapshot(): RequestIds {
    return this.dedupe.entries()
  }

  /** The request ids applied so far, copied only when called. */
  private dedupeView(): () => RequestIds {
    return this.dedupe.view()
  }

  /** Installs inherited request ids (after any held). */
  inheritDedupe(d: RequestIds): void {
    this.dedupe.addAll(d.ids, d.stamps)
  }

  /** Request ids remembered now (for tests and metrics). */
  get dedupeSize(): number {
    return this.dedupe.size
  }

  private checkRole(): void {
    const leading = this.core.state === "leader"
    const ballot = leading ? this.core.ballot : -1
    if (ballot === this.leaderBallot) return
    const was = this.leaderBallot >= 0
    this.leaderBallot = ballot
    // Any change of term voids the pending overlay and the waiters: their proposals may be lost.
    this.planning.clear()
    this.failAllWaiters("Unavailable")
    if (leading) this.counters.leaderTerms++
    if (leading !== was || leading) this.host.onLeaderChange(this, leading)
  }

  private failAllWaiters(kind: DataError["kind"]): void {
    for (const w of this.writeWaiters.values()) w.reply(err(kind, "leadership changed"))
    this.writeWaiters.clear()
    for (const q of this.keyQueue.values()) for (const w of q) w.reply(err(kind, "leadership changed"))
    this.keyQueue.clear()
    const reads = this.readWaiters.valuesInOrder()
    this.readWaiters.clear()
    for (const w of reads) w.reply(err("Unavailable", "leadership changed"))
    for (const w of this.readsAfterApply) w.reply(err("Unavailable", "leadership changed"))
    this.readsAfterApply.length = 0
  }

  /** Stops the core (crash or retirement). */
  stop(): void {
    this.core.stop()
    this.failAllWaiters("Unavailable")
  }

  /** Item count and checksum of the applied state (for convergence checks). */
  summary(): { items: number; checksum: string; applied: number } {
    return { items: this.tree.size, checksum: String(this.tree.checksum()), applied: this.applied }
  }

  /** Every item's hash position, sort key and size (split-for-size input; walks the tree). */
  sizeSamples(): Array<{ hash: string; sortKey: EncodedKey | undefined; bytes: number }> {
    const ks = this.spec.keySchema
    const out: Array<{ hash: string; sortKey: EncodedKey | undefined; bytes: number }> = []
    this.tree.forRange(undefined, (_k, v) => {
      hashKeyInto(this.spec.hash, v.item[ks.partitionKey.name]!, this.hashWords, 0)
      const sk = ks.sortKey === undefined ? undefined : v.item[ks.sortKey.name]
      out.push({
        hash: wordsToHex(this.hashWords),
        sortKey: sk === undefined ? undefined : encodeKeyValue(sk),
        bytes: v.size,
      })
    })
    return out
  }

  /** Bytes stored (keys and item texts, kept by the B-tree as it changes): split-for-size input. */
  bytes(): number {
    return this.tree.bytes
  }
}

const snapEncoder = new TextEncoder()
const snapDecoder = new TextDecoder()

/** Snapshot data: u32 header length, JSON header (request ids), the B-tree's checkpoint bytes. */
export const encodeSnapshot = (tree: BTreeView<StoredItem>, dedupe: RequestIds): Uint8Array => {
  // (A stamp NaN, none, is written as null.)
  const header = snapEncoder.encode(JSON.stringify({ dedupe: dedupe.ids, stamps: dedupe.stamps }))
  const body = tree.toCheckpointBytes()
  const out = new Uint8Array(4 + header.length + body.length)
  new DataView(out.buffer).setUint32(0, header.length)
  out.set(header, 4)
  out.set(body, 4 + header.length)
  return out
}

/** Decodes snapshot data; throws on a corrupt checkpoint (its pages are checksummed). */
export const decodeSnapshot = (data: Uint8Array): { tree: BTree<StoredItem>; dedupe: RequestIds } => {
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0)
  const header = JSON.parse(snapDecoder.decode(data.subarray(4, 4 + n))) as {
    dedupe: string[]
    stamps?: Array<number | null>
  }
  const t = BTree.fromCheckpointBytes<StoredItem>(data.subarray(4 + n), replicaTreeOptions)
  if (Either.isLeft(t)) throw new Error(`corrupt snapshot: ${t.left.message}`)
  const stamps = header.dedupe.map((_, i) => header.stamps?.[i] ?? Number.NaN)
  return { tree: t.right, dedupe: { ids: header.dedupe, stamps } }
}

/** Orders a key position (hash words, encoded sort key) against a boundary's, as `compareBoundary`. */
const comparePosition = (
  w: Uint32Array,
  sk: EncodedKey | undefined,
  b: Uint32Array,
  bSk: EncodedKey | undefined,
): number => {
  for (let i = 0; i < 4; i++) {
    const x = w[i]!
    const y = b[i]!
    if (x !== y) return x < y ? -1 : 1
  }
  if (sk === bSk) return 0
  if (sk === undefined) return -1
  if (bSk === undefined) return 1
  return sk < bSk ? -1 : 1
}

/** Whether a write's decision reads the key's current item (see `Replica.write`). */
const readsItem = (req: Exclude<DataRequest, { consistent: boolean }>): boolean => {
  if (req.op === "update") return true
  const i = req.input as { ConditionExpression?: unknown; Expected?: unknown; ReturnValues?: unknown }
  return (
    i.ConditionExpression !== undefined ||
    i.Expected !== undefined ||
    (i.ReturnValues !== undefined && i.ReturnValues !== "NONE")
  )
}
