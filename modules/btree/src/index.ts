/**
 * @partita/btree — the ordered item store of a partition replica.
 *
 * A B+tree from encoded keys (`EncodedKey` of @partita/core, compared as strings) to opaque
 * values, with O(1) copy-on-write snapshots, 128-bit order-independent checksums kept in every
 * node (whole tree O(1), any key range O(log n)), incremental size accounting, and paged
 * checkpoint files with a CRC-32C per page. The hot path is plain TypeScript; Effect appears
 * only in `checkpoint` / `BTree.load`.
 */

/** The tree, its read-only view (what `snapshot()` returns) and their option/result types. */
export { BTree, type BTreeOptions } from "./internal/tree.ts"
export { BTreeView, type BTreeStats, type CheckpointOptions } from "./internal/view.ts"
export type { Page, RangeOptions } from "./internal/range.ts"

/** Checksums: the type, combining adjacent ranges, and computing one without a tree. */
export {
  addChecksums,
  type Checksum,
  ChecksumAccumulator,
  checksumToLanes,
  EMPTY_CHECKSUM,
  lanesToChecksum,
  subtractChecksums,
  type Summary,
} from "./internal/checksum.ts"

/** Bounds, with units in their names. */
export {
  BULK_LOAD_FILL_DEFAULT,
  NODE_ENTRIES_MAX_ALLOWED,
  NODE_ENTRIES_MAX_DEFAULT,
  NODE_ENTRIES_MIN_ALLOWED,
} from "./internal/tree.ts"

/** Checkpoint page-size bounds. */
export {
  CHECKPOINT_PAGE_BYTES_DEFAULT,
  CHECKPOINT_PAGE_BYTES_MAX,
  CHECKPOINT_PAGE_BYTES_MIN,
} from "./internal/checkpoint.ts"

/** Value codecs: how values are sized, hashed and written to checkpoints. */
export {
  bytesCodec,
  type ItemHashMemo,
  jsonCodec,
  type Scalar,
  scalarCodec,
  stringCodec,
  utf8Length,
  type ValueCodec,
} from "./internal/codec.ts"

/** The typed error of a damaged checkpoint file. */
export { CheckpointCorrupt } from "./internal/errors.ts"

/** What a value's digest may be (string code units, bytes or a range of them, or a float64). */
export type { ByteRange, DigestInput } from "./internal/hash.ts"
