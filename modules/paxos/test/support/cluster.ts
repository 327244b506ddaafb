/**
 * Deterministic simulation driver for a Paxos replication group (test-only).
 *
 * One seeded process: a virtual-time event queue, a network with loss, duplication, reordering
 * and partitions, per-replica clocks with bounded drift, a simulated disk with un-fsynced data,
 * torn writes, bit rot and fsync errors, replicas running the pure core with the real WAL codec,
 * clients writing/reading/CAS-ing a few keys, and online invariant checks.
 */
import type { CoreCanaries, PaxosCore as Core } from "../../src/internal/core.ts"
import { PaxosCore } from "../../src/internal/core.ts"
import type {
  Entry,
  Member,
  Membership,
  Message,
  Ready,
  ReplicaId,
  Snapshot,
} from "../../src/internal/types.ts"
import { ENTRY_COMMAND, ENTRY_CONFIG, ballotOwner, showBallot } from "../../src/internal/types.ts"
import { FrameWriter, recoverState, scanFrames } from "../../src/internal/wal.ts"
import {
  type Buggify,
  Delay,
  type Operation,
  Sim as SimRun,
  SimNetwork,
  casRegisterModel,
  checkOperations,
} from "@partita/sim"
import { Prng, TraceHash } from "./prng.ts"

/** Canaries that live in the driver (the shell), next to the core's own. */
export interface DriverCanaries extends CoreCanaries {
  readonly ackBeforeFsync?: boolean
  readonly retryFailedFsync?: boolean
  readonly skipCrcInRecovery?: boolean
}

export interface SimOptions {
  readonly seed: number
  readonly faultMs?: number
  readonly settleMs?: number
  readonly canaries?: DriverCanaries
  readonly withLogReplica?: boolean
  /** Grow to five voters (3 storage + 2 log replicas in different AZs) instead of replacing one. */
  readonly fiveVoters?: boolean
  /** The replacement log replica joins as a learner and is promoted once committed (default: half the seeds). */
  readonly learners?: boolean
  readonly verbose?: boolean
}

export interface SimResult {
  readonly seed: number
  readonly violations: string[]
  readonly traceHash: string
  readonly stats: Record<string, number>
}

const enc = new TextEncoder()
const dec = new TextDecoder()

interface Disk {
  durable: Uint8Array[]
  pending: Uint8Array[]
  rotted: boolean
  /** Sticky: the WAL is never rewritten, so injected bad bytes stay. */
  everRotted: boolean
}

interface Cmd {
  c: number
  s: number
  op: "w" | "cas"
  k: string
  v: string
  e?: string | null
}

interface Replica {
  id: ReplicaId
  role: "storage" | "log"
  zone: string
  core: Core | null
  disk: Disk
  writer: FrameWriter
  offset: number
  rate: number
  sm: Map<string, string>
  applied: number
  snapshots: Map<number, Uint8Array>
  fsyncBusy: boolean
  processScheduled: boolean
  pendingProposals: Map<string, (r: string | boolean) => void>
  pendingReads: Map<number, () => void>
  maxPromisedSent: number
  maxMatchedSent: number
  maxSelfCounted: number
  downUntil: number
  incarnation: number
  removed: boolean
}

const LOG_ID = 0x7a11
const CHAIN_SEED = 0x1234
const TICK_MS = 10
const ELECTION_TIMEOUT_MS = 300
const HEARTBEAT_MS = 40
const LEASE_MS = 250
const DRIFT_BOUND = 0.02
const CLIENT_TIMEOUT_MS = 800
const LIVENESS_BOUND_MS = 4000
/** After faults stop: replicas restart (≤ 800 ms), a leader is elected and waits out leases. */
const LIVENESS_GRACE_MS = 2000

/** Runs one seeded simulation and returns the violations found (empty when correct). */
export const runSim = (opts: SimOptions): SimResult => new Sim(opts).run()

class Sim {
  private readonly rnd: Prng
  private readonly faults: Prng
  /** The sim kit's run: scheduler (virtual time), buggify and its own trace hash. */
  private readonly sim: SimRun
  /** The sim kit's network: loss, duplication, delay/reordering, node/AZ/one-way partitions. */
  private readonly net: SimNetwork<Message>
  get now(): number {
    return this.sim.now
  }
  private readonly replicas = new Map<ReplicaId, Replica>()
  private readonly violations: string[] = []
  private readonly trace = new TraceHash()
  private readonly chosen = new Map<number, string>()
  private readonly chosenOps = new Set<string>()
  private readonly leaders = new Map<number, ReplicaId>()
  private readonly leaseSpans = new Map<number, [number, number]>()
  private readonly history = new Map<string, RegOp[]>()
  private readonly ackedOps: string[] = []
  private readonly canaries: DriverCanaries
  private readonly faultMs: number
  private readonly settleMs: number
  // per-seed fault rates
  private readonly loss: number
  private readonly dup: number
  private readonly delayJitterMs: number
  private readonly crashEveryMs: number
  private readonly partitionEveryMs: number
  private readonly rotChance: number
  private readonly fsyncErrChance: number
  private readonly reconfig: boolean
  private readonly handovers: boolean
  private readonly learners: boolean
  private faultsOn = true
  private readonly stats: Record<string, number> = {
    msgs: 0,
    commits: 0,
    crashes: 0,
    partitions: 0,
    rots: 0,
    fsyncErrors: 0,
    leaderChanges: 0,
    ops: 0,
    acked: 0,
    reconfigs: 0,
    promotions: 0,
    handovers: 0,
    corruptRecoveries: 0,
  }
  private nextReplicaId = 0
  private readonly bugs: Buggify

