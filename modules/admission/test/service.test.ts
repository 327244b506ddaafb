import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  GacTransport,
  GlobalAdmission,
  makeInProcessGac,
  MILLI_PER_UNIT,
  ProvisionedThroughputExceededException,
  THROTTLED_PARTITION,
  THROTTLED_TABLE,
  ThrottlingException,
  throttleError,
} from "@partita/admission"
import { Effect, Either, Layer, TestClock, TestContext } from "effect"

const servers = ["gac-0", "gac-1", "gac-2"]
const config = {
  routerId: "router-0",
  servers,
  tables: [{ id: "orders", readCapacityUnits: 100, writeCapacityUnits: 50 }],
}

function run<A, E>(eff: Effect.Effect<A, E, GlobalAdmission>, gac = makeInProcessGac(servers, 0)) {
  const layer = GlobalAdmission.layer(config).pipe(Layer.provide(Layer.succeed(GacTransport, gac.transport)))
  return Effect.runPromise(eff.pipe(Effect.provide(layer), Effect.provide(TestContext.TestContext)))
}

describe("GlobalAdmission service", () => {
  it("admits up to the router bucket, then fails with ProvisionedThroughputExceededException", async () => {
    const out = await run(
      Effect.gen(function* () {
        const ga = yield* GlobalAdmission
        yield* ga.tick
        // The router bucket holds 200 ms of 100 RCU/s = 20 units.
        const results: Array<Either.Either<void, ProvisionedThroughputExceededException>> = []
        for (let i = 0; i < 25; i++)
          results.push(yield* Effect.either(ga.admit("orders", "read", MILLI_PER_UNIT)))
        return results
      }),
    )
    assert.equal(out.filter(Either.isRight).length, 20)
    const err = out.find(Either.isLeft)
    assert.ok(err !== undefined && err.left._tag === "ProvisionedThroughputExceededException")
    assert.equal(err.left.reason, "TableReadProvisionedThroughputExceeded")
  })

  it("refills from GAC grants as virtual time passes, and survives a GAC restart", async () => {
    const gac = makeInProcessGac(servers, 0)
    const admitted = await run(
      Effect.gen(function* () {
        const ga = yield* GlobalAdmission
        let ok = 0
        for (let ms = 0; ms < 20_000; ms += 100) {
          if (ms === 10_000) for (const s of servers) gac.restart(s, ms)
          yield* ga.tick
          for (let i = 0; i < 20; i++) if (ga.tryAdmit("orders", "read", MILLI_PER_UNIT, ms)) ok++
          yield* TestClock.adjust("100 millis")
        }
        return ok
      }),
      gac,
    )
    // 100 RCU/s for 20 s, plus the 20 units the bucket starts with.
    assert.ok(admitted >= 1990 && admitted <= 2020, `admitted ${admitted}`)
  })

  it("keeps admitting from its bucket while GAC is unreachable, then degrades", async () => {
    const gac = makeInProcessGac(servers, 0)
    const perSecond = await run(
      Effect.gen(function* () {
        const ga = yield* GlobalAdmission
        const counts: number[] = []
        for (let ms = 0; ms < 20_000; ms += 100) {
          if (ms === 4_000) for (const s of servers) gac.setDown(s, true)
          yield* ga.tick
          const w = Math.floor(ms / 1000)
          for (let i = 0; i < 20; i++)
            if (ga.tryAdmit("orders", "read", MILLI_PER_UNIT, ms)) counts[w] = (counts[w] ?? 0) + 1
          yield* TestClock.adjust("100 millis")
        }
        return counts
      }),
      gac,
    )
    // Down at 4 s; the last grant (at 4 s - one interval) stays valid for 6 s.
    for (let w = 4; w < 8; w++) assert.ok(perSecond[w]! >= 99, `window ${w}: ${perSecond[w]}`)
    // Then half of min(grant, provisioned / known routers): 50 RCU/s.
    for (let w = 10; w < 20; w++) assert.ok(perSecond[w]! <= 51, `window ${w}: ${perSecond[w]}`)
  })
})

describe("throttle errors", () => {
  it("maps decisions to DynamoDB's errors at the boundary", () => {
    const a = throttleError(THROTTLED_TABLE, "t", "write", false)
    assert.ok(a instanceof ProvisionedThroughputExceededException)
    assert.equal(a.reason, "TableWriteProvisionedThroughputExceeded")
    const b = throttleError(THROTTLED_TABLE, "t", "read", true)
    assert.ok(b instanceof ThrottlingException)
    assert.equal(b._tag, "ThrottlingException")
    const c = throttleError(THROTTLED_PARTITION, "t", "read", true)
    assert.equal(c._tag, "ProvisionedThroughputExceededException")
    assert.equal(c.reason, "TableReadKeyRangeThroughputExceeded")
  })
})
