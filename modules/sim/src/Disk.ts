/**
 * Simulated disk: named files with positional writes, appends, reads, fsync, rename and remove, and
 * the faults real disks have:
 *
 * - crash(): writes since the file's last successful fsync are lost, or partially kept. Each un-fsynced
 *   write is cut into sector-aligned pieces; each piece independently survives with
 *   `crashKeepProbability`, and a surviving piece may be torn (only a prefix of it reaches the media).
 *   Pieces are replayed in issue order over the durable image. Fsynced data is always kept exactly.
 * - bit rot: `corrupt` / `rot` flip bits in the stored bytes (durable and cached views alike).
 * - misdirected writes: a write lands at another sector-aligned offset of the same file.
 * - fsync errors: `fsync` throws `SimDiskError`; the writes stay un-durable (a crash can still lose them).
 *
 * Reads see the latest writes (the page cache) until a crash. Metadata operations (create, rename,
 * remove, truncate) are durable at once. All randomness comes from the disk's PRNG substream.
 */
import { SimDiskError } from "./Errors.ts"
import type { Prng } from "./Prng.ts"
import type { Sim } from "./Sim.ts"
import { hashString32 } from "./internal/hash.ts"

/** Default sector size in bytes (tearing and misdirection work at this granularity). */
export const DEFAULT_SECTOR_BYTES = 512

/** Disk options. */
export interface DiskOptions {
  /** Name, used for the PRNG substream (default "disk"). */
  readonly name?: string
  readonly sectorBytes?: number
  /** Probability an un-fsynced piece survives a crash (default 0.5). */
  readonly crashKeepProbability?: number
  /** Probability a surviving piece is torn (default 0.25). */
  readonly crashTornProbability?: number
  /** Probability each fsync fails (default 0). */
  readonly fsyncErrorProbability?: number
  /** Probability each write is misdirected (default 0). */
  readonly misdirectProbability?: number
}

/** How `crash` treats un-fsynced writes. */
export type CrashMode = "random" | "lose-all" | "keep-all"

/** Disk counters. */
export interface DiskStats {
  writes: number
  bytesWritten: number
  fsyncs: number
  fsyncErrors: number
  crashes: number
  piecesLost: number
  piecesKept: number
  piecesTorn: number
  misdirected: number
  bitsFlipped: number
}

interface PendingWrite {
  readonly offset: number
  readonly data: Uint8Array
}

/** A growable byte image. */
class Image {
  bytes: Uint8Array
  length: number
  constructor(src?: Image) {
    this.bytes = src === undefined ? new Uint8Array(64) : src.bytes.slice(0, Math.max(64, src.length))
    this.length = src === undefined ? 0 : src.length
  }
  write(offset: number, data: Uint8Array): void {
    const end = offset + data.length
    if (end > this.bytes.length) {
      const nb = new Uint8Array(Math.max(end, this.bytes.length * 2))
      nb.set(this.bytes.subarray(0, this.length))
      this.bytes = nb
    }
    if (offset > this.length) this.bytes.fill(0, this.length, offset)
    this.bytes.set(data, offset)
    if (end > this.length) this.length = end
  }
  truncate(len: number): void {
    if (len < this.length) this.bytes.fill(0, len, this.length)
    else this.write(this.length, new Uint8Array(len - this.length))
    this.length = len
  }
}

interface FileState {
  durable: Image
  cached: Image
  pending: PendingWrite[]
}

/** A simulated disk of named files. */
export class SimDisk {
  private files = new Map<string, FileState>()
  private readonly prng: Prng
  private readonly sector: number
  private failFsyncs = new Map<string, number>()
  private misdirectNext = new Map<string, number>()
  /** Counters since creation. */
  readonly stats: DiskStats = {
    writes: 0,
    bytesWritten: 0,
    fsyncs: 0,
    fsyncErrors: 0,
    crashes: 0,
    piecesLost: 0,
    piecesKept: 0,
    piecesTorn: 0,
    misdirected: 0,
    bitsFlipped: 0,
  }

