/**
 * The pure Multi-Paxos core (etcd-raft shape): `step(msg)`, `tick(now)`, `propose(data)`,
 * `requestRead(id)` go in; `readyOutputs()` hands out messages, entries to persist, committed
 * entries and answerable reads; `advance()` reports that the last Ready is durable.
 *
 * No I/O, no clock (time is the `now` argument of `tick`, on this replica's own clock), no
 * randomness beyond a seeded jitter generator that is part of the state.
 *
 * Safety argument in one paragraph: every slot is its own Paxos instance. An acceptor keeps,
 * per slot, the value of the highest ballot it accepted and never forgets it (no truncation of
 * accepted values, only replacement by a higher ballot). A leader runs phase 1 once for all
 * slots above its commit index, takes for each slot the value of the highest ballot among a
 * quorum of promises (committed values rank highest), fills holes with no-ops and re-proposes the
 * whole suffix under its own ballot; after that it runs phase 2 only (stable leader). Followers
 * learn commits for slots they hold in the leader's ballot (`matched`).
 */
import type {
  AcceptMsg,
  AcceptedMsg,
  Ballot,
  CatchupMsg,
  Entry,
  HardState,
  HandoverMsg,
  LearnMsg,
  Member,
  MemberRole,
  Membership,
  Message,
  PrepareMsg,
  PreVoteMsg,
  PreVoteReplyMsg,
  PromiseMsg,
  ReadAnswer,
  Ready,
  ReplicaId,
  Snapshot,
  SnapshotMsg,
} from "./types.ts"
import {
  ballotOwner,
  ballotRound,
  decodeMembership,
  ENTRY_COMMAND,
  ENTRY_CONFIG,
  ENTRY_NOOP,
  encodeMembership,
  isVoter,
  makeBallot,
  voterCount,
} from "./types.ts"

/** Test-only protocol mutations; each must be caught by the simulation. */
export interface CoreCanaries {
  /** Serve strong reads whenever we think we lead, ignoring the lease. */
  readonly readsWithoutLease?: boolean
  /** Count a log replica's vote twice in every quorum. */
  readonly doubleCountLogReplica?: boolean
  /** The leader counts its own acceptance before the entry is durable. */
  readonly ackBeforePersist?: boolean
}

/** Tunables of the core; all durations in ms of the replica's local clock. */
export interface CoreOptions {
  readonly id: ReplicaId
  readonly role: MemberRole
  /** The initial configuration (null for a replica that joins later and learns it from the log). */
  readonly initialConfig: Membership | null
  readonly electionTimeoutMs?: number
  readonly heartbeatMs?: number
  /** How long a follower's acknowledgement protects the leader's lease. */
  readonly leaseMs?: number
  /** Clock rate drift bound rho: every local clock runs at a rate within [1-rho, 1+rho]. */
  readonly driftBound?: number
  readonly maxEntriesPerMessage?: number
  readonly maxUncommittedEntries?: number
  readonly jitterSeed?: number
  readonly canaries?: CoreCanaries
  /**
   * Simulation-only BUGGIFY hook: `buggify(site)` true forces a rare but legal path at that site
   * (sites: paxos.accept.one-entry, paxos.heartbeat.skip, paxos.election.early,
   * paxos.accepted.drop). Absent in production.
   */
  readonly buggify?: (site: string) => boolean
}

/** State recovered from the WAL after a restart. */
export interface RecoveredState {
  readonly hardState: HardState
  readonly snapshot: Snapshot | null
  /** Accepted entries, one per slot, ascending and contiguous after the snapshot (holes allowed
   * only below `repairThrough`, as entries with ballot -1). */
  readonly entries: ReadonlyArray<Entry>
  /** If > 0, a corrupt record was found: no voting until the log is repaired through this slot. */
  readonly repairThrough: number
}

/** Defaults, with units. */
export const ELECTION_TIMEOUT_MS_DEFAULT = 1000
export const HEARTBEAT_MS_DEFAULT = 100
export const LEASE_MS_DEFAULT = 800
export const DRIFT_BOUND_DEFAULT = 0.01
export const MAX_ENTRIES_PER_MESSAGE_DEFAULT = 4096
export const MAX_UNCOMMITTED_ENTRIES_DEFAULT = 1 << 16

/** Roles of a replica. */
export type Role = "follower" | "precandidate" | "candidate" | "leader" | "stopped"

/** Result of `propose`. */
export type ProposeResult =
  | { readonly ok: true; readonly slot: number; readonly ballot: Ballot }
  | {
      readonly ok: false
      readonly reason: "not-leader" | "busy" | "handover" | "config-pending" | "bad-config"
    }

/** Result of `requestRead`. */
export type ReadStatus = "ok" | "not-leader" | "no-lease"

interface Progress {
  next: number
  match: number
  ackAt: number
  heardAt: number
  snapshotSentAt: number
}

const EMPTY = new Uint8Array(0)
const HOLE_BALLOT = -1
const GUARD_UNKNOWN = -2
/** Election timeouts a candidate that learned it was removed waits before campaigning again. */
const REMOVED_STAND_DOWN_ELECTIONS = 10

const quorumSize = (n: number): number => Math.floor(n / 2) + 1

/** The pure replica state machine. */
/** The empty list a Ready carries for nothing to do (frozen: it is shared). */
const NONE: ReadonlyArray<never> = Object.freeze([])

export class PaxosCore {
  readonly id: ReplicaId
  readonly role: MemberRole
  readonly electionTimeoutMs: number
  readonly heartbeatMs: number
  readonly leaseMs: number
  readonly driftBound: number
  readonly maxEntriesPerMessage: number
  readonly maxUncommittedEntries: number
  readonly canaries: CoreCanaries
  private readonly bug: (site: string) => boolean

  // ---- durable acceptor state ----
  promised: Ballot = 0
  commitIndex = 0
  private log: Entry[] = []
  private firstIndex = 1
  private snapshot: Snapshot | null = null
  private baseConfig: Membership
  private configSlots: number[] = []
  private configCache = new Map<number, Membership>()
  private repairThrough = 0

