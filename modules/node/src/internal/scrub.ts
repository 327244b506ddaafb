/**
 * The scrubber underneath the cluster: `@partita/scrubber`'s `ScrubberCore` run as every storage
 * node's background work, over ports implemented on the node's real replicas.
 *
 * - `NodeReplicaPort` (a `ReplicaPort` and the replica's `ReplicaTap`): O(1) copy-on-write
 *   snapshots of the replica's B-tree at every WAL segment boundary (the positions the archive is
 *   sealed at) and at requested positions, the log applied since the oldest of them (to replay a
 *   repaired key forward), and the replica's sealed WAL segments in the canonical archive framing
 *   (the bytes it uploads). Repairs set keys (or the whole tree) in the replica's live tree.
 * - `NodePartitionPort`: a partition's storage replicas in its current configuration, on up nodes,
 *   not retired by a split; `nodeStateMachine` applies a log entry (an item image) to a tree.
 * - `ClusterScrub`: each partition is scrubbed by one node, its *owner* (the up node with the
 *   smallest id holding one of its storage replicas); each node runs one `ScrubberCore` over the
 *   partitions it owns, a bounded number of slices per background tick under the byte-rate limit.
 *
 * In one process the owner's port reaches the three replicas directly. In a multi-host deployment
 * the core stays the same and the port's calls (snapshot at a position, range summaries for
 * narrowing, local segment bytes, repair of keys) become request/answer messages to the replicas'
 * nodes over the transport: the narrowing core is already a pure request/answer state machine.
 */
import { BTree, type BTreeOptions, type BTreeView } from "@partita/btree"
import type { EncodedKey } from "@partita/core"
import {
  ENTRY_COMMAND,
  type Entry,
  type LogIdentity,
  MemoryObjectStore,
  ObjectStore,
  type ObjectStoreService,
  type SealedSegment,
  type SegmentManifest,
  crc32c,
} from "@partita/paxos"
import {
  type KeyFix,
  type PartitionPort,
  type ReplicaPort,
  SCRUB_BURST_BYTES_DEFAULT,
  SCRUB_BYTES_PER_SEC_DEFAULT,
  type ScrubEvent,
  type ScrubMetrics,
  ScrubberCore,
  type StateMachine,
  checkpointKey,
} from "@partita/scrubber"
import { Effect, Exit } from "effect"
import { decodeCommand, type StoredItem, storedItem, storedItemBytes, storedItemOfBytes } from "./codec.ts"
import type { Replica, ReplicaTap } from "./replica.ts"
import type { Runtime } from "./runtime.ts"
import type { StorageNode } from "./storageNode.ts"
import { replicaTreeOptions } from "./store.ts"

/** Default scrub tick period, ms. */
export const SCRUB_TICK_MS_DEFAULT = 20
/** Slices one node's scrubber runs per tick at most (the rate limit bounds them too). */
export const SCRUB_SLICES_PER_TICK_MAX = 16
/** Segment-boundary snapshots each replica keeps for the reference comparison. */
export const SCRUB_BOUNDARY_SNAPSHOTS_MAX = 3
/** Sealed WAL segments each replica keeps locally (to verify, and to re-archive from). */
export const SCRUB_LOCAL_SEGMENTS_MAX = 4
/** Requested (common-position) snapshots a replica holds at most; the oldest is dropped first. */
export const SCRUB_REQUESTED_SNAPSHOTS_MAX = 4
/** Default wait for lagging replicas to reach the common position, ms. */
export const SCRUB_SNAPSHOT_WAIT_MS_DEFAULT = 2000
/** Scrub events kept by the cluster (oldest dropped first). */
export const SCRUB_EVENTS_MAX = 10_000

/** The `scrub` option of a cluster. */
export interface ScrubConfig {
  /** Read rate of each node's scrubber, bytes/s. Default 8 MiB/s. */
  readonly bytesPerSec?: number
  /** Token bucket depth, bytes. Default 1 MiB. */
  readonly burstBytes?: number
  /** Background tick period, ms. Default 20. */
  readonly tickMs?: number
  /** Re-hash every stored item each cycle (check 7). Default false. */
  readonly deepVerify?: boolean
  /**
   * Node-side checks only (local WAL, replica comparison, deep pass): the archive verification
   * and the reference builder run elsewhere. Forced when the cluster has no archive.
   */
  readonly replicasOnly?: boolean
  /** Archived segments between the reference builder's checkpoints. Default: the scrubber's. */
  readonly checkpointEverySegments?: number
  /** How long a visit waits for lagging replicas before comparing those at the position, ms. */
  readonly snapshotWaitMs?: number
}

