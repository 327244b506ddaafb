import assert from "node:assert/strict"
import { describe, it } from "node:test"
import fc from "fast-check"
import { FifoCache } from "../src/index.ts"

type Op =
  | { readonly k: "set"; readonly key: number; readonly v: number }
  | { readonly k: "delete"; readonly key: number }
  | { readonly k: "clear" }

const ops: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ k: fc.constant("set" as const), key: fc.nat(40), v: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant("delete" as const), key: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.constant({ k: "clear" as const }) },
)

describe("FifoCache", () => {
  it("holds the newest `max` distinct insertions, like a reference FIFO, through deletes (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(ops, { maxLength: 300 }), (max, script) => {
        const c = new FifoCache<number, number>(max)
        // The model: keys oldest first, and their values.
        let order: number[] = []
        const values = new Map<number, number>()
        for (const op of script) {
          if (op.k === "clear") {
            c.clear()
            order = []
            values.clear()
          } else if (op.k === "delete") {
            assert.equal(c.delete(op.key), values.delete(op.key))
            order = order.filter((x) => x !== op.key)
          } else {
            c.set(op.key, op.v)
            if (!values.has(op.key)) {
              order.push(op.key)
              if (order.length > max) values.delete(order.shift()!)
            }
            values.set(op.key, op.v)
          }
          assert.equal(c.size, order.length)
          assert.deepEqual([...c.keys()], order)
          for (let key = 0; key <= 40; key++) {
            assert.equal(c.get(key), values.get(key))
            assert.equal(c.has(key), values.has(key))
          }
        }
      }),
      { numRuns: Number(process.env.PARTITA_RUNS ?? 1000) },
    )
  })

  it("keeps a replaced key's place in the order", () => {
    const c = new FifoCache<string, number>(2)
    c.set("a", 1).set("b", 2).set("a", 3).set("c", 4)
    assert.deepEqual([...c.keys()], ["b", "c"])
    assert.equal(c.get("a"), undefined)
    assert.equal(c.get("c"), 4)
  })

  it("rejects a bound that is not a positive integer", () => {
    assert.throws(() => new FifoCache(0), /max must be a positive integer, got 0/)
    assert.throws(() => new FifoCache(1.5), /RangeError|positive integer/)
  })
})
