/**
 * Fault injection for tests and experiments. Each injector returns a record of what it damaged
 * (kind, partition, replica, key or positions) so a test can check that exactly that is found.
 */
import type { EncodedKey } from "@partita/core"
import type { Scalar } from "@partita/btree"
import type { LogIdentity, MemoryObjectStore } from "@partita/paxos"
import { checkpointPrefix, walPrefix } from "./layout.ts"
import { partitionName } from "./ports.ts"
import type { SimPartition, SimReplica } from "./sim.ts"

/** The fault kinds. */
export type FaultKind =
  | "value-bit-flip"
  | "checkpoint-page-bit-flip"
  | "wal-record-bit-flip"
  | "archive-segment-bit-flip"
  | "lost-write"
  | "applied-twice"
  | "stored-bytes-rot"

/** One injected fault. */
export interface InjectedFault {
  readonly kind: FaultKind
  readonly partition: string
  readonly replica: number | "archive"
  readonly key?: EncodedKey
  readonly position?: number
  readonly atMs: number
}

/** Flips bit `bit` of the stored value of `key` on one replica (the value must exist). */
export const flipValueBit = (
  p: SimPartition<Scalar>,
  replica: number,
  key: EncodedKey,
  bit: number,
  atMs = 0,
): InjectedFault => {
  const r: SimReplica<Scalar> = p.replicas[replica]!
  const v = r.tree.get(key)
  if (v === undefined) throw new RangeError(`flipValueBit: no value at ${key}`)
  let flipped: Scalar
  if (typeof v === "number") {
    const dv = new DataView(new ArrayBuffer(8))
    dv.setFloat64(0, v)
    const b = 7 - ((bit % 48) >> 3) // low 6 bytes of the mantissa: never NaN, always a different number
    dv.setUint8(b, dv.getUint8(b) ^ (1 << (bit & 7)))
    flipped = dv.getFloat64(0)
  } else if (typeof v === "string") {
    if (v.length === 0) throw new RangeError("flipValueBit: empty string")
    const i = (bit >> 3) % v.length
    flipped = v.slice(0, i) + String.fromCharCode(v.charCodeAt(i) ^ (1 << (bit % 7))) + v.slice(i + 1)
  } else {
    const c = v.slice()
    const i = (bit >> 3) % c.length
    c[i] = c[i]! ^ (1 << (bit & 7))
    flipped = c
  }
  r.tree.set(key, flipped)
  return { kind: "value-bit-flip", partition: partitionName(p.identity), replica, key, atMs }
}

const flipStored = (store: MemoryObjectStore, key: string, byteOffset: number, bit: number): void => {
  const b = store.objects.get(key)
  if (b === undefined) throw new RangeError(`no object ${key}`)
  const i = byteOffset % b.length
  b[i] = b[i]! ^ (1 << (bit & 7))
}

/** Flips one bit in an archived checkpoint file (any byte: header, page data or footer). */
export const flipCheckpointBit = (
  store: MemoryObjectStore,
  id: LogIdentity,
  position: number,
  byteOffset: number,
  bit: number,
  atMs = 0,
): InjectedFault => {
  const key = [...store.objects.keys()].find(
    (k) => k.startsWith(checkpointPrefix(id)) && k.includes(String(position).padStart(14, "0")),
  )
  if (key === undefined) throw new RangeError(`no checkpoint at ${position}`)
  flipStored(store, key, byteOffset, bit)
  return {
    kind: "checkpoint-page-bit-flip",
    partition: partitionName(id),
    replica: "archive",
    position,
    atMs,
  }
}

/** Flips one bit in the archived segment that starts at `firstPosition`. */
export const flipArchivedSegmentBit = (
  store: MemoryObjectStore,
  id: LogIdentity,
  firstPosition: number,
  byteOffset: number,
  bit: number,
  atMs = 0,
): InjectedFault => {
  const key = [...store.objects.keys()].find(
    (k) =>
      k.startsWith(walPrefix(id)) &&
      k.endsWith(".seg") &&
      k.includes(`${String(firstPosition).padStart(14, "0")}-`),
  )
  if (key === undefined) throw new RangeError(`no archived segment at ${firstPosition}`)
  flipStored(store, key, byteOffset, bit)
  return {
    kind: "archive-segment-bit-flip",
    partition: partitionName(id),
    replica: "archive",
    position: firstPosition,
    atMs,
  }
}

/** Flips one bit in a replica's sealed local WAL segment that starts at `firstPosition`. */
export const flipWalRecordBit = (
  p: SimPartition<Scalar>,
  replica: number,
  firstPosition: number,
  byteOffset: number,
  bit: number,
  atMs = 0,
): InjectedFault => {
  const b = p.replicas[replica]!.readLocalSegment(firstPosition)
  if (b === undefined) throw new RangeError(`replica ${replica} has no local segment at ${firstPosition}`)
  const i = byteOffset % b.length
  b[i] = b[i]! ^ (1 << (bit & 7))
  return {
    kind: "wal-record-bit-flip",
    partition: partitionName(p.identity),
    replica,
    position: firstPosition,
    atMs,
  }
}

/** The next write delivered to `replica` is logged but never applied (a lost write). */
export const loseNextWrite = (p: SimPartition<Scalar>, replica: number, atMs = 0): InjectedFault => {
  p.replicas[replica]!.loseNextWrite = true
  return { kind: "lost-write", partition: partitionName(p.identity), replica, atMs }
}

/** The next `add` delivered to `replica` is applied twice (a software bug). */
export const applyNextAddTwice = (p: SimPartition<Scalar>, replica: number, atMs = 0): InjectedFault => {
  p.replicas[replica]!.applyNextAddTwice = true
  return { kind: "applied-twice", partition: partitionName(p.identity), replica, atMs }
}

/**
 * Flips a bit of a stored `Uint8Array` value in place: the bytes change but the tree's
 * incremental checksums do not (rot beneath the checksums). Only the deep pass finds it.
 */
export const rotStoredBytes = (
  p: SimPartition<Scalar>,
  replica: number,
  key: EncodedKey,
  bit: number,
  atMs = 0,
): InjectedFault => {
  const v = p.replicas[replica]!.tree.get(key)
  if (!(v instanceof Uint8Array) || v.length === 0) throw new RangeError(`rotStoredBytes: no bytes at ${key}`)
  const i = (bit >> 3) % v.length
  v[i] = v[i]! ^ (1 << (bit & 7))
  return { kind: "stored-bytes-rot", partition: partitionName(p.identity), replica, key, atMs }
}
