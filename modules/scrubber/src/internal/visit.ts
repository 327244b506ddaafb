/**
 * One visit of the scrubber to one partition, as a sequence of bounded slices (`step`), so the
 * scheduler can interleave it with foreground work and charge it to the byte budget:
 *
 * 1. `wal`: every replica's sealed local WAL segments are checked (CRC per frame, hash chain,
 *    manifest checksum); a damaged one is replaced by a verified copy from another replica or
 *    from the archive.
 * 2. `archive`: list the archived segments (holes are reported) and checkpoints; pick the
 *    reference position P2 = the last archived position all live replicas hold a snapshot for.
 * 3. `checkpoint`: load the newest checkpoint at or below P2 (page CRCs, content checksum); a
 *    damaged one is reported, an older one (or the empty state at position 0) used instead, and
 *    the damaged one rewritten once the reference passes its position.
 * 4. `segments`: read every archived segment, one per slice, verifying checksums and chain as it
 *    is read; apply those between the checkpoint and P2 to the reference. A damaged segment is
 *    re-archived from a replica whose local log still has it, else reported unrecoverable.
 * 5. `reference`: compare the reference with every replica's snapshot at P2; narrow and repair
 *    the replicas that differ from it (the archive is the committed truth).
 * 6. `replicas`: ask every replica for a snapshot at the current position P1 (O(1), writes go on),
 *    wait until they all reach it, compare, narrow, and repair the minority from the majority.
 */
import type { EncodedKey } from "@partita/core"
import {
  BTree,
  type BTreeView,
  CheckpointCorrupt,
  ChecksumAccumulator,
  type ValueCodec,
  scalarCodec,
} from "@partita/btree"
import {
  type Entry,
  ObjectStore,
  ObjectStoreError,
  type ObjectStoreService,
  type SegmentManifest,
  crc32c,
  archiveSegment,
  crc32cUpdate,
  listSegments,
  verifySegment,
} from "@partita/paxos"
import { Effect, Either } from "effect"
import {
  CHECKPOINT_EVERY_SEGMENTS_DEFAULT,
  CHECKPOINT_PAGES_PER_SLICE,
  CHECKPOINTS_VERIFIED,
  DEEP_ITEMS_PER_SLICE,
  REPAIR_KEYS_MAX,
  SNAPSHOT_WAIT_TICKS_MAX,
  SUMMARY_WIRE_BYTES,
  VERIFY_BYTES_PER_SLICE,
} from "./constants.ts"
import type { ScrubCause, ScrubEvent, ScrubEventType } from "./events.ts"
import { type CheckpointLayout, checkPages, checkpointLayout } from "./ckpt.ts"
import { checkpointKey, listCheckpoints, walPrefix } from "./layout.ts"
import {
  type NarrowResult,
  type RangeSummary,
  narrow,
  successorKey,
  summariesAgree,
  viewSource,
} from "./narrow.ts"
import { type KeyFix, type PartitionPort, type ReplicaPort, partitionName } from "./ports.ts"

/** The reference a scrubber keeps per partition between visits (advanced in place). */
export interface ReferenceCache<V> {
  tree?: BTree<V>
  position?: number
}

/** Options of a visit. */
export interface VisitOptions {
  /** Archived segments between checkpoints written by the reference builder. */
  readonly checkpointEverySegments?: number
  /** Steps to wait for lagging replicas before comparing those at the position. */
  readonly snapshotWaitSteps?: number
  /** Skip the archive and reference phases (replica comparison only). */
  readonly replicasOnly?: boolean
  /**
   * Also re-hash every stored item of every replica and compare with the tree's own aggregates
   * (finds rot beneath the incremental checksums; reads all data each cycle). Default false.
   */
  readonly deepVerify?: boolean
}

/** What a visit has done so far. */
export interface VisitStats {
  /** Payload, WAL and archive bytes verified. */
  bytesVerified: number
  /**
   * Bytes actually read or exchanged (WAL and archive bytes, checkpoints, narrowing messages):
   * the cost charged to the rate limit. Comparing two O(1) checksums verifies a whole replica's
   * payload but reads 32 bytes.
   */
  bytesRead: number
  /** Of which: archive bytes read and verified for the reference (segments + checkpoint). */
  referenceBytes: number
  checksumsExchanged: number
  bytesExchanged: number
  /** Differing keys found by narrowing. */
  differences: number
  detections: number
  repairs: number
}

/** Outcome of one slice. */
export interface StepOutcome {
  /** Bytes this slice read (charged to the rate limit). */
  readonly bytes: number
  /** Bytes this slice verified. */
  readonly verified: number
  readonly state: "progress" | "waiting" | "done"
}

