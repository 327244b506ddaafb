/**
 * A replica's Paxos log as a write-ahead log on a simulated disk (`@partita/sim` `SimDisk`), in
 * `@partita/paxos`'s frame format (CRC-32C, hash chain): entries and hard state are appended, and
 * fsynced before the replica sends anything that rests on them (promises, acceptances); a hard
 * state that only moves the commit index is written without fsync (it can be learned again). A
 * crash keeps the fsynced bytes and, per the disk's crash mode, some, none or torn pieces of the
 * rest; recovery scans the frames (`scanFrames`: a torn tail is cut off, a gap followed by valid
 * frames is corruption) and rebuilds the acceptor state (`recoverState`: after corruption only the
 * prefix through the last recorded commit is trusted, and the replica does not vote until it is
 * repaired past what it had seen). Snapshots, a split child's base and the vote hold are kept
 * beside the log as metadata that is durable at once (like a file written, fsynced and renamed);
 * the log is rewritten the same way (temporary file, fsync, rename) at each compaction.
 */
import {
  type Entry,
  FrameWriter,
  type HardState,
  recoverState,
  scanFrames,
  type Snapshot,
} from "@partita/paxos"
import { SimDiskError } from "@partita/sim"
import { DiskIoError } from "./fileDisk.ts"
import type { DurableLog } from "./replica.ts"

/**
 * The disk a node's WALs live on: `@partita/sim`'s `SimDisk` in the simulation, a `FileDisk`
 * (real files) on real time. Errors are `SimDiskError` or `DiskIoError`.
 */
export interface WalDisk {
  exists(name: string): boolean
  /** File names under `prefix`, sorted. */
  list(prefix?: string): string[]
  size(name: string): number
  write(name: string, offset: number, data: Uint8Array): void
  /** Appends at the end; returns the offset written at. */
  append(name: string, data: Uint8Array): number
  read(name: string): Uint8Array
  fsync(name: string): void
  /** Atomic, replacing `to`, durable at once. */
  rename(from: string, to: string): void
  remove(name: string): void
  /** Flips one bit (tests and fault injection). */
  corrupt(name: string, offset: number, bit?: number): void
  /** Flips `count` random bits; returns their byte offsets. */
  rot(name: string, count?: number): number[]
  /** The node crashed: what a crash does to writes not yet fsynced (`DiskCrashMode`). */
  crash(mode?: DiskCrashMode): void
  /** Releases what the disk holds open (real files). */
  close?(): void
}

/** An I/O error of either kind of disk. */
export const isDiskError = (e: unknown): boolean => e instanceof SimDiskError || e instanceof DiskIoError

/** Directory of the WAL files on a node's disk. */
export const WAL_DIR = "wal/"

/** How a crash treats the writes not yet fsynced (`SimDisk.crash`). */
export type DiskCrashMode = "random" | "lose-all" | "keep-all"

/** What a WAL recovery found. */
export interface WalRecovery {
  /** Bytes of a torn tail cut off. */
  readonly tornBytes: number
  /** A bad frame followed by valid ones (corruption): the replica repairs before it votes. */
  readonly corrupt: boolean
  /** Entries recovered. */
  readonly entries: number
}

/** One replica's WAL file on its node's disk. */
export class ReplicaWal {
  private writer: FrameWriter
  private readonly chainSeed: number
  /**
   * An fsync failed: what the file holds can no longer be known (after a failed fsync the page
   * cache may have dropped the writes; retrying and succeeding would not bring them back), so the
   * log is never used again. The replica stops and the node gives it up (see `Replica.persist`).
   */
  failed = false

  constructor(
    readonly disk: WalDisk,
    readonly name: string,
    readonly logId: number,
    /** Called after each append, before its fsync: false when the node crashed there (a fault). */
    private readonly afterWrite: () => boolean,
    /** Test canary: appends are never fsynced (acknowledged entries can be lost; the checks must see it). */
    private readonly canaryNoFsync = false,
    /**
     * Around each rewrite, for a node that keeps snapshots in files (`stateFiles.ts`): `before`
     * writes the snapshot the new log will name (false: it could not, and the rewrite fails);
     * `after` removes the snapshots the log no longer names.
     */
    private readonly rewriteHooks?: {
      readonly before: (d: DurableLog) => boolean
      readonly after: (d: DurableLog) => void
    },
  ) {
    this.chainSeed = (logId ^ 0x9e3779b9) >>> 0
    this.writer = new FrameWriter(logId, this.chainSeed, 1024)
  }

  /** The WAL file name of a partition. */
  static fileOf(partitionId: string): string {
    return `${WAL_DIR}${partitionId}`
  }

  /**
   * Appends entries and a hard state; fsyncs unless the hard state only moved the commit index.
   * Returns false if the node crashed during the write, or an fsync failed (`failed`); either
   * way nothing may be sent.
   */
  append(
    d: DurableLog,
    entries: ReadonlyArray<Entry>,
    hard: HardState | null,
    promisedBefore: number,
  ): boolean {
    if (this.failed) return false
    for (const e of entries) this.writer.entry(e)
    if (hard !== null) this.writer.hard(hard)
    if (this.writer.length === 0) return true
    this.disk.append(this.name, this.writer.take())
    if (!this.afterWrite()) return false
    if (!this.canaryNoFsync && (entries.length > 0 || (hard !== null && hard.promised !== promisedBefore))) {
      if (!this.fsync(this.name)) return false
      d.walSyncedBytes = this.disk.size(this.name)
    }
    return true
  }

  /** Fsyncs `file`; false (and `failed` set) on an I/O error. */
  private fsync(file: string): boolean {
    try {
      this.disk.fsync(file)
      return true
    } catch (e) {
      if (!isDiskError(e)) throw e
      this.failed = true
      return false
    }
  }

