/**
 * WAL archiving to an object store.
 *
 * Archived segments hold *committed* entries of a fixed slot range, framed canonically (ballot
 * 0, chain seeded by the first position), so every replica builds byte-identical segments for
 * the same range. Each segment has a manifest (table, partition, first and last position,
 * CRC-32C of the bytes). Before upload the archiver checks that every frame belongs to this
 * table and partition, every checksum holds and the positions have no holes. Archivers run on
 * every replica; one that finds a segment already archived downloads it and compares it with its
 * own. A reference replica can be rebuilt from the archive alone.
 */
import { FileSystem } from "@effect/platform"
import { Context, Data, Effect, Either, Layer } from "effect"
import { crc32c } from "./crc32c.ts"
import type { LogIdentity } from "./storage.ts"
import { logIdOf } from "./storage.ts"
import type { Entry, EntryKind } from "./types.ts"
import { FRAME_ENTRY, FrameWriter, scanFrames } from "./wal.ts"

/** Object store failures (network, missing bucket, checksum refused on PUT). */
export class ObjectStoreError extends Data.TaggedError("ObjectStoreError")<{
  readonly op: string
  readonly key: string
  readonly message: string
}> {}

/** An archived segment failed a check (before upload, on compare, or on rebuild). */
export class ArchiveCheckError extends Data.TaggedError("ArchiveCheckError")<{
  readonly segment: string
  readonly reason: string
}> {}

/** A minimal S3-like store: PUT verifies the content checksum it is given. */
export interface ObjectStoreService {
  readonly put: (key: string, bytes: Uint8Array, crc: number) => Effect.Effect<void, ObjectStoreError>
  readonly get: (key: string) => Effect.Effect<Uint8Array | null, ObjectStoreError>
  readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<string>, ObjectStoreError>
}

/** The ObjectStore service tag. */
export class ObjectStore extends Context.Tag("@partita/paxos/ObjectStore")<
  ObjectStore,
  ObjectStoreService
>() {}

/** Failure and delay hooks of the in-memory store (simulation). */
export interface MemoryObjectStoreOptions {
  readonly failPut?: (key: string) => boolean
  readonly failGet?: (key: string) => boolean
  /** Virtual delay per call (Effect Clock, so TestClock drives it in tests). */
  readonly delayMs?: number
}

/** In-memory object store; `objects` is exposed so tests can rot an archived copy. */
export class MemoryObjectStore {
  readonly objects = new Map<string, Uint8Array>()
  constructor(readonly options: MemoryObjectStoreOptions = {}) {}
  service(): ObjectStoreService {
    const o = this.options
    const delay = o.delayMs !== undefined && o.delayMs > 0 ? Effect.sleep(o.delayMs) : Effect.void
    return {
      put: (key, bytes, crc) =>
        Effect.zipRight(
          delay,
          Effect.suspend(() => {
            if (o.failPut?.(key) === true)
              return Effect.fail(new ObjectStoreError({ op: "put", key, message: "injected failure" }))
            if (crc32c(bytes) !== crc)
              return Effect.fail(
                new ObjectStoreError({ op: "put", key, message: "content checksum mismatch" }),
              )
            this.objects.set(key, bytes.slice())
            return Effect.void
          }),
        ),
      get: (key) =>
        Effect.zipRight(
          delay,
          Effect.suspend(() =>
            o.failGet?.(key) === true
              ? Effect.fail(new ObjectStoreError({ op: "get", key, message: "injected failure" }))
              : Effect.succeed(this.objects.get(key) ?? null),
          ),
        ),
      list: (prefix) =>
        Effect.sync(() => [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()),
    }
  }
}

/** Layer: an in-memory object store. */
export const MemoryObjectStoreLayer = (
  store: MemoryObjectStore = new MemoryObjectStore(),
): Layer.Layer<ObjectStore> => Layer.succeed(ObjectStore, store.service())

/** Layer: a local directory as the object store (keys become relative paths). */
export const DirectoryObjectStoreLayer = (
  dir: string,
): Layer.Layer<ObjectStore, never, FileSystem.FileSystem> =>
  Layer.effect(
    ObjectStore,
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const err = (op: string, key: string) => (e: unknown) =>
        new ObjectStoreError({ op, key, message: String(e) })
      const path = (key: string) => `${dir}/${key}`
      const service: ObjectStoreService = {
        put: (key, bytes, crc) =>
          Effect.gen(function* () {
            if (crc32c(bytes) !== crc)
              return yield* Effect.fail(
                new ObjectStoreError({ op: "put", key, message: "content checksum mismatch" }),
              )
            const p = path(key)
            yield* fs.makeDirectory(p.slice(0, p.lastIndexOf("/")), { recursive: true })
            yield* fs.writeFile(`${p}.tmp`, bytes)
            yield* fs.rename(`${p}.tmp`, p)
          }).pipe(Effect.mapError((e) => (e instanceof ObjectStoreError ? e : err("put", key)(e)))),
        get: (key) =>
          fs.exists(path(key)).pipe(
            Effect.flatMap((ok) => (ok ? fs.readFile(path(key)) : Effect.succeed(null))),
            Effect.mapError(err("get", key)),
          ),
        list: (prefix) =>
          Effect.gen(function* () {
            const base = prefix.slice(0, prefix.lastIndexOf("/"))
            if (!(yield* fs.exists(path(base)))) return []
            const names = yield* fs.readDirectory(path(base))
            return names
              .map((n) => `${base}/${n}`)
              .filter((k) => k.startsWith(prefix) && !k.endsWith(".tmp"))
              .sort()
          }).pipe(Effect.mapError(err("list", prefix))),
      }
      return service
    }),
  )

