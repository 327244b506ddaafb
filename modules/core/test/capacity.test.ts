import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { readCapacityUnits, writeCapacityUnits } from "@partita/core"

const KB = 1024

describe("capacity units", () => {
  it("charges reads per started 4 KB: an 8 KB item is 2 strong, 1 eventual, 4 transactional", () => {
    assert.equal(readCapacityUnits(8 * KB, "strong"), 2)
    assert.equal(readCapacityUnits(8 * KB, "eventual"), 1)
    assert.equal(readCapacityUnits(8 * KB, "transactional"), 4)
    assert.equal(readCapacityUnits(20 * KB, "strong"), 5) // 600 such reads/s exhaust a 3000 RCU partition
    assert.equal(readCapacityUnits(4 * KB + 1, "strong"), 2)
  })

  it("rounds each BatchGetItem item up: 1.5 KB and 6.5 KB cost 12 KB, not 8 KB", () => {
    assert.equal(readCapacityUnits(1.5 * KB, "strong") + readCapacityUnits(6.5 * KB, "strong"), 3)
    assert.equal(readCapacityUnits(8 * KB, "strong"), 2) // what one Query over the same bytes costs
  })

  it("charges at least one unit, even for a missing item", () => {
    assert.equal(readCapacityUnits(0, "strong"), 1)
    assert.equal(readCapacityUnits(0, "eventual"), 0.5)
    assert.equal(writeCapacityUnits(0), 1)
  })

  it("charges writes per started 1 KB, twice in a transaction", () => {
    assert.equal(writeCapacityUnits(1 * KB), 1)
    assert.equal(writeCapacityUnits(1 * KB + 1), 2)
    assert.equal(writeCapacityUnits(900), 1)
    assert.equal(writeCapacityUnits(3.5 * KB, true), 8)
  })
})
