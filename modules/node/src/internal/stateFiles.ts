/**
 * A replica's state beside its WAL, as files, so that a node can be opened again by a new process
 * (`StorageNode.reopen`): what the WAL does not hold. Each file is written whole to a temporary
 * name, fsynced and renamed over the old one (atomic and durable on the file systems the WAL
 * relies on).
 *
 *   state/<pid>.json           {"v":1,"spec":ReplicaSpec,"hold":slot?}   the replica's spec, vote hold
 *   state/<pid>.base           encodeSnapshot(base tree, request ids)    the group's starting state
 *   state/<pid>.snap.<index>   u8 hasData, the snapshot's data           the compaction point
 *
 * A snapshot file is written before the WAL rewrite that puts its marker in the log, and older
 * ones are removed only after it: a crash between the two leaves the snapshot the log still
 * names. Every file is framed: `"PSF1"`, u32 payload length, u32 CRC-32C of the payload, the
 * payload (little-endian). A file that does not check (bit rot, a misdirected write: the
 * simulated disk does both) is taken as missing, so its replica is left out and healed, never
 * opened on damaged state (a snapshot flag read as "no data" once emptied a replica's tree).
 */
import type { BTreeView } from "@partita/btree"
import { crc32c } from "@partita/paxos"
import type { StoredItem } from "./codec.ts"
import type { RequestIds } from "./dedupe.ts"
import type { ReplicaSpec } from "./replica.ts"
import type { WalDisk } from "./wal.ts"

/** Directory of the state files on a node's disk. */
export const STATE_DIR = "state/"

/** The WALs' lengths at a clean shutdown (`saveWalLengths`). */
const WAL_LENGTHS = `${STATE_DIR}wal-lengths`

/** The starting state of a group as written to a `.base` file. */
export interface BaseState {
  readonly tree: BTreeView<StoredItem>
  readonly dedupe: RequestIds
}

/** What a node's disk holds for one replica. */
export interface StoredReplicaState {
  readonly partitionId: string
  readonly spec: ReplicaSpec
  readonly hold: number | undefined
  /** The `.base` file's bytes (see `encodeSnapshot`), if any. */
  readonly base: Uint8Array | undefined
  /** Snapshot data by log index (null: a snapshot without data, a log replica's). */
  readonly snapshots: ReadonlyMap<number, Uint8Array | null>
}

/** First bytes of every state file ("PSF1"). */
const MAGIC = 0x31465350
const HEADER_BYTES = 12

/** The framed form of a state file's payload. */
const frame = (payload: Uint8Array): Uint8Array => {
  const out = new Uint8Array(HEADER_BYTES + payload.length)
  const v = new DataView(out.buffer)
  v.setUint32(0, MAGIC, true)
  v.setUint32(4, payload.length, true)
  v.setUint32(8, crc32c(payload), true)
  out.set(payload, HEADER_BYTES)
  return out
}

/** A state file's payload, or undefined if the frame does not check. */
const unframe = (bytes: Uint8Array): Uint8Array | undefined => {
  if (bytes.length < HEADER_BYTES) return undefined
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = v.getUint32(4, true)
  if (v.getUint32(0, true) !== MAGIC || bytes.length !== HEADER_BYTES + n) return undefined
  const payload = bytes.subarray(HEADER_BYTES)
  return crc32c(payload) === v.getUint32(8, true) ? payload : undefined
}

/** Reads and writes the state files of the replicas on one disk. */
export class ReplicaStateFiles {
  constructor(readonly disk: WalDisk) {}

  /** Writes `payload` (framed) as `name`, atomically and durably. */
  private writeAtomic(name: string, payload: Uint8Array): void {
    const tmp = `${name}.tmp`
    if (this.disk.exists(tmp)) this.disk.remove(tmp)
    this.disk.write(tmp, 0, frame(payload))
    this.disk.fsync(tmp)
    this.disk.rename(tmp, name)
  }

  /** A state file's payload, or undefined when it is missing or does not check. */
  private readChecked(name: string): Uint8Array | undefined {
    if (!this.disk.exists(name)) return undefined
    return unframe(this.disk.read(name))
  }

  /** Writes the replica's spec and vote hold. */
  saveSpec(spec: ReplicaSpec, hold: number | undefined): void {
    const json = JSON.stringify({ v: 1, spec, ...(hold === undefined ? {} : { hold }) })
    this.writeAtomic(`${STATE_DIR}${spec.partition.id}.json`, new TextEncoder().encode(json))
  }

  /** Writes the group's starting state (encoded by the caller, `encodeSnapshot`). */
  saveBase(partitionId: string, encoded: Uint8Array): void {
    this.writeAtomic(`${STATE_DIR}${partitionId}.base`, encoded)
  }