/** Manifest stored next to each archived segment. */
export interface SegmentManifest {
  readonly table: string
  readonly partition: string
  readonly logId: number
  readonly firstPosition: number
  readonly lastPosition: number
  readonly bytes: number
  readonly crc32c: number
}

/** A segment ready to upload. */
export interface SealedSegment {
  readonly manifest: SegmentManifest
  readonly bytes: Uint8Array
}

/** Entries per archived segment by default. */
export const ARCHIVE_SEGMENT_ENTRIES_DEFAULT = 1024

const pad = (n: number): string => String(n).padStart(14, "0")
/** Key prefix of a log in the store. */
export const archivePrefix = (id: LogIdentity): string => `${id.table}/${id.partition}/wal/`
/** Object key of an archived segment's bytes (its manifest is this plus `.manifest.json`). */
export const segmentKey = (
  m: Pick<SegmentManifest, "table" | "partition" | "firstPosition" | "lastPosition">,
): string => `${m.table}/${m.partition}/wal/${pad(m.firstPosition)}-${pad(m.lastPosition)}.seg`
const manifestKey = (
  m: Pick<SegmentManifest, "table" | "partition" | "firstPosition" | "lastPosition">,
): string => `${segmentKey(m)}.manifest.json`

/** Canonical bytes of committed entries [first..last] (identical on every replica). */
export const encodeArchiveSegment = (id: LogIdentity, entries: ReadonlyArray<Entry>): SealedSegment => {
  const first = entries[0]!.slot
  const w = new FrameWriter(logIdOf(id), first, 256 + entries.length * 64)
  for (const e of entries) w.frame(FRAME_ENTRY, e.kind, e.slot, 0, e.data)
  const bytes = w.take()
  return {
    manifest: {
      table: id.table,
      partition: id.partition,
      logId: logIdOf(id),
      firstPosition: first,
      lastPosition: entries[entries.length - 1]!.slot,
      bytes: bytes.length,
      crc32c: crc32c(bytes),
    },
    bytes,
  }
}

/**
 * The pre-upload (and post-download) check: right table and partition in every frame, every
 * CRC valid, whole-segment checksum as in the manifest, positions first..last with no holes.
 * Returns the entries.
 */
