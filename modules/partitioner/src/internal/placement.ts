/**
 * Replica placement: three replicas per partition on nodes in three distinct AZs (so never two on
 * one node), balanced by bytes and provisioned throughput against node capacities. Pure
 * functions over a `PlacementState`; greedy choices with a fixed amount of work per replica.
 *
 * Score of a node = its highest utilization over the three resources (bytes, RCU, WCU): the
 * resource that runs out first. A replica goes to the feasible node whose score after taking it
 * is lowest.
 */
import { Either } from "effect"
import { NoValidPlacement } from "./errors.ts"

/** Replicas per partition (one per AZ). */
export const replicasPerPartition = 3

/** A storage node and its capacities. */
export interface StorageNode {
  readonly id: string
  readonly az: string
  readonly capacityBytes: number
  readonly capacityRcu: number
  readonly capacityWcu: number
  /** A draining node keeps its replicas until moved but receives no new ones. */
  readonly draining?: boolean | undefined
}

/** What one replica of a partition costs its node. */
export interface ReplicaDemand {
  readonly partitionId: string
  readonly bytes: number
  readonly rcu: number
  readonly wcu: number
}

/** partitionId → the node ids holding its replicas. */
export type Placement = ReadonlyMap<string, ReadonlyArray<string>>

/** Nodes, per-partition demands and the current placement. */
export interface PlacementState {
  readonly nodes: ReadonlyArray<StorageNode>
  readonly demands: ReadonlyArray<ReplicaDemand>
  readonly placement: Placement
}

/** Copy (or re-create) one replica: `from` is the node it leaves (`undefined` for a new replica). */
export interface Move {
  readonly partitionId: string
  readonly from: string | undefined
  readonly to: string
}

/** A change of cluster membership. */
export type NodeEvent =
  | { readonly _tag: "Join"; readonly node: StorageNode }
  | { readonly _tag: "Fail"; readonly nodeId: string }
  | { readonly _tag: "Drain"; readonly nodeId: string }

/** A planned placement and the moves that reach it from the previous one. */
export interface PlacementPlan {
  readonly state: PlacementState
  readonly moves: ReadonlyArray<Move>
}

/** Options shared by the planners. */
export interface PlacementOptions {
  /** Nodes may be filled to `overcommit × capacity` (DynamoDB packs above provisioned). Default 1. */
  readonly overcommit?: number
  /** Rebalancing stops when the most and least loaded nodes' scores differ by at most this. Default 0.05. */
  readonly tolerance?: number
  /** Bound on rebalancing moves per plan. Default 10,000. */
  readonly movesMax?: number
}

function ratio(used: number, capacity: number): number {
  if (capacity > 0) return used / capacity
  return used > 0 ? Number.POSITIVE_INFINITY : 0
}

/** Mutable working copy of a placement state (internal to one planning call). */
class Cluster {
  readonly nodes: StorageNode[]
  readonly index = new Map<string, number>()
  readonly azOf: number[] = []
  readonly usedBytes: Float64Array
  readonly usedRcu: Float64Array
  readonly usedWcu: Float64Array
  readonly hosted: Array<Set<string>>
  readonly demand = new Map<string, ReplicaDemand>()
  readonly replicas = new Map<string, number[]>()
  readonly overcommit: number

  constructor(state: PlacementState, options: PlacementOptions) {
    this.overcommit = options.overcommit ?? 1
    this.nodes = [...state.nodes]
    const azs = new Map<string, number>()
    const n = this.nodes.length
    this.usedBytes = new Float64Array(n)
    this.usedRcu = new Float64Array(n)
    this.usedWcu = new Float64Array(n)
    this.hosted = []
    for (let i = 0; i < n; i++) {
      const node = this.nodes[i]!
      if (this.index.has(node.id)) throw new Error(`duplicate node id ${node.id}`)
      this.index.set(node.id, i)
      let az = azs.get(node.az)
      if (az === undefined) azs.set(node.az, (az = azs.size))
      this.azOf.push(az)
      this.hosted.push(new Set())
    }
    for (const d of state.demands) this.demand.set(d.partitionId, d)
    for (const [partitionId, nodeIds] of state.placement) {
      const d = this.demand.get(partitionId)
      if (d === undefined) continue
      const list: number[] = []
      for (const id of nodeIds) {
        const i = this.index.get(id)
        if (i === undefined || list.includes(i)) continue
        list.push(i)
        this.add(i, d)
      }
      this.replicas.set(partitionId, list)
    }
  }