  /** Writes a snapshot's data (before the WAL names it). */
  saveSnapshot(partitionId: string, index: number, data: Uint8Array | null): void {
    const out = new Uint8Array(1 + (data?.length ?? 0))
    out[0] = data === null ? 0 : 1
    if (data !== null) out.set(data, 1)
    this.writeAtomic(`${STATE_DIR}${partitionId}.snap.${index}`, out)
  }

  /** Removes the snapshot files of `partitionId` other than `keep` (after the WAL names it). */
  pruneSnapshots(partitionId: string, keep: number): void {
    const prefix = `${STATE_DIR}${partitionId}.snap.`
    for (const f of this.disk.list(prefix)) {
      const index = Number(f.slice(prefix.length))
      if (Number.isInteger(index) && index !== keep) this.disk.remove(f)
    }
  }

  /**
   * Records each WAL's length, all of them fsynced (a clean shutdown): the next process to open
   * the disk then knows what was durable, as a restart in the same process does (see `reopen`).
   */
  saveWalLengths(lengths: ReadonlyMap<string, number>): void {
    const json = JSON.stringify({ v: 1, lengths: Object.fromEntries(lengths) })
    this.writeAtomic(WAL_LENGTHS, new TextEncoder().encode(json))
  }

  /**
   * The WAL lengths of the last clean shutdown, if any, and the file removed: once the logs are
   * written again (or after a crash) they no longer say what was durable.
   */
  takeWalLengths(): Map<string, number> | undefined {
    const payload = this.readChecked(WAL_LENGTHS)
    if (this.disk.exists(WAL_LENGTHS)) this.disk.remove(WAL_LENGTHS)
    if (payload === undefined) return undefined
    try {
      const parsed = JSON.parse(new TextDecoder().decode(payload)) as {
        v?: number
        lengths?: Record<string, unknown>
      }
      if (parsed.v !== 1 || typeof parsed.lengths !== "object" || parsed.lengths === null) return undefined
      const out = new Map<string, number>()
      for (const [pid, n] of Object.entries(parsed.lengths))
        if (Number.isSafeInteger(n)) out.set(pid, n as number)
      return out
    } catch {
      return undefined
    }
  }

  /** Removes every state file of `partitionId` (the replica left the node). */
  remove(partitionId: string): void {
    for (const f of this.disk.list(`${STATE_DIR}${partitionId}.`)) {
      const rest = f.slice(STATE_DIR.length + partitionId.length + 1)
      if (rest === "json" || rest === "base" || rest.startsWith("snap.") || rest.endsWith(".tmp"))
        this.disk.remove(f)
    }
  }

  /**
   * Every replica whose spec file is on the disk, with its base and snapshot files. A spec or
   * base file that does not check is reported in `damaged` (the replica is left out: its group
   * rebuilds it); a snapshot file that does not check is left out (the WAL's marker then names a
   * snapshot that is missing, and the replica is left out when its log is read).
   */
  load(): { replicas: StoredReplicaState[]; damaged: string[] } {
    const replicas: StoredReplicaState[] = []
    const damaged: string[] = []
    const decoder = new TextDecoder("utf-8", { fatal: true })
    for (const f of this.disk.list(STATE_DIR)) {
      if (!f.endsWith(".json")) continue
      const partitionId = f.slice(STATE_DIR.length, -".json".length)
      let parsed: { v?: unknown; spec?: ReplicaSpec; hold?: unknown }
      try {
        const payload = this.readChecked(f)
        if (payload === undefined) throw new Error("damaged")
        parsed = JSON.parse(decoder.decode(payload))
      } catch {
        damaged.push(partitionId)
        continue
      }
      const spec = parsed.spec
      if (parsed.v !== 1 || spec === undefined || spec.partition?.id !== partitionId) {
        damaged.push(partitionId)
        continue
      }
      const baseName = `${STATE_DIR}${partitionId}.base`
      const snapshots = new Map<number, Uint8Array | null>()
      const prefix = `${STATE_DIR}${partitionId}.snap.`
      for (const s of this.disk.list(prefix)) {
        const index = Number(s.slice(prefix.length))
        if (!Number.isInteger(index)) continue
        const bytes = this.readChecked(s)
        if (bytes === undefined || bytes.length === 0) continue
        snapshots.set(index, bytes[0] === 0 ? null : bytes.subarray(1))
      }
      let base: Uint8Array | undefined
      if (this.disk.exists(baseName)) {
        base = this.readChecked(baseName)
        if (base === undefined) {
          damaged.push(partitionId)
          continue
        }
      }
      replicas.push({
        partitionId,
        spec,
        hold: typeof parsed.hold === "number" ? parsed.hold : undefined,
        base,
        snapshots,
      })
    }
    return { replicas, damaged }
  }
}