/** A scrub event as the cluster records it: which node's scrubber, which node the replica is on. */
export type NodeScrubEvent = ScrubEvent & {
  /** The node whose scrubber emitted it. */
  readonly scrubber: string
  /** The node of the replica concerned (absent for the archive). */
  readonly replicaNode?: string
}

// ---------------------------------------------------------------------------------------------
// The state machine

/** Options of the replicas' trees (and of reference trees). */
export const nodeTreeOptions: BTreeOptions<StoredItem> = replicaTreeOptions

/**
 * How a storage replica applies a committed entry: a write installs its item image (or deletes
 * the key), everything else (no-ops, configuration, split fences) leaves the items alone. A
 * replica also skips a write whose request id it applied already (dedupe), which the leader's
 * dedupe check keeps out of the committed log in practice; the entries after a split fence are
 * never applied, and the scrubber stops judging a partition's replicas once they are retired.
 */
export const nodeStateMachine: StateMachine<StoredItem> = {
  apply: (tree, e) => {
    if (e.kind !== ENTRY_COMMAND) return
    const c = decodeCommand(e.data)
    if (c.kind !== "write") return
    if (c.deletes) tree.delete(c.key)
    else tree.set(c.key, c.stored()!)
  },
  touches: (e) => {
    if (e.kind !== ENTRY_COMMAND) return []
    const c = decodeCommand(e.data)
    return c.kind === "write" ? [c.key] : []
  },
}

/** A private copy of a stored item (replicas never share item objects). */
const copyItem = (v: StoredItem): StoredItem => storedItemOfBytes(storedItemBytes(v).slice())

// ---------------------------------------------------------------------------------------------
// Replicas

interface LocalSegment {
  manifest: SegmentManifest
  bytes: Uint8Array
}

/** One storage replica as the scrubber sees it; also the replica's tap. */
export class NodeReplicaPort implements ReplicaPort<StoredItem>, ReplicaTap {
  readonly id: number
  /** Entries applied after `logBase`, in slot order (the span the snapshots need to replay). */
  private log: Entry[] = []
  private logBase: number
  /** Applied position the tap last saw (a jump means a snapshot was installed in between). */
  private seen: number
  private readonly boundaries = new Map<number, BTree<StoredItem>>()
  private readonly requested = new Map<number, BTree<StoredItem>>()
  private readonly wanted = new Set<number>()
  private readonly segments: LocalSegment[] = []
  /** Fault: the next write is logged and acknowledged but its effect on the tree is lost. */
  loseNextWrite = false

  constructor(
    readonly replica: Replica,
    readonly node: StorageNode,
  ) {
    this.id = replica.replicaId
    this.logBase = replica.applied
    this.seen = replica.applied
    replica.tap = this
  }

  // -- the tap ---------------------------------------------------------------------------------

  apply(r: Replica, e: Entry, apply: (e: Entry) => void): void {
    const before = r.applied
    if (this.loseNextWrite && e.kind === ENTRY_COMMAND && e.slot > before && !r.retired) {
      const c = decodeCommand(e.data)
      if (c.kind === "write") {
        this.loseNextWrite = false
        const old = r.tree.get(c.key)
        apply(e)
        if (old === undefined) r.tree.delete(c.key)
        else r.tree.set(c.key, old)
      } else apply(e)
    } else apply(e)
    if (r.applied === before) return
    if (before !== this.seen) this.reset(before)
    this.seen = r.applied
    if (r.retired) return
    this.log.push(e)
    const eps = r.host.archive?.entriesPerSegment
    if (eps !== undefined && e.slot % eps === 0) {
      this.boundaries.set(e.slot, r.tree.clone())
      if (this.boundaries.size > SCRUB_BOUNDARY_SNAPSHOTS_MAX) {
        const oldest = Math.min(...this.boundaries.keys())
        this.boundaries.delete(oldest)
      }
    }
    if (this.wanted.delete(e.slot)) this.keepRequested(e.slot, r.tree.clone())
    this.truncate()
  }