  constructor(private readonly opts: SimOptions) {
    const root = new Prng(opts.seed)
    this.rnd = root.fork()
    this.faults = root.fork()
    // Its own stream, so the schedules of the other choices stay what they were for each seed.
    this.learners = opts.learners ?? root.fork().chance(0.5)
    this.canaries = opts.canaries ?? {}
    this.faultMs = opts.faultMs ?? 2500
    this.settleMs = opts.settleMs ?? LIVENESS_BOUND_MS
    const f = this.faults
    this.loss = f.chance(0.2) ? 0 : f.range(0, 0.15)
    this.dup = f.range(0, 0.08)
    this.delayJitterMs = f.range(0, 15)
    this.crashEveryMs = f.range(300, 1500)
    this.partitionEveryMs = f.range(400, 2000)
    this.rotChance = f.range(0, 0.5)
    this.fsyncErrChance = f.range(0, 0.004)
    this.reconfig = opts.withLogReplica ?? f.chance(0.4)
    this.handovers = f.chance(0.3)
    this.sim = new SimRun({ seed: opts.seed, buggify: true })
    this.bugs = this.sim.buggify
    this.net = new SimNetwork<Message>(this.sim, {
      lossProbability: this.loss,
      duplicateProbability: this.dup,
      intraAzDelay: Delay.uniform(0.2, 0.2 + this.delayJitterMs),
      crossAzDelay: Delay.uniform(0.2, 0.2 + this.delayJitterMs),
      hashMessage: (m) => `${m.type}:${m.from}>${m.to}:${m.ballot}`,
    })
  }

  // -------------------------------------------------------------------------------------------

  run(): SimResult {
    const zones = ["az1", "az2", "az3"]
    const members: Member[] = zones.map((zone, i) => ({ id: i, role: "storage", zone }))
    this.nextReplicaId = members.length
    for (const m of members) this.addReplica(m.id, m.role, m.zone, { members })
    for (const r of this.replicas.values()) this.scheduleTick(r)
    const nClients = 3
    for (let c = 0; c < nClients; c++) this.at(this.rnd.range(0, 50), () => this.clientLoop(c, 0))
    this.scheduleFaults()
    this.at(this.faultMs, () => this.stopFaults())
    const end = this.faultMs + this.settleMs
    try {
      this.sim.scheduler.runWhile(
        () => this.now <= end && (this.violations.length === 0 || this.opts.verbose === true),
        3_000_000,
      )
    } catch (e) {
      this.violations.push(`event budget exceeded: ${String(e)}`)
    }
    if (this.violations.length === 0) this.finalChecks()
    this.stats.buggifyFired = [...this.bugs.fired.values()].reduce((a, b) => a + b, 0)
    if (this.opts.verbose)
      for (const r of this.replicas.values())
        this.log(
          `end r${r.id} ${r.core?.state} busy=${r.fsyncBusy} sched=${r.processScheduled} promised=${showBallot(r.core?.promised ?? 0)} commit=${r.core?.commitIndex} last=${r.core?.lastIndex()}`,
        )
    return {
      seed: this.opts.seed,
      violations: this.violations,
      traceHash: this.trace.hex(),
      stats: this.stats,
    }
  }

  private at(dt: number, fn: () => void): void {
    this.sim.schedule(Math.max(0, dt), fn)
  }

  private log(s: string): void {
    if (this.opts.verbose) console.log(`${this.now.toFixed(1).padStart(8)} ${s}`)
  }

  private fail(s: string): void {
    this.violations.push(`t=${this.now.toFixed(1)} ${s}`)
    this.log(`VIOLATION ${s}`)
  }

  // ---------------------------------------------------------------- replicas

