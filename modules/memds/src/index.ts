/**
 * @partita/memds — MemDS: routing metadata in a compact Perkle store (Patricia trie + Merkle
 * hashes), replicated across a fleet by a versioned update log; and the router's
 * constant-work routing cache (with a conventional cache for comparison).
 */
export {
  type BoundaryLike,
  compareBytes,
  HASH_BYTES,
  hashFromBigInt,
  hashFromHex,
  hashFromWords,
  hashToBigInt,
  hasPrefix,
  parseRoutingKey,
  type RoutingKeyParts,
  routingKey,
  routingKeyFromPrefix,
  routingKeyOfBoundary,
  TABLE_ID_BYTES_MAX,
  tablePrefix,
  toHex,
} from "./internal/keys.ts"
export {
  type Boundary,
  type Region,
  type RegionSummary,
  PARTITION_ID_CHARS_MAX,
  type TableHandle,
  entryHash,
  PerkleStore,
  REPLICAS_MAX,
  type Replica,
  type RouteRange,
  type RoutingEntry,
  SnapshotError,
} from "./internal/store.ts"
export { KEY_BYTES_MAX, type TrieDiff } from "./internal/trie.ts"
export {
  applyOp,
  CATCHUP_BATCH_MAX_DEFAULT,
  CATCHUP_TIMEOUT_MS_DEFAULT,
  decodeUpdates,
  encodeUpdates,
  type FleetMsg,
  LOG_ENTRIES_MAX_DEFAULT,
  MemDSNode,
  type MemDSNodeConfig,
  type MemDSNodeStats,
  type Outbound,
  type PartitionLike,
  PENDING_ENTRIES_MAX_DEFAULT,
  SYNC_ENTRIES_MAX_DEFAULT,
  SYNC_REGIONS_MAX_DEFAULT,
  tableOps,
  type Update,
  type UpdateOp,
} from "./internal/fleet.ts"
export {
  type CacheMetrics,
  type CacheMode,
  type CacheOutput,
  ENTRIES_MAX_DEFAULT,
  IN_FLIGHT_MAX_DEFAULT,
  LOOKUP_TIMEOUT_MS_DEFAULT,
  RETRIES_MAX_DEFAULT,
  type RoutingCacheConfig,
  RoutingCacheCore,
  type RoutingFailure,
  TTL_MS_DEFAULT,
  WAITERS_MAX_DEFAULT,
} from "./internal/cache.ts"
export {
  type CacheExperiment,
  type CacheExperimentResult,
  type CacheWindow,
  runCacheExperiment,
} from "./internal/experiment.ts"
export {
  CACHE_TICK_MS,
  type LookupAnswer,
  type LookupMsg,
  MemDS,
  type MemDSEndpoint,
  type MemDSLink,
  type MemDSService,
  MemDSUnavailable,
  NODE_TICK_MS,
  RoutingCache,
  type RoutingCacheService,
  RoutingError,
  serveMemDSNode,
} from "./internal/services.ts"