export const verifySegment = (
  id: LogIdentity,
  manifest: SegmentManifest,
  bytes: Uint8Array,
): Effect.Effect<Entry[], ArchiveCheckError> =>
  Effect.suspend(() => {
    const name = segmentKey(manifest)
    const fail = (reason: string) => Effect.fail(new ArchiveCheckError({ segment: name, reason }))
    if (manifest.table !== id.table || manifest.partition !== id.partition || manifest.logId !== logIdOf(id))
      return fail("manifest belongs to another table or partition")
    if (bytes.length !== manifest.bytes || crc32c(bytes) !== manifest.crc32c)
      return fail("segment checksum mismatch")
    const scan = scanFrames(bytes, { logId: logIdOf(id), chainSeed: manifest.firstPosition })
    if (scan.corruptAt >= 0 || scan.validBytes !== bytes.length)
      return fail("a frame fails its CRC, chain or table/partition check")
    const entries: Entry[] = []
    let expect = manifest.firstPosition
    for (const r of scan.records) {
      if (r.type !== FRAME_ENTRY) return fail("unexpected frame type")
      if (r.position !== expect) return fail(`hole or disorder at position ${expect} (found ${r.position})`)
      entries.push({ slot: r.position, ballot: 0, kind: r.kind as EntryKind, data: r.payload })
      expect++
    }
    if (expect - 1 !== manifest.lastPosition) return fail("last position differs from the manifest")
    return Effect.succeed(entries)
  })

/** What happened to one segment. */
export type ArchiveOutcome = "uploaded" | "verified-existing"

/**
 * Uploads a sealed segment after the pre-upload check. If the segment is already archived
 * (another replica was first), downloads it and compares it with ours byte for byte.
 */
export const archiveSegment = (
  id: LogIdentity,
  seg: SealedSegment,
): Effect.Effect<ArchiveOutcome, ArchiveCheckError | ObjectStoreError, ObjectStore> =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    yield* verifySegment(id, seg.manifest, seg.bytes)
    const existing = yield* store.get(manifestKey(seg.manifest))
    if (existing !== null) {
      const theirs = yield* store.get(segmentKey(seg.manifest))
      if (theirs === null || theirs.length !== seg.bytes.length || crc32c(theirs) !== seg.manifest.crc32c)
        return yield* Effect.fail(
          new ArchiveCheckError({
            segment: segmentKey(seg.manifest),
            reason: "archived copy differs from our log",
          }),
        )
      for (let i = 0; i < theirs.length; i++)
        if (theirs[i] !== seg.bytes[i])
          return yield* Effect.fail(
            new ArchiveCheckError({
              segment: segmentKey(seg.manifest),
              reason: "archived copy differs from our log",
            }),
          )
      return "verified-existing" as const
    }
    yield* store.put(segmentKey(seg.manifest), seg.bytes, seg.manifest.crc32c)
    const m = new TextEncoder().encode(JSON.stringify(seg.manifest))
    yield* store.put(manifestKey(seg.manifest), m, crc32c(m))
    return "uploaded" as const
  })

const isPosition = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0

/**
 * Decodes a manifest object read from the store: JSON of the right shape, for this log, under the
 * key its positions name. Anything else (a damaged or misplaced manifest) is a typed error naming
 * the key and what is wrong, never an exception.
 */
export const decodeManifest = (
  id: LogIdentity,
  key: string,
  bytes: Uint8Array,
): Either.Either<SegmentManifest, ArchiveCheckError> => {
  const bad = (reason: string) => Either.left(new ArchiveCheckError({ segment: key, reason }))
  let v: unknown
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes))
  } catch {
    return bad("manifest is not valid UTF-8 JSON")
  }
  if (typeof v !== "object" || v === null) return bad("manifest is not a JSON object")
  const m = v as Record<string, unknown>
  if (typeof m.table !== "string" || typeof m.partition !== "string")
    return bad("manifest lacks table or partition")
  for (const f of ["logId", "firstPosition", "lastPosition", "bytes", "crc32c"] as const)
    if (!isPosition(m[f])) return bad(`manifest field ${f} is not a non-negative integer`)
  const manifest: SegmentManifest = {
    table: m.table,
    partition: m.partition,
    logId: m.logId as number,
    firstPosition: m.firstPosition as number,
    lastPosition: m.lastPosition as number,
    bytes: m.bytes as number,
    crc32c: m.crc32c as number,
  }
  if (manifest.table !== id.table || manifest.partition !== id.partition || manifest.logId !== logIdOf(id))
    return bad("manifest belongs to another table or partition")
  if (manifest.lastPosition < manifest.firstPosition)
    return bad("manifest's last position precedes its first")
  if (manifestKey(manifest) !== key) return bad("manifest's positions do not match its key")
  return Either.right(manifest)
}