  private addReplica(
    id: ReplicaId,
    role: "storage" | "log",
    zone: string,
    config: Membership | null,
  ): Replica {
    const rate = 1 + this.faults.range(-DRIFT_BOUND, DRIFT_BOUND) * 0.9
    const r: Replica = {
      id,
      role,
      zone,
      core: null,
      disk: { durable: [], pending: [], rotted: false, everRotted: false },
      writer: new FrameWriter(LOG_ID, CHAIN_SEED, 4096),
      offset: this.faults.range(0, 100000),
      rate,
      sm: new Map(),
      applied: 0,
      snapshots: new Map(),
      fsyncBusy: false,
      processScheduled: false,
      pendingProposals: new Map(),
      pendingReads: new Map(),
      maxPromisedSent: 0,
      maxMatchedSent: 0,
      maxSelfCounted: 0,
      downUntil: 0,
      incarnation: 0,
      removed: false,
    }
    r.core = this.newCore(r, config, undefined)
    if (config !== null) {
      // Bootstrap: the initial configuration is durable as a snapshot marker at index 0.
      r.writer.snapshotMarker({ index: 0, config, data: null })
      r.disk.durable.push(r.writer.take())
    }
    this.replicas.set(id, r)
    this.net.addNode(`r${id}`, zone, (m) => this.onMessage(r, m))
    return r
  }

  private newCore(
    r: Replica,
    config: Membership | null,
    recovered: Parameters<typeof recoverState>[0] | undefined,
  ) {
    const opts = {
      id: r.id,
      role: r.role,
      initialConfig: config,
      electionTimeoutMs: ELECTION_TIMEOUT_MS,
      heartbeatMs: HEARTBEAT_MS,
      leaseMs: LEASE_MS,
      driftBound: DRIFT_BOUND,
      maxEntriesPerMessage: 64,
      jitterSeed: this.opts.seed + r.incarnation * 7919,
      canaries: this.canaries,
      buggify: (site: string) => this.faultsOn && this.bugs.fire(site),
    }
    if (recovered === undefined) return new PaxosCore(opts)
    const state = recoverState(recovered, (i) => r.snapshots.get(i) ?? null)
    if (recovered.corruptAt >= 0) this.stats.corruptRecoveries!++
    // Durability invariant: an acceptor never forgets what it acknowledged (unless it knows it
    // lost something and is repairing).
    if (state.repairThrough === 0) {
      const last = (state.snapshot?.index ?? 0) + state.entries.length
      if (state.hardState.promised < r.maxPromisedSent)
        this.fail(
          `r${r.id} recovered promised ${showBallot(state.hardState.promised)} < sent ${showBallot(r.maxPromisedSent)}`,
        )
      const acked = Math.max(r.maxMatchedSent, r.maxSelfCounted)
      if (last < acked) this.fail(`r${r.id} recovered log through ${last} < acknowledged ${acked}`)
    }
    const core = new PaxosCore(opts, state)
    // Rebuild the state machine from the snapshot and the committed entries.
    r.sm = new Map()
    r.applied = 0
    if (state.snapshot !== null && r.role === "storage") this.installSnapshot(r, state.snapshot)
    return core
  }

  private localNow(r: Replica): number {
    return r.offset + this.now * r.rate
  }

  private scheduleTick(r: Replica): void {
    this.at(TICK_MS * (0.9 + this.rnd.float() * 0.2), () => {
      if (r.core !== null) {
        r.core.tick(this.localNow(r))
        this.observe(r)
        this.kick(r)
      }
      this.scheduleTick(r)
    })
  }

  /** Observes leadership and lease validity for the global invariants. */
  private observe(r: Replica): void {
    const c = r.core!
    if (c.state === "leader") {
      const prev = this.leaders.get(c.ballot)
      if (prev === undefined) {
        this.leaders.set(c.ballot, r.id)
        this.stats.leaderChanges!++
        this.log(
          `r${r.id} leads ballot ${showBallot(c.ballot)} leaseWait ${(c.leaseWaitUntil - c.now).toFixed(1)}ms`,
        )
      } else if (prev !== r.id)
        this.fail(`two leaders for ballot ${showBallot(c.ballot)}: r${prev} and r${r.id}`)
      if (ballotOwner(c.ballot) !== r.id) this.fail(`r${r.id} leads foreign ballot`)
      if (c.latestConfig().members.find((m) => m.id === r.id)?.learner === true)
        this.fail(`r${r.id} leads as a learner`)
      if (c.canServeReads()) {
        const span = this.leaseSpans.get(c.ballot)
        if (span === undefined) this.leaseSpans.set(c.ballot, [this.now, this.now])
        else span[1] = this.now
      }
    }
  }

  private kick(r: Replica): void {
    if (r.processScheduled || r.fsyncBusy || r.core === null) return
    if (!r.core.hasReady()) return
    r.processScheduled = true
    this.at(0, () => {
      r.processScheduled = false
      this.process(r)
    })
  }

