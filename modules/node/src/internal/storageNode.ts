/**
 * A storage node: hosts replicas (storage or log) of many partitions of many tables, runs their
 * Paxos cores on its own tick, batches their outputs, keeps their durable logs (which survive a
 * crash), enforces the node-level token bucket, publishes leadership to MemDS, and carries out
 * split fences. An optional background hook (the scrubber's seam) runs on its own period.
 */
import { TokenBucket } from "@partita/admission"
import { encodeKeyValue } from "@partita/core"
import { type Boundary, compareBoundary, hashKeyInto, type Partition, wordsToHex } from "@partita/partitioner"
import { isVoter, type Member, type Message, type ObjectStoreService } from "@partita/paxos"
import { SimDisk } from "@partita/sim"
import type { SplitFence } from "./codec.ts"
import { type Directory, boundaryKey, routingEntry } from "./directory.ts"
import type { DataResponse, NodeMsg } from "./messages.ts"
import {
  type DurableLog,
  decodeSnapshot,
  encodeSnapshot,
  type PaxosTiming,
  Replica,
  type ReplicaHost,
  type ReplicaSpec,
} from "./replica.ts"
import { ReplicaStateFiles, STATE_DIR } from "./stateFiles.ts"
import type { Runtime, TimerHandle } from "./runtime.ts"
import {
  type DiskCrashMode,
  isDiskError,
  ReplicaWal,
  WAL_DIR,
  type WalDisk,
  type WalRecovery,
  walLogId,
} from "./wal.ts"

/** Default node tick (Paxos timers, lease checks), ms. */
export const NODE_TICK_MS_DEFAULT = 10

/** Options of a storage node. */
export interface StorageNodeOptions {
  readonly id: string
  readonly az: string
  readonly tickMs?: number
  readonly timing: PaxosTiming
  /** Node-level capacity shared by its replicas (units/s). */
  readonly capacityRcu: number
  readonly capacityWcu: number
  /** The WAL archive: committed entries sealed into segments and uploaded by every storage replica. */
  readonly archive?:
    | { readonly store: ObjectStoreService; readonly entriesPerSegment: number; readonly async?: boolean }
    | undefined
  /** Background hook (e.g. a scrubber) and its period. */
  readonly background?: { readonly everyMs: number; readonly run: (node: StorageNode) => void }
  /**
   * A disk for the replicas' logs (`wal.ts`): fsync before anything is sent, recovery from the
   * frames on restart. A simulated `SimDisk` also tears and loses un-fsynced writes on a crash; a
   * `FileDisk` is real files. Without a disk the durable logs are objects that survive a crash
   * whole.
   */
  readonly disk?: WalDisk | undefined
  /** Test canary: WAL appends are never fsynced (`ClusterConfig.disk.canaryNoFsync`). */
  readonly canaryNoFsync?: boolean
  /**
   * Keep what the WAL does not hold (specs, bases, snapshots, vote holds) as files on the disk
   * too (`stateFiles.ts`), so that a new process can open the node again (`reopen`). Real files
   * only: on a simulated disk they are kept as objects.
   */
  readonly stateFiles?: boolean
}

/**
 * A node's report of its spare write capacity counts for this long (Paxos heartbeats carry one
 * at least every `heartbeatMs`); older, a burst that needs it is refused.
 */
export const PEER_SPARE_STALE_MS = 1000

/** Node counters. */
export interface StorageNodeCounters {
  requests: number
  throttledNode: number
  leaderChanges: number
  splits: number
  /** Replicas given up because their WAL failed an fsync. */
  walFsyncFailures: number
}

/** A storage node. */
export class StorageNode implements ReplicaHost {
  readonly nodeId: string
  readonly az: string
  readonly replicaId: number
  readonly replicas = new Map<string, Replica>()
  /** Durable state by partition id: what survives a crash. */
  readonly disks = new Map<string, { spec: ReplicaSpec; log: DurableLog }>()
  readonly counters: StorageNodeCounters = {
    requests: 0,
    throttledNode: 0,
    leaderChanges: 0,
    splits: 0,
    walFsyncFailures: 0,
  }
  private readonly dirty = new Set<Replica>()
  private flushQueued = false
  private up = true
  private tickHandle: TimerHandle | undefined
  private bgHandle: TimerHandle | undefined
  private readonly nodeRead: TokenBucket
  private readonly nodeWrite: TokenBucket
  /** Other nodes' spare write capacity as last reported (with their Paxos messages), and when. */
  private readonly spareMilli = new Map<string, number>()
  private readonly spareAt = new Map<string, number>()
  /** This node's spare write capacity as of its last tick (sent with its Paxos messages). */
  private spareReport = 0
  /** The time of the node's last tick (stamps the reports it receives; no clock read per message). */
  private tickNow = 0
  private readonly scratch = new Uint32Array(4)
  /** The replicas' state files (`StorageNodeOptions.stateFiles`). */
  private readonly files: ReplicaStateFiles | undefined
  /** Snapshot index last written to a state file, by partition. */
  private readonly savedSnapshot = new Map<string, number>()
  /** Leadership observers (metrics). */
  readonly leaderListeners: Array<(r: Replica, leader: boolean) => void> = []

