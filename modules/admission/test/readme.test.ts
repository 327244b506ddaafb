// The README's examples, verbatim inside `it` blocks: if this file fails, the README is wrong.
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  ADMITTED,
  ADMITTED_BURST,
  AdaptiveStage,
  BurstStage,
  GacStage,
  GacTransport,
  GlobalAdmission,
  MILLI_PER_UNIT,
  OnDemandStage,
  READ,
  StaticStage,
  THROTTLED_PARTITION,
  THROTTLED_TABLE,
  TokenBucket,
  type Topology,
  batchGetCostMilli,
  queryCostMilli,
  readCostMilli,
  toConsumedCapacity,
  writeCostMilli,
} from "@partita/admission"
import { Effect, Layer } from "effect"

const U = MILLI_PER_UNIT
const topology: Topology = {
  nodes: [
    { id: "a", readCapacityUnits: 300, writeCapacityUnits: 100 },
    { id: "b", readCapacityUnits: 300, writeCapacityUnits: 100 },
  ],
  routers: ["r0", "r1"],
  tables: [
    {
      id: "orders",
      mode: "provisioned",
      readCapacityUnits: 200, // 100 RCU per partition when allocated statically
      writeCapacityUnits: 100,
      partitions: [
        { id: "p0", replicas: ["a", "b"] },
        { id: "p1", replicas: ["b", "a"] },
      ],
    },
  ],
}

describe("README examples", () => {
  it("capacity accounting", () => {
    const KB = 1024
    assert.equal(readCostMilli(8 * KB, "strong"), 2000) // 2 RCU
    assert.equal(readCostMilli(8 * KB, "eventual"), 1000) // 1 RCU
    assert.equal(readCostMilli(8 * KB, "transactional"), 4000) // 4 RCU
    assert.equal(writeCostMilli(1.5 * KB), 2000) // 2 WCU
    assert.equal(queryCostMilli([1.5 * KB, 6.5 * KB], "strong"), 2000) // 8 KB in total
    assert.equal(batchGetCostMilli([1.5 * KB, 6.5 * KB], "strong"), 3000) // each item rounded up
    assert.deepEqual(toConsumedCapacity({ tableName: "orders", readMilli: 500, writeMilli: 0 }), {
      TableName: "orders",
      CapacityUnits: 0.5,
      ReadCapacityUnits: 0.5,
    })
  })

  it("token bucket with debt", () => {
    const b = new TokenBucket(100 * U, 100 * U, 0) // 100 units/s, holds 100 units
    assert.equal(b.tryTake(60 * U, 0), true)
    assert.equal(b.tryTake(60 * U, 0), false) // refused: nothing changes
    b.charge(90 * U, 0) // a Query turned out larger than estimated: 50 units of debt
    assert.equal(b.tryTake(0, 400), false) // still in debt after 400 ms
    assert.equal(b.tryTake(1 * U, 510), true) // repaid after 500 ms, then 1 unit
  })

  it("stage 1: static", () => {
    const s = new StaticStage(topology)
    let admitted = 0
    for (let i = 0; i < 150; i++) if (s.admit(0, 0, READ, U, 0) === ADMITTED) admitted++
    assert.equal(admitted, 100) // p0's one-second bucket of 100 RCU, even though p1 is idle
  })

  it("stage 2: burst", () => {
    const s = new BurstStage(topology)
    s.tick(10_000) // p0 idle for 10 s: 9 s of its rate banked as burst credit
    const d = Array.from({ length: 400 }, () => s.admit(0, 0, READ, U, 10_000))
    assert.equal(d.filter((x) => x === ADMITTED).length, 100) // allocation
    assert.equal(d.filter((x) => x === ADMITTED_BURST).length, 200) // burst, until node a's bucket is empty
  })

  it("stage 3: adaptive", () => {
    const s = new AdaptiveStage(topology, 0, { adaptiveIntervalMs: 1000 })
    for (let t = 0; t < 5000; t += 10) {
      s.admit(0, 0, READ, U, t) // p0 wants 150 RCU/s; the table (200) is under its rate
      if (t % 20 === 0) s.admit(0, 0, READ, U, t)
      s.tick(t)
    }
    assert.ok(s.allocation(0, READ) >= 140 * U) // boosted from 100 by the controller
  })

  it("stage 4: gac", () => {
    const s = new GacStage(topology)
    for (let t = 0; t < 30_000; t += 10) {
      for (let i = 0; i < 3; i++) s.admit(i % 2, 0, READ, U, t) // 300 RCU/s, all on p0
      s.tick(t) // routers report to GAC and receive grants every 2 s
    }
    const table = s.metrics.tables[0]!.read
    const perSec = table.consumedMilli / U / 30
    assert.ok(perSec > 190 && perSec < 215) // the table's 200 RCU, all of it on one partition
    assert.equal(s.admit(0, 0, READ, 1000 * U, 30_000), THROTTLED_TABLE)
  })

  it("stage 4: the GlobalAdmission service", async () => {
    const program = Effect.gen(function* () {
      const ga = yield* GlobalAdmission
      yield* ga.tick // report to GAC, receive a grant
      return ga.tryAdmit("orders", "read", 4 * U, 0) // plain function on the request path
    })
    const layer = GlobalAdmission.layer({
      routerId: "r0",
      servers: ["gac-0", "gac-1", "gac-2"],
      tables: [{ id: "orders", readCapacityUnits: 200, writeCapacityUnits: 100 }],
    }).pipe(Layer.provide(GacTransport.inProcess(["gac-0", "gac-1", "gac-2"])))
    assert.equal(await Effect.runPromise(Effect.provide(program, layer)), true)
  })

  it("stage 5: on-demand", () => {
    const s = new OnDemandStage({
      ...topology,
      tables: [{ ...topology.tables[0]!, mode: "on-demand", readCapacityUnits: 0, writeCapacityUnits: 0 }],
    })
    assert.equal(s.allowance(0, READ), 12_000 * U) // a new table: 12,000 RRU at once
    const d = s.admit(0, 0, READ, 3500 * U, 0)
    assert.equal(d, THROTTLED_PARTITION) // but one partition still stops at 3,000 RCU/s
  })
})