  /**
   * Writes the whole log afresh (snapshot marker, entries after it, hard state) to a temporary
   * file, fsyncs it and renames it over the log: after a compaction or a snapshot install, and
   * after a recovery that cut something off.
   */
  rewrite(d: DurableLog): boolean {
    if (this.failed) return false
    if (this.rewriteHooks !== undefined && !this.rewriteHooks.before(d)) {
      this.failed = true
      return false
    }
    const w = new FrameWriter(this.logId, this.chainSeed, 1024)
    if (d.snapshot !== undefined) w.snapshotMarker(d.snapshot)
    for (const e of d.entries) if (e !== undefined) w.entry(e)
    w.hard(d.hard)
    const tmp = `${this.name}.tmp`
    if (this.disk.exists(tmp)) this.disk.remove(tmp)
    this.disk.write(tmp, 0, w.take())
    if (!this.fsync(tmp)) return false
    this.disk.rename(tmp, this.name)
    d.walSyncedBytes = this.disk.size(this.name)
    this.writer = w
    this.rewriteHooks?.after(d)
    return true
  }

  /**
   * Rebuilds `d`'s hard state and entries from the file (its snapshot and base are metadata, kept
   * in `d`); a file that does not exist yet is written from `d`.
   */
  recover(
    d: DurableLog,
    /**
     * A new process opening the disk: the snapshot data by index, from the node's state files
     * (`d.snapshot` is then unknown until the log's marker names one). Undefined: none on disk.
     */
    snapshotFile?: (index: number) => Uint8Array | null | undefined,
  ): WalRecovery {
    // (`d.walSyncedBytes`: the file's length at its last fsync, which the file system keeps.)
    if (!this.disk.exists(this.name)) {
      this.rewrite(d)
      return { tornBytes: 0, corrupt: false, entries: d.entries.length }
    }
    const bytes = this.disk.read(this.name)
    const opts = { logId: this.logId, chainSeed: this.chainSeed }
    let scan = scanFrames(bytes, opts)
    // A bad frame past the length of the last fsync is a torn or partly lost write that nothing
    // was sent on: keep the valid frames before it and cut the rest. Before that length, it is
    // corruption of what was durable (bit rot): `recoverState` trusts only the prefix.
    if (scan.corruptAt >= (d.walSyncedBytes ?? 0)) scan = scanFrames(bytes.subarray(0, scan.corruptAt), opts)
    // A bad frame with nothing valid after it reads as a torn tail; inside what was fsynced it
    // cannot be one. It is corruption too: bit rot in the last frames, or in a length field that
    // runs a frame past the end. (Seen as a log whose rotted marker frame vanished: the recovery
    // then found no marker for the snapshot it had and stopped the process.)
    if (scan.corruptAt < 0 && scan.validBytes < Math.min(bytes.length, d.walSyncedBytes ?? 0))
      scan = { ...scan, corruptAt: scan.validBytes }
    let snap: Snapshot | undefined = d.snapshot
    let rec = recoverState(scan, (index) =>
      snap !== undefined && snap.index === index ? snap.data : (snapshotFile?.(index) ?? null),
    )
    if (snap === undefined && snapshotFile !== undefined && rec.snapshot !== null) {
      // The log names the snapshot: its data is the state file of that index.
      const data = snapshotFile(rec.snapshot.index)
      if (data === undefined)
        throw new Error(`WAL ${this.name}: no snapshot file for the marker at ${rec.snapshot.index}`)
      snap = { index: rec.snapshot.index, config: rec.snapshot.config, data }
      d.snapshot = snap
    }
    // The snapshot is metadata (written with the log's rewrite, so its marker is the same).
    if ((rec.snapshot?.index ?? 0) !== (snap?.index ?? 0)) {
      if (scan.corruptAt < 0)
        throw new Error(
          `WAL ${this.name}: snapshot marker ${rec.snapshot?.index} but snapshot ${snap?.index}`,
        )
      // Rot in the marker's frame: nothing after it is trusted. The snapshot itself is durable
      // metadata, so the replica starts from it with no entries and catches the rest up from its
      // group, voting only once it is past everything the log had seen.
      const base = snap?.index ?? 0
      rec = {
        hardState: { promised: rec.hardState.promised, commit: base },
        snapshot: snap ?? null,
        entries: [],
        repairThrough: Math.max(rec.repairThrough, base + 1),
      }
    }
    d.hard = rec.hardState
    d.offset = (snap?.index ?? 0) + 1
    d.entries = [...rec.entries]
    // A hold from an earlier recovery stays: the log was rewritten clean since, so a second
    // crash before the repair finds no corruption, but what was lost is still lost.
    const repair = Math.max(rec.repairThrough, d.repairThrough ?? 0)
    d.repairThrough = repair > 0 ? repair : undefined
    const tornBytes = bytes.length - scan.validBytes
    const corrupt = scan.corruptAt >= 0
    // Continue from a clean file: a torn tail or a corrupt stretch must not stay inside the log.
    this.rewrite(d)
    return { tornBytes, corrupt, entries: d.entries.length }
  }

  /** Removes the file (the replica left the node). */
  remove(): void {
    if (this.disk.exists(this.name)) this.disk.remove(this.name)
  }
}

/** FNV-1a of a partition id: its WAL frames' log id. */
export const walLogId = (partitionId: string): number => {
  let h = 2166136261
  for (let i = 0; i < partitionId.length; i++) h = Math.imul(h ^ partitionId.charCodeAt(i), 16777619)
  return h >>> 0
}