  constructor(
    readonly runtime: Runtime,
    readonly dir: Directory,
    readonly options: StorageNodeOptions,
  ) {
    this.nodeId = options.id
    this.az = options.az
    this.replicaId = dir.replicaIdOf(options.id)
    const now = runtime.now()
    const r = Math.max(1, options.capacityRcu * 1000)
    const w = Math.max(1, options.capacityWcu * 1000)
    this.nodeRead = new TokenBucket(r, r, now)
    this.nodeWrite = new TokenBucket(w, w, now)
    this.files =
      options.stateFiles === true && options.disk !== undefined
        ? new ReplicaStateFiles(options.disk)
        : undefined
    runtime.transport.register(this.nodeId, this.az, (m, from) => this.onMessage(m, from))
    this.startTimers()
  }

  /** Whether the node is running. */
  get isUp(): boolean {
    return this.up
  }

  private startTimers(): void {
    const tickMs = this.options.tickMs ?? NODE_TICK_MS_DEFAULT
    const loop = (): void => {
      if (!this.up) return
      const now = this.runtime.now()
      this.tickNow = now
      this.spareReport = this.nodeWrite.available(now)
      for (const r of this.replicas.values()) r.tick(now)
      this.flush()
      this.tickHandle = this.runtime.schedule(tickMs, loop)
    }
    this.tickHandle = this.runtime.schedule(tickMs, loop)
    const bg = this.options.background
    if (bg !== undefined) {
      const run = (): void => {
        if (!this.up) return
        bg.run(this)
        this.bgHandle = this.runtime.schedule(bg.everyMs, run)
      }
      this.bgHandle = this.runtime.schedule(bg.everyMs, run)
    }
  }

  // ------------------------------------------------------------------------------------------
  // ReplicaHost

