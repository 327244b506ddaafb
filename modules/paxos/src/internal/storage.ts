/**
 * The `Storage` service (WAL segments + checkpoints) with two layers: an in-memory disk (with
 * injectable fsync failures and crash semantics, for tests and benchmarks) and real files
 * through `@effect/platform` FileSystem. Plus `WalLog`: frames a Ready into the current
 * segment, rolls segments over, and recovers state from the stored segments.
 */
import { FileSystem } from "@effect/platform"
import { Context, Data, Effect, Layer, Scope } from "effect"
import type { RecoveredState } from "./core.ts"
import type { Ready, Snapshot } from "./types.ts"
import { FRAME_ENTRY, FrameWriter, recoverState, type ScanResult, scanFrames } from "./wal.ts"

/** A storage operation failed. `fatal` (fsync) means the replica must stop, never retry. */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly op: string
  readonly message: string
  readonly fatal: boolean
}> {}

/** WAL segments and checkpoints of one replica. */
export interface StorageService {
  /** Appends bytes to a segment (creating it); not durable until `sync`. */
  readonly append: (segment: number, bytes: Uint8Array) => Effect.Effect<void, StorageError>
  /** Makes everything appended to the segment durable. Failure is fatal. */
  readonly sync: (segment: number) => Effect.Effect<void, StorageError>
  /** Segment ids, ascending. */
  readonly list: Effect.Effect<ReadonlyArray<number>, StorageError>
  readonly read: (segment: number) => Effect.Effect<Uint8Array, StorageError>
  /** Cuts a segment to `length` bytes (torn-tail truncation). */
  readonly truncate: (segment: number, length: number) => Effect.Effect<void, StorageError>
  readonly remove: (segment: number) => Effect.Effect<void, StorageError>
  /** Stores a checkpoint (atomically: write then rename on files). */
  readonly putCheckpoint: (index: number, data: Uint8Array) => Effect.Effect<void, StorageError>
  readonly getCheckpoint: (index: number) => Effect.Effect<Uint8Array | null, StorageError>
}

/** The Storage service tag. */
export class Storage extends Context.Tag("@partita/paxos/Storage")<Storage, StorageService>() {}

/** Test hooks of the in-memory disk. */
export interface MemoryDiskOptions {
  /** Called before each sync; return true to fail it (and drop the unsynced bytes, as Linux does). */
  readonly failSync?: () => boolean
}

/** An in-memory disk with durable and unsynced bytes per segment; `crash()` loses the latter. */
export class MemoryDisk {
  readonly durable = new Map<number, Uint8Array[]>()
  readonly pending = new Map<number, Uint8Array[]>()
  readonly checkpoints = new Map<number, Uint8Array>()
  syncs = 0
  constructor(readonly options: MemoryDiskOptions = {}) {}

  append(segment: number, bytes: Uint8Array): void {
    if (!this.durable.has(segment)) this.durable.set(segment, [])
    const p = this.pending.get(segment)
    if (p === undefined) this.pending.set(segment, [bytes])
    else p.push(bytes)
  }
  /** Returns false when the sync failed. */
  sync(segment: number): boolean {
    this.syncs++
    const p = this.pending.get(segment) ?? []
    this.pending.delete(segment)
    if (this.options.failSync?.() === true) return false
    const d = this.durable.get(segment) ?? []
    for (const b of p) d.push(b)
    this.durable.set(segment, d)
    return true
  }
  read(segment: number): Uint8Array {
    const d = this.durable.get(segment) ?? []
    const flat = concatAll(d)
    this.durable.set(segment, [flat])
    return flat
  }
  /** Power loss: unsynced bytes vanish (a torn prefix may survive: `keepBytes`). */
  crash(keepBytes = 0): void {
    for (const [seg, p] of this.pending) {
      const flat = concatAll(p)
      if (keepBytes > 0) this.durable.get(seg)?.push(flat.slice(0, Math.min(keepBytes, flat.length)))
    }
    this.pending.clear()
  }
}

const concatAll = (xs: ReadonlyArray<Uint8Array>): Uint8Array => {
  if (xs.length === 1) return xs[0]!
  let n = 0
  for (const x of xs) n += x.length
  const out = new Uint8Array(n)
  let o = 0
  for (const x of xs) {
    out.set(x, o)
    o += x.length
  }
  return out
}

