/**
 * The MemDS fleet, as pure state machines.
 *
 * Every MemDS node is a full replica of the routing metadata. One node is the sequencer: the
 * authoritative sources (storage nodes for partition membership, the metadata service for
 * tables and partition maps) send it their changes, it gives each batch the next version,
 * applies it, and pushes `{version, ops, root}` to every node. A node applies versions strictly
 * in order and checks its Merkle root against the one the update carries. A node that sees a gap
 * (a later version, or a peer's higher head) catches up from a peer: from the peer's update log
 * when it still holds the missing versions, else from a compressed snapshot whose Merkle root is
 * verified before it replaces the store. Any node answers lookups, naming the version it has;
 * a node older than the version the router has already seen answers `behind` instead.
 *
 * `step(now, from, msg)` and `tick(now)` return the messages to send; no I/O, clock or
 * randomness inside (peers are chosen round-robin).
 */
import { Either } from "effect"
import { deflateSync, inflateSync } from "fflate"
import { ByteReader, ByteWriter } from "./bytes.ts"
import { type BoundaryLike, routingKeyOfBoundary, toHex } from "./keys.ts"
import {
  entryHash,
  PerkleStore,
  type Region,
  type RegionSummary,
  type RouteRange,
  type RoutingEntry,
} from "./store.ts"

/** One change to the routing metadata. */
export type UpdateOp =
  | { readonly kind: "put"; readonly key: Uint8Array; readonly entry: RoutingEntry }
  | { readonly kind: "delete"; readonly key: Uint8Array }

/** A versioned batch of changes and the Merkle root of the store after applying it. */
export interface Update {
  readonly version: number
  readonly ops: ReadonlyArray<UpdateOp>
  readonly root: string
}

/** Messages exchanged by MemDS nodes, sources and routers. */
export type FleetMsg =
  /** source → sequencer: changes to publish (membership puts only win with an epoch >= stored). */
  | { readonly type: "source"; readonly ops: ReadonlyArray<UpdateOp> }
  /** sequencer → node: the next version. */
  | { readonly type: "update"; readonly update: Update }
  /**
   * node → peer: please send versions from `from` on (0: my store is not at any version, send a
   * full catch-up). `have` is the requester's entry count: a non-empty store is repaired by
   * Merkle anti-entropy instead of a whole snapshot.
   */
  | { readonly type: "catchup-req"; readonly from: number; readonly have: number }
  /** node → peer: summaries of these regions of your store, please (Merkle anti-entropy). */
  | { readonly type: "sync-req"; readonly regions: ReadonlyArray<Region> }
  /** peer → node: region summaries, at the peer's version and root. */
  | {
      readonly type: "sync-resp"
      readonly version: number
      readonly root: string
      readonly items: ReadonlyArray<RegionSummary>
    }
  /** peer → node: a run of updates, encoded and deflated. */
  | { readonly type: "catchup-log"; readonly bytes: Uint8Array }
  /** peer → node: the whole store at `version`, deflated, with its Merkle root. */
  | { readonly type: "snapshot"; readonly version: number; readonly root: string; readonly bytes: Uint8Array }
  /** gossip: the sender's current version. */
  | { readonly type: "head"; readonly version: number }
  /** router → node: route `key` (a node older than `minVersion` answers `behind`). */
  | { readonly type: "lookup"; readonly id: number; readonly key: Uint8Array; readonly minVersion: number }
  /** node → router: the answer, at the node's version. */
  | {
      readonly type: "lookup-reply"
      readonly id: number
      readonly version: number
      readonly range: RouteRange | null
    }
  /** node → router: this node has not reached the version the router asked for. */
  | { readonly type: "behind"; readonly id: number; readonly version: number }

/** A message to send. */
export interface Outbound {
  readonly to: string
  readonly msg: FleetMsg
}

/** Bounds of one MemDS node. */
export interface MemDSNodeConfig {
  /** This node's id. */
  readonly id: string
  /** The other MemDS nodes (catch-up and gossip partners). */
  readonly peers: ReadonlyArray<string>
  /** True on the node that sequences source updates. */
  readonly sequencer?: boolean
  /** Updates kept for peers' catch-up. */
  readonly logEntriesMax?: number
  /** Out-of-order updates held while a gap is filled. */
  readonly pendingEntriesMax?: number
  /** Updates per catch-up reply. */
  readonly catchUpBatchMax?: number
  /** A catch-up request unanswered for this long is sent to the next peer. */
  readonly catchUpTimeoutMs?: number
  /** Regions asked for per Merkle anti-entropy round. */
  readonly syncRegionsMax?: number
  /** A region with at most this many entries is sent whole instead of split further. */
  readonly syncEntriesMax?: number
}