  sealed(_r: Replica, seg: SealedSegment): void {
    // The replica's own copy: the object store and this list never share bytes.
    this.segments.push({ manifest: seg.manifest, bytes: seg.bytes.slice() })
    while (this.segments.length > SCRUB_LOCAL_SEGMENTS_MAX) this.segments.shift()
  }

  /** The state jumped (a snapshot from the leader was installed): what was kept no longer chains. */
  private reset(at: number): void {
    this.boundaries.clear()
    this.requested.clear()
    this.log = []
    this.logBase = at
  }

  private keepRequested(position: number, t: BTree<StoredItem>): void {
    this.requested.set(position, t)
    while (this.requested.size > SCRUB_REQUESTED_SNAPSHOTS_MAX)
      this.requested.delete(Math.min(...this.requested.keys()))
  }

  /** Keeps the log back to the oldest snapshot (every repair position is a snapshot position). */
  private truncate(): void {
    let keepFrom = this.replica.applied
    for (const q of this.boundaries.keys()) if (q < keepFrom) keepFrom = q
    for (const q of this.requested.keys()) if (q < keepFrom) keepFrom = q
    if (keepFrom <= this.logBase) return
    let i = 0
    while (i < this.log.length && this.log[i]!.slot <= keepFrom) i++
    if (i > 0) this.log = this.log.slice(i)
    this.logBase = keepFrom
  }

  // -- ReplicaPort -----------------------------------------------------------------------------

  get live(): boolean {
    return (
      this.node.isUp &&
      this.node.replicas.get(this.replica.partitionId) === this.replica &&
      !this.replica.retired
    )
  }

  get applied(): number {
    return this.replica.applied
  }

  requestSnapshot(position: number): boolean {
    const applied = this.replica.applied
    if (position < applied) return this.requested.has(position)
    if (position === applied) {
      if (!this.requested.has(position)) this.keepRequested(position, this.replica.tree.clone())
      return true
    }
    this.wanted.add(position)
    return true
  }

  requestedSnapshot(position: number): BTreeView<StoredItem> | undefined {
    return this.requested.get(position)
  }

  snapshotAt(position: number): BTreeView<StoredItem> | undefined {
    return this.boundaries.get(position)
  }

  releaseSnapshot(position: number): void {
    this.wanted.delete(position)
    this.requested.delete(position)
  }

  localSegments(): ReadonlyArray<SegmentManifest> {
    return this.segments.map((s) => s.manifest)
  }

  readLocalSegment(firstPosition: number): Uint8Array | undefined {
    return this.segments.find((s) => s.manifest.firstPosition === firstPosition)?.bytes
  }

  writeLocalSegment(manifest: SegmentManifest, bytes: Uint8Array): void {
    const s = this.segments.find((x) => x.manifest.firstPosition === manifest.firstPosition)
    if (s === undefined) throw new Error(`replica ${this.id}: no local segment at ${manifest.firstPosition}`)
    s.manifest = manifest
    s.bytes = bytes.slice()
  }

  /** Entries in `(after, upTo]` of the kept log. */
  private entriesAfter(after: number, upTo: number): Entry[] {
    if (after < this.logBase)
      throw new Error(`replica ${this.id}: log kept from ${this.logBase}, not ${after}`)
    return this.log.filter((x) => x.slot > after && x.slot <= upTo)
  }

  private fixTree(
    tree: BTree<StoredItem>,
    position: number,
    upTo: number,
    fixes: ReadonlyArray<KeyFix<StoredItem>>,
  ): void {
    const later = this.entriesAfter(position, upTo)
    for (const f of fixes) {
      // Replay on a scratch tree holding only this key, so other keys' entries cannot interfere.
      const scratch = new BTree<StoredItem>(nodeTreeOptions)
      if (f.value !== undefined) scratch.set(f.key, f.value)
      for (const e of later)
        if (nodeStateMachine.touches(e).includes(f.key)) nodeStateMachine.apply(scratch, e)
      const v = scratch.get(f.key)
      if (v === undefined) tree.delete(f.key)
      else tree.set(f.key, copyItem(v))
    }
  }

