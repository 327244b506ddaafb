/**
 * LocalGroup: a replication group run in one process, plain TypeScript (the hot path).
 *
 * Rounds: collect a Ready from every replica, persist them all (in parallel; group commit: one
 * append + one sync per replica per round, whatever the number of entries), then send the
 * messages, apply committed entries, answer reads and `advance`; then deliver the queued
 * messages over an in-process zero-delay transport. Clients get a callback when their entry
 * commits on the leader.
 */
import type { CoreCanaries } from "./core.ts"
import { MAX_UNCOMMITTED_ENTRIES_DEFAULT, PaxosCore } from "./core.ts"
import { WalLog } from "./storage.ts"
import type { Entry, Membership, Message, Ready, ReplicaId } from "./types.ts"

/** Where a replica's WAL bytes go. `sync` may throw (fsync error: the replica stops). */
export interface WalSink {
  append(segment: number, bytes: Uint8Array): void | Promise<void>
  sync(segment: number): void | Promise<void>
}

/** A WalSink that keeps bytes in memory (the "memory disk" of the benchmark). */
export class MemorySink implements WalSink {
  bytes = 0
  syncs = 0
  private chunks: Uint8Array[] = []
  append(_segment: number, bytes: Uint8Array): void {
    this.bytes += bytes.length
    this.chunks.push(bytes)
    if (this.chunks.length > 4096) this.chunks = []
  }
  sync(): void {
    this.syncs++
  }
}

/** Moves protocol messages between replicas (a real one comes with the node module). */
export interface TransportService {
  send(m: Message): void
  /** Delivers everything queued so far. */
  drain(deliver: (m: Message) => void): void
  readonly pending: number
}

/** Zero-delay in-process transport (FIFO). */
export class InMemoryTransport implements TransportService {
  private q: Message[] = []
  send(m: Message): void {
    this.q.push(m)
  }
  drain(deliver: (m: Message) => void): void {
    const q = this.q
    this.q = []
    for (const m of q) deliver(m)
  }
  get pending(): number {
    return this.q.length
  }
}

/** Options of a LocalGroup. */
export interface LocalGroupOptions {
  readonly config: Membership
  readonly sink: (id: ReplicaId) => WalSink
  readonly logId?: number
  readonly electionTimeoutMs?: number
  readonly heartbeatMs?: number
  readonly leaseMs?: number
  readonly maxEntriesPerMessage?: number
  readonly maxUncommittedEntries?: number
  readonly canaries?: CoreCanaries
  readonly transport?: TransportService
  /** Called for each committed entry on each storage replica. */
  readonly apply?: (id: ReplicaId, e: Entry) => void
}

/** Metrics of a group. */
export interface GroupMetrics {
  commits: number
  rounds: number
  syncs: number
  batchEntriesMax: number
  batchEntriesSum: number
  leaderChanges: number
}

type Waiter = (ok: boolean, slot: number) => void

/** A group of replicas in one process. */
export class LocalGroup {
  readonly cores = new Map<ReplicaId, PaxosCore>()
  readonly wals = new Map<ReplicaId, WalLog>()
  readonly sinks = new Map<ReplicaId, WalSink>()
  readonly down = new Set<ReplicaId>()
  readonly metrics: GroupMetrics = {
    commits: 0,
    rounds: 0,
    syncs: 0,
    batchEntriesMax: 0,
    batchEntriesSum: 0,
    leaderChanges: 0,
  }
  readonly transport: TransportService
  private waiters = new Map<number, { ballot: number; cb: Waiter }>()
  private readWaiters = new Map<number, () => void>()
  private lastLeader: ReplicaId | null = null
  now = 0

  constructor(readonly options: LocalGroupOptions) {
    this.transport = options.transport ?? new InMemoryTransport()
    for (const m of options.config.members) this.addReplica(m.id, m.role, options.config)
  }

  /** Adds a replica process (joining ones pass `config = null`). */
  addReplica(id: ReplicaId, role: "storage" | "log", config: Membership | null): PaxosCore {
    const o = this.options
    const core = new PaxosCore({
      id,
      role,
      initialConfig: config,
      electionTimeoutMs: o.electionTimeoutMs ?? 1000,
      heartbeatMs: o.heartbeatMs ?? 100,
      leaseMs: o.leaseMs ?? 800,
      maxEntriesPerMessage: o.maxEntriesPerMessage ?? 8192,
      // Bounds a group-commit batch too: at most this many entries are uncommitted at once.
      maxUncommittedEntries: o.maxUncommittedEntries ?? MAX_UNCOMMITTED_ENTRIES_DEFAULT,
      jitterSeed: 7,
      canaries: o.canaries ?? {},
    })
    this.cores.set(id, core)
    this.wals.set(id, new WalLog(o.logId ?? 1))
    this.sinks.set(id, o.sink(id))
    core.tick(this.now)
    return core
  }

  leader(): PaxosCore | undefined {
    for (const [id, c] of this.cores) if (!this.down.has(id) && c.state === "leader") return c
    return undefined
  }