type Phase =
  | "wal"
  | "archive"
  | "checkpoint-verify"
  | "checkpoint"
  | "segments"
  | "reference"
  | "replicas-start"
  | "replicas"
  | "deep"
  | "done"

/** A visit to one partition (plain TypeScript state; each `step` is one Effect over the ObjectStore). */
export class PartitionVisit<V> {
  private phase: Phase = "wal"
  private walQueue: Array<CrcJob & { readonly r: ReplicaPort<V>; readonly m: SegmentManifest }> | undefined
  private segJob: (CrcJob & { readonly m: SegmentManifest; readonly bytes: Uint8Array | null }) | undefined
  readonly stats: VisitStats = {
    bytesVerified: 0,
    bytesRead: 0,
    referenceBytes: 0,
    checksumsExchanged: 0,
    bytesExchanged: 0,
    differences: 0,
    detections: 0,
    repairs: 0,
  }
  private readonly name: string
  private manifests: SegmentManifest[] = []
  private segmentKeys: string[] = []
  private checkpoints: number[] = []
  private candidates: number[] = []
  private damagedCheckpoints: number[] = []
  private p2 = 0
  private deepQueue: Array<{
    readonly r: ReplicaPort<V>
    readonly acc: ChecksumAccumulator<V>
    cursor: EncodedKey | undefined
  }> = []
  private deepReady: ReplicaPort<V>[] = []
  private rotted: ReplicaPort<V>[] = []
  /** Lowest usable reference base (after an unrecoverable hole). */
  private minBase = 0
  private base = 0
  private reference: BTree<V> | undefined
  private referenceBroken = false
  private segIndex = 0
  private p1 = 0
  private waited = 0
  private cpVerify: Array<{ position: number; bytes?: Uint8Array; layout?: CheckpointLayout; next: number }> =
    []

  constructor(
    readonly port: PartitionPort<V>,
    private readonly emitEvent: (e: ScrubEvent) => void,
    private readonly options: VisitOptions = {},
    /** The reference kept from the previous visit (advanced in place), if any. */
    private readonly cache: ReferenceCache<V> = {},
  ) {
    this.name = partitionName(port.identity)
  }

  /** True once the visit is over. */
  get done(): boolean {
    return this.phase === "done"
  }

  /** Runs one bounded slice of the visit. */
  step(nowMs: number): Effect.Effect<StepOutcome, never, ObjectStore> {
    const before = this.stats.bytesVerified
    const readBefore = this.stats.bytesRead
    return Effect.gen(this, function* () {
      const store = yield* ObjectStore
      let waiting = false
      switch (this.phase) {
        case "wal": {
          // A bounded chunk of one local segment's CRC per slice; a mismatch gets the full check.
          if (this.walQueue === undefined)
            this.walQueue = this.live().flatMap((r) =>
              r.localSegments().map((m) => ({ r, m, crc: 0, offset: 0 })),
            )
          const item = this.walQueue[0]
          if (item !== undefined) {
            const bytes = item.r.readLocalSegment(item.m.firstPosition)
            if (this.crcChunk(item, bytes)) {
              this.walQueue.shift()
              if (bytes !== undefined && !(bytes.length === item.m.bytes && item.crc === item.m.crc32c))
                yield* this.checkLocalWal(store, nowMs, item)
            }
          }
          if (this.walQueue.length === 0)
            this.phase = this.options.replicasOnly === true ? "replicas-start" : "archive"
          break
        }
        case "archive":
          yield* this.listArchive(store, nowMs)
          break
        case "checkpoint-verify":
          yield* this.verifyCheckpointPages(store, nowMs)
          break
        case "checkpoint":
          this.loadCheckpoint(yield* store.get(checkpointKey(this.port.identity, this.candidates[0]!)), nowMs)
          break
        case "segments":
          yield* this.checkSegment(store, nowMs)
          break
        case "reference":
          yield* this.compareWithReference(store, nowMs)
          this.phase = "replicas-start"
          break
        case "replicas-start":
          this.startReplicaComparison()
          break
        case "replicas":
          waiting = !this.compareReplicas(nowMs)
          break
        case "deep":
          this.deepStep(nowMs)
          break
        case "done":
          break
      }
      return {
        bytes: this.stats.bytesRead - readBefore,
        verified: this.stats.bytesVerified - before,
        state: this.phase === "done" ? "done" : waiting ? "waiting" : "progress",
      } as StepOutcome
    }).pipe(
      Effect.catchAll((e: ObjectStoreError) =>
        Effect.sync(() => {
          this.emit(
            nowMs,
            "unresolved",
            "archive",
            "archive-unreachable",
            this.p2,
            {},
            `${e.op} ${e.key}: ${e.message}`,
          )
          // Without the archive the replicas can still be compared with each other.
          this.phase =
            this.phase === "replicas" || this.phase === "replicas-start" ? "done" : "replicas-start"
          return {
            bytes: this.stats.bytesRead - readBefore,
            verified: this.stats.bytesVerified - before,
            state: "progress",
          } as StepOutcome
        }),
      ),
    )
  }