  add(i: number, d: ReplicaDemand): void {
    this.usedBytes[i]! += d.bytes
    this.usedRcu[i]! += d.rcu
    this.usedWcu[i]! += d.wcu
    this.hosted[i]!.add(d.partitionId)
  }

  remove(i: number, d: ReplicaDemand): void {
    this.usedBytes[i]! -= d.bytes
    this.usedRcu[i]! -= d.rcu
    this.usedWcu[i]! -= d.wcu
    this.hosted[i]!.delete(d.partitionId)
  }

  /** Score of node i if it also carried (plus) and lost (minus) these demands. */
  score(i: number, plus: ReplicaDemand | undefined, minus: ReplicaDemand | undefined): number {
    const node = this.nodes[i]!
    let b = this.usedBytes[i]!
    let r = this.usedRcu[i]!
    let w = this.usedWcu[i]!
    if (plus !== undefined) {
      b += plus.bytes
      r += plus.rcu
      w += plus.wcu
    }
    if (minus !== undefined) {
      b -= minus.bytes
      r -= minus.rcu
      w -= minus.wcu
    }
    return Math.max(ratio(b, node.capacityBytes), ratio(r, node.capacityRcu), ratio(w, node.capacityWcu))
  }

  fits(i: number, d: ReplicaDemand): boolean {
    const node = this.nodes[i]!
    const k = this.overcommit
    return (
      this.usedBytes[i]! + d.bytes <= node.capacityBytes * k &&
      this.usedRcu[i]! + d.rcu <= node.capacityRcu * k &&
      this.usedWcu[i]! + d.wcu <= node.capacityWcu * k
    )
  }

  /** Can node i accept a replica of d? (active, not hosting it, AZ free, capacity left) */
  eligible(i: number, d: ReplicaDemand, usedAzs: ReadonlyArray<number>): boolean {
    return (
      this.nodes[i]!.draining !== true &&
      !this.hosted[i]!.has(d.partitionId) &&
      !usedAzs.includes(this.azOf[i]!) &&
      this.fits(i, d)
    )
  }

  /** Best eligible node for one more replica of d, or -1. */
  best(d: ReplicaDemand, usedAzs: ReadonlyArray<number>): number {
    let best = -1
    let bestScore = Number.POSITIVE_INFINITY
    for (let i = 0; i < this.nodes.length; i++) {
      if (!this.eligible(i, d, usedAzs)) continue
      const s = this.score(i, d, undefined)
      if (s < bestScore) {
        best = i
        bestScore = s
      }
    }
    return best
  }

  toState(): PlacementState {
    const placement = new Map<string, ReadonlyArray<string>>()
    for (const [id, list] of this.replicas)
      placement.set(
        id,
        list.map((i) => this.nodes[i]!.id),
      )
    return { nodes: this.nodes, demands: [...this.demand.values()], placement }
  }
}

/**
 * Brings every partition to three valid replicas: replicas on unknown or draining nodes, and any
 * replica sharing an AZ with an earlier one, are replaced; missing replicas are created. Replicas
 * that are already valid never move. Larger partitions are placed first.
 */
function repairInto(c: Cluster, moves: Move[]): NoValidPlacement | undefined {
  const order = [...c.demand.values()]
  const capB = Math.max(1, ...c.nodes.map((n) => n.capacityBytes))
  const capR = Math.max(1, ...c.nodes.map((n) => n.capacityRcu))
  const capW = Math.max(1, ...c.nodes.map((n) => n.capacityWcu))
  const weight = (d: ReplicaDemand) => Math.max(d.bytes / capB, d.rcu / capR, d.wcu / capW)
  order.sort((a, b) => weight(b) - weight(a) || (a.partitionId < b.partitionId ? -1 : 1))
  for (const d of order) {
    const current = c.replicas.get(d.partitionId) ?? []
    const keep: number[] = []
    const azs: number[] = []
    const lost: Array<string | undefined> = []
    for (const i of current) {
      if (c.nodes[i]!.draining !== true && !azs.includes(c.azOf[i]!) && keep.length < replicasPerPartition) {
        keep.push(i)
        azs.push(c.azOf[i]!)
      } else {
        c.remove(i, d)
        lost.push(c.nodes[i]!.id)
      }
    }
    while (keep.length < replicasPerPartition) {
      const i = c.best(d, azs)
      if (i < 0) {
        return new NoValidPlacement({
          partitionId: d.partitionId,
          reason: `no node with room in an AZ other than the ${azs.length} already used (replica ${keep.length + 1} of ${replicasPerPartition})`,
        })
      }
      c.add(i, d)
      keep.push(i)
      azs.push(c.azOf[i]!)
      moves.push({ partitionId: d.partitionId, from: lost.shift(), to: c.nodes[i]!.id })
    }
    c.replicas.set(d.partitionId, keep)
  }
  return undefined
}