  // ---- volatile ----
  state: Role = "follower"
  now = 0
  leaderId: ReplicaId | null = null
  private matchedBallot: Ballot = 0
  private matchedThrough = 0
  private emittedThrough = 0
  private lastLeaderContact = Number.NEGATIVE_INFINITY
  private electionTimerStart = 0
  private electionJitterMs = 0
  private rng: number
  private maxSeenRound = 0
  private guardBallot: Ballot = 0
  private guardUntil = Number.NEGATIVE_INFINITY
  private phaseDeadline = 0
  private started = false
  private standDownUntil = 0

  // pre-vote / candidate
  private preVotes = new Set<ReplicaId>()
  private promises = new Map<ReplicaId, PromiseMsg>()
  private candidateBallot: Ballot = 0
  private candidateFromSlot = 0
  private candidateHandoverOf: Ballot = 0

  // leader
  ballot: Ballot = 0
  private progress = new Map<ReplicaId, Progress>()
  private selfMatch = 0
  private lastBroadcastAt = Number.NEGATIVE_INFINITY
  leaseWaitUntil = 0
  private leaderStartSlot = 0
  private leaseRevoked = false
  private handoverTarget: ReplicaId | null = null
  private handoverDeadline = 0

  // ---- outputs ----
  /** Scratch for `scratchQuorum` (one value and weight per member). */
  private readonly qVals: number[] = []
  private readonly qWts: number[] = []
  private outbox: Message[] = []
  private toPersist: Entry[] = []
  private hardDirty = false
  private snapshotToInstall: Snapshot | null = null
  private committedOut: Entry[] = []
  private readsOut: ReadAnswer[] = []
  private readyLastIndex = 0

  constructor(opts: CoreOptions, recovered?: RecoveredState) {
    this.id = opts.id
    this.role = opts.role
    this.electionTimeoutMs = opts.electionTimeoutMs ?? ELECTION_TIMEOUT_MS_DEFAULT
    this.heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS_DEFAULT
    this.leaseMs = opts.leaseMs ?? LEASE_MS_DEFAULT
    this.driftBound = opts.driftBound ?? DRIFT_BOUND_DEFAULT
    this.maxEntriesPerMessage = opts.maxEntriesPerMessage ?? MAX_ENTRIES_PER_MESSAGE_DEFAULT
    this.maxUncommittedEntries = opts.maxUncommittedEntries ?? MAX_UNCOMMITTED_ENTRIES_DEFAULT
    this.canaries = opts.canaries ?? {}
    this.bug = opts.buggify ?? (() => false)
    this.baseConfig = opts.initialConfig ?? { members: [] }
    this.rng = ((opts.jitterSeed ?? 1) * 2654435761 + opts.id * 40503 + 1) >>> 0 || 1
    if (this.driftBound < 0 || this.driftBound >= 1) throw new Error("driftBound must be in [0, 1)")
    if (recovered !== undefined) this.restore(recovered)
    this.electionJitterMs = this.nextJitter()
  }

  // =========================================================================================
  // Public inputs
  // =========================================================================================

  /** Advances this replica's clock and runs its timers. */
  tick(now: number): void {
    if (this.state === "stopped") return
    if (now > this.now) this.now = now
    if (!this.started) {
      // We may have granted a lease just before a crash: honour it for a full lease from now.
      this.started = true
      this.electionTimerStart = this.now
      this.guardBallot = GUARD_UNKNOWN
      this.guardUntil = this.now + this.leaseMs
    }
    switch (this.state) {
      case "leader":
        this.tickLeader()
        break
      case "candidate":
      case "precandidate":
        if (this.now >= this.phaseDeadline) this.becomeFollower()
        break
      case "follower": {
        // The cheap timer check first: `canCampaign` looks this replica up in its configuration,
        // and most ticks of a follower are far from its timeout. (The BUGGIFY draw happens in the
        // same cases as before, so seeded runs replay unchanged.)
        const waited = this.now - this.electionTimerStart
        const timeout = this.electionTimeoutMs + this.electionJitterMs
        if (
          waited >= Math.min(timeout, this.heartbeatMs) &&
          this.canCampaign() &&
          (waited >= timeout || (waited >= this.heartbeatMs && this.bug("paxos.election.early")))
        )
          this.startPreVote()
        break
      }
    }
  }

  /** Feeds one message from a peer. */
  step(m: Message): void {
    if (this.state === "stopped" || m.to !== this.id) return
    switch (m.type) {
      case "prevote":
        this.onPreVote(m)
        return
      case "prevote-reply":
        this.onPreVoteReply(m)
        return
      case "prepare":
        this.onPrepare(m)
        return
      case "promise":
        this.onPromise(m)
        return
      case "accept":
        this.onAccept(m)
        return
      case "accepted":
        this.onAccepted(m)
        return
      case "snapshot":
        this.onSnapshot(m)
        return
      case "handover":
        this.onHandover(m)
        return
      case "catchup":
        this.onCatchup(m)
        return
      case "learn":
        this.onLearn(m)
        return
    }
  }

  /**
   * Learns committed entries from outside the protocol (the WAL archive: `readSegment`), e.g. to
   * repair a corrupt log. Only contiguous entries right after our commit index are taken.
   */
  learnCommitted(entries: ReadonlyArray<Entry>): void {
    if (this.state === "leader" || this.state === "candidate" || this.state === "stopped") return
    const last = entries[entries.length - 1]
    if (last === undefined) return
    this.onLearn({ type: "learn", from: this.id, to: this.id, ballot: 0, entries, commit: last.slot })
  }

  /** Starts an election now (pre-vote first, as when the election timer fires). */
  campaign(): void {
    if (this.state === "follower" && this.canCampaign()) this.startPreVote()
  }

  /** Proposes a client command (leader only). */
  propose(data: Uint8Array): ProposeResult {
    return this.appendAsLeader(ENTRY_COMMAND, data)
  }