  private emit(
    atMs: number,
    type: ScrubEventType,
    replica: number | "archive",
    cause: ScrubCause,
    position: number,
    extra: Pick<ScrubEvent, "keys" | "positions"> & { keyRange?: ScrubEvent["keyRange"] },
    detail: string,
  ): void {
    if (type === "detected") this.stats.detections++
    if (type === "repaired") this.stats.repairs++
    const keys = extra.keys
    const keyRange =
      extra.keyRange ??
      (keys !== undefined && keys.length > 0 ? { lo: keys[0], hi: successorKey(keys[keys.length - 1]!) } : {})
    this.emitEvent({
      type,
      partition: this.name,
      replica,
      keyRange,
      ...(keys !== undefined ? { keys } : {}),
      ...(extra.positions !== undefined ? { positions: extra.positions } : {}),
      cause,
      position,
      atMs,
      detail,
    })
  }

  private live(): ReplicaPort<V>[] {
    return this.port.replicas.filter((r) => r.live)
  }

  // 1. Local WAL segments.
  /** Advances a CRC over the next `VERIFY_BYTES_PER_SLICE` bytes; true once all are done. */
  private crcChunk(job: CrcJob, bytes: Uint8Array | null | undefined): boolean {
    if (bytes === null || bytes === undefined || job.offset >= bytes.length) return true
    const end = Math.min(job.offset + VERIFY_BYTES_PER_SLICE, bytes.length)
    job.crc = crc32cUpdate(job.crc, bytes, job.offset, end)
    this.stats.bytesVerified += end - job.offset
    this.stats.bytesRead += end - job.offset
    job.offset = end
    return end === bytes.length
  }

  private checkLocalWal(
    store: ObjectStoreService,
    nowMs: number,
    item: { readonly r: ReplicaPort<V>; readonly m: SegmentManifest },
  ): Effect.Effect<void, ObjectStoreError> {
    return Effect.gen(this, function* () {
      const { r, m } = item
      const bytes = r.readLocalSegment(m.firstPosition)
      if (bytes === undefined) return
      const ok = yield* Effect.either(verifySegment(this.port.identity, m, bytes))
      if (Either.isRight(ok)) return
      const positions = { first: m.firstPosition, last: m.lastPosition }
      this.emit(nowMs, "detected", r.id, "wal-record-corrupt", m.lastPosition, { positions }, ok.left.reason)
      const fixed = yield* this.healthySegmentCopy(store, m, r.id)
      if (fixed !== undefined) {
        r.writeLocalSegment(m, fixed.bytes)
        this.emit(nowMs, "repaired", r.id, "wal-record-corrupt", m.lastPosition, { positions }, fixed.from)
      } else
        this.emit(
          nowMs,
          "unrecoverable",
          r.id,
          "wal-record-corrupt",
          m.lastPosition,
          { positions },
          "no healthy copy",
        )
    })
  }

  /** Uploads verified local segments covering positions `first..last` exactly; false if no replica can. */
  private fillHole(
    store: ObjectStoreService,
    first: number,
    last: number,
  ): Effect.Effect<boolean, ObjectStoreError> {
    return Effect.gen(this, function* () {
      const id = this.port.identity
      for (const r of this.live()) {
        const segs = r.localSegments().filter((m) => m.firstPosition >= first && m.lastPosition <= last)
        let at = first
        const ok: Array<{ manifest: SegmentManifest; bytes: Uint8Array }> = []
        for (const m of segs) {
          const bytes = r.readLocalSegment(m.firstPosition)
          if (m.firstPosition !== at || bytes === undefined) break
          if (Either.isLeft(yield* Effect.either(verifySegment(id, m, bytes)))) break
          ok.push({ manifest: m, bytes })
          at = m.lastPosition + 1
        }
        if (at !== last + 1) continue
        for (const seg of ok) {
          const out = yield* Effect.either(
            archiveSegment(id, seg).pipe(Effect.provideService(ObjectStore, store)),
          )
          if (Either.isLeft(out) && out.left._tag === "ObjectStoreError") return yield* Effect.fail(out.left)
          if (Either.isLeft(out)) return false
        }
        return true
      }
      return false
    })
  }

