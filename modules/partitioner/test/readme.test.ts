// The README's example, verbatim between the markers (keep them in sync).
import assert from "node:assert/strict"
import { describe, it } from "node:test"

describe("README example", () => {
  it("runs", async () => {
    // --- README example start ---
    const { Effect, Either } = await import("effect")
    const {
      AccessStats,
      PartitionMap,
      Partitioner,
      PartitionerLive,
      placeAll,
      planNodeEvent,
      splitForConsumption,
    } = await import("@partita/partitioner")

    // A table of 4 partitions at 3,200 WCU, allocated evenly: 800 WCU each.
    const map = PartitionMap.make(
      { table: "orders", hash: "murmur3", policy: "even", provisioned: { rcu: 9_000, wcu: 3_200 } },
      4,
    )
    assert.deepEqual(
      map.partitions.map((p) => p.allocation.wcu),
      [800, 800, 800, 800],
    )

    // Route a key (partition key value + encoded sort key): no allocation, O(log n).
    const owner = map.route({ S: "customer#42" }, "2024-06-01")
    assert.ok(map.isCurrent(owner.id, owner.epoch))

    // Record traffic on that partition: one customer's orders, many sort keys.
    const stats = new AccessStats({ seed: 1 })
    const hash = new Uint32Array(4)
    map.hashInto({ S: "customer#42" }, hash)
    for (let i = 0; i < 10_000; i++)
      stats.record(hash, 0, `2024-06-${String((i * 7919) % 997).padStart(4, "0")}`, 0, 1)

    // 10,000 WCU in 10 s = 1,000 WCU/s > 80 % of the 1,000 WCU partition limit: split where the
    // traffic divides in half, inside the item collection (by sort key).
    const split = splitForConsumption(map, owner.id, stats, { windowMs: 10_000 })
    assert.ok(Either.isRight(split))
    const { map: next, change } = split.right
    assert.equal(next.version, map.version + 1)
    assert.ok(change.children.every((c) => c.epoch > owner.epoch))
    assert.ok(change.splitKey.sortKey !== undefined)
    assert.ok(!next.isCurrent(owner.id, owner.epoch)) // a node now rejects the stale route

    // Place three replicas of every partition in three AZs, then lose a node.
    const nodes = ["a", "b", "c"].flatMap((az) =>
      [1, 2].map((k) => ({ id: `${az}${k}`, az, capacityBytes: 1e12, capacityRcu: 3e4, capacityWcu: 1e4 })),
    )
    const demands = next.partitions.map((p) => ({ partitionId: p.id, bytes: 1e9, ...p.allocation }))
    const placed = Either.getOrThrow(placeAll(nodes, demands))
    const healed = Either.getOrThrow(planNodeEvent(placed.state, { _tag: "Fail", nodeId: "a1" }))
    assert.ok(healed.moves.every((m) => m.from === "a1" && m.to === "a2"))

    // The same through the Effect service.
    const program = Effect.gen(function* () {
      const partitioner = yield* Partitioner
      const table = yield* partitioner.createTable({ table: "t", provisioned: { rcu: 100, wcu: 100 } })
      return table.size
    })
    assert.equal(await Effect.runPromise(program.pipe(Effect.provide(PartitionerLive))), 1)
    // --- README example end ---
  })
})
