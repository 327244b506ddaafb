import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Either } from "effect"
import fc from "fast-check"
import {
  type NodeEvent,
  nodeScores,
  type PlacementState,
  placeAll,
  placementViolations,
  planNodeEvent,
  type ReplicaDemand,
  rebalance,
  repair,
  type StorageNode,
} from "../src/index.ts"
import { int, rng } from "./util.ts"

function cluster(r: () => number, azs: number, nodes: number): StorageNode[] {
  return Array.from({ length: nodes }, (_, i) => ({
    id: `n${i}`,
    az: `az${i < azs ? i : int(r, azs)}`,
    capacityBytes: 1e9 * (1 + int(r, 4)),
    capacityRcu: 30_000 * (1 + int(r, 3)),
    capacityWcu: 10_000 * (1 + int(r, 3)),
  }))
}

function demands(r: () => number, count: number): ReplicaDemand[] {
  return Array.from({ length: count }, (_, i) => ({
    partitionId: `p${i}`,
    bytes: int(r, 20e6),
    rcu: int(r, 300),
    wcu: int(r, 100),
  }))
}

const maxScore = (s: PlacementState) => Math.max(...nodeScores(s).values())

describe("placeAll", () => {
  it("puts three replicas in three AZs and balances load", () => {
    const r = rng(1)
    const nodes = cluster(r, 3, 12)
    const plan = Either.getOrThrow(placeAll(nodes, demands(r, 300)))
    assert.deepEqual(placementViolations(plan.state), [])
    assert.equal(plan.moves.length, 900)
    // With three AZs every AZ holds one replica of every partition, so balance is within an AZ.
    const scores = nodeScores(plan.state)
    for (const az of ["az0", "az1", "az2"]) {
      const inAz = nodes.filter((n) => n.az === az).map((n) => scores.get(n.id)!)
      const spread = Math.max(...inAz) - Math.min(...inAz)
      assert.ok(spread < 0.02, `${az} spread ${spread}`)
    }
  })

  it("fails with NoValidPlacement when fewer than three AZs exist", () => {
    const r = rng(2)
    const nodes = cluster(r, 2, 6)
    const result = placeAll(nodes, demands(r, 3))
    assert.ok(Either.isLeft(result))
    assert.equal(result.left._tag, "NoValidPlacement")
  })

  it("fails with NoValidPlacement when capacity runs out", () => {
    const nodes: StorageNode[] = ["a", "b", "c"].map((az) => ({
      id: az,
      az,
      capacityBytes: 100,
      capacityRcu: 100,
      capacityWcu: 100,
    }))
    const ok = placeAll(nodes, [{ partitionId: "p", bytes: 100, rcu: 1, wcu: 1 }])
    assert.ok(Either.isRight(ok))
    const over = placeAll(nodes, [
      { partitionId: "p", bytes: 60, rcu: 1, wcu: 1 },
      { partitionId: "q", bytes: 60, rcu: 1, wcu: 1 },
    ])
    assert.ok(Either.isLeft(over) && over.left._tag === "NoValidPlacement")
    assert.ok(
      Either.isRight(
        placeAll(
          nodes,
          [
            { partitionId: "p", bytes: 60, rcu: 1, wcu: 1 },
            { partitionId: "q", bytes: 60, rcu: 1, wcu: 1 },
          ],
          { overcommit: 1.5 },
        ),
      ),
    )
  })
})