  /** A verified copy of segment `m` from another replica's log, else from the archive. */
  private healthySegmentCopy(
    store: ObjectStoreService,
    m: SegmentManifest,
    exclude: number | "archive",
  ): Effect.Effect<{ bytes: Uint8Array; from: string; entries: Entry[] } | undefined, ObjectStoreError> {
    return Effect.gen(this, function* () {
      const id = this.port.identity
      for (const o of this.live()) {
        if (o.id === exclude) continue
        const b = o.readLocalSegment(m.firstPosition)
        if (b === undefined || b.length !== m.bytes || crc32c(b) !== m.crc32c) continue
        const v = yield* Effect.either(verifySegment(id, m, b))
        if (Either.isRight(v))
          return { bytes: b, from: `copied from replica ${o.id}'s log`, entries: v.right }
      }
      if (exclude !== "archive") {
        const key = this.segmentKeyOf(m) ?? (yield* store.list(walPrefix(id))).find((k) => matches(k, m))
        if (key !== undefined) {
          const b = yield* store.get(key)
          if (b !== null) {
            const v = yield* Effect.either(verifySegment(id, m, b))
            if (Either.isRight(v)) return { bytes: b, from: "copied from the archive", entries: v.right }
          }
        }
      }
      return undefined
    })
  }

  private segmentKeyOf(m: SegmentManifest): string | undefined {
    return this.segmentKeys.find((k) => matches(k, m))
  }

  // 2. Archive listing and the reference position.
  private listArchive(store: ObjectStoreService, nowMs: number): Effect.Effect<void, ObjectStoreError> {
    return Effect.gen(this, function* () {
      const id = this.port.identity
      // A manifest damaged in the store makes the listing unusable: reported like an unreadable
      // archive (the event names the manifest's key and what is wrong), never thrown.
      const list = () =>
        listSegments(id).pipe(
          Effect.provideService(ObjectStore, store),
          Effect.catchTag("ArchiveCheckError", (e) =>
            Effect.fail(new ObjectStoreError({ op: "list", key: e.segment, message: e.reason })),
          ),
        )
      this.manifests = [...(yield* list())]
      this.checkpoints = yield* listCheckpoints(store, id)
      // The contiguous prefix from position 1; a hole is re-archived from a replica's log if one still has it.
      let through = 0
      let fills = 0
      for (let i = 0; i < this.manifests.length; i++) {
        const m = this.manifests[i]!
        if (m.firstPosition === through + 1) {
          through = m.lastPosition
          continue
        }
        const positions = { first: through + 1, last: m.firstPosition - 1 }
        this.emit(
          nowMs,
          "detected",
          "archive",
          "archive-hole",
          through,
          { positions },
          "positions missing from the archive",
        )
        const filled = yield* this.fillHole(store, positions.first, positions.last)
        if (!filled) {
          this.emit(
            nowMs,
            "unrecoverable",
            "archive",
            "archive-hole",
            through,
            { positions },
            "no replica log still holds these positions",
          )
          // A reference must now start from a checkpoint at or after the hole.
          this.minBase = Math.max(this.minBase, positions.last)
          through = m.lastPosition
          continue
        }
        this.emit(
          nowMs,
          "repaired",
          "archive",
          "archive-hole",
          through,
          { positions },
          "re-archived from a replica's log",
        )
        this.manifests = [...(yield* list())]
        if (++fills > HOLE_FILLS_MAX) break
        i = -1
        through = 0
      }
      this.segmentKeys = (yield* store.list(walPrefix(id))).filter((k) => k.endsWith(".seg"))
      const live = this.live()
      this.p2 = 0
      for (let i = this.manifests.length - 1; i >= 0; i--) {
        const p = this.manifests[i]!.lastPosition
        if (p > through) continue
        if (live.length > 0 && live.every((r) => r.snapshotAt(p) !== undefined)) {
          this.p2 = p
          break
        }
      }
      // The newest checkpoints are the ones a rebuild would start from; older ones are superseded.
      this.cpVerify = this.checkpoints.slice(-CHECKPOINTS_VERIFIED).map((position) => ({ position, next: 1 }))
      this.phase = "checkpoint-verify"
    })
  }