/** Storage over a `MemoryDisk`. */
export const memoryStorage = (disk: MemoryDisk): StorageService => ({
  append: (segment, bytes) => Effect.sync(() => disk.append(segment, bytes)),
  sync: (segment) =>
    Effect.suspend(() =>
      disk.sync(segment)
        ? Effect.void
        : Effect.fail(
            new StorageError({ op: "sync", message: `fsync failed on segment ${segment}`, fatal: true }),
          ),
    ),
  list: Effect.sync(() => [...disk.durable.keys()].sort((a, b) => a - b)),
  read: (segment) => Effect.sync(() => disk.read(segment)),
  truncate: (segment, length) =>
    Effect.sync(() => {
      disk.durable.set(segment, [disk.read(segment).slice(0, length)])
    }),
  remove: (segment) =>
    Effect.sync(() => {
      disk.durable.delete(segment)
      disk.pending.delete(segment)
    }),
  putCheckpoint: (index, data) => Effect.sync(() => void disk.checkpoints.set(index, data)),
  getCheckpoint: (index) => Effect.sync(() => disk.checkpoints.get(index) ?? null),
})

/** Layer: Storage on a fresh (or given) in-memory disk. */
export const MemoryStorageLayer = (disk: MemoryDisk = new MemoryDisk()): Layer.Layer<Storage> =>
  Layer.succeed(Storage, memoryStorage(disk))

const segName = (segment: number): string => `wal-${String(segment).padStart(10, "0")}.log`
const ckptName = (index: number): string => `checkpoint-${String(index).padStart(14, "0")}.bin`

/** Storage on real files in `dir` through @effect/platform FileSystem (one file per segment). */
export const makeFileStorage = (
  dir: string,
): Effect.Effect<StorageService, StorageError, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const scope = yield* Effect.scope
    const wrap =
      (op: string, fatal = false) =>
      (e: unknown) =>
        new StorageError({ op, message: String(e), fatal })
    yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(wrap("mkdir")))
    const files = new Map<number, FileSystem.File>()
    const fileOf = (segment: number) =>
      Effect.gen(function* () {
        const f = files.get(segment)
        if (f !== undefined) return f
        const opened = yield* fs
          .open(`${dir}/${segName(segment)}`, { flag: "a+" })
          .pipe(Effect.provideService(Scope.Scope, scope), Effect.mapError(wrap("open")))
        files.set(segment, opened)
        return opened
      })
    const service: StorageService = {
      append: (segment, bytes) =>
        Effect.flatMap(fileOf(segment), (f) => f.writeAll(bytes).pipe(Effect.mapError(wrap("write")))),
      sync: (segment) =>
        Effect.flatMap(fileOf(segment), (f) => f.sync.pipe(Effect.mapError(wrap("sync", true)))),
      list: fs.readDirectory(dir).pipe(
        Effect.map((names) =>
          names
            .filter((n) => n.startsWith("wal-") && n.endsWith(".log"))
            .map((n) => Number(n.slice(4, -4)))
            .sort((a, b) => a - b),
        ),
        Effect.mapError(wrap("list")),
      ),
      read: (segment) => fs.readFile(`${dir}/${segName(segment)}`).pipe(Effect.mapError(wrap("read"))),
      truncate: (segment, length) =>
        fs.truncate(`${dir}/${segName(segment)}`, length).pipe(Effect.mapError(wrap("truncate"))),
      remove: (segment) =>
        Effect.suspend(() => {
          files.delete(segment)
          return fs.remove(`${dir}/${segName(segment)}`).pipe(Effect.mapError(wrap("remove")))
        }),
      putCheckpoint: (index, data) =>
        Effect.gen(function* () {
          const tmp = `${dir}/${ckptName(index)}.tmp`
          yield* fs.writeFile(tmp, data)
          yield* fs.rename(tmp, `${dir}/${ckptName(index)}`)
        }).pipe(Effect.mapError(wrap("checkpoint"))),
      getCheckpoint: (index) =>
        fs.exists(`${dir}/${ckptName(index)}`).pipe(
          Effect.flatMap((ok) => (ok ? fs.readFile(`${dir}/${ckptName(index)}`) : Effect.succeed(null))),
          Effect.mapError(wrap("checkpoint")),
        ),
    }
    return service
  })

/** Layer: Storage on real files (needs a FileSystem layer, e.g. from @effect/platform-bun). */
export const FileStorageLayer = (dir: string): Layer.Layer<Storage, StorageError, FileSystem.FileSystem> =>
  Layer.scoped(Storage, makeFileStorage(dir))

// ===========================================================================================
// WalLog: framing + segment rollover + recovery on top of Storage
// ===========================================================================================

/** Segment bounds. */
export const SEGMENT_BYTES_MAX_DEFAULT = 4 * 1024 * 1024

/** What is known about a WAL segment (the archive manifest is built from it). */
export interface SegmentMeta {
  readonly id: number
  /** CRC of the frame before this segment's first frame (the chain seed). */
  readonly chainSeed: number
  firstPosition: number
  lastPosition: number
  bytes: number
}

/** Identifies a log: table, partition and the derived 32-bit log id written in every frame. */
export interface LogIdentity {
  readonly table: string
  readonly partition: string
}

/** The 32-bit log id of a (table, partition): FNV-1a of `table/partition`. */
export const logIdOf = (id: LogIdentity): number => {
  let h = 0x811c9dc5
  const s = `${id.table}/${id.partition}`
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}