/** Can the replica of `id` on `src` move to `dst` (AZ rule, one replica per node, capacity)? */
function canMove(c: Cluster, id: string, src: number, dst: number): boolean {
  const list = c.replicas.get(id)!
  const az = c.azOf[dst]!
  for (const i of list) {
    if (i === dst) return false
    if (i !== src && c.azOf[i] === az) return false
  }
  return c.nodes[dst]!.draining !== true && c.fits(dst, c.demand.get(id)!)
}

/**
 * Greedy rebalancing: each step moves the one replica that most evens out a (loaded, light) node
 * pair, trying the lightest destinations and the heaviest sources first, until no pair differs by
 * more than `tolerance` or no move improves (every move strictly lowers the pair's maximum, so
 * this terminates) or `movesMax` is reached.
 */
function rebalanceInto(c: Cluster, moves: Move[], options: PlacementOptions): void {
  const tolerance = options.tolerance ?? 0.05
  const movesMax = options.movesMax ?? 10_000
  const n = c.nodes.length
  const scores = new Float64Array(n)
  for (let step = 0; step < movesMax; step++) {
    const active: number[] = []
    for (let i = 0; i < n; i++) {
      scores[i] = c.score(i, undefined, undefined)
      if (c.nodes[i]!.draining !== true) active.push(i)
    }
    const dsts = [...active].sort((a, b) => scores[a]! - scores[b]!)
    const srcs = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!)
    let moved = false
    for (const dst of dsts) {
      for (const src of srcs) {
        const top = scores[src]!
        if (top - scores[dst]! <= tolerance) break
        let bestId: string | undefined
        let bestAfter = top
        for (const id of c.hosted[src]!) {
          if (!canMove(c, id, src, dst)) continue
          const d = c.demand.get(id)!
          const after = Math.max(c.score(src, undefined, d), c.score(dst, d, undefined))
          if (after < bestAfter - 1e-12) {
            bestAfter = after
            bestId = id
          }
        }
        if (bestId === undefined) continue
        const d = c.demand.get(bestId)!
        c.remove(src, d)
        c.add(dst, d)
        const list = c.replicas.get(bestId)!
        list[list.indexOf(src)] = dst
        moves.push({ partitionId: bestId, from: c.nodes[src]!.id, to: c.nodes[dst]!.id })
        moved = true
        break
      }
      if (moved) break
    }
    if (!moved) return
  }
}

/** Places every partition in `demands` from scratch (largest first). Pure. */
export function placeAll(
  nodes: ReadonlyArray<StorageNode>,
  demands: ReadonlyArray<ReplicaDemand>,
  options: PlacementOptions = {},
): Either.Either<PlacementPlan, NoValidPlacement> {
  const c = new Cluster({ nodes, demands, placement: new Map() }, options)
  const moves: Move[] = []
  const error = repairInto(c, moves)
  return error === undefined ? Either.right({ state: c.toState(), moves }) : Either.left(error)
}

/**
 * Restores the AZ rule and the replica count (new partitions in `demands` get placed, replicas
 * on draining or unknown nodes move); valid replicas stay. Pure.
 */
export function repair(
  state: PlacementState,
  options: PlacementOptions = {},
): Either.Either<PlacementPlan, NoValidPlacement> {
  const c = new Cluster(state, options)
  const moves: Move[] = []
  const error = repairInto(c, moves)
  return error === undefined ? Either.right({ state: c.toState(), moves }) : Either.left(error)
}

