/**
 * @partita/paxos — Multi-Paxos replication groups with leader leases, log replicas and a
 * checksummed, archived write-ahead log.
 *
 * - `PaxosCore`: the pure protocol state machine (step / tick / propose / readyOutputs / advance).
 * - WAL: CRC-32C frames chained by hash (`FrameWriter`, `scanFrames`, `recoverState`), segments
 *   (`WalLog`) behind the `Storage` service (memory disk or real files via @effect/platform).
 * - Archive: sealed segments of committed entries to an `ObjectStore` with manifests, checks,
 *   comparison and reference rebuild (`archiveSegment`, `listSegments`, `readSegment`,
 *   `verifySegment`, `rebuildFromArchive`).
 * - `LocalGroup` (plain TS, in-process) and the `ReplicationGroup` Effect service.
 */

/** Ballots, entries, membership, messages and the Ready structure. */
export {
  type Ballot,
  type Entry,
  type EntryKind,
  type HardState,
  type Member,
  type MemberRole,
  type Membership,
  type Message,
  type ReadAnswer,
  type Ready,
  type ReplicaId,
  type Snapshot,
  ENTRY_COMMAND,
  ENTRY_CONFIG,
  ENTRY_NOOP,
  ballotOwner,
  ballotRound,
  decodeMembership,
  encodeMembership,
  isVoter,
  makeBallot,
  showBallot,
  voterCount,
} from "./internal/types.ts"

/** The pure Multi-Paxos core and its options. */
export {
  PaxosCore,
  type CoreCanaries,
  type CoreOptions,
  type ProposeResult,
  type ReadStatus,
  type RecoveredState,
  type Role,
  DRIFT_BOUND_DEFAULT,
  ELECTION_TIMEOUT_MS_DEFAULT,
  HEARTBEAT_MS_DEFAULT,
  LEASE_MS_DEFAULT,
  isSingleChange,
} from "./internal/core.ts"

/** CRC-32C (Castagnoli), table-driven. */
export { crc32c, crc32cUpdate } from "./internal/crc32c.ts"

/** WAL frame codec and recovery. */
export {
  FRAME_HEADER_BYTES,
  FrameWriter,
  type ScanResult,
  type WalRecord,
  recoverState,
  scanFrames,
} from "./internal/wal.ts"

/** The Storage service, its layers, WAL segments and recovery. */
export {
  FileStorageLayer,
  type LogIdentity,
  MemoryDisk,
  MemoryStorageLayer,
  type Recovery,
  type SegmentMeta,
  Storage,
  StorageError,
  type StorageService,
  WalLog,
  logIdOf,
  makeFileStorage,
  memoryStorage,
  recoverFromStorage,
} from "./internal/storage.ts"

/** WAL archive on an ObjectStore (public API used by the scrubber). */
export {
  ArchiveCheckError,
  type ArchiveOutcome,
  Archiver,
  DirectoryObjectStoreLayer,
  MemoryObjectStore,
  MemoryObjectStoreLayer,
  ObjectStore,
  ObjectStoreError,
  type ObjectStoreService,
  type SealedSegment,
  type SegmentManifest,
  archivePrefix,
  archiveSegment,
  decodeManifest,
  encodeArchiveSegment,
  listSegments,
  readSegment,
  rebuildFromArchive,
  segmentKey,
  verifySegment,
} from "./internal/archive.ts"

/** In-process group runtime (hot path) and the ReplicationGroup Effect service. */
export {
  InMemoryTransport,
  LocalGroup,
  type LocalGroupOptions,
  MemorySink,
  type TransportService,
  type WalSink,
} from "./internal/runtime.ts"
export {
  type Consistency,
  NotLeaderError,
  type ReadResult,
  ReplicationGroup,
  type ReplicationGroupOptions,
  type ReplicationGroupService,
  type ReplicationMetrics,
  makeReplicationGroup,
} from "./internal/group.ts"