  get archive(): StorageNodeOptions["archive"] {
    return this.options.archive
  }
  now(): number {
    return this.runtime.now()
  }
  sendPaxos(partitionId: string, m: Message): void {
    const to = this.dir.nodeOf(m.to)
    if (to === undefined) return
    if (to === this.nodeId) {
      // Loopback without the network.
      this.runtime.defer(() => this.replicas.get(partitionId)?.step(m))
      return
    }
    this.runtime.transport.send(this.nodeId, to, {
      t: "px",
      p: partitionId,
      m,
      s: this.spareReport,
    })
  }
  markDirty(r: Replica): void {
    this.dirty.add(r)
    if (!this.flushQueued) {
      this.flushQueued = true
      this.runtime.defer(() => this.flush())
    }
  }
  nodeOfReplica(id: number): string | undefined {
    return this.dir.nodeOf(id)
  }
  peerSpareWrite(nodeId: string, now: number): number | undefined {
    const at = this.spareAt.get(nodeId)
    if (at === undefined || now - at > PEER_SPARE_STALE_MS) return undefined
    return this.spareMilli.get(nodeId)
  }
  /** This node's spare write capacity now (its node bucket's tokens), milli-units. */
  spareWriteMilli(now: number): number {
    return this.nodeWrite.available(now)
  }
  takeNode(kind: "r" | "w", milli: number, now: number): boolean {
    const ok = (kind === "r" ? this.nodeRead : this.nodeWrite).tryTake(milli, now)
    if (!ok) this.counters.throttledNode++
    return ok
  }
  onLeaderChange(r: Replica, leader: boolean): void {
    this.counters.leaderChanges++
    for (const l of this.leaderListeners) l(r, leader)
    if (leader && !r.retired) this.publishRoute(r.spec.table, r.spec.partition, r, this.nodeId)
  }
  onSplit(parent: Replica, fence: SplitFence): void {
    this.counters.splits++
    const members = parent.core.latestConfig().members
    const leading = parent.core.state === "leader"
    for (const child of [fence.left, fence.right]) {
      if (this.disks.has(child.id)) continue
      const c = this.createReplica({ ...parent.spec, partition: child, members }, parent.spec.role)
      if (c === undefined) continue
      if (parent.spec.role !== "storage") continue
      // The child starts with exactly the parent's items in its range (same on every replica).
      const hash = parent.spec.hash
      const keyName = parent.spec.keySchema.partitionKey.name
      const skName = parent.spec.keySchema.sortKey?.name
      const w = this.scratch
      parent.tree.forRange(undefined, (k, v) => {
        hashKeyInto(hash, v.item[keyName]!, w, 0)
        const sk = skName === undefined ? undefined : v.item[skName]
        const pos = { hash: wordsToHex(w), sortKey: sk === undefined ? undefined : encodeKeyValue(sk) }
        if (inside(child, pos)) c.tree.set(k, v)
      })
      c.inheritDedupe(parent.dedupeSnapshot())
      c.freezeBase()
      if (leading) {
        c.core.campaign()
        this.publishRoute(parent.spec.table, child, c, this.nodeId)
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Control plane (called by the metadata service)

  /** Creates (or recreates after a restart) a replica; returns it, or undefined if down. */
  createReplica(spec: ReplicaSpec, role: "storage" | "log" = spec.role): Replica | undefined {
    if (!this.up) return undefined
    const s = { ...spec, role }
    let disk = this.disks.get(s.partition.id)
    if (disk === undefined) {
      disk = { spec: s, log: { hard: { promised: 0, commit: 0 }, entries: [], offset: 1 } }
      this.disks.set(s.partition.id, disk)
      // State files an earlier incarnation left (its files could not be read at a restart): a
      // stale base or snapshot must never be opened with this replica's log.
      if (this.files !== undefined) {
        try {
          this.files.remove(s.partition.id)
        } catch (e) {
          if (!isDiskError(e)) throw e
        }
        this.savedSnapshot.delete(s.partition.id)
      }
    }
    const fresh = disk.log.entries.length === 0 && disk.log.hard.promised === 0
    const r = new Replica(this, this.replicaId, s, disk.log, this.options.timing, hashSeed(s.partition.id))
    r.wal = this.walOf(s.partition.id)
    if (fresh && r.wal !== undefined && !r.wal.rewrite(disk.log)) {
      this.counters.walFsyncFailures++
      this.disks.delete(s.partition.id)
      r.wal.remove()
      return undefined
    }
    this.replicas.set(s.partition.id, r)
    try {
      this.files?.saveSpec(s, disk.log.holdVotesThrough)
    } catch (e) {
      if (!isDiskError(e)) throw e
      this.counters.walFsyncFailures++
      this.dropReplica(s.partition.id)
      return undefined
    }
    return r
  }

  /** The clock of write stamps (`ReplicaHost.stampNow`): the runtime's continuing clock, if any. */
  stampNow(): number | undefined {
    return this.runtime.continuingNow?.()
  }

  /** A replica's base or vote hold changed: written to its state files (`ReplicaHost`). */
  onDurableMeta(r: Replica, what: "base" | "hold"): void {
    const files = this.files
    if (files === undefined) return
    const d = r.durable
    try {
      if (what === "hold") files.saveSpec(r.spec, d.holdVotesThrough)
      else if (d.base !== undefined)
        files.saveBase(
          r.partitionId,
          encodeSnapshot(d.base.tree, {
            ids: [...d.base.dedupe],
            stamps: d.base.dedupe.map((_, i) => d.base!.dedupeStamps?.[i] ?? Number.NaN),
          }),
        )
    } catch (e) {
      if (!isDiskError(e)) throw e
      // Not kept: the replica could not be opened again as it is; give it up (its group heals it).
      this.onWalFailed(r)
    }
  }

  /**
   * Opens the replicas a previous process left on this node's disk (its state files and WALs), as
   * a restart does after a crash. Call before the node's first tick. Returns the partitions whose
   * state could not be read (left out: their groups rebuild them).
   */
  reopen(
    /** Each WAL's length at its last fsync, where known (a restart in the same process). */
    synced?: ReadonlyMap<string, number>,
  ): string[] {
    const files = this.files
    if (files === undefined) return []
    // A new process: the lengths a clean shutdown recorded, if it was one.
    const known = synced ?? files.takeWalLengths()
    const { replicas, damaged } = files.load()
    // Every disk first, then the replicas: a parent that replays its split fence creates the
    // children (`onSplit`) unless their disks are known, and a fresh child would overwrite the
    // WAL the earlier process left.
    const opened: Array<{ pid: string; wal: ReplicaWal }> = []
    for (const st of replicas) {
      const pid = st.partitionId
      if (this.replicas.has(pid) || this.disks.has(pid)) continue
      try {
        let base: DurableLog["base"]
        if (st.base !== undefined) {
          const b = decodeSnapshot(st.base)
          base = { tree: b.tree, dedupe: b.dedupe.ids, dedupeStamps: b.dedupe.stamps }
        }
        const log: DurableLog = {
          hard: { promised: 0, commit: 0 },
          entries: [],
          offset: 1,
          ...(base === undefined ? {} : { base }),
          ...(st.hold === undefined ? {} : { holdVotesThrough: st.hold }),
          ...(known?.has(pid) === true ? { walSyncedBytes: known.get(pid)! } : {}),
        }
        const wal = this.walOf(pid)
        if (wal === undefined) continue
        this.walRecoveries.push(wal.recover(log, (index) => st.snapshots.get(index)))
        if (wal.failed) {
          damaged.push(pid)
          continue
        }
        if (log.snapshot !== undefined) this.savedSnapshot.set(pid, log.snapshot.index)
        // A recovery that found corruption holds the replica's votes until it is repaired; the
        // log is rewritten clean, so the hold is kept in the spec file, or a second crash before
        // the repair would forget it.
        if ((log.repairThrough ?? 0) > (log.holdVotesThrough ?? 0)) {
          log.holdVotesThrough = log.repairThrough
          files.saveSpec(st.spec, log.holdVotesThrough)
        }
        this.disks.set(pid, { spec: st.spec, log })
        opened.push({ pid, wal })
      } catch (e) {
        if (!(e instanceof Error)) throw e
        damaged.push(pid)
      }
    }
    for (const { pid, wal } of opened) {
      const d = this.disks.get(pid)!
      try {
        const r = new Replica(this, this.replicaId, d.spec, d.log, this.options.timing, hashSeed(pid))
        r.wal = wal
        this.replicas.set(pid, r)
      } catch (e) {
        if (!(e instanceof Error)) throw e
        this.disks.delete(pid)
        damaged.push(pid)
      }
    }
    return damaged
  }

  /**
   * A replica's WAL failed an fsync (the replica has stopped): the node drops it and its log, so it
   * is no longer among the partitions it reports hosting and the metadata service heals it.
   */
  onWalFailed(r: Replica): void {
    this.counters.walFsyncFailures++
    const pid = r.partitionId
    // Not inside the replica's own processing: after the current event.
    this.runtime.defer(() => {
      if (this.replicas.get(pid) === r) this.dropReplica(pid)
    })
  }

  /**
   * Sends the next `count` writes to this node's disk to another sector-aligned offset of the same
   * file (simulation, `ClusterConfig.disk`): a misdirected write, found by the WAL's CRCs and hash
   * chain when the file is next read, at a recovery.
   */
  misdirectNextWrite(count = 1): void {
    const disk = this.options.disk
    if (!(disk instanceof SimDisk))
      throw new Error(`misdirectNextWrite: node ${this.nodeId} has no simulated disk`)
    disk.misdirectNextWrite("*", count)
  }

  /** Makes the next `count` fsyncs of this node's disk fail (simulation, `ClusterConfig.disk`). */
  failNextFsync(count = 1): void {
    const disk = this.options.disk
    if (!(disk instanceof SimDisk))
      throw new Error(`failNextFsync: node ${this.nodeId} has no simulated disk`)
    disk.failNextFsync("*", count)
  }

  /** The WAL of a partition on this node's disk (undefined without a disk). */
  private walOf(partitionId: string): ReplicaWal | undefined {
    const disk = this.options.disk
    if (disk === undefined) return undefined
    return new ReplicaWal(
      disk,
      ReplicaWal.fileOf(partitionId),
      walLogId(partitionId),
      () => {
        const mode = this.crashAtNextWrite
        if (mode === undefined) return true
        this.crash(mode)
        return false
      },
      this.options.canaryNoFsync === true,
      this.files === undefined ? undefined : this.snapshotFileHooks(partitionId, this.files),
    )
  }

  /** Writes a WAL's snapshot to a state file before the log names it; prunes older ones after. */
  private snapshotFileHooks(
    pid: string,
    files: ReplicaStateFiles,
  ): { before: (d: DurableLog) => boolean; after: (d: DurableLog) => void } {
    return {
      before: (d) => {
        const snap = d.snapshot
        if (snap === undefined || this.savedSnapshot.get(pid) === snap.index) return true
        try {
          files.saveSnapshot(pid, snap.index, snap.data)
        } catch (e) {
          if (!isDiskError(e)) throw e
          return false
        }
        this.savedSnapshot.set(pid, snap.index)
        return true
      },
      after: (d) => {
        if (d.snapshot !== undefined) files.pruneSnapshots(pid, d.snapshot.index)
      },
    }
  }

  /** Drops a replica and its disk (after it left its group). */
  dropReplica(partitionId: string): void {
    this.replicas.get(partitionId)?.stop()
    this.replicas.delete(partitionId)
    this.disks.delete(partitionId)
    this.walOf(partitionId)?.remove()
    this.files?.remove(partitionId)
    this.savedSnapshot.delete(partitionId)
  }

  /** Partitions whose state files a restart could not read (left for their groups to heal). */
  readonly unreadable: string[] = []
  /** What WAL recoveries found since the node was created (torn tails, corruption). */
  readonly walRecoveries: WalRecovery[] = []
  private crashAtNextWrite: DiskCrashMode | undefined

  /**
   * Arms a power loss at the node's next WAL write, after the bytes are issued and before their
   * fsync (`"random"`: pieces of that write survive or are torn; `"lose-all"`: none survive;
   * undefined: disarm).
   */
  crashDuringNextWrite(mode: DiskCrashMode | undefined): void {
    this.crashAtNextWrite = mode
  }

  /** Crash: volatile state is lost, durable logs stay (with a disk, as its crash `mode` leaves them). */
  crash(mode: DiskCrashMode = "random"): void {
    if (!this.up) return
    this.crashAtNextWrite = undefined
    this.options.disk?.crash(mode)
    this.up = false
    this.runtime.transport.setUp(this.nodeId, false)
    this.runtime.cancel(this.tickHandle)
    this.runtime.cancel(this.bgHandle)
    for (const r of this.replicas.values()) r.stop()
    this.replicas.clear()
    this.dirty.clear()
  }

  /**
   * Bit rot on this node's disk (simulation, `ClusterConfig.disk`): `bits` random bits flipped in
   * every replica's WAL file (or one bit at byte `at` of each); returns how many were flipped. A recovery finds the damaged frames
   * by their CRCs and hash chain, trusts only the prefix through the last recorded commit, and the
   * replica does not vote until it has caught up past what it had seen.
   */
  rotWal(bits = 1, at?: number): number {
    const disk = this.options.disk
    if (disk === undefined) throw new Error(`rotWal: node ${this.nodeId} has no disk`)
    let n = 0
    for (const f of disk.list(WAL_DIR)) {
      if (f.endsWith(".tmp")) continue
      if (at === undefined) n += disk.rot(f, bits).length
      else if (at < disk.size(f)) {
        // One bit at byte `at` (a test aiming at a given frame, such as the first).
        disk.corrupt(f, at, 0)
        n++
      }
    }
    return n
  }

  /**
   * Bit rot in this node's state files (simulation): `bits` random bits flipped in `files` of
   * them, chosen by `pick` (an index into the sorted list); returns the names of the files hit.
   * A restart finds them by their checksums and leaves those replicas out (`unreadable`).
   */
  rotStateFiles(files: number, bits: number, pick: (n: number) => number): string[] {
    const disk = this.options.disk
    if (disk === undefined) throw new Error(`rotStateFiles: node ${this.nodeId} has no disk`)
    const all = disk.list(STATE_DIR).filter((f) => !f.endsWith(".tmp"))
    const hit: string[] = []
    for (let i = 0; i < files && all.length > 0; i++) {
      const [f] = all.splice(pick(all.length), 1)
      if (disk.rot(f!, bits).length > 0) hit.push(f!)
    }
    return hit
  }

  /**
   * Releases the disk's open files, if it has any (the cluster stops). With state files, each
   * replica's WAL is fsynced first and its length recorded, so the next process to open the
   * disk can tell a damaged frame at the end of a log from a torn write (`reopen`).
   */
  closeDisk(): void {
    const disk = this.options.disk
    if (this.files !== undefined && disk !== undefined && this.up) {
      try {
        const lengths = new Map<string, number>()
        for (const pid of this.replicas.keys()) {
          const name = ReplicaWal.fileOf(pid)
          if (!disk.exists(name)) continue
          disk.fsync(name)
          lengths.set(pid, disk.size(name))
        }
        this.files.saveWalLengths(lengths)
      } catch (e) {
        // Not recorded: the next process takes a bad last frame for a torn write, as after a crash.
        if (!isDiskError(e)) throw e
      }
    }
    disk?.close?.()
  }

  /** Crash and lose the disk (replaced hardware): the node comes back with no replicas. */
  wipe(): void {
    this.crash()
    this.disks.clear()
    const disk = this.options.disk
    if (disk !== undefined) for (const f of disk.list()) disk.remove(f)
  }

  /** Restart after a crash: every replica recovers from its durable log. */
  restart(): void {
    if (this.up) return
    this.up = true
    this.runtime.transport.setUp(this.nodeId, true)
    if (this.files !== undefined) {
      // With state files, from the disk alone, as a new process would (`reopen`): the objects
      // kept in memory are forgotten, all but each WAL's length at its last fsync, which the file
      // system keeps. A replica whose files cannot be read is not hosted: it is healed.
      const synced = new Map<string, number>()
      for (const [pid, d] of this.disks)
        if (!this.replicas.has(pid)) {
          if (d.log.walSyncedBytes !== undefined) synced.set(pid, d.log.walSyncedBytes)
          this.disks.delete(pid)
        }
      this.unreadable.push(...this.reopen(synced))
      this.startTimers()
      return
    }
    for (const [, d] of [...this.disks]) {
      if (!this.replicas.has(d.spec.partition.id)) {
        const wal = this.walOf(d.spec.partition.id)
        if (wal !== undefined) this.walRecoveries.push(wal.recover(d.log))
        if (wal?.failed === true) {
          // The recovered log could not be made durable again: give the replica up.
          this.counters.walFsyncFailures++
          this.disks.delete(d.spec.partition.id)
          wal.remove()
          continue
        }
        const r = new Replica(
          this,
          this.replicaId,
          d.spec,
          d.log,
          this.options.timing,
          hashSeed(d.spec.partition.id),
        )
        r.wal = wal
        this.replicas.set(d.spec.partition.id, r)
      }
    }
    this.startTimers()
  }

  /** Publishes a partition's routing entry (with this node as leader hint) to MemDS. */
  publishRoute(table: string, p: Partition, r: Replica, leader: string | null): void {
    const nodes = r.core
      .latestConfig()
      .members.filter((m: Member) => m.role === "storage" && isVoter(m))
      .map((m: Member) => this.dir.nodeOf(m.id)!)
    const entry = routingEntry(this.dir, p, nodes, leader)
    if (this.dir.memdsSequencer === undefined) return
    this.runtime.transport.send(this.nodeId, this.dir.memdsSequencer, {
      t: "memds",
      m: { type: "source", ops: [{ kind: "put", key: boundaryKey(table, p.start), entry }] },
    })
  }

  // ------------------------------------------------------------------------------------------

  private flush(): void {
    this.flushQueued = false
    if (!this.up) return
    let guard = 0
    while (this.dirty.size > 0 && guard++ < 16) {
      const list = [...this.dirty]
      this.dirty.clear()
      for (const r of list) {
        if (!this.up) return // crashed in the middle of a write (a disk fault)
        r.drain()
      }
    }
  }

  private onMessage(msg: NodeMsg, from: string): void {
    if (!this.up) return
    switch (msg.t) {
      case "px": {
        if (msg.s !== undefined) {
          this.spareMilli.set(from, msg.s)
          this.spareAt.set(from, this.tickNow)
        }
        this.replicas.get(msg.p)?.step(msg.m)
        return
      }
      case "req": {
        this.counters.requests++
        const r = this.replicas.get(msg.h.partitionId)
        const reply = (res: DataResponse): void => {
          if (this.up) this.runtime.transport.send(this.nodeId, from, { t: "res", rid: msg.rid, res })
        }
        if (r === undefined) {
          reply({ ok: false, kind: "StaleEpoch", message: "no such partition here" })
          return
        }
        r.handle(msg.h, msg.req, reply)
        return
      }
      case "ping":
        this.runtime.transport.send(this.nodeId, from, {
          t: "pong",
          n: msg.n,
          hosted: [...this.replicas.keys()],
        })
        return
      default:
        return
    }
  }
}

const hashSeed = (s: string): number => {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return (h >>> 0) % 1_000_003
}

/** Whether a key position falls in partition `p` ([start, end)). */
const inside = (p: Partition, at: Boundary): boolean =>
  compareBoundary(at, p.start) >= 0 && (p.end === undefined || compareBoundary(at, p.end) < 0)