/** Default: updates kept in a node's log for peers' catch-up. */
export const LOG_ENTRIES_MAX_DEFAULT = 1024
/** Default: out-of-order updates held while a gap is filled. */
export const PENDING_ENTRIES_MAX_DEFAULT = 1024
/** Default: updates per catch-up reply. */
export const CATCHUP_BATCH_MAX_DEFAULT = 256
/** Default: how long a catch-up request or repair round may go unanswered. */
export const CATCHUP_TIMEOUT_MS_DEFAULT = 200
/** Default: regions compared per Merkle anti-entropy round trip. */
export const SYNC_REGIONS_MAX_DEFAULT = 256
/** Default: a differing region this small is sent whole. */
export const SYNC_ENTRIES_MAX_DEFAULT = 16
const ROOT_REGION: Region = { rep: new Uint8Array(0), pos: 0 }

/** Counters a node keeps about itself. */
export interface MemDSNodeStats {
  lookups: number
  behindReplies: number
  updatesApplied: number
  catchUpRequests: number
  logCatchUps: number
  snapshotCatchUps: number
  snapshotsRejected: number
  rootMismatches: number
  /** Catch-ups completed by Merkle anti-entropy, and the entries they rewrote. */
  syncCatchUps: number
  syncEntriesChanged: number
  syncRounds: number
}

/** One MemDS replica (or the sequencer): a pure state machine over `FleetMsg`s. */
export class MemDSNode {
  readonly id: string
  private readonly peers: ReadonlyArray<string>
  private readonly sequencer: boolean
  private readonly logMax: number
  private readonly pendingMax: number
  private readonly batchMax: number
  private readonly timeoutMs: number
  private readonly syncRegionsMax: number
  private readonly syncEntriesMax: number

  store = new PerkleStore()
  version = 0
  /** Updates (logStart .. version), oldest first. */
  private log: Update[] = []
  private readonly pending = new Map<number, Update>()
  /** Highest version heard of from anyone. */
  private knownHead = 0
  private catchUp: { readonly peer: string; readonly sentMs: number; readonly from: number } | null = null
  /**
   * False while the store is being repaired region by region: it then matches no version, so
   * the node answers lookups with `behind` and holds updates until the repair completes.
   */
  private consistent = true
  private sync: {
    readonly peer: string
    version: number
    root: string
    readonly queue: Region[]
    sentMs: number
  } | null = null
  private peerCursor = 0
  private gossipCursor = 0
  readonly stats: MemDSNodeStats = {
    lookups: 0,
    behindReplies: 0,
    updatesApplied: 0,
    catchUpRequests: 0,
    logCatchUps: 0,
    snapshotCatchUps: 0,
    snapshotsRejected: 0,
    rootMismatches: 0,
    syncCatchUps: 0,
    syncEntriesChanged: 0,
    syncRounds: 0,
  }

  constructor(config: MemDSNodeConfig) {
    this.id = config.id
    this.peers = config.peers.filter((p) => p !== config.id)
    this.sequencer = config.sequencer ?? false
    this.logMax = config.logEntriesMax ?? LOG_ENTRIES_MAX_DEFAULT
    this.pendingMax = config.pendingEntriesMax ?? PENDING_ENTRIES_MAX_DEFAULT
    this.batchMax = config.catchUpBatchMax ?? CATCHUP_BATCH_MAX_DEFAULT
    this.timeoutMs = config.catchUpTimeoutMs ?? CATCHUP_TIMEOUT_MS_DEFAULT
    this.syncRegionsMax = config.syncRegionsMax ?? SYNC_REGIONS_MAX_DEFAULT
    this.syncEntriesMax = config.syncEntriesMax ?? SYNC_ENTRIES_MAX_DEFAULT
    if (this.logMax < 1 || this.batchMax < 1 || this.pendingMax < 1)
      throw new RangeError("bounds must be >= 1")
  }

  /** Merkle root of this node's store. */
  get root(): string {
    return this.store.root
  }

  /** Lost all memory (a process restart): empty store at version 0, to be caught up. */
  restart(): void {
    this.store = new PerkleStore()
    this.version = 0
    this.log = []
    this.pending.clear()
    this.catchUp = null
    this.sync = null
    this.consistent = true
  }