  // 3a. Every archived checkpoint, a few pages per slice.
  private verifyCheckpointPages(
    store: ObjectStoreService,
    nowMs: number,
  ): Effect.Effect<void, ObjectStoreError> {
    return Effect.gen(this, function* () {
      const cp = this.cpVerify[0]
      if (cp === undefined) return this.chooseBase()
      const positions = { first: cp.position, last: cp.position }
      if (cp.bytes === undefined) {
        const b = yield* store.get(checkpointKey(this.port.identity, cp.position))
        if (b === null) {
          this.cpVerify.shift()
          this.damagedCheckpoints.push(cp.position)
          this.emit(
            nowMs,
            "detected",
            "archive",
            "checkpoint-corrupt",
            cp.position,
            { positions },
            "checkpoint missing",
          )
          return
        }
        cp.bytes = b
        cp.layout = checkpointLayout(b)
        this.stats.bytesVerified += HEADER_READ_BYTES
        this.stats.bytesRead += HEADER_READ_BYTES
      }
      const layout = cp.layout!
      let bad: { page: number; reason: string } | undefined
      if (!layout.ok) bad = { page: layout.page, reason: layout.reason }
      else {
        const to = cp.next + CHECKPOINT_PAGES_PER_SLICE
        const p = checkPages(cp.bytes, layout, cp.next, to)
        const n = Math.min(to, layout.dataPages + 2) - cp.next
        this.stats.bytesVerified += n * layout.pageBytes
        this.stats.bytesRead += n * layout.pageBytes
        this.stats.referenceBytes += n * layout.pageBytes
        if (p !== undefined) bad = { page: p, reason: "page CRC mismatch" }
        cp.next = to
        if (bad === undefined && cp.next < layout.dataPages + 2) return
      }
      this.cpVerify.shift()
      if (bad !== undefined) {
        this.damagedCheckpoints.push(cp.position)
        this.emit(
          nowMs,
          "detected",
          "archive",
          "checkpoint-corrupt",
          cp.position,
          { positions },
          `page ${bad.page}: ${bad.reason}`,
        )
      }
    })
  }

  /** Continues the previous visit's reference when possible; else loads a checkpoint (or starts empty). */
  private chooseBase(): void {
    const c = this.cache
    if (
      c.tree !== undefined &&
      c.position !== undefined &&
      c.position >= this.minBase &&
      c.position <= this.p2 &&
      this.damagedCheckpoints.length === 0
    ) {
      // Taken over: it is stored back only once advanced to P2 and compared.
      const { tree, position } = c
      c.tree = undefined
      c.position = undefined
      this.useBase(position, tree)
      return
    }
    this.candidates = this.checkpoints
      .filter((x) => x <= this.p2 && x >= this.minBase && !this.damagedCheckpoints.includes(x))
      .reverse()
    if (this.candidates.length > 0) this.phase = "checkpoint"
    else this.useEmptyBase()
  }

  /** Starts the reference from the empty state at position 0, unless a hole makes that impossible. */
  private useEmptyBase(): void {
    if (this.minBase > 0) this.referenceBroken = true
    this.useBase(0, new BTree<V>(this.port.treeOptions))
  }

  private useBase(position: number, tree: BTree<V>): void {
    this.base = position
    this.reference = tree
    this.segIndex = 0
    this.phase = "segments"
  }

  // 3. Checkpoint.
  private loadCheckpoint(bytes: Uint8Array | null, nowMs: number): void {
    const c = this.candidates.shift()!
    const positions = { first: c, last: c }
    if (bytes !== null) {
      this.stats.bytesRead += bytes.length
      this.stats.referenceBytes += bytes.length
      const t = BTree.fromCheckpointBytes<V>(
        bytes,
        this.port.treeOptions,
        checkpointKey(this.port.identity, c),
      )
      if (Either.isRight(t)) {
        this.useBase(c, t.right)
        return
      }
      const e = t.left
      const why = e instanceof CheckpointCorrupt ? `page ${e.page}: ${e.reason}` : String(e)
      this.emit(nowMs, "detected", "archive", "checkpoint-corrupt", c, { positions }, why)
    } else
      this.emit(nowMs, "detected", "archive", "checkpoint-corrupt", c, { positions }, "checkpoint missing")
    this.damagedCheckpoints.push(c)
    if (this.candidates.length === 0) this.useEmptyBase()
  }

