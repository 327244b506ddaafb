import assert from "node:assert/strict"
import { describe, it } from "node:test"
import {
  batchGetCostMilli,
  batchWriteCostMilli,
  consumedCapacity,
  queryCostMilli,
  readCostMilli,
  toConsumedCapacity,
  writeCostMilli,
} from "@partita/admission"
import fc from "fast-check"

const KB = 1024

describe("capacity accounting", () => {
  it("charges reads per 4 KB rounded up: 8 KB costs 2 strong, 1 eventual, 4 transactional RCU", () => {
    assert.equal(readCostMilli(8 * KB, "strong"), 2000)
    assert.equal(readCostMilli(8 * KB, "eventual"), 1000)
    assert.equal(readCostMilli(8 * KB, "transactional"), 4000)
    assert.equal(readCostMilli(8 * KB + 1, "strong"), 3000)
    // The documentation's partition example: a 20 KB item costs 5 RCU per strong read.
    assert.equal(readCostMilli(20 * KB, "strong"), 5000)
  })

  it("charges half a unit for a small eventually consistent read, exactly", () => {
    assert.equal(readCostMilli(100, "eventual"), 500)
    assert.deepEqual(toConsumedCapacity({ tableName: "t", readMilli: 500, writeMilli: 0 }), {
      TableName: "t",
      CapacityUnits: 0.5,
      ReadCapacityUnits: 0.5,
    })
  })

  it("charges a missing item or an empty page the minimum unit", () => {
    assert.equal(readCostMilli(0, "strong"), 1000)
    assert.equal(queryCostMilli([], "eventual"), 500)
    assert.equal(writeCostMilli(0), 1000)
  })

  it("charges writes per 1 KB rounded up, twice for transactions", () => {
    assert.equal(writeCostMilli(KB), 1000)
    assert.equal(writeCostMilli(KB + 1), 2000)
    assert.equal(writeCostMilli(3 * KB, true), 6000)
  })

  it("charges Query/Scan on the total size, BatchGet per item: 1.5 KB + 6.5 KB cost 2 and 3 RCU", () => {
    const sizes = [1.5 * KB, 6.5 * KB]
    assert.equal(queryCostMilli(sizes, "strong"), 2000)
    assert.equal(batchGetCostMilli(sizes, "strong"), 3000)
    assert.equal(batchWriteCostMilli([100, 1500]), 3000)
    assert.equal(batchWriteCostMilli([100, 1500], true), 6000)
  })

  it("prices any size consistently: eventual = strong / 2, transactional = 2 × strong, query ≤ batch", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 * KB }), { minLength: 1, maxLength: 20 }),
        (sizes) => {
          for (const s of sizes) {
            assert.equal(readCostMilli(s, "eventual") * 2, readCostMilli(s, "strong"))
            assert.equal(readCostMilli(s, "transactional"), 2 * readCostMilli(s, "strong"))
            assert.equal(readCostMilli(s, "strong") % 1000, 0)
          }
          assert.ok(queryCostMilli(sizes, "strong") <= batchGetCostMilli(sizes, "strong"))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it("reports read and write units of one request together", () => {
    const cc = toConsumedCapacity({ tableName: "orders", readMilli: 4000, writeMilli: 2000 })
    assert.deepEqual(cc, {
      TableName: "orders",
      CapacityUnits: 6,
      ReadCapacityUnits: 4,
      WriteCapacityUnits: 2,
    })
  })
})

describe("consumed capacity per request", () => {
  it("prices each operation the way DynamoDB does", () => {
    const KB = 1024
    assert.deepEqual(consumedCapacity("t", { op: "GetItem", bytes: 100, mode: "eventual" }), {
      tableName: "t",
      readMilli: 500,
      writeMilli: 0,
    })
    assert.equal(consumedCapacity("t", { op: "PutItem", bytes: 2.5 * KB }).writeMilli, 3000)
    assert.equal(
      consumedCapacity("t", { op: "Scan", itemBytes: [KB, KB, KB, KB], mode: "eventual" }).readMilli,
      500,
    )
    assert.equal(
      consumedCapacity("t", { op: "BatchGetItem", itemBytes: [KB, KB], mode: "eventual" }).readMilli,
      1000,
    )
    // Two 1 KB items in a transaction cost 4 WCU (a known emulator bug reports 2).
    assert.equal(consumedCapacity("t", { op: "TransactWriteItems", itemBytes: [KB, KB] }).writeMilli, 4000)
    assert.equal(consumedCapacity("t", { op: "TransactGetItems", itemBytes: [KB, 5 * KB] }).readMilli, 6000)
  })
})