  /** Snapshots older than a repair may hold the damage: they are dropped. */
  private dropSnapshotsBefore(position: number): void {
    for (const m of [this.boundaries, this.requested])
      for (const q of [...m.keys()]) if (q < position) m.delete(q)
  }

  repairKeys(position: number, fixes: ReadonlyArray<KeyFix<StoredItem>>): void {
    this.dropSnapshotsBefore(position)
    const r = this.replica
    this.fixTree(r.tree, position, r.applied, fixes)
    for (const m of [this.boundaries, this.requested])
      for (const [q, snap] of m) if (q >= position) this.fixTree(snap, position, q, fixes)
  }

  rebuild(position: number, source: BTreeView<StoredItem>): void {
    const copy = (): BTree<StoredItem> => {
      const keys: EncodedKey[] = []
      const values: StoredItem[] = []
      source.forRange(undefined, (k, v) => {
        keys.push(k)
        values.push(copyItem(v))
      })
      return BTree.fromSorted(keys, values, nodeTreeOptions)
    }
    const replay = (t: BTree<StoredItem>, upTo: number): void => {
      for (const e of this.entriesAfter(position, upTo)) nodeStateMachine.apply(t, e)
    }
    this.dropSnapshotsBefore(position)
    const r = this.replica
    const t = copy()
    replay(t, r.applied)
    r.tree = t
    r.committed.tree = t
    for (const m of [this.boundaries, this.requested])
      for (const q of [...m.keys()]) {
        const s = copy()
        replay(s, q)
        m.set(q, s)
      }
  }
}

// ---------------------------------------------------------------------------------------------
// Partitions

/** A partition's storage replicas in the cluster, as one `PartitionPort`. */
export class NodePartitionPort implements PartitionPort<StoredItem> {
  readonly identity: LogIdentity
  readonly stateMachine = nodeStateMachine
  readonly treeOptions = nodeTreeOptions

  constructor(
    private readonly scrub: ClusterScrub,
    table: string,
    readonly partitionId: string,
  ) {
    this.identity = { table, partition: partitionId }
  }

  get replicas(): ReadonlyArray<NodeReplicaPort> {
    return this.scrub.replicaPorts(this.partitionId)
  }
}

// ---------------------------------------------------------------------------------------------
// The cluster's scrubbers

interface NodeScrubber {
  core: ScrubberCore<StoredItem>
  /** The partitions it owns, joined (a change rebuilds the core). */
  owned: string
  /** Metrics of the cores it replaced. */
  past: ScrubMetrics[]
  inFlight: boolean
}

/** Every node's scrubber, their ports, events and metrics. */
export class ClusterScrub {
  private readonly partitionPorts = new Map<string, NodePartitionPort>()
  private readonly replicaPortOf = new WeakMap<Replica, NodeReplicaPort>()
  private readonly byNode = new Map<string, NodeScrubber>()
  private readonly eventLog: NodeScrubEvent[] = []
  private readonly listeners: Array<(e: NodeScrubEvent) => void> = []
  /** The object store the scrubber reads the archive from (an empty one in replicas-only mode). */
  readonly store: ObjectStoreService
  readonly replicasOnly: boolean
  private readonly async: boolean

  constructor(
    private readonly runtime: Runtime,
    private readonly nodes: ReadonlyMap<string, StorageNode>,
    archive: { readonly store: ObjectStoreService; readonly async: boolean } | undefined,
    readonly config: ScrubConfig,
  ) {
    this.replicasOnly = config.replicasOnly === true || archive === undefined
    this.store = archive?.store ?? new MemoryObjectStore().service()
    this.async = archive?.async === true
  }

  /** Tick period, ms. */
  get tickMs(): number {
    return this.config.tickMs ?? SCRUB_TICK_MS_DEFAULT
  }

  /** Subscribes to events. */
  onEvent(f: (e: NodeScrubEvent) => void): void {
    this.listeners.push(f)
  }

  /** Events so far (the most recent `SCRUB_EVENTS_MAX`). */
  events(): ReadonlyArray<NodeScrubEvent> {
    return this.eventLog
  }

  /** The port of a replica (attaching its tap on first use). */
  portOf(r: Replica, node: StorageNode): NodeReplicaPort {
    let p = this.replicaPortOf.get(r)
    if (p === undefined) {
      p = new NodeReplicaPort(r, node)
      this.replicaPortOf.set(r, p)
    }
    return p
  }