  /**
   * Proposes a membership change. Rule: one change at a time — the new configuration differs
   * from the current one by exactly one member added, removed or changed in role, and no other
   * config entry may be uncommitted. A config entry takes effect for the slots after it as soon
   * as it is in the log (so any quorum of the old and any quorum of the new configuration
   * intersect). The leader cannot remove itself (hand over first).
   */
  proposeConfig(next: Membership): ProposeResult {
    if (this.state !== "leader") return { ok: false, reason: "not-leader" }
    const last = this.configSlots[this.configSlots.length - 1]
    if (last !== undefined && last > this.commitIndex) return { ok: false, reason: "config-pending" }
    if (
      !isSingleChange(this.latestConfig(), next) ||
      !next.members.some((m) => m.id === this.id && m.role === "storage" && isVoter(m))
    )
      return { ok: false, reason: "bad-config" }
    return this.appendAsLeader(ENTRY_CONFIG, encodeMembership(next))
  }

  /** Asks to answer a strong read: ok only for an established leader holding a valid lease. */
  requestRead(id: number): ReadStatus {
    if (this.state !== "leader") return "not-leader"
    if (!this.canServeReads()) return "no-lease"
    this.readsOut.push({ id, index: this.commitIndex })
    return "ok"
  }

  /** Starts a voluntary handover to `target` (a caught-up storage replica). */
  transferLeadership(target: ReplicaId): boolean {
    if (this.state !== "leader" || target === this.id || !this.isEstablished()) return false
    const member = this.latestConfig().members.find((m) => m.id === target)
    if (member === undefined || member.role !== "storage" || !isVoter(member)) return false
    this.handoverTarget = target
    this.handoverDeadline = this.now + this.electionTimeoutMs
    this.leaseRevoked = true
    this.maybeHandover()
    return true
  }

  /**
   * After a checkpoint through `index` (≤ commit), drops the log up to it and keeps a snapshot.
   * `data` may be a function: it is called once, the first time the snapshot's `data` is read (a
   * follower to catch up, a restart), so a host whose state has an O(1) immutable view (a
   * copy-on-write B-tree) does not encode its whole state at every compaction.
   */
  compact(index: number, data: Uint8Array | null | (() => Uint8Array)): void {
    if (index > this.commitIndex || index < this.firstIndex) return
    const config = this.configAt(index + 1)
    this.snapshot = typeof data === "function" ? lazySnapshot(index, config, data) : { index, config, data }
    this.log = this.log.slice(index + 1 - this.firstIndex)
    this.firstIndex = index + 1
    this.baseConfig = config
    this.configSlots = this.configSlots.filter((s) => s > index)
    // The decoded configurations of compacted slots go too (one per membership change, forever).
    for (const s of this.configCache.keys()) if (s <= index) this.configCache.delete(s)
  }

  /**
   * This replica reuses the id of an earlier member whose state is gone (a rebuilt replica on a
   * node that hosted the group before): it must not vote — promise, grant pre-votes, campaign —
   * until its log holds the group's history through `slot` (a commit point after the earlier
   * member left). A member that missed that removal still counts the id in its configuration;
   * the empty newcomer's promise would complete a quorum that misses what the old one accepted.
   * Accepting from the leader, learning and snapshots go on as usual (that is how it catches up).
   */
  holdVotesThrough(slot: number): void {
    if (slot <= this.commitIndex || slot <= this.repairThrough) return
    this.repairThrough = slot
    this.checkRepaired()
  }

  /** An fsync failed: the replica stops for good (never retries). */
  stop(): void {
    this.state = "stopped"
    this.outbox = []
  }

  /** Collects everything the application must do now. */
  readyOutputs(): Ready {
    // A list handed out is replaced by a new one; an empty one is not handed out (the Ready gets
    // the shared, frozen NONE): a flush usually has no reads, and often no messages or entries,
    // and these arrays were a tenth of a write's allocations in the node.
    const r: Ready = {
      messages: this.outbox.length > 0 ? this.outbox : NONE,
      entries: this.toPersist.length > 0 ? this.toPersist : NONE,
      hardState: this.hardDirty ? { promised: this.promised, commit: this.commitIndex } : null,
      snapshot: this.snapshotToInstall,
      committed: this.committedOut.length > 0 ? this.committedOut : NONE,
      reads: this.readsOut.length > 0 ? this.readsOut : NONE,
    }
    this.readyLastIndex = this.toPersist.length > 0 ? this.lastIndex() : this.readyLastIndex
    if (this.outbox.length > 0) this.outbox = []
    if (this.toPersist.length > 0) this.toPersist = []
    this.hardDirty = false
    this.snapshotToInstall = null
    if (this.committedOut.length > 0) this.committedOut = []
    if (this.readsOut.length > 0) this.readsOut = []
    return r
  }

  /** True when `readyOutputs` would return something. */
  hasReady(): boolean {
    return (
      this.outbox.length > 0 ||
      this.toPersist.length > 0 ||
      this.hardDirty ||
      this.snapshotToInstall !== null ||
      this.committedOut.length > 0 ||
      this.readsOut.length > 0
    )
  }

  /** The last Ready is durable: the leader may now count its own acceptance. */
  advance(): void {
    if (this.state === "leader" && this.readyLastIndex > this.selfMatch) {
      this.selfMatch = Math.min(this.readyLastIndex, this.lastIndex())
      this.maybeCommit()
    }
  }

  // =========================================================================================
  // Queries
  // =========================================================================================