  /** Handles one Ready: write frames, fsync (taking time), then send, apply, advance. */
  private process(r: Replica): void {
    const core = r.core
    if (core === null || r.fsyncBusy) return
    if (core.state === "leader") {
      core.flush()
      // The leader's own acceptance counts as an acknowledgement from the moment it is counted.
      r.maxSelfCounted = Math.max(r.maxSelfCounted, core.selfMatchIndex())
    }
    const ready = core.readyOutputs()
    const inc = r.incarnation
    for (const e of ready.entries) r.writer.entry(e)
    if (ready.snapshot !== null) r.writer.snapshotMarker(ready.snapshot)
    if (ready.hardState !== null) r.writer.hard(ready.hardState)
    const bytes = r.writer.take()
    if (bytes.length > 0) r.disk.pending.push(bytes)
    if (ready.snapshot !== null && ready.snapshot.data !== null)
      r.snapshots.set(ready.snapshot.index, ready.snapshot.data)
    const after = () => {
      this.sendAll(r, ready.messages)
      this.applyReady(r, ready)
      core.advance()
      r.maxSelfCounted = Math.max(r.maxSelfCounted, core.state === "leader" ? core.selfMatchIndex() : 0)
    }
    if (bytes.length === 0) {
      after()
      this.kick(r)
      return
    }
    if (this.canaries.ackBeforeFsync) {
      after()
    }
    r.fsyncBusy = true
    this.at(this.rnd.range(0.05, 1.5), () => {
      if (r.incarnation !== inc || r.core === null) return
      r.fsyncBusy = false
      if (this.faultsOn && this.rnd.chance(this.fsyncErrChance)) {
        this.stats.fsyncErrors!++
        if (this.canaries.retryFailedFsync) {
          // Linux drops the dirty pages on a failed fsync; a retry "succeeds" with them gone.
          r.disk.pending = []
          if (!this.canaries.ackBeforeFsync) after()
          this.kick(r)
          return
        }
        this.log(`r${r.id} fsync error: stopping`)
        core.stop()
        this.crash(r, this.rnd.range(100, 600))
        return
      }
      r.disk.durable.push(...r.disk.pending)
      r.disk.pending = []
      if (!this.canaries.ackBeforeFsync) after()
      this.kick(r)
    })
  }

  private applyReady(r: Replica, ready: Ready): void {
    if (this.opts.verbose && (ready.committed.length > 0 || ready.snapshot))
      this.log(
        `r${r.id} apply ${ready.committed[0]?.slot}..${ready.committed[ready.committed.length - 1]?.slot} snap=${ready.snapshot?.index}`,
      )
    if (ready.snapshot !== null && r.role === "storage") this.installSnapshot(r, ready.snapshot)
    for (const e of ready.committed) this.applyEntry(r, e)
    for (const rd of ready.reads) {
      const answer = r.pendingReads.get(rd.id)
      if (answer === undefined) continue
      r.pendingReads.delete(rd.id)
      if (r.applied < rd.index) this.fail(`r${r.id} read index ${rd.index} beyond applied ${r.applied}`)
      answer()
    }
  }

  private applyEntry(r: Replica, e: Entry): void {
    if (e.slot !== r.applied + 1) {
      if (e.slot <= r.applied) return
      this.fail(`r${r.id} apply gap: applied ${r.applied}, got ${e.slot}`)
      return
    }
    r.applied = e.slot
    const key =
      e.kind === ENTRY_COMMAND
        ? dec.decode(e.data)
        : e.kind === ENTRY_CONFIG
          ? `cfg${dec.decode(e.data)}`
          : "noop"
    const prev = this.chosen.get(e.slot)
    if (prev === undefined) {
      this.chosen.set(e.slot, key)
      this.stats.commits!++
      this.trace.num(e.slot)
      this.trace.str(key)
    } else if (prev !== key) this.fail(`slot ${e.slot} diverged on r${r.id}: ${prev} vs ${key}`)
    if (e.kind !== ENTRY_COMMAND) return
    let cmd: Cmd
    try {
      cmd = JSON.parse(key) as Cmd
    } catch {
      this.fail(`r${r.id} applied a garbled command at slot ${e.slot}`)
      return
    }
    const opKey = `${cmd.c}:${cmd.s}`
    this.chosenOps.add(opKey)
    let result: string | boolean = true
    if (cmd.op === "w") r.sm.set(cmd.k, cmd.v)
    else {
      const cur = r.sm.get(cmd.k) ?? null
      result = cur === (cmd.e ?? null)
      if (result) r.sm.set(cmd.k, cmd.v)
    }
    const cb = r.pendingProposals.get(opKey)
    if (cb !== undefined) {
      r.pendingProposals.delete(opKey)
      cb(result)
    }
  }

  private installSnapshot(r: Replica, s: Snapshot): void {
    if (s.data === null) return
    const obj = JSON.parse(dec.decode(s.data)) as Array<[string, string]>
    r.sm = new Map(obj)
    r.applied = s.index
  }