  /** The live storage replicas of a partition in its latest configuration, as ports. */
  replicaPorts(partitionId: string): NodeReplicaPort[] {
    const all: Array<{ node: StorageNode; r: Replica }> = []
    for (const n of this.nodes.values()) {
      if (!n.isUp) continue
      const r = n.replicas.get(partitionId)
      if (r !== undefined) all.push({ node: n, r })
    }
    // The configuration as the most advanced replica knows it (stale members are not judged).
    let newest: Replica | undefined
    for (const x of all)
      if (newest === undefined || x.r.core.commitIndex > newest.core.commitIndex) newest = x.r
    const members = new Set(
      (newest?.core.latestConfig().members ?? []).filter((m) => m.role === "storage").map((m) => m.id),
    )
    const out: NodeReplicaPort[] = []
    for (const x of all) {
      if (x.r.spec.role !== "storage" || x.r.retired) continue
      if (members.size > 0 && !members.has(x.r.replicaId)) continue
      out.push(this.portOf(x.r, x.node))
    }
    return out
  }

  /** The node that scrubs a partition: the up node with the smallest id holding a live storage replica. */
  ownerOf(partitionId: string): string | undefined {
    let owner: string | undefined
    for (const p of this.replicaPorts(partitionId))
      if (owner === undefined || p.node.nodeId < owner) owner = p.node.nodeId
    return owner
  }

  private partitionPort(r: Replica): NodePartitionPort {
    let p = this.partitionPorts.get(r.partitionId)
    if (p === undefined) {
      p = new NodePartitionPort(this, r.spec.table, r.partitionId)
      this.partitionPorts.set(r.partitionId, p)
      this.archiveBase(p.identity, r)
    }
    return p
  }

  /**
   * A split child starts from its parent's items, not from the empty state: its base is written
   * to the archive as the checkpoint at position 0, so the reference builder starts from it.
   */
  private archiveBase(id: LogIdentity, r: Replica): void {
    const base = r.durable.base
    if (base === undefined || this.replicasOnly || this.async) return
    const key = checkpointKey(id, 0)
    const put = Effect.flatMap(this.store.get(key), (old) => {
      if (old !== null) return Effect.void
      const b = base.tree.toCheckpointBytes()
      return this.store.put(key, b, crc32c(b))
    })
    Effect.runSyncExit(put)
  }

  /** One background tick on `node`: the partitions it owns, a few slices under the rate limit. */
  run(node: StorageNode): void {
    if (!node.isUp) return
    const owned: NodePartitionPort[] = []
    for (const r of node.replicas.values()) {
      if (r.spec.role !== "storage" || r.retired) continue
      const ports = this.replicaPorts(r.partitionId) // attaches the taps of new replica objects
      let owner: string | undefined
      for (const p of ports) if (owner === undefined || p.node.nodeId < owner) owner = p.node.nodeId
      if (owner === node.nodeId) owned.push(this.partitionPort(r))
    }
    owned.sort((a, b) => (a.partitionId < b.partitionId ? -1 : a.partitionId > b.partitionId ? 1 : 0))
    const key = owned.map((p) => p.partitionId).join(" ")
    let s = this.byNode.get(node.nodeId)
    if (s === undefined || s.owned !== key) {
      const past = s === undefined ? [] : [...s.past, s.core.metrics()]
      s = { core: this.makeCore(node.nodeId, owned), owned: key, past, inFlight: false }
      this.byNode.set(node.nodeId, s)
    }
    if (owned.length === 0 || s.inFlight) return
    const core = s.core
    const now = this.runtime.now()
    if (this.async) {
      // A store with real I/O: one slice at a time, completing later.
      s.inFlight = true
      const ns = s
      void Effect.runPromiseExit(Effect.provideService(core.tick(now), ObjectStore, this.store)).then(() => {
        ns.inFlight = false
      })
      return
    }
    for (let i = 0; i < SCRUB_SLICES_PER_TICK_MAX; i++) {
      const out = Effect.runSyncExit(Effect.provideService(core.tick(now), ObjectStore, this.store))
      if (Exit.isFailure(out) || out.value !== "ran") break
    }
  }