  // 4. Archived segments, one per slice.
  private checkSegment(store: ObjectStoreService, nowMs: number): Effect.Effect<void, ObjectStoreError> {
    return Effect.gen(this, function* () {
      const m = this.manifests[this.segIndex]
      if (m === undefined) {
        this.phase = "reference"
        return
      }
      const needed = !(m.lastPosition <= this.base || m.firstPosition > this.p2) && !this.referenceBroken
      if (!needed) {
        // Verify-only segments: a bounded chunk of the segment CRC per slice.
        let job = this.segJob
        if (job === undefined || job.m !== m) {
          const k = this.segmentKeyOf(m)
          job = { m, bytes: k === undefined ? null : yield* store.get(k), crc: 0, offset: 0 }
          this.segJob = job
        }
        const before = this.stats.bytesRead
        if (!this.crcChunk(job, job.bytes)) {
          this.stats.referenceBytes += this.stats.bytesRead - before
          return
        }
        this.stats.referenceBytes += this.stats.bytesRead - before
        this.segJob = undefined
        if (job.bytes !== null && job.bytes.length === m.bytes && job.crc === m.crc32c) {
          this.segIndex++
          return
        }
        // Damaged: the full check below reports why and repairs.
      }
      this.segIndex++
      const id = this.port.identity
      const key = this.segmentKeyOf(m)
      const bytes = key === undefined ? null : yield* store.get(key)
      if (bytes !== null) {
        this.stats.bytesVerified += bytes.length
        this.stats.bytesRead += bytes.length
        this.stats.referenceBytes += bytes.length
      }
      const positions = { first: m.firstPosition, last: m.lastPosition }
      let entries: Entry[] | undefined
      const v = bytes === null ? undefined : yield* Effect.either(verifySegment(id, m, bytes))
      if (v !== undefined && Either.isRight(v)) entries = v.right
      else {
        const why = v === undefined ? "segment missing" : v.left.reason
        this.emit(nowMs, "detected", "archive", "archive-segment-corrupt", m.lastPosition, { positions }, why)
        const copy = yield* this.healthySegmentCopy(store, m, "archive")
        const k =
          key ??
          `${walPrefix(id)}${String(m.firstPosition).padStart(14, "0")}-${String(m.lastPosition).padStart(14, "0")}.seg`
        if (copy !== undefined) {
          yield* store.put(k, copy.bytes, m.crc32c)
          entries = copy.entries
          this.emit(
            nowMs,
            "repaired",
            "archive",
            "archive-segment-corrupt",
            m.lastPosition,
            { positions },
            `re-archived: ${copy.from}`,
          )
        } else
          this.emit(
            nowMs,
            "unrecoverable",
            "archive",
            "archive-segment-corrupt",
            m.lastPosition,
            { positions },
            "no replica log still holds these positions",
          )
      }
      if (m.lastPosition <= this.base || m.firstPosition > this.p2) return
      if (entries === undefined) {
        this.referenceBroken = true
        return
      }
      if (this.referenceBroken) return
      const ref = this.reference!
      const apply = this.port.stateMachine.apply
      for (const e of entries) {
        if (e.slot <= this.base) continue
        if (e.slot > this.p2) break
        apply(ref, e)
      }
      const through = Math.min(m.lastPosition, this.p2)
      const di = this.damagedCheckpoints.indexOf(through)
      if (di >= 0) {
        const b = ref.toCheckpointBytes()
        yield* store.put(checkpointKey(id, through), b, crc32c(b))
        this.damagedCheckpoints.splice(di, 1)
        const p = { first: through, last: through }
        this.emit(
          nowMs,
          "repaired",
          "archive",
          "checkpoint-corrupt",
          through,
          { positions: p },
          "rewritten from the verified archive",
        )
      }
    })
  }

  // 5. Reference comparison at P2.
  private compareWithReference(
    store: ObjectStoreService,
    nowMs: number,
  ): Effect.Effect<void, ObjectStoreError> {
    return Effect.gen(this, function* () {
      const ref = this.reference
      if (ref === undefined || this.referenceBroken || this.p2 === 0) return
      this.cache.tree = ref
      this.cache.position = this.p2
      const replicas = this.live().filter((r) => r.snapshotAt(this.p2) !== undefined)
      const views: BTreeView<V>[] = [ref, ...replicas.map((r) => r.snapshotAt(this.p2)!)]
      for (const v of views) this.stats.bytesVerified += v.bytes
      this.stats.bytesRead += views.length * SUMMARY_WIRE_BYTES
      const res = this.narrowViews(views)
      if (res !== undefined) {
        for (let i = 0; i < replicas.length; i++) {
          const r = replicas[i]!
          const bad = res.overflow
            ? undefined
            : res.differences
                .filter((d) => !sameSummary(d.summaries[i + 1]!, d.summaries[0]!))
                .map((d) => d.key)
          if (bad !== undefined && bad.length === 0) continue
          if (
            bad === undefined &&
            sameSummary(
              viewSource(views[i + 1]!).summary(undefined, undefined),
              viewSource(ref).summary(undefined, undefined),
            )
          )
            continue
          this.repair(nowMs, r, "reference-divergence", this.p2, bad, ref, "from the archive reference")
        }
      }
      // A new checkpoint when enough archived segments follow the last one.
      const last = this.checkpoints.filter((c) => c <= this.p2).pop() ?? 0
      const after = this.manifests.filter((m) => m.firstPosition > last && m.lastPosition <= this.p2).length
      if (after >= (this.options.checkpointEverySegments ?? CHECKPOINT_EVERY_SEGMENTS_DEFAULT)) {
        const b = ref.toCheckpointBytes()
        yield* store.put(checkpointKey(this.port.identity, this.p2), b, crc32c(b))
      }
    })
  }

  /** Narrows among views; undefined when they all agree. */
  private narrowViews(views: ReadonlyArray<BTreeView<V>>): NarrowResult | undefined {
    const sources = views.map((v) => viewSource(v))
    const roots = sources.map((s) => s.summary(undefined, undefined))
    if (summariesAgree(roots)) return undefined
    const res = narrow(sources)
    this.stats.checksumsExchanged += res.checksumsExchanged
    this.stats.bytesExchanged += res.bytesExchanged
    this.stats.bytesRead += res.bytesExchanged
    this.stats.differences += res.differences.length
    return res
  }