  private maybeCompact(r: Replica): void {
    const c = r.core
    if (c === null || r.fsyncBusy || r.applied - c.firstLogIndex() < 40) return
    const index = r.role === "storage" ? r.applied : c.commitIndex
    const data = r.role === "storage" ? enc.encode(JSON.stringify([...r.sm])) : null
    if (data !== null) r.snapshots.set(index, data)
    c.compact(index, data)
    const snap = c.currentSnapshot()
    if (snap !== null && snap.index === index) {
      // Write the marker durably at once (checkpoints are atomic in this model).
      r.writer.snapshotMarker(snap)
      r.disk.durable.push(...r.disk.pending, r.writer.take())
      r.disk.pending = []
    }
  }

  // ---------------------------------------------------------------- network

  private sendAll(r: Replica, msgs: ReadonlyArray<Message>): void {
    for (const m of msgs) {
      if (m.type === "promise" && m.ok) r.maxPromisedSent = Math.max(r.maxPromisedSent, m.promised)
      if (m.type === "accepted" && m.ok) {
        r.maxPromisedSent = Math.max(r.maxPromisedSent, m.promised)
        r.maxMatchedSent = Math.max(r.maxMatchedSent, m.matched)
      }
      this.deliver(m)
    }
  }

  private deliver(m: Message): void {
    this.stats.msgs!++
    this.net.send(`r${m.from}`, `r${m.to}`, m)
  }

  /** The network handler of replica `r`. */
  private onMessage(r: Replica, m: Message): void {
    if (this.opts.verbose && (m.type === "promise" || m.type === "prepare"))
      this.log(`deliver ${JSON.stringify({ ...m, entries: undefined })}`)
    if (r.core === null) return
    this.trace.num(this.now)
    this.trace.str(m.type)
    r.core.tick(this.localNow(r))
    r.core.step(m)
    this.observe(r)
    this.kick(r)
  }

  // ---------------------------------------------------------------- faults

  private scheduleFaults(): void {
    const f = this.faults
    const crashAt = (t: number) =>
      this.at(t, () => {
        if (!this.faultsOn) return
        const live = [...this.replicas.values()].filter((r) => r.core !== null && !r.removed)
        const down = [...this.replicas.values()].filter((r) => r.core === null && !r.removed)
        if (live.length > 0 && down.length === 0) {
          // Power loss tends to hit during writes: prefer a replica with an fsync in flight.
          const writing = live.filter((r) => r.fsyncBusy)
          const victim =
            writing.length > 0 && f.chance(0.5)
              ? f.pick(writing)
              : f.chance(0.4)
                ? (live.find((r) => r.core!.state === "leader") ?? f.pick(live))
                : f.pick(live)
          this.crash(victim, f.range(50, 800))
        }
        crashAt(f.range(0.5, 1.5) * this.crashEveryMs)
      })
    crashAt(f.range(0.2, 1) * this.crashEveryMs)
    const partAt = (t: number) =>
      this.at(t, () => {
        if (!this.faultsOn) return
        this.net.heal()
        const ids = [...this.replicas.keys()]
        const kind = f.int(4)
        const leader = [...this.replicas.values()].find((r) => r.core?.state === "leader")
        const victim = kind === 1 && leader !== undefined ? leader.id : f.pick(ids)
        const zone = this.replicas.get(victim)!.zone
        this.stats.partitions!++
        let pid: number
        if (kind === 2)
          pid = this.net.isolateAz(zone) // a whole AZ, log replicas placed there included
        else if (kind === 3) {
          // Asymmetric: the victim cannot hear from one peer (gray failure).
          const other = f.pick(ids.filter((i) => i !== victim))
          pid = this.net.partition([`r${other}`], [`r${victim}`], { oneWay: true })
        } else pid = this.net.isolateNode(`r${victim}`)
        this.log(`partition kind ${kind} around r${victim}: ${this.net.partitions().join("; ")}`)
        this.at(f.range(100, 900), () => this.net.heal(pid))
        partAt(f.range(0.5, 1.5) * this.partitionEveryMs)
      })
    partAt(f.range(0.2, 1) * this.partitionEveryMs)
    if (this.reconfig) this.at(f.range(300, this.faultMs * 0.6), () => this.reconfigure())
    // Deployments: the leader hands over voluntarily (no lease wait for the next leader).
    if (this.handovers) {
      const handoverAt = (t: number) =>
        this.at(t, () => {
          if (!this.faultsOn) return
          const l = [...this.replicas.values()].find((r) => r.core?.state === "leader")
          if (l !== undefined) {
            const peers = l.core!.latestConfig().members.filter((m) => m.id !== l.id && m.role === "storage")
            if (peers.length > 0) {
              const to = f.pick(peers).id
              const ok = l.core!.transferLeadership(to)
              this.log(`handover r${l.id} -> r${to}: ${ok}`)
              if (ok) {
                this.stats.handovers!++
                this.kick(l)
              }
            }
          }
          handoverAt(f.range(200, 900))
        })
      handoverAt(f.range(200, 900))
    }
    this.compactLoop()
  }

  private compactLoop(): void {
    this.at(200, () => {
      for (const r of this.replicas.values()) if (this.rnd.chance(0.3)) this.maybeCompact(r)
      this.compactLoop()
    })
  }

