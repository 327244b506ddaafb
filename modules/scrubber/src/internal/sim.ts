/**
 * A simulated partition for tests, benchmarks and experiments: a leader log delivered to three
 * replicas at their own pace (so they sit at different positions while writes continue), each
 * replica with its B-tree, its retained log, sealed local WAL segments (canonical paxos archive
 * framing) and O(1) snapshots at segment boundaries; an archiver that uploads sealed segments to
 * the object store with the paxos checks. Plain TypeScript; the archive calls are Effects.
 * Fault hooks (`loseNextWrite`, `applyNextAddTwice`) model software bugs of one replica.
 */
import type { EncodedKey } from "@partita/core"
import {
  BTree,
  type BTreeOptions,
  type BTreeView,
  type Scalar,
  type ValueCodec,
  scalarCodec,
} from "@partita/btree"
import {
  ENTRY_COMMAND,
  type Entry,
  type LogIdentity,
  type ObjectStore,
  type SegmentManifest,
  archiveSegment,
  encodeArchiveSegment,
} from "@partita/paxos"
import { Effect } from "effect"
import { type KvCommand, type StateMachine, decodeCommand, encodeCommand, kvStateMachine } from "./command.ts"
import type { KeyFix, PartitionPort, ReplicaPort } from "./ports.ts"

/** Options of a simulated partition. */
export interface SimPartitionOptions<V> {
  readonly table?: string
  readonly partition?: string
  readonly replicas?: number
  /** Entries per sealed WAL segment (and archived segment). Default 64. */
  readonly entriesPerSegment?: number
  /** Sealed segments each replica keeps locally after archiving. Default 4. */
  readonly walRetainSegments?: number
  /** Segment-boundary snapshots each replica keeps. Default 3. */
  readonly snapshotsRetained?: number
  readonly stateMachine?: StateMachine<V>
  readonly treeOptions?: BTreeOptions<V>
}

interface LocalSegment {
  manifest: SegmentManifest
  bytes: Uint8Array
  archived: boolean
}

/** One simulated replica (implements `ReplicaPort`). */
export class SimReplica<V = Scalar> implements ReplicaPort<V> {
  tree: BTree<V>
  applied = 0
  live = true
  /** Retained log entries, in slot order (everything after `logBase`). */
  private log: Entry[] = []
  private logBase = 0
  private readonly segments: LocalSegment[] = []
  private readonly snaps = new Map<number, BTree<V>>()
  private readonly requested = new Map<number, BTree<V>>()
  private readonly boundaries: number[] = []
  private readonly wanted = new Set<number>()
  /** Fault: the next entry is logged but not applied (a lost write). */
  loseNextWrite = false
  /** Fault: the next `add` command is applied twice. */
  applyNextAddTwice = false
  /** Slots whose application was lost or doubled (for tests). */
  readonly faultySlots: number[] = []

  constructor(
    readonly id: number,
    readonly identity: LogIdentity,
    private readonly sm: StateMachine<V>,
    private readonly treeOptions: BTreeOptions<V> | undefined,
    private readonly entriesPerSegment: number,
    private readonly walRetainSegments: number,
    private readonly snapshotsRetained: number,
  ) {
    this.tree = new BTree<V>(treeOptions)
  }

  /** Applies the next committed entry (slots must come in order). */
  apply(e: Entry): void {
    if (e.slot !== this.applied + 1)
      throw new Error(`replica ${this.id}: slot ${e.slot} after ${this.applied}`)
    this.log.push(e)
    if (this.loseNextWrite && e.kind === ENTRY_COMMAND) {
      this.loseNextWrite = false
      this.faultySlots.push(e.slot)
    } else {
      this.sm.apply(this.tree, e)
      if (this.applyNextAddTwice && e.kind === ENTRY_COMMAND && decodeCommand(e.data).op === "add") {
        this.applyNextAddTwice = false
        this.faultySlots.push(e.slot)
        this.sm.apply(this.tree, e)
      }
    }
    this.applied = e.slot
    if (this.wanted.has(e.slot)) {
      this.wanted.delete(e.slot)
      this.requested.set(e.slot, this.tree.clone())
    }
    if (e.slot % this.entriesPerSegment === 0) this.seal(e.slot)
  }