  private repair(
    nowMs: number,
    r: ReplicaPort<V>,
    cause: ScrubCause,
    position: number,
    badKeys: EncodedKey[] | undefined,
    source: BTreeView<V>,
    from: string,
  ): void {
    if (badKeys === undefined || badKeys.length > REPAIR_KEYS_MAX) {
      this.emit(
        nowMs,
        "detected",
        r.id,
        cause,
        position,
        { keyRange: {} },
        "wide damage: whole partition differs",
      )
      r.rebuild(position, source)
      this.emit(nowMs, "repaired", r.id, cause, position, { keyRange: {} }, `full rebuild ${from}`)
      return
    }
    this.emit(nowMs, "detected", r.id, cause, position, { keys: badKeys }, `${badKeys.length} key(s) differ`)
    const fixes: KeyFix<V>[] = badKeys.map((key) => ({ key, value: source.get(key) }))
    r.repairKeys(position, fixes)
    this.emit(nowMs, "repaired", r.id, cause, position, { keys: badKeys }, `${badKeys.length} key(s) ${from}`)
  }

  // 6. Replica comparison at the current position P1.
  private startReplicaComparison(): void {
    const live = this.live()
    this.p1 = Math.max(0, ...live.map((r) => r.applied))
    for (const r of live) r.requestSnapshot(this.p1)
    this.waited = 0
    this.phase = "replicas"
  }

  /** False while waiting for replicas to reach P1. */
  private compareReplicas(nowMs: number): boolean {
    const live = this.live()
    const ready = live.filter((r) => r.requestedSnapshot(this.p1) !== undefined)
    const waitMax = this.options.snapshotWaitSteps ?? SNAPSHOT_WAIT_TICKS_MAX
    if (ready.length < live.length && this.waited++ < waitMax) return false
    if (ready.length >= 2) {
      const views = ready.map((r) => r.requestedSnapshot(this.p1)!)
      for (const v of views) this.stats.bytesVerified += v.bytes
      this.stats.bytesRead += views.length * SUMMARY_WIRE_BYTES
      const res = this.narrowViews(views)
      if (res !== undefined) this.repairMinority(nowMs, ready, views, res)
    }
    if (this.options.deepVerify === true && ready.length >= 1) {
      const codec = this.port.treeOptions?.codec ?? (scalarCodec as unknown as ValueCodec<V>)
      this.deepQueue = ready.map((r) => ({ r, acc: new ChecksumAccumulator<V>(codec), cursor: undefined }))
      this.deepReady = ready
      this.rotted = []
      this.phase = "deep"
      return true
    }
    for (const r of live) r.releaseSnapshot(this.p1)
    this.phase = "done"
    return true
  }

  // 7. Deep pass: re-hash every stored item of each replica's snapshot and compare with the tree's
  // own aggregate checksum, `DEEP_ITEMS_PER_SLICE` items per slice.
  private deepStep(nowMs: number): void {
    const item = this.deepQueue[0]
    if (item !== undefined) {
      const view = item.r.requestedSnapshot(this.p1)
      if (view === undefined) {
        this.deepQueue.shift()
        return
      }
      const acc = item.acc
      const before = acc.summary().bytes
      let last: EncodedKey | undefined
      const opts =
        item.cursor === undefined
          ? { limit: DEEP_ITEMS_PER_SLICE }
          : { gt: item.cursor, limit: DEEP_ITEMS_PER_SLICE }
      const n = view.forRange(opts, (k, v) => {
        acc.add(k, v)
        last = k
      })
      const b = acc.summary().bytes - before
      this.stats.bytesVerified += b
      this.stats.bytesRead += b
      item.cursor = last
      if (n === DEEP_ITEMS_PER_SLICE) return
      this.deepQueue.shift()
      if (acc.checksum() !== view.checksum() || acc.summary().count !== view.size) this.rotted.push(item.r)
      return
    }
    for (const r of this.rotted) this.repairRot(nowMs, r)
    for (const r of this.live()) r.releaseSnapshot(this.p1)
    this.phase = "done"
  }

