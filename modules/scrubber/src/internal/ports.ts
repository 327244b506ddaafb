/**
 * What the scrubber needs from the partitions it verifies. A storage node implements these
 * ports over its real replicas; `SimPartition` implements them for tests and benchmarks.
 */
import type { EncodedKey } from "@partita/core"
import type { BTreeOptions, BTreeView } from "@partita/btree"
import type { LogIdentity, SegmentManifest } from "@partita/paxos"
import type { StateMachine } from "./command.ts"

/** A repair of one key: its correct value at the repair position (undefined: absent). */
export interface KeyFix<V> {
  readonly key: EncodedKey
  readonly value: V | undefined
}

/** One replica of a partition, as seen by the scrubber. */
export interface ReplicaPort<V> {
  /** Replica id within the group. */
  readonly id: number
  /** Whether the replica is up (a down replica is skipped, not judged). */
  readonly live: boolean
  /** Highest log position applied to the tree. */
  readonly applied: number
  /**
   * Asks for an O(1) snapshot when the replica applies `position` (now if it is there). False
   * when the replica is already past it.
   */
  requestSnapshot(position: number): boolean
  /** The requested snapshot of the live state at `position`, once the replica got there. */
  requestedSnapshot(position: number): BTreeView<V> | undefined
  /** The snapshot kept at a segment boundary `position`, if still retained. */
  snapshotAt(position: number): BTreeView<V> | undefined
  /** Drops a requested snapshot. */
  releaseSnapshot(position: number): void
  /** Manifests of the sealed local WAL segments still on the replica, in position order. */
  localSegments(): ReadonlyArray<SegmentManifest>
  /** The bytes of a local sealed segment as stored (possibly damaged). */
  readLocalSegment(firstPosition: number): Uint8Array | undefined
  /** Overwrites a damaged local segment with a verified copy. */
  writeLocalSegment(manifest: SegmentManifest, bytes: Uint8Array): void
  /**
   * Sets each key to its value at `position`, then replays the replica's own log after `position`
   * for those keys (so writes applied since are kept); retained snapshots after `position` too.
   */
  repairKeys(position: number, fixes: ReadonlyArray<KeyFix<V>>): void
  /** Replaces the whole state with `source` (the state at `position`) and replays the log after it. */
  rebuild(position: number, source: BTreeView<V>): void
}

/** A partition: its log identity, its replicas and how entries change the state. */
export interface PartitionPort<V> {
  readonly identity: LogIdentity
  readonly replicas: ReadonlyArray<ReplicaPort<V>>
  readonly stateMachine: StateMachine<V>
  /** Options of reference trees (codec, node size); default scalar values. */
  readonly treeOptions?: BTreeOptions<V>
}

/** The partition name used in events: `table/partition`. */
export const partitionName = (id: LogIdentity): string => `${id.table}/${id.partition}`