  lastIndex(): number {
    return this.firstIndex + this.log.length - 1
  }
  firstLogIndex(): number {
    return this.firstIndex
  }
  entry(slot: number): Entry | undefined {
    return this.log[slot - this.firstIndex]
  }
  isRepairing(): boolean {
    return this.repairThrough > 0
  }
  currentSnapshot(): Snapshot | null {
    return this.snapshot
  }
  /** The configuration in force after the last log slot. */
  latestConfig(): Membership {
    return this.configAt(this.lastIndex() + 1)
  }
  /** The configuration that governs `slot` (the latest config entry strictly before it). */
  configAt(slot: number): Membership {
    for (let i = this.configSlots.length - 1; i >= 0; i--) {
      const s = this.configSlots[i]!
      if (s < slot) return this.configCache.get(s)!
    }
    return this.baseConfig
  }
  /** Local time until which a leader's lease is valid (conservative under the drift bound). */
  leaseExpiry(): number {
    if (this.state !== "leader" || this.leaseRevoked) return Number.NEGATIVE_INFINITY
    const ms = this.latestConfig().members
    this.fillQuorum(ms, this.lastBroadcastAt, "ackAt", Number.NEGATIVE_INFINITY)
    const t = this.scratchQuorum(ms.length, quorumSize(voterCount(ms)))
    return t + (this.leaseMs * (1 - this.driftBound)) / (1 + this.driftBound)
  }
  /** An established leader after the lease wait, with a valid lease. */
  canServeReads(): boolean {
    if (this.state !== "leader" || !this.isEstablished()) return false
    if (this.canaries.readsWithoutLease) return true
    return this.now >= this.leaseWaitUntil && this.now < this.leaseExpiry()
  }
  /** Has committed its opening no-op (so its state machine holds every earlier commit). */
  /** Highest slot the leader counts as accepted by itself. */
  selfMatchIndex(): number {
    return this.selfMatch
  }
  isEstablished(): boolean {
    return this.state === "leader" && this.commitIndex >= this.leaderStartSlot
  }
  /** Ms since this replica last heard from a leader (for eventually consistent reads). */
  stalenessMs(): number {
    if (this.state === "leader") return 0
    return this.now - this.lastLeaderContact
  }

  // =========================================================================================
  // Follower / acceptor side
  // =========================================================================================

  private onPreVote(m: PreVoteMsg): void {
    const leaderAlive =
      (this.state === "leader" && !this.leaseRevoked) ||
      (this.leaderId !== null &&
        this.leaderId !== m.from &&
        this.now - this.lastLeaderContact < this.electionTimeoutMs)
    const behind = m.commit < this.firstIndex - 1
    // A replica removed from the group (as far as we know) must not disrupt it.
    // (A replica that does not know any configuration yet — a joiner — cannot judge, so it does not
    // deny; nor does one behind the requester's commit index: the configuration that added the
    // requester may be among the commits it missed, and its vote may be needed for a quorum.)
    const known = this.latestConfig().members
    const member =
      known.length === 0 ||
      m.commit > this.commitIndex ||
      known.some((x) => x.id === m.from && x.role === "storage" && isVoter(x))
    this.send({
      type: "prevote-reply",
      from: this.id,
      to: m.from,
      ballot: m.ballot,
      granted: !leaderAlive && !behind && member && !this.isRepairing(),
      leaderAlive,
      behind,
    } satisfies PreVoteReplyMsg)
  }

  private onPrepare(m: PrepareMsg): void {
    this.noteRound(m.ballot)
    if (this.isRepairing()) return // a replica with a corrupt log does not vote
    if (m.ballot < this.promised || (m.ballot === this.promised && ballotOwner(m.ballot) !== m.from)) {
      this.send(this.promiseReject(m))
      return
    }
    if (m.ballot > this.promised) {
      this.promised = m.ballot
      this.hardDirty = true
      if (this.state !== "follower" && m.from !== this.id) this.becomeFollower()
    }
    this.electionTimerStart = this.now
    const from = Math.max(m.fromSlot, this.firstIndex)
    const entries: Entry[] = []
    for (let s = from; s <= this.lastIndex(); s++) entries.push(this.entry(s)!)
    const guard = this.guardBallot === m.handoverOf ? 0 : Math.max(0, this.guardUntil - this.now)
    this.send({
      type: "promise",
      from: this.id,
      to: m.from,
      ballot: m.ballot,
      ok: true,
      promised: this.promised,
      entries,
      commit: this.commitIndex,
      snapshotIndex: this.firstIndex - 1,
      leaseRemainingMs: guard,
    } satisfies PromiseMsg)
  }

  private promiseReject(m: PrepareMsg): PromiseMsg {
    return {
      type: "promise",
      from: this.id,
      to: m.from,
      ballot: m.ballot,
      ok: false,
      promised: this.promised,
      entries: [],
      commit: this.commitIndex,
      snapshotIndex: this.firstIndex - 1,
      leaseRemainingMs: 0,
    }
  }