  /** Autoadmin: replace a storage replica by a log replica (add one, then remove one). */
  private reconfigure(): void {
    const leader = [...this.replicas.values()].find((r) => r.core?.state === "leader")
    if (leader === undefined) {
      this.at(100, () => this.reconfigure())
      return
    }
    const cfg = leader.core!.latestConfig()
    const id = this.nextReplicaId++
    const victim = this.faults.pick(cfg.members.filter((m) => m.id !== leader.id))
    const added: Member = this.learners
      ? { id, role: "log", zone: victim.zone, learner: true }
      : { id, role: "log", zone: victim.zone }
    const voter: Member = { id, role: "log", zone: victim.zone }
    const next: Membership = { members: [...cfg.members, added] }
    const lr = this.addReplica(id, "log", victim.zone, null)
    this.scheduleTick(lr)
    const res = leader.core!.proposeConfig(next)
    this.log(`reconfig add log replica r${id}: ${JSON.stringify(res)}`)
    if (!res.ok) return
    this.stats.reconfigs!++
    this.kick(leader)
    const removeLater = (tries: number) =>
      this.at(150, () => {
        const l = [...this.replicas.values()].find((r) => r.core?.state === "leader")
        if (l === undefined || l.id === victim.id) {
          if (tries > 0) removeLater(tries - 1)
          return
        }
        const cur = l.core!.latestConfig()
        if (!cur.members.some((m) => m.id === victim.id)) return
        // Autoadmin rule: remove only once the replacement is in the *committed* configuration
        // (re-add it if a leader change lost the add), so the group never shrinks to two.
        const committed = l.core!.configAt(l.core!.commitIndex + 1)
        if (!committed.members.some((m) => m.id === added.id)) {
          if (!cur.members.some((m) => m.id === added.id)) {
            const again = l.core!.proposeConfig({ members: [...cur.members, added] })
            this.log(`reconfig re-add log replica r${added.id}: ${JSON.stringify(again)}`)
            if (again.ok) this.kick(l)
          }
          if (tries > 0) removeLater(tries - 1)
          return
        }
        // A learner is promoted (once its joining is committed) before the victim goes.
        const inCommitted = committed.members.find((m) => m.id === added.id)!
        if (inCommitted.learner === true) {
          if (cur.members.find((m) => m.id === added.id)?.learner === true) {
            const promoted = l.core!.proposeConfig({
              members: cur.members.map((m) => (m.id === added.id ? voter : m)),
            })
            this.log(`reconfig promote r${added.id}: ${JSON.stringify(promoted)}`)
            if (promoted.ok) {
              this.stats.promotions!++
              this.kick(l)
            }
          }
          if (tries > 0) removeLater(tries - 1)
          return
        }
        if (this.opts.fiveVoters === true) {
          // Second log replica in another AZ; keep the victim (five voters).
          const zone2 = ["az1", "az2", "az3"].find((z) => z !== victim.zone && z !== l.zone) ?? "az1"
          const id2 = this.nextReplicaId++
          const second: Member = { id: id2, role: "log", zone: zone2 }
          this.scheduleTick(this.addReplica(id2, "log", zone2, null))
          const res3 = l.core!.proposeConfig({ members: [...cur.members, second] })
          this.log(`reconfig add second log replica r${id2}: ${JSON.stringify(res3)}`)
          if (res3.ok) this.kick(l)
          return
        }
        const res2 = l.core!.proposeConfig({ members: cur.members.filter((m) => m.id !== victim.id) })
        this.log(`reconfig remove r${victim.id}: ${JSON.stringify(res2)}`)
        if (res2.ok) {
          this.stats.reconfigs!++
          this.replicas.get(victim.id)!.removed = true
          this.kick(l)
        } else if (tries > 0) removeLater(tries - 1)
      })
    removeLater(40)
  }

  private crash(r: Replica, downMs: number): void {
    if (r.core === null) return
    this.stats.crashes!++
    this.log(`crash r${r.id} (${r.core.state}) for ${downMs.toFixed(0)}ms`)
    r.core = null
    r.incarnation++
    r.fsyncBusy = false
    r.processScheduled = false
    r.pendingProposals.clear()
    r.pendingReads.clear()
    // Un-fsynced data: lost, or a torn prefix of it survives (possibly garbled).
    const p = flatten(r.disk.pending)
    let durable = flatten(r.disk.durable)
    if (p.length > 0 && this.faults.chance(0.5)) {
      const keep = p.slice(0, this.faults.int(p.length))
      if (keep.length > 0 && this.faults.chance(0.3)) {
        keep[this.faults.int(keep.length)]! ^= 0xff // garbled sector inside the torn write
        r.disk.rotted = true
        r.disk.everRotted = true
      }
      durable = concat(durable, keep)
    }
    r.disk.pending = []
    // Bit rot, never on two replicas at once and never in the last frames (see README).
    // "Recoverable": a replica whose rot is not yet repaired blocks rot anywhere else, also while
    // it is down (crashed replicas cannot show they are repairing).
    const othersRotted = [...this.replicas.values()].some(
      (o) => o !== r && (o.disk.rotted || o.core === null || (o.core?.isRepairing() ?? false)),
    )
    if (!othersRotted && durable.length > 8192 && this.faults.chance(this.rotChance)) {
      const pos = this.faults.int(durable.length - 4096)
      durable[pos]! ^= 1 << this.faults.int(8)
      r.disk.rotted = true
      r.disk.everRotted = true
      this.stats.rots!++
      this.log(`bit rot on r${r.id} at ${pos}`)
    }
    r.disk.durable = [durable]
    r.downUntil = this.now + downMs
    this.at(downMs, () => this.restart(r))
  }