  /** Create a disk on `sim`. */
  constructor(
    readonly sim: Sim,
    readonly opts: DiskOptions = {},
  ) {
    this.prng = sim.fork(`disk:${opts.name ?? "disk"}`)
    this.sector = opts.sectorBytes ?? DEFAULT_SECTOR_BYTES
  }

  /** Whether a file exists. */
  exists(name: string): boolean {
    return this.files.has(name)
  }

  /** File names, sorted. */
  list(prefix = ""): string[] {
    return [...this.files.keys()].filter((n) => n.startsWith(prefix)).sort()
  }

  /** Current size of a file (including un-fsynced writes). */
  size(name: string): number {
    return this.file(name, "read").cached.length
  }

  /** Create an empty file if absent (durable at once). */
  create(name: string): void {
    if (!this.files.has(name))
      this.files.set(name, { durable: new Image(), cached: new Image(), pending: [] })
  }

  /** Write `data` at `offset` (creating the file if needed). Not durable until `fsync`. */
  write(name: string, offset: number, data: Uint8Array): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new SimDiskError({ op: "write", file: name, reason: `bad offset ${offset}` })
    }
    this.create(name)
    const f = this.files.get(name)!
    let at = offset
    const forced = this.misdirectNext.get(name) ?? this.misdirectNext.get("*") ?? 0
    if (forced > 0 || this.prng.next() < (this.opts.misdirectProbability ?? 0)) {
      if (forced > 0) this.decrement(this.misdirectNext, this.misdirectNext.has(name) ? name : "*")
      at = this.misdirectedOffset(offset, f.cached.length)
      this.stats.misdirected++
    }
    const copy = data.slice()
    f.cached.write(at, copy)
    f.pending.push({ offset: at, data: copy })
    this.stats.writes++
    this.stats.bytesWritten += data.length
    const t = this.sim.trace
    t.u32(hashString32(name))
    t.u32(at)
    t.u32(data.length)
  }

  /** Append `data` at the end of the file; returns the offset it was written at. */
  append(name: string, data: Uint8Array): number {
    this.create(name)
    const off = this.files.get(name)!.cached.length
    this.write(name, off, data)
    return off
  }

  /** Read `length` bytes from `offset` (default: to the end); short at end of file. Returns a copy. */
  read(name: string, offset = 0, length?: number): Uint8Array {
    const img = this.file(name, "read").cached
    if (offset < 0) throw new SimDiskError({ op: "read", file: name, reason: `bad offset ${offset}` })
    const end = Math.min(img.length, length === undefined ? img.length : offset + length)
    return img.bytes.slice(Math.min(offset, end), end)
  }

  /** Make every write to `name` so far durable. Throws `SimDiskError` on an injected fsync error. */
  fsync(name: string): void {
    const f = this.file(name, "fsync")
    this.stats.fsyncs++
    const forced = this.failFsyncs.get(name) ?? this.failFsyncs.get("*") ?? 0
    if (forced > 0 || this.prng.next() < (this.opts.fsyncErrorProbability ?? 0)) {
      if (forced > 0) this.decrement(this.failFsyncs, this.failFsyncs.has(name) ? name : "*")
      this.stats.fsyncErrors++
      throw new SimDiskError({ op: "fsync", file: name, reason: "injected I/O error (EIO)" })
    }
    for (const w of f.pending) f.durable.write(w.offset, w.data)
    f.pending = []
    if (f.durable.length < f.cached.length) f.durable.truncate(f.cached.length)
  }

  /** Set a file's length (durable at once, like a journaled metadata change). */
  truncate(name: string, length: number): void {
    const f = this.file(name, "truncate")
    for (const w of f.pending) f.durable.write(w.offset, w.data)
    f.pending = []
    f.cached.truncate(length)
    f.durable.truncate(length)
  }

  /** Atomically rename (replacing `to`); durable at once. */
  rename(from: string, to: string): void {
    const f = this.file(from, "rename")
    this.files.delete(from)
    this.files.set(to, f)
  }

  /** Remove a file (durable at once). */
  remove(name: string): void {
    this.file(name, "remove")
    this.files.delete(name)
  }

  /**
   * Power loss: every file keeps its durable bytes plus, depending on `mode`, none ("lose-all"), all
   * ("keep-all") or a random subset of pieces (default "random", see the module doc) of its un-fsynced
   * writes. Afterwards reads see exactly what survived.
   */
  crash(mode: CrashMode = "random"): void {
    this.stats.crashes++
    const keepP = this.opts.crashKeepProbability ?? 0.5
    const tornP = this.opts.crashTornProbability ?? 0.25
    for (const name of [...this.files.keys()].sort()) {
      const f = this.files.get(name)!
      const img = new Image(f.durable)
      for (const w of f.pending) {
        if (mode === "lose-all") {
          this.stats.piecesLost++
          continue
        }
        if (mode === "keep-all") {
          img.write(w.offset, w.data)
          this.stats.piecesKept++
          continue
        }
        // sector-aligned pieces
        let pos = w.offset
        const end = w.offset + w.data.length
        while (pos < end) {
          const pieceEnd = Math.min(end, (Math.floor(pos / this.sector) + 1) * this.sector)
          if (this.prng.next() < keepP) {
            let stop = pieceEnd
            if (this.prng.next() < tornP) {
              stop = pos + this.prng.int(pieceEnd - pos)
              this.stats.piecesTorn++
            }
            if (stop > pos) img.write(pos, w.data.subarray(pos - w.offset, stop - w.offset))
            this.stats.piecesKept++
          } else this.stats.piecesLost++
          pos = pieceEnd
        }
      }
      f.durable = img
      f.cached = new Image(img)
      f.pending = []
      this.sim.trace.u32(hashString32(name))
      this.sim.trace.u32(img.length)
    }
  }

  /** Flip bit `bit` (0–7) of byte `offset` in the stored bytes (bit rot). */
  corrupt(name: string, offset: number, bit = 0): void {
    const f = this.file(name, "write")
    if (offset < 0 || offset >= f.cached.length) {
      throw new SimDiskError({ op: "write", file: name, reason: `corrupt offset ${offset} out of range` })
    }
    const m = 1 << (bit & 7)
    f.cached.bytes[offset]! ^= m
    if (offset < f.durable.length) f.durable.bytes[offset]! ^= m
    this.stats.bitsFlipped++
  }

  /** Flip `count` random bits of a file (chosen by the disk's PRNG); returns the byte offsets. */
  rot(name: string, count = 1): number[] {
    const len = this.file(name, "write").cached.length
    if (len === 0) return []
    const offs: number[] = []
    for (let i = 0; i < count; i++) {
      const o = this.prng.int(len)
      this.corrupt(name, o, this.prng.int(8))
      offs.push(o)
    }
    return offs
  }

  /** Make the next `count` fsyncs of `name` ("*" for any file) fail. */
  failNextFsync(name = "*", count = 1): void {
    this.failFsyncs.set(name, (this.failFsyncs.get(name) ?? 0) + count)
  }

  /** Misdirect the next `count` writes to `name` ("*" for any file). */
  misdirectNextWrite(name = "*", count = 1): void {
    this.misdirectNext.set(name, (this.misdirectNext.get(name) ?? 0) + count)
  }

  /** Bytes of `name` as they would survive a crash right now with no un-fsynced data kept. */
  durableBytes(name: string): Uint8Array {
    const f = this.file(name, "read")
    return f.durable.bytes.slice(0, f.durable.length)
  }

  /** Number of un-fsynced writes of `name`. */
  pendingWrites(name: string): number {
    return this.file(name, "read").pending.length
  }

  private misdirectedOffset(offset: number, fileLength: number): number {
    const sectors = Math.max(2, Math.ceil(Math.max(fileLength, offset + 1) / this.sector) + 1)
    let target = offset
    while (target === offset) {
      target = this.prng.int(sectors) * this.sector + (offset % this.sector)
    }
    return target
  }

  private decrement(m: Map<string, number>, k: string): void {
    const v = (m.get(k) ?? 0) - 1
    if (v <= 0) m.delete(k)
    else m.set(k, v)
  }

  private file(name: string, op: SimDiskError["op"]): FileState {
    const f = this.files.get(name)
    if (f === undefined) throw new SimDiskError({ op, file: name, reason: "no such file" })
    return f
  }
}