/**
 * Lists the manifests of a log's archived segments, in position order. A manifest that cannot be
 * decoded (damaged in the store) fails with an `ArchiveCheckError` naming its key.
 */
export const listSegments = (
  id: LogIdentity,
): Effect.Effect<ReadonlyArray<SegmentManifest>, ObjectStoreError | ArchiveCheckError, ObjectStore> =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const keys = (yield* store.list(archivePrefix(id))).filter((k) => k.endsWith(".manifest.json"))
    const out: SegmentManifest[] = []
    for (const k of keys) {
      const b = yield* store.get(k)
      if (b !== null) out.push(yield* decodeManifest(id, k, b))
    }
    return out.sort((a, b) => a.firstPosition - b.firstPosition)
  })

/** Downloads and verifies one archived segment; returns its committed entries. */
export const readSegment = (
  id: LogIdentity,
  manifest: SegmentManifest,
): Effect.Effect<Entry[], ArchiveCheckError | ObjectStoreError, ObjectStore> =>
  Effect.gen(function* () {
    const store = yield* ObjectStore
    const bytes = yield* store.get(segmentKey(manifest))
    if (bytes === null)
      return yield* Effect.fail(
        new ArchiveCheckError({ segment: segmentKey(manifest), reason: "segment missing" }),
      )
    return yield* verifySegment(id, manifest, bytes)
  })

/**
 * Rebuilds a reference state from the archive alone: applies every archived entry from position
 * 1 up to `upTo` (inclusive) with the caller's pure `apply`. Fails on a hole between segments
 * or any failed check. Returns the state and the last position applied.
 */
export const rebuildFromArchive = <S>(
  id: LogIdentity,
  upTo: number,
  initial: S,
  apply: (state: S, entry: Entry) => S,
): Effect.Effect<{ state: S; through: number }, ArchiveCheckError | ObjectStoreError, ObjectStore> =>
  Effect.gen(function* () {
    let state = initial
    let through = 0
    for (const m of yield* listSegments(id)) {
      if (through >= upTo) break
      if (m.firstPosition !== through + 1)
        return yield* Effect.fail(
          new ArchiveCheckError({ segment: segmentKey(m), reason: `archive hole after position ${through}` }),
        )
      for (const e of yield* readSegment(id, m)) {
        if (e.slot > upTo) break
        state = apply(state, e)
        through = e.slot
      }
    }
    return { state, through }
  })

/**
 * Per-replica archiver state: collects committed entries and seals fixed-size ranges.
 * Plain TypeScript; the shell uploads what `poll` seals.
 */
export class Archiver {
  private buf: Entry[] = []
  /** Highest position known to be archived (uploaded or verified). */
  archivedThrough = 0
  constructor(
    readonly id: LogIdentity,
    readonly entriesPerSegment = ARCHIVE_SEGMENT_ENTRIES_DEFAULT,
    nextPosition = 1,
  ) {
    this.next = nextPosition
  }
  private next: number

  /** The next position this archiver expects. */
  nextPosition(): number {
    return this.next
  }

  /** Skips a range this replica never held (it installed a snapshot); others archive it. */
  skipTo(position: number): void {
    if (position > this.next) {
      this.next = position
      this.buf = []
    }
  }

  /** Feeds committed entries (any order of calls, in slot order); returns segments now sealed. */
  offer(entries: ReadonlyArray<Entry>): SealedSegment[] {
    const out: SealedSegment[] = []
    for (const e of entries) {
      if (e.slot !== this.next) continue
      this.buf.push(e)
      this.next++
      if (this.buf.length === this.entriesPerSegment) {
        out.push(encodeArchiveSegment(this.id, this.buf))
        this.buf = []
      }
    }
    return out
  }

  /** The log may be truncated only through min(archived, checkpoint). */
  truncatableThrough(checkpointIndex: number): number {
    return Math.min(this.archivedThrough, checkpointIndex)
  }
}
