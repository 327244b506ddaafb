import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Effect, Either, Exit } from "effect"
import { AccessStats, layerPartitioner, Partitioner } from "../src/index.ts"

const run = <A, E>(effect: Effect.Effect<A, E, Partitioner>, layer = layerPartitioner()) =>
  Effect.runPromiseExit(effect.pipe(Effect.provide(layer)))

describe("Partitioner service", () => {
  it("creates tables with the layer's defaults and the request's overrides", async () => {
    const exit = await run(
      Effect.gen(function* () {
        const p = yield* Partitioner
        const a = yield* p.createTable({ table: "a", provisioned: { rcu: 10, wcu: 10 } })
        const b = yield* p.createTable({
          table: "b",
          provisioned: { rcu: 10, wcu: 10 },
          partitions: 3,
          hash: "md5",
        })
        return [a.hash, a.size, b.hash, b.size] as const
      }),
      layerPartitioner({ hash: "murmur3" }),
    )
    assert.deepEqual(exit, Exit.succeed(["murmur3", 1, "md5", 3]))
  })

  it("turns a refused split into a typed failure (catchable by tag)", async () => {
    const exit = await run(
      Effect.gen(function* () {
        const p = yield* Partitioner
        const map = yield* p.createTable({ table: "t", provisioned: { rcu: 10, wcu: 10 } })
        return yield* p
          .splitForConsumption(map, "p0", new AccessStats(), { windowMs: 1000 })
          .pipe(Effect.catchTag("BelowThreshold", (e) => Effect.succeed(e.measure)))
      }),
    )
    assert.ok(Exit.isSuccess(exit))
    assert.ok(exit.value === "rcu" || exit.value === "wcu")
  })

  it("fails placement with NoValidPlacement", async () => {
    const exit = await run(
      Effect.gen(function* () {
        const p = yield* Partitioner
        return yield* p.placeAll(
          [{ id: "n", az: "a", capacityBytes: 1, capacityRcu: 1, capacityWcu: 1 }],
          [{ partitionId: "p", bytes: 0, rcu: 0, wcu: 0 }],
        )
      }).pipe(Effect.either),
    )
    assert.ok(
      Exit.isSuccess(exit) && Either.isLeft(exit.value) && exit.value.left._tag === "NoValidPlacement",
    )
  })
})