  private restart(r: Replica): void {
    if (r.core !== null) return
    const durable = flatten(r.disk.durable)
    const scan = scanFrames(durable, {
      logId: LOG_ID,
      chainSeed: CHAIN_SEED,
      skipCrc: this.canaries.skipCrcInRecovery === true,
    })
    // Truncate a torn tail; keep the chain.
    r.disk.durable = [durable.slice(0, scan.validBytes)]
    r.writer = new FrameWriter(LOG_ID, scan.chain, 4096)
    if (scan.corruptAt >= 0 && !r.disk.everRotted)
      this.fail(
        `r${r.id} WAL corrupt at byte ${scan.corruptAt} without injected rot (lost or misordered writes)`,
      )
    r.disk.rotted = false
    r.core = this.newCore(r, null, scan)
    this.log(
      `restart r${r.id} commit=${r.core.commitIndex} last=${r.core.lastIndex()} repair=${r.core.isRepairing()}`,
    )
    // Replay committed entries into the rebuilt state machine.
    const ready = r.core.readyOutputs()
    for (const e of ready.committed) this.applyEntry(r, e)
    this.kick(r)
  }

  private stopFaults(): void {
    this.faultsOn = false
    this.net.heal()
    const azs = ["az1", "az2", "az3"]
    for (const a of azs)
      for (const b of azs)
        this.net.setAzLink(a, b, {
          lossProbability: 0,
          duplicateProbability: 0,
          delay: Delay.uniform(0.2, 1.2),
        })
    this.log("faults stop")
    for (const r of this.replicas.values())
      if (r.core === null) this.at(r.downUntil - this.now, () => this.restart(r))
  }

  // ---------------------------------------------------------------- clients

  private clientLoop(c: number, seq: number): void {
    const mustFinish = this.now >= this.faultMs + LIVENESS_GRACE_MS
    if (this.now > this.faultMs + this.settleMs - CLIENT_TIMEOUT_MS * 1.5) return
    const kind = this.rnd.float()
    const key = `k${this.rnd.int(3)}`
    const op: RegOp["kind"] = kind < 0.45 ? "w" : kind < 0.8 ? "r" : "cas"
    const value = `${c}.${seq}`
    const hist = this.history.get(key) ?? []
    this.history.set(key, hist)
    const expected =
      op === "cas"
        ? this.rnd.chance(0.5)
          ? null
          : `${this.rnd.int(3)}.${this.rnd.int(Math.max(1, seq))}`
        : undefined
    const rec: {
      kind: RegOp["kind"]
      value: string | null
      expected?: string | null
      out: string | null | boolean
      call: number
      ret: number
    } = {
      kind: op,
      value: op === "r" ? null : value,
      out: null,
      call: this.now,
      ret: Number.POSITIVE_INFINITY,
    }
    if (expected !== undefined) rec.expected = expected
    this.stats.ops!++
    let finished = false
    const finish = (out: string | null | boolean) => {
      if (finished) return
      finished = true
      rec.out = out
      rec.ret = this.now
      hist.push(rec)
      this.stats.acked!++
      if (op !== "r") this.ackedOps.push(`${c}:${seq}`)
      this.at(this.rnd.range(1, 30), () => this.clientLoop(c, seq + 1))
    }
    const abandon = () => {
      if (finished) return
      finished = true
      if (op !== "r") hist.push(rec) // indefinite: may or may not take effect
      this.at(this.rnd.range(1, 30), () => this.clientLoop(c, seq + 1))
    }
    let attempts = 0
    const attempt = () => {
      if (finished) return
      attempts++
      const leader = [...this.replicas.values()].filter(
        (r) => r.core?.state === "leader" && r.role === "storage",
      )
      const storage = [...this.replicas.values()].filter((r) => r.role === "storage" && r.core !== null)
      const target =
        this.rnd.chance(0.8) && leader.length > 0
          ? this.rnd.pick(leader)
          : storage.length > 0
            ? this.rnd.pick(storage)
            : undefined
      const retry = () => this.at(this.rnd.range(5, 40), attempt)
      if (target === undefined || target.core === null) return retry()
      const core = target.core
      const inc = target.incarnation
      if (op === "r") {
        const id = (c << 20) | (seq & 0xfffff)
        const st = core.requestRead(id)
        if (st !== "ok") return retry()
        target.pendingReads.set(id, () => {
          if (target.incarnation !== inc) return
          finish(target.sm.get(key) ?? null)
        })
        this.kick(target)
        return
      }
      const cmd: Cmd = { c, s: seq, op, k: key, v: value }
      if (op === "cas") cmd.e = expected ?? null
      const res = core.propose(enc.encode(JSON.stringify(cmd)))
      if (!res.ok) return retry()
      target.pendingProposals.set(`${c}:${seq}`, (out) => finish(op === "cas" ? out : null))
      this.kick(target)
      // From here the outcome is unknown until answered: time out without retrying.
      this.at(CLIENT_TIMEOUT_MS, () => {
        if (!finished && mustFinish)
          this.fail(
            `liveness: client ${c} op ${seq} not committed ${CLIENT_TIMEOUT_MS}ms after proposal (faults stopped)`,
          )
        abandon()
      })
    }
    attempt()
    this.at(CLIENT_TIMEOUT_MS, () => {
      if (!finished && mustFinish)
        this.fail(
          `liveness: client ${c} op ${seq} (${op}) not served within ${CLIENT_TIMEOUT_MS}ms (faults stopped, ${attempts} attempts)`,
        )
      abandon()
    })
  }