describe("planNodeEvent over random clusters and failures (property)", () => {
  it("never puts two replicas in one AZ or node, and a failure moves only the failed node's replicas", () => {
    let exercised = 0
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 3, max: 5 }),
        fc.integer({ min: 3, max: 16 }),
        fc.integer({ min: 1, max: 120 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
        (seed, azs, nodeCount, partitionCount, events) => {
          const r = rng(seed)
          const nodes = cluster(r, azs, Math.max(nodeCount, azs))
          const placed = placeAll(nodes, demands(r, partitionCount))
          if (Either.isLeft(placed)) return
          let state = placed.right.state
          assert.deepEqual(placementViolations(state), [])
          exercised++
          let joined = 0
          for (const kind of events) {
            const active = state.nodes.filter((n) => n.draining !== true)
            let event: NodeEvent
            if (kind === 2 || active.length === 0) {
              event = {
                _tag: "Join",
                node: {
                  id: `j${joined++}`,
                  az: `az${int(r, azs)}`,
                  capacityBytes: 4e9,
                  capacityRcu: 90_000,
                  capacityWcu: 30_000,
                },
              }
            } else {
              const victim = active[int(r, active.length)]!
              event = kind === 0 ? { _tag: "Fail", nodeId: victim.id } : { _tag: "Drain", nodeId: victim.id }
            }
            const result = planNodeEvent(state, event)
            if (Either.isLeft(result)) {
              assert.equal(result.left._tag, "NoValidPlacement")
              return
            }
            const next = result.right.state
            assert.deepEqual(placementViolations(next), [], `after ${event._tag}`)
            if (event._tag !== "Join") {
              const gone = event.nodeId
              const affected = [...state.placement].filter(([, ns]) => ns.includes(gone)).map(([id]) => id)
              assert.deepEqual(result.right.moves.map((m) => m.partitionId).sort(), [...affected].sort())
              assert.ok(result.right.moves.every((m) => m.from === gone && m.to !== gone))
              for (const [id, ns] of state.placement) {
                const after = next.placement.get(id)!
                // Surviving replicas stay where they were.
                for (const n of ns) if (n !== gone) assert.ok(after.includes(n), `${id} lost replica on ${n}`)
              }
            } else {
              assert.ok(maxScore(next) <= maxScore(state) + 1e-9, "a join never raises the peak load")
            }
            state = next
          }
        },
      ),
      { numRuns: 120 },
    )
    assert.ok(exercised >= 100, `only ${exercised} of 120 runs placed their partitions`)
  })
})

describe("membership changes", () => {
  const r = rng(5)
  const nodes = cluster(r, 3, 9)
  const start = Either.getOrThrow(placeAll(nodes, demands(r, 200))).state

  it("a joining node takes replicas until loads are within tolerance", () => {
    const plan = Either.getOrThrow(
      planNodeEvent(start, {
        _tag: "Join",
        node: { id: "new", az: "az1", capacityBytes: 4e9, capacityRcu: 90_000, capacityWcu: 30_000 },
      }),
    )
    assert.ok(plan.moves.length > 0)
    assert.ok(plan.moves.every((m) => m.to === "new"))
    // The new node joins az1 and relieves its most loaded node; other AZs are untouched.
    const before = nodeScores(start)
    const scores = nodeScores(plan.state)
    const az1 = nodes.filter((n) => n.az === "az1").map((n) => n.id)
    const peakBefore = Math.max(...az1.map((id) => before.get(id)!))
    const peakAfter = Math.max(...[...az1, "new"].map((id) => scores.get(id)!))
    assert.ok(peakAfter < peakBefore * 0.6, `az1 peak ${peakBefore} → ${peakAfter}`)
    assert.ok(plan.moves.every((m) => az1.includes(m.from!)))
    assert.deepEqual(placementViolations(plan.state), [])
  })

  it("a drained node ends with no replicas", () => {
    const plan = Either.getOrThrow(planNodeEvent(start, { _tag: "Drain", nodeId: "n4" }))
    for (const [, ns] of plan.state.placement) assert.ok(!ns.includes("n4"))
    assert.ok(plan.moves.every((m) => m.from === "n4"))
  })

  it("losing a whole AZ of a three-AZ cluster leaves no valid placement", () => {
    let state = start
    let result: ReturnType<typeof planNodeEvent> | undefined
    for (const n of nodes.filter((n) => n.az === "az0")) {
      result = planNodeEvent(state, { _tag: "Fail", nodeId: n.id })
      if (Either.isLeft(result)) break
      state = result.right.state
    }
    assert.ok(result !== undefined && Either.isLeft(result) && result.left._tag === "NoValidPlacement")
  })

  it("repair places new partitions and leaves valid replicas alone", () => {
    const extra = [...start.demands, { partitionId: "fresh", bytes: 1e6, rcu: 10, wcu: 10 }]
    const plan = Either.getOrThrow(repair({ ...start, demands: extra }))
    assert.deepEqual(
      plan.moves.map((m) => m.partitionId),
      ["fresh", "fresh", "fresh"],
    )
    assert.deepEqual(placementViolations(plan.state), [])
  })

  it("rebalance does not move anything in a balanced cluster and is bounded by movesMax", () => {
    const balanced = rebalance(start, { tolerance: 1 })
    assert.equal(balanced.moves.length, 0)
    assert.ok(rebalance(start, { tolerance: 0, movesMax: 3 }).moves.length <= 3)
  })
})
