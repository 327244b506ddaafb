/**
 * Where the scrubber finds things in the object store. Segment keys follow the paxos archive
 * layout (`<table>/<partition>/wal/<first>-<last>.seg`, found by listing, never guessed), and
 * checkpoints written by the reference builder live next to them under `checkpoint/`.
 */
import type { LogIdentity, ObjectStoreError, ObjectStoreService, SegmentManifest } from "@partita/paxos"
import { Effect } from "effect"

const pad = (n: number): string => String(n).padStart(14, "0")

/** Prefix of a partition's archived WAL segments. */
export const walPrefix = (id: LogIdentity): string => `${id.table}/${id.partition}/wal/`

/** Prefix of a partition's archived checkpoints. */
export const checkpointPrefix = (id: LogIdentity): string => `${id.table}/${id.partition}/checkpoint/`

/** Object key of the checkpoint of the state at `position`. */
export const checkpointKey = (id: LogIdentity, position: number): string =>
  `${checkpointPrefix(id)}${pad(position)}.ckpt`

/** Position of a checkpoint key (NaN when it is not one). */
export const checkpointPosition = (key: string): number => {
  const m = /\/(\d{14})\.ckpt$/.exec(key)
  return m === null ? Number.NaN : Number(m[1])
}

/** The object key of an archived segment, found by listing the partition's WAL prefix. */
export const findSegmentKey = (
  store: ObjectStoreService,
  id: LogIdentity,
  m: SegmentManifest,
): Effect.Effect<string | undefined, ObjectStoreError> =>
  Effect.map(store.list(walPrefix(id)), (keys) =>
    keys.find((k) => k.endsWith(`${pad(m.firstPosition)}-${pad(m.lastPosition)}.seg`)),
  )

/** Positions of the archived checkpoints, ascending. */
export const listCheckpoints = (
  store: ObjectStoreService,
  id: LogIdentity,
): Effect.Effect<number[], ObjectStoreError> =>
  Effect.map(store.list(checkpointPrefix(id)), (keys) =>
    keys
      .map(checkpointPosition)
      .filter((p) => Number.isFinite(p))
      .sort((a, b) => a - b),
  )
