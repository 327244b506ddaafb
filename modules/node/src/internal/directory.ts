/**
 * Who is where: storage node ids and their Paxos replica ids (a node's index, < 256), AZs, and the
 * MemDS sequencer. Shared by every component of a cluster (static configuration).
 */
import { HASH_BYTES, type RoutingEntry, routingKey } from "@partita/memds"
import type { Boundary, Partition } from "@partita/partitioner"

/** Paxos replica ids are one byte. */
export const STORAGE_NODES_MAX = 256

/** Static cluster directory. */
export class Directory {
  private readonly byId = new Map<string, { index: number; az: string }>()
  readonly nodes: Array<{ readonly id: string; readonly az: string }> = []

  /** `memdsSequencer`: where routing changes are published (none: nothing is published). */
  constructor(readonly memdsSequencer?: string) {}

  /** Adds a storage node; returns its replica id. */
  addNode(id: string, az: string): number {
    const index = this.nodes.length
    if (index >= STORAGE_NODES_MAX) throw new Error(`at most ${STORAGE_NODES_MAX} storage nodes`)
    this.nodes.push({ id, az })
    this.byId.set(id, { index, az })
    return index
  }
  nodeOf(replicaId: number): string | undefined {
    return this.nodes[replicaId]?.id
  }
  replicaIdOf(nodeId: string): number {
    const n = this.byId.get(nodeId)
    if (n === undefined) throw new Error(`unknown storage node ${nodeId}`)
    return n.index
  }
  azOf(nodeId: string): string {
    return this.byId.get(nodeId)?.az ?? "?"
  }
}

/** 32 hex chars → 16 bytes. */
export const hexToHash = (hex: string): Uint8Array => {
  const out = new Uint8Array(HASH_BYTES)
  for (let i = 0; i < HASH_BYTES; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** 4 words (big-endian) → 16 bytes. */
export const wordsToHash = (w: Uint32Array, out: Uint8Array = new Uint8Array(HASH_BYTES)): Uint8Array => {
  for (let i = 0; i < 4; i++) {
    const x = w[i]!
    out[4 * i] = x >>> 24
    out[4 * i + 1] = (x >>> 16) & 0xff
    out[4 * i + 2] = (x >>> 8) & 0xff
    out[4 * i + 3] = x & 0xff
  }
  return out
}

/** The MemDS routing key of a partition boundary of `table`. */
export const boundaryKey = (table: string, b: Boundary): Uint8Array =>
  routingKey(table, hexToHash(b.hash), b.sortKey)

/** The MemDS routing entry of a partition placed on `nodes`. */
export const routingEntry = (
  dir: Directory,
  p: Partition,
  nodes: ReadonlyArray<string>,
  leader: string | null,
): RoutingEntry => ({
  partitionId: p.id,
  epoch: p.epoch,
  replicas: nodes.map((nodeId) => ({ nodeId, az: dir.azOf(nodeId) })),
  leaderHint: leader,
})
