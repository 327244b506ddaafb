/**
 * @partita/node — the modules composed into a working replicated store: storage nodes hosting
 * Paxos-replicated B-tree replicas, request routers with the constant-work routing cache and GAC
 * admission, the metadata service (tables, partition maps, placement, live splits, healing with
 * log replicas), whole clusters on the deterministic simulation or on real time, and a typed
 * DynamoDB client (Promise and Effect).
 *
 * This file is the public face; the machinery lives in `src/internal/`.
 */

/** Clusters: one config, simulated (`simCluster`) or real-time in-process (`localCluster`). */
export {
  Cluster,
  type ClusterConfig,
  type ClusterMetrics,
  ARCHIVE_SEGMENT_ENTRIES,
  effectLogger,
  SimCluster,
  simCluster,
  TIMING_DEFAULT,
} from "./internal/cluster.ts"
export {
  buildRouters,
  buildServices,
  buildStorage,
  type ClusterServices,
  type ClusterStorage,
} from "./internal/cluster.ts"
export type { TableCatalog } from "./internal/router.ts"
export {
  DRAIN_MESSAGES_MAX,
  LocalCluster,
  localCluster,
  localClusterWithDataDir,
  RealTimeRuntime,
} from "./internal/realtime.ts"

/** The typed client: Promise functions, callback core, and the Effect service. */
export {
  CallbackClient,
  Client,
  DynamoDB,
  type DynamoDBService,
  LIST_TABLES_LIMIT_MAX,
  makeDynamoDB,
} from "./internal/client.ts"

/** DynamoDB's wire protocol over TCP: a server for a cluster, and the client of another process. */
export {
  answerWire,
  type DynamoDBServer,
  type DynamoDBServerCounters,
  type DynamoDBServerOptions,
  REQUEST_BYTES_MAX,
  ServerStartError,
  serveDynamoDB,
  serveDynamoDBScoped,
  type WireAnswer,
} from "./internal/server.ts"
export {
  makeRemoteDynamoDB,
  RemoteClient,
  type RemoteClientOptions,
  remoteDynamoDBLayer,
} from "./internal/remote.ts"
export { OPERATIONS, type Operation, TARGET_PREFIX } from "./internal/wire.ts"

/** DynamoDB's request and response shapes. */
export type {
  AttributeDefinition,
  BatchGetItemRequest,
  BatchGetItemResponse,
  BatchWriteItemRequest,
  BatchWriteItemResponse,
  CreateTableInput,
  DeleteItemRequest,
  GetItemRequest,
  GetItemResponse,
  KeySchemaElement,
  ListTablesRequest,
  ListTablesResponse,
  PageResponse,
  PutItemRequest,
  QueryRequest,
  ReturnConsumedCapacity,
  ScanRequest,
  TableDescription,
  UpdateItemRequest,
  UpdateTableRequest,
  WriteItemResponse,
  WriteRequest,
} from "./internal/model.ts"
export { BATCH_GET_KEYS_MAX, BATCH_WRITE_ITEMS_MAX } from "./internal/model.ts"