/** Chain seed of a brand-new log. */
export const WAL_CHAIN_SEED = 0x5eed

/** Frames Readys into segments; the caller writes `take()` with Storage.append + sync. */
export class WalLog {
  private writer: FrameWriter
  readonly segments: SegmentMeta[] = []
  constructor(
    readonly logId: number,
    readonly segmentBytesMax = SEGMENT_BYTES_MAX_DEFAULT,
    chain = WAL_CHAIN_SEED,
    nextSegment = 0,
  ) {
    this.writer = new FrameWriter(logId, chain)
    this.segments.push({ id: nextSegment, chainSeed: chain, firstPosition: 0, lastPosition: 0, bytes: 0 })
  }

  current(): SegmentMeta {
    return this.segments[this.segments.length - 1]!
  }

  /** Encodes a Ready's durable parts: entries, snapshot marker, hard state (in that order). */
  encode(ready: Ready): void {
    const seg = this.current()
    for (const e of ready.entries) {
      this.writer.entry(e)
      if (seg.firstPosition === 0 || e.slot < seg.firstPosition) seg.firstPosition = e.slot
      if (e.slot > seg.lastPosition) seg.lastPosition = e.slot
    }
    if (ready.snapshot !== null) this.writer.snapshotMarker(ready.snapshot)
    if (ready.hardState !== null) this.writer.hard(ready.hardState)
  }

  /** Encodes a snapshot marker (after a checkpoint or at bootstrap). */
  marker(s: Snapshot): void {
    this.writer.snapshotMarker(s)
  }

  /** Bytes to append to segment `segment`; rolls over to a new segment when full. */
  take(): { segment: number; bytes: Uint8Array } {
    const seg = this.current()
    const bytes = this.writer.take()
    seg.bytes += bytes.length
    if (seg.bytes >= this.segmentBytesMax) {
      this.segments.push({
        id: seg.id + 1,
        chainSeed: this.writer.chain,
        firstPosition: 0,
        lastPosition: 0,
        bytes: 0,
      })
    }
    return { segment: seg.id, bytes }
  }

  /** Ids of sealed (full, no longer written) segments. */
  sealed(): SegmentMeta[] {
    return this.segments.slice(0, -1)
  }
}

/** Result of recovering a replica from its Storage. */
export interface Recovery {
  readonly state: RecoveredState
  readonly wal: WalLog
  readonly scan: ScanResult
  readonly truncatedBytes: number
}

/**
 * Reads every segment, truncates a torn tail, rebuilds acceptor state and a WalLog that
 * continues the chain. `skipCrc` exists only as a test canary.
 */
export const recoverFromStorage = (
  storage: StorageService,
  logId: number,
  opts: { segmentBytesMax?: number; skipCrc?: boolean } = {},
): Effect.Effect<Recovery, StorageError> =>
  Effect.gen(function* () {
    const ids = yield* storage.list
    const parts: Uint8Array[] = []
    const starts: number[] = []
    let total = 0
    for (const id of ids) {
      const b = yield* storage.read(id)
      starts.push(total)
      parts.push(b)
      total += b.length
    }
    const all = concatAll(parts)
    const scan = scanFrames(all, { logId, chainSeed: WAL_CHAIN_SEED, skipCrc: opts.skipCrc === true })
    let truncated = 0
    if (scan.validBytes < all.length) {
      truncated = all.length - scan.validBytes
      for (let i = ids.length - 1; i >= 0; i--) {
        const start = starts[i]!
        if (start >= scan.validBytes) yield* storage.truncate(ids[i]!, 0)
        else {
          yield* storage.truncate(ids[i]!, scan.validBytes - start)
          break
        }
      }
    }
    const snapIdx = scan.records.filter((r) => r.type === 3).map((r) => r.position)
    const ckpts = new Map<number, Uint8Array | null>()
    for (const i of snapIdx) ckpts.set(i, yield* storage.getCheckpoint(i))
    const state = recoverState(scan, (i) => ckpts.get(i) ?? null)
    const lastSeg = ids.length > 0 ? ids[ids.length - 1]! : 0
    const wal = new WalLog(logId, opts.segmentBytesMax ?? SEGMENT_BYTES_MAX_DEFAULT, scan.chain, lastSeg)
    // Positions of the segment being continued.
    const cur = wal.current()
    const lastStart = starts[starts.length - 1] ?? 0
    for (const r of scan.records) {
      if (r.offset < lastStart || r.type !== FRAME_ENTRY) continue
      if (cur.firstPosition === 0 || r.position < cur.firstPosition) cur.firstPosition = r.position
      if (r.position > cur.lastPosition) cur.lastPosition = r.position
    }
    cur.bytes = Math.max(0, scan.validBytes - lastStart)
    return { state, wal, scan, truncatedBytes: truncated }
  })