  /** Proposes on the leader; `cb(true, slot)` once committed, `cb(false)` if it cannot be. */
  propose(data: Uint8Array, cb: Waiter): boolean {
    const l = this.leader()
    if (l === undefined) return false
    const r = l.propose(data)
    if (!r.ok) return false
    this.waiters.set(r.slot, { ballot: r.ballot, cb })
    return true
  }

  /** A strong read on the leader: `cb` runs once the leader has applied the read index. */
  read(id: number, cb: () => void): "ok" | "not-leader" | "no-lease" {
    const l = this.leader()
    if (l === undefined) return "not-leader"
    const st = l.requestRead(id)
    if (st === "ok") this.readWaiters.set(id, cb)
    return st
  }

  /** Advances every clock (ms). */
  tick(now: number): void {
    this.now = now
    for (const [id, c] of this.cores) if (!this.down.has(id)) c.tick(now)
  }

  /** A storage failure: the replica stops (its core ignores all input from now on). */
  stopReplica(id: ReplicaId): void {
    this.cores.get(id)?.stop()
    this.down.add(id)
  }

  /** Crash-stops a replica (its process is gone). */
  crash(id: ReplicaId): void {
    this.down.add(id)
  }

  /** Runs rounds until nothing is left to do (or `roundsMax`). */
  async pump(roundsMax = 1_000_000): Promise<void> {
    for (let i = 0; i < roundsMax; i++) {
      const busy = this.collectAndPersist()
      if (busy === false) return
      if (busy !== true) await busy
      this.deliver()
    }
  }

  /** Synchronous pump for sinks that never return promises (memory disk). */
  pumpSync(roundsMax = 1_000_000): void {
    for (let i = 0; i < roundsMax; i++) {
      const busy = this.collectAndPersist()
      if (busy === false) return
      if (busy !== true) throw new Error("pumpSync with an async sink")
      this.deliver()
    }
  }

  /** One round's first half: returns false when idle, true when done synchronously. */
  private collectAndPersist(): boolean | Promise<void> {
    const readies: Array<[ReplicaId, PaxosCore, Ready]> = []
    for (const [id, c] of this.cores) {
      if (this.down.has(id)) continue
      if (c.state === "leader") c.flush()
      if (c.hasReady()) readies.push([id, c, c.readyOutputs()])
    }
    if (readies.length === 0 && this.transport.pending === 0) return false
    this.metrics.rounds++
    const pending: Promise<void>[] = []
    for (const [id, , ready] of readies) {
      if (ready.entries.length === 0 && ready.hardState === null && ready.snapshot === null) continue
      const wal = this.wals.get(id)!
      wal.encode(ready)
      const { segment, bytes } = wal.take()
      const sink = this.sinks.get(id)!
      const n = ready.entries.length
      this.metrics.batchEntriesSum += n
      if (n > this.metrics.batchEntriesMax) this.metrics.batchEntriesMax = n
      this.metrics.syncs++
      // An append or fsync failure stops this replica for good (never retried).
      const stop = () => this.stopReplica(id)
      try {
        const a = sink.append(segment, bytes)
        if (a instanceof Promise) pending.push(a.then(() => sink.sync(segment)).catch(stop))
        else {
          const s = sink.sync(segment)
          if (s instanceof Promise) pending.push(s.catch(stop))
        }
      } catch {
        stop()
      }
    }
    const finish = () => {
      for (const [id, c, ready] of readies) if (!this.down.has(id)) this.afterPersist(id, c, ready)
    }
    if (pending.length === 0) {
      finish()
      return true
    }
    return Promise.all(pending).then(finish)
  }

  private afterPersist(id: ReplicaId, c: PaxosCore, ready: Ready): void {
    for (const m of ready.messages) this.transport.send(m)
    const isLeader = c.state === "leader"
    const apply = this.options.apply
    for (const e of ready.committed) {
      if (apply !== undefined) apply(id, e)
      if (isLeader) {
        const w = this.waiters.get(e.slot)
        if (w !== undefined) {
          this.waiters.delete(e.slot)
          this.metrics.commits++
          w.cb(w.ballot === e.ballot, e.slot)
        }
      }
    }
    for (const r of ready.reads) {
      const cb = this.readWaiters.get(r.id)
      if (cb !== undefined) {
        this.readWaiters.delete(r.id)
        cb()
      }
    }
    c.advance()
    if (isLeader && this.lastLeader !== id) {
      this.lastLeader = id
      this.metrics.leaderChanges++
    }
  }

  private deliver(): void {
    this.transport.drain((m) => {
      if (this.down.has(m.to)) return
      const c = this.cores.get(m.to)
      if (c !== undefined) c.step(m)
    })
  }

  /** Elects `id` (campaign + rounds + lease wait) using virtual time; returns when it leads. */
  async electAndWait(id: ReplicaId, stepMs = 50, maxMs = 60_000): Promise<void> {
    this.cores.get(id)!.campaign()
    const until = this.now + maxMs
    while (this.now < until) {
      await this.pump()
      const l = this.leader()
      if (l?.isEstablished() && l.canServeReads()) return
      this.tick(this.now + stepMs)
    }
    throw new Error("no established leader")
  }
}