  private seal(last: number): void {
    const first = last - this.entriesPerSegment + 1
    const entries = this.log.filter((x) => x.slot >= first && x.slot <= last)
    const seg = encodeArchiveSegment(this.identity, entries)
    this.segments.push({ manifest: seg.manifest, bytes: seg.bytes, archived: false })
    this.snaps.set(last, this.tree.clone())
    this.boundaries.push(last)
    while (this.boundaries.length > this.snapshotsRetained) this.snaps.delete(this.boundaries.shift()!)
    this.truncate()
  }

  /** Keeps `walRetainSegments` archived segments, and the log back to the oldest snapshot. */
  private truncate(): void {
    while (this.segments.length > this.walRetainSegments && this.segments[0]!.archived) this.segments.shift()
    const last = this.applied
    const keepFrom = Math.min(
      this.boundaries[0] ?? last,
      (this.segments[0]?.manifest.firstPosition ?? last + 1) - 1,
    )
    if (keepFrom > this.logBase) {
      this.log = this.log.filter((x) => x.slot > keepFrom)
      this.logBase = keepFrom
    }
  }

  /** Sealed segments not yet archived by this replica. */
  unarchived(): ReadonlyArray<{ manifest: SegmentManifest; bytes: Uint8Array }> {
    return this.segments.filter((s) => !s.archived)
  }

  /** Marks a segment archived (uploaded or verified against the archive). */
  markArchived(firstPosition: number): void {
    const s = this.segments.find((x) => x.manifest.firstPosition === firstPosition)
    if (s !== undefined) s.archived = true
    this.truncate()
  }

  requestSnapshot(position: number): boolean {
    if (position < this.applied) return this.requested.has(position)
    if (position === this.applied) {
      if (!this.requested.has(position)) this.requested.set(position, this.tree.clone())
      return true
    }
    this.wanted.add(position)
    return true
  }

  requestedSnapshot(position: number): BTreeView<V> | undefined {
    return this.requested.get(position)
  }

  snapshotAt(position: number): BTreeView<V> | undefined {
    return this.snaps.get(position)
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

  /** A value of our own (never an object shared with another replica's tree). */
  private copyValue(v: V): V {
    const codec = this.treeOptions?.codec ?? (scalarCodec as unknown as ValueCodec<V>)
    return typeof v === "object" && v !== null ? codec.decode(codec.encode(v)) : v
  }

  /** Entries in `(after, upTo]` from the retained log (throws if truncated). */
  private entriesAfter(after: number, upTo: number): Entry[] {
    if (after < this.logBase) throw new Error(`replica ${this.id}: log truncated before ${after}`)
    return this.log.filter((x) => x.slot > after && x.slot <= upTo)
  }

  private fixTree(tree: BTree<V>, position: number, upTo: number, fixes: ReadonlyArray<KeyFix<V>>): void {
    const later = this.entriesAfter(position, upTo)
    for (const f of fixes) {
      // Replay on a scratch tree holding only this key, so other keys' entries cannot interfere.
      const scratch = new BTree<V>(this.treeOptions)
      if (f.value !== undefined) scratch.set(f.key, f.value)
      for (const e of later) if (this.sm.touches(e).includes(f.key)) this.sm.apply(scratch, e)
      const v = scratch.get(f.key)
      if (v === undefined) tree.delete(f.key)
      else tree.set(f.key, this.copyValue(v))
    }
  }

  /** Snapshots before a repair may hold the damage: they are dropped. */
  private dropSnapshotsBefore(position: number): void {
    for (const q of [...this.snaps.keys()]) if (q < position) this.snaps.delete(q)
    for (const q of [...this.requested.keys()]) if (q < position) this.requested.delete(q)
    while (this.boundaries.length > 0 && this.boundaries[0]! < position) this.boundaries.shift()
  }

  repairKeys(position: number, fixes: ReadonlyArray<KeyFix<V>>): void {
    this.dropSnapshotsBefore(position)
    this.fixTree(this.tree, position, this.applied, fixes)
    for (const [q, snap] of this.snaps) if (q >= position) this.fixTree(snap, position, q, fixes)
    for (const [q, snap] of this.requested) if (q >= position) this.fixTree(snap, position, q, fixes)
  }

  rebuild(position: number, source: BTreeView<V>): void {
    const copy = (): BTree<V> => {
      const keys: EncodedKey[] = []
      const values: V[] = []
      source.forRange(undefined, (k, v) => {
        keys.push(k)
        values.push(this.copyValue(v))
      })
      return BTree.fromSorted(keys, values, this.treeOptions)
    }
    const replay = (t: BTree<V>, upTo: number) => {
      for (const e of this.entriesAfter(position, upTo)) this.sm.apply(t, e)
    }
    this.dropSnapshotsBefore(position)
    this.tree = copy()
    replay(this.tree, this.applied)
    for (const m of [this.snaps, this.requested])
      for (const q of [...m.keys()]) {
        if (q < position) continue
        const t = copy()
        replay(t, q)
        m.set(q, t)
      }
  }
}

/** A simulated partition (implements `PartitionPort`). */
export class SimPartition<V = Scalar> implements PartitionPort<V> {
  readonly identity: LogIdentity
  readonly replicas: SimReplica<V>[]
  readonly stateMachine: StateMachine<V>
  readonly treeOptions: BTreeOptions<V> | undefined
  readonly entriesPerSegment: number
  /** Highest committed position. */
  committed = 0
  private readonly queues: Entry[][]
  /** Archiver check failures (a replica's log disagreeing with the archive). */
  readonly archiverErrors: string[] = []

