/**
 * Plain data shared by the Paxos core, the WAL and the shells: ballots, log entries,
 * membership and the protocol messages. No behaviour beyond tiny helpers.
 */

/** Replica ids are small integers (0..255) so that a ballot packs into one number. */
export type ReplicaId = number

/** Bits reserved for the replica id inside a packed ballot. */
export const BALLOT_ID_BITS = 256

/** A ballot is (round, replica id) packed as round * 256 + id: total order, ties broken by id. */
export type Ballot = number

/** Packs a ballot. */
export const makeBallot = (round: number, id: ReplicaId): Ballot => round * BALLOT_ID_BITS + id
/** The round of a ballot. */
export const ballotRound = (b: Ballot): number => Math.floor(b / BALLOT_ID_BITS)
/** The replica that owns (leads) a ballot. */
export const ballotOwner = (b: Ballot): ReplicaId => b % BALLOT_ID_BITS
/** Human-readable `round.id`. */
export const showBallot = (b: Ballot): string => `${ballotRound(b)}.${ballotOwner(b)}`

/** Entry kinds: client command, no-op (fills holes, opens a ballot), membership change. */
export const ENTRY_COMMAND = 0
export const ENTRY_NOOP = 1
export const ENTRY_CONFIG = 2
export type EntryKind = 0 | 1 | 2

/** One log slot as accepted by an acceptor: the slot, the ballot it was accepted in, the value. */
export interface Entry {
  readonly slot: number
  readonly ballot: Ballot
  readonly kind: EntryKind
  readonly data: Uint8Array
}

/** Storage replicas hold the log and the state machine; log replicas hold only the recent log. */
export type MemberRole = "storage" | "log"

/** One member of a replication group. */
export interface Member {
  readonly id: ReplicaId
  readonly role: MemberRole
  readonly zone: string
  /**
   * A learner: it receives the log (accepts, learns, snapshots) like any member, but does not
   * vote. Its acceptances count toward no quorum (commit, lease, liveness), its promises and
   * pre-votes toward no election, and it never campaigns or takes a handover. A replica being
   * rebuilt joins as a learner and is promoted (one membership change) once it has caught up,
   * so the group's quorum never waits on a member that cannot answer yet. Absent means a voter.
   */
  readonly learner?: boolean
}

/** True when `m` votes (every member but a learner). */
export const isVoter = (m: Member): boolean => m.learner !== true

/** Members of `ms` that vote. */
export const voterCount = (ms: ReadonlyArray<Member>): number => {
  let n = 0
  for (const m of ms) if (m.learner !== true) n++
  return n
}

/** A group configuration: voters (storage and log replicas alike) and learners. */
export interface Membership {
  readonly members: ReadonlyArray<Member>
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/** Encodes a membership as the data of a config entry. */
export const encodeMembership = (m: Membership): Uint8Array => textEncoder.encode(JSON.stringify(m.members))
/** Decodes the data of a config entry. */
export const decodeMembership = (data: Uint8Array): Membership => ({
  members: JSON.parse(textDecoder.decode(data)) as Member[],
})

/** Persistent acceptor state besides the log (the etcd "HardState"). */
export interface HardState {
  readonly promised: Ballot
  readonly commit: number
}

/** A snapshot: everything up to `index` folded into `data` (null for log replicas: marker only). */
export interface Snapshot {
  readonly index: number
  readonly config: Membership
  readonly data: Uint8Array | null
}

/** Pre-vote: "I have not heard from the leader; can you still reach it?" */
export interface PreVoteMsg {
  readonly type: "prevote"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly commit: number
}
export interface PreVoteReplyMsg {
  readonly type: "prevote-reply"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly granted: boolean
  readonly leaderAlive: boolean
  /** The requester's commit is below our truncated log: it should catch up from us first. */
  readonly behind: boolean
}
/** Phase 1a. `handoverOf` is the ballot whose leader handed over voluntarily (its lease is void). */
export interface PrepareMsg {
  readonly type: "prepare"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly fromSlot: number
  readonly handoverOf: Ballot
}
/** Phase 1b. `leaseRemainingMs` is measured on the acceptor's clock. */
export interface PromiseMsg {
  readonly type: "promise"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly ok: boolean
  readonly promised: Ballot
  readonly entries: ReadonlyArray<Entry>
  readonly commit: number
  readonly snapshotIndex: number
  readonly leaseRemainingMs: number
}
/** Phase 2a (also the heartbeat when `entries` is empty). `sentAt` is the leader's clock. */
export interface AcceptMsg {
  readonly type: "accept"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly start: number
  readonly entries: ReadonlyArray<Entry>
  readonly commit: number
  readonly sentAt: number
}
/** Phase 2b. `matched`: every slot up to it is committed or accepted in `ballot`. */
export interface AcceptedMsg {
  readonly type: "accepted"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly ok: boolean
  readonly gap: boolean
  readonly promised: Ballot
  readonly matched: number
  readonly sentAt: number
}
/** Snapshot hand-off to a replica whose next slot was truncated away on the leader. */
export interface SnapshotMsg {
  readonly type: "snapshot"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly snapshot: Snapshot
  readonly sentAt: number
}
/** Voluntary leadership transfer: the receiver starts phase 1 at once. */
export interface HandoverMsg {
  readonly type: "handover"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
}
/** A replica that found itself behind a peer's truncated log asks that peer for a snapshot. */
export interface CatchupMsg {
  readonly type: "catchup"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly commit: number
}

/** Committed entries sent to a lagging replica outside phase 2 (chosen values, any sender). */
export interface LearnMsg {
  readonly type: "learn"
  readonly from: ReplicaId
  readonly to: ReplicaId
  readonly ballot: Ballot
  readonly entries: ReadonlyArray<Entry>
  readonly commit: number
}

/** Every protocol message. */
export type Message =
  | PreVoteMsg
  | PreVoteReplyMsg
  | PrepareMsg
  | PromiseMsg
  | AcceptMsg
  | AcceptedMsg
  | SnapshotMsg
  | HandoverMsg
  | CatchupMsg
  | LearnMsg

/** A strongly consistent read that may be answered once the state machine has applied `index`. */
export interface ReadAnswer {
  readonly id: number
  readonly index: number
}

/** What the application must do after a batch of inputs (etcd's `Ready`). */
export interface Ready {
  /** Send these only after `entries`, `hardState` and `snapshot` are durable. */
  readonly messages: ReadonlyArray<Message>
  /** Append to the WAL (later frames for a slot supersede earlier ones). */
  readonly entries: ReadonlyArray<Entry>
  /** Persist if not null. */
  readonly hardState: HardState | null
  /** Install this snapshot (storage replicas restore `data`), then persist a marker. */
  readonly snapshot: Snapshot | null
  /** Apply to the state machine, in order (empty on log replicas). */
  readonly committed: ReadonlyArray<Entry>
  /** Answer these strong reads once applied through `index`. */
  readonly reads: ReadonlyArray<ReadAnswer>
}