  /** Handles one message. */
  step(now: number, from: string, msg: FleetMsg): Outbound[] {
    switch (msg.type) {
      case "lookup":
        return [{ to: from, msg: this.lookup(msg.id, msg.key, msg.minVersion) }]
      case "source":
        return this.sequencer ? this.publish(msg.ops) : []
      case "update":
        return this.onUpdate(now, msg.update)
      case "head":
        this.knownHead = Math.max(this.knownHead, msg.version)
        return this.knownHead > this.version ? this.requestCatchUp(now) : []
      case "catchup-req":
        return this.serveCatchUp(from, msg.from, msg.have)
      case "sync-req":
        // a store under repair matches no version: it must not be copied
        if (!this.consistent) return [{ to: from, msg: { type: "head", version: 0 } }]
        return [
          {
            to: from,
            msg: {
              type: "sync-resp",
              version: this.version,
              root: this.store.root,
              items: msg.regions
                .slice(0, this.syncRegionsMax)
                .map((r) => this.store.regionSummary(r.rep, r.pos, this.syncEntriesMax)),
            },
          },
        ]
      case "sync-resp":
        return this.onSyncResp(now, from, msg)
      case "catchup-log":
        return this.onCatchUpLog(now, msg.bytes)
      case "snapshot":
        return this.onSnapshot(now, msg)
      case "lookup-reply":
      case "behind":
        return []
    }
  }

  /** Periodic work: retry a stalled catch-up, gossip the head to one peer. */
  tick(now: number): Outbound[] {
    const outs: Outbound[] = []
    if (this.catchUp !== null && now - this.catchUp.sentMs >= this.timeoutMs) this.catchUp = null
    // an unanswered repair round: give the session up (the store stays marked inconsistent,
    // and the next catch-up resumes the repair with whichever peer answers)
    if (this.sync !== null && now - this.sync.sentMs >= this.timeoutMs) this.sync = null
    if (this.knownHead > this.version || this.pending.size > 0 || !this.consistent)
      outs.push(...this.requestCatchUp(now))
    if (this.peers.length > 0) {
      const to = this.peers[this.gossipCursor++ % this.peers.length]!
      outs.push({ to, msg: { type: "head", version: this.version } })
    }
    return outs
  }

  /** Answers a lookup at this node's version (pure read; any node serves it). */
  lookup(id: number, key: Uint8Array, minVersion: number): FleetMsg {
    if (this.version < minVersion || !this.consistent) {
      this.stats.behindReplies++
      return { type: "behind", id, version: this.version }
    }
    this.stats.lookups++
    return { type: "lookup-reply", id, version: this.version, range: this.store.route(key) ?? null }
  }

  /** Sequencer: stamps the next version on a batch of source changes and pushes it to every node. */
  publish(ops: ReadonlyArray<UpdateOp>): Outbound[] {
    if (!this.sequencer) throw new Error(`${this.id} is not the sequencer`)
    const accepted = ops.filter((op) => {
      if (op.kind === "delete") return true
      const cur = this.store.get(op.key)
      return cur === undefined || op.entry.epoch >= cur.epoch
    })
    if (accepted.length === 0) return []
    for (const op of accepted) applyOp(this.store, op)
    const update: Update = { version: this.version + 1, ops: accepted, root: this.store.root }
    this.advance(update)
    this.knownHead = this.version
    return this.peers.map((to) => ({ to, msg: { type: "update", update } }))
  }

  private advance(u: Update): void {
    this.version = u.version
    this.log.push(u)
    if (this.log.length > this.logMax) this.log.splice(0, this.log.length - this.logMax)
    this.stats.updatesApplied++
  }

  /** Applies u if it is the next version and checks the root; false on a root mismatch. */
  private applyNext(u: Update): boolean {
    for (const op of u.ops) applyOp(this.store, op)
    if (this.store.root !== u.root) {
      // our copy diverged (a bug or corruption): start over from a verified snapshot
      this.stats.rootMismatches++
      this.restart()
      return false
    }
    this.advance(u)
    return true
  }

  private drainPending(): void {
    for (;;) {
      const next = this.pending.get(this.version + 1)
      if (next === undefined) break
      this.pending.delete(next.version)
      if (!this.applyNext(next)) return
    }
    for (const v of this.pending.keys()) if (v <= this.version) this.pending.delete(v)
  }

  private onUpdate(now: number, u: Update): Outbound[] {
    this.knownHead = Math.max(this.knownHead, u.version)
    if (u.version <= this.version) return []
    if (!this.consistent) {
      if (this.pending.size < this.pendingMax) this.pending.set(u.version, u)
      return []
    }
    if (u.version === this.version + 1) {
      if (this.applyNext(u)) this.drainPending()
      return this.knownHead > this.version ? this.requestCatchUp(now) : []
    }
    if (this.pending.size < this.pendingMax) this.pending.set(u.version, u)
    return this.requestCatchUp(now)
  }