  private makeCore(nodeId: string, owned: ReadonlyArray<NodePartitionPort>): ScrubberCore<StoredItem> {
    const c = this.config
    const waitMs = c.snapshotWaitMs ?? SCRUB_SNAPSHOT_WAIT_MS_DEFAULT
    const core = new ScrubberCore<StoredItem>(owned, {
      rateLimit: {
        bytesPerSec: c.bytesPerSec ?? SCRUB_BYTES_PER_SEC_DEFAULT,
        burstBytes: c.burstBytes ?? SCRUB_BURST_BYTES_DEFAULT,
      },
      replicasOnly: this.replicasOnly,
      deepVerify: c.deepVerify === true,
      snapshotWaitSteps: Math.max(1, Math.ceil(waitMs / this.tickMs)),
      ...(c.checkpointEverySegments === undefined
        ? {}
        : { checkpointEverySegments: c.checkpointEverySegments }),
    })
    core.onEvent((e) => this.record(nodeId, e))
    return core
  }

  private record(nodeId: string, e: ScrubEvent): void {
    const [, pid] = splitName(e.partition)
    let replicaNode: string | undefined
    if (e.replica !== "archive")
      for (const p of this.replicaPorts(pid)) if (p.id === e.replica) replicaNode = p.node.nodeId
    const ne: NodeScrubEvent = {
      ...e,
      scrubber: nodeId,
      ...(replicaNode === undefined ? {} : { replicaNode }),
    }
    this.eventLog.push(ne)
    if (this.eventLog.length > SCRUB_EVENTS_MAX) this.eventLog.shift()
    for (const f of this.listeners) f(ne)
  }

  /** Full cycles completed by the node that has completed fewest (nodes owning partitions only). */
  cyclesCompleted(): number {
    let min = Number.POSITIVE_INFINITY
    for (const s of this.byNode.values()) {
      if (s.owned === "") continue
      min = Math.min(min, s.core.metrics().cycles)
    }
    return Number.isFinite(min) ? min : 0
  }

  /** Each node's metrics (cores replaced after a change of ownership included). */
  metricsByNode(): Record<string, ScrubMetrics> {
    const out: Record<string, ScrubMetrics> = {}
    for (const [id, s] of this.byNode) {
      const now = s.core.metrics()
      out[id] = { ...sumMetrics([...s.past, now]), partitionsPerCycle: now.partitionsPerCycle }
    }
    return out
  }

  /** Metrics of every node's scrubber together. */
  metrics(): ScrubMetrics {
    return sumMetrics(Object.values(this.metricsByNode()))
  }
}

const splitName = (name: string): [string, string] => {
  const i = name.lastIndexOf("/")
  return [name.slice(0, i), name.slice(i + 1)]
}

/** Sums counters and rates; the worst of times. */
const sumMetrics = (list: ReadonlyArray<ScrubMetrics>): ScrubMetrics => {
  const sum = (f: (m: ScrubMetrics) => number): number => list.reduce((a, m) => a + f(m), 0)
  const max = (f: (m: ScrubMetrics) => number): number =>
    list.reduce((a, m) => (Number.isNaN(f(m)) ? a : Number.isNaN(a) ? f(m) : Math.max(a, f(m))), Number.NaN)
  return {
    bytesVerified: sum((m) => m.bytesVerified),
    bytesRead: sum((m) => m.bytesRead),
    bytesReadPerSec: sum((m) => m.bytesReadPerSec),
    referenceBytes: sum((m) => m.referenceBytes),
    bytesVerifiedPerSec: sum((m) => m.bytesVerifiedPerSec),
    cycles: sum((m) => m.cycles),
    partitionsPerCycle: sum((m) => m.partitionsPerCycle),
    lastCycleMs: max((m) => m.lastCycleMs),
    visits: sum((m) => m.visits),
    detections: sum((m) => m.detections),
    repairs: sum((m) => m.repairs),
    unrecoverable: sum((m) => m.unrecoverable),
    checksumsExchanged: sum((m) => m.checksumsExchanged),
    bytesExchanged: sum((m) => m.bytesExchanged),
    differences: sum((m) => m.differences),
    timeToDetectMsLast: max((m) => m.timeToDetectMsLast),
    timeToDetectMsMax: max((m) => m.timeToDetectMsMax),
    yields: sum((m) => m.yields),
    throttles: sum((m) => m.throttles),
  }
}

