/**
 * @partita/memds — MemDS: routing metadata in a compact Perkle store (Patricia trie + Merkle
 * hashes), replicated across a fleet by a versioned update log; and the router's
 * constant-work routing cache (with a conventional cache for comparison).
 */
export {
  compareBytes,
  HASH_BYTES,
  hashFromBigInt,
  hashToBigInt,
  hasPrefix,
  parseRoutingKey,
  type RoutingKeyParts,
  routingKey,
  routingKeyFromPrefix,
  TABLE_ID_BYTES_MAX,
  tablePrefix,
  toHex,
} from "./internal/keys.ts"
export {
  type Boundary,
  entryHash,
  PerkleStore,
  REPLICAS_MAX,
  type Replica,
  type RouteRange,
  type RoutingEntry,
  SnapshotError,
} from "./internal/store.ts"
export { KEY_BYTES_MAX, type TrieDiff } from "./internal/trie.ts"