/** Greedy rebalancing moves (bounded by `movesMax`) until node scores are within `tolerance`. Pure. */
export function rebalance(state: PlacementState, options: PlacementOptions = {}): PlacementPlan {
  const c = new Cluster(state, options)
  const moves: Move[] = []
  rebalanceInto(c, moves, options)
  return { state: c.toState(), moves }
}

/**
 * Plans the moves for a membership change. `Fail`: only the failed node's replicas are re-created
 * elsewhere (nothing else moves). `Drain`: the node's replicas move off it, then it can leave.
 * `Join`: replicas move to the new node until loads are within tolerance. Pure.
 */
export function planNodeEvent(
  state: PlacementState,
  event: NodeEvent,
  options: PlacementOptions = {},
): Either.Either<PlacementPlan, NoValidPlacement> {
  let nodes: StorageNode[]
  if (event._tag === "Join") {
    if (state.nodes.some((n) => n.id === event.node.id))
      throw new Error(`node ${event.node.id} already present`)
    nodes = [...state.nodes, event.node]
  } else if (event._tag === "Fail") {
    nodes = state.nodes.filter((n) => n.id !== event.nodeId)
  } else {
    nodes = state.nodes.map((n) => (n.id === event.nodeId ? { ...n, draining: true } : n))
  }
  const c = new Cluster({ ...state, nodes }, options)
  const moves: Move[] = []
  if (event._tag === "Fail") {
    // Replicas that were on the failed node: the Cluster dropped them (unknown node); name the source.
    for (const [id, list] of state.placement) {
      if (!list.includes(event.nodeId)) continue
      const d = c.demand.get(id)
      if (d === undefined) continue
      const keep = c.replicas.get(id) ?? []
      const azs = keep.map((i) => c.azOf[i]!)
      const i = c.best(d, azs)
      if (i < 0) {
        return Either.left(
          new NoValidPlacement({
            partitionId: id,
            reason: `no node with room outside AZs of the surviving replicas`,
          }),
        )
      }
      c.add(i, d)
      keep.push(i)
      c.replicas.set(id, keep)
      moves.push({ partitionId: id, from: event.nodeId, to: c.nodes[i]!.id })
    }
    return Either.right({ state: c.toState(), moves })
  }
  const error = repairInto(c, moves)
  if (error !== undefined) return Either.left(error)
  if (event._tag === "Join") rebalanceInto(c, moves, options)
  return Either.right({ state: c.toState(), moves })
}

/** A rule a placement breaks (empty list = valid). */
export function placementViolations(state: PlacementState, options: PlacementOptions = {}): string[] {
  const out: string[] = []
  const nodes = new Map(state.nodes.map((n) => [n.id, n]))
  const used = new Map<string, { b: number; r: number; w: number }>()
  for (const d of state.demands) {
    const list = state.placement.get(d.partitionId)
    if (list === undefined || list.length !== replicasPerPartition) {
      out.push(`${d.partitionId}: ${list?.length ?? 0} replicas`)
      continue
    }
    const azs = new Set<string>()
    const ids = new Set<string>()
    for (const id of list) {
      const node = nodes.get(id)
      if (node === undefined) {
        out.push(`${d.partitionId}: unknown node ${id}`)
        continue
      }
      if (ids.has(id)) out.push(`${d.partitionId}: two replicas on node ${id}`)
      if (azs.has(node.az)) out.push(`${d.partitionId}: two replicas in AZ ${node.az}`)
      ids.add(id)
      azs.add(node.az)
      const u = used.get(id) ?? { b: 0, r: 0, w: 0 }
      used.set(id, { b: u.b + d.bytes, r: u.r + d.rcu, w: u.w + d.wcu })
    }
  }
  const k = options.overcommit ?? 1
  const eps = 1e-9
  for (const [id, u] of used) {
    const n = nodes.get(id)!
    if (u.b > n.capacityBytes * k + eps || u.r > n.capacityRcu * k + eps || u.w > n.capacityWcu * k + eps) {
      out.push(`node ${id} over capacity`)
    }
  }
  return out
}

/** Each node's score (highest utilization over bytes, RCU, WCU). */
export function nodeScores(state: PlacementState): Map<string, number> {
  const c = new Cluster(state, {})
  const out = new Map<string, number>()
  for (let i = 0; i < c.nodes.length; i++) out.set(c.nodes[i]!.id, c.score(i, undefined, undefined))
  return out
}
