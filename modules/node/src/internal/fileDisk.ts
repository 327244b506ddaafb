/**
 * A storage node's disk as real files under a directory, for the real-time cluster: its replicas'
 * WAL files (`wal.ts`), written with synchronous `node:fs` calls (Bun, Deno and Node alike).
 *
 * `fsync` is the file's `fsync(2)`; creating, renaming and removing a file also fsync its
 * directory, so a file written, fsynced and renamed over another (a WAL rewritten at compaction) is
 * durable as a whole. A failed fsync is a `DiskIoError`, which the WAL treats as a simulated
 * disk's fsync error: the log is never trusted again. A node's crash in the real-time cluster is
 * its process state's, not the machine's: what was written stays in the OS page cache and is read
 * back by the recovery (power loss is what the simulation's `SimDisk` is for).
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs"
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
import { Data } from "effect"
import type { WalDisk } from "./wal.ts"

/** An I/O error from a `FileDisk` operation. */
export class DiskIoError extends Data.TaggedError("DiskIoError")<{
  readonly op: string
  readonly file: string
  readonly message: string
}> {}

/** Files kept open at once (the least recently used is closed past it). */
export const FILE_DISK_OPEN_FILES_MAX = 256

/** A directory of files with the operations a WAL needs. */
export class FileDisk implements WalDisk {
  /** Open descriptors by file name, least recently used first. */
  private readonly fds = new Map<string, number>()
  /** Sizes of the open files (every write goes through this object). */
  private readonly sizes = new Map<string, number>()

  constructor(
    /** The directory (created if absent). */
    readonly root: string,
    /** Random numbers in [0, 1) for `rot` (the runtime's). */
    private readonly random: () => number,
  ) {
    mkdirSync(root, { recursive: true })
  }

  exists(name: string): boolean {
    return this.fds.has(name) || existsSync(this.path(name))
  }

  /** File names under `prefix`, sorted (names use `/` whatever the platform). */
  list(prefix = ""): string[] {
    const out: string[] = []
    const walk = (dir: string): void => {
      if (!existsSync(dir)) return
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) walk(p)
        else if (e.isFile()) out.push(relative(this.root, p).split(sep).join("/"))
      }
    }
    walk(this.root)
    return out.filter((n) => n.startsWith(prefix)).sort()
  }

  size(name: string): number {
    const known = this.sizes.get(name)
    if (known !== undefined) return known
    this.open(name, false)
    return this.sizes.get(name)!
  }

  write(name: string, offset: number, data: Uint8Array): void {
    if (!Number.isSafeInteger(offset) || offset < 0) this.fail("write", name, `bad offset ${offset}`)
    const fd = this.open(name, true)
    try {
      let done = 0
      while (done < data.length) done += writeSync(fd, data, done, data.length - done, offset + done)
    } catch (e) {
      this.fail("write", name, e)
    }
    this.sizes.set(name, Math.max(this.sizes.get(name) ?? 0, offset + data.length))
  }

  append(name: string, data: Uint8Array): number {
    const at = this.exists(name) ? this.size(name) : 0
    this.write(name, at, data)
    return at
  }

  read(name: string): Uint8Array {
    try {
      const b = readFileSync(this.path(name))
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
    } catch (e) {
      return this.fail("read", name, e)
    }
  }

  fsync(name: string): void {
    const fd = this.open(name, false)
    try {
      fsyncSync(fd)
    } catch (e) {
      this.fail("fsync", name, e)
    }
  }

  rename(from: string, to: string): void {
    this.closeFile(from)
    this.closeFile(to)
    try {
      mkdirSync(dirname(this.path(to)), { recursive: true })
      renameSync(this.path(from), this.path(to))
    } catch (e) {
      this.fail("rename", from, e)
    }
    this.syncDir(to)
  }

  remove(name: string): void {
    this.closeFile(name)
    try {
      unlinkSync(this.path(name))
    } catch (e) {
      this.fail("remove", name, e)
    }
    this.syncDir(name)
  }

  /** Flips bit `bit` of byte `offset` in the file (bit rot, for tests). */
  corrupt(name: string, offset: number, bit = 0): void {
    if (offset < 0 || offset >= this.size(name))
      this.fail("write", name, `corrupt offset ${offset} out of range`)
    const fd = this.open(name, false)
    const b = new Uint8Array(1)
    readSync(fd, b, 0, 1, offset)
    b[0] = b[0]! ^ (1 << (bit & 7))
    writeSync(fd, b, 0, 1, offset)
  }

  /** Flips `count` random bits of the file; returns their byte offsets. */
  rot(name: string, count = 1): number[] {
    const len = this.size(name)
    if (len === 0) return []
    const out: number[] = []
    for (let i = 0; i < count; i++) {
      const at = Math.floor(this.random() * len)
      this.corrupt(name, at, Math.floor(this.random() * 8))
      out.push(at)
    }
    return out
  }

  /** A node crash: open files are closed (their contents stay, as the OS keeps them). */
  crash(): void {
    this.closeAll()
  }

  /** Closes every open file (it is opened again when next used). */
  close(): void {
    this.closeAll()
  }

  private closeAll(): void {
    for (const name of [...this.fds.keys()]) this.closeFile(name)
  }

  private path(name: string): string {
    const p = resolve(this.root, name)
    const rel = relative(resolve(this.root), p)
    if (name === "" || isAbsolute(name) || rel === "" || rel.startsWith("..") || isAbsolute(rel))
      this.fail("open", name, "file name outside the disk's directory")
    return p
  }

  private open(name: string, create: boolean): number {
    const fd = this.fds.get(name)
    if (fd !== undefined) {
      // Most recently used last.
      this.fds.delete(name)
      this.fds.set(name, fd)
      return fd
    }
    const p = this.path(name)
    let opened: number
    let created = false
    try {
      if (!existsSync(p)) {
        if (!create) return this.fail("open", name, "no such file")
        mkdirSync(dirname(p), { recursive: true })
        created = true
      }
      opened = openSync(p, constants.O_RDWR | constants.O_CREAT, 0o644)
    } catch (e) {
      return this.fail("open", name, e)
    }
    this.fds.set(name, opened)
    this.sizes.set(name, fstatSync(opened).size)
    if (created) this.syncDir(name)
    if (this.fds.size > FILE_DISK_OPEN_FILES_MAX) this.closeFile(this.fds.keys().next().value!)
    return opened
  }

  private closeFile(name: string): void {
    const fd = this.fds.get(name)
    this.sizes.delete(name)
    if (fd === undefined) return
    this.fds.delete(name)
    try {
      closeSync(fd)
    } catch {
      // already closed: nothing to release
    }
  }

  /** Fsyncs the directory holding `name` (a created, renamed or removed entry is durable). */
  private syncDir(name: string): void {
    const dir = dirname(this.path(name))
    let fd: number | undefined
    try {
      fd = openSync(dir, constants.O_RDONLY)
      fsyncSync(fd)
    } catch (e) {
      this.fail("fsync", dirname(name), e)
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }

  private fail(op: string, file: string, cause: unknown): never {
    const message = cause instanceof Error ? cause.message : String(cause)
    throw new DiskIoError({ op, file, message })
  }
}