  // ---------------------------------------------------------------- final checks

  private finalChecks(): void {
    // Linearizability per key, with the sim kit's Porcupine-style checker (CAS register model).
    for (const [key, ops] of this.history) {
      const r = checkOperations(
        casRegisterModel,
        ops.map((o) => toOperation(key, o)),
      )
      if (r.verdict === "not-linearizable")
        this.fail(
          `linearizability violated on ${key} (${ops.length} ops): ${(r.longestPrefix ?? []).slice(-3).join(" ")}`,
        )
    }
    // No lost acknowledged writes.
    for (const op of this.ackedOps)
      if (!this.chosenOps.has(op)) this.fail(`acknowledged op ${op} never committed`)
    // At most one valid lease at a time (spans of different ballots must not overlap).
    const spans = [...this.leaseSpans.entries()].sort((a, b) => a[1][0] - b[1][0])
    for (let i = 1; i < spans.length; i++) {
      const [b0, s0] = spans[i - 1]!
      const [b1, s1] = spans[i]!
      if (s1[0] <= s0[1])
        this.fail(
          `leases of ${showBallot(b0)} [${s0[0].toFixed(1)}, ${s0[1].toFixed(1)}] and ${showBallot(b1)} [${s1[0].toFixed(1)}, ${s1[1].toFixed(1)}] overlap`,
        )
    }
    // Liveness: a leader exists and everything proposed is committed on every live storage replica.
    const live = [...this.replicas.values()].filter((r) => r.core !== null)
    const leader = live
      .filter((r) => r.core!.state === "leader")
      .sort((a, b) => b.core!.ballot - a.core!.ballot)[0]
    if (leader === undefined) this.fail("liveness: no leader at the end")
    else {
      const lc = leader.core!
      if (lc.commitIndex < lc.lastIndex())
        this.fail(`liveness: leader commit ${lc.commitIndex} < last ${lc.lastIndex()}`)
      const inCfg = new Set(lc.latestConfig().members.map((m) => m.id))
      for (const r of live) {
        if (!inCfg.has(r.id) || r.role !== "storage") continue
        if (r.applied < lc.commitIndex - 0) {
          // allow one heartbeat of lag
          if (lc.commitIndex - r.applied > 200)
            this.fail(`liveness: r${r.id} applied ${r.applied} << ${lc.commitIndex}`)
        }
      }
    }
    if (this.stats.acked! < 3) this.fail(`too little progress: ${this.stats.acked} acked ops`)
  }
}

/** One client operation as recorded by the driver. */
export interface RegOp {
  readonly kind: "w" | "r" | "cas"
  readonly value: string | null
  readonly expected?: string | null
  readonly out: string | null | boolean
  readonly call: number
  readonly ret: number
}

export const toOperation = (key: string, o: RegOp): Operation => {
  const done = o.ret !== Number.POSITIVE_INFINITY
  const f = o.kind === "w" ? "write" : o.kind === "r" ? "read" : "cas"
  const value = o.kind === "cas" ? [o.expected ?? null, o.value] : o.value
  const status = !done ? "info" : o.kind === "cas" && o.out === false ? "fail" : "ok"
  return {
    client: 0,
    input: { f, key, value },
    output: { status, value: o.kind === "r" ? o.out : null },
    call: o.call,
    return: o.ret,
  }
}

const flatten = (xs: Uint8Array[]): Uint8Array => {
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

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b
  if (b.length === 0) return a
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