  /** A replica whose bytes no longer match its checksums: find the keys, rebuild it whole. */
  private repairRot(nowMs: number, r: ReplicaPort<V>): void {
    const codec = this.port.treeOptions?.codec ?? (scalarCodec as unknown as ValueCodec<V>)
    const mine = r.requestedSnapshot(this.p1)!
    const healthy = this.deepReady.find((q) => q !== r && !this.rotted.includes(q))
    const fresh = (k: EncodedKey, v: V | undefined): string => {
      if (v === undefined) return ""
      const a = new ChecksumAccumulator<V>(codec)
      a.add(k, v)
      return a.checksum()
    }
    if (healthy === undefined) {
      this.emit(
        nowMs,
        "detected",
        r.id,
        "stored-data-rot",
        this.p1,
        { keyRange: {} },
        "stored bytes differ from the checksums",
      )
      this.emit(
        nowMs,
        "unrecoverable",
        r.id,
        "stored-data-rot",
        this.p1,
        { keyRange: {} },
        "no healthy replica",
      )
      return
    }
    const source = healthy.requestedSnapshot(this.p1)!
    const keys: EncodedKey[] = []
    mine.forRange(undefined, (k, v) => {
      if (fresh(k, v) !== fresh(k, source.get(k))) keys.push(k)
    })
    this.emit(
      nowMs,
      "detected",
      r.id,
      "stored-data-rot",
      this.p1,
      { keys },
      "stored bytes differ from the replica's own checksums",
    )
    r.rebuild(this.p1, source)
    this.emit(
      nowMs,
      "repaired",
      r.id,
      "stored-data-rot",
      this.p1,
      { keys },
      `full rebuild from replica ${healthy.id} (checksums were stale)`,
    )
  }

  private repairMinority(
    nowMs: number,
    ready: ReplicaPort<V>[],
    views: BTreeView<V>[],
    res: NarrowResult,
  ): void {
    const n = ready.length
    if (res.overflow) {
      const roots = views.map((v) => viewSource(v).summary(undefined, undefined))
      const major = majority(roots)
      if (major === undefined) {
        this.emit(
          nowMs,
          "unresolved",
          "archive",
          "replica-divergence",
          this.p1,
          { keyRange: {} },
          "no majority",
        )
        return
      }
      for (let i = 0; i < n; i++)
        if (!sameSummary(roots[i]!, roots[major]!))
          this.repair(
            nowMs,
            ready[i]!,
            "replica-divergence",
            this.p1,
            undefined,
            views[major]!,
            `from replica ${ready[major]!.id}`,
          )
      return
    }
    const bad = ready.map(() => [] as EncodedKey[])
    const fixes = ready.map(() => new Map<EncodedKey, number>())
    const unresolved: EncodedKey[] = []
    for (const d of res.differences) {
      const m = majority(d.summaries)
      if (m === undefined) {
        unresolved.push(d.key)
        continue
      }
      for (let i = 0; i < n; i++)
        if (!sameSummary(d.summaries[i]!, d.summaries[m]!)) {
          bad[i]!.push(d.key)
          fixes[i]!.set(d.key, m)
        }
    }
    if (unresolved.length > 0)
      this.emit(
        nowMs,
        "unresolved",
        "archive",
        "replica-divergence",
        this.p1,
        { keys: unresolved },
        "no majority; left to the reference check",
      )
    for (let i = 0; i < n; i++) {
      const keys = bad[i]!
      if (keys.length === 0) continue
      const r = ready[i]!
      if (keys.length > REPAIR_KEYS_MAX) {
        const src = [...fixes[i]!.values()][0]!
        this.repair(
          nowMs,
          r,
          "replica-divergence",
          this.p1,
          undefined,
          views[src]!,
          `from replica ${ready[src]!.id}`,
        )
        continue
      }
      this.emit(
        nowMs,
        "detected",
        r.id,
        "replica-divergence",
        this.p1,
        { keys },
        `${keys.length} key(s) differ from the majority`,
      )
      r.repairKeys(
        this.p1,
        keys.map((key) => ({ key, value: views[fixes[i]!.get(key)!]!.get(key) })),
      )
      this.emit(
        nowMs,
        "repaired",
        r.id,
        "replica-divergence",
        this.p1,
        { keys },
        `${keys.length} key(s) from the majority`,
      )
    }
  }
}

const HEADER_READ_BYTES = 32
/** Holes one visit re-archives at most (each is re-listed after). */
const HOLE_FILLS_MAX = 16

/** A CRC computed a chunk per slice. */
interface CrcJob {
  crc: number
  offset: number
}

const matches = (k: string, m: SegmentManifest): boolean =>
  k.endsWith(`${String(m.firstPosition).padStart(14, "0")}-${String(m.lastPosition).padStart(14, "0")}.seg`)

const sameSummary = (a: RangeSummary, b: RangeSummary): boolean =>
  a.checksum === b.checksum && a.count === b.count && a.bytes === b.bytes

/** Index of a member of the strict-majority group, or undefined. */
const majority = (sums: ReadonlyArray<RangeSummary>): number | undefined => {
  for (let i = 0; i < sums.length; i++) {
    let same = 0
    for (const s of sums) if (sameSummary(s, sums[i]!)) same++
    if (same * 2 > sums.length) return i
  }
  return undefined
}