  private onAccept(m: AcceptMsg): void {
    this.noteRound(m.ballot)
    if (m.ballot < this.promised) {
      this.send(this.acceptedReply(m.from, m.ballot, false, false, m.sentAt))
      return
    }
    if (m.ballot > this.promised) {
      this.promised = m.ballot
      this.hardDirty = true
    }
    if (this.state !== "follower") this.becomeFollower()
    this.noteLeader(m.from, m.ballot)
    if (m.start > this.matchedThrough + 1) {
      this.send(this.acceptedReply(m.from, m.ballot, true, true, m.sentAt))
      return
    }
    const entries = m.entries
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!
      if (e.slot <= this.commitIndex || e.slot < this.firstIndex) continue
      this.acceptEntry(
        e.ballot === m.ballot ? e : { slot: e.slot, ballot: m.ballot, kind: e.kind, data: e.data },
      )
    }
    const end = m.start + entries.length - 1
    if (end > this.matchedThrough) this.matchedThrough = end
    this.checkRepaired()
    const commit = Math.min(m.commit, this.matchedThrough)
    if (commit > this.commitIndex) this.setCommit(commit)
    this.guardBallot = m.ballot
    this.guardUntil = this.now + this.leaseMs
    if (this.bug("paxos.accepted.drop")) return // as if lost on the wire
    this.send(this.acceptedReply(m.from, m.ballot, true, false, m.sentAt))
  }

  private acceptEntry(e: Entry): void {
    const idx = e.slot - this.firstIndex
    const old = this.log[idx]
    if (old !== undefined && old.ballot === e.ballot) return
    if (idx === this.log.length) this.log.push(e)
    else this.log[idx] = e
    if (old !== undefined && old.kind === ENTRY_CONFIG) this.dropConfigSlot(e.slot)
    if (e.kind === ENTRY_CONFIG) this.addConfigSlot(e)
    this.toPersist.push(e)
  }

  private acceptedReply(
    to: ReplicaId,
    ballot: Ballot,
    ok: boolean,
    gap: boolean,
    sentAt: number,
  ): AcceptedMsg {
    return {
      type: "accepted",
      from: this.id,
      to,
      ballot,
      ok,
      gap,
      promised: this.promised,
      matched: ok ? this.matchedThrough : 0,
      sentAt,
    }
  }

  private noteLeader(from: ReplicaId, ballot: Ballot): void {
    this.leaderId = from
    this.lastLeaderContact = this.now
    this.electionTimerStart = this.now
    if (this.matchedBallot !== ballot) {
      this.matchedBallot = ballot
      this.matchedThrough = this.commitIndex
    }
  }

  private onSnapshot(m: SnapshotMsg): void {
    this.noteRound(m.ballot)
    const fromLeader = m.ballot > 0 && m.ballot >= this.promised && ballotOwner(m.ballot) === m.from
    if (fromLeader) {
      if (m.ballot > this.promised) {
        this.promised = m.ballot
        this.hardDirty = true
      }
      if (this.state !== "follower") this.becomeFollower()
      this.noteLeader(m.from, m.ballot)
    }
    const snap = m.snapshot
    // Catch-up snapshots (not from our leader) only while following: never under a leader's log.
    const canInstall = fromLeader || this.state === "follower" || this.state === "precandidate"
    if (canInstall && snap.index > this.commitIndex) {
      // Committed state is safe to install whoever sends it.
      const keep = this.log.slice(Math.max(0, snap.index + 1 - this.firstIndex))
      this.log = keep
      this.firstIndex = snap.index + 1
      this.snapshot = this.role === "storage" ? snap : { index: snap.index, config: snap.config, data: null }
      this.baseConfig = snap.config
      this.configSlots = this.configSlots.filter((s) => s > snap.index)
      for (const s of this.configCache.keys()) if (s <= snap.index) this.configCache.delete(s)
      this.commitIndex = snap.index
      this.emittedThrough = snap.index
      this.hardDirty = true
      this.snapshotToInstall = this.snapshot
      if (this.matchedThrough < snap.index) this.matchedThrough = snap.index
      this.checkRepaired()
    }
    if (fromLeader) {
      this.guardBallot = m.ballot
      this.guardUntil = this.now + this.leaseMs
      this.send(this.acceptedReply(m.from, m.ballot, true, false, m.sentAt))
    }
  }

  private onCatchup(m: CatchupMsg): void {
    let from = m.commit + 1
    if (this.snapshot !== null && this.snapshot.index > m.commit) {
      if (this.role !== "storage" || this.snapshot.data === null) return
      this.send({
        type: "snapshot",
        from: this.id,
        to: m.from,
        ballot: 0,
        snapshot: this.snapshot,
        sentAt: this.now,
      })
      from = this.snapshot.index + 1
    }
    const end = Math.min(this.commitIndex, from + this.maxEntriesPerMessage - 1)
    if (end < from) return
    const entries = this.log.slice(from - this.firstIndex, end + 1 - this.firstIndex)
    this.send({
      type: "learn",
      from: this.id,
      to: m.from,
      ballot: 0,
      entries,
      commit: end,
    } satisfies LearnMsg)
  }

  private onLearn(m: LearnMsg): void {
    if (this.state === "leader" || this.state === "candidate") return
    for (const e of m.entries) {
      if (e.slot !== this.commitIndex + 1 || e.slot < this.firstIndex || e.slot > m.commit) continue
      this.acceptEntry(e)
      if (this.matchedThrough < e.slot) this.matchedThrough = e.slot
      this.setCommit(e.slot)
    }
    this.checkRepaired()
  }

  private onHandover(m: HandoverMsg): void {
    if (m.ballot < this.promised || !this.canCampaign()) return
    this.startElection(m.ballot)
  }

  private setCommit(c: number): void {
    const configChanged = this.configSlots.some((x) => x > this.commitIndex && x <= c)
    this.commitIndex = c
    this.hardDirty = true
    if (configChanged && this.state === "leader") {
      // Stop replicating to members that left with this commit.
      const voters = new Set(this.voters())
      for (const id of [...this.progress.keys()]) if (!voters.has(id)) this.progress.delete(id)
    }
    if (this.role === "storage") {
      for (let s = Math.max(this.emittedThrough + 1, this.firstIndex); s <= c; s++)
        this.committedOut.push(this.entry(s)!)
    }
    this.emittedThrough = c
  }

  private checkRepaired(): void {
    if (
      this.repairThrough > 0 &&
      (this.commitIndex >= this.repairThrough || this.matchedThrough >= this.repairThrough)
    )
      this.repairThrough = 0
  }

  // =========================================================================================
  // Elections
  // =========================================================================================

  private canCampaign(): boolean {
    if (this.role !== "storage" || this.isRepairing() || this.now < this.standDownUntil) return false
    for (const m of this.latestConfig().members)
      if (m.id === this.id) return m.role === "storage" && isVoter(m)
    return false
  }

  private startPreVote(): void {
    this.state = "precandidate"
    this.phaseDeadline = this.now + this.electionTimeoutMs
    this.preVotes = new Set([this.id])
    const proposed = makeBallot(this.nextRound(), this.id)
    for (const p of this.voters()) {
      if (p === this.id) continue
      this.send({
        type: "prevote",
        from: this.id,
        to: p,
        ballot: proposed,
        commit: this.commitIndex,
      } satisfies PreVoteMsg)
    }
    this.checkPreVotes()
  }

  private onPreVoteReply(m: PreVoteReplyMsg): void {
    if (this.state !== "precandidate") return
    if (m.leaderAlive) {
      // Gray-failure rule: someone still sees a healthy leader; stand down.
      this.becomeFollower()
      return
    }
    if (m.behind) {
      this.send({
        type: "catchup",
        from: this.id,
        to: m.from,
        ballot: 0,
        commit: this.commitIndex,
      } satisfies CatchupMsg)
      return
    }
    if (m.granted) this.preVotes.add(m.from)
    this.checkPreVotes()
  }

  private checkPreVotes(): void {
    const cfg = this.latestConfig()
    if (this.weightOf(cfg, this.preVotes) >= quorumSize(voterCount(cfg.members))) this.startElection(0)
  }

  private startElection(handoverOf: Ballot): void {
    const b = makeBallot(this.nextRound(), this.id)
    this.state = "candidate"
    this.candidateBallot = b
    this.candidateFromSlot = this.commitIndex + 1
    this.candidateHandoverOf = handoverOf
    this.phaseDeadline = this.now + this.electionTimeoutMs
    this.promises = new Map()
    this.maxSeenRound = ballotRound(b)
    this.promised = b
    this.hardDirty = true
    this.electionTimerStart = this.now
    for (const p of this.voters()) {
      if (p === this.id) continue
      this.send({
        type: "prepare",
        from: this.id,
        to: p,
        ballot: b,
        fromSlot: this.candidateFromSlot,
        handoverOf,
      } satisfies PrepareMsg)
    }
    // Our own promise.
    const entries: Entry[] = []
    for (let s = this.candidateFromSlot; s <= this.lastIndex(); s++) entries.push(this.entry(s)!)
    const guard = this.guardBallot === handoverOf ? 0 : Math.max(0, this.guardUntil - this.now)
    this.promises.set(this.id, {
      type: "promise",
      from: this.id,
      to: this.id,
      ballot: b,
      ok: true,
      promised: b,
      entries,
      commit: this.commitIndex,
      snapshotIndex: this.firstIndex - 1,
      leaseRemainingMs: guard,
    })
    this.checkPhase1()
  }

  private onPromise(m: PromiseMsg): void {
    this.noteRound(m.promised)
    if (this.state !== "candidate" || m.ballot !== this.candidateBallot) return
    if (!m.ok) {
      this.becomeFollower()
      return
    }
    if (m.snapshotIndex >= this.candidateFromSlot) {
      // That acceptor compacted slots we have not committed: catch up first.
      this.send({
        type: "catchup",
        from: this.id,
        to: m.from,
        ballot: this.promised,
        commit: this.commitIndex,
      })
      this.becomeFollower()
      return
    }
    this.promises.set(m.from, m)
    this.checkPhase1()
  }

  /** Phase 1 is complete when a quorum of every configuration in the chain has promised. */
  private checkPhase1(): void {
    const chain: Membership[] = [this.configAt(this.candidateFromSlot)]
    const configEntries: Entry[] = []
    for (const p of this.promises.values())
      for (const e of p.entries) if (e.kind === ENTRY_CONFIG) configEntries.push(e)
    configEntries.sort((a, b) => a.slot - b.slot)
    for (const e of configEntries) chain.push(decodeMembership(e.data))
    const ids = new Set(this.promises.keys())
    for (const cfg of chain) {
      const voting = voterCount(cfg.members)
      if (voting === 0 || this.weightOf(cfg, ids) < quorumSize(voting)) {
        // Ask members of newly discovered configurations too.
        for (const mem of cfg.members) {
          if (mem.id !== this.id && !ids.has(mem.id) && !this.voters().includes(mem.id)) {
            this.send({
              type: "prepare",
              from: this.id,
              to: mem.id,
              ballot: this.candidateBallot,
              fromSlot: this.candidateFromSlot,
              handoverOf: this.candidateHandoverOf,
            } satisfies PrepareMsg)
          }
        }
        return
      }
    }
    const last = chain[chain.length - 1]!
    if (!last.members.some((m) => m.id === this.id && m.role === "storage" && isVoter(m))) {
      // Removed from the group meanwhile (as far as the promises show): stop campaigning for a
      // while instead of bumping ballots that disrupt the remaining members' elections.
      this.standDownUntil = this.now + REMOVED_STAND_DOWN_ELECTIONS * this.electionTimeoutMs
      this.becomeFollower()
      return
    }
    this.becomeLeader()
  }

  private becomeLeader(): void {
    const b = this.candidateBallot
    const from = this.candidateFromSlot
    // Merge: per slot, the value of the highest ballot (committed values rank highest).
    const best = new Map<number, { rank: number; e: Entry }>()
    let maxSlot = from - 1
    let leaseWaitMs = 0
    for (const p of this.promises.values()) {
      leaseWaitMs = Math.max(leaseWaitMs, p.leaseRemainingMs)
      for (const e of p.entries) {
        if (e.slot < from || e.ballot === HOLE_BALLOT) continue
        const rank = e.slot <= p.commit ? Number.POSITIVE_INFINITY : e.ballot
        const cur = best.get(e.slot)
        if (cur === undefined || rank > cur.rank) best.set(e.slot, { rank, e })
        if (e.slot > maxSlot) maxSlot = e.slot
      }
    }
    this.state = "leader"
    this.ballot = b
    this.leaderId = this.id
    this.leaseRevoked = false
    this.handoverTarget = null
    // Remaining guard times are on the acceptors' clocks: stretch by the drift bound.
    this.leaseWaitUntil = this.now + (leaseWaitMs * (1 + this.driftBound)) / (1 - this.driftBound)
    this.log.length = Math.max(0, from - this.firstIndex)
    this.configSlots = this.configSlots.filter((s) => s < from)
    for (let s = from; s <= maxSlot; s++) {
      const got = best.get(s)
      const e: Entry =
        got === undefined
          ? { slot: s, ballot: b, kind: ENTRY_NOOP, data: EMPTY }
          : { slot: s, ballot: b, kind: got.e.kind, data: got.e.data }
      this.log.push(e)
      if (e.kind === ENTRY_CONFIG) this.addConfigSlot(e)
      this.toPersist.push(e)
    }
    const noop: Entry = { slot: maxSlot + 1, ballot: b, kind: ENTRY_NOOP, data: EMPTY }
    this.log.push(noop)
    this.toPersist.push(noop)
    this.leaderStartSlot = noop.slot
    this.selfMatch = from - 1
    this.matchedBallot = b
    this.matchedThrough = this.lastIndex()
    this.progress = new Map()
    for (const p of this.peers()) {
      const pr = this.promises.get(p)
      this.progress.set(p, {
        next: pr !== undefined ? pr.commit + 1 : this.lastIndex() + 1,
        match: pr !== undefined ? pr.commit : 0,
        ackAt: Number.NEGATIVE_INFINITY,
        heardAt: this.now,
        snapshotSentAt: Number.NEGATIVE_INFINITY,
      })
    }
    if (this.canaries.ackBeforePersist) this.selfMatch = this.lastIndex()
    this.broadcast()
  }

  private becomeFollower(): void {
    if (this.state === "leader") this.leaderId = null
    this.state = "follower"
    this.electionTimerStart = this.now
    this.electionJitterMs = this.nextJitter()
    this.progress = new Map()
    this.handoverTarget = null
  }

  // =========================================================================================
  // Leader side
  // =========================================================================================

  private appendAsLeader(kind: 0 | 1 | 2, data: Uint8Array): ProposeResult {
    if (this.state !== "leader") return { ok: false, reason: "not-leader" }
    if (this.handoverTarget !== null) return { ok: false, reason: "handover" }
    if (this.lastIndex() - this.commitIndex >= this.maxUncommittedEntries)
      return { ok: false, reason: "busy" }
    const e: Entry = { slot: this.lastIndex() + 1, ballot: this.ballot, kind, data }
    this.log.push(e)
    if (kind === ENTRY_CONFIG) {
      this.addConfigSlot(e)
      for (const p of this.peers()) {
        if (!this.progress.has(p))
          this.progress.set(p, {
            next: this.firstIndex,
            match: 0,
            ackAt: Number.NEGATIVE_INFINITY,
            heardAt: this.now,
            snapshotSentAt: Number.NEGATIVE_INFINITY,
          })
      }
    }
    this.toPersist.push(e)
    this.matchedThrough = e.slot
    if (this.canaries.ackBeforePersist) {
      this.selfMatch = e.slot
      this.maybeCommit()
    }
    return { ok: true, slot: e.slot, ballot: this.ballot }
  }

  /** Sends pending entries to every peer (call after a batch of proposals). */
  flush(): void {
    if (this.state !== "leader") return
    for (const [p, pr] of this.progress) if (pr.next <= this.lastIndex()) this.sendAccept(p, pr, false)
  }

  private tickLeader(): void {
    this.maybeCommit()
    if (this.now - this.lastBroadcastAt >= this.heartbeatMs && !this.bug("paxos.heartbeat.skip"))
      this.broadcast()
    // Step down when a quorum has not been heard from for two election timeouts. Reads are
    // protected by the lease, not by stepping down, so this only needs to be eventually true.
    const cfg = this.latestConfig()
    const ms = cfg.members
    this.fillQuorum(ms, this.now, "heardAt", Number.NEGATIVE_INFINITY)
    if (this.now - this.scratchQuorum(ms.length, quorumSize(voterCount(ms))) > 2 * this.electionTimeoutMs) {
      this.becomeFollower()
      return
    }
    if (this.handoverTarget !== null) {
      if (this.now > this.handoverDeadline) {
        this.handoverTarget = null
        this.leaseRevoked = false
      } else this.maybeHandover()
    }
  }

  private broadcast(): void {
    this.lastBroadcastAt = this.now
    this.guardBallot = this.ballot
    this.guardUntil = this.now + this.leaseMs
    for (const [p, pr] of this.progress) this.sendAccept(p, pr, true)
  }

  private sendAccept(p: ReplicaId, pr: Progress, heartbeat: boolean): void {
    if (pr.next < this.firstIndex) {
      if (this.now - pr.snapshotSentAt >= this.electionTimeoutMs && this.snapshot !== null) {
        pr.snapshotSentAt = this.now
        const isLog = this.memberRole(p) === "log"
        const snap = isLog
          ? { index: this.snapshot.index, config: this.snapshot.config, data: null }
          : this.snapshot
        this.send({
          type: "snapshot",
          from: this.id,
          to: p,
          ballot: this.ballot,
          snapshot: snap,
          sentAt: this.now,
        })
      }
      if (!heartbeat) return
      pr.next = this.firstIndex
    }
    const last = this.lastIndex()
    const perMessage = this.bug("paxos.accept.one-entry") ? 1 : this.maxEntriesPerMessage
    const end = Math.min(last, pr.next + perMessage - 1)
    const entries =
      pr.next <= end ? this.log.slice(pr.next - this.firstIndex, end + 1 - this.firstIndex) : NONE
    this.send({
      type: "accept",
      from: this.id,
      to: p,
      ballot: this.ballot,
      start: pr.next,
      entries,
      commit: this.commitIndex,
      sentAt: this.now,
    } satisfies AcceptMsg)
    pr.next = end + 1
  }

  private onAccepted(m: AcceptedMsg): void {
    this.noteRound(m.promised)
    if (this.state !== "leader" || m.ballot !== this.ballot) return
    if (!m.ok) {
      if (m.promised > this.ballot) this.becomeFollower()
      return
    }
    const pr = this.progress.get(m.from)
    if (pr === undefined) return
    pr.heardAt = this.now
    if (m.sentAt > pr.ackAt) pr.ackAt = m.sentAt
    if (m.matched > pr.match) pr.match = m.matched
    if (m.gap && m.matched + 1 < pr.next) {
      pr.next = m.matched + 1
      this.sendAccept(m.from, pr, false)
    }
    if (pr.next <= pr.match) pr.next = pr.match + 1
    this.maybeCommit()
    if (this.handoverTarget === m.from) this.maybeHandover()
  }

  private maybeHandover(): void {
    const t = this.handoverTarget
    if (t === null) return
    const pr = this.progress.get(t)
    if (pr === undefined || pr.match < this.lastIndex() || this.commitIndex < this.lastIndex()) return
    this.send({ type: "handover", from: this.id, to: t, ballot: this.ballot } satisfies HandoverMsg)
    this.becomeFollower()
  }

  /** Advances the commit index: each slot needs a quorum of the configuration governing it. */
  private maybeCommit(): void {
    if (this.state !== "leader" || this.now < this.leaseWaitUntil) return
    let c = this.commitIndex
    const last = this.lastIndex()
    while (c < last) {
      const cfg = this.configAt(c + 1)
      let segEnd = last
      for (const s of this.configSlots) {
        if (s >= c + 1) {
          segEnd = s
          break
        }
      }
      const ms = cfg.members
      this.fillQuorum(ms, this.selfMatch, "match", 0)
      const q = Math.min(this.scratchQuorum(ms.length, quorumSize(voterCount(ms))), segEnd)
      if (q <= c) break
      c = q
      if (q < segEnd) break
    }
    if (c > this.commitIndex) this.setCommit(c)
  }

  // =========================================================================================
  // Helpers
  // =========================================================================================

  private send(m: Message): void {
    this.outbox.push(m)
  }

  private restore(r: RecoveredState): void {
    this.promised = r.hardState.promised
    this.maxSeenRound = ballotRound(this.promised)
    if (r.snapshot !== null) {
      this.snapshot = r.snapshot
      this.firstIndex = r.snapshot.index + 1
      this.baseConfig = r.snapshot.config
    }
    this.log = []
    for (const e of r.entries) {
      if (e.slot < this.firstIndex) continue
      if (e.slot !== this.lastIndex() + 1) throw new Error(`recovered log not contiguous at ${e.slot}`)
      this.log.push(e)
      if (e.kind === ENTRY_CONFIG && e.ballot !== HOLE_BALLOT) this.addConfigSlot(e)
    }
    this.repairThrough = r.repairThrough
    let commit = Math.max(this.firstIndex - 1, Math.min(r.hardState.commit, this.lastIndex()))
    for (let s = this.firstIndex; s <= commit; s++) {
      if (this.entry(s)!.ballot === HOLE_BALLOT) {
        commit = s - 1
        break
      }
    }
    this.commitIndex = commit
    this.matchedThrough = commit
    // The application restores its state machine from the snapshot and these entries.
    this.emittedThrough = this.firstIndex - 1
    if (this.role === "storage") {
      for (let s = this.firstIndex; s <= commit; s++) this.committedOut.push(this.entry(s)!)
    }
    this.emittedThrough = commit
  }

  private noteRound(b: Ballot): void {
    const r = ballotRound(b)
    if (r > this.maxSeenRound) this.maxSeenRound = r
  }

  private nextRound(): number {
    return Math.max(this.maxSeenRound, ballotRound(this.promised)) + 1
  }

  private nextJitter(): number {
    // xorshift32 over seeded state: deterministic, different per replica and per election.
    let x = this.rng
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.rng = x >>> 0 || 1
    return this.rng % Math.max(1, this.electionTimeoutMs)
  }

  private addConfigSlot(e: Entry): void {
    this.configCache.set(e.slot, decodeMembership(e.data))
    if (!this.configSlots.includes(e.slot)) {
      this.configSlots.push(e.slot)
      this.configSlots.sort((a, b) => a - b)
    }
  }

  /**
   * Fills the scratch arrays with each member's weight and value: `self` for this replica, the
   * member's progress `field` for the others (`missing` when it has none).
   */
  private fillQuorum(
    ms: ReadonlyArray<Member>,
    self: number,
    field: "ackAt" | "heardAt" | "match",
    missing: number,
  ): void {
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i]!
      const pr = m.id === this.id ? undefined : this.progress.get(m.id)
      this.qVals[i] = m.id === this.id ? self : pr === undefined ? missing : pr[field]
      this.qWts[i] = this.weight(m)
    }
  }

  /**
   * The largest value v such that members with value ≥ v weigh at least `need`, over the first
   * `n` entries of the scratch arrays `qVals` / `qWts` (sorted in place, descending by value): the
   * commit, lease and liveness checks run on every
   * acknowledgement and strong read, and building a list of pairs for each cost four arrays and
   * a closure per call.
   */
  private scratchQuorum(n: number, need: number): number {
    const v = this.qVals
    const w = this.qWts
    for (let i = 1; i < n; i++) {
      const x = v[i]!
      const y = w[i]!
      let j = i - 1
      while (j >= 0 && v[j]! < x) {
        v[j + 1] = v[j]!
        w[j + 1] = w[j]!
        j--
      }
      v[j + 1] = x
      w[j + 1] = y
    }
    let acc = 0
    for (let i = 0; i < n; i++) {
      acc += w[i]!
      if (acc >= need) return v[i]!
    }
    return Number.NEGATIVE_INFINITY
  }

  private dropConfigSlot(slot: number): void {
    this.configSlots = this.configSlots.filter((s) => s !== slot)
    this.configCache.delete(slot)
  }

  /** Everyone that votes in the configurations from the commit point to the end of the log. */
  private voters(): ReplicaId[] {
    const out = new Set<ReplicaId>()
    for (const m of this.configAt(this.commitIndex + 1).members) out.add(m.id)
    for (const s of this.configSlots)
      if (s > this.commitIndex) for (const m of this.configCache.get(s)!.members) out.add(m.id)
    return [...out]
  }

  private peers(): ReplicaId[] {
    return this.voters().filter((p) => p !== this.id)
  }

  private memberRole(id: ReplicaId): MemberRole | undefined {
    return this.latestConfig().members.find((m) => m.id === id)?.role
  }

  private weight(m: Member): number {
    if (m.learner === true) return 0
    return this.canaries.doubleCountLogReplica && m.role === "log" ? 2 : 1
  }

  private weightOf(cfg: Membership, ids: Set<ReplicaId>): number {
    let w = 0
    for (const m of cfg.members) if (ids.has(m.id)) w += this.weight(m)
    return w
  }
}

/**
 * True when `next` differs from `cur` by exactly one member: added, removed, its role changed, or
 * promoted from learner to voter (or back).
 */
export const isSingleChange = (cur: Membership, next: Membership): boolean => {
  const kind = (m: Member): string => (m.learner === true ? `${m.role}/learner` : m.role)
  const a = new Map(cur.members.map((m) => [m.id, kind(m)]))
  const b = new Map(next.members.map((m) => [m.id, kind(m)]))
  let diff = 0
  for (const [id, role] of a) if (!b.has(id) || b.get(id) !== role) diff++
  for (const id of b.keys()) if (!a.has(id)) diff++
  return diff === 1
}

/**
 * A snapshot whose data is made on first read, then kept. `data` is an own enumerable getter, so
 * copies made by spreading, `structuredClone` or JSON read the bytes too.
 */
const lazySnapshot = (index: number, config: Membership, make: () => Uint8Array): Snapshot => {
  let bytes: Uint8Array | undefined
  let pending: (() => Uint8Array) | undefined = make
  return {
    index,
    config,
    get data(): Uint8Array {
      if (bytes === undefined) {
        bytes = pending!()
        pending = undefined
      }
      return bytes
    },
  }
}