  private requestCatchUp(now: number): Outbound[] {
    if (this.catchUp !== null || this.sync !== null || this.peers.length === 0) return []
    const peer = this.peers[this.peerCursor++ % this.peers.length]!
    const from = this.consistent ? this.version + 1 : 0
    this.catchUp = { peer, sentMs: now, from }
    this.stats.catchUpRequests++
    return [{ to: peer, msg: { type: "catchup-req", from, have: this.store.size } }]
  }

  private serveCatchUp(to: string, fromVersion: number, have: number): Outbound[] {
    if (!this.consistent || (fromVersion > 0 && this.version < fromVersion))
      return [{ to, msg: { type: "head", version: this.consistent ? this.version : 0 } }]
    const logStart = this.log.length > 0 ? this.log[0]!.version : this.version + 1
    if (fromVersion >= 1 && fromVersion >= logStart) {
      const i = fromVersion - logStart
      const run = this.log.slice(i, i + this.batchMax)
      return [{ to, msg: { type: "catchup-log", bytes: encodeUpdates(run) } }]
    }
    if (have > 0) {
      // the requester has most of the data: compare Merkle hashes, send only what differs
      const items = [this.store.regionSummary(ROOT_REGION.rep, ROOT_REGION.pos, this.syncEntriesMax)]
      return [{ to, msg: { type: "sync-resp", version: this.version, root: this.store.root, items } }]
    }
    return [
      {
        to,
        msg: {
          type: "snapshot",
          version: this.version,
          root: this.store.root,
          bytes: this.store.snapshot(this.version),
        },
      },
    ]
  }

  private onSyncResp(now: number, from: string, msg: Extract<FleetMsg, { type: "sync-resp" }>): Outbound[] {
    if (this.sync === null) {
      if (msg.version <= this.version && this.consistent) return []
      this.catchUp = null
      this.consistent = false
      this.sync = { peer: from, version: msg.version, root: msg.root, queue: [], sentMs: now }
    } else if (this.sync.peer !== from) return []
    const sync = this.sync
    if (msg.version !== sync.version) {
      // the peer moved on meanwhile: aim at its new version and re-check from the root
      sync.version = msg.version
      sync.root = msg.root
      sync.queue.length = 0
      sync.queue.push(ROOT_REGION)
    }
    this.stats.syncRounds++
    for (const item of msg.items) {
      const [a, b] = this.store.regionHash(item.rep, item.pos)
      if (a === item.hashA && b === item.hashB) continue
      if (item.entries !== undefined)
        this.stats.syncEntriesChanged += this.store.replaceRegion(item.rep, item.pos, item.entries)
      else if (item.children !== undefined) sync.queue.push(...item.children)
    }
    if (sync.queue.length === 0) {
      if (this.store.root !== sync.root) sync.queue.push(ROOT_REGION)
      else {
        this.version = sync.version
        this.knownHead = Math.max(this.knownHead, sync.version)
        this.log = []
        this.consistent = true
        this.sync = null
        this.stats.syncCatchUps++
        this.drainPending()
        return this.knownHead > this.version ? this.requestCatchUp(now) : []
      }
    }
    sync.sentMs = now
    const regions = sync.queue.splice(0, this.syncRegionsMax)
    return [{ to: from, msg: { type: "sync-req", regions } }]
  }

  private onCatchUpLog(now: number, bytes: Uint8Array): Outbound[] {
    this.catchUp = null
    if (!this.consistent) return []
    const decoded = decodeUpdates(bytes)
    if (Either.isLeft(decoded)) return this.requestCatchUp(now)
    for (const u of decoded.right) {
      this.knownHead = Math.max(this.knownHead, u.version)
      if (u.version !== this.version + 1) continue
      if (!this.applyNext(u)) break
      this.stats.logCatchUps++
    }
    this.drainPending()
    return this.knownHead > this.version ? this.requestCatchUp(now) : []
  }

  private onSnapshot(now: number, msg: Extract<FleetMsg, { type: "snapshot" }>): Outbound[] {
    this.catchUp = null
    this.knownHead = Math.max(this.knownHead, msg.version)
    if (msg.version <= this.version && this.consistent) return []
    const decoded = PerkleStore.fromSnapshot(msg.bytes)
    if (
      Either.isLeft(decoded) ||
      decoded.right.version !== msg.version ||
      decoded.right.store.root !== msg.root
    ) {
      this.stats.snapshotsRejected++
      return this.requestCatchUp(now)
    }
    this.store = decoded.right.store
    this.version = msg.version
    this.consistent = true
    this.sync = null
    // the log must stay contiguous: it restarts after the snapshot
    this.log = []
    this.stats.snapshotCatchUps++
    this.drainPending()
    return this.knownHead > this.version ? this.requestCatchUp(now) : []
  }
}

