import { MILLI_PER_UNIT, PARTITION_MAX_RCU, PARTITION_MAX_WCU } from "./constants.ts"

/** Capacity kind: reads (RCU) or writes (WCU). */
export type Kind = 0 | 1
/** Reads: RCU. */
export const READ: Kind = 0
/** Writes: WCU. */
export const WRITE: Kind = 1

/** A storage node and its physical throughput. */
export interface NodeSpec {
  readonly id: string
  readonly readCapacityUnits: number
  readonly writeCapacityUnits: number
}

/** A partition: replica nodes (leader first) and its allocation (default: an equal share of the table). */
export interface PartitionSpec {
  readonly id: string
  readonly replicas: ReadonlyArray<string>
  readonly readCapacityUnits?: number
  readonly writeCapacityUnits?: number
}

/** A table, its billing mode, provisioned rates (ignored on demand) and partitions. */
export interface TableSpec {
  readonly id: string
  readonly mode: "provisioned" | "on-demand"
  readonly readCapacityUnits: number
  readonly writeCapacityUnits: number
  readonly partitions: ReadonlyArray<PartitionSpec>
}

/** What the admission stages run over: nodes, tables with their partitions, and request routers. */
export interface Topology {
  readonly nodes: ReadonlyArray<NodeSpec>
  readonly tables: ReadonlyArray<TableSpec>
  readonly routers: ReadonlyArray<string>
}

/** The topology flattened to arrays indexed by number, for the hot path. */
export interface Compiled {
  readonly spec: Topology
  readonly nodeIds: string[]
  readonly nodeRateMilli: [number[], number[]]
  readonly tableIds: string[]
  readonly tableOnDemand: boolean[]
  readonly tableRateMilli: [number[], number[]]
  readonly tablePartitions: number[][]
  readonly partitionIds: string[]
  readonly partitionTable: number[]
  readonly partitionLeader: number[]
  readonly partitionPeers: number[][]
  readonly partitionAllocMilli: [number[], number[]]
  /** Global partition index by "table/partition" id. */
  readonly partitionIndex: Map<string, number>
}

/** Flattens a topology; throws on unknown nodes or empty tables. */
export function compile(spec: Topology): Compiled {
  const nodeIndex = new Map<string, number>()
  spec.nodes.forEach((n, i) => {
    nodeIndex.set(n.id, i)
  })
  const c: Compiled = {
    spec,
    nodeIds: spec.nodes.map((n) => n.id),
    nodeRateMilli: [
      spec.nodes.map((n) => n.readCapacityUnits * MILLI_PER_UNIT),
      spec.nodes.map((n) => n.writeCapacityUnits * MILLI_PER_UNIT),
    ],
    tableIds: [],
    tableOnDemand: [],
    tableRateMilli: [[], []],
    tablePartitions: [],
    partitionIds: [],
    partitionTable: [],
    partitionLeader: [],
    partitionPeers: [],
    partitionAllocMilli: [[], []],
    partitionIndex: new Map(),
  }
  spec.tables.forEach((t, ti) => {
    if (t.partitions.length === 0) throw new RangeError(`table ${t.id} has no partitions`)
    c.tableIds.push(t.id)
    c.tableOnDemand.push(t.mode === "on-demand")
    c.tableRateMilli[0].push(t.readCapacityUnits * MILLI_PER_UNIT)
    c.tableRateMilli[1].push(t.writeCapacityUnits * MILLI_PER_UNIT)
    const parts: number[] = []
    for (const p of t.partitions) {
      const pi = c.partitionIds.length
      const replicas = p.replicas.map((r) => {
        const ni = nodeIndex.get(r)
        if (ni === undefined) throw new RangeError(`partition ${p.id}: unknown node ${r}`)
        return ni
      })
      if (replicas.length === 0) throw new RangeError(`partition ${p.id} has no replicas`)
      c.partitionIds.push(`${t.id}/${p.id}`)
      c.partitionIndex.set(`${t.id}/${p.id}`, pi)
      c.partitionTable.push(ti)
      c.partitionLeader.push(replicas[0]!)
      c.partitionPeers.push(replicas.slice(1))
      // An allocation never exceeds the partition maximum: DynamoDB splits a table rather than
      // give one partition more (the partitioner decides how many partitions a table has).
      const n = t.partitions.length
      const read = Math.min(p.readCapacityUnits ?? t.readCapacityUnits / n, PARTITION_MAX_RCU)
      const write = Math.min(p.writeCapacityUnits ?? t.writeCapacityUnits / n, PARTITION_MAX_WCU)
      c.partitionAllocMilli[0].push(Math.floor(read * MILLI_PER_UNIT))
      c.partitionAllocMilli[1].push(Math.floor(write * MILLI_PER_UNIT))
      parts.push(pi)
    }
    c.tablePartitions.push(parts)
  })
  return c
}