/** The components, for custom stores built from a subset. */
export {
  StorageNode,
  type StorageNodeCounters,
  type StorageNodeOptions,
  NODE_TICK_MS_DEFAULT,
} from "./internal/storageNode.ts"
export {
  Replica,
  type DurableLog,
  type PaxosTiming,
  type ReplicaCounters,
  type ReplicaHost,
  type ReplicaSpec,
  type ReplicaBase,
  type ReplicaTap,
  BURST_CREDIT_S,
  COMPACT_ENTRIES_DEFAULT,
  COMPACT_BYTES_MIN,
  COMPACT_ENTRIES_MIN,
  COMPACT_LOG_TO_TREE,
  IDLE_COMPACT_MS,
  LOG_REPLICA_KEEP_ENTRIES,
  DEDUPE_ENTRIES_MAX,
  DEDUPE_WINDOW_MS_DEFAULT,
  KEY_QUEUE_MAX,
  decodeSnapshot,
  encodeSnapshot,
} from "./internal/replica.ts"
export {
  RequestRouter,
  type Callback,
  type Result,
  type RouterOptions,
  ATTEMPT_TIMEOUT_MS_DEFAULT,
  ATTEMPTS_MAX,
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  QUERY_STALE_VISITS_MAX,
  QUERY_VISITS_MAX,
  REQUEST_DEADLINE_MS_DEFAULT,
} from "./internal/router.ts"
/** How a router reads a Query's key condition to walk an item collection split by sort key. */
export { type QueryKeyRange, queryKeyRange } from "./internal/queryPlan.ts"
export {
  MetadataService,
  type AutoSplitOptions,
  type ClusterEvent,
  type HealEvent,
  type MetadataOptions,
  type TableInfo,
  FAILURE_DETECT_MS_DEFAULT,
  HEAL_STORAGE_MEMBERS_MIN,
  ON_DEMAND_RAISE_PERMILLE,
  ON_DEMAND_TABLE_UNITS_MAX,
  PING_MS,
  REPLICAS_PER_PARTITION,
} from "./internal/metadata.ts"
/** Who is where (node ids ↔ Paxos replica ids, AZs) and MemDS routing keys and entries. */
export { Directory, boundaryKey, routingEntry } from "./internal/directory.ts"
/** MemDS fleet nodes and GAC servers as endpoints on the cluster transport. */
export { GacEndpoint, MemDSEndpoint } from "./internal/services.ts"
/** The runtime a cluster runs on (clock, timers, randomness, transport) and its simulated form. */
export {
  type MessageHandler,
  type Runtime,
  SimRuntime,
  type TimerHandle,
  type Transport,
} from "./internal/runtime.ts"
/** The messages on the cluster transport. */
export type { DataRequest, DataResponse, NodeMsg, RequestHeader } from "./internal/messages.ts"
/** Router metrics: per-table counters and latency histograms. */
export { Histogram, Metrics, type TableMetrics } from "./internal/metrics.ts"
/** Log entry codec (what replicas replicate) and the replica item store views. */
export {
  type Command,
  decodeCommand,
  decodeCommandShared,
  encodeWrite,
  encodeWriteShared,
  SHARED_COMMANDS_MAX,
  itemFromText,
  itemToText,
  type SplitFence,
  type StoredItem,
  storedItem,
  storedItemOfBytes,
  WriteCommand,
} from "./internal/codec.ts"
export { PlanningStore, TreeItemStore, makeTree, storedItemCodec } from "./internal/store.ts"
/** The scrubber underneath: ports over the node's replicas, the cluster's scrubbers, node-side faults. */
export {
  ClusterScrub,
  type NodeFault,
  NodePartitionPort,
  NodeReplicaPort,
  type NodeScrubEvent,
  type ScrubConfig,
  SCRUB_BOUNDARY_SNAPSHOTS_MAX,
  SCRUB_EVENTS_MAX,
  SCRUB_LOCAL_SEGMENTS_MAX,
  SCRUB_REQUESTED_SNAPSHOTS_MAX,
  SCRUB_SLICES_PER_TICK_MAX,
  SCRUB_SNAPSHOT_WAIT_MS_DEFAULT,
  SCRUB_TICK_MS_DEFAULT,
  flipLocalWalBit,
  flipStoredValueBit,
  loseNextWriteOn,
  nodeStateMachine,
  nodeTreeOptions,
} from "./internal/scrub.ts"
/** The seeded end-to-end fault scenario (tests and harness experiments). */
export {
  type FaultKind,
  runScenario,
  type ScenarioOptions,
  type ScenarioReport,
} from "./internal/scenario.ts"
/** Replicas' logs as WALs on a simulated disk (`ClusterConfig.disk`), and their recovery. */
export {
  type DiskCrashMode,
  isDiskError,
  ReplicaWal,
  WAL_DIR,
  type WalDisk,
  type WalRecovery,
  walLogId,
} from "./internal/wal.ts"
export { DiskIoError, FILE_DISK_OPEN_FILES_MAX, FileDisk } from "./internal/fileDisk.ts"