/** A partition as the partitioner describes it (only the fields routing needs). */
export interface PartitionLike {
  readonly id: string
  readonly epoch: number
  readonly start: BoundaryLike
}

/**
 * The ops that make `store`'s copy of table `tableId` equal to `partitions` (a partition map's
 * current list): a put per partition start (skipped when already equal) and a delete for every
 * stored boundary that is no longer a start. `placement` gives each partition's replicas and
 * leader. This is what the metadata service sends the sequencer after a split or a move.
 */
export const tableOps = (
  store: PerkleStore,
  tableId: string,
  partitions: ReadonlyArray<PartitionLike>,
  placement: (partitionId: string) => Pick<RoutingEntry, "replicas" | "leaderHint">,
): UpdateOp[] => {
  const ops: UpdateOp[] = []
  const starts = new Set<string>()
  for (const p of partitions) {
    const key = routingKeyOfBoundary(tableId, p.start)
    starts.add(toHex(key))
    const { replicas, leaderHint } = placement(p.id)
    const entry: RoutingEntry = { partitionId: p.id, epoch: p.epoch, replicas, leaderHint }
    const cur = store.get(key)
    if (cur !== undefined && sameEntry(cur, entry)) continue
    ops.push({ kind: "put", key, entry })
  }
  for (const b of store.table(tableId))
    if (!starts.has(toHex(b.key))) ops.push({ kind: "delete", key: b.key })
  return ops
}

const sameEntry = (a: RoutingEntry, b: RoutingEntry): boolean => {
  const [a0, a1] = entryHash(a)
  const [b0, b1] = entryHash(b)
  return a0 === b0 && a1 === b1
}

/** Applies one op to a store. */
export const applyOp = (store: PerkleStore, op: UpdateOp): void => {
  if (op.kind === "put") store.put(op.key, op.entry)
  else store.delete(op.key)
}

const MAGIC_UPDATES = 0x55504431 // "UPD1"

/** Encodes and deflates a run of updates (a replication delta). */
export const encodeUpdates = (updates: ReadonlyArray<Update>): Uint8Array => {
  const w = new ByteWriter(1024)
  w.varint(MAGIC_UPDATES)
  w.varint(updates.length)
  for (const u of updates) {
    w.varint(u.version)
    w.str(u.root)
    w.varint(u.ops.length)
    for (const op of u.ops) {
      w.u8(op.kind === "put" ? 1 : 0)
      w.varint(op.key.length)
      w.bytes(op.key)
      if (op.kind === "put") {
        const e = op.entry
        w.str(e.partitionId)
        w.varint(e.epoch)
        w.varint(e.replicas.length)
        for (const r of e.replicas) {
          w.str(r.nodeId)
          w.str(r.az)
        }
        if (e.leaderHint === null) w.u8(0)
        else {
          w.u8(1)
          w.str(e.leaderHint)
        }
      }
    }
  }
  return deflateSync(w.buf.subarray(0, w.len), { level: 6 })
}

/** Inverse of `encodeUpdates`; Left on malformed input. */
export const decodeUpdates = (bytes: Uint8Array): Either.Either<Update[], Error> => {
  try {
    const r = new ByteReader(inflateSync(bytes))
    if (r.varint() !== MAGIC_UPDATES) return Either.left(new Error("bad magic"))
    const n = r.varint()
    const out: Update[] = []
    for (let i = 0; i < n; i++) {
      const version = r.varint()
      const root = r.str()
      const m = r.varint()
      const ops: UpdateOp[] = []
      for (let j = 0; j < m; j++) {
        const kind = r.u8()
        const key = r.bytes(r.varint()).slice()
        if (kind === 0) {
          ops.push({ kind: "delete", key })
          continue
        }
        const partitionId = r.str()
        const epoch = r.varint()
        const rc = r.varint()
        const replicas = []
        for (let k = 0; k < rc; k++) replicas.push({ nodeId: r.str(), az: r.str() })
        const leaderHint = r.u8() === 0 ? null : r.str()
        ops.push({ kind: "put", key, entry: { partitionId, epoch, replicas, leaderHint } })
      }
      out.push({ version, ops, root })
    }
    return Either.right(out)
  } catch (e) {
    return Either.left(e instanceof Error ? e : new Error(String(e)))
  }
}
