/** Bounds of the scrubber, with units in their names, in one place. */

/** Deepest descent of one narrowing (the key space halves by bytes at each level). */
export const NARROW_DEPTH_MAX = 256
/** Differences narrowed key by key before the scrubber gives up and rebuilds the replica whole. */
export const NARROW_DIFFS_MAX = 4096
/** Differing keys above which a replica is rebuilt whole instead of repaired key by key. */
export const REPAIR_KEYS_MAX = 1024
/** Wire size of one exchanged range summary: 16-byte checksum, 8-byte count, 8-byte payload bytes. */
export const SUMMARY_WIRE_BYTES = 32
/** Default scrub rate in bytes per second (payload and archive bytes verified). */
export const SCRUB_BYTES_PER_SEC_DEFAULT = 8 * 1024 * 1024
/** Default token bucket depth in bytes (how much the scrubber may do in one burst). */
export const SCRUB_BURST_BYTES_DEFAULT = 1024 * 1024
/** Ticks a visit waits for lagging replicas to reach the common position before comparing those that did. */
export const SNAPSHOT_WAIT_TICKS_MAX = 1000
/** Bytes of a WAL or verify-only archive segment whose CRC one slice computes. */
export const VERIFY_BYTES_PER_SLICE = 16 * 1024
/** Archived segments between two checkpoints written by the reference builder. */
export const CHECKPOINT_EVERY_SEGMENTS_DEFAULT = 64
/** Newest archived checkpoints verified in each visit (older ones are superseded). */
export const CHECKPOINTS_VERIFIED = 2
/** Checkpoint pages whose CRCs one slice verifies. */
export const CHECKPOINT_PAGES_PER_SLICE = 1
/** Events kept in memory (oldest dropped first). */
export const EVENTS_RETAINED_MAX = 10_000
/** Items the deep pass re-hashes per slice. */
export const DEEP_ITEMS_PER_SLICE = 64