  constructor(options: SimPartitionOptions<V> = {}) {
    this.identity = { table: options.table ?? "t", partition: options.partition ?? "p0" }
    this.stateMachine = options.stateMachine ?? (kvStateMachine as unknown as StateMachine<V>)
    this.treeOptions = options.treeOptions
    this.entriesPerSegment = options.entriesPerSegment ?? 64
    const n = options.replicas ?? 3
    this.replicas = Array.from(
      { length: n },
      (_, i) =>
        new SimReplica<V>(
          i,
          this.identity,
          this.stateMachine,
          this.treeOptions,
          this.entriesPerSegment,
          options.walRetainSegments ?? 4,
          options.snapshotsRetained ?? 3,
        ),
    )
    this.queues = this.replicas.map(() => [])
  }

  /** Commits a raw entry payload; returns its slot. Delivery to the replicas happens in `deliver`. */
  commitData(data: Uint8Array): number {
    const e: Entry = { slot: ++this.committed, ballot: 0, kind: ENTRY_COMMAND, data }
    for (const q of this.queues) q.push(e)
    return e.slot
  }

  /** Commits a key-value command (for the default state machine). */
  commit(c: KvCommand): number {
    return this.commitData(encodeCommand(c))
  }

  /** Applies up to `max` pending entries on replica `i`. */
  deliver(i: number, max = Number.POSITIVE_INFINITY): number {
    const q = this.queues[i]!
    const r = this.replicas[i]!
    let n = 0
    while (n < max && q.length > 0) {
      r.apply(q.shift()!)
      n++
    }
    return n
  }

  /** Applies everything pending on every replica. */
  deliverAll(): void {
    for (let i = 0; i < this.replicas.length; i++) this.deliver(i)
  }

  /** Uploads (or verifies against the archive) every sealed local segment not yet archived. */
  archivePending(): Effect.Effect<number, never, ObjectStore> {
    return Effect.gen(this, function* () {
      let n = 0
      for (const r of this.replicas) {
        if (!r.live) continue
        for (const seg of r.unarchived()) {
          const out = yield* Effect.either(archiveSegment(this.identity, seg))
          if (out._tag === "Left") this.archiverErrors.push(`replica ${r.id}: ${out.left.message}`)
          r.markArchived(seg.manifest.firstPosition)
          n++
        }
      }
      return n
    })
  }
}
