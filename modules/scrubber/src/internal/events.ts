/** Structured scrub events: every detection and repair names partition, replica, key range and cause. */
import type { EncodedKey } from "@partita/core"
import type { KeyRange } from "./narrow.ts"

/** Why something was flagged. */
export type ScrubCause =
  /** Live replicas disagree at a common log position (lost write, double apply, flipped value...). */
  | "replica-divergence"
  /** A replica disagrees with the reference rebuilt from the archive. */
  | "reference-divergence"
  /** A sealed local WAL segment of a replica fails its CRC or hash chain. */
  | "wal-record-corrupt"
  /** An archived WAL segment fails its checksums or hash chain. */
  | "archive-segment-corrupt"
  /** The archive misses positions between two segments. */
  | "archive-hole"
  /** An archived checkpoint fails its per-page CRCs or content checksum. */
  | "checkpoint-corrupt"
  /** A replica's stored bytes no longer match its own checksums (found by the deep pass). */
  | "stored-data-rot"
  /** The object store could not be read. */
  | "archive-unreachable"

/** What happened. */
export type ScrubEventType = "detected" | "repaired" | "unrecoverable" | "unresolved"

/** One event. */
export interface ScrubEvent {
  readonly type: ScrubEventType
  /** `table/partition`. */
  readonly partition: string
  /** The replica concerned, or "archive" for the archive and its checkpoints. */
  readonly replica: number | "archive"
  /** Keys concerned (`lo` inclusive, `hi` exclusive); the whole key space when open on both sides. */
  readonly keyRange: KeyRange
  /** The exact differing keys, when narrowed. */
  readonly keys?: ReadonlyArray<EncodedKey>
  /** Log positions concerned (segments, checkpoints). */
  readonly positions?: { readonly first: number; readonly last: number }
  readonly cause: ScrubCause
  /** The log position the comparison was made at. */
  readonly position: number
  /** Time (ms, from the caller's clock) of the event. */
  readonly atMs: number
  /** Human-readable detail (repair method, error text). */
  readonly detail: string
}