/** The background hook of a node: the scrubber's tick, and the user's hook at its own period. */
export const scrubBackground = (
  scrub: ClusterScrub | undefined,
  user: { readonly everyMs: number; readonly run: (node: StorageNode) => void } | undefined,
  now: () => number,
): { readonly everyMs: number; readonly run: (node: StorageNode) => void } | undefined => {
  if (scrub === undefined) return user
  if (user === undefined) return { everyMs: scrub.tickMs, run: (n) => scrub.run(n) }
  const last = new Map<string, number>()
  return {
    everyMs: Math.min(scrub.tickMs, user.everyMs),
    run: (n) => {
      scrub.run(n)
      const t = now()
      if (t - (last.get(n.nodeId) ?? Number.NEGATIVE_INFINITY) >= user.everyMs) {
        last.set(n.nodeId, t)
        user.run(n)
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Fault injection on the node's replicas (the scrubber's helpers take a `SimPartition`; these do
// the same to a cluster's replicas; archived segments use the scrubber's `flipArchivedSegmentBit`).

/** What a node-side fault injector damaged. */
export interface NodeFault {
  readonly kind: "value-bit-flip" | "lost-write" | "wal-record-bit-flip"
  readonly partition: string
  readonly replica: number
  readonly node: string
  readonly key?: EncodedKey
  readonly position?: number
  readonly atMs: number
}

/**
 * Flips one bit of a character inside a string value of `key`'s stored item text on one replica
 * (keeping the text valid JSON, so reads serve the rotted value until the scrubber repairs it).
 */
export const flipStoredValueBit = (
  scrub: ClusterScrub,
  r: Replica,
  node: StorageNode,
  key: EncodedKey,
): NodeFault => {
  const v = r.tree.get(key)
  if (v === undefined) throw new RangeError(`flipStoredValueBit: no item at ${key}`)
  const t = v.text
  let flipped: string | undefined
  // The last alphanumeric character of a string value: "...":"...x"
  for (let i = t.length - 1; i > 0 && flipped === undefined; i--) {
    const ch = t.charCodeAt(i)
    const alnum = (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122)
    if (!alnum) continue
    const x = String.fromCharCode(ch ^ 1)
    if (x === '"' || x === "\\") continue
    const candidate = t.slice(0, i) + x + t.slice(i + 1)
    try {
      JSON.parse(candidate)
      if (candidate !== t) flipped = candidate
    } catch {
      // not inside a string value: try an earlier character
    }
  }
  if (flipped === undefined) throw new RangeError(`flipStoredValueBit: nothing to flip in ${t}`)
  r.tree.set(key, storedItem(flipped))
  scrub.portOf(r, node)
  return {
    kind: "value-bit-flip",
    partition: r.partitionId,
    replica: r.replicaId,
    node: node.nodeId,
    key,
    atMs: node.now(),
  }
}

/** The next write applied by this replica is acknowledged and logged, but lost from its tree. */
export const loseNextWriteOn = (scrub: ClusterScrub, r: Replica, node: StorageNode): NodeFault => {
  scrub.portOf(r, node).loseNextWrite = true
  return {
    kind: "lost-write",
    partition: r.partitionId,
    replica: r.replicaId,
    node: node.nodeId,
    atMs: node.now(),
  }
}

/** Flips one bit of a replica's sealed local WAL segment (the newest one by default). */
export const flipLocalWalBit = (
  scrub: ClusterScrub,
  r: Replica,
  node: StorageNode,
  byteOffset: number,
  bit: number,
  firstPosition?: number,
): NodeFault => {
  const port = scrub.portOf(r, node)
  const segs = port.localSegments()
  const m =
    firstPosition === undefined ? segs[segs.length - 1] : segs.find((x) => x.firstPosition === firstPosition)
  if (m === undefined) throw new RangeError(`flipLocalWalBit: replica ${r.replicaId} holds no such segment`)
  const b = port.readLocalSegment(m.firstPosition)!
  const i = byteOffset % b.length
  b[i] = b[i]! ^ (1 << (bit & 7))
  return {
    kind: "wal-record-bit-flip",
    partition: r.partitionId,
    replica: r.replicaId,
    node: node.nodeId,
    position: m.firstPosition,
    atMs: node.now(),
  }
}
